"""The Export dialog: a finished clip to WebM, an animated GIF or PNG frames, written off the GUI thread with
progress and a cancel button. The work itself is core.output.export's; this only asks where and shows how it goes."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
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
from core.output.export import ExportFormat, ExportRequest, ExportResult, GifPalette, default_output, export_clip
from gui.support.i18n import error_text
from gui.widgets.dialog_buttons import action_row
from gui.widgets.progress_row import ProgressRow

logger = logging.getLogger(__name__)


class _Relay(QObject):
    # Emitted from the export thread; Qt queues each to the dialog on the GUI thread.
    progressed = Signal(int, int)
    finished = Signal(object)  # ExportResult
    failed = Signal(str, bool)  # message, cancelled


class ExportDialog(QDialog):
    exported = Signal(str)  # the written file or folder

    def __init__(self, source: str | Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("exportDialog")
        self.setWindowTitle(self.tr("Export the clip"))
        self.source = Path(source)
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._path_edited = False
        self.export_result: ExportResult | None = None
        self.keep_model_path = False  # keep the model folder's path a clip recorded (the include_model_path setting)
        self._relay = _Relay(self)
        self._relay.progressed.connect(self._on_progress)
        self._relay.finished.connect(self._on_finished)
        self._relay.failed.connect(self._on_failed)

        self.source_label = QLabel(self.source.name)
        self.source_label.setObjectName("exportSourceLabel")
        self.source_label.setToolTip(str(self.source))
        self.format_combo = QComboBox()
        self.format_combo.setObjectName("exportFormatCombo")
        self.format_combo.addItem(self.tr("WebM video (VP9)"), ExportFormat.WEBM.value)
        self.format_combo.addItem(self.tr("Animated GIF"), ExportFormat.GIF.value)
        self.format_combo.addItem(self.tr("PNG frames (a folder)"), ExportFormat.PNG.value)
        self.palette_combo = QComboBox()
        self.palette_combo.setObjectName("gifPaletteCombo")
        self.palette_combo.addItem(self.tr("One palette for the clip (no flicker)"), GifPalette.PER_CLIP.value)
        self.palette_combo.addItem(self.tr("A palette per frame (truer colours, larger)"), GifPalette.PER_FRAME.value)
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("exportPathEdit")
        self.path_edit.textEdited.connect(self._on_path_edited)
        self.browse_button = QPushButton(self.tr("Choose…"))
        self.browse_button.setObjectName("exportBrowseButton")
        self.browse_button.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)

        form = QFormLayout()
        form.addRow(self.tr("Clip:"), self.source_label)
        form.addRow(self.tr("Format:"), self.format_combo)
        form.addRow(self.tr("GIF colours:"), self.palette_combo)
        form.addRow(self.tr("Save as:"), path_row)

        self.progress = ProgressRow(
            "exportProgress",
            "exportStatusLabel",
            self.tr("Every frame is kept; the clip's parameters go with the export."),
        )
        self.progress_bar, self.status_label = self.progress.bar, self.progress.label

        buttons, self.export_button, self.close_button = action_row(
            self.tr("Export"), "exportButton", self.start, "exportCloseButton", self._cancel_or_close
        )

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addLayout(buttons)
        self.format_combo.currentIndexChanged.connect(self._on_format)
        self._on_format()
        self.resize(520, self.sizeHint().height())

    # ---- state ------------------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None

    def export_format(self) -> ExportFormat:
        return ExportFormat(self.format_combo.currentData())  # Qt keeps the enum's value

    def set_format(self, fmt: ExportFormat) -> None:
        self.format_combo.setCurrentIndex(self.format_combo.findData(fmt.value))

    def output_path(self) -> Path:
        return Path(self.path_edit.text().strip()).expanduser()

    def wait(self, timeout_s: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout_s)

    # ---- actions ----------------------------------------------------------------------------------------------
    def _on_format(self) -> None:
        fmt = self.export_format()
        self.palette_combo.setEnabled(fmt is ExportFormat.GIF)
        if not self._path_edited:
            self.path_edit.setText(str(default_output(self.source, fmt)))
        elif fmt is not ExportFormat.PNG:  # keep the chosen name, with the suffix that fits
            self.path_edit.setText(str(self.output_path().with_suffix(f".{fmt.value}")))

    def _on_path_edited(self, _text: str) -> None:
        self._path_edited = True

    def _browse(self) -> None:
        fmt = self.export_format()
        if fmt is ExportFormat.PNG:
            chosen = QFileDialog.getExistingDirectory(self, self.tr("Folder for the frames"), str(self.source.parent))
            path = str(Path(chosen) / default_output(self.source, fmt).name) if chosen else ""
        else:
            pattern = self.tr("{0} files (*.{1})").format(fmt.value.upper(), fmt.value)
            path, _ = QFileDialog.getSaveFileName(self, self.tr("Export as"), self.path_edit.text(), pattern)
        if path:
            self.path_edit.setText(path)
            self._path_edited = True

    def start(self) -> None:
        if self.running:
            return
        request = ExportRequest(
            self.source,
            self.export_format(),
            self.output_path(),
            GifPalette(self.palette_combo.currentData()),
            keep_model_path=self.keep_model_path,
        )
        self._cancel.clear()
        self.export_result = None
        self._set_running(True)
        self.progress.busy(self.tr("Reading the clip…"))  # until the first frame is written
        self._thread = threading.Thread(target=self._work, args=(request,), name="export", daemon=True)
        self._thread.start()

    def _work(self, request: ExportRequest) -> None:
        try:
            result = export_clip(request, self._relay.progressed.emit, self._cancel)
        except JobCancelled:
            self._relay.failed.emit("", True)
        except StudioError as exc:
            self._relay.failed.emit(error_text(exc), False)
        except Exception as exc:  # a bug: say so rather than leave the dialog spinning
            logger.exception("Export failed")
            self._relay.failed.emit(f"{type(exc).__name__}: {exc}", False)
        else:
            self._relay.finished.emit(result)

    def cancel(self) -> None:
        self._cancel.set()

    def _cancel_or_close(self) -> None:
        if self.running:
            self.cancel()
        else:
            self.close()

    # ---- results ----------------------------------------------------------------------------------------------
    def _on_progress(self, done: int, total: int) -> None:
        self.progress.show_progress(done, total, self.tr("Writing frame {0} of {1}…").format(done, total))

    def _on_finished(self, result: ExportResult) -> None:
        self._thread = None
        self.export_result = result
        self._set_running(False)
        self.progress.finish(
            self.tr("Exported {0} frames to {1}; the parameters are in {2}.").format(
                result.frames, result.output, result.sidecar.name
            )
        )
        self.exported.emit(str(result.output))

    def _on_failed(self, message: str, cancelled: bool) -> None:
        self._thread = None
        self._set_running(False)
        if cancelled:
            self.progress.stop(self.tr("Export cancelled; nothing was written."))
        else:
            self.progress.stop(self.tr("The export failed: {0}").format(message))

    def _set_running(self, running: bool) -> None:
        for widget in (self.export_button, self.format_combo, self.path_edit, self.browse_button):
            widget.setEnabled(not running)
        self.palette_combo.setEnabled(not running and self.export_format() is ExportFormat.GIF)
        self.close_button.setText(self.tr("Cancel") if running else self.tr("Close"))

    def closeEvent(self, event: QCloseEvent) -> None:
        # Closing while writing cancels and waits: the temporary file is removed before the dialog goes.
        if self.running:
            self.cancel()
            self.wait(30)
        super().closeEvent(event)
