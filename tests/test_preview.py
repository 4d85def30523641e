"""Live previews and decode progress in the engine: the Wan2.1 latent-to-RGB projection, previews every N steps
and what they cost, decoder-call progress, and a cancel that stops the decode after the current latent frame."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from core.engine.runner import Engine
from core.errors import JobCancelled
from core.job.preview import (
    WAN21_LATENT_RGB_BIAS,
    WAN21_LATENT_RGB_FACTORS,
    PreviewFrames,
    latents_to_rgb,
    should_preview,
)
from core.job.progress import CancelToken, DecodeProgress, ProgressSink, QueuedWork, queue_seconds_left
from core.job.request import GenerationRequest, MemoryOptions, OutputOptions

CPU = MemoryOptions(device="cpu")


def tiny_request(**overrides: object) -> GenerationRequest:
    base = GenerationRequest(
        prompt="a kite over the dunes", width=80, height=48, num_frames=9, steps=6, seed=5, memory=CPU
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


# ---- the projection ------------------------------------------------------------------------------------------
def test_projection_is_the_published_linear_map():
    generator = torch.Generator().manual_seed(0)
    latents = torch.randn(1, 16, 3, 6, 10, generator=generator)
    rgb = latents_to_rgb(latents, max_side=10)  # no enlargement
    assert rgb.shape == (3, 6, 10, 3) and rgb.dtype == np.uint8 and rgb.flags.c_contiguous
    factors = np.array(WAN21_LATENT_RGB_FACTORS, dtype=np.float64)
    expected = np.einsum("cthw,cr->thwr", latents[0].double().numpy(), factors) + np.array(WAN21_LATENT_RGB_BIAS)
    expected = np.round((np.clip(expected, -1, 1) + 1) * 127.5)
    assert np.abs(rgb.astype(np.int16) - expected).max() <= 1


def test_zero_latents_show_the_bias_colour_and_each_channel_its_row():
    zero = latents_to_rgb(torch.zeros(1, 16, 1, 2, 2), max_side=2)
    assert (zero == np.round((np.array(WAN21_LATENT_RGB_BIAS) + 1) * 127.5)).all()
    one_hot = torch.zeros(1, 16, 1, 2, 2)
    one_hot[0, 14] = 1.0  # channel 14 pushes every colour up
    assert (latents_to_rgb(one_hot, max_side=2).astype(int) > zero.astype(int)).all()


def test_preview_is_enlarged_within_bounds_and_refuses_other_latents():
    assert latents_to_rgb(torch.zeros(1, 16, 2, 6, 10), max_side=160).shape == (2, 48, 80, 3)  # 8x at most
    assert latents_to_rgb(torch.zeros(1, 16, 2, 54, 96), max_side=160).shape == (2, 54, 96, 3)  # never shrunk
    with pytest.raises(ValueError, match=r"Wan2\.1 latents"):
        latents_to_rgb(torch.zeros(1, 4, 2, 6, 10))


def test_preview_schedule():
    assert [s for s in range(1, 11) if should_preview(s, 10, 3)] == [3, 6, 9]
    assert [s for s in range(1, 11) if should_preview(s, 10, 5)] == [5]  # not the last step: the clip follows
    assert not any(should_preview(s, 10, 0) for s in range(1, 11))


def test_queue_estimate_scales_waiting_jobs_by_size():
    current = QueuedWork(steps=10, latent_pixels=100)
    waiting = [QueuedWork(steps=10, latent_pixels=100), QueuedWork(steps=20, latent_pixels=200)]
    # 2 s/step at 100 latent pixels: the same job again takes 20 s, one twice as large with twice the steps 80 s.
    assert queue_seconds_left(7.0, 2.0, current, waiting) == pytest.approx(7 + 20 + 80)
    assert queue_seconds_left(-1.0, 2.0, current, []) == 0.0


# ---- in the engine ---------------------------------------------------------------------------------------------
def test_previews_arrive_every_n_steps_each_one_projection(engine, tiny_model, tmp_path, monkeypatch):
    """A preview costs one projection of the latents (no VAE call) and only on its steps; what that costs in time
    is measured by bench/bench_engine.py ("a live preview"), not here."""
    import core.job.preview

    projected: list[tuple[int, ...]] = []
    real_projection = core.job.preview.latents_to_rgb

    def counted_projection(latents: torch.Tensor, max_side: int = core.job.preview.PREVIEW_MAX_SIDE) -> np.ndarray:
        projected.append(tuple(latents.shape))
        return real_projection(latents, max_side)

    monkeypatch.setattr(core.job.preview, "latents_to_rgb", counted_projection)
    previews: list[PreviewFrames] = []
    sink = ProgressSink(on_preview=previews.append, preview_every=2)
    engine.generate(tiny_model, tiny_request(), OutputOptions(tmp_path / "a.mp4"), sink)
    assert [(p.step, p.total) for p in previews] == [(2, 6), (4, 6)]
    assert projected == [(1, 16, 3, 6, 10)] * 2  # one projection a preview, of the latents themselves
    assert all(p.frames.shape == (3, 48, 80, 3) for p in previews)  # 3 latent frames of 6x10, enlarged 8x
    assert not np.array_equal(previews[0].frames, previews[1].frames)  # it moves as the latents denoise


def test_no_previews_when_off(engine, tiny_model, tmp_path):
    previews: list[PreviewFrames] = []
    sink = ProgressSink(on_preview=previews.append, preview_every=0)
    engine.generate(tiny_model, tiny_request(steps=2), OutputOptions(tmp_path / "a.mp4"), sink)
    assert previews == []


def test_decoding_reports_each_latent_frame(engine, tiny_model, tmp_path):
    decoded: list[DecodeProgress] = []
    sink = ProgressSink(on_decode=decoded.append)
    engine.generate(tiny_model, tiny_request(steps=1, num_frames=13), OutputOptions(tmp_path / "a.mp4"), sink)
    assert [(d.done, d.total) for d in decoded] == [(1, 4), (2, 4), (3, 4), (4, 4)]  # 13 frames: 4 latent frames
    assert decoded[-1].fraction == 1.0


def test_decoder_call_count_with_tiling_matches_the_vae(engine, tiny_model):
    engine.load(tiny_model, CPU)
    pipe = engine.pipeline
    vae = pipe.vae
    saved = (vae.use_tiling, vae.tile_sample_min_height, vae.tile_sample_min_width)
    saved_strides = (vae.tile_sample_stride_height, vae.tile_sample_stride_width)
    vae.use_tiling = True
    vae.tile_sample_min_height = vae.tile_sample_min_width = 32
    vae.tile_sample_stride_height = vae.tile_sample_stride_width = 24
    try:
        latents = torch.randn(1, 16, 2, 6, 10)
        calls: list[tuple[int, int]] = []
        frames = pipe.decode(latents, torch.device("cpu"), on_decoder_call=lambda d, t: calls.append((d, t)))
        assert frames.shape[0] == 5
        expected = pipe.decoder_calls(latents)
        assert expected == 2 * 2 * 4  # 2 latent frames x 2 x 4 tiles of stride 3 over 6 x 10
        assert calls == [(n, expected) for n in range(1, expected + 1)]
    finally:
        vae.use_tiling, vae.tile_sample_min_height, vae.tile_sample_min_width = saved
        vae.tile_sample_stride_height, vae.tile_sample_stride_width = saved_strides


def test_cancel_during_decoding_stops_after_the_current_frame(engine, tiny_model, tmp_path):
    token = CancelToken()
    decoded: list[DecodeProgress] = []

    def on_decode(progress: DecodeProgress) -> None:
        decoded.append(progress)
        if progress.done == 1:
            token.cancel()

    sink = ProgressSink(on_decode=on_decode)
    output = tmp_path / "a.mp4"
    with pytest.raises(JobCancelled):
        engine.generate(tiny_model, tiny_request(steps=1, num_frames=13), OutputOptions(output), sink, token)
    assert [d.done for d in decoded] == [1]  # the decoder was not called again
    assert not output.exists()
    # The VAE is usable again right after (its frame cache was cleared).
    engine.generate(tiny_model, tiny_request(steps=1), OutputOptions(tmp_path / "b.mp4"))


def test_a_cancel_is_checked_several_times_within_each_decoded_frame(engine, tiny_model):
    """The stop check runs before the decoder and before each of its middle and upsampling blocks, so a cancel
    made in the middle of a frame does not wait for the whole frame."""
    engine.load(tiny_model, CPU)
    pipe = engine.pipeline
    checks: list[int] = []
    calls: list[int] = []
    pipe.decode(
        torch.randn(1, 16, 2, 6, 10),
        torch.device("cpu"),
        on_decoder_call=lambda done, _total: calls.append(done),
        before_block=lambda: checks.append(len(calls)),
    )
    per_frame = [checks.count(n) for n in range(2)]
    assert calls == [1, 2] and all(n >= 3 for n in per_frame), per_frame

    class Stop(Exception):
        pass

    checks_in_second_frame = [0]

    def stop_inside_the_second_frame() -> None:
        if len(calls) == 1:
            checks_in_second_frame[0] += 1
            if checks_in_second_frame[0] == 2:  # frame 2 has begun: its decoder ran its first block
                raise Stop

    calls.clear()
    with pytest.raises(Stop):
        pipe.decode(
            torch.randn(1, 16, 2, 6, 10),
            torch.device("cpu"),
            on_decoder_call=lambda done, _total: calls.append(done),
            before_block=stop_inside_the_second_frame,
        )
    assert calls == [1]  # stopped partway through frame 2
    pipe.decode(torch.randn(1, 16, 2, 6, 10), torch.device("cpu"))  # and the VAE decodes normally afterwards
