"""The real window driving real (tiny) jobs: prompt to playing clip, re-runs, cancel, closing mid-job, the
history surviving a restart, and the GUI thread staying responsive while a job runs."""

from __future__ import annotations

import gc
import re
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtMultimedia import QMediaPlayer, QVideoFrame
from PySide6.QtWidgets import (
    QCheckBox,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QWidget,
)

from core.job.request import GenerationRequest
from core.output.video import read_mp4_frames
from core.store.history import HistoryStore, JobStatus
from gui.jobs.history_panel import RecordRole
from gui.support.settings import Settings
from tests.gui.helpers import JobWatcher, fill_small, find, wait_ready

OUTPUT_NAME = re.compile(r"^\d{8}-\d{6}-[a-z0-9-]+(-\d+)?\.mp4$")


def frame_to_array(frame: QVideoFrame) -> np.ndarray:
    image = frame.toImage().convertToFormat(QImage.Format.Format_RGB888)
    w, h = image.width(), image.height()
    data = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(h, image.bytesPerLine())
    return data[:, : w * 3].reshape(h, w, 3).copy()


def start_and_wait(qtbot, window, watcher: JobWatcher, action=None, timeout: int = 90_000) -> int:
    """Run `action` (default: click Generate), then wait for the job it queued to end; returns its id."""
    before = {r.id for r in window.store.list_jobs()}
    if action is None:
        qtbot.mouseClick(find(window, QPushButton, "generateButton"), Qt.MouseButton.LeftButton)
    else:
        action()
    qtbot.waitUntil(lambda: len(window.store.list_jobs()) > len(before))
    job_id = next(r.id for r in window.store.list_jobs() if r.id not in before)
    watcher.wait(qtbot, job_id, timeout)
    return job_id


def outputs_of(data_dir: Path) -> list[Path]:
    return sorted(p for p in (data_dir / "outputs").iterdir())


