"""The Upscale… / Interpolate… dialog: what to do to a finished clip. It only asks; OK hands back a
`core.finish.spec.FinishSpec` and the caller queues it (the queue runs it like any job, core/finish/job.py).

Upscale: the default named model (whether it is downloaded, its size when it is; it downloads on first use) or a
local .pth/.safetensors file, and the scale. Interpolate: 2× or 4× the clip's rate, or a target rate, and the method
(RIFE when its weights are here or asked to be downloaded, else ffmpeg's minterpolate); a line says which will run
and why.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.finish.spec import DEFAULT_MODEL, FinishSpec
from gui.support.i18n import core_text

UPSCALE = "upscale"
INTERPOLATE = "interpolate"


def _default_model(kind: str) -> tuple[str, bool, int | None]:
    """(the named default model's name, whether it is downloaded, its size in bytes when it is)."""
    from core.finish.models import is_downloaded, local_path, named_model

    model = named_model(DEFAULT_MODEL, kind)
    assert model is not None
    here = is_downloaded(model)
    return model.name, here, local_path(model).stat().st_size if here else None


class FinishDialog(QDialog):
    def __init__(self, kind: str, clip: Path, source_fps: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = kind
        self.source_fps = source_fps
        self.setObjectName("finishDialog")
        self.setWindowTitle(self.tr("Upscale the clip") if kind == UPSCALE else self.tr("Interpolate the clip"))
        form = QFormLayout()
        form.addRow(self.tr("Clip:"), QLabel(clip.name))

        # ---- upscale ----
        self.model_combo = QComboBox()
        self.model_combo.setObjectName("finishModelCombo")
        self.model_file_edit = QLineEdit()
        self.model_file_edit.setObjectName("finishModelFileEdit")
        self.model_file_edit.setPlaceholderText(self.tr("a .pth or .safetensors file"))
        browse = QPushButton(self.tr("Browse…"))
        browse.clicked.connect(self._browse)
        self.scale_spin = QDoubleSpinBox()
        self.scale_spin.setObjectName("finishScaleSpin")
        self.scale_spin.setRange(1.1, 8.0)
        self.scale_spin.setSingleStep(0.5)
        self.scale_spin.setDecimals(2)
        self.scale_spin.setValue(2.0)
        self.scale_spin.setSuffix("×")
        # ---- interpolate ----
        self.rate_combo = QComboBox()
        self.rate_combo.setObjectName("finishRateCombo")
        self.rate_combo.addItem(self.tr("2× the frame rate"), 2)
        self.rate_combo.addItem(self.tr("4× the frame rate"), 4)
        self.rate_combo.addItem(self.tr("A frame rate of…"), 0)
        self.fps_spin = QSpinBox()
        self.fps_spin.setObjectName("finishFpsSpin")
        self.fps_spin.setRange(1, 240)
        self.fps_spin.setValue(max(1, min(240, round(source_fps * 2))))
        self.fps_spin.setSuffix(self.tr(" fps"))
        self.method_combo = QComboBox()
        self.method_combo.setObjectName("finishMethodCombo")
        self.method_combo.addItem(self.tr("Automatic"), None)
        self.method_combo.addItem(self.tr("RIFE (downloads its weights on first use)"), "rife")
        self.method_combo.addItem(self.tr("ffmpeg minterpolate (no model, softer)"), "ffmpeg")
        self.note_label = QLabel()
        self.note_label.setObjectName("finishNoteLabel")
        self.note_label.setWordWrap(True)
        self.note_label.setProperty("role", "hint")
        self.problem_label = QLabel()
        self.problem_label.setObjectName("finishProblemLabel")
        self.problem_label.setWordWrap(True)
        self.problem_label.setProperty("role", "error")
        self.problem_label.hide()

        if kind == UPSCALE:
            name, here, size = _default_model(UPSCALE)
            self.model_combo.addItem(self.tr("Default: {name}").format(name=name), DEFAULT_MODEL)
            self.model_combo.addItem(self.tr("A model file…"), "file")
            self._default_state = (
                self.tr("{name} is downloaded ({size} MB).").format(name=name, size=f"{(size or 0) / 1e6:.0f}")
                if here
                else self.tr("{name} is not downloaded yet: it downloads on first use (hash-checked).").format(
                    name=name
                )
            )
            file_row = QHBoxLayout()
            file_row.addWidget(self.model_file_edit, 1)
            file_row.addWidget(browse)
            form.addRow(self.tr("Model:"), self.model_combo)
            form.addRow("", file_row)
            form.addRow(self.tr("Scale:"), self.scale_spin)
            self.model_combo.currentIndexChanged.connect(self._update)
            self.model_file_edit.textChanged.connect(self._update)
        else:
            form.addRow(self.tr("Interpolate to:"), self.rate_combo)
            form.addRow("", self.fps_spin)
            form.addRow(self.tr("Method:"), self.method_combo)
            self.rate_combo.currentIndexChanged.connect(self._update)
            self.method_combo.currentIndexChanged.connect(self._update)
            self.model_file_edit.hide()
            browse.hide()

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(self.tr("Add to queue"))
        ok.setObjectName("finishOkButton")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.note_label)
        layout.addWidget(self.problem_label)
        layout.addWidget(buttons)
        self._update()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Choose an upscaling model"), "", self.tr("Model weights (*.pth *.safetensors)")
        )
        if path:
            self.model_file_edit.setText(path)
            self.model_combo.setCurrentIndex(self.model_combo.findData("file"))

    def _update(self) -> None:
        if self.kind == UPSCALE:
            default = self.model_combo.currentData() == DEFAULT_MODEL
            self.model_file_edit.setEnabled(not default)
            self.note_label.setText(self._default_state if default else self.tr("Your file runs as it is."))
        else:
            self.fps_spin.setEnabled(self.rate_combo.currentData() == 0)
            self.note_label.setText(self.method_note())
        self.problem_label.hide()

    def method_note(self) -> str:
        """Which interpolation will run, and why."""
        method = self.method_combo.currentData()
        name, here, _size = _default_model(INTERPOLATE)
        if method == "ffmpeg":
            return self.tr("ffmpeg's minterpolate runs: no model needed, softer in-between frames.")
        if method == "rife":
            if here:
                return self.tr("RIFE runs ({name}, downloaded).").format(name=name)
            return self.tr("RIFE runs: {name} downloads first (hash-checked), then interpolates.").format(name=name)
        if here:
            return self.tr("RIFE runs: its weights ({name}) are here.").format(name=name)
        return self.tr(
            "ffmpeg's minterpolate runs, because RIFE's weights ({name}) are not downloaded; choose RIFE to get them."
        ).format(name=name)

    def spec(self) -> FinishSpec:
        if self.kind == UPSCALE:
            default = self.model_combo.currentData() == DEFAULT_MODEL
            model = DEFAULT_MODEL if default else self.model_file_edit.text().strip()
            return FinishSpec(upscale=round(self.scale_spin.value(), 2), upscale_model=model)
        factor = self.rate_combo.currentData()
        return FinishSpec(
            factor=int(factor) if factor else None,
            fps=None if factor else float(self.fps_spin.value()),
            method=self.method_combo.currentData(),
        )

    def accept(self) -> None:
        problems = self.spec().problems()
        if problems:  # the dialog stays open with what is wrong; nothing is lost
            self.problem_label.setText(" ".join(core_text(p) for p in problems))
            self.problem_label.show()
            return
        super().accept()
