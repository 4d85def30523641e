"""Finishing from the window: Upscale… and Interpolate… on a finished history entry queue a finish job that runs
from the queue (its time estimate and frames in the stage line) and adds a new history entry linked to its source;
a cancelled finish job leaves nothing under the output's names. The networks are random-weight ones saved as
their projects release them (tests/test_finish.py's `weights`); interpolation uses ffmpeg's minterpolate."""

from __future__ import annotations

import time
from pathlib import Path

from core.finish.job import clip_shape
from core.finish.spec import FinishSpec
from core.job.request import GenerationRequest, GenerationResult, StageTimings
from core.store.history import JobStatus
from gui.dialogs.finish_dialog import FinishDialog
from gui.jobs.history_panel import variant_text
from gui.jobs.queue_model import QueueEntry, describe
from tests.gui.helpers import SMALL, JobWatcher, fill_small, wait_ready
from tests.test_finish import _clip, _smooth_frames, weights  # noqa: F401  (weights: the shared fixture)

FRAMES = 5  # the source clip: 64×48 at 24 fps


def finished_entry(window, frames: int = FRAMES) -> int:
    """A finished history entry whose clip is a small real video in the outputs folder."""
    outputs = window.paths.outputs
    outputs.mkdir(parents=True, exist_ok=True)
    clip = _clip(outputs / "source.mp4", _smooth_frames(frames))
    request = GenerationRequest(prompt="a source clip", width=64, height=48, num_frames=frames, fps=24, seed=7)
    record = window.store.add(request, "", JobStatus.QUEUED)
    result = GenerationResult(request, clip, None, None, frames, StageTimings(saving_s=1.0), None, "cpu")
    window.store.mark_done(record.id, result)
    window.history_panel.refresh()
    return record.id


def open_dialog(window, source_id: int, kind: str) -> FinishDialog:
    assert window.history_panel.select(source_id)
    action = window.history_panel.upscale_action if kind == "upscale" else window.history_panel.interpolate_action
    assert action.isEnabled()
    action.trigger()
    dialog = window.records.finish_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def queue_from(qtbot, window, dialog: FinishDialog) -> int:
    before = {r.id for r in window.store.list_jobs()}
    dialog.accept()
    qtbot.waitUntil(lambda: len(window.store.list_jobs()) > len(before))
    return next(r.id for r in window.store.list_jobs() if r.id not in before)


def stage_lines(window) -> list[str]:
    """Every stage line shown while a finish job runs (read after the progress view's own slot has set it)."""
    lines: list[str] = []
    window.controller.finishProgressed.connect(lambda *_a: lines.append(window.stage_label.text()))
    return lines


def test_upscale_on_a_finished_entry_adds_a_linked_entry_twice_the_size(qtbot, open_window, tmp_path, weights):  # noqa: F811
    window = open_window(data_dir=tmp_path / "data")
    source_id = finished_entry(window)
    watcher = JobWatcher(window)
    lines = stage_lines(window)

    dialog = open_dialog(window, source_id, "upscale")
    assert "not downloaded yet" in dialog.note_label.text()  # the default model: says so, and that it downloads
    dialog.model_combo.setCurrentIndex(dialog.model_combo.findData("file"))
    dialog.model_file_edit.setText(str(tmp_path / "missing.pth"))
    dialog.accept()  # a file that is not there: the dialog stays open and says why
    assert dialog.isVisible() and "does not exist" in dialog.problem_label.text()
    dialog.model_file_edit.setText(str(weights["compact-x2.pth"]))
    job_id = queue_from(qtbot, window, dialog)
    entry = QueueEntry(job_id, window.store.get(job_id).request, "")
    assert f"Finish #{source_id} → 2×" in describe(entry)

    watcher.wait(qtbot, job_id)
    assert job_id in watcher.finished, watcher.failed.get(job_id)
    record = window.store.get(job_id)
    assert record is not None and record.status is JobStatus.DONE and record.video is not None
    assert record.video.is_file() and record.video != window.store.get(source_id).video
    shape = clip_shape(record.video)
    assert (shape.width, shape.height, shape.frames) == (128, 96, FRAMES)
    assert record.request.finish_of == source_id and record.request.finish is not None
    assert variant_text(record) == f"#{source_id} → 2×"
    # The estimate (with where it comes from) and then the frames were in the stage line; it played when done.
    assert any("left (a rough default estimate" in line for line in lines), lines
    assert any("Upscaling  ·  frame" in line for line in lines), lines
    assert window.player.path == record.video

    # The next one learns its rate from this one.
    lines.clear()
    dialog = open_dialog(window, source_id, "upscale")
    dialog.model_combo.setCurrentIndex(dialog.model_combo.findData("file"))
    dialog.model_file_edit.setText(str(weights["compact-x2.pth"]))
    again = queue_from(qtbot, window, dialog)
    watcher.wait(qtbot, again)
    assert again in watcher.finished, watcher.failed.get(again)
    assert any("estimate from 1 past finish job" in line for line in lines), lines


