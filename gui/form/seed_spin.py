"""A spin box for seeds. QSpinBox stops at 2**31 - 1; seeds go up to 2**63 - 1, so this one keeps a Python int."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QAbstractSpinBox, QWidget

from core.job.request import MAX_SEED


class SeedSpinBox(QAbstractSpinBox):
    valueChanged = Signal(object)  # int (object: a Qt int signal would truncate to 32 bits)
    edited = Signal()  # the user typed or stepped (not set from code)
    corrected = Signal(str)  # typed text that is not a seed was replaced: a sentence saying so

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._value = 0
        self.setAccelerated(True)
        self.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToPreviousValue)
        self.lineEdit().setText("0")
        self.lineEdit().textEdited.connect(self._on_text_edited)
        self.editingFinished.connect(self._normalise_text)
        width = self.fontMetrics().horizontalAdvance("0" * 12) + 40
        self.setMinimumWidth(width)

    def value(self) -> int:
        return self._value

    def setValue(self, value: int) -> None:
        value = max(0, min(MAX_SEED, int(value)))
        if self.lineEdit().text() != str(value):
            self.lineEdit().setText(str(value))
        if value != self._value:
            self._value = value
            self.valueChanged.emit(value)

    # ---- QAbstractSpinBox protocol ------------------------------------------------------------------------
    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:  # type: ignore[override]
        stripped = text.strip().replace(",", "").replace("_", "")
        # Letters or a number past the maximum stand while typing; _correct() says what happens to them.
        if stripped == "" or not stripped.isdigit() or int(stripped) > MAX_SEED:
            return QValidator.State.Intermediate, text, pos
        return QValidator.State.Acceptable, text, pos

    def fixup(self, text: str) -> str:  # type: ignore[override]
        return str(self._value)

    def _correct(self, text: str) -> None:
        """Editing ended on text that is not the value: bring it into range and say what changed."""
        typed = text.strip()
        stripped = typed.replace(",", "").replace("_", "")
        if stripped.isdigit() and int(stripped) > MAX_SEED:
            message = QCoreApplication.translate(
                "SeedSpinBox", "Seed: {typed} is above the largest seed, {max}; it was set to {max}."
            ).format(typed=typed, max=MAX_SEED)
            self.setValue(MAX_SEED)
            self.corrected.emit(message)
            return
        if typed and stripped != str(self._value):
            message = QCoreApplication.translate(
                "SeedSpinBox", "Seed: “{typed}” is not a whole number from 0 to {max}; it stays {value}."
            ).format(typed=typed, max=MAX_SEED, value=self._value)
            self.corrected.emit(message)

    def stepBy(self, steps: int) -> None:
        self.setValue(self._value + steps)
        self.selectAll()
        self.edited.emit()

    def stepEnabled(self) -> QAbstractSpinBox.StepEnabledFlag:
        flags = QAbstractSpinBox.StepEnabledFlag.StepNone
        if self.isReadOnly():
            return flags
        if self._value > 0:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepDownEnabled
        if self._value < MAX_SEED:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
        return flags

    # ---- editing ------------------------------------------------------------------------------------------
    def _on_text_edited(self, text: str) -> None:
        stripped = text.strip().replace(",", "").replace("_", "")
        if stripped.isdigit() and int(stripped) <= MAX_SEED:
            value = int(stripped)
            if value != self._value:
                self._value = value
                self.valueChanged.emit(value)
        self.edited.emit()

    def _normalise_text(self) -> None:
        if self.lineEdit().text() != str(self._value):
            self._correct(self.lineEdit().text())
            self.lineEdit().setText(str(self._value))
