"""The window's worker runs a job split over 2 CPU ranks through core/parallel/ranks.py's ParallelEngine: a cancel from
the
window's side (the step signal's handler) stops both ranks, which stay loaded and idle for the next job."""

from __future__ import annotations

import os
from pathlib import Path

from core.job.request import GenerationRequest, MemoryOptions, ParallelOptions, Split
from core.store.history import HistoryStore, JobStatus
from gui.jobs.worker import GenerationWorker, Job


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