def test_interpolate_with_ffmpeg_gives_2n_minus_1_frames(qtbot, open_window, tmp_path):
    window = open_window(data_dir=tmp_path / "data")
    source_id = finished_entry(window)
    watcher = JobWatcher(window)
    dialog = open_dialog(window, source_id, "interpolate")
    assert "not downloaded" in dialog.note_label.text()  # automatic: ffmpeg runs, and it says why
    dialog.method_combo.setCurrentIndex(dialog.method_combo.findData("ffmpeg"))
    assert "minterpolate" in dialog.note_label.text()
    job_id = queue_from(qtbot, window, dialog)
    watcher.wait(qtbot, job_id)
    assert job_id in watcher.finished, watcher.failed.get(job_id)
    record = window.store.get(job_id)
    assert record is not None and record.video is not None
    shape = clip_shape(record.video)
    assert shape.frames == 2 * FRAMES - 1 == record.frames_generated
    assert shape.fps == 48


def test_cancelling_a_running_finish_job_leaves_no_file(
    qtbot,
    open_window,
    tmp_path,
    weights,  # noqa: F811
    monkeypatch,
):
    import core.finish.clip
    from core.finish.upscale import upscale_frames

    def upscale_then_wait_for_cancel(frames, upscaler, scale, progress=None, cancel=None, tile=None):
        """The first frame, then a wait until the window's cancel lands: a busy machine must not let the job
        finish all its frames before the cancel arrives (no clock in the test)."""
        first = upscale_frames(frames[:1], upscaler, scale, progress, cancel, tile)
        assert cancel is not None
        for _ in range(6000):  # up to 60 s
            if cancel.cancelled:
                break
            time.sleep(0.01)
        cancel.raise_if_cancelled()
        return first

    monkeypatch.setattr(core.finish.clip, "upscale_frames", upscale_then_wait_for_cancel)
    window = open_window(data_dir=tmp_path / "data")
    source_id = finished_entry(window, frames=9)
    outputs_before = sorted(p.name for p in window.paths.outputs.iterdir())
    watcher = JobWatcher(window)

    def cancel_on_first_frame(job_id: int, stage: str, done: int, _total: int) -> None:
        if stage == "upscaling" and done >= 1:
            window.controller.cancel(job_id)

    window.controller.finishProgressed.connect(cancel_on_first_frame)
    dialog = open_dialog(window, source_id, "upscale")
    dialog.model_combo.setCurrentIndex(dialog.model_combo.findData("file"))
    dialog.model_file_edit.setText(str(weights["rrdb-x2.pth"]))
    job_id = queue_from(qtbot, window, dialog)
    watcher.wait(qtbot, job_id)
    assert job_id in watcher.cancelled, (watcher.finished.get(job_id), watcher.failed.get(job_id))
    assert window.store.get(job_id).status is JobStatus.CANCELLED
    assert sorted(p.name for p in window.paths.outputs.iterdir()) == outputs_before
    assert not list(Path(window.paths.outputs).glob(".*"))


def test_a_form_job_with_finish_upscale_ends_with_the_upscaled_clip(
    qtbot,
    open_window,
    gui_tiny_model,
    tmp_path,
    weights,  # noqa: F811
):
    window = open_window(data_dir=tmp_path / "data", model=gui_tiny_model)
    wait_ready(qtbot, window)
    fill_small(window)
    panel = window.form_column.finish_panel
    assert window.form.finish() is None  # off by default
    panel.upscale_check.setChecked(True)
    panel.model_edit.setText(str(weights["compact-x2.pth"]))
    panel.model_edit.editingFinished.emit()
    assert window.form.finish() == FinishSpec(upscale=2.0, upscale_model=str(weights["compact-x2.pth"]))
    watcher = JobWatcher(window)
    before = {r.id for r in window.store.list_jobs()}
    window.generate()
    qtbot.waitUntil(lambda: len(window.store.list_jobs()) > len(before))
    job_id = next(r.id for r in window.store.list_jobs() if r.id not in before)
    watcher.wait(qtbot, job_id)
    assert job_id in watcher.finished, watcher.failed.get(job_id)
    record = window.store.get(job_id)
    assert record is not None and record.video is not None and record.request.finish is not None
    assert variant_text(record) == "→ 2×"
    shape = clip_shape(record.video)
    assert (shape.width, shape.height) == (2 * SMALL["width"], 2 * SMALL["height"])
    # Only the finished clip (and its sidecar) is left: the generated one lived in a private folder, now gone.
    assert sorted(p.name for p in window.paths.outputs.iterdir()) == sorted(
        [record.video.name, record.video.with_suffix(".json").name]
    )
