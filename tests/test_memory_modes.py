"""Each memory mode does what it says. Peak memory on the CPU is measured with core.engine.memtrack (every tensor an
operator returns, counted while alive); the CUDA-only modes are measured with CUDA's allocator statistics and
skip, naming what they need, on machines without a GPU."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

from core.engine.attention import ChunkedJointAttnProcessor, attention_slicing_enabled, enable_attention_slicing
from core.engine.memory import apply_runtime_options
from core.engine.memtrack import TensorMemoryTracker
from core.engine.pipeline import ContentVPipeline
from core.engine.quantize import QuantizedLinear, parameter_bytes, quantize_linears
from core.engine.runner import Engine
from core.engine.transformer import ContentVTransformer3DModel
from core.errors import DeviceUnavailableError
from core.job.request import GenerationRequest, MemoryOptions, OutputOptions, Placement, Quantization
from core.model.checkpoint import load_components


@pytest.fixture(scope="module")
def transformer(reference_model: Path) -> ContentVTransformer3DModel:
    return ContentVTransformer3DModel.from_pretrained(reference_model / "transformer").eval()


def transformer_inputs(frames: int = 5, side: int = 24) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    return (
        torch.randn(1, 16, frames, side, side, generator=g),
        torch.randn(1, 333, 4096, generator=g),
        torch.randn(1, 2048, generator=g),
        torch.tensor([700.0]),
    )


def forward(model: torch.nn.Module, inputs: tuple[torch.Tensor, ...]) -> torch.Tensor:
    with torch.no_grad():
        return model(*inputs, return_dict=False)[0]


# ---- attention slicing --------------------------------------------------------------------------------------
def test_attention_slicing_matches_and_lowers_peak_memory(transformer):
    inputs = transformer_inputs()
    # The math kernel materialises the attention scores, as SDPA does where no fused kernel applies.
    with sdpa_kernel(SDPBackend.MATH):
        with TensorMemoryTracker() as full:
            expected = forward(transformer, inputs)
        enable_attention_slicing(transformer, query_chunk=128)
        try:
            with TensorMemoryTracker() as sliced:
                got = forward(transformer, inputs)
        finally:
            enable_attention_slicing(transformer, query_chunk=10**9)  # back to one chunk
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)
    assert sliced.peak_bytes < 0.5 * full.peak_bytes, (sliced.peak_bytes, full.peak_bytes)


def test_diffusers_attention_slice_would_not_have_helped(transformer):
    """Why the app ships its own processor: SD3's joint attention ignores set_attention_slice."""
    from diffusers.models.attention_processor import JointAttnProcessor2_0

    fresh = ContentVTransformer3DModel.from_config(transformer.config)
    assert isinstance(fresh.transformer_blocks[0].attn.processor, JointAttnProcessor2_0)
    assert not hasattr(fresh.transformer_blocks[0].attn.processor, "slice_size")


def test_runtime_options_switch_processors_and_vae_modes(reference_model):
    pipe = ContentVPipeline(**vars(load_components(reference_model, "float32")))
    apply_runtime_options(pipe, MemoryOptions(attention_slicing=True, vae_slicing=True, vae_tiling=True))
    assert attention_slicing_enabled(pipe.transformer)
    assert all(isinstance(b.attn.processor, ChunkedJointAttnProcessor) for b in pipe.transformer.transformer_blocks)
    assert pipe.vae.use_slicing and pipe.vae.use_tiling
    apply_runtime_options(pipe, MemoryOptions())
    assert not attention_slicing_enabled(pipe.transformer)
    assert not pipe.vae.use_slicing and not pipe.vae.use_tiling


# ---- VAE tiling and slicing ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def vae(reference_model: Path):
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan.from_pretrained(reference_model / "vae").eval()


def test_vae_tiling_lowers_decode_peak_memory(vae):
    latents = torch.randn(1, 16, 2, 40, 40, generator=torch.Generator().manual_seed(1))  # 320×320 pixels
    try:
        vae.disable_tiling()
        with torch.no_grad(), TensorMemoryTracker() as untiled:
            whole = vae.decode(latents, return_dict=False)[0]
        vae.enable_tiling(
            tile_sample_min_height=128,
            tile_sample_min_width=128,
            tile_sample_stride_height=96,
            tile_sample_stride_width=96,
        )
        with torch.no_grad(), TensorMemoryTracker() as tiled:
            tiles = vae.decode(latents, return_dict=False)[0]
    finally:
        vae.disable_tiling()
    assert tiles.shape == whole.shape == (1, 3, 5, 320, 320)
    assert torch.isfinite(tiles).all()
    assert tiled.peak_bytes < 0.6 * untiled.peak_bytes, (tiled.peak_bytes, untiled.peak_bytes)


