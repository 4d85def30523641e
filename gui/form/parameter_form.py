"""Size, length, frame rate, steps, guidance and seed.

Sizes snap to multiples of 16 and frame counts to 4k+1 when an entry is finished, with a note saying what
changed, so what the user sees is what the engine will run. A value typed outside a field's range is brought
into it with a note saying so (never silently).

The values live in a `FormModel` once the form is bound to one (`bind`): the widgets write their fields into it
and follow its `changed(field)` signal.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QWidget,
)

from core.job.request import (
    DEFAULT_FRAMES,
    DEFAULT_GUIDANCE,
    DEFAULT_HEIGHT,
    DEFAULT_STEPS,
    DEFAULT_WIDTH,
    MAX_FRAMES,
    MAX_SIDE,
    SIZE_MULTIPLE,
    VAE_TEMPORAL_FACTOR,
    GenerationRequest,
    random_seed,
    snap_frames,
    snap_size,
)
from core.output.frame_rate import FrameRate, frame_rate_json, frame_rate_text, seconds
from gui.form.form_model import SEED_LOCKED, FormModel
from gui.form.frame_rate_combo import FrameRateCombo
from gui.form.seed_spin import SeedSpinBox
from gui.support.i18n import QT_TRANSLATE_NOOP
from gui.support.resources import ui_icon
from gui.widgets.checked_spin import CheckedDoubleSpinBox, CheckedSpinBox


@dataclass(frozen=True)
class SizePreset:
    label: str
    width: int
    height: int


# Marked for translation here, translated where shown (self.tr(label)).
SIZE_PRESETS: tuple[SizePreset, ...] = (
    SizePreset(QT_TRANSLATE_NOOP("ParameterForm", "Landscape 768 × 432 (official)"), 768, 432),
    SizePreset(QT_TRANSLATE_NOOP("ParameterForm", "Portrait 432 × 768"), 432, 768),
    SizePreset(QT_TRANSLATE_NOOP("ParameterForm", "Square 576 × 576"), 576, 576),
    SizePreset(QT_TRANSLATE_NOOP("ParameterForm", "Small landscape 512 × 288 (quick)"), 512, 288),
)
CUSTOM_LABEL = QT_TRANSLATE_NOOP("ParameterForm", "Custom")

# The form's fields in the FormModel (the request's dictionary names).
FORM_FIELDS = ("width", "height", "num_frames", "fps", "steps", "guidance", "seed", SEED_LOCKED)


def duration_text(frames: int, fps: FrameRate) -> str:
    if fps <= 0:
        return ""
    return QCoreApplication.translate("ParameterForm", "{seconds:.2f} s at {fps} fps").format(
        seconds=seconds(snap_frames(frames), fps), fps=frame_rate_text(fps)
    )


@dataclass(frozen=True)
class Parameters:
    width: int
    height: int
    num_frames: int
    fps: FrameRate  # exact: 24000/1001 for 23.976
    steps: int
    guidance: float
    seed: int
    seed_locked: bool


class ParameterForm(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model: FormModel | None = None
        self._syncing = False  # True while widgets follow the model (their signals must not write back)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(6)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        # -- size
        self.preset_combo = QComboBox()
        self.preset_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset_combo.setMinimumContentsLength(12)  # a long item must not widen the whole column
        self.preset_combo.setObjectName("sizePresetCombo")
        for preset in SIZE_PRESETS:
            self.preset_combo.addItem(self.tr(preset.label), f"{preset.width}x{preset.height}")
        self.preset_combo.addItem(self.tr(CUSTOM_LABEL), None)
        self.preset_combo.setToolTip(self.tr("Common sizes. ContentV was trained at 768 × 432."))
        form.addRow(self.tr("Size"), self.preset_combo)

        self.width_spin = self._spin("widthSpin", SIZE_MULTIPLE, MAX_SIDE, SIZE_MULTIPLE, DEFAULT_WIDTH, " px")
        self.height_spin = self._spin("heightSpin", SIZE_MULTIPLE, MAX_SIDE, SIZE_MULTIPLE, DEFAULT_HEIGHT, " px")
        self.width_spin.setAccessibleName(self.tr("Width"))
        self.height_spin.setAccessibleName(self.tr("Height"))
        tip = self.tr("Pixels; a multiple of 16 (other values are rounded to the nearest one).")
        self.width_spin.setToolTip(tip)
        self.height_spin.setToolTip(tip)
        self.swap_button = QToolButton()
        self.swap_button.setObjectName("swapSizeButton")
        self.swap_button.setText("⇄")
        self.swap_button.setToolTip(self.tr("Swap width and height (landscape ↔ portrait)."))
        self.swap_button.setAutoRaise(True)
        self.swap_button.clicked.connect(self._swap)
        size_row = QHBoxLayout()
        size_row.setSpacing(4)
        size_row.addWidget(self.width_spin, 1)
        times = QLabel("×")
        times.setAlignment(Qt.AlignmentFlag.AlignCenter)
        size_row.addWidget(times)
        size_row.addWidget(self.height_spin, 1)
        size_row.addWidget(self.swap_button)
        form.addRow(self.tr("Width × height"), size_row)
        self.size_note = self._note("sizeNote")
        form.addRow("", self.size_note)

        # -- length
        self.frames_spin = self._spin(
            "framesSpin", 1, MAX_FRAMES, VAE_TEMPORAL_FACTOR, DEFAULT_FRAMES, self.tr(" frames")
        )
        self.frames_spin.setAccessibleName(self.tr("Frames"))
        self.frames_spin.setToolTip(
            self.tr("Number of frames; the video VAE needs 4k + 1 (…, 97, 121, 125, …). Other counts are rounded down.")
        )
        self.duration_label = QLabel()
        self.duration_label.setObjectName("durationLabel")
        self.duration_label.setProperty("role", "hint")
        frames_row = QHBoxLayout()
        frames_row.addWidget(self.frames_spin, 1)
        frames_row.addWidget(self.duration_label)
        form.addRow(self.tr("Length"), frames_row)
        self.frames_note = self._note("framesNote")
        form.addRow("", self.frames_note)

        self.fps_combo = FrameRateCombo()
        self.fps_combo.setObjectName("fpsCombo")
        self.fps_combo.setAccessibleName(self.tr("Frame rate"))
        self.fps_combo.setToolTip(
            self.tr(
                "Playback frame rate of the saved clip (ContentV was trained on 24 fps). Pick one or type any from "
                "1 to 240: 23.976, 29.97 and 59.94 are the exact NTSC rates (24000/1001 …)."
            )
        )
        form.addRow(self.tr("Frame rate"), self.fps_combo)

        # -- sampling
        self.steps_spin = self._spin("stepsSpin", 1, 1000, 1, DEFAULT_STEPS, "")
        self.steps_spin.setAccessibleName(self.tr("Steps"))
        self.steps_spin.setToolTip(self.tr("Denoising steps. 50 is the official setting; fewer is faster and rougher."))
        form.addRow(self.tr("Steps"), self.steps_spin)

        self.guidance_spin = CheckedDoubleSpinBox()
        self.guidance_spin.setObjectName("guidanceSpin")
        self.guidance_spin.setAccessibleName(self.tr("Guidance"))
        self.guidance_spin.setRange(0.0, 30.0)
        self.guidance_spin.setSingleStep(0.5)
        self.guidance_spin.setDecimals(1)
        self.guidance_spin.setValue(DEFAULT_GUIDANCE)
        self.guidance_spin.setToolTip(
            self.tr(
                "How strongly the video follows the prompt (classifier-free guidance). 6 is the official setting; "
                "1 or less skips the negative prompt and runs about twice as fast."
            )
        )
        form.addRow(self.tr("Guidance"), self.guidance_spin)

        # -- seed
        self.seed_spin = SeedSpinBox()
        self.seed_spin.setObjectName("seedSpin")
        self.seed_spin.setAccessibleName(self.tr("Seed"))
        self.seed_spin.setToolTip(self.tr("The same seed with the same settings gives the same clip."))
        self.random_seed_button = QToolButton()
        self.random_seed_button.setObjectName("randomSeedButton")
        self.random_seed_button.setIcon(ui_icon("dice"))
        self.random_seed_button.setToolTip(self.tr("Pick a new random seed now."))
        self.random_seed_button.setAccessibleName(self.tr("Random seed"))
        self.random_seed_button.clicked.connect(self.randomize_seed)
        self.seed_lock = QToolButton()
        self.seed_lock.setObjectName("seedLockButton")
        self.seed_lock.setCheckable(True)
        self.seed_lock.setAccessibleName(self.tr("Lock seed"))
        self.seed_lock.toggled.connect(self._on_lock_toggled)
        seed_row = QHBoxLayout()
        seed_row.setSpacing(4)
        seed_row.addWidget(self.seed_spin, 1)
        seed_row.addWidget(self.random_seed_button)
        seed_row.addWidget(self.seed_lock)
        form.addRow(self.tr("Seed"), seed_row)
        self._on_lock_toggled(False)
        self.seed_spin.setValue(random_seed())
        # What the last out-of-range entry became (steps 0, guidance 99, letters in the seed): never silent.
        self.range_note = self._note("rangeNote")
        form.addRow("", self.range_note)

        # -- wiring
        self._snapping = False  # True while the form itself rounds a value (keeps the note about it)
        self._size_message = ""
        self._size_snapped: tuple[int, int] | None = None
        self._frames_message = ""
        self._frames_snapped: int | None = None
        self.preset_combo.activated.connect(self._on_preset)
        self.width_spin.editingFinished.connect(lambda: self._snap_size(self.width_spin, self.tr("Width")))
        self.height_spin.editingFinished.connect(lambda: self._snap_size(self.height_spin, self.tr("Height")))
        self.frames_spin.editingFinished.connect(self._snap_frames)
        for spin in (self.width_spin, self.height_spin, self.frames_spin, self.fps_combo, self.steps_spin):
            spin.valueChanged.connect(self._on_changed)
        self.guidance_spin.valueChanged.connect(self._on_changed)
        self.seed_spin.valueChanged.connect(self._on_changed)
        # A seed typed by hand is meant to be used: keep it instead of drawing a new one at Generate.
        self.seed_spin.edited.connect(lambda: self.set_seed_locked(True))
        for checked in (
            self.width_spin,
            self.height_spin,
            self.frames_spin,
            self.fps_combo,
            self.steps_spin,
            self.guidance_spin,
            self.seed_spin,
        ):
            checked.corrected.connect(self.show_correction)
        self._on_changed()

    # ---- building blocks --------------------------------------------------------------------------------------
    @staticmethod
    def _spin(name: str, lo: int, hi: int, step: int, value: int, suffix: str) -> CheckedSpinBox:
        spin = CheckedSpinBox()
        spin.setObjectName(name)
        spin.setRange(lo, hi)
        spin.setSingleStep(step)
        spin.setValue(value)
        spin.setSuffix(suffix)
        spin.setAccelerated(True)
        spin.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        return spin

    @staticmethod
    def _note(name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setProperty("role", "note")
        label.setWordWrap(True)
        label.hide()
        return label

    # ---- behaviour --------------------------------------------------------------------------------------------
    def _on_changed(self) -> None:
        if not self._snapping:
            # A new value from the user replaces the note about the last rounding.
            self._size_message = self._size_message if self._size_unchanged() else ""
            self._frames_message = self._frames_message if self.frames_spin.value() == self._frames_snapped else ""
        self.duration_label.setText(duration_text(self.frames_spin.value(), self.fps_combo.value()))
        self._sync_preset()
        self._render_notes()
        self._write_model()
        self.changed.emit()

    def _size_unchanged(self) -> bool:
        return (self.width_spin.value(), self.height_spin.value()) == self._size_snapped

    def _render_notes(self) -> None:
        frames = self.frames_spin.value()
        if snap_frames(frames) != frames:  # typed but not finished yet, or set from outside: say what will run
            self._set_note(
                self.frames_note,
                self.tr("{frames} frames will run as {snapped} (the VAE needs 4k + 1).").format(
                    frames=frames, snapped=snap_frames(frames)
                ),
            )
        else:
            self._set_note(self.frames_note, self._frames_message)
        live = [
            self.tr("The {name} becomes {snapped} (a multiple of 16).").format(
                name=name, snapped=snap_size(spin.value())
            )
            for spin, name in ((self.width_spin, self.tr("width")), (self.height_spin, self.tr("height")))
            if spin.value() % SIZE_MULTIPLE
        ]
        self._set_note(self.size_note, " ".join(live) or self._size_message)

    @staticmethod
    def _set_note(label: QLabel, text: str) -> None:
        label.setText(text)
        label.setVisible(bool(text))

    def show_correction(self, message: str) -> None:
        """Say what an out-of-range entry became, under the form (it stays until the next correction)."""
        self._set_note(self.range_note, message)

    def _snap_size(self, spin: CheckedSpinBox, name: str) -> None:
        value = spin.value()
        snapped = min(MAX_SIDE, snap_size(value))
        if snapped == value:
            return
        self._snapping = True
        try:
            spin.setValue(snapped)
        finally:
            self._snapping = False
        self._size_snapped = (self.width_spin.value(), self.height_spin.value())
        self._size_message = self.tr("{name} {value} was rounded to {snapped}: sizes are multiples of 16.").format(
            name=name, value=value, snapped=snapped
        )
        self._render_notes()

    def _snap_frames(self) -> None:
        value = self.frames_spin.value()
        snapped = snap_frames(value)
        if snapped == value:
            return
        self._snapping = True
        try:
            self.frames_spin.setValue(snapped)
        finally:
            self._snapping = False
        self._frames_snapped = snapped
        self._frames_message = self.tr(
            "{value} frames was rounded to {snapped}: the video VAE needs 4k + 1 frames."
        ).format(value=value, snapped=snapped)
        self._render_notes()

    def _sync_preset(self) -> None:
        index = self.preset_combo.findData(f"{self.width_spin.value()}x{self.height_spin.value()}")
        self.preset_combo.setCurrentIndex(index if index >= 0 else self.preset_combo.count() - 1)

    def _on_preset(self, index: int) -> None:
        key = self.preset_combo.itemData(index)
        if not key:
            return  # "Custom"
        width, height = (int(v) for v in str(key).split("x"))
        self.width_spin.setValue(width)
        self.height_spin.setValue(height)

    def _swap(self) -> None:
        width, height = self.width_spin.value(), self.height_spin.value()
        self.width_spin.blockSignals(True)
        self.width_spin.setValue(height)
        self.width_spin.blockSignals(False)
        self.height_spin.setValue(width)

    def _on_lock_toggled(self, locked: bool) -> None:
        self.seed_lock.setIcon(ui_icon("lock" if locked else "lock-open"))
        self.seed_lock.setToolTip(
            self.tr("Seed locked: every job uses this seed. Click to draw a new seed for each job.")
            if locked
            else self.tr("Seed unlocked: each job draws a new random seed. Click to keep this one.")
        )
        self._write_model()
        self.changed.emit()

    def _show_fps(self, rate: object) -> None:
        try:
            self.fps_combo.setValue(rate)
        except ValueError as exc:  # a stored rate out of range: the field keeps its own, and says why
            self.show_correction(str(exc))

    # ---- values -----------------------------------------------------------------------------------------------
    def randomize_seed(self) -> None:
        self.seed_spin.setValue(random_seed())

    @property
    def seed_locked(self) -> bool:
        return self.seed_lock.isChecked()

    def set_seed_locked(self, locked: bool) -> None:
        self.seed_lock.setChecked(locked)

    def parameters(self) -> Parameters:
        return Parameters(
            width=self.width_spin.value(),
            height=self.height_spin.value(),
            num_frames=self.frames_spin.value(),
            fps=self.fps_combo.value(),
            steps=self.steps_spin.value(),
            guidance=round(self.guidance_spin.value(), 3),
            seed=self.seed_spin.value(),
            seed_locked=self.seed_locked,
        )

    # ---- the model --------------------------------------------------------------------------------------------
    def bind(self, model: FormModel) -> None:
        """Show the model's values and keep both in step from now on."""
        self._model = model
        model.changed.connect(self._on_model_changed)
        self._read_model()

    def field_values(self) -> dict[str, object]:
        p = self.parameters()
        return {
            "width": p.width,
            "height": p.height,
            "num_frames": p.num_frames,
            "fps": frame_rate_json(p.fps),  # as the request's dictionary holds it ("24000/1001")
            "steps": p.steps,
            "guidance": p.guidance,
            "seed": p.seed,
            SEED_LOCKED: p.seed_locked,
        }

    def _write_model(self) -> None:
        if self._model is not None and not self._syncing:
            self._model.update(self.field_values())

    def _on_model_changed(self, name: str) -> None:
        if name in FORM_FIELDS and not self._syncing:
            self._read_model()

    def _read_model(self) -> None:
        model = self._model
        if model is None:
            return
        self._syncing = True
        try:
            self.width_spin.setValue(model.get("width"))
            self.height_spin.setValue(model.get("height"))
            self.frames_spin.setValue(model.get("num_frames"))
            self._show_fps(model.get("fps"))
            self.steps_spin.setValue(model.get("steps"))
            self.guidance_spin.setValue(model.get("guidance"))
            if model.get("seed") is not None:
                self.seed_spin.setValue(model.get("seed"))
            self.seed_lock.setChecked(model.seed_locked)
        finally:
            self._syncing = False
        self._on_changed()

    def apply_request(self, request: GenerationRequest, lock_seed: bool | None = None) -> None:
        """Fill the form from a request (history entry or saved settings)."""
        if self._model is not None:
            self._model.apply_request(request, lock_seed)
            return
        self.width_spin.setValue(request.width)
        self.height_spin.setValue(request.height)
        self.frames_spin.setValue(request.num_frames)
        self._show_fps(request.fps)
        self.steps_spin.setValue(request.steps)
        self.guidance_spin.setValue(request.guidance)
        if request.seed is not None:
            self.seed_spin.setValue(request.seed)
        if lock_seed is not None:
            self.set_seed_locked(lock_seed)
        self._on_changed()
