"""Regional torch.compile of the repeated joint blocks: the wiring (fast, dynamo's eager backend), the real
inductor compile of a one-block model (slow: about 100 s on a busy 2-core CPU), and the compile time reported."""

from __future__ import annotations

import functools
import json

import pytest
import torch

from core.engine import speed as speed_module
from core.engine.compile import blocks_compiled, compile_seconds, set_block_compilation
from core.engine.runner import Engine
from core.engine.transformer import ContentVTransformer3DModel
from core.job.request import GenerationRequest, MemoryOptions, OutputOptions, SpeedOptions


def _model(layers: int) -> ContentVTransformer3DModel:
    torch.manual_seed(0)
    return ContentVTransformer3DModel(
        num_layers=layers,
        attention_head_dim=16,
        num_attention_heads=2,
        joint_attention_dim=32,
        caption_projection_dim=32,
        pooled_projection_dim=16,
    ).eval()


def _forward(model: ContentVTransformer3DModel) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        return model(
            hidden_states=torch.randn(1, 16, 2, 8, 12, generator=g),
            encoder_hidden_states=torch.randn(1, 7, 32, generator=g),
            pooled_projections=torch.randn(1, 16, generator=g),
            timestep=torch.tensor([500.0]),
            return_dict=False,
        )[0]


def test_only_the_repeated_blocks_are_compiled_and_it_can_be_undone():
    model = _model(2)
    expected = _forward(model)
    assert set_block_compilation(model, True, backend="eager")
    assert blocks_compiled(model)
    assert not set_block_compilation(model, True, backend="eager")  # idempotent
    assert all(b._compiled_call_impl is not None for b in model.transformer_blocks)
    assert getattr(model, "_compiled_call_impl", None) is None  # the model itself stays eager
    torch.testing.assert_close(_forward(model), expected, atol=1e-6, rtol=1e-6)
    assert set_block_compilation(model, False)
    assert not blocks_compiled(model)


def test_compile_time_is_the_first_steps_extra_time():
    assert compile_seconds([5.0, 1.0, 1.2, 0.8]) == pytest.approx(4.0)
    assert compile_seconds([1.0, 1.1]) == 0.0
    assert compile_seconds([3.0]) == 0.0


def test_engine_reports_compile_time(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setattr(
        speed_module, "set_block_compilation", functools.partial(set_block_compilation, backend="eager")
    )
    request = GenerationRequest(
        prompt="a kite",
        width=48,
        height=32,
        num_frames=5,
        steps=3,
        seed=1,
        memory=MemoryOptions(device="cpu"),
        speed=SpeedOptions(compile=True),
    )
    engine = Engine()
    result = engine.generate(tiny_model, request, OutputOptions(tmp_path / "clip.mp4"))
    assert result.compile_s is not None and result.compile_s >= 0
    assert blocks_compiled(engine.pipeline.transformer)
    assert result.sidecar_path is not None
    metadata = json.loads(result.sidecar_path.read_text())
    assert metadata["speed"]["compiled"] is True and "compile_s" in metadata["speed"]
    plain = engine.generate(
        tiny_model, GenerationRequest(**{**vars(request), "speed": SpeedOptions()}), OutputOptions(tmp_path / "b.mp4")
    )
    assert plain.compile_s is None and not blocks_compiled(engine.pipeline.transformer)


@pytest.mark.slow
def test_inductor_compiles_a_one_block_model_with_the_same_output():
    model = _model(1)
    expected = _forward(model)
    set_block_compilation(model, True)
    torch.testing.assert_close(_forward(model), expected, atol=1e-5, rtol=1e-5)