def test_vae_slicing_decodes_one_sample_at_a_time(vae):
    latents = torch.randn(2, 16, 2, 8, 8, generator=torch.Generator().manual_seed(2))
    try:
        vae.disable_slicing()
        with torch.no_grad(), TensorMemoryTracker() as whole:
            batch = vae.decode(latents, return_dict=False)[0]
        vae.enable_slicing()
        with torch.no_grad(), TensorMemoryTracker() as sliced:
            one_by_one = vae.decode(latents, return_dict=False)[0]
    finally:
        vae.disable_slicing()
    torch.testing.assert_close(one_by_one, batch, atol=1e-5, rtol=1e-5)
    assert sliced.peak_bytes < 0.75 * whole.peak_bytes


# ---- quantization -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("kind", "tolerance"), [(Quantization.INT8, 0.02), (Quantization.FP8, 0.06)])
def test_quantized_transformer_is_smaller_and_close(reference_model, kind, tolerance):
    model = ContentVTransformer3DModel.from_pretrained(reference_model / "transformer").eval()
    inputs = transformer_inputs(frames=3, side=12)
    expected = forward(model, inputs)
    linear_bytes = sum(
        m.weight.numel() * m.weight.element_size()
        for n, m in model.named_modules()
        if isinstance(m, torch.nn.Linear) and n.startswith("transformer_blocks.")
    )
    before = parameter_bytes(model)
    replaced = quantize_linears(model, kind, torch.float32, ("transformer_blocks.",))
    assert replaced == sum(isinstance(m, QuantizedLinear) for m in model.modules()) > 0
    stored = {m.qweight.dtype for m in model.modules() if isinstance(m, QuantizedLinear)}
    assert stored == {torch.int8 if kind is Quantization.INT8 else torch.float8_e4m3fn}
    # one byte instead of four per weight (plus one scale per output channel)
    assert parameter_bytes(model) < before - 0.7 * linear_bytes
    got = forward(model, inputs)
    relative = (got - expected).norm() / expected.norm()
    assert relative < tolerance, float(relative)


def test_engine_quantizes_transformer_and_t5(tiny_model, tmp_path):
    engine = Engine()
    request = GenerationRequest(
        prompt="quantized",
        width=80,
        height=48,
        num_frames=5,
        steps=2,
        seed=3,
        memory=MemoryOptions(device="cpu", quantization=Quantization.FP8),
    )
    result = engine.generate(tiny_model, request, OutputOptions(tmp_path / "q.mp4"))
    assert result.video_path.exists()
    pipe = engine.pipeline
    for model in (pipe.transformer, pipe.text_encoder_3):
        assert any(isinstance(m, QuantizedLinear) for m in model.modules())
    # embeddings and norms keep full precision
    assert pipe.transformer.proj_out.weight.dtype == torch.float32


# ---- placement: refused clearly without a GPU ----------------------------------------------------------------
@pytest.mark.parametrize("placement", [Placement.MODEL, Placement.SEQUENTIAL, Placement.STREAMED])
def test_gpu_placements_fail_before_loading_without_a_gpu(tiny_model, tmp_path, monkeypatch, placement):
    import core.engine.runner as engine_module
    from core.engine.devices import Capabilities

    monkeypatch.setattr(engine_module, "load_components", lambda *a, **k: pytest.fail("must not load"))
    engine = Engine(Capabilities(cuda=False, mps=False))
    request = GenerationRequest(
        prompt="x", width=80, height=48, num_frames=5, steps=1, memory=MemoryOptions(placement=placement)
    )
    with pytest.raises(DeviceUnavailableError, match=r"no GPU|needs a CUDA GPU"):
        engine.generate(tiny_model, request, OutputOptions(tmp_path / "x.mp4"))
    assert list(tmp_path.iterdir()) == []


def test_streamed_offload_needs_cuda_even_with_another_accelerator():
    from core.engine.devices import Capabilities, resolve_device

    with pytest.raises(DeviceUnavailableError, match="CUDA"):
        resolve_device(MemoryOptions(placement=Placement.STREAMED), Capabilities(cuda=False, mps=True))
    assert resolve_device(MemoryOptions(placement=Placement.MODEL), Capabilities(cuda=False, mps=True)).device == "mps"


# ---- CUDA: real placements, measured ----------------------------------------------------------------------------
def _cuda_job(model: Path, tmp_path: Path, name: str, **memory) -> tuple[int, torch.Tensor]:
    from core.output.video import read_mp4_frames

    engine = Engine()
    request = GenerationRequest(
        prompt="a city street in the rain",
        width=160,
        height=96,
        num_frames=9,
        steps=2,
        seed=4,
        memory=MemoryOptions(device="cuda", **memory),
    )
    result = engine.generate(model, request, OutputOptions(tmp_path / f"{name}.mp4"))
    frames = torch.from_numpy(read_mp4_frames(result.video_path)).float()
    peak = result.peak_vram_bytes
    engine.unload()
    assert peak is not None
    return peak, frames


