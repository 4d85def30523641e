"""Dialogs that explain a failed job in plain words, with the advice that fits and, where there is one, a button
that applies the fix. They open window-modal without blocking (QDialog.open), so a job finishing or a test
driving the window is never stuck behind them."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from gui.support.i18n import QT_TRANSLATE_NOOP, core_text

# Translated where shown (ErrorDialog's context); QT_TRANSLATE_NOOP only marks them for extraction.
TITLES = {
    "out-of-memory": QT_TRANSLATE_NOOP("ErrorDialog", "Out of memory"),
    "model-folder": QT_TRANSLATE_NOOP("ErrorDialog", "The model folder cannot be used"),
    "device": QT_TRANSLATE_NOOP("ErrorDialog", "This device is not available"),
    "bad-input": QT_TRANSLATE_NOOP("ErrorDialog", "These settings cannot run"),
    "non-finite": QT_TRANSLATE_NOOP("ErrorDialog", "The model produced no usable picture"),
    "output": QT_TRANSLATE_NOOP("ErrorDialog", "The clip cannot be saved"),
    "internal": QT_TRANSLATE_NOOP("ErrorDialog", "Something went wrong"),
    "resume": QT_TRANSLATE_NOOP("ErrorDialog", "The job cannot continue where it stopped"),
    "rank": QT_TRANSLATE_NOOP("ErrorDialog", "A GPU of the split job stopped"),
    "error": QT_TRANSLATE_NOOP("ErrorDialog", "The job failed"),
}
HEADLINES = {
    "out-of-memory": QT_TRANSLATE_NOOP("ErrorDialog", "The job needed more memory than this computer has free."),
    "model-folder": QT_TRANSLATE_NOOP("ErrorDialog", "The model could not be loaded from this folder."),
    "device": QT_TRANSLATE_NOOP("ErrorDialog", "The device or memory mode asked for does not exist on this computer."),
    "bad-input": QT_TRANSLATE_NOOP("ErrorDialog", "Some settings are out of range."),
    "non-finite": QT_TRANSLATE_NOOP(
        "ErrorDialog", "The numbers went out of range (NaN or infinity) while the clip was made."
    ),
    "output": QT_TRANSLATE_NOOP("ErrorDialog", "The finished clip could not be written."),
    "internal": QT_TRANSLATE_NOOP("ErrorDialog", "ContentV Studio hit an unexpected problem."),
    "resume": QT_TRANSLATE_NOOP(
        "ErrorDialog", "What the interrupted job kept no longer fits it; it can run again from the beginning."
    ),
    "rank": QT_TRANSLATE_NOOP(
        "ErrorDialog", "One of the processes running the job on several GPUs ended, so the others were stopped too."
    ),
    "error": QT_TRANSLATE_NOOP("ErrorDialog", "The job failed."),
}


class ErrorDialog(QDialog):
    """Kind-specific title and headline, the engine's message and advice, and an optional fix button."""

    fixRequested = Signal()

    def __init__(
        self,
        kind: str,
        message: str,
        advice: str = "",
        fix_text: str = "",
        details: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("errorDialog")
        self.kind = kind
        # Engine (core/) messages arrive in English and are shown translated; the GUI's own are translated already.
        message, advice = core_text(message), core_text(advice)
        self.message = message
        self.advice = advice
        self.setWindowTitle(QCoreApplication.translate("ErrorDialog", TITLES.get(kind, TITLES["error"])))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(460)

        icon = QLabel()
        pixmap = (
            QStyle.StandardPixmap.SP_MessageBoxWarning
            if kind != "internal"
            else QStyle.StandardPixmap.SP_MessageBoxCritical
        )
        icon.setPixmap(self.style().standardIcon(pixmap).pixmap(40, 40))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)

        headline = QLabel(QCoreApplication.translate("ErrorDialog", HEADLINES.get(kind, HEADLINES["error"])))
        headline.setObjectName("errorHeadline")
        headline.setProperty("role", "heading")
        headline.setWordWrap(True)
        self.message_label = QLabel(message)
        self.message_label.setObjectName("errorMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.advice_label = QLabel(advice)
        self.advice_label.setObjectName("errorAdvice")
        self.advice_label.setWordWrap(True)
        self.advice_label.setProperty("role", "advice")
        self.advice_label.setVisible(bool(advice))
        self.advice_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details_label = QLabel(details)
        self.details_label.setObjectName("errorDetails")
        self.details_label.setWordWrap(True)
        self.details_label.setProperty("role", "hint")
        self.details_label.setVisible(bool(details))

        text = QVBoxLayout()
        text.setSpacing(8)
        text.addWidget(headline)
        text.addWidget(self.message_label)
        text.addWidget(self.advice_label)
        text.addWidget(self.details_label)
        top = QHBoxLayout()
        top.setSpacing(14)
        top.addWidget(icon)
        top.addLayout(text, 1)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.button(QDialogButtonBox.StandardButton.Close).setIcon(QIcon())  # Fusion adds a stray icon
        self.fix_button: QPushButton | None = None
        if fix_text:
            self.fix_button = self.buttons.addButton(fix_text, QDialogButtonBox.ButtonRole.AcceptRole)
            self.fix_button.setObjectName("applyFixButton")
            self.fix_button.setDefault(True)
            self.fix_button.clicked.connect(self.fixRequested)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 14)
        layout.setSpacing(14)
        layout.addLayout(top)
        layout.addWidget(self.buttons)


def confirm(parent: QWidget, title: str, text: str, informative: str = "", ok_text: str = "") -> bool:
    """A yes/no question; True when the user agrees. Callers pass translated texts. (Tests replace this.)"""
    box = QMessageBox(parent)
    box.setWindowTitle(title)
    box.setIcon(QMessageBox.Icon.Question)
    box.setText(text)
    if informative:
        box.setInformativeText(informative)
    ok = box.addButton(ok_text or QCoreApplication.translate("confirm", "OK"), QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.exec()
    return box.clickedButton() is ok
