"""The form's Finish group: a generated job can end upscaled and/or interpolated (off by default). What it asks
for is the request's `finish` (core/finish/spec.py); the job generates into a private folder, then finishes into
the output (core/finish/job.py), so the history and the queue show it as one job ("→ 2×, 48 fps")."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QGridLayout, QLineEdit, QWidget

from core.finish.spec import DEFAULT_MODEL, FinishSpec

RATES = ((2, None), (4, None), (None, 48.0), (None, 60.0))  # (factor, fps)


class FinishPanel(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("finishPanel")
        self.upscale_check = QCheckBox(self.tr("Upscale"))
        self.upscale_check.setObjectName("finishUpscaleCheck")
        self.upscale_check.setToolTip(
            self.tr("Upscale the generated clip (Real-ESRGAN; the default model downloads on first use).")
        )
        self.scale_combo = QComboBox()
        self.scale_combo.setObjectName("finishScaleCombo")
        for scale in (2.0, 4.0):
            self.scale_combo.addItem(f"{scale:g}×", scale)
        self.model_edit = QLineEdit()
        self.model_edit.setObjectName("finishModelEdit")
        self.model_edit.setPlaceholderText(self.tr("default model, or a .pth/.safetensors file"))
        self.interpolate_check = QCheckBox(self.tr("Interpolate"))
        self.interpolate_check.setObjectName("finishInterpolateCheck")
        self.interpolate_check.setToolTip(
            self.tr("Raise the frame rate (RIFE when its weights are downloaded, else ffmpeg's minterpolate).")
        )
        self.rate_combo = QComboBox()
        self.rate_combo.setObjectName("finishRateCombo")
        for factor, fps in RATES:
            label = (
                self.tr("{factor}× the rate").format(factor=factor)
                if factor
                else self.tr("to {fps} fps").format(fps=f"{fps:g}")
            )
            self.rate_combo.addItem(label, (factor, fps))
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.upscale_check, 0, 0)
        layout.addWidget(self.scale_combo, 0, 1)
        layout.addWidget(self.model_edit, 1, 0, 1, 2)
        layout.addWidget(self.interpolate_check, 2, 0)
        layout.addWidget(self.rate_combo, 2, 1)
        for signal in (
            self.upscale_check.toggled,
            self.interpolate_check.toggled,
            self.scale_combo.currentIndexChanged,
            self.rate_combo.currentIndexChanged,
            self.model_edit.editingFinished,
        ):
            signal.connect(self._changed)
        self._update_enabled()

    def _changed(self, *_args: object) -> None:
        self._update_enabled()
        self.changed.emit()

    def _update_enabled(self) -> None:
        self.scale_combo.setEnabled(self.upscale_check.isChecked())
        self.model_edit.setEnabled(self.upscale_check.isChecked())
        self.rate_combo.setEnabled(self.interpolate_check.isChecked())

    def options(self) -> FinishSpec | None:
        """What the job ends with; None: nothing (off)."""
        if not self.upscale_check.isChecked() and not self.interpolate_check.isChecked():
            return None
        factor, fps = self.rate_combo.currentData() if self.interpolate_check.isChecked() else (None, None)
        return FinishSpec(
            upscale=self.scale_combo.currentData() if self.upscale_check.isChecked() else None,
            upscale_model=self.model_edit.text().strip() or DEFAULT_MODEL,
            factor=factor,
            fps=fps,
        )

    def set_options(self, spec: FinishSpec | None) -> None:
        widgets = (self.upscale_check, self.interpolate_check, self.scale_combo, self.rate_combo, self.model_edit)
        for widget in widgets:
            widget.blockSignals(True)
        try:
            self.upscale_check.setChecked(spec is not None and spec.upscales)
            self.interpolate_check.setChecked(spec is not None and spec.interpolates)
            if spec is not None and spec.upscale is not None:
                index = self.scale_combo.findData(spec.upscale)
                if index < 0:  # a scale the menu does not list (a history entry's): add it
                    self.scale_combo.addItem(f"{spec.upscale:g}×", spec.upscale)
                    index = self.scale_combo.count() - 1
                self.scale_combo.setCurrentIndex(index)
            model = spec.upscale_model if spec is not None else DEFAULT_MODEL
            self.model_edit.setText("" if model == DEFAULT_MODEL else model)
            if spec is not None and spec.interpolates:
                rate = (spec.factor, spec.fps) if spec.factor or spec.fps else (2, None)
                index = self.rate_combo.findData(rate)
                if index < 0:
                    self.rate_combo.addItem(spec.short(), rate)
                    index = self.rate_combo.count() - 1
                self.rate_combo.setCurrentIndex(index)
        finally:
            for widget in widgets:
                widget.blockSignals(False)
        self._update_enabled()
