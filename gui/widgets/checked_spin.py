"""Spin boxes that say what they changed. Qt's own refuse a keystroke that leaves the range (typing 99 into a
0–30 box gives 9) and put back the old value for text they cannot read, without a word; these accept what is
typed, and when editing ends, bring it into range and emit `corrected` with a sentence saying what was typed,
what is allowed and what the value became."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox, QWidget


def _strip_affixes(text: str, prefix: str, suffix: str) -> str:
    text = text.strip()
    if prefix and text.startswith(prefix.strip()):
        text = text[len(prefix.strip()) :]
    if suffix and text.endswith(suffix.strip()):
        text = text[: -len(suffix.strip())]
    return text.strip().replace(",", "").replace("_", "")


def correction_message(name: str, typed: str, allowed: str, result: str, readable: bool) -> str:
    if readable:
        return QCoreApplication.translate(
            "CheckedSpin", "{name}: {typed} is outside {allowed}; it was set to {result}."
        ).format(name=name, typed=typed, allowed=allowed, result=result)
    return QCoreApplication.translate(
        "CheckedSpin", "{name}: “{typed}” is not a number ({allowed}); it stays {result}."
    ).format(name=name, typed=typed, allowed=allowed, result=result)


class CheckedSpinBox(QSpinBox):
    corrected = Signal(str)  # a sentence for the user

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:  # type: ignore[override]
        state, text, pos = super().validate(text, pos)
        # Out of range or unreadable: let it stand while typing; fixup() explains what happens to it.
        return (QValidator.State.Intermediate if state == QValidator.State.Invalid else state), text, pos

    def fixup(self, text: str) -> str:  # type: ignore[override]
        raw = _strip_affixes(text, self.prefix(), self.suffix())
        allowed = f"{self.minimum()}–{self.maximum()}"
        try:
            typed = int(float(raw))
        except ValueError:
            self.corrected.emit(correction_message(self.accessibleName(), raw, allowed, str(self.value()), False))
            return self.textFromValue(self.value())
        value = max(self.minimum(), min(self.maximum(), typed))
        if value != typed:
            self.corrected.emit(correction_message(self.accessibleName(), raw, allowed, str(value), True))
        return self.textFromValue(value)


class CheckedDoubleSpinBox(QDoubleSpinBox):
    corrected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:  # type: ignore[override]
        state, text, pos = super().validate(text, pos)
        return (QValidator.State.Intermediate if state == QValidator.State.Invalid else state), text, pos

    def fixup(self, text: str) -> str:  # type: ignore[override]
        raw = _strip_affixes(text, self.prefix(), self.suffix())
        allowed = f"{self.minimum():g}–{self.maximum():g}"
        try:
            typed = float(raw.replace(self.locale().decimalPoint(), "."))
        except ValueError:
            self.corrected.emit(correction_message(self.accessibleName(), raw, allowed, f"{self.value():g}", False))
            return self.textFromValue(self.value())
        value = max(self.minimum(), min(self.maximum(), typed))
        if value != typed:
            self.corrected.emit(correction_message(self.accessibleName(), f"{typed:g}", allowed, f"{value:g}", True))
        return self.textFromValue(value)
