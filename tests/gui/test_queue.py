"""The job queue: its model (order, moves, drag and drop), the queue list in the real window (batch of seeds,
one job per line, reorder, remove, clear, the count everywhere), and three queued jobs that survive closing the
window and finish after resuming in a new window on the same data folder."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QLabel,
    QListView,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
)

from core.job.request import GenerationRequest
from core.store.history import HistoryStore, JobStatus
from gui.jobs.queue_model import QueueEntry, QueueModel
from tests.gui.helpers import JobWatcher, fill_small, find, wait_ready


def entries(*ids: int) -> list[QueueEntry]:
    return [QueueEntry(i, GenerationRequest(prompt=f"job {i}", seed=i), "m") for i in ids]


# ---- the model ------------------------------------------------------------------------------------------------
def test_model_moves_removes_and_reports(qtbot):
    model = QueueModel()
    orders: list[list[int]] = []
    changes: list[None] = []
    model.orderChanged.connect(orders.append)
    model.changed.connect(lambda: changes.append(None))
    model.append(entries(1, 2, 3, 4))
    assert model.job_ids == [1, 2, 3, 4] and model.rowCount() == 4
    assert model.move(4, 0) and model.job_ids == [4, 1, 2, 3]
    assert model.move(4, 2) and model.job_ids == [1, 2, 4, 3]
    assert model.move(1, 99) and model.job_ids == [2, 4, 3, 1]  # clamped to the end
    assert not model.move(2, 0)  # already there
    assert orders == [[4, 1, 2, 3], [1, 2, 4, 3], [2, 4, 3, 1]]
    assert model.index(0).data().startswith("1. job 2")  # rows show their place
    assert model.remove(4) is not None and model.job_ids == [2, 3, 1]
    assert model.index(1).data().startswith("2. job 3")
    assert model.take_first().job_id == 2  # type: ignore[union-attr]
    assert [e.job_id for e in model.clear()] == [3, 1] and len(model) == 0
    assert len(changes) >= 7


def test_model_drag_and_drop_moves_rows(qtbot):
    model = QueueModel()
    model.append(entries(1, 2, 3, 4))
    orders: list[list[int]] = []
    model.orderChanged.connect(orders.append)
    # What QListView does for an internal move: mimeData of the dragged rows, dropped between two rows.
    data = model.mimeData([model.index(0)])
    assert not model.dropMimeData(data, Qt.DropAction.MoveAction, 3, 0, QModelIndex())  # False: nothing to delete
    assert model.job_ids == [2, 3, 1, 4]
    data = model.mimeData([model.index(3)])
    model.dropMimeData(data, Qt.DropAction.MoveAction, 0, 0, QModelIndex())
    assert model.job_ids == [4, 2, 3, 1]
    assert orders == [[2, 3, 1, 4], [4, 2, 3, 1]]
    assert not model.flags(model.index(0)) & Qt.ItemFlag.ItemIsDropEnabled  # never onto a row


# ---- in the window, without running anything -----------------------------------------------------------------
def queue_view(window) -> QListView:
    return find(window, QListView, "queueList")


def waiting(window) -> list[int]:
    return window.controller.waiting_jobs


def test_batch_of_seeds_reorder_remove_and_clear(qtbot, open_window, gui_tiny_model):
    # No engine: jobs wait in the queue, so every edit can be checked without racing the worker.
    window = open_window(model=gui_tiny_model, start_engine=False)
    qtbot.waitUntil(lambda: not window.model_picker.checking)
    fill_small(window, prompt="a paper boat on a pond", seed=500)
    find(window, QSpinBox, "batchSpin").setValue(3)
    qtbot.mouseClick(find(window, QPushButton, "generateButton"), Qt.MouseButton.LeftButton)
    ids = waiting(window)
    assert len(ids) == 3 and queue_view(window).model().rowCount() == 3
    assert [window.store.get(i).request.seed for i in ids] == [500, 501, 502]  # type: ignore[union-attr]
    title = find(window, QLabel, "queueTitle")
    assert "3" in title.text()

    # Down, then up with the buttons; the history keeps the order.
    panel = window.queue_panel
    panel.select_job(ids[0])
    qtbot.mouseClick(find(window, QPushButton, "queueDownButton"), Qt.MouseButton.LeftButton)
    assert waiting(window) == [ids[1], ids[0], ids[2]]
    qtbot.mouseClick(find(window, QPushButton, "queueDownButton"), Qt.MouseButton.LeftButton)
    assert waiting(window) == [ids[1], ids[2], ids[0]]
    assert not find(window, QPushButton, "queueDownButton").isEnabled()  # it is last
    qtbot.mouseClick(find(window, QPushButton, "queueUpButton"), Qt.MouseButton.LeftButton)
    assert waiting(window) == [ids[1], ids[0], ids[2]]
    assert [r.id for r in window.store.queued_jobs()] == waiting(window)

    # Remove the selected one: recorded as cancelled, and every count follows.
    qtbot.mouseClick(find(window, QPushButton, "queueRemoveButton"), Qt.MouseButton.LeftButton)
    assert waiting(window) == [ids[1], ids[2]]
    assert window.store.get(ids[0]).status is JobStatus.CANCELLED  # type: ignore[union-attr]
    assert "2" in title.text() and "3" not in title.text()
    assert "2 more queued" in find(window, QLabel, "stageLabel").text()

    # The Delete key in the list removes the selected job too.
    panel.select_job(ids[2])
    qtbot.keyClick(queue_view(window), Qt.Key.Key_Delete)
    assert waiting(window) == [ids[1]]

    # Pause and resume: with no engine nothing runs either way, but the buttons and the model follow.
    qtbot.mouseClick(find(window, QPushButton, "pauseQueueButton"), Qt.MouseButton.LeftButton)
    assert window.controller.paused and find(window, QPushButton, "resumeQueueButton").isVisible()
    assert "waiting (paused)" in find(window, QLabel, "stageLabel").text()
    qtbot.mouseClick(find(window, QPushButton, "resumeQueueButton"), Qt.MouseButton.LeftButton)
    assert not window.controller.paused and find(window, QPushButton, "pauseQueueButton").isVisible()

    # Clear takes the rest.
    qtbot.mouseClick(find(window, QPushButton, "queueClearButton"), Qt.MouseButton.LeftButton)
    assert waiting(window) == [] and queue_view(window).model().rowCount() == 0
    assert window.store.queued_jobs() == []
    assert "queued" not in find(window, QLabel, "stageLabel").text()
    assert find(window, QPushButton, "generateButton").text() == "Generate"


def test_one_job_per_prompt_line(qtbot, open_window, gui_tiny_model):
    window = open_window(model=gui_tiny_model, start_engine=False)
    qtbot.waitUntil(lambda: not window.model_picker.checking)
    fill_small(window, prompt="a red kite\n\n  a blue kite  \n", seed=7)
    find(window, QCheckBox, "promptPerLineCheck").setChecked(True)
    find(window, QSpinBox, "batchSpin").setValue(2)
    window.generate()
    jobs = [window.store.get(i) for i in waiting(window)]
    assert [(j.request.prompt, j.request.seed) for j in jobs] == [  # type: ignore[union-attr]
        ("a red kite", 7),
        ("a red kite", 8),
        ("a blue kite", 7),
        ("a blue kite", 8),
    ]


def test_deleting_a_queued_job_from_the_history_updates_the_queue(qtbot, open_window, gui_tiny_model, monkeypatch):
    import gui.jobs.record_actions

    window = open_window(model=gui_tiny_model, start_engine=False)
    qtbot.waitUntil(lambda: not window.model_picker.checking)
    fill_small(window, prompt="a lantern in fog", seed=3)
    find(window, QSpinBox, "batchSpin").setValue(2)
    window.generate()
    first, second = waiting(window)
    assert "2 more queued" in find(window, QLabel, "stageLabel").text()
    monkeypatch.setattr(gui.jobs.record_actions, "confirm", lambda *a, **k: True)
    assert window.delete_record(window.store.get(first))  # type: ignore[arg-type]
    assert waiting(window) == [second] and window.store.get(first) is None
    assert "1 more queued" in find(window, QLabel, "stageLabel").text()
    assert "1" in find(window, QLabel, "queueTitle").text()


# ---- three jobs survive closing the window ---------------------------------------------------------------------
def visible_message_boxes() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def test_queued_jobs_survive_closing_and_finish_after_resuming(qtbot, open_window, gui_tiny_model, tmp_path: Path):
    data = tmp_path / "data"
    first = open_window(data_dir=data, model=gui_tiny_model)
    wait_ready(qtbot, first)
    fill_small(first, prompt="a tram crossing a bridge", seed=40, steps=60)
    find(first, QSpinBox, "batchSpin").setValue(3)
    watcher = JobWatcher(first)
    qtbot.mouseClick(find(first, QPushButton, "generateButton"), Qt.MouseButton.LeftButton)
    ids = sorted(r.id for r in first.store.list_jobs())
    assert len(ids) == 3
    qtbot.waitUntil(lambda: len(watcher.steps) >= 2, timeout=60_000)
    assert first.controller.running_job == ids[0] and waiting(first) == ids[1:]
    stage = find(first, QLabel, "stageLabel").text()
    assert "2 more queued" in stage and "queue about" in stage  # jobs left and the queue's time left
    current = find(first, QLabel, "queueCurrentLabel")
    assert current.isVisible() and "a tram crossing a bridge (seed 40)" in current.text()

    # Closing asks; its default answer closes and keeps the jobs.
    first.close()
    qtbot.waitUntil(lambda: first._close_dialog is not None and first._close_dialog.isVisible())
    dialog = first._close_dialog
    assert dialog.defaultButton().objectName() == "closeKeepButton"
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: first._shut_down)
    assert not watcher.finished and not watcher.cancelled  # nothing ended: the running job was suspended
    with HistoryStore(data / "history.sqlite3") as store:
        kept = store.queued_jobs()
        assert [r.id for r in kept] == ids  # the running one first, then the others in order
        assert all(r.status is JobStatus.QUEUED for r in kept)
        assert [r.request.seed for r in kept] == [40, 41, 42]

    # A new window lists them, paused, without a dialog; Resume runs them all.
    second = open_window(data_dir=data)
    assert visible_message_boxes() == [] and second.error_dialog is None
    assert "3 job(s) from the last session" in second.statusBar().currentMessage()
    assert queue_view(second).model().rowCount() == 3 and second.controller.paused
    # The running one was stopped at a step and kept a journal snapshot there: it continues from that step.
    reached = second.controller.queue.entries[0].resume_step
    assert reached >= 2 and f"interrupted at step {reached} of 60" in queue_view(second).model().data(
        queue_view(second).model().index(0, 0)
    )
    resume = find(second, QPushButton, "resumeQueueButton")
    assert resume.isVisible() and resume.isEnabled()
    assert "paused" in find(second, QLabel, "queueTitle").text()
    wait_ready(qtbot, second)
    assert second.controller.running_job is None  # still paused once the engine is up
    second_watcher = JobWatcher(second)
    qtbot.mouseClick(resume, Qt.MouseButton.LeftButton)
    for job_id in ids:
        second_watcher.wait(qtbot, job_id, timeout=120_000)
    assert sorted(second_watcher.finished) == ids
    assert [second_watcher.finished[i].seed for i in ids] == [40, 41, 42]
    first_steps = [(step, total) for job, step, total in second_watcher.steps if job == ids[0]]
    assert first_steps[0] == (reached + 1, 60) and first_steps[-1] == (60, 60)  # continued, not restarted
    assert queue_view(second).model().rowCount() == 0 and not resume.isVisible()
    assert all(second.store.get(i).status is JobStatus.DONE for i in ids)  # type: ignore[union-attr]
    assert find(second, QPlainTextEdit, "promptEdit").toPlainText() == "a tram crossing a bridge"
