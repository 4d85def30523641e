"""The time left of a job and of the queue with loading, encoding, decoding and saving counted (core/job/time_left.py):
figures learned from the history's timings, fallbacks that say where they came from, and the running job's and the
queue's totals."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from core.job.progress import DecodeProgress, Stage, StepProgress
from core.job.request import GenerationRequest, GenerationResult, MemoryOptions, Placement, StageTimings
from core.job.time_left import (
    COLD_LOAD_MIN_S,
    DEFAULT_SAVE_S_PER_PIXEL_FRAME,
    DecodeMode,
    QueuedJob,
    Source,
    StageCosts,
    job_seconds_left,
    job_time_left,
    latent_pixels,
    output_pixel_frames,
    queue_time_left,
)
from core.store.history import HistoryStore, JobRecord, JobStatus

DECODE_S_PER_PIXEL = 2e-4
DENOISE_S_PER_STEP_PIXEL = 1e-5
ENCODE_S = 4.0
SAVE_S_PER_PIXEL_FRAME = 5e-8
LOAD_S = 90.0


def _request(
    width: int = 256, height: int = 144, frames: int = 17, steps: int = 10, **memory: Any
) -> GenerationRequest:
    return GenerationRequest(
        prompt="a cat", width=width, height=height, num_frames=frames, steps=steps, memory=MemoryOptions(**memory)
    )


def _record(
    request: GenerationRequest,
    *,
    job_id: int = 1,
    device: str = "cuda",
    loading_s: float = 0.01,
    decode_s_per_pixel: float = DECODE_S_PER_PIXEL,
    status: JobStatus = JobStatus.DONE,
) -> JobRecord:
    """A finished job whose stages took exactly what the figures above say for its size."""
    timings = StageTimings(
        loading_s=loading_s,
        encoding_s=ENCODE_S,
        denoising_s=DENOISE_S_PER_STEP_PIXEL * request.steps * latent_pixels(request),
        decoding_s=decode_s_per_pixel * latent_pixels(request),
        saving_s=SAVE_S_PER_PIXEL_FRAME * output_pixel_frames(request),
    )
    return JobRecord(
        id=job_id,
        status=status,
        created_at=1000.0 + job_id,
        finished_at=2000.0 + job_id,
        request=request,
        model_dir="/models/ContentV-8B",
        device=device,
        timings={**dataclasses.asdict(timings), "total_s": timings.total_s},  # unrounded, unlike the store's
    )


def _history() -> list[JobRecord]:
    """Three jobs of different sizes on this GPU (the first a cold start) and one on another device."""
    return [
        _record(_request(256, 144, 17), job_id=1, loading_s=LOAD_S),
        _record(_request(512, 288, 33), job_id=2),
        _record(_request(768, 432, 49), job_id=3),
        _record(_request(256, 144, 17), job_id=4, device="mps", decode_s_per_pixel=1.0, loading_s=500.0),
    ]


def test_history_with_known_timings_gives_the_expected_decode_share():
    costs = StageCosts.from_history(_history(), device="cuda")
    assert costs.decode.source is Source.HISTORY and costs.decode.samples == 3  # the mps job is not this device's
    assert costs.decode.value == pytest.approx(DECODE_S_PER_PIXEL)
    assert costs.encode.value == pytest.approx(ENCODE_S)
    assert costs.save.value == pytest.approx(SAVE_S_PER_PIXEL_FRAME, rel=1e-3)
    assert costs.denoise.value == pytest.approx(DENOISE_S_PER_STEP_PIXEL, rel=1e-3)
    assert costs.load.value == pytest.approx(LOAD_S) and costs.load.samples == 1  # only the cold start counts
    assert "median of 3 cuda jobs" in costs.decode.note

    request = _request(512, 288, 65, steps=20)  # a size none of them had: the figures scale with it
    left = job_time_left(None, costs, request, None, None, model_loaded=True)
    decode = DECODE_S_PER_PIXEL * latent_pixels(request)
    denoise = DENOISE_S_PER_STEP_PIXEL * 20 * latent_pixels(request)
    save = SAVE_S_PER_PIXEL_FRAME * output_pixel_frames(request)
    assert left.loading_s == 0.0  # loaded already
    assert left.decoding_s == pytest.approx(decode)
    assert left.total_s == pytest.approx(ENCODE_S + denoise + decode + save, rel=1e-3)
    assert left.decoding_s / left.total_s == pytest.approx(decode / (ENCODE_S + denoise + decode + save), rel=1e-3)


def test_a_median_of_recent_jobs_is_not_moved_by_one_odd_job():
    records = [_record(_request(), job_id=i) for i in range(1, 6)]
    records.append(_record(_request(), job_id=6, decode_s_per_pixel=DECODE_S_PER_PIXEL * 50))  # a swapping machine
    costs = StageCosts.from_history(records, device="cuda")
    assert costs.decode.value == pytest.approx(DECODE_S_PER_PIXEL)
    # Only the newest `recent` jobs count: old ones age out after a driver or disk change.
    newest = StageCosts.from_history(records, device="cuda", recent=1)
    assert newest.decode.value == pytest.approx(DECODE_S_PER_PIXEL * 50) and newest.decode.samples == 1


def test_no_history_falls_back_and_says_so():
    records = [_record(_request(), device="mps"), _record(_request(), status=JobStatus.FAILED)]
    costs = StageCosts.from_history(records, device="cuda", gpu_name="NVIDIA GeForce RTX 4090")
    for figure in (costs.decode, costs.denoise, costs.load):
        assert figure.source is Source.ESTIMATE and figure.samples == 0 and figure.value > 0
    assert "no cuda jobs yet" in costs.decode.note and "RTX 4090" in costs.decode.note
    assert costs.encode.source is Source.DEFAULT and costs.save.source is Source.DEFAULT
    assert costs.save.value == DEFAULT_SAVE_S_PER_PIXEL_FRAME
    # Every stage is still counted: a first job on a new machine is not told "denoising only".
    left = job_time_left(None, costs, _request(), None, None, model_loaded=False)
    assert all(part > 0 for part in dataclasses.astuple(left))
    # A slower card is told more.
    slower = StageCosts.from_history([], device="cuda", gpu_name="NVIDIA GeForce RTX 3060")
    assert slower.decode.value > costs.decode.value and slower.denoise.value > costs.denoise.value


def test_decode_figures_are_kept_apart_per_vae_mode_where_jobs_exist():
    tiled = _request(vae_tiling=True)
    records = [
        _record(_request(), job_id=1),
        _record(tiled, job_id=2, decode_s_per_pixel=DECODE_S_PER_PIXEL * 3),
        _record(tiled, job_id=3, decode_s_per_pixel=DECODE_S_PER_PIXEL * 3),
    ]
    costs = StageCosts.from_history(records, device="cuda")
    assert costs.decode_figure(tiled.memory).value == pytest.approx(DECODE_S_PER_PIXEL * 3)
    assert costs.decode_figure(_request().memory).value == pytest.approx(DECODE_S_PER_PIXEL)
    assert "VAE tiling" in costs.decode_by_mode[DecodeMode(tiling=True)].note
    # Slicing never ran here: the median over every mode on this device stands in.
    sliced = _request(vae_slicing=True).memory
    assert costs.decode_figure(sliced) == costs.decode and costs.decode.samples == 3


def test_a_decode_on_the_cpu_counts_for_the_gpu_job_in_its_own_mode():
    # A resume with --decode-on-cpu records device "cpu" for a request that asked for the GPU.
    records = [
        _record(_request(device="cuda"), job_id=1),
        _record(_request(device="cuda"), job_id=2, device="cpu", decode_s_per_pixel=DECODE_S_PER_PIXEL * 40),
    ]
    costs = StageCosts.from_history(records, device="cuda")
    assert costs.decode.value == pytest.approx(DECODE_S_PER_PIXEL) and costs.decode.samples == 1
    assert costs.decode_on_cpu.value == pytest.approx(DECODE_S_PER_PIXEL * 40)
    request = _request(device="cuda")
    on_cpu = job_time_left(Stage.DECODING, costs, request, None, None, True, decode_on_cpu=True)
    assert on_cpu.decoding_s == pytest.approx(DECODE_S_PER_PIXEL * 40 * latent_pixels(request))
    # Without such a job the CPU's estimate is used, not the GPU's pace.
    fresh = StageCosts.from_history(records[:1], device="cuda")
    assert fresh.decode_on_cpu.source is Source.ESTIMATE and fresh.decode_on_cpu.value > fresh.decode.value


def test_during_decode_the_time_left_shrinks_with_decode_progress():
    costs = StageCosts.from_history(_history(), device="cuda")
    request = _request(768, 432, 49)
    decode = DECODE_S_PER_PIXEL * latent_pixels(request)
    save = costs.save_s(request)
    lefts = [
        job_seconds_left(Stage.DECODING, costs, request, None, DecodeProgress(done, 12), model_loaded=True)
        for done in (0, 3, 6, 12)
    ]
    assert lefts == sorted(lefts, reverse=True) and len(set(lefts)) == 4
    assert lefts[0] == pytest.approx(decode + save)
    assert lefts[2] == pytest.approx(decode / 2 + save)
    assert lefts[3] == pytest.approx(save)  # decoded: only saving is left
    # Given the decode's own elapsed time, its measured pace wins over the history's.
    measured = job_seconds_left(
        Stage.DECODING, costs, request, None, DecodeProgress(3, 12), model_loaded=True, decode_elapsed_s=6.0
    )
    assert measured == pytest.approx(6.0 / 3 * 9 + save)
    assert job_seconds_left(Stage.SAVING, costs, request, None, None, model_loaded=True) == pytest.approx(save)


def test_during_denoising_the_step_clock_eta_is_used_and_decode_and_save_are_added():
    costs = StageCosts.from_history(_history(), device="cuda")
    request = _request()
    steps = StepProgress(step=4, total=10, elapsed_s=12.0, eta_s=18.0)
    left = job_time_left(Stage.DENOISING, costs, request, steps, None, model_loaded=True)
    assert left.denoising_s == 18.0 and left.loading_s == 0.0 and left.encoding_s == 0.0
    assert left.total_s == pytest.approx(18.0 + costs.decode_s(request) + costs.save_s(request))


def test_before_denoising_starts_the_time_left_includes_load_and_encode():
    costs = StageCosts.from_history(_history(), device="cuda")
    request = _request()
    rest = costs.denoise_s(request) + costs.decode_s(request) + costs.save_s(request)
    cold = job_time_left(Stage.LOADING, costs, request, None, None, model_loaded=False)
    assert cold.loading_s == pytest.approx(LOAD_S) and cold.encoding_s == pytest.approx(ENCODE_S)
    assert cold.total_s == pytest.approx(LOAD_S + ENCODE_S + rest)
    assert job_seconds_left(None, costs, request, None, None, model_loaded=False) == pytest.approx(cold.total_s)
    # Time already spent loading or encoding is taken off, never below nothing.
    later = job_time_left(Stage.LOADING, costs, request, None, None, model_loaded=False, stage_elapsed_s=30.0)
    assert later.loading_s == pytest.approx(LOAD_S - 30.0)
    overdue = job_time_left(Stage.ENCODING, costs, request, None, None, model_loaded=True, stage_elapsed_s=60.0)
    assert overdue.encoding_s == 0.0 and overdue.loading_s == 0.0
    warm = job_seconds_left(Stage.ENCODING, costs, request, None, None, model_loaded=True)
    assert warm == pytest.approx(ENCODE_S + rest)


def test_only_cold_starts_teach_the_load_time():
    records = [_record(_request(), job_id=i, loading_s=COLD_LOAD_MIN_S / 10) for i in range(1, 4)]
    costs = StageCosts.from_history(records, device="cuda")
    assert costs.load.source is Source.ESTIMATE  # every job found the model loaded: no cold start measured
    streamed = _request(placement=Placement.STREAMED)
    records.append(_record(streamed, job_id=9, loading_s=200.0))
    records.append(_record(_request(), job_id=10, loading_s=80.0))
    costs = StageCosts.from_history(records, device="cuda")
    assert costs.load_s(streamed) == pytest.approx(200.0)  # its own settings' cold load
    assert costs.load_s(_request()) == pytest.approx(80.0)
    assert costs.load_s(_request(placement=Placement.MODEL)) == pytest.approx(140.0)  # the median of all cold loads


def test_the_queue_total_includes_decode_for_each_waiting_job():
    costs = StageCosts.from_history(_history(), device="cuda")
    current = QueuedJob(_request(), "/models/ContentV-8B")
    waiting = [
        QueuedJob(_request(512, 288, 33), "/models/ContentV-8B"),
        QueuedJob(_request(768, 432, 49), "/models/ContentV-8B"),
    ]

    def whole_job(job: QueuedJob) -> float:  # no loading: same model and settings as the job before
        r = job.request
        return ENCODE_S + costs.denoise_s(r) + costs.decode_s(r) + costs.save_s(r)

    total = queue_time_left(100.0, costs, current, waiting)
    assert total == pytest.approx(100.0 + sum(whole_job(j) for j in waiting))
    decodes = sum(costs.decode_s(j.request) for j in waiting)
    assert decodes > 0 and total - decodes == pytest.approx(
        100.0 + sum(whole_job(j) - costs.decode_s(j.request) for j in waiting)
    )

    # The running job's measured pace is scaled to each waiting job's size, as core.job.progress does.
    measured = queue_time_left(100.0, costs, current, waiting, seconds_per_step=3.0)
    per_pixel = 3.0 / latent_pixels(current.request)
    expected = sum(
        whole_job(j) - costs.denoise_s(j.request) + per_pixel * j.request.steps * latent_pixels(j.request)
        for j in waiting
    )
    assert measured == pytest.approx(100.0 + expected)


def test_the_queue_loads_again_only_when_the_model_or_its_settings_change():
    costs = StageCosts.from_history(_history(), device="cuda")
    same = QueuedJob(_request(), "/models/ContentV-8B")
    tiled = QueuedJob(_request(vae_tiling=True), "/models/ContentV-8B")  # the VAE mode is set per job: no reload
    offloaded = QueuedJob(_request(placement=Placement.MODEL), "/models/ContentV-8B")
    other_model = QueuedJob(_request(), "/models/other")
    base = queue_time_left(0.0, costs, same, [same, tiled])
    assert base == pytest.approx(
        sum(
            ENCODE_S + costs.denoise_s(j.request) + costs.decode_s(j.request) + costs.save_s(j.request)
            for j in (same, tiled)
        )
    )
    with_reloads = queue_time_left(0.0, costs, same, [offloaded, same, other_model])
    work = sum(
        ENCODE_S + costs.denoise_s(j.request) + costs.decode_s(j.request) + costs.save_s(j.request)
        for j in (offloaded, same, other_model)
    )
    assert with_reloads == pytest.approx(work + 3 * costs.load.value)
    # Nothing running and nothing loaded: the first waiting job loads.
    assert queue_time_left(0.0, costs, None, [same]) == pytest.approx(costs.load.value + base / 2)


def test_timings_recorded_by_the_history_store_are_learned(tmp_path: Path):
    """The real store: a job marked done keeps its timings and device, and comes back as a figure."""
    request = _request().with_seed(7)
    timings = StageTimings(loading_s=42.0, encoding_s=2.0, denoising_s=30.0, decoding_s=6.0, saving_s=1.0)
    with HistoryStore(tmp_path / "history.db") as store:
        job = store.add(request, "/models/ContentV-8B")
        store.mark_running(job.id)
        result = GenerationResult(
            request=request,
            video_path=tmp_path / "clip.mp4",
            sidecar_path=None,
            frames_dir=None,
            num_frames=request.effective_frames,
            timings=timings,
            peak_vram_bytes=None,
            device="cuda",
        )
        store.mark_done(job.id, result)
        store.add(_request(), "/models/ContentV-8B")  # still queued: no timings, not counted
        records = store.list_jobs()
    costs = StageCosts.from_history(records, device="cuda")
    assert costs.decode.samples == 1 and costs.decode.value == pytest.approx(6.0 / latent_pixels(request))
    assert costs.load.value == pytest.approx(42.0) and costs.encode.value == pytest.approx(2.0)
    assert job_time_left(None, costs, request, None, None, model_loaded=False).total_s == pytest.approx(81.0, rel=1e-3)
