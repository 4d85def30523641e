"""The window's side of the job journal: a job whose process was killed mid-denoise comes back in the queue as
"interrupted at step k of n" and, resumed, makes the very clip the uninterrupted job makes; a decode that ran out
of memory is decoded again from the kept latents without a single transformer call; Start over drops the journal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from core.job.request import GenerationRequest, MemoryOptions
from core.output.video import read_mp4_frames
from core.store.history import HistoryStore, JobStatus
from tests.gui.helpers import JobWatcher, wait_ready
from tests.interrupting import TransformerCalls, fail_decode_once, prelude

ROOT = Path(__file__).resolve().parents[2]
REQUEST = GenerationRequest(
    prompt="a paper boat on a rainy street", width=80, height=48, num_frames=9, steps=10, seed=21,
    memory=MemoryOptions(device="cpu"),
)  # fmt: skip

# The window's worker, alone in a process that is killed once its journal holds a snapshot.
WORKER = """
import json
from pathlib import Path
from PySide6.QtCore import QCoreApplication
app = QCoreApplication([])
from core.store.history import HistoryStore, JobStatus
from core.job.request import GenerationRequest
from core.store.state_dirs import set_state_root
from gui.jobs.worker import GenerationWorker, Job
data = Path({data!r})
set_state_root(data)
store = HistoryStore(data / "history.sqlite3")
request = GenerationRequest.from_dict(json.loads({request!r}))
record = store.add(request, {model!r}, JobStatus.QUEUED)
worker = GenerationWorker(store, data / "outputs", data / "thumbnails", warm_imports=False)
worker.initialize()
worker.run_job(Job(record.id, {model!r}, request, snapshot_every=2))
"""


def kill_worker_mid_denoise(data: Path, model: Path) -> None:
    data.mkdir(parents=True)
    stalled = data / "stalled"
    script = prelude(str(ROOT), 6, str(stalled))  # the job stops moving after step 6: killed "at step 6"
    script += WORKER.format(data=str(data), request=json.dumps(REQUEST.to_dict()), model=str(model))
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, env={**os.environ})
    try:
        deadline = time.monotonic() + 600  # only gives up on a worker that never gets there
        while not (stalled.exists() and list((data / "jobs").glob("*/step-000004.safetensors"))):
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:] if proc.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proc.kill()
    finally:
        proc.wait()


def test_a_killed_job_resumes_in_the_window_to_identical_frames(qtbot, open_window, gui_tiny_model, tmp_path):
    data = tmp_path / "data"
    kill_worker_mid_denoise(data, gui_tiny_model)
    window = open_window(data_dir=data, model=gui_tiny_model)
    wait_ready(qtbot, window)
    entries = window.controller.queue.entries
    assert len(entries) == 1 and window.controller.paused
    step = entries[0].resume_step
    assert 4 <= step < REQUEST.steps
    row = window.controller.queue.data(window.controller.queue.index(0))
    assert f"interrupted at step {step} of {REQUEST.steps}" in row
    history = window.history_panel.model
    assert history.data(history.index(0), Qt_reached()) == (step, REQUEST.steps)  # the history row says so too

    watcher = JobWatcher(window)
    job_id = entries[0].job_id
    window.controller.resume()
    watcher.wait(qtbot, job_id, timeout=300_000)
    assert job_id in watcher.finished, watcher.failed
    assert [s for j, s, _ in watcher.steps if j == job_id] == list(range(step + 1, REQUEST.steps + 1))
    resumed = watcher.finished[job_id].video_path

    again = window.controller.submit(REQUEST, str(gui_tiny_model))  # the same job, uninterrupted
    watcher.wait(qtbot, again.id, timeout=300_000)
    assert again.id in watcher.finished, watcher.failed
    assert np.array_equal(read_mp4_frames(resumed), read_mp4_frames(watcher.finished[again.id].video_path))
    assert window.store.get(job_id).status is JobStatus.DONE
    assert not list((data / "jobs").iterdir())  # both published: no journal left


def test_start_over_drops_the_journal(qtbot, open_window, gui_tiny_model, tmp_path):
    data = tmp_path / "data"
    kill_worker_mid_denoise(data, gui_tiny_model)
    window = open_window(data_dir=data, model=gui_tiny_model)
    wait_ready(qtbot, window)
    job_id = window.controller.queue.entries[0].job_id
    assert window.controller.start_over(job_id)
    assert window.controller.queue.entries[0].resume_step == 0 and window.controller.journal_progress(job_id) is None
    watcher = JobWatcher(window)
    window.controller.resume()
    watcher.wait(qtbot, job_id, timeout=300_000)
    assert job_id in watcher.finished
    assert [s for j, s, _ in watcher.steps if j == job_id] == list(range(1, REQUEST.steps + 1))


def test_out_of_memory_at_decode_is_decoded_again_without_denoising(
    qtbot, open_window, gui_tiny_model, tmp_path, monkeypatch
):
    fail_decode_once(monkeypatch, torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 12.00 GiB"))
    calls = TransformerCalls(monkeypatch)
    window = open_window(model=gui_tiny_model)
    wait_ready(qtbot, window)
    watcher = JobWatcher(window)
    request = GenerationRequest(
        prompt="a kite", width=80, height=48, num_frames=9, steps=3, seed=2, memory=MemoryOptions(device="cpu")
    )
    record = window.controller.submit(request, str(gui_tiny_model))
    watcher.wait(qtbot, record.id, timeout=300_000)
    assert watcher.failed[record.id][0] == "out-of-memory"
    qtbot.waitUntil(lambda: window.error_dialog is not None)
    dialog = window.error_dialog
    assert dialog.fix_button is not None and dialog.fix_button.text() == "Decode again with lower memory settings"
    assert window.history_panel.model.data(window.history_panel.model.index(0), Qt_reached()) == (3, 3)
    denoising_calls = calls.count
    dialog.fix_button.click()
    qtbot.waitUntil(lambda: record.id in watcher.finished, timeout=300_000)
    assert calls.count == denoising_calls  # not one more transformer call
    done = window.store.get(record.id)
    assert done.status is JobStatus.DONE and done.request.seed == 2
    assert done.request.memory.vae_tiling and done.request.memory.vae_slicing  # the decode's lower-memory settings
    assert any("Continued from step 3 of 3" in n for n in done.notes)


def Qt_reached() -> int:
    from gui.jobs.history_panel import ReachedRole

    return ReachedRole


def test_history_store_requeue_clears_the_old_failure(tmp_path):
    store = HistoryStore(tmp_path / "history.sqlite3")
    record = store.add(REQUEST, "model", JobStatus.QUEUED)
    store.mark_failed(record.id, "out-of-memory", "ran out", "try less")
    store.requeue(record.id)
    again = store.get(record.id)
    assert again.status is JobStatus.QUEUED and again.error_message is None and again.error_kind is None


def test_a_cancelled_job_continues_from_the_history(qtbot, open_window, gui_tiny_model):
    window = open_window(model=gui_tiny_model)
    wait_ready(qtbot, window)
    watcher = JobWatcher(window)
    record = window.controller.submit(REQUEST, str(gui_tiny_model))

    def cancel_at_step_5(job: int, step: int, *_: object) -> None:  # Esc at step 5
        if step == 5:
            window.controller.cancel(job)

    window.controller.stepped.connect(cancel_at_step_5)
    watcher.wait(qtbot, record.id, timeout=300_000)
    assert record.id in watcher.cancelled
    reached = window.controller.journal_progress(record.id)
    assert reached is not None and 5 <= reached[0] < REQUEST.steps
    window.history_panel.select(record.id)
    assert window.history_panel.continue_action.isVisible() and window.history_panel.start_over_action.isVisible()
    watcher.steps.clear()
    window.controller.stepped.disconnect(cancel_at_step_5)
    window.history_panel.continue_action.trigger()
    qtbot.waitUntil(lambda: record.id in watcher.finished, timeout=300_000)
    assert [s for j, s, _ in watcher.steps if j == record.id] == list(range(reached[0] + 1, REQUEST.steps + 1))
    again = window.controller.submit(REQUEST, str(gui_tiny_model))
    watcher.wait(qtbot, again.id, timeout=300_000)
    assert np.array_equal(
        read_mp4_frames(watcher.finished[record.id].video_path), read_mp4_frames(watcher.finished[again.id].video_path)
    )
