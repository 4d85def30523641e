"""The attention kernel: every kernel available here gives the math kernel's output, the choice per GPU generation
(tested with made-up capabilities), a forced kernel that cannot run is refused before loading, slicing keeps the
kernel, and the kernel used goes into the clip's metadata."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from core.engine.attention import (
    AttentionEnvironment,
    ChunkedJointAttnProcessor,
    JointAttentionProcessor,
    attend,
    attention_backend_in_use,
    choose_attention_backend,
    enable_attention_slicing,
    resolve_attention_backend,
    set_attention_backend,
    unavailable_reason,
)
from core.engine.runner import Engine
from core.engine.transformer import ContentVTransformer3DModel
from core.errors import DeviceUnavailableError
from core.job.request import ATTENTION_BACKENDS, GenerationRequest, MemoryOptions, OutputOptions, SpeedOptions

CPU = AttentionEnvironment(device="cpu", dtype_name="float32")
CPU_BACKENDS = [b for b in ("sdpa", *ATTENTION_BACKENDS[1:]) if unavailable_reason(b, CPU) is None]


def _gpu(sm: tuple[int, int], dtype: str = "bfloat16", **packages: bool) -> AttentionEnvironment:
    return AttentionEnvironment(device="cuda", dtype_name=dtype, capability=sm, **packages)


@pytest.fixture(scope="module")
def transformer() -> ContentVTransformer3DModel:
    torch.manual_seed(0)
    model = ContentVTransformer3DModel(
        num_layers=2,
        attention_head_dim=16,
        num_attention_heads=2,
        joint_attention_dim=32,
        caption_projection_dim=32,
        pooled_projection_dim=16,
    )
    return model.eval()


def _forward(transformer, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    latents = torch.randn(1, 16, 2, 8, 12, generator=g)
    with torch.no_grad():
        return transformer(
            hidden_states=latents,
            encoder_hidden_states=torch.randn(1, 7, 32, generator=g),
            pooled_projections=torch.randn(1, 16, generator=g),
            timestep=torch.tensor([500.0]),
            return_dict=False,
        )[0]


def test_cpu_kernels_are_the_plain_and_math_ones():
    assert CPU_BACKENDS == ["sdpa", "math"]
    for name in ("efficient", "flash", "cudnn", "flash-attn", "sage"):
        assert "CUDA" in (unavailable_reason(name, CPU) or "")


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_each_available_kernel_matches_the_math_kernel(backend):
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 50, 16, generator=g) for _ in range(3))
    torch.testing.assert_close(attend(q, k, v, backend), attend(q, k, v, "math"), atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_transformer_output_is_the_same_with_each_kernel(transformer, backend):
    set_attention_backend(transformer, "math")
    expected = _forward(transformer)
    set_attention_backend(transformer, backend)
    assert attention_backend_in_use(transformer) == backend
    torch.testing.assert_close(_forward(transformer), expected, atol=1e-5, rtol=1e-5)


def test_slicing_keeps_the_kernel_and_the_result(transformer):
    set_attention_backend(transformer, "math")
    expected = _forward(transformer)
    enable_attention_slicing(transformer, query_chunk=7)
    processors = [b.attn.processor for b in transformer.transformer_blocks]
    assert all(isinstance(p, ChunkedJointAttnProcessor) and p.backend == "math" for p in processors)
    torch.testing.assert_close(_forward(transformer), expected, atol=1e-5, rtol=1e-5)
    set_attention_backend(transformer, "sdpa")  # switching the kernel keeps the slicing
    assert all(b.attn.processor.query_chunk == 7 for b in transformer.transformer_blocks)
    for block in transformer.transformer_blocks:
        block.attn.set_processor(JointAttentionProcessor("sdpa"))


def test_stock_processor_and_sdpa_kernel_agree_bit_for_bit(transformer):
    from diffusers.models.attention_processor import JointAttnProcessor2_0

    transformer.set_attn_processor(JointAttnProcessor2_0())
    stock = _forward(transformer)
    set_attention_backend(transformer, "sdpa")
    assert torch.equal(_forward(transformer), stock)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (CPU, "sdpa"),
        (AttentionEnvironment(device="mps", dtype_name="float16"), "sdpa"),
        (_gpu((9, 0)), "cudnn"),  # H100: cuDNN's fused attention beats FA2
        (_gpu((9, 0), has_flash_attn_3=True), "flash-attn"),
        (_gpu((9, 0), has_flash_attn=True, has_sage=True), "sage"),
        (_gpu((10, 0)), "cudnn"),  # Blackwell
        (_gpu((8, 9)), "flash"),  # Ada
        (_gpu((8, 0), has_flash_attn=True), "flash"),  # PyTorch's flash is FA2 already
        (_gpu((8, 6), has_sage=True), "sage"),
        (_gpu((7, 5), dtype="float16"), "efficient"),  # Turing: no flash kernels
        (_gpu((7, 5), dtype="float16", has_sage=True, has_flash_attn=True), "efficient"),
        (_gpu((6, 1), dtype="float16"), "efficient"),
        (_gpu((9, 0), dtype="float32"), "efficient"),  # the fused kernels need half precision
        (_gpu((3, 0), dtype="float32"), "math"),
    ],
)
def test_auto_chooses_per_gpu_generation(env, expected):
    assert choose_attention_backend(env) == expected
    assert resolve_attention_backend("auto", env) == expected


@pytest.mark.parametrize(
    ("requested", "env", "why"),
    [
        ("flash", _gpu((7, 5), dtype="float16"), "Ampere"),
        ("cudnn", _gpu((9, 0), dtype="float32"), "bfloat16 or float16"),
        ("sage", _gpu((9, 0)), "not installed"),
        ("flash-attn", _gpu((8, 0)), "not installed"),
        ("efficient", CPU, "CUDA GPU"),
    ],
)
def test_forced_kernel_that_cannot_run_is_explained(requested, env, why):
    with pytest.raises(DeviceUnavailableError) as info:
        resolve_attention_backend(requested, env)
    assert why in info.value.message and requested in info.value.message
    assert "--attention auto" in (info.value.advice or "")


def test_forced_kernel_is_refused_before_loading(tmp_path: Path, monkeypatch):
    engine = Engine()
    monkeypatch.setattr(engine, "load", lambda *a, **k: pytest.fail("must not load"))
    request = GenerationRequest(
        prompt="x", memory=MemoryOptions(device="cpu"), speed=SpeedOptions(attention_backend="flash")
    )
    with pytest.raises(DeviceUnavailableError, match="flash"):
        engine.generate(tmp_path / "no-model-here", request, OutputOptions(tmp_path / "a.mp4"))


def test_kernel_used_is_in_the_clip_metadata(tiny_model, tmp_path):
    request = GenerationRequest(
        prompt="a kite",
        width=48,
        height=32,
        num_frames=5,
        steps=2,
        seed=1,
        memory=MemoryOptions(device="cpu"),
        speed=SpeedOptions(attention_backend="math"),
    )
    result = Engine().generate(tiny_model, request, OutputOptions(tmp_path / "clip.mp4"))
    assert result.attention_backend == "math"
    assert result.sidecar_path is not None
    metadata = json.loads(result.sidecar_path.read_text())
    assert metadata["speed"]["attention_backend"] == "math"
    assert metadata["speed"]["guidance_batching"] == "sequential"
    assert metadata["request"]["speed"]["attention_backend"] == "math"


def test_auto_kernel_may_fall_back_but_a_forced_one_may_not(transformer):
    set_attention_backend(transformer, "math", strict=False)
    assert all(not b.attn.processor.strict for b in transformer.transformer_blocks)
    enable_attention_slicing(transformer, query_chunk=5)  # slicing keeps the kernel and its strictness
    assert all(not b.attn.processor.strict for b in transformer.transformer_blocks)
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, 2, 20, 16, generator=g) for _ in range(3))
    # cuDNN attention does not run on the CPU: as auto's first choice it falls back, forced it raises.
    torch.testing.assert_close(attend(q, k, v, "cudnn", strict=False), attend(q, k, v, "math"), atol=1e-6, rtol=1e-5)
    with pytest.raises(RuntimeError):
        attend(q, k, v, "cudnn", strict=True)
    set_attention_backend(transformer, "sdpa")
    for block in transformer.transformer_blocks:
        block.attn.set_processor(JointAttentionProcessor("sdpa"))


@pytest.mark.cuda
def test_every_kernel_this_gpu_runs_matches_math_in_bf16():
    from core.engine.attention import detect_attention_environment

    env = detect_attention_environment("cuda", "bfloat16")
    g = torch.Generator(device="cuda").manual_seed(0)
    q, k, v = (torch.randn(1, 4, 1500, 64, generator=g, device="cuda", dtype=torch.bfloat16) for _ in range(3))
    expected = attend(q.float(), k.float(), v.float(), "math")
    ran = []
    for name in ("sdpa", "math", "efficient", "flash", "cudnn", "flash-attn", "sage"):
        if unavailable_reason(name, env) is not None:
            continue
        tolerance = 0.05 if name == "sage" else 0.02  # bf16 rounding; SageAttention quantizes QK to int8
        torch.testing.assert_close(attend(q, k, v, name).float(), expected, atol=tolerance, rtol=0)
        ran.append(name)
    chosen = choose_attention_backend(env)
    assert chosen in ran
    attend(q, k, v, chosen, strict=False)


def test_auto_passes_over_a_sageattention_diffusers_cannot_call(monkeypatch):
    """sageattention 1.0.6 (the registry's only version) is older than diffusers' minimum (2.1.1): diffusers leaves
    its kernel unbound, and picking it failed every bf16 job on sm80+ with "'NoneType' object is not callable".
    Faked here: an H100 (sm90) and that version installed."""
    import importlib.metadata
    import importlib.util

    from core.engine import attention

    real_find_spec, real_version = importlib.util.find_spec, importlib.metadata.version
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *a: (9, 0))
    monkeypatch.setattr(
        attention.importlib.util,
        "find_spec",
        lambda name, *a: object() if name == "sageattention" else real_find_spec(name, *a),
    )
    monkeypatch.setattr(
        attention.importlib.metadata,
        "version",
        lambda name: "1.0.6" if name == "sageattention" else real_version(name),
    )
    env = attention.detect_attention_environment("cuda", "bfloat16")
    assert env.has_sage and env.sage_version == "1.0.6" and env.capability == (9, 0)
    assert choose_attention_backend(env) != "sage"
    reason = unavailable_reason("sage", env) or ""
    assert "1.0.6" in reason and "2.1.1" in reason
    (note,) = attention.auto_attention_notes(env)
    assert "sage" in note and "1.0.6" in note
    with pytest.raises(DeviceUnavailableError, match=r"2\.1\.1"):
        resolve_attention_backend("sage", env)
    # A version diffusers accepts is chosen as before.
    assert choose_attention_backend(_gpu((9, 0), has_sage=True, sage_version="2.2.0")) == "sage"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (_gpu((9, 0), has_flash_attn=True, flash_attn_version="2.5.0"), "cudnn"),  # FA2 below diffusers' 2.6.3
        (_gpu((9, 0), has_flash_attn=True, flash_attn_version="2.7.4"), "flash-attn"),
        (_gpu((9, 0), has_flash_attn=True, has_flash_attn_3=True, flash_attn_version="2.5.0"), "flash-attn"),  # FA3
        (_gpu((8, 6), has_sage=True, sage_version="not-a-version"), "flash"),  # unreadable: diffusers refuses it too
    ],
)
def test_auto_checks_the_installed_kernel_versions(env, expected):
    assert choose_attention_backend(env) == expected
