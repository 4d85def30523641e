"""The window's worker runs a job split over 2 CPU ranks through core/parallel/ranks.py's ParallelEngine as it runs
one on a single GPU: every step, the live previews, the finished clip in the history, a second job on the same
loaded ranks; a cancel from the window's side (the step signal's handler) stops both ranks, which stay loaded and
idle for the next job."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.job.request import GenerationRequest, MemoryOptions, ParallelOptions, Split
from core.store.history import HistoryStore, JobStatus
from core.store.state_dirs import set_state_root
from gui.jobs.worker import GenerationWorker, Job


@pytest.fixture(autouse=True)
def own_data_folder(tmp_path: Path):
    """Journals and calibrations under this test's folder, as the window keeps them under its data folder: history
    ids start at 1 in every test's store, and a cancelled job's kept journal must not meet the next test's job 1."""
    set_state_root(tmp_path / "state")
    yield
    set_state_root(None)


def test_cancel_through_the_worker_stops_both_ranks(qapp, gui_tiny_model: Path, tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "history.sqlite3")
    request = GenerationRequest(
        prompt="a paper boat", width=80, height=48, num_frames=9, steps=400, seed=5,
        memory=MemoryOptions(device="cpu"), parallel=ParallelOptions(gpus=2, split=Split.GUIDANCE),
    )  # fmt: skip
    record = store.add(request, str(gui_tiny_model), JobStatus.QUEUED)
    worker = GenerationWorker(store, tmp_path / "outputs", tmp_path / "thumbnails", warm_imports=False)
    worker.initialize()
    job = Job(record.id, str(gui_tiny_model), request, snapshot_every=0)
    steps: list[int] = []
    cancelled: list[int] = []
    worker.stepped.connect(lambda _id, step, *_: (steps.append(step), job.cancel.cancel()))  # as the Cancel button
    worker.cancelled.connect(cancelled.append)
    try:
        worker.run_job(job)
        assert cancelled == [record.id] and 0 < steps[-1] < request.steps
        assert store.get(record.id).status is JobStatus.CANCELLED
        parallel = worker._parallel
        pids = parallel.rank_pids
        assert len(pids) == 2
        for pid in pids:
            os.kill(pid, 0)  # both ranks are alive (idle, waiting for the next job)
        assert not list((tmp_path / "outputs").glob("*.mp4"))
    finally:
        worker.close_ranks()
    assert worker._parallel is None


def test_a_split_job_through_the_worker_reports_as_one_gpu_does(qapp, gui_tiny_model: Path, tmp_path: Path) -> None:
    store = HistoryStore(tmp_path / "history.sqlite3")
    request = GenerationRequest(
        prompt="a paper boat", width=80, height=48, num_frames=9, steps=4, seed=5,
        memory=MemoryOptions(device="cpu"), parallel=ParallelOptions(gpus=2, split=Split.ULYSSES),
    )  # fmt: skip
    worker = GenerationWorker(store, tmp_path / "outputs", tmp_path / "thumbnails", warm_imports=False)
    worker.initialize()
    steps: list[tuple[int, int]] = []
    previews: list[int] = []
    finished: list = []
    worker.stepped.connect(lambda job_id, step, total, *_: steps.append((job_id, step)))
    worker.previewed.connect(lambda job_id, frames: previews.append(frames.step))
    worker.finished.connect(lambda job_id, outcome: finished.append(outcome))
    try:
        first = store.add(request, str(gui_tiny_model), JobStatus.QUEUED)
        worker.run_job(Job(first.id, str(gui_tiny_model), request, preview_every=2, snapshot_every=0))
        record = store.get(first.id)
        assert record.status is JobStatus.DONE, record
        assert [s for job_id, s in steps if job_id == first.id] == [1, 2, 3, 4]
        assert previews == [2]  # every 2 steps, never on the last one (the clip follows), as on one GPU
        assert len(finished) == 1 and finished[0].video_path.is_file()
        pids, loads = worker._parallel.rank_pids, worker._parallel.rank_loads

        second_request = GenerationRequest.from_dict({**request.to_dict(), "seed": 6})
        second = store.add(second_request, str(gui_tiny_model), JobStatus.QUEUED)
        worker.run_job(Job(second.id, str(gui_tiny_model), second_request, snapshot_every=0))
        assert store.get(second.id).status is JobStatus.DONE
        assert worker._parallel.rank_pids == pids and worker._parallel.rank_loads == loads  # kept loaded
    finally:
        worker.close_ranks()
