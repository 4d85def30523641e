"""The proof of fidelity: the engine reproduces what the official ContentV pipeline produced from the same tiny
checkpoint (tests/data/reference, written by the official implementation), on the CPU in float32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.checkpoint import load_components
from core.engine import Engine
from core.pipeline import ContentVPipeline
from core.request import GenerationRequest, MemoryOptions, OutputOptions
from core.video import frames_to_uint8, read_png_frames

MAX_PNG_ERROR = 3  # out of 255, the bound


@pytest.fixture(scope="module")
def pipe(reference_model: Path) -> ContentVPipeline:
    return ContentVPipeline(**vars(load_components(reference_model, "float32")))


@pytest.mark.parametrize("batch_cfg", [False, True], ids=["cfg-sequential", "cfg-batched"])
def test_latents_and_frames_match_official(pipe, reference_case, reference_outputs, batch_cfg):
    case = reference_case
    device, dtype = torch.device("cpu"), torch.float32
    embeds = pipe.encode_prompt(case["prompt"], case["negative_prompt"], True, 256, device, dtype)
    shape = pipe.latent_shape(case["height"], case["width"], case["num_frames"])
    assert list(shape) == case["latents_shape"]
    latents = pipe.initial_noise(shape, case["seed"], dtype, device)
    latents = pipe.denoise(
        embeds, latents, case["num_inference_steps"], case["guidance_scale"], device, batch_cfg=batch_cfg
    )
    np.testing.assert_allclose(latents.numpy(), reference_outputs["latents"], atol=2e-4, rtol=0)

    frames = pipe.decode(latents, device)
    assert frames.shape == tuple(case["frames_shape"])
    assert np.abs(frames - reference_outputs["frames"]).max() <= 1 / 255


def test_engine_png_frames_match_official(tmp_path, reference_model, reference_case, reference_outputs):
    case = reference_case
    request = GenerationRequest(
        prompt=case["prompt"],
        negative_prompt=case["negative_prompt"],
        width=case["width"],
        height=case["height"],
        num_frames=case["num_frames"],
        steps=case["num_inference_steps"],
        guidance=case["guidance_scale"],
        seed=case["seed"],
        memory=MemoryOptions(device="cpu", dtype="float32"),
    )
    output = OutputOptions(tmp_path / "clip.mp4", frames_dir=tmp_path / "frames")
    result = Engine().generate(reference_model, request, output)

    saved = read_png_frames(result.frames_dir).astype(int)
    expected = frames_to_uint8(reference_outputs["frames"]).astype(int)
    assert saved.shape == expected.shape
    assert np.abs(saved - expected).max() <= MAX_PNG_ERROR
    assert result.seed == case["seed"]
