"""Prompt and negative prompt. The negative prompt starts as the official one; a link puts it back.

Bound to a `FormModel` (`bind`), the editors write the `prompt` and `negative_prompt` fields and follow them."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from core.job.request import OFFICIAL_NEGATIVE_PROMPT
from gui.form.form_model import FormModel


class _PlainEdit(QPlainTextEdit):
    """Plain text only (pasted rich text loses its formatting) and Tab moves focus instead of indenting."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)

    def sizeHint(self) -> QSize:
        # About five lines: room for a detailed prompt without pushing the settings out of view.
        return QSize(300, 110)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        # A file dragged here is a clip whose settings to open (the window takes it), not text to insert.
        if event.mimeData().hasUrls():
            event.ignore()
            return
        super().dragEnterEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Ctrl+Enter belongs to the window's Generate shortcut; never insert a line break for it.
        if (
            event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            event.ignore()
            return
        super().keyPressEvent(event)


class PromptEditor(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)

        self.prompt_edit = _PlainEdit()
        self.prompt_edit.setObjectName("promptEdit")
        self.prompt_edit.setPlaceholderText(
            self.tr(
                "Describe the video: subject, action, setting, camera, light.\n"
                "e.g. A red fox trots through fresh snow at dawn, low tracking shot, soft golden light."
            )
        )
        self.prompt_edit.setAccessibleName(self.tr("Prompt"))
        self.prompt_edit.setToolTip(self.tr("What the video shows. Ctrl+Enter generates."))
        self.prompt_edit.setMinimumHeight(72)

        neg_row = QHBoxLayout()
        neg_label = QLabel(self.tr("&Negative prompt"))
        neg_label.setProperty("role", "subheading")
        self.reset_negative = QPushButton(self.tr("Official default"))
        self.reset_negative.setObjectName("resetNegativeButton")
        self.reset_negative.setFlat(True)
        self.reset_negative.setCursor(Qt.CursorShape.PointingHandCursor)
        self.reset_negative.setToolTip(self.tr("Put back the official demo's negative prompt."))
        self.reset_negative.clicked.connect(lambda: self.set_negative_prompt(OFFICIAL_NEGATIVE_PROMPT))
        neg_row.addWidget(neg_label)
        neg_row.addStretch(1)
        neg_row.addWidget(self.reset_negative)

        self.negative_edit = _PlainEdit()
        self.negative_edit.setObjectName("negativePromptEdit")
        self.negative_edit.setAccessibleName(self.tr("Negative prompt"))
        self.negative_edit.setToolTip(self.tr("What the video should avoid. Used when guidance is above 1."))
        self.negative_edit.setPlainText(OFFICIAL_NEGATIVE_PROMPT)
        self.negative_edit.setFixedHeight(56)
        neg_label.setBuddy(self.negative_edit)

        layout.addWidget(self.prompt_edit, 1)
        layout.addLayout(neg_row)
        layout.addWidget(self.negative_edit)

        self._model: FormModel | None = None
        self.prompt_edit.textChanged.connect(self._on_prompt_changed)
        self.negative_edit.textChanged.connect(self._on_negative_changed)
        self._on_negative_changed()

    # ---- the model --------------------------------------------------------------------------------------------
    def bind(self, model: FormModel) -> None:
        self._model = model
        model.changed.connect(self._on_model_changed)
        self._on_model_changed("prompt")
        self._on_model_changed("negative_prompt")

    def _on_model_changed(self, name: str) -> None:
        # Compared stripped: the model keeps the request's (stripped) text, the editor what is being typed.
        if self._model is None:
            return
        if name == "prompt" and self._model.get("prompt") != self.prompt():
            self.set_prompt(self._model.get("prompt"))
        elif name == "negative_prompt" and self._model.get("negative_prompt") != self.negative_prompt():
            self.set_negative_prompt(self._model.get("negative_prompt"))

    def _on_prompt_changed(self) -> None:
        if self._model is not None:
            self._model.set("prompt", self.prompt())
        self.changed.emit()

    def _on_negative_changed(self) -> None:
        self.reset_negative.setVisible(self.negative_prompt() != OFFICIAL_NEGATIVE_PROMPT)
        if self._model is not None:
            self._model.set("negative_prompt", self.negative_prompt())
        self.changed.emit()

    def prompt(self) -> str:
        return self.prompt_edit.toPlainText().strip()

    def negative_prompt(self) -> str:
        return self.negative_edit.toPlainText().strip()

    def set_prompt(self, text: str) -> None:
        self.prompt_edit.setPlainText(text)

    def set_negative_prompt(self, text: str) -> None:
        self.negative_edit.setPlainText(text)
