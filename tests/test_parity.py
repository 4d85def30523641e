"""The proof of fidelity: the engine reproduces what the official ContentV pipeline produced from the same tiny
checkpoint (tests/data/reference, written by the official implementation), on the CPU in float32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.engine.pipeline import ContentVPipeline
from core.engine.runner import Engine
from core.job.request import GenerationRequest, MemoryOptions, OutputOptions
from core.model.checkpoint import load_components
from core.output.video import frames_to_uint8, read_png_frames

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


# ---- the official algorithm (bench/official_algorithm.py) and the bf16 default path ----------------------------
def test_official_algorithm_reimplementation_reproduces_the_official_output(pipe, reference_case, reference_outputs):
    """The benchmark's baseline is itself checked against what the official code wrote."""
    from bench.official_algorithm import official_denoise

    case = reference_case
    device, dtype = torch.device("cpu"), torch.float32
    embeds = pipe.encode_prompt(case["prompt"], case["negative_prompt"], True, 256, device, dtype)
    noise = pipe.initial_noise(
        pipe.latent_shape(case["height"], case["width"], case["num_frames"]), case["seed"], dtype, device
    )
    latents = official_denoise(
        pipe.transformer, embeds, noise, case["num_inference_steps"], case["guidance_scale"], device
    )
    np.testing.assert_allclose(latents.numpy(), reference_outputs["latents"], atol=2e-4, rtol=0)


@pytest.fixture(scope="module")
def bf16_pipe(reference_model: Path) -> ContentVPipeline:
    return ContentVPipeline(**vars(load_components(reference_model, "bfloat16")))


def test_bf16_default_path_matches_the_official_algorithm_bit_for_bit(bf16_pipe, reference_case):
    """The engine's default (guidance one branch after the other, auto attention kernel, cached position
    embedding) against the official algorithm in bfloat16 on the CPU: identical latents, not merely close."""
    from bench.official_algorithm import official_denoise
    from core.engine.attention import detect_attention_environment, resolve_attention_backend, set_attention_backend
    from core.job.request import GuidanceBatching

    pipe, case = bf16_pipe, reference_case
    device, dtype = torch.device("cpu"), torch.bfloat16
    set_attention_backend(
        pipe.transformer, resolve_attention_backend("auto", detect_attention_environment("cpu", "bfloat16"))
    )
    embeds = pipe.encode_prompt(case["prompt"], case["negative_prompt"], True, 256, device, dtype)
    noise = pipe.initial_noise(
        pipe.latent_shape(case["height"], case["width"], case["num_frames"]), case["seed"], dtype, device
    )
    steps, guidance = case["num_inference_steps"], case["guidance_scale"]

    official = official_denoise(
        pipe.transformer, embeds, noise.clone(), steps, guidance, device, scheduler=pipe.scheduler
    )
    ours = pipe.denoise(embeds, noise.clone(), steps, guidance, device)
    assert pipe.guidance_batching_used is GuidanceBatching.SEQUENTIAL
    assert ours.dtype == official.dtype == torch.bfloat16
    assert torch.equal(ours, official), (ours.float() - official.float()).abs().max()
    # Batching the two branches changes bf16 rounding (different matmul shapes): why it is not the default.
    batched = pipe.denoise(embeds, noise.clone(), steps, guidance, device, batch_cfg=GuidanceBatching.BATCHED)
    assert (batched.float() - official.float()).abs().max() < 0.25


def test_denoise_reports_latents_after_every_step(pipe, reference_case):
    case = reference_case
    device, dtype = torch.device("cpu"), torch.float32
    embeds = pipe.encode_prompt(case["prompt"], case["negative_prompt"], True, 256, device, dtype)
    noise = pipe.initial_noise(
        pipe.latent_shape(case["height"], case["width"], case["num_frames"]), case["seed"], dtype, device
    )
    seen: list[tuple[int, torch.Tensor]] = []
    final = pipe.denoise(embeds, noise, 3, 6.0, device, on_latents=lambda done, lat: seen.append((done, lat.clone())))
    assert [done for done, _ in seen] == [1, 2, 3]
    assert all(lat.shape == noise.shape for _, lat in seen)
    assert torch.equal(seen[-1][1], final) and not torch.equal(seen[0][1], final)


