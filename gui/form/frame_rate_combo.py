"""The frame rate field: the common rates to pick (8 … 23.976, 24, 25, 29.97 … 60) and any other typed in, as a
whole number, a decimal (23.976 and 29.97 are the exact NTSC rates 24000/1001 and 30000/1001) or a fraction.

The value is exact (core/output/frame_rate.py): an int, or a Fraction for NTSC rates. Like the checked spin boxes, an
entry
it cannot take is never dropped silently: it is brought into range or put back, with `corrected` saying so.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QSizePolicy, QWidget

from core.job.request import DEFAULT_FPS
from core.output.frame_rate import COMMON_RATES, MAX_FPS, MIN_FPS, FrameRate, frame_rate_text, parse_frame_rate
from gui.widgets.checked_spin import correction_message


def rate_label(rate: FrameRate) -> str:
    return f"{frame_rate_text(rate)} fps"


class FrameRateCombo(QComboBox):
    valueChanged = Signal(object)  # the new rate (int or Fraction)
    corrected = Signal(str)  # a sentence for the user

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)  # a typed rate is a value, not a new list item
        # No inline completion: it would turn a typed "2" + Enter into "23.976" (Qt takes None: no completer).
        self.setCompleter(None)  # pyright: ignore[reportArgumentType]
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        for rate in COMMON_RATES:
            self.addItem(rate_label(rate), str(rate))
        self._rate: FrameRate = DEFAULT_FPS
        self._show(self._rate)
        self.currentIndexChanged.connect(self._on_index)
        line = self.lineEdit()
        assert line is not None
        line.editingFinished.connect(self._on_typed)

    def value(self) -> FrameRate:
        return self._rate

    def setValue(self, rate: object) -> None:
        """Show `rate` (int, Fraction, float or text such as "24000/1001"); ValueError for one that is no rate."""
        exact = parse_frame_rate(rate)
        self._show(exact)
        if exact != self._rate:
            self._rate = exact
            self.valueChanged.emit(exact)

    def _show(self, rate: FrameRate) -> None:
        index = self.findData(str(rate))
        self.blockSignals(True)
        try:
            self.setCurrentIndex(index)
            if index < 0:
                self.setEditText(rate_label(rate))
        finally:
            self.blockSignals(False)

    def _on_index(self, index: int) -> None:
        if index >= 0:
            self.setValue(self.itemData(index))

    def _on_typed(self) -> None:
        typed = self.currentText().strip()
        if typed == rate_label(self._rate):
            return
        allowed = self.tr("{low}–{high} fps, up to three decimals or a fraction such as 24000/1001").format(
            low=MIN_FPS, high=MAX_FPS
        )
        name = self.accessibleName()
        try:
            self.setValue(typed)
            return
        except ValueError:
            pass
        try:  # a number out of range, or finer than a thousandth: brought to the nearest rate the field takes
            number = float(typed.lower().removesuffix("fps").strip())
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            self.corrected.emit(correction_message(name, typed, allowed, rate_label(self._rate), False))
            self._show(self._rate)
            return
        self.setValue(f"{min(MAX_FPS, max(MIN_FPS, number)):.3f}")
        self.corrected.emit(correction_message(name, typed, allowed, rate_label(self._rate), True))
