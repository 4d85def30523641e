""" "Get ContentV-8B": download the model from the Hugging Face Hub into a folder the user picks, with the total
size and the free disk space shown before starting, progress while it runs, pause (resumable later, even after
restarting the app), and the finished folder checked before it is handed to the model picker."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.errors import JobCancelled, StudioError
from core.model.checkpoint import DOWNLOAD_MARKER, ModelFolderReport
from core.model.download import (
    DEFAULT_REPO,
    DEFAULT_REVISION,
    DownloadPlan,
    DownloadProgress,
    bytes_present,
    check_space,
    check_target,
    download_model,
    fetch_plan,
)
from gui.support.formatting import format_bytes
from gui.support.i18n import error_text
from gui.widgets.dialog_buttons import action_row
from gui.widgets.progress_row import ProgressRow

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.1  # at most ten progress updates a second reach the GUI thread


class _Relay(QObject):
    # Emitted from worker threads; Qt queues each to the dialog on the GUI thread.
    planned = Signal(object, object)  # DownloadPlan | None, error message | None
    progressed = Signal(object)  # DownloadProgress
    finished = Signal(object)  # ModelFolderReport
    failed = Signal(str, bool)  # message, paused


class DownloadDialog(QDialog):
    modelReady = Signal(str)  # the checked model folder

    def __init__(self, default_folder: Path, endpoint: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("downloadDialog")
        self.setWindowTitle(self.tr("Get ContentV-8B"))
        self._endpoint = endpoint
        self._plan: DownloadPlan | None = None
        self._planning = False
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._last_emit = 0.0
        self.report: ModelFolderReport | None = None
        self._relay = _Relay(self)
        self._relay.planned.connect(self._on_planned)
        self._relay.progressed.connect(self._on_progress)
        self._relay.finished.connect(self._on_finished)
        self._relay.failed.connect(self._on_failed)

        intro = QLabel(
            self.tr(
                "Downloads ByteDance's ContentV-8B (about 27 GB) from the Hugging Face Hub. A paused or broken "
                "download resumes where it stopped when you start it again with the same folder."
            )
        )
        intro.setWordWrap(True)
        self.repo_edit = QLineEdit(DEFAULT_REPO)
        self.repo_edit.setObjectName("downloadRepoEdit")
        self.revision_edit = QLineEdit(DEFAULT_REVISION)
        self.revision_edit.setObjectName("downloadRevisionEdit")
        self.folder_edit = QLineEdit(str(default_folder))
        self.folder_edit.setObjectName("downloadFolderEdit")
        self.browse_button = QPushButton(self.tr("Choose…"))
        self.browse_button.setObjectName("downloadBrowseButton")
        self.browse_button.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.browse_button)
        form = QFormLayout()
        form.addRow(self.tr("Model:"), self.repo_edit)
        form.addRow(self.tr("Revision:"), self.revision_edit)
        form.addRow(self.tr("Into folder:"), folder_row)

        self.size_label = QLabel()
        self.size_label.setObjectName("downloadSizeLabel")
        self.size_label.setWordWrap(True)
        self.progress = ProgressRow("downloadProgress", "downloadStatusLabel")
        self.progress_bar, self.status_label = self.progress.bar, self.progress.label

        buttons, self.start_button, self.close_button = action_row(
            self.tr("Download"), "downloadStartButton", self.start, "downloadCloseButton", self._pause_or_close
        )

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.size_label)
        layout.addWidget(self.progress)
        layout.addLayout(buttons)
        self.repo_edit.editingFinished.connect(self.refresh_plan)
        self.revision_edit.editingFinished.connect(self.refresh_plan)
        self.folder_edit.editingFinished.connect(self._show_space)
        self.resize(560, self.sizeHint().height())
        self._update_buttons()
        self.refresh_plan()

    # ---- state ------------------------------------------------------------------------------------------------
    @property
    def plan(self) -> DownloadPlan | None:
        return self._plan

    @property
    def planning(self) -> bool:
        return self._planning

    @property
    def running(self) -> bool:
        return self._thread is not None

    def folder(self) -> Path:
        return Path(self.folder_edit.text().strip()).expanduser()

    def wait(self, timeout_s: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout_s)

    # ---- size and space ---------------------------------------------------------------------------------------
    def refresh_plan(self) -> None:
        """Ask the hub for the file list and sizes (a background thread: it is a network call)."""
        repo, revision = self.repo_edit.text().strip(), self.revision_edit.text().strip() or DEFAULT_REVISION
        if self._planning or self.running:
            return
        if self._plan is not None and (self._plan.repo, self._plan.revision) == (repo, revision):
            return
        self._plan = None
        self._planning = True
        self.size_label.setText(self.tr("Asking the hub for the size of {0}…").format(repo))
        self._update_buttons()

        def work() -> None:
            try:
                self._relay.planned.emit(fetch_plan(repo, revision, endpoint=self._endpoint), None)
            except StudioError as exc:
                self._relay.planned.emit(None, error_text(exc))
            except Exception as exc:
                logger.exception("Listing %s failed", repo)
                self._relay.planned.emit(None, f"{type(exc).__name__}: {exc}")

        threading.Thread(target=work, name="download-plan", daemon=True).start()

    def _on_planned(self, plan: DownloadPlan | None, error: str | None) -> None:
        self._planning = False
        self._plan = plan
        if plan is None:
            self.size_label.setText(self.tr("The model's size could not be read: {0}").format(error))
        self._show_space()

    def _show_space(self) -> None:
        plan = self._plan
        if plan is None:
            self._update_buttons()
            return
        folder = self.folder()
        text = self.tr("{0} in {1} files").format(format_bytes(plan.total_bytes), len(plan.files))
        try:
            check_target(folder)
            space = check_space(plan, folder)
        except StudioError as exc:
            self.size_label.setText(f"{text}. {error_text(exc)}")
            self._update_buttons()
            return
        except OSError as exc:
            self.size_label.setText(f"{text}. {exc}")
            self._update_buttons()
            return
        still = plan.total_bytes - bytes_present(plan, folder)
        text += self.tr(" · {0} free on this disk").format(format_bytes(space.free_bytes))
        if (folder / DOWNLOAD_MARKER).exists():
            text += self.tr(" · an interrupted download is here and will be resumed ({0} still to fetch)").format(
                format_bytes(still)
            )
        if not space.enough:
            text += self.tr(" — not enough space: {0} are needed.").format(format_bytes(space.needed_bytes))
        self.size_label.setText(text)
        self._update_buttons(space.enough)

    def _update_buttons(self, space_ok: bool = True) -> None:
        idle = not self.running
        self.start_button.setEnabled(idle and self._plan is not None and space_ok and not self._planning)
        self.start_button.setText(
            self.tr("Resume") if (self.folder() / DOWNLOAD_MARKER).exists() else self.tr("Download")
        )
        for widget in (self.repo_edit, self.revision_edit, self.folder_edit, self.browse_button):
            widget.setEnabled(idle)
        self.close_button.setText(self.tr("Pause") if self.running else self.tr("Close"))

    def _browse(self) -> None:
        start = str(self.folder().parent if self.folder().parent.exists() else Path.home())
        chosen = QFileDialog.getExistingDirectory(self, self.tr("Folder for ContentV-8B"), start)
        if chosen:
            self.folder_edit.setText(chosen)
            self._show_space()

    # ---- downloading ------------------------------------------------------------------------------------------
    def start(self) -> None:
        plan = self._plan
        if plan is None or self.running:
            return
        target = self.folder()
        self._cancel.clear()
        self.report = None
        self._thread = threading.Thread(target=self._work, args=(plan, target), name="download", daemon=True)
        self._update_buttons()
        self.status_label.setText(self.tr("Starting…"))
        self._thread.start()

    def _work(self, plan: DownloadPlan, target: Path) -> None:
        def progress(p: DownloadProgress) -> None:
            now = time.monotonic()
            if now - self._last_emit >= PROGRESS_INTERVAL_S or p.done_bytes >= p.total_bytes:
                self._last_emit = now
                self._relay.progressed.emit(p)

        try:
            report = download_model(plan, target, progress, self._cancel)
        except JobCancelled:
            self._relay.failed.emit("", True)
        except StudioError as exc:
            self._relay.failed.emit(error_text(exc), False)
        except Exception as exc:
            logger.exception("Download failed")
            self._relay.failed.emit(f"{type(exc).__name__}: {exc}", False)
        else:
            self._relay.finished.emit(report)

    def pause(self) -> None:
        self._cancel.set()

    def _pause_or_close(self) -> None:
        if self.running:
            self.pause()
        else:
            self.close()

    def _on_progress(self, p: DownloadProgress) -> None:
        parts = [
            self.tr("{0} of {1}").format(format_bytes(p.done_bytes), format_bytes(p.total_bytes)),
            self.tr("file {0} of {1}: {2}").format(min(p.files_done + 1, p.files_total), p.files_total, p.current_file),
        ]
        if p.bytes_per_s > 0:
            parts.append(self.tr("{0}/s").format(format_bytes(int(p.bytes_per_s))))
        if p.eta_s is not None:
            parts.append(self.tr("about {0} left").format(self._duration(p.eta_s)))
        self.progress.show_progress(int(p.fraction * 1000), 1000, " · ".join(parts))

    def _duration(self, seconds: float) -> str:
        whole = int(seconds)
        if whole >= 3600:
            return self.tr("{0} h {1:02d} min").format(whole // 3600, whole % 3600 // 60)
        if whole >= 60:
            return self.tr("{0} min {1:02d} s").format(whole // 60, whole % 60)
        return self.tr("{0} s").format(whole)

    def _on_finished(self, report: ModelFolderReport) -> None:
        self._thread = None
        self.report = report
        self.progress.finish(self.tr("Downloaded and checked: {0}").format(report.path))
        self._update_buttons()
        self.start_button.setEnabled(False)
        self.modelReady.emit(str(report.path))

    def _on_failed(self, message: str, paused: bool) -> None:
        self._thread = None
        if paused:
            self.progress.stop(self.tr("Paused. Press Resume to continue where it stopped."), keep_progress=True)
        else:
            self.progress.stop(self.tr("The download stopped: {0}").format(message), keep_progress=True)
        self._show_space()

    def closeEvent(self, event: QCloseEvent) -> None:
        # Closing pauses: what arrived stays in the folder for the next start.
        if self.running:
            self.pause()
            self.wait(30)
        super().closeEvent(event)
