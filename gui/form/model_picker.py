"""The model folder: a path field, a folder dialog, recent folders, and "Make a demo model…".

A folder is checked the moment it is chosen (core.model.checkpoint.inspect_model_folder reads only configs and
safetensors headers) on a background thread, and the result names the component that is missing or broken.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.errors import StudioError
from core.model.checkpoint import ModelFolderReport, inspect_model_folder
from gui.support.formatting import format_bytes
from gui.support.i18n import core_text, error_text
from gui.support.settings import MAX_RECENT_MODELS
from gui.support.tasks import BackgroundTasks

if TYPE_CHECKING:
    from gui.dialogs.download_dialog import DownloadDialog

logger = logging.getLogger(__name__)

DEMO_FOLDER_NAME = "contentv-demo"


def default_demo_target(models_dir: Path) -> Path:
    """`models/contentv-demo`, or the first `-N` variant that is free or already a complete model."""
    for n in range(1, 100):
        candidate = models_dir / (DEMO_FOLDER_NAME if n == 1 else f"{DEMO_FOLDER_NAME}-{n}")
        if not candidate.exists() or inspect_model_folder(candidate).ok:
            return candidate
        if candidate.is_dir() and not any(candidate.iterdir()):
            return candidate
    return models_dir / f"{DEMO_FOLDER_NAME}-new"


def choose_demo_target(parent: QWidget, suggested: Path) -> Path | None:
    """Ask where to write the demo model; None when the user cancels. (Tests replace this function.)"""
    box = QMessageBox(parent)
    box.setWindowTitle(QCoreApplication.translate("choose_demo_target", "Make a demo model"))
    box.setIcon(QMessageBox.Icon.Information)
    box.setText(QCoreApplication.translate("choose_demo_target", "Make a tiny demo model to check the install?"))
    box.setInformativeText(
        QCoreApplication.translate(
            "choose_demo_target",
            "It has the real model's layout but random weights, so its videos are coloured noise. It takes about "
            "13 MB and a few seconds, and shows that loading, generating and playing work on this computer.\n\n"
            "It will be written to:\n{folder}",
        ).format(folder=suggested)
    )
    create = box.addButton(
        QCoreApplication.translate("choose_demo_target", "Create"), QMessageBox.ButtonRole.AcceptRole
    )
    elsewhere = box.addButton(
        QCoreApplication.translate("choose_demo_target", "Choose folder…"), QMessageBox.ButtonRole.ActionRole
    )
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(create)
    box.exec()
    if box.clickedButton() is create:
        return suggested
    if box.clickedButton() is elsewhere:
        title = QCoreApplication.translate("choose_demo_target", "Folder for the demo model")
        folder = QFileDialog.getExistingDirectory(parent, title, str(suggested.parent))
        return Path(folder) / DEMO_FOLDER_NAME if folder else None
    return None


def _build_demo(target: Path) -> Path:
    from core.model.demo import make_demo_model  # imports torch: runs on a pool thread

    if target.exists() and inspect_model_folder(target).ok:
        return target
    return make_demo_model(target)


class ModelPicker(QWidget):
    pathChanged = Signal(str)
    reportChanged = Signal()  # a check finished (or the path was cleared)
    demoFinished = Signal(str, str)  # path, error message ("" when it worked)

    def __init__(self, models_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._models_dir = models_dir
        self._tasks = BackgroundTasks(self)
        self._recent: list[str] = []
        self._report: ModelFolderReport | None = None
        self._checking_path: str | None = None
        self._making_demo = False
        self._checked_text = ""

        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("modelPathEdit")
        self.path_edit.setAccessibleName(self.tr("Model folder"))
        self.path_edit.setPlaceholderText(self.tr("Folder with model_index.json"))
        self.path_edit.setClearButtonEnabled(True)
        self.path_edit.setToolTip(
            self.tr("The ContentV-8B folder (diffusers layout: transformer/, vae/, text_encoder*/, …).")
        )
        self.path_edit.editingFinished.connect(self._on_edited)
        self.path_edit.textChanged.connect(self._on_text_changed)

        self.browse_button = QPushButton(self.tr("Choose…"))
        self.browse_button.setObjectName("chooseModelButton")
        self.browse_button.setToolTip(self.tr("Choose the model folder."))
        self.browse_button.clicked.connect(self.browse)

        self.recent_button = QToolButton()
        self.recent_button.setObjectName("recentModelsButton")
        self.recent_button.setText(self.tr("Recent"))
        self.recent_button.setToolTip(self.tr("Model folders used before."))
        self.recent_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self._recent_menu = QMenu(self.recent_button)
        self._recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.recent_button.setMenu(self._recent_menu)

        self.demo_button = QPushButton(self.tr("Make a demo model…"))
        self.demo_button.setObjectName("makeDemoModelButton")
        self.demo_button.setFlat(True)
        self.demo_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.demo_button.setToolTip(
            self.tr("A tiny random-weight model (13 MB) to check the install without the big download.")
        )
        self.demo_button.clicked.connect(self.make_demo_model)

        self.get_model_button = QPushButton(self.tr("Get ContentV-8B…"))
        self.get_model_button.setObjectName("getModelButton")
        self.get_model_button.setFlat(True)
        self.get_model_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.get_model_button.setToolTip(self.tr("Download the model (about 27 GB) into a folder you choose."))
        self.get_model_button.clicked.connect(self.get_model)
        self.download_dialog: DownloadDialog | None = None  # the open "Get ContentV-8B" dialog, if any

        self.status_label = QLabel()
        self.status_label.setObjectName("modelStatusLabel")
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.RichText)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        row = QHBoxLayout()
        row.setSpacing(4)
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.browse_button)
        row.addWidget(self.recent_button)
        demo_row = QHBoxLayout()
        demo_row.addWidget(self.get_model_button)
        demo_row.addWidget(self.demo_button)
        demo_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(row)
        layout.addWidget(self.status_label)
        layout.addLayout(demo_row)
        self._render()

    # ---- state ------------------------------------------------------------------------------------------------
    def path(self) -> str:
        return self.path_edit.text().strip()

    @property
    def report(self) -> ModelFolderReport | None:
        """The check of the current path; None while checking or with no path."""
        return self._report

    @property
    def checking(self) -> bool:
        return self._checking_path is not None

    @property
    def making_demo(self) -> bool:
        return self._making_demo

    @property
    def is_valid(self) -> bool:
        return self._report is not None and self._report.ok and self._checked_text == self.path()

    def recent(self) -> list[str]:
        return list(self._recent)

    @property
    def models_dir(self) -> Path:
        """The data folder's models/ (demo models are made there)."""
        return self._models_dir

    def known_folders(self) -> list[str]:
        """The model folders this window knows, preferred first: the current one, the recent ones, models/."""
        from core.model.identity import known_model_folders

        return known_model_folders(self.path() or None, self._recent, self._models_dir)

    def set_recent(self, folders: list[str]) -> None:
        self._recent = [str(f) for f in folders][:MAX_RECENT_MODELS]
        self.recent_button.setEnabled(bool(self._recent))

    def wait_idle(self, timeout_ms: int = -1) -> bool:
        return self._tasks.wait(timeout_ms)

    # ---- choosing ---------------------------------------------------------------------------------------------
    def set_path(self, path: str | Path) -> None:
        text = str(path) if str(path) else ""
        if self.path_edit.text() != text:
            self.path_edit.setText(text)
        self._check(text)

    def browse(self) -> None:
        start = self.path() or str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose the ContentV model folder"), start)
        if folder:
            self.set_path(folder)

    def _on_text_changed(self, text: str) -> None:
        if not text.strip() and self._checked_text:  # cleared (e.g. with the clear button)
            self._check("")

    def _on_edited(self) -> None:
        if self.path() != self._checked_text:
            self._check(self.path())

    def _check(self, text: str) -> None:
        self._checked_text = text
        self.pathChanged.emit(text)
        if not text:
            self._report = None
            self._checking_path = None
            self._render()
            self.reportChanged.emit()
            return
        self._report = None
        self._checking_path = text
        self._render()
        self._tasks.run(lambda: inspect_model_folder(text), lambda report: self._on_checked(text, report))

    def _on_checked(self, text: str, report: ModelFolderReport) -> None:
        if text != self._checking_path:
            return  # the user picked another folder meanwhile
        self._checking_path = None
        self._report = report
        if report.ok:
            self._remember(str(report.path))
        self._render()
        self.reportChanged.emit()

    def _remember(self, folder: str) -> None:
        self._recent = [folder] + [f for f in self._recent if f != folder]
        del self._recent[MAX_RECENT_MODELS:]
        self.recent_button.setEnabled(True)

    def _fill_recent_menu(self) -> None:
        self._recent_menu.clear()
        for folder in self._recent:
            action = self._recent_menu.addAction(folder)
            action.triggered.connect(lambda _=False, f=folder: self.set_path(f))
        if self._recent:
            self._recent_menu.addSeparator()
            self._recent_menu.addAction(self.tr("Clear the list"), lambda: self.set_recent([]))

    # ---- download ---------------------------------------------------------------------------------------------
    def get_model(self) -> None:
        """Open (or raise) the download dialog; a finished download becomes the model folder."""
        from gui.dialogs.download_dialog import DownloadDialog

        if self.download_dialog is None:
            dialog = DownloadDialog(self._models_dir / "ContentV-8B", parent=self.window())
            dialog.modelReady.connect(self.set_path)
            dialog.finished.connect(self._download_dialog_closed)
            self.download_dialog = dialog
        self.download_dialog.show()
        self.download_dialog.raise_()
        self.download_dialog.activateWindow()

    def _download_dialog_closed(self, _result: int) -> None:
        if self.download_dialog is not None and not self.download_dialog.running:
            self.download_dialog.deleteLater()
            self.download_dialog = None

    # ---- demo model -------------------------------------------------------------------------------------------
    def make_demo_model(self) -> None:
        if self._making_demo:
            return
        target = choose_demo_target(self.window(), default_demo_target(self._models_dir))
        if target is None:
            return
        self._making_demo = True
        self.demo_button.setEnabled(False)
        self._render()
        self._tasks.run(lambda: _build_demo(target), self._on_demo_done, lambda exc: self._on_demo_failed(target, exc))

    def _on_demo_done(self, path: Path) -> None:
        self._making_demo = False
        self.demo_button.setEnabled(True)
        self.set_path(str(path))
        self.demoFinished.emit(str(path), "")

    def _on_demo_failed(self, target: Path, exc: Exception) -> None:
        logger.error("Making the demo model failed", exc_info=exc)
        self._making_demo = False
        self.demo_button.setEnabled(True)
        self._render()
        error = error_text(exc) if isinstance(exc, StudioError) else str(exc)  # a taken folder is said in Chinese too
        message = self.tr("The demo model could not be written to {folder}: {error}").format(folder=target, error=error)
        self.demoFinished.emit(str(target), message)

    # ---- display ----------------------------------------------------------------------------------------------
    def _render(self) -> None:
        if self._making_demo:
            self._set_status("busy", self.tr("Making the demo model…"))
        elif self._checking_path is not None:
            self._set_status("busy", self.tr("Checking the folder…"))
        elif not self.path():
            self._set_status(
                "hint",
                self.tr(
                    "Choose the ContentV-8B folder (the one holding <i>model_index.json</i>), or make a demo model "
                    "to check the install."
                ),
            )
        elif self._report is None:
            self._set_status("hint", "")
        elif self._report.ok:
            size = self._report.total_weight_bytes
            text = (
                self.tr("✓ Complete ContentV model · {size} of weights — a small test model")
                if size < 500_000_000
                else self.tr("✓ Complete ContentV model · {size} of weights")
            )
            self._set_status("ok", text.format(size=format_bytes(size)))
        else:
            items = "".join(f"<li>{_escape(core_text(p))}</li>" for p in self._report.problems)
            heading = _escape(self.tr("✗ Not a usable ContentV model folder:"))
            self._set_status("error", f"{heading}<ul style='margin:2px 0 0 -20px'>{items}</ul>")

    def _set_status(self, state: str, html: str) -> None:
        self.status_label.setProperty("state", state)
        self.status_label.setText(html)
        self.status_label.setVisible(bool(html))
        # Re-polish so the style sheet's [state=...] colours follow the property.
        self.status_label.style().unpolish(self.status_label)
        self.status_label.style().polish(self.status_label)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
