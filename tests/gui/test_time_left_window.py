"""The window's time left counts the whole job: after the last denoising step, the decode and the save that this
machine's past jobs took are still to come, and the line says so."""

from __future__ import annotations

from pathlib import Path

from core.job.request import GenerationRequest, GenerationResult, MemoryOptions, StageTimings
from core.store.history import JobStatus

CPU = MemoryOptions(device="cpu")
REQUEST = GenerationRequest(
    prompt="a lighthouse at dusk", width=64, height=64, num_frames=9, steps=4, seed=3, memory=CPU
)


def _past_job(store, tmp_path: Path, decode_s: float, save_s: float) -> None:
    job = store.add(REQUEST, "model")
    store.mark_running(job.id)
    timings = StageTimings(loading_s=0.0, encoding_s=1.0, denoising_s=8.0, decoding_s=decode_s, saving_s=save_s)
    result = GenerationResult(REQUEST, tmp_path / "old.mp4", None, None, 9, timings, None, "cpu")
    store.mark_done(job.id, result)


def test_the_time_left_after_the_last_step_is_the_decode_and_save_still_to_come(open_window, tmp_path: Path):
    window = open_window(start_engine=False)
    _past_job(window.store, tmp_path, decode_s=100.0, save_s=5.0)
    record = window.store.add(REQUEST, "model", JobStatus.RUNNING)
    c = window.controller
    c.jobStarted.emit(record.id)
    c.stageChanged.emit(record.id, "denoising")
    c.stepped.emit(record.id, 4, 4, 10.0, 0.0)  # every step done: the denoising has nothing left
    line = window.stage_label.text()
    assert "step 4 of 4" in line and "about 1:45 left" in line, line  # 100 s of decode + 5 s of save

    c.stageChanged.emit(record.id, "decoding")
    c.decoded.emit(record.id, 3, 4)  # the decode runs far faster here than the history says: its own pace wins
    line = window.stage_label.text()
    assert "3 of 4" in line and "left" in line and "1:45" not in line, line
    window.job_progress.ended(record.id)


def test_before_any_step_the_time_left_includes_the_decode_too(open_window, tmp_path: Path):
    window = open_window(start_engine=False)
    _past_job(window.store, tmp_path, decode_s=100.0, save_s=5.0)
    record = window.store.add(REQUEST, "model", JobStatus.RUNNING)
    window.controller.jobStarted.emit(record.id)
    window.controller.stageChanged.emit(record.id, "encoding")
    seconds = window.job_progress.seconds_left()
    assert seconds is not None and seconds >= 105.0 + 8.0 - 1.0  # decode + save + the learned denoise, at least
    window.job_progress.ended(record.id)
