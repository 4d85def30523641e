"""Request validation and the frame/size snapping rules the CLI and the window share."""

from __future__ import annotations

import dataclasses

import pytest

from core.errors import InvalidRequestError
from core.job.request import (
    GenerationRequest,
    GuidanceBatching,
    MemoryOptions,
    Placement,
    Quantization,
    SpeedOptions,
    StepCache,
    snap_frames,
    snap_size,
)


def test_defaults_are_the_official_demo():
    r = GenerationRequest(prompt="x")
    assert (r.width, r.height, r.num_frames, r.fps, r.steps, r.guidance) == (768, 432, 125, 24, 50, 6.0)
    assert r.problems() == [] and r.latent_shape == (1, 16, 32, 54, 96)
    assert r.negative_prompt.startswith("overexposed, low quality")


@pytest.mark.parametrize(
    ("frames", "snapped"),
    [(1, 1), (2, 1), (4, 5), (5, 5), (8, 9), (9, 9), (12, 13), (14, 13), (16, 17), (125, 125), (128, 129)],
)
def test_frames_round_as_the_official_pipeline(frames, snapped):
    # contentv_pipeline.py: `if num_frames % 4 != 1: num_frames = num_frames // 4 * 4 + 1` (12 -> 13, 14 -> 13).
    assert snap_frames(frames) == snapped
    assert snapped == (frames if frames % 4 == 1 else frames // 4 * 4 + 1)
    note = GenerationRequest(prompt="x", num_frames=frames).frames_note
    assert (note == "") == (frames == snapped)
    if note:
        assert f"generating {snapped} frames" in note


def test_rounded_frame_count_drives_the_latent_shape():
    assert GenerationRequest(prompt="x", num_frames=12).latent_shape[2] == 4  # 13 frames -> 4 latent frames


def test_speed_options_round_trip_and_old_rows_load():
    speed = SpeedOptions(
        attention_backend="cudnn",
        step_cache=StepCache.FASTER,
        guidance_batching=GuidanceBatching.AUTO,
        compile=True,
    )
    r = GenerationRequest(prompt="p", seed=1, speed=speed)
    assert GenerationRequest.from_dict(r.to_dict()) == r
    old_row = {k: v for k, v in r.to_dict().items() if k != "speed"}
    assert GenerationRequest.from_dict(old_row).speed == SpeedOptions()
    assert SpeedOptions.from_dict({"step_cache": "fast"}) == SpeedOptions(step_cache=StepCache.FAST)
    assert SpeedOptions().guidance_batching is GuidanceBatching.SEQUENTIAL


def test_unknown_speed_values_are_refused():
    problems = GenerationRequest(prompt="p", speed=SpeedOptions(attention_backend="warp")).problems()
    assert any("Unknown attention kernel 'warp'" in p for p in problems)
    with pytest.raises(ValueError):
        SpeedOptions.from_dict({"step_cache": "fastest"})


def test_sizes_snap_to_16():
    assert [snap_size(v) for v in (1, 8, 100, 432, 770)] == [16, 16, 96, 432, 768]


def test_all_problems_reported_together():
    r = GenerationRequest(prompt="", width=100, height=0, num_frames=0, steps=0, guidance=-1.0, seed=-1, fps=0)
    problems = r.problems()
    assert len(problems) == 8
    with pytest.raises(InvalidRequestError) as info:
        r.validate()
    assert "prompt is empty" in info.value.message and "try 96" in info.value.message


def test_round_trip_through_dict():
    r = GenerationRequest(
        prompt="p",
        negative_prompt="n",
        width=64,
        height=32,
        num_frames=9,
        fps=12,
        steps=3,
        guidance=4.5,
        seed=9,
        memory=MemoryOptions(
            device="cpu", placement=Placement.SEQUENTIAL, vae_tiling=True, quantization=Quantization.INT8
        ),
    )
    assert GenerationRequest.from_dict(r.to_dict()) == r
    assert GenerationRequest.from_dict(dataclasses.replace(r, seed=None).to_dict()).seed is None


def test_unknown_memory_values_are_refused():
    with pytest.raises(InvalidRequestError, match="Unknown device"):
        MemoryOptions(device="tpu").validate()
    with pytest.raises(ValueError):
        MemoryOptions.from_dict({"offload": "everywhere"})
