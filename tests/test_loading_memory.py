"""Loading straight into the final form (core.model.weights_loader), streaming placement's grouping, stage residency
and chunked feed-forward: same numbers as the library loaders and the plain forward, less memory."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from diffusers import AutoencoderKLWan
from transformers import CLIPTextModelWithProjection, T5EncoderModel

from core.engine.feed_forward import (
    disable_feed_forward_chunking,
    enable_feed_forward_chunking,
    feed_forward_chunk_tokens,
)
from core.engine.memory import STREAMED_BLOCKS, lent_to_device, stage_residency, stream_blocks
from core.engine.memtrack import TensorMemoryTracker
from core.engine.pipeline import ContentVPipeline
from core.engine.quantize import QUANTIZED_PREFIXES, QuantizedLinear, quantize_linears
from core.engine.transformer import ContentVTransformer3DModel
from core.job.request import Placement, Quantization
from core.model.checkpoint import load_components
from core.model.weights_loader import load_model

ROOT = Path(__file__).resolve().parents[1]
CLASSES = {
    "transformer": ContentVTransformer3DModel,
    "vae": AutoencoderKLWan,
    "text_encoder": CLIPTextModelWithProjection,
    "text_encoder_3": T5EncoderModel,
}


def library_load(cls, folder: Path, dtype: torch.dtype) -> torch.nn.Module:
    key = "torch_dtype" if hasattr(cls, "load_config") else "dtype"
    return cls.from_pretrained(folder, local_files_only=True, **{key: dtype}).eval()


def assert_same_state(expected: torch.nn.Module, got: torch.nn.Module) -> None:
    want, have = expected.state_dict(), got.state_dict()
    assert want.keys() == have.keys()
    for name, tensor in want.items():
        assert have[name].dtype == tensor.dtype, name
        assert torch.equal(have[name].float(), tensor.float()), name
    assert {n: b.dtype for n, b in expected.named_buffers()} == {n: b.dtype for n, b in got.named_buffers()}


# ---- the loader gives exactly what the library loaders give ---------------------------------------------------
@pytest.mark.parametrize(
    ("name", "dtype"),
    [
        ("transformer", torch.float32),
        ("transformer", torch.bfloat16),
        ("vae", torch.float32),
        ("text_encoder", torch.bfloat16),
        ("text_encoder_3", torch.bfloat16),
        ("text_encoder_3", torch.float16),  # T5's `wo` stays float32 (transformers' _keep_in_fp32_modules)
    ],
)
def test_loader_matches_from_pretrained(reference_model, name, dtype):
    cls = CLASSES[name]
    loaded = load_model(cls, reference_model / name, dtype)
    assert not any(p.is_meta for p in loaded.parameters())
    assert_same_state(library_load(cls, reference_model / name, dtype), loaded)


def test_t5_keeps_wo_in_float32_for_float16_and_ties_its_embedding(reference_model):
    t5 = load_model(T5EncoderModel, reference_model / "text_encoder_3", torch.float16)
    assert t5.encoder.block[0].layer[1].DenseReluDense.wo.weight.dtype == torch.float32
    assert t5.encoder.block[0].layer[0].SelfAttention.q.weight.dtype == torch.float16
    assert t5.encoder.embed_tokens.weight is t5.shared.weight


@pytest.mark.parametrize("kind", [Quantization.INT8, Quantization.FP8])
@pytest.mark.parametrize(("name", "dtype"), [("transformer", torch.bfloat16), ("text_encoder_3", torch.float16)])
def test_quantized_while_loading_equals_quantizing_the_loaded_model(reference_model, name, dtype, kind):
    cls, prefixes = CLASSES[name], QUANTIZED_PREFIXES[name]
    expected = library_load(cls, reference_model / name, dtype)
    replaced = quantize_linears(expected, kind, dtype, prefixes)
    got = load_model(cls, reference_model / name, dtype, kind, prefixes)
    assert sum(isinstance(m, QuantizedLinear) for m in got.modules()) == replaced > 0
    assert_same_state(expected, got)


def test_sharded_checkpoint_loads(reference_model, tmp_path):
    t5 = library_load(T5EncoderModel, reference_model / "text_encoder_3", torch.float32)
    t5.save_pretrained(tmp_path, safe_serialization=True, max_shard_size="200KB")
    assert (tmp_path / "model.safetensors.index.json").is_file()
    assert len(list(tmp_path.glob("*.safetensors"))) > 1
    assert_same_state(t5, load_model(T5EncoderModel, tmp_path, torch.float32))


def test_truncated_file_is_named(reference_model, tmp_path):
    shutil.copytree(reference_model / "transformer", tmp_path / "transformer")
    weights = next((tmp_path / "transformer").glob("*.safetensors"))
    weights.chmod(0o644)
    with weights.open("r+b") as f:
        f.truncate(weights.stat().st_size - 1000)
    with pytest.raises(OSError, match="truncated"):
        load_model(ContentVTransformer3DModel, tmp_path / "transformer", torch.float32)


# ---- streamed placement: T5 block by block; CLIP and VAE lent per stage ----------------------------------------
def _group_of(module: torch.nn.Module):
    from diffusers.hooks import HookRegistry

    registry = getattr(module, "_diffusers_hook", None)
    assert isinstance(registry, HookRegistry), module.__class__.__name__
    return registry.get_hook("group_offloading").group


def test_streamed_placement_groups_t5_block_by_block(reference_model):
    pipe = ContentVPipeline(**vars(load_components(reference_model, "float32")))
    ids = torch.tensor([[5, 9, 13, 1]])
    g = torch.Generator().manual_seed(0)
    transformer_inputs = (
        torch.randn(1, 16, 2, 8, 8, generator=g),
        torch.randn(1, 20, 4096, generator=g),
        torch.randn(1, 2048, generator=g),
        torch.tensor([500.0]),
    )
    with torch.no_grad():
        expected = pipe.text_encoder_3(ids)[0]
        expected_noise = pipe.transformer(*transformer_inputs, return_dict=False)[0]
    # On the CPU: the same grouping as on a GPU, without the side stream (onload device = the CPU).
    stream_blocks(pipe, torch.device("cpu"), use_stream=False)
    assert STREAMED_BLOCKS["text_encoder_3"] == ["encoder"]
    blocks = list(pipe.text_encoder_3.encoder.block)
    groups = [_group_of(block) for block in blocks]
    assert len(blocks) >= 2
    assert len({id(g) for g in groups}) == len(blocks)  # one group per block, not one for the whole encoder
    assert all(g.modules == [block] for g, block in zip(groups, blocks, strict=True))
    for group in groups:  # each group holds exactly one block's weights, not the embedding
        held = {id(p) for m in group.modules for p in m.parameters()}
        assert id(pipe.text_encoder_3.shared.weight) not in held
    transformer_blocks = list(pipe.transformer.transformer_blocks)
    assert all(_group_of(b).modules == [b] for b in transformer_blocks)
    with torch.no_grad():  # the grouped models compute exactly what they computed before
        torch.testing.assert_close(pipe.text_encoder_3(ids)[0], expected, rtol=0, atol=0)
        torch.testing.assert_close(pipe.transformer(*transformer_inputs, return_dict=False)[0], expected_noise)


@pytest.fixture()
def copies_count(monkeypatch) -> list[int]:
    """Stand in for the CPU->GPU copy (a clone on the CPU), counting the copies made."""
    import core.engine.memory

    made: list[int] = []

    def fake_copy(data: torch.Tensor, device: torch.device) -> torch.Tensor:
        made.append(data.numel())
        return data.clone()

    monkeypatch.setattr(core.engine.memory, "_copy_to", fake_copy)
    return made


def test_lent_to_device_returns_the_same_host_tensors(copies_count):
    module = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.LayerNorm(4))
    before = {n: p.data_ptr() for n, p in module.named_parameters()}
    with lent_to_device(module, torch.device("cpu")):
        assert all(p.data_ptr() != before[n] for n, p in module.named_parameters())  # the "device" copies
    assert {n: p.data_ptr() for n, p in module.named_parameters()} == before  # back on the very same host tensors
    assert len(copies_count) == 4


@pytest.mark.parametrize("placement", [Placement.GPU, Placement.MODEL, Placement.SEQUENTIAL])
def test_stage_residency_only_moves_in_the_streamed_placement(reference_model, placement, copies_count):
    pipe = ContentVPipeline(**vars(load_components(reference_model, "float32")))
    with stage_residency(pipe, placement, "cuda", ("vae",)):
        pass
    assert copies_count == []
    with stage_residency(pipe, Placement.STREAMED, "cuda", ("text_encoder", "text_encoder_2")):
        assert len(copies_count) == sum(1 for _ in pipe.text_encoder.parameters()) + sum(
            1 for _ in pipe.text_encoder.buffers()
        ) + sum(1 for _ in pipe.text_encoder_2.parameters()) + sum(1 for _ in pipe.text_encoder_2.buffers())


# ---- chunked feed-forward --------------------------------------------------------------------------------------
def test_chunked_feed_forward_same_output_lower_peak():
    from core.engine.attention import enable_attention_slicing
    from core.model.demo import TRANSFORMER_CONFIG

    torch.manual_seed(0)
    # Wide enough (hidden 128) that, as in ContentV-8B, a block's activations scale with hidden x tokens.
    config = {**TRANSFORMER_CONFIG, "attention_head_dim": 32, "num_attention_heads": 4, "caption_projection_dim": 128}
    model = ContentVTransformer3DModel(**config).eval()
    # Attention a slice of queries at a time, as a fused GPU kernel would: its scores no longer dominate, and
    # the feed-forward's 4x-wide intermediate is the largest activation of a block, as in ContentV-8B on a GPU.
    enable_attention_slicing(model, query_chunk=64)
    block = model.transformer_blocks[0]
    g = torch.Generator().manual_seed(0)
    hidden = torch.randn(1, 1728, 128, generator=g)  # e.g. 3 latent frames of 24 x 24 patches
    context = torch.randn(1, 333, 128, generator=g)
    temb = torch.randn(1, 128, generator=g)

    def run() -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            return block(hidden_states=hidden, encoder_hidden_states=context, temb=temb)

    with TensorMemoryTracker() as whole:
        expected = run()
    enable_feed_forward_chunking(model, chunk_tokens=200)  # not a divisor of 1728 or 333 on purpose
    assert feed_forward_chunk_tokens(model) == 200
    try:
        with TensorMemoryTracker() as chunked:
            got = run()
    finally:
        disable_feed_forward_chunking(model)
    assert feed_forward_chunk_tokens(model) is None
    for a, b in zip(got, expected, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    assert chunked.peak_bytes < 0.65 * whole.peak_bytes, (chunked.peak_bytes, whole.peak_bytes)


# ---- host RAM of a whole job: int8 well under bf16 ------------------------------------------------------------
def _mid_size_model(tiny_model: Path, target: Path) -> Path:
    """The demo model with a wider transformer and T5 (the parts that are quantized): ~350 MB of float32."""
    from core.engine.transformer import OFFICIAL_CLASS_NAME
    from core.model.demo import TRANSFORMER_CONFIG

    shutil.copytree(tiny_model, target)
    torch.manual_seed(0)
    config = {**TRANSFORMER_CONFIG, "num_layers": 8, "attention_head_dim": 64, "num_attention_heads": 8}
    shutil.rmtree(target / "transformer")
    ContentVTransformer3DModel(**{**config, "caption_projection_dim": 512}).save_pretrained(target / "transformer")
    config_path = target / "transformer" / "config.json"
    saved = json.loads(config_path.read_text())
    config_path.write_text(json.dumps({**saved, "_class_name": OFFICIAL_CLASS_NAME}))
    from transformers import T5Config

    t5_config = T5Config.from_pretrained(target / "text_encoder_3")
    t5_config.update({"d_ff": 2048, "num_heads": 8, "d_kv": 64, "num_layers": 4})
    shutil.rmtree(target / "text_encoder_3")
    T5EncoderModel(t5_config).save_pretrained(target / "text_encoder_3")
    return target


def _job_ram(model: Path, tmp_path: Path, quantization: str) -> dict[str, int]:
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    video = tmp_path / f"{quantization}.mp4"
    out = subprocess.run(
        [sys.executable, "-m", "tests.ram_probe", str(model), str(video), "bfloat16", quantization],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="measures with Linux's /proc")
def test_int8_job_uses_much_less_host_ram_than_bf16(tiny_model, tmp_path):
    model = _mid_size_model(tiny_model, tmp_path / "mid")
    bf16 = _job_ram(model, tmp_path, "none")
    int8 = _job_ram(model, tmp_path, "int8")
    assert bf16["weight_bytes"] > 150 * 2**20  # the test means something only with weights that dominate
    assert int8["extra_peak_bytes"] <= 0.8 * bf16["extra_peak_bytes"], (int8, bf16)
    margin = 112 * 2**20  # interpreter, activations of the tiny job, allocator slack
    for figures in (bf16, int8):
        assert figures["extra_peak_bytes"] <= 1.15 * figures["weight_bytes"] + margin, figures


def test_all_on_gpu_components_go_to_the_device_as_they_are_read(reference_model):
    from core.engine.memory import load_devices

    assert load_devices(Placement.GPU, "cuda", text_encoders_off_gpu=False) == dict.fromkeys(
        ("transformer", "vae", "text_encoder", "text_encoder_2", "text_encoder_3"), "cuda"
    )
    assert set(load_devices(Placement.GPU, "cuda", text_encoders_off_gpu=True)) == {"transformer", "vae"}
    assert load_devices(Placement.STREAMED, "cuda", False) == {} == load_devices(Placement.GPU, "cpu", False)
    # The CPU has no second device; the meta device shows each tensor (quantized ones too) was sent on.
    model = load_model(
        T5EncoderModel, reference_model / "text_encoder_3", torch.bfloat16, Quantization.INT8, ("encoder.block.",)
    )
    on_meta = load_model(
        T5EncoderModel,
        reference_model / "text_encoder_3",
        torch.bfloat16,
        Quantization.INT8,
        ("encoder.block.",),
        device="meta",
    )
    assert all(t.is_meta for t in on_meta.state_dict().values())
    assert {n: (t.shape, t.dtype) for n, t in on_meta.state_dict().items()} == {
        n: (t.shape, t.dtype) for n, t in model.state_dict().items()
    }
