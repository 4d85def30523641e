"""Step caching on the tiny reference model: every level runs, computes fewer attentions than the uncached run,
and its quality cost is measured as PSNR/SSIM of the frames against the uncached frames for the same seed.

The weights are random, so the numbers check the mechanism, not the real quality cost (the benchmark measures that
with `--model DIR` on real weights). Measured here (10 steps, 48×32×5, float32): see `test_each_level_...`'s
printed line (`pytest -s`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from core.engine.attention import JointAttentionProcessor
from core.engine.pipeline import ContentVPipeline
from core.engine.runner import Engine
from core.engine.step_cache import (
    CachePlan,
    MagCalibrationRecorder,
    apply_step_cache,
    calibration_path,
    load_calibration,
    plan_step_cache,
    remove_step_cache,
    save_calibration,
)
from core.job.request import GenerationRequest, MemoryOptions, OutputOptions, SpeedOptions, StepCache
from core.model.checkpoint import load_components
from core.output.quality import psnr, ssim

STEPS = 10
DEVICE = torch.device("cpu")


class CountingProcessor(JointAttentionProcessor):
    """Counts the attentions actually computed (a cached block or predicted attention never reaches it)."""

    calls = 0

    def __call__(self, *args, **kwargs):  # type: ignore[override]
        CountingProcessor.calls += 1
        return super().__call__(*args, **kwargs)


@pytest.fixture(scope="module")
def pipe(reference_model: Path) -> ContentVPipeline:
    pipe = ContentVPipeline(**vars(load_components(reference_model, "float32")))
    for block in pipe.transformer.transformer_blocks:
        block.attn.set_processor(CountingProcessor())
    return pipe


@pytest.fixture(scope="module")
def inputs(pipe):
    embeds = pipe.encode_prompt("a red kite over a beach", "low quality", True, 256, DEVICE, torch.float32)
    noise = pipe.initial_noise(pipe.latent_shape(32, 48, 5), 5, torch.float32, DEVICE)
    return embeds, noise


def _run(pipe, inputs, plan: CachePlan | None = None, recorder: bool = False):
    embeds, noise = inputs
    CountingProcessor.calls = 0
    record = MagCalibrationRecorder(pipe.transformer, lambda: pipe.active_branch) if recorder else None
    if plan is not None:
        apply_step_cache(pipe.transformer, plan)
    try:
        latents = pipe.denoise(embeds, noise.clone(), STEPS, 6.0, DEVICE)
    finally:
        remove_step_cache(pipe.transformer)
        if record is not None:
            record.close()
    return latents, pipe.decode(latents, DEVICE), CountingProcessor.calls, (record.ratios if record else None)


@pytest.fixture(scope="module")
def uncached(pipe, inputs):
    return _run(pipe, inputs, recorder=True)


def test_calibration_is_recorded_without_changing_a_number(pipe, inputs, uncached):
    latents, _, calls, ratios = uncached
    plain, _, plain_calls, _ = _run(pipe, inputs)
    assert torch.equal(latents, plain)
    assert calls == plain_calls == STEPS * 2 * len(pipe.transformer.transformer_blocks)  # 2 guidance branches
    assert len(ratios) == STEPS and ratios[0] == 1.0
    assert all(0.5 < r < 2.0 for r in ratios)


@pytest.mark.parametrize(
    ("level", "calibrated", "method"),
    [
        (StepCache.FAST, True, "mag-cache"),
        (StepCache.FASTER, True, "mag-cache"),
        (StepCache.FASTER, False, "taylorseer"),
    ],
)
def test_each_level_computes_fewer_attentions_at_a_measured_cost(pipe, inputs, uncached, level, calibrated, method):
    _, reference, full_calls, ratios = uncached
    plan = plan_step_cache(level, STEPS, ratios if calibrated else None)
    assert plan.method == method
    _, frames, calls, _ = _run(pipe, inputs, plan)
    quality_db, similarity = psnr(frames, reference), ssim(frames, reference)
    print(f"\n{level.value}/{method}: {calls}/{full_calls} attentions, PSNR {quality_db:.1f} dB, SSIM {similarity:.4f}")
    assert calls < full_calls
    assert np.isfinite(frames).all()
    assert quality_db > 30 and similarity > 0.95  # random weights: a sanity bound on the mechanism, not a quality claim


def test_fast_level_orders_below_faster(pipe, inputs, uncached):
    _, _, _, ratios = uncached
    counts = {}
    for level in (StepCache.FAST, StepCache.FASTER):
        counts[level] = _run(pipe, inputs, plan_step_cache(level, STEPS, ratios))[2]
    assert counts[StepCache.FASTER] <= counts[StepCache.FAST]


def test_first_block_cache_works_on_this_transformer(pipe, inputs, uncached):
    """diffusers' First-Block cache raised on the stock last block (it returns None for the text states)."""
    from diffusers.hooks import FirstBlockCacheConfig

    latents, _, full_calls, _ = uncached
    plan = plan_step_cache(StepCache.FAST, STEPS, None)
    assert plan.method == "first-block"
    fast_latents, _, calls, _ = _run(pipe, inputs, plan)
    # Random weights change the first block's output by 20-50 % per step: at the real threshold nothing is skipped.
    assert calls == full_calls
    torch.testing.assert_close(fast_latents, latents, atol=0, rtol=0)
    # The mechanism: with a threshold every step passes, only the first block runs after the first step.
    loose = CachePlan(StepCache.FAST, "first-block", FirstBlockCacheConfig(threshold=10.0))
    _, frames, loose_calls, _ = _run(pipe, inputs, loose)
    blocks = len(pipe.transformer.transformer_blocks)
    assert loose_calls == 2 * (blocks + (STEPS - 1))
    assert np.isfinite(frames).all()


