"""What a history entry offers: play it, load it into the form, run it again (same or new seed), make a draft final,
continue an interrupted job, start it over, decode it again, delete it with its files; and what several offer:
compare their clips side by side."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from core.errors import StudioError
from core.store.history import HistoryStore, JobRecord, JobStatus
from core.store.journal import discard_journal, history_job_id
from gui.dialogs.error_dialogs import confirm
from gui.dialogs.error_fixes import ErrorPresenter, StatusCallback
from gui.form.form_model import FormModel
from gui.form.model_picker import ModelPicker
from gui.jobs.controller import JobController
from gui.jobs.history_panel import HistoryPanel, compare_problem
from gui.player.clip_caption import clip_info
from gui.player.video_player import VideoPlayer
from gui.support.paths import DataPaths

if TYPE_CHECKING:
    from gui.dialogs.finish_dialog import FinishDialog
    from gui.player.compare_view import CompareView

logger = logging.getLogger(__name__)


class RecordActions(QObject):
    def __init__(
        self,
        window: QWidget,
        *,
        paths: DataPaths,
        store: HistoryStore,
        controller: JobController,
        form: FormModel,
        model_picker: ModelPicker,
        player: VideoPlayer,
        history: HistoryPanel,
        errors: ErrorPresenter,
        status: StatusCallback,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.paths = paths
        self.store = store
        self.controller = controller
        self.form = form
        self.model_picker = model_picker
        self.player = player
        self.history = history
        self.errors = errors
        self.status = status
        self.compare_view: CompareView | None = None  # one comparison at a time: its frames take memory
        self.finish_dialog: FinishDialog | None = None  # the open Upscale…/Interpolate… dialog
        errors.decode_again = self.decode_again
        errors.start_over = self.start_over

    def continue_job(self, record: JobRecord) -> bool:
        """Queue an interrupted, cancelled or failed job again: it continues from its journal's last snapshot."""
        if not self._queue_again(self.controller.continue_job, record):
            return False
        self.status(self.tr("The job continues where it stopped."), 6000)
        return True

    def start_over(self, record: JobRecord) -> bool:
        if not self._queue_again(lambda r: self.controller.start_over(r.id), record):
            return False
        self.status(self.tr("The job starts over from the beginning (same seed)."), 6000)
        return True

    def decode_again(self, record: JobRecord) -> bool:
        if not self._queue_again(self.controller.decode_again, record):
            return False
        self.status(self.tr("Decoding again with lower memory settings; no step runs again."), 6000)
        return True

    def _queue_again(self, action: Callable[[JobRecord], bool], record: JobRecord) -> bool:
        try:
            return action(record)
        except sqlite3.Error as exc:
            self.errors.show("internal", self.tr("The history could not be updated: {error}").format(error=exc))
            return False

    def load(self, record: JobRecord) -> None:
        self.form.apply_request(record.request, lock_seed=True)
        if record.model_dir and record.model_dir != self.model_picker.path():
            self.model_picker.set_path(record.model_dir)
        self.status(self.tr("Loaded the job into the form (seed locked: Generate makes the same clip)."), 6000)

    def rerun(self, record: JobRecord, new_seed: bool = False) -> JobRecord | None:
        return self.errors.submitting(lambda: self.controller.rerun(record, new_seed=new_seed), self.paths.root)

    def final(self, record: JobRecord) -> JobRecord | None:
        """Queue a finished draft again at full quality: the draft's prompt, size, frames, seed and other settings
        with the form's steps and step cache (not the draft's), so the final looks like the draft; linked to it."""
        if not record.request.draft or record.status is not JobStatus.DONE:
            self.status(self.tr("Only a finished draft can be made final."), 5000)
            return None
        steps = self.form.get("steps")
        request = record.request.as_final(record.id, steps, self.form.speed().step_cache)
        final = self.errors.submitting(lambda: self.controller.submit(request, record.model_dir), self.paths.root)
        if final is None:
            return None
        self.status(
            self.tr("Final of draft #{job} queued: {steps} steps, seed {seed}.").format(
                job=record.id, steps=steps, seed=request.seed
            ),
            6000,
        )
        return final

    def finish(self, record: JobRecord, kind: str) -> FinishDialog | None:
        """Upscale… or Interpolate… a finished entry's clip (`kind`: "upscale" or "interpolate"): a dialog asks
        how, and OK queues a finish job whose clip becomes a new history entry linked to this one."""
        from gui.dialogs.finish_dialog import FinishDialog

        video = record.video
        if record.status is not JobStatus.DONE or video is None or not video.is_file():
            self.status(self.tr("This job has no clip to finish."), 5000)
            return None
        try:
            from core.finish.clip import source_fps

            fps = float(source_fps(video))
        except StudioError as exc:
            self.errors.show(exc.kind, exc.message, exc.advice)
            return None
        dialog = FinishDialog(kind, video, fps, self.window)
        dialog.accepted.connect(lambda: self._queue_finish(record, video, dialog))
        dialog.finished.connect(lambda _r: self._finish_dialog_closed(dialog))
        self.finish_dialog = dialog
        dialog.open()
        return dialog

    def finish_clip(self, path: str, kind: str) -> FinishDialog | None:
        """Upscale… or Interpolate… the played clip: the history entry it belongs to."""
        target = Path(path)
        record = next((r for r in self.store.list_jobs() if r.video is not None and r.video == target), None)
        if record is None:
            self.status(self.tr("This clip is not in the history; open it from there."), 5000)
            return None
        return self.finish(record, kind)

    def _finish_dialog_closed(self, dialog: FinishDialog) -> None:
        if self.finish_dialog is dialog:
            self.finish_dialog = None
        dialog.deleteLater()

    def _queue_finish(self, record: JobRecord, video: Path, dialog: FinishDialog) -> JobRecord | None:
        request = dataclasses.replace(
            record.request,
            finish=dialog.spec(),
            finish_source=str(video),
            finish_of=record.id,
            draft=False,
            final_of=None,
        )
        queued = self.errors.submitting(lambda: self.controller.submit(request, record.model_dir), self.paths.root)
        if queued is None:
            return None
        what = dialog.spec().short()
        self.status(self.tr("Finishing #{job} queued: {what}.").format(job=record.id, what=what), 6000)
        return queued

    def play(self, record: JobRecord) -> None:
        video = record.video
        if record.status is not JobStatus.DONE or video is None or not video.is_file():
            self.status(self.tr("This job has no clip to play."), 5000)
            return
        self.player.load(video, clip_info(record.request, record.frames_generated, record.total_s))

    def compare(self, records: list[JobRecord]) -> CompareView | None:
        """Open the compare window for 2 to 4 finished clips (it replaces an open one); says why not otherwise.
        A is the clip made first: a batch's seeds read seed, seed + 1, … from left to right."""
        records = sorted(records, key=lambda record: record.id)
        problem = compare_problem(records)
        if problem:
            self.status(problem, 8000)
            return None
        from gui.player.compare_view import CompareView  # pulls in numpy: only once a comparison is asked for

        self.close_compare()
        view = CompareView(records, self.window)
        view.closed.connect(lambda: self._compare_closed(view))
        self.compare_view = view
        view.show()
        view.raise_()
        self.status(self.tr("Comparing {count} clips: decoding them first…").format(count=len(records)), 5000)
        return view

    def compare_selected(self) -> CompareView | None:
        return self.compare(self.history.selected_records())

    def close_compare(self) -> None:
        if self.compare_view is not None:
            self.compare_view.close()  # frees its frames; `closed` forgets it
            self.compare_view = None

    def _compare_closed(self, view: CompareView) -> None:
        if self.compare_view is view:
            self.compare_view = None

    def delete(self, record: JobRecord) -> bool:
        if record.status is JobStatus.RUNNING:
            self.status(self.tr("Cancel the running job before deleting it."), 5000)
            return False
        video = record.video
        has_file = video is not None and video.is_file()
        question = (
            self.tr("Delete this job from the history and its video file?")
            if has_file
            else self.tr("Delete this job from the history?")
        )
        detail = (
            self.tr("{file}\n\nThe file is deleted, not moved to the trash.").format(file=video) if has_file else ""
        )
        if not confirm(self.window, self.tr("Delete job"), question, detail, self.tr("Delete")):
            return False
        if record.status is JobStatus.QUEUED:
            self.controller.cancel(record.id)
        if video is not None and self.player.path == video:
            self.player.clear()
        self.store.delete(record.id)
        discard_journal(history_job_id(record.id))  # what an interrupted job kept goes with it
        for path in (video, video.with_suffix(".json") if video else None, record.thumbnail):
            if path is not None:
                try:
                    path.unlink(missing_ok=True)
                except OSError as exc:
                    logger.warning("Could not delete %s: %s", path, exc)
        self.history.refresh()
        self.status(self.tr("Deleted."), 3000)
        return True

    def rerun_selected(self, new_seed: bool) -> None:
        record = self._one_selected()
        if record is not None:
            self.rerun(record, new_seed)

    def final_selected(self) -> None:
        record = self._one_selected()
        if record is not None:
            self.final(record)

    def load_selected(self) -> None:
        record = self._one_selected()
        if record is not None:
            self.load(record)

    def _one_selected(self) -> JobRecord | None:
        record = self.history.selected_record()
        count = len(self.history.selected_records())
        if record is None and count > 1:
            self.status(self.tr("Select one job for this; {count} are selected.").format(count=count), 5000)
        return record
