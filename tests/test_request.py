"""Request validation and the frame/size snapping rules the CLI and the window share."""

from __future__ import annotations

import dataclasses

import pytest

from core.errors import InvalidRequestError
from core.request import GenerationRequest, MemoryOptions, Placement, Quantization, snap_frames, snap_size


def test_defaults_are_the_official_demo():
    r = GenerationRequest(prompt="x")
    assert (r.width, r.height, r.num_frames, r.fps, r.steps, r.guidance) == (768, 432, 125, 24, 50, 6.0)
    assert r.problems() == [] and r.latent_shape == (1, 16, 32, 54, 96)
    assert r.negative_prompt.startswith("overexposed, low quality")


@pytest.mark.parametrize(("frames", "snapped"), [(1, 1), (5, 5), (8, 5), (9, 9), (12, 9), (125, 125), (128, 125)])
def test_frames_round_down_to_4k_plus_1(frames, snapped):
    assert snap_frames(frames) == snapped
    note = GenerationRequest(prompt="x", num_frames=frames).frames_note
    assert (note == "") == (frames == snapped)


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
