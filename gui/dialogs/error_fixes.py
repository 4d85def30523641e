"""Errors shown in plain words, each with the one button that fixes it where there is one: decode again (a job
that failed after its last step), start over (a journal that cannot be resumed), lower-memory settings (out of
memory), another model folder, an automatic device choice."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from core.errors import StudioError
from core.job.request import MemoryOptions, ParallelOptions, Placement
from core.store.history import JobRecord
from gui.dialogs.error_dialogs import ErrorDialog
from gui.form.gpus_panel import GpusPanel
from gui.form.memory_advice import lower_memory_options
from gui.form.memory_panel import MemoryPanel
from gui.form.model_picker import ModelPicker
from gui.jobs.controller import JobController

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

StatusCallback = Callable[[str, int], None]  # a status-bar message and how long it stays (ms)
RecordAction = Callable[[JobRecord], object]


class ErrorPresenter(QObject):
    def __init__(
        self,
        window: QWidget,
        controller: JobController,
        memory_panel: MemoryPanel,
        model_picker: ModelPicker,
        status: StatusCallback,
        gpus_panel: GpusPanel | None = None,
    ) -> None:
        super().__init__(window)
        self.gpus_panel = gpus_panel
        self.window = window
        self.controller = controller
        self.memory_panel = memory_panel
        self.model_picker = model_picker
        self.status = status
        self.dialog: ErrorDialog | None = None  # the one open error dialog
        # The job actions behind two of the fixes (set by the window once its RecordActions exist).
        self.decode_again: RecordAction = lambda _r: None
        self.start_over: RecordAction = lambda _r: None

    def show(
        self,
        kind: str,
        message: str,
        advice: str = "",
        memory: MemoryOptions | None = None,
        record: JobRecord | None = None,
    ) -> ErrorDialog:
        """A dialog in plain words, with a button that applies the fix where there is one. For a job whose decode
        failed after its last step, the fix decodes its kept latents again (no denoising)."""
        if self.dialog is not None:
            self.dialog.close()
        fix_text = ""
        details = ""
        fix: Callable[[], None] | None = None
        reached = self.controller.journal_progress(record.id) if record is not None else None
        if record is not None and reached is not None and reached[0] >= reached[1] > 0:
            details = self.tr("Every denoising step was done and is kept: only the decode runs again.")
            fix_text = self.tr("Decode again with lower memory settings")

            def decode_again(r: JobRecord = record) -> None:
                self.decode_again(r)

            fix = decode_again
        elif kind == "resume" and record is not None:
            fix_text = self.tr("Start over")

            def start_over(r: JobRecord = record) -> None:
                self.start_over(r)

            fix = start_over
        elif kind == "out-of-memory":
            base = memory or self.memory_panel.options()
            suggestion = lower_memory_options(base, self.memory_panel.unavailable)
            if suggestion is not None:
                lower, changes = suggestion
                listed = self.tr(", ").join(changes)
                details = self.tr("Next settings to try: {changes}.").format(changes=listed)
                fix_text = self.tr("Use lower-memory settings")

                def apply_lower() -> None:
                    self.memory_panel.set_options(lower)
                    self.status(self.tr("Lower-memory settings applied: {changes}.").format(changes=listed), 8000)

                fix = apply_lower
            else:
                details = self.tr(
                    "These are already the lowest-memory settings: choose a smaller size or fewer frames."
                )
        elif kind == "model-folder":
            fix_text = self.tr("Choose another folder…")
            fix = self.model_picker.browse
        elif kind == "device":
            fix_text = self.tr("Choose automatically")
            fix = self._choose_device_automatically
        elif kind == "rank" and self.gpus_panel is not None and self.gpus_panel.available:
            fix_text = self.tr("Run on one GPU")
            fix = self._run_on_one_gpu

        dialog = ErrorDialog(kind, message, advice, fix_text, details, self.window)
        if fix is not None:
            dialog.fixRequested.connect(fix)
        dialog.finished.connect(lambda _r, d=dialog: self._closed(d))
        self.dialog = dialog
        dialog.open()
        return dialog

    def history_write_failed(self, exc: Exception, data_folder: Path) -> None:
        logger.exception("Recording the job failed", exc_info=exc)
        self.show(
            "internal",
            self.tr("The job could not be recorded in the history ({error}), so it was not started.").format(error=exc),
            self.tr("Check that the data folder {folder} is writable and the disk has free space.").format(
                folder=data_folder
            ),
        )

    def submitting(self, submit: Callable[[], _T], data_folder: Path) -> _T | None:
        """Run an action that queues jobs: a refusal (StudioError) gets its dialog, a history that cannot be
        written the one above; either way None is returned and nothing was queued."""
        try:
            return submit()
        except StudioError as exc:
            self.show(exc.kind, exc.message, exc.advice)
        except sqlite3.Error as exc:
            self.history_write_failed(exc, data_folder)
        return None

    def close(self) -> None:
        if self.dialog is not None:
            self.dialog.close()

    def _run_on_one_gpu(self) -> None:
        assert self.gpus_panel is not None
        self.gpus_panel.set_options(ParallelOptions())
        self.status(self.tr("The next jobs run on one GPU."), 8000)

    def _choose_device_automatically(self) -> None:
        options = self.memory_panel.options()
        placement = options.placement
        if placement.value in self.memory_panel.unavailable:
            placement = Placement.GPU
        self.memory_panel.set_options(dataclasses.replace(options, device="auto", dtype="auto", placement=placement))

    def _closed(self, dialog: ErrorDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()