def test_job_from_prompt_to_playing_clip(qtbot, open_window, gui_tiny_model, tmp_path):
    window = open_window(model=gui_tiny_model)
    wait_ready(qtbot, window)
    assert window.model_picker.is_valid

    fill_small(window, prompt="", seed=4242)
    prompt = find(window, QPlainTextEdit, "promptEdit")
    generate = find(window, QPushButton, "generateButton")
    assert not generate.isEnabled()  # no prompt yet
    prompt.setFocus()
    qtbot.keyClicks(prompt, "a red fox trots through fresh snow")
    assert generate.isEnabled()

    watcher = JobWatcher(window)
    progress = find(window, QProgressBar, "progressBar")
    seen_values: list[int] = []
    window.controller.stepped.connect(lambda *_: seen_values.append(progress.value()))
    sink_frames: list[np.ndarray] = []
    window.player.video_sink().videoFrameChanged.connect(
        lambda f: f.isValid() and sink_frames.append(frame_to_array(f))
    )

    # Ctrl+Enter in the prompt editor generates.
    job_id = start_and_wait(
        qtbot, window, watcher, lambda: qtbot.keyClick(prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    )
    assert "\n" not in prompt.toPlainText()
    assert job_id in watcher.finished, watcher.failed

    # Stages in order, one signal per step, and the progress bar at its end.
    assert [s for _, s in watcher.stages] == ["loading", "encoding", "denoising", "decoding", "saving"]
    assert [(step, total) for _, step, total in watcher.steps] == [(1, 3), (2, 3), (3, 3)]
    assert seen_values == [1, 2, 3]
    assert progress.maximum() == 3 and progress.value() == 3
    assert "Done" in find(window, QWidget, "stageLabel").text()

    outcome = watcher.finished[job_id]
    data = tmp_path / "data"
    assert outcome.video_path.parent == data / "outputs"
    assert OUTPUT_NAME.match(outcome.video_path.name), outcome.video_path.name
    assert outcome.seed == 4242 and outcome.num_frames == 9
    assert outcome.timings.total_s > 0
    assert outcome.peak_vram_bytes is None  # no GPU here

    # The clip plays, looped, in the embedded player: more frames arrive than the clip has.
    player = window.player
    assert player.objectName() == "videoPlayer"
    assert player.path == outcome.video_path
    assert player.player.loops() == QMediaPlayer.Loops.Infinite
    qtbot.waitUntil(lambda: len(sink_frames) > 12)
    assert player.is_playing()
    decoded = read_mp4_frames(outcome.video_path)
    shown = sink_frames[0]
    assert shown.shape == decoded[0].shape == (48, 80, 3)
    # What the player shows is one of the clip's frames (up to colour conversion).
    assert min(np.abs(shown.astype(int) - f.astype(int)).mean() for f in decoded) < 8

    # The history has the job, done, with its thumbnail and everything needed to run it again.
    history = find(window, QListView, "historyList")
    assert history.model().rowCount() == 1
    record = history.model().index(0).data(RecordRole)
    assert record.id == job_id and record.status is JobStatus.DONE
    assert record.request.prompt == "a red fox trots through fresh snow"
    assert record.request.seed == 4242 and record.video == outcome.video_path
    assert record.thumbnail is not None and record.thumbnail.is_file()
    assert record.thumbnail.parent == data / "thumbnails"
    assert record.model_dir == str(gui_tiny_model)
    assert record.timings["total_s"] > 0


def test_rerun_reproduces_the_same_frames(qtbot, open_window, gui_tiny_model):
    window = open_window(model=gui_tiny_model)
    wait_ready(qtbot, window)
    fill_small(window, prompt="waves crash on black rocks", seed=987654321)
    watcher = JobWatcher(window)
    first = start_and_wait(qtbot, window, watcher)
    assert first in watcher.finished, watcher.failed

    history = find(window, QListView, "historyList")
    history.setCurrentIndex(history.model().index(0))
    rerun = find(window, QPushButton, "rerunButton")
    assert rerun.isEnabled()
    second = start_and_wait(qtbot, window, watcher, lambda: qtbot.mouseClick(rerun, Qt.MouseButton.LeftButton))
    assert second in watcher.finished, watcher.failed

    a, b = watcher.finished[first], watcher.finished[second]
    assert a.seed == b.seed == 987654321
    assert a.video_path != b.video_path  # never overwritten
    assert np.array_equal(read_mp4_frames(a.video_path), read_mp4_frames(b.video_path))
    assert window.store.get(second).request == window.store.get(first).request

    # "New seed" runs the same settings with another seed: another clip.
    history.setCurrentIndex(history.model().index(history.model().row_of(first)))
    new_seed = find(window, QPushButton, "rerunNewSeedButton")
    third = start_and_wait(qtbot, window, watcher, lambda: qtbot.mouseClick(new_seed, Qt.MouseButton.LeftButton))
    c = watcher.finished[third]
    assert c.seed != a.seed
    assert not np.array_equal(read_mp4_frames(a.video_path), read_mp4_frames(c.video_path))
    assert history.model().rowCount() == 3


def test_cancel_stops_within_one_step(qtbot, open_window, gui_tiny_model, tmp_path):
    window = open_window(model=gui_tiny_model)
    wait_ready(qtbot, window)
    fill_small(window, prompt="a slow sunrise", steps=400)
    watcher = JobWatcher(window)
    # Steps as the worker's thread finishes them (not as the GUI thread hears of them, which may lag).
    worker_steps: list[int] = []
    window.controller._host.worker.stepped.connect(
        lambda _j, step, *_: worker_steps.append(step), Qt.ConnectionType.DirectConnection
    )
    qtbot.mouseClick(find(window, QPushButton, "generateButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(watcher.steps) >= 2, timeout=60_000)
    cancel = find(window, QPushButton, "cancelButton")
    assert cancel.isEnabled()
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)  # sets the job's cancel token before it returns
    done_at_cancel = len(worker_steps)
    job_id = watcher.steps[0][0]
    watcher.wait(qtbot, job_id)

    assert watcher.cancelled == [job_id]
    after_cancel = worker_steps[done_at_cancel:]
    assert len(after_cancel) <= 1, after_cancel  # at most the step that was already running
    assert worker_steps[-1] < 400
    assert window.store.get(job_id).status is JobStatus.CANCELLED
    assert outputs_of(tmp_path / "data") == []  # nothing written, not even a partial file
    assert find(window, QProgressBar, "progressBar").format() == "Cancelled"
    assert "Cancelled" in find(window, QWidget, "stageLabel").text()
    assert not cancel.isEnabled()

    # The app stays usable: the next job runs to the end.
    fill_small(window, prompt="a quick one", steps=2)
    done = start_and_wait(qtbot, window, watcher)
    assert done in watcher.finished


def test_closing_during_a_job_asks_and_can_cancel_it_and_exit_cleanly(qtbot, open_window, gui_tiny_model, tmp_path):
    data = tmp_path / "data"
    window = open_window(data_dir=data, model=gui_tiny_model)
    wait_ready(qtbot, window)
    fill_small(window, prompt="a long take of a city at night", steps=400)
    watcher = JobWatcher(window)
    qtbot.mouseClick(find(window, QPushButton, "generateButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(watcher.steps) >= 1, timeout=60_000)
    job_id = watcher.steps[0][0]

    window.close()  # asks first; this test takes the non-default answer
    qtbot.waitUntil(lambda: window._close_dialog is not None and window._close_dialog.isVisible())
    assert window.isVisible()
    qtbot.mouseClick(find(window, QPushButton, "closeCancelJobsButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window._shut_down)
    assert not window.isVisible()
    assert not window.controller._host.worker_thread.isRunning()
    assert not window.monitor.isRunning()
    assert watcher.cancelled == [job_id]
    assert outputs_of(data) == []
    assert not (data / ".instance.lock").exists()
    assert gc.isenabled()  # the GUI-thread collector handed collection back with the last window
    with HistoryStore(data / "history.sqlite3") as store:
        assert store.get(job_id).status is JobStatus.CANCELLED


def test_history_survives_a_restart(qtbot, open_window, gui_tiny_model, tmp_path):
    data = tmp_path / "portable"
    first = open_window(data_dir=data, model=gui_tiny_model)
    wait_ready(qtbot, first)
    fill_small(first, prompt="a lighthouse at dusk", seed=77)
    find(first, QCheckBox, "vaeTilingCheck").setChecked(True)
    watcher = JobWatcher(first)
    done_id = start_and_wait(qtbot, first, watcher)
    assert done_id in watcher.finished
    video = watcher.finished[done_id].video_path
    # A job the app was running when it "crashed": it comes back waiting in the queue, paused.
    crashed = first.store.add(
        GenerationRequest(prompt="never finished", seed=5), str(gui_tiny_model), JobStatus.RUNNING
    )
    first.resize(1234, 777)
    first.close()
    qtbot.waitUntil(lambda: first._shut_down)

    second = open_window(data_dir=data)  # no --model: the folder is remembered
    history = find(second, QListView, "historyList")
    records = [history.model().index(r).data(RecordRole) for r in range(history.model().rowCount())]
    assert [r.id for r in records] == [crashed.id, done_id]  # newest first
    assert records[0].status is JobStatus.QUEUED
    assert second.controller.paused and second.controller.waiting_jobs == [crashed.id]
    assert find(second, QListView, "queueList").model().rowCount() == 1
    assert records[1].status is JobStatus.DONE and records[1].video == video
    assert records[1].thumbnail is not None and records[1].thumbnail.is_file()

    # The form, the options and the window come back as they were left.
    assert find(second, QPlainTextEdit, "promptEdit").toPlainText() == "a lighthouse at dusk"
    assert second.parameter_form.parameters().seed == 77 and second.parameter_form.seed_locked
    assert second.parameter_form.parameters().width == 80
    assert find(second, QCheckBox, "vaeTilingCheck").isChecked()
    assert find(second, QLineEdit, "modelPathEdit").text() == str(gui_tiny_model)
    # Geometry is restored (the offscreen screen is 800 px wide, so only the height survives unclamped).
    assert Settings.load(data / "settings.json").window_geometry
    assert abs(second.height() - 777) <= 10

    # Play the old clip from the history.
    history.setCurrentIndex(history.model().index(1))
    qtbot.mouseClick(find(second, QPushButton, "historyPlayButton"), Qt.MouseButton.LeftButton)
    assert second.player.path == video
    qtbot.waitUntil(second.player.is_playing)


def test_gui_thread_keeps_running_during_a_job(qtbot, open_window, gui_tiny_model):
    """The GUI thread's event loop runs while the worker denoises: a timer on it fires between the job's first
    and last step. (How long it may go without running is measured by bench/gui_gaps.py, not asserted here.)"""
    window = open_window(model=gui_tiny_model)
    wait_ready(qtbot, window)
    fill_small(window, prompt="a hummingbird hovers by a flower", steps=8, num_frames=13)
    watcher = JobWatcher(window)
    ticks = [0]
    ticks_at_step: list[int] = []  # read on the worker's thread as each step ends
    window.controller._host.worker.stepped.connect(
        lambda *_: ticks_at_step.append(ticks[0]), Qt.ConnectionType.DirectConnection
    )
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    timer.start()
    job_id = start_and_wait(qtbot, window, watcher)  # loading, encoding, steps, decoding, saving, thumbnail
    timer.stop()
    assert job_id in watcher.finished
    assert len(ticks_at_step) == 8
    assert ticks_at_step[-1] > ticks_at_step[0]  # the timer fired while the worker was between steps 1 and 8


def test_generate_while_busy_queues_the_next_job(qtbot, open_window, gui_tiny_model):
    window = open_window(model=gui_tiny_model)
    wait_ready(qtbot, window)
    watcher = JobWatcher(window)
    fill_small(window, prompt="first in line", steps=40)
    generate = find(window, QPushButton, "generateButton")
    qtbot.mouseClick(generate, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(watcher.steps) >= 1, timeout=60_000)
    assert generate.text() == "Add to queue"
    fill_small(window, prompt="second in line", steps=2)
    qtbot.mouseClick(generate, Qt.MouseButton.LeftButton)
    first, second = sorted(r.id for r in window.store.list_jobs())
    assert window.store.get(second).status is JobStatus.QUEUED
    assert "1 more queued" in find(window, QWidget, "stageLabel").text()

    # Cancel stops the running job only; the queued one runs next.
    qtbot.mouseClick(find(window, QPushButton, "cancelButton"), Qt.MouseButton.LeftButton)
    watcher.wait(qtbot, first)
    watcher.wait(qtbot, second)
    assert watcher.cancelled == [first]
    assert second in watcher.finished
    assert generate.text() == "Generate"