@pytest.mark.cuda
def test_cuda_placements_lower_peak_vram_and_agree(tiny_model, tmp_path):
    peak_gpu, ref = _cuda_job(tiny_model, tmp_path, "gpu")
    results = {
        p: _cuda_job(tiny_model, tmp_path, p.value, placement=p)
        for p in (Placement.MODEL, Placement.SEQUENTIAL, Placement.STREAMED)
    }
    for placement, (peak, frames) in results.items():
        assert (frames - ref).abs().mean() < 2.0, placement  # same clip, up to bf16 rounding
        assert peak <= peak_gpu, (placement, peak, peak_gpu)
    assert results[Placement.SEQUENTIAL][0] < peak_gpu


@pytest.mark.cuda
def test_cuda_text_encoders_leave_the_gpu_after_encoding(tiny_model, tmp_path):
    engine = Engine()
    memory = MemoryOptions(device="cuda", text_encoders_off_gpu=True)
    request = GenerationRequest(prompt="x", width=80, height=48, num_frames=5, steps=1, seed=1, memory=memory)
    engine.generate(tiny_model, request, OutputOptions(tmp_path / "t.mp4"))
    pipe = engine.pipeline
    for name in ("text_encoder", "text_encoder_2", "text_encoder_3"):
        assert next(getattr(pipe, name).parameters()).device.type == "cpu"
    assert next(pipe.transformer.parameters()).device.type == "cuda"
    # switched off: they come back for the next prompt; switched on again with the same prompt: they leave
    on_gpu = dataclasses.replace(request, prompt="y", memory=dataclasses.replace(memory, text_encoders_off_gpu=False))
    engine.generate(tiny_model, on_gpu, OutputOptions(tmp_path / "u.mp4"))
    assert next(pipe.text_encoder_3.parameters()).device.type == "cuda"
    engine.generate(tiny_model, dataclasses.replace(request, prompt="y"), OutputOptions(tmp_path / "v.mp4"))
    assert next(pipe.text_encoder_3.parameters()).device.type == "cpu"


@pytest.mark.cuda
def test_cuda_attention_slicing_lowers_peak_without_fused_kernels(reference_model):
    model = ContentVTransformer3DModel.from_pretrained(reference_model / "transformer").cuda().eval()
    inputs = tuple(t.cuda() for t in transformer_inputs(frames=5, side=32))
    with sdpa_kernel(SDPBackend.MATH):
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        expected = forward(model, inputs)
        full = torch.cuda.max_memory_allocated() - base
        enable_attention_slicing(model, 256)
        torch.cuda.reset_peak_memory_stats()
        got = forward(model, inputs)
        sliced = torch.cuda.max_memory_allocated() - base
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)
    assert sliced < full


@pytest.mark.cuda
def test_cuda_streamed_int8_streams_t5_blocks_and_lends_clip_and_vae_per_stage(tiny_model, tmp_path):
    """Streamed + int8: weights pinned once (the offload groups hold the loaded tensors, no second copy), T5's
    blocks on the GPU one at a time, CLIP and the VAE on the GPU only in their stages; peak VRAM per stage."""
    from core.job.progress import ProgressSink, Stage

    engine = Engine()
    memory = MemoryOptions(device="cuda", placement=Placement.STREAMED, quantization=Quantization.INT8)
    request = GenerationRequest(prompt="x", width=80, height=48, num_frames=5, steps=2, seed=1, memory=memory)
    stage_peaks: dict[str, int] = {}
    seen_during_denoising: list[set[str]] = []
    current: list[Stage] = []

    def on_stage(stage: Stage) -> None:
        if current:
            stage_peaks[current[-1].value] = torch.cuda.max_memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        current.append(stage)

    def on_step(_progress) -> None:
        pipe = engine.pipeline
        seen_during_denoising.append(
            {next(getattr(pipe, n).parameters()).device.type for n in ("text_encoder", "text_encoder_2", "vae")}
        )

    t5_block_devices: list[str] = []
    engine.load(tiny_model, memory)
    pipe = engine.pipeline
    blocks = pipe.text_encoder_3.encoder.block
    blocks[1].register_forward_pre_hook(lambda *_: t5_block_devices.append(next(blocks[0].parameters()).device.type))
    # every streamed weight is pinned, and the offload group holds that very tensor
    group = blocks[0]._diffusers_hook.get_hook("group_offloading").group
    for param in blocks[0].parameters():
        assert param.data.is_pinned()
        assert group.cpu_param_dict[param].data_ptr() == param.data.data_ptr()
    engine.generate(tiny_model, request, OutputOptions(tmp_path / "s.mp4"), ProgressSink(on_stage, on_step))
    stage_peaks[current[-1].value] = torch.cuda.max_memory_allocated()
    assert t5_block_devices == ["cpu"] * len(t5_block_devices) and t5_block_devices  # block 0 left before block 1
    assert seen_during_denoising and all(devices == {"cpu"} for devices in seen_during_denoising)
    for name in ("text_encoder", "text_encoder_2", "vae"):
        assert next(getattr(pipe, name).parameters()).device.type == "cpu"
    print("peak VRAM per stage (bytes):", stage_peaks)