def test_auto_guidance_batching_measures_both_and_keeps_the_faster(pipe, reference_case):
    from core.job.request import GuidanceBatching

    case = reference_case
    device, dtype = torch.device("cpu"), torch.float32
    embeds = pipe.encode_prompt(case["prompt"], case["negative_prompt"], True, 256, device, dtype)
    noise = pipe.initial_noise(pipe.latent_shape(32, 48, 5), 2, dtype, device)
    pipe.denoise(embeds, noise.clone(), 6, 6.0, device, batch_cfg=GuidanceBatching.AUTO)
    timings = pipe.guidance_timings
    assert set(timings) == {"sequential", "batched"}
    assert pipe.guidance_batching_used.value == min(timings, key=lambda k: timings[k])
    pipe.denoise(embeds, noise.clone(), 3, 6.0, device, batch_cfg=GuidanceBatching.AUTO)  # too few steps to measure
    assert pipe.guidance_timings == {} and pipe.guidance_batching_used is GuidanceBatching.SEQUENTIAL


def test_engine_runs_guidance_one_branch_after_the_other_unless_asked():
    import dataclasses

    from core.engine.devices import ResolvedDevice
    from core.engine.speed import remember_batching
    from core.job.request import GuidanceBatching, SpeedOptions, StepCache

    engine, cpu = Engine(), ResolvedDevice("cpu", "float32")
    request = GenerationRequest(prompt="p", width=64, height=32, num_frames=5)
    assert engine._batch_cfg(request, cpu) is GuidanceBatching.SEQUENTIAL
    asked = dataclasses.replace(request, speed=SpeedOptions(guidance_batching=GuidanceBatching.BATCHED))
    assert engine._batch_cfg(asked, cpu) is GuidanceBatching.BATCHED
    auto = dataclasses.replace(request, speed=SpeedOptions(guidance_batching=GuidanceBatching.AUTO))
    assert engine._batch_cfg(auto, cpu) is GuidanceBatching.AUTO  # measured during the job
    cached = dataclasses.replace(auto, speed=dataclasses.replace(auto.speed, step_cache=StepCache.FAST))
    assert engine._batch_cfg(cached, cpu) is GuidanceBatching.SEQUENTIAL  # a cache keeps state per branch
    remember_batching("cpu", "float32", auto.latent_shape, GuidanceBatching.BATCHED)
    assert engine._batch_cfg(auto, cpu) is GuidanceBatching.BATCHED  # measured once, reused


@pytest.mark.cuda
def test_bf16_default_path_matches_the_official_algorithm_on_the_gpu(reference_model, reference_case):
    """On a GPU with PyTorch's own SDPA choice (the official processor's), the default path is bit for bit the
    official algorithm; the auto kernel (cuDNN/flash) stays within bf16 rounding of it."""
    from bench.official_algorithm import official_denoise
    from core.engine.attention import detect_attention_environment, resolve_attention_backend, set_attention_backend

    pipe = ContentVPipeline(**vars(load_components(reference_model, "bfloat16"))).to("cuda")
    case, device, dtype = reference_case, torch.device("cuda"), torch.bfloat16
    embeds = pipe.encode_prompt(case["prompt"], case["negative_prompt"], True, 256, device, dtype)
    shape = pipe.latent_shape(case["height"], case["width"], case["num_frames"])
    noise = pipe.initial_noise(shape, case["seed"], dtype, device)
    steps, guidance = case["num_inference_steps"], case["guidance_scale"]
    official = official_denoise(
        pipe.transformer, embeds, noise.clone(), steps, guidance, device, scheduler=pipe.scheduler
    )
    set_attention_backend(pipe.transformer, "sdpa")
    assert torch.equal(pipe.denoise(embeds, noise.clone(), steps, guidance, device), official)
    auto = resolve_attention_backend("auto", detect_attention_environment("cuda", "bfloat16"))
    set_attention_backend(pipe.transformer, auto, strict=False)
    fast = pipe.denoise(embeds, noise.clone(), steps, guidance, device)
    assert (fast.float() - official.float()).abs().max() < 0.25
