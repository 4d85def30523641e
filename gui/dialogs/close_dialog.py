"""Closing the window while jobs run or wait: keep them for the next start (the default), cancel them, or stay."""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMessageBox, QWidget


class CloseChoice(str, Enum):
    KEEP = "keep"  # suspend: they wait in the queue, paused, at the next start
    CANCEL_JOBS = "cancel-jobs"
    STAY = "stay"


class CloseWithJobsDialog(QMessageBox):
    chosen = Signal(object)  # CloseChoice

    def __init__(self, jobs: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("closeWithJobsDialog")
        self.setIcon(QMessageBox.Icon.Question)
        self.setWindowTitle(self.tr("Close ContentV Studio"))
        self.setText(self.tr("%n job(s) are running or waiting.", "", jobs))
        self.setInformativeText(
            self.tr(
                "Kept jobs wait in the queue, paused, the next time the app starts; a running job continues from "
                "its last snapshot, with the same seed."
            )
        )
        self.keep_button = self.addButton(self.tr("Close and keep the jobs"), QMessageBox.ButtonRole.AcceptRole)
        self.keep_button.setObjectName("closeKeepButton")
        self.cancel_jobs_button = self.addButton(
            self.tr("Cancel the jobs and close"), QMessageBox.ButtonRole.DestructiveRole
        )
        self.cancel_jobs_button.setObjectName("closeCancelJobsButton")
        self.stay_button = self.addButton(self.tr("Don't close"), QMessageBox.ButtonRole.RejectRole)
        self.stay_button.setObjectName("closeStayButton")
        self.setDefaultButton(self.keep_button)
        self.setEscapeButton(self.stay_button)
        self.finished.connect(self._answered)

    def _answered(self, _result: int) -> None:
        clicked = self.clickedButton()
        if clicked is self.keep_button:
            self.chosen.emit(CloseChoice.KEEP)
        elif clicked is self.cancel_jobs_button:
            self.chosen.emit(CloseChoice.CANCEL_JOBS)
        else:
            self.chosen.emit(CloseChoice.STAY)