def test_calibration_file_round_trip_and_identity(tmp_path, monkeypatch):
    monkeypatch.setenv("CONTENTV_STUDIO_CALIBRATION_DIR", str(tmp_path / "cal"))
    model = tmp_path / "model"
    (model / "transformer").mkdir(parents=True)
    weights = model / "transformer" / "diffusion_pytorch_model.safetensors"
    weights.write_bytes(b"x" * 10)
    assert load_calibration(model) is None
    path = save_calibration(model, [1.0, 0.9, 1.1], steps=3)
    assert path is not None and path.parent == tmp_path / "cal"
    assert load_calibration(model) == [1.0, 0.9, 1.1]
    assert json.loads(path.read_text())["steps"] == 3
    weights.write_bytes(b"y" * 11)  # new weights: a new identity, so the old calibration is not used
    assert calibration_path(model) != path and load_calibration(model) is None
    calibration_path(model).write_text("{not json")
    assert load_calibration(model) is None


def test_unwritable_calibration_folder_does_not_fail(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("CONTENTV_STUDIO_CALIBRATION_DIR", str(blocker / "sub"))
    assert save_calibration(tmp_path, [1.0, 1.0], steps=2) is None


def test_engine_calibrates_on_an_uncached_job_then_uses_mag_cache(tiny_model, tmp_path, monkeypatch):
    monkeypatch.setenv("CONTENTV_STUDIO_CALIBRATION_DIR", str(tmp_path / "cal"))
    engine = Engine()
    base = GenerationRequest(
        prompt="a lighthouse", width=48, height=32, num_frames=5, steps=8, seed=3, memory=MemoryOptions(device="cpu")
    )
    first = engine.generate(tiny_model, base, OutputOptions(tmp_path / "off.mp4"))
    assert any("MagCache calibration" in n for n in first.notes)
    assert len(load_calibration(tiny_model) or []) == 8
    short = engine.generate(
        tiny_model, GenerationRequest(**{**vars(base), "steps": 4}), OutputOptions(tmp_path / "s.mp4")
    )
    assert not any("calibration" in n for n in short.notes)  # too short to improve on the stored one
    faster = GenerationRequest(**{**vars(base), "speed": SpeedOptions(step_cache=StepCache.FASTER)})
    second = engine.generate(tiny_model, faster, OutputOptions(tmp_path / "faster.mp4"))
    metadata = json.loads(second.sidecar_path.read_text()) if second.sidecar_path else {}
    speed = metadata.get("speed") or metadata.get("metadata", {}).get("speed")
    assert speed["step_cache"] == "faster" and speed["step_cache_method"] == "mag-cache"
    assert speed["attention_backend"] == second.attention_backend == "sdpa"
    assert not getattr(engine.pipeline.transformer, "is_cache_enabled", False)  # removed after the job
    assert os.path.exists(second.video_path)
