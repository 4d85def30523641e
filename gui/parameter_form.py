"""Size, length, frame rate, steps, guidance and seed.

Sizes snap to multiples of 16 and frame counts to 4k+1 when an entry is finished, with a note saying what
changed, so what the user sees is what the engine will run.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QWidget,
)

from core.request import (
    DEFAULT_FPS,
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
from gui.resources import ui_icon
from gui.seed_spin import SeedSpinBox


@dataclass(frozen=True)
class SizePreset:
    label: str
    width: int
    height: int


SIZE_PRESETS: tuple[SizePreset, ...] = (
    SizePreset("Landscape 768 × 432 (official)", 768, 432),
    SizePreset("Portrait 432 × 768", 432, 768),
    SizePreset("Square 576 × 576", 576, 576),
    SizePreset("Small landscape 512 × 288 (quick)", 512, 288),
)
CUSTOM_LABEL = "Custom"


def duration_text(frames: int, fps: int) -> str:
    if fps <= 0:
        return ""
    return f"{snap_frames(frames) / fps:.2f} s at {fps} fps"


@dataclass(frozen=True)
class Parameters:
    width: int
    height: int
    num_frames: int
    fps: int
    steps: int
    guidance: float
    seed: int
    seed_locked: bool


class ParameterForm(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
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
            self.preset_combo.addItem(preset.label, f"{preset.width}x{preset.height}")
        self.preset_combo.addItem(CUSTOM_LABEL, None)
        self.preset_combo.setToolTip("Common sizes. ContentV was trained at 768 × 432.")
        form.addRow("Size", self.preset_combo)

        self.width_spin = self._spin("widthSpin", SIZE_MULTIPLE, MAX_SIDE, SIZE_MULTIPLE, DEFAULT_WIDTH, " px")
        self.height_spin = self._spin("heightSpin", SIZE_MULTIPLE, MAX_SIDE, SIZE_MULTIPLE, DEFAULT_HEIGHT, " px")
        self.width_spin.setAccessibleName("Width")
        self.height_spin.setAccessibleName("Height")
        tip = "Pixels; a multiple of 16 (other values are rounded to the nearest one)."
        self.width_spin.setToolTip(tip)
        self.height_spin.setToolTip(tip)
        self.swap_button = QToolButton()
        self.swap_button.setObjectName("swapSizeButton")
        self.swap_button.setText("⇄")
        self.swap_button.setToolTip("Swap width and height (landscape ↔ portrait).")
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
        form.addRow("Width × height", size_row)
        self.size_note = self._note("sizeNote")
        form.addRow("", self.size_note)

        # -- length
        self.frames_spin = self._spin("framesSpin", 1, MAX_FRAMES, VAE_TEMPORAL_FACTOR, DEFAULT_FRAMES, " frames")
        self.frames_spin.setAccessibleName("Frames")
        self.frames_spin.setToolTip(
            "Number of frames; the video VAE needs 4k + 1 (…, 97, 121, 125, …). Other counts are rounded down."
        )
        self.duration_label = QLabel()
        self.duration_label.setObjectName("durationLabel")
        self.duration_label.setProperty("role", "hint")
        frames_row = QHBoxLayout()
        frames_row.addWidget(self.frames_spin, 1)
        frames_row.addWidget(self.duration_label)
        form.addRow("Length", frames_row)
        self.frames_note = self._note("framesNote")
        form.addRow("", self.frames_note)

        self.fps_spin = self._spin("fpsSpin", 1, 240, 1, DEFAULT_FPS, " fps")
        self.fps_spin.setAccessibleName("Frame rate")
        self.fps_spin.setToolTip("Playback frame rate of the saved clip (ContentV was trained on 24 fps).")
        form.addRow("Frame rate", self.fps_spin)

        # -- sampling
        self.steps_spin = self._spin("stepsSpin", 1, 1000, 1, DEFAULT_STEPS, "")
        self.steps_spin.setAccessibleName("Steps")
        self.steps_spin.setToolTip("Denoising steps. 50 is the official setting; fewer is faster and rougher.")
        form.addRow("Steps", self.steps_spin)

        self.guidance_spin = QDoubleSpinBox()
        self.guidance_spin.setObjectName("guidanceSpin")
        self.guidance_spin.setAccessibleName("Guidance")
        self.guidance_spin.setRange(0.0, 30.0)
        self.guidance_spin.setSingleStep(0.5)
        self.guidance_spin.setDecimals(1)
        self.guidance_spin.setValue(DEFAULT_GUIDANCE)
        self.guidance_spin.setToolTip(
            "How strongly the video follows the prompt (classifier-free guidance). 6 is the official setting; "
            "1 or less skips the negative prompt and runs about twice as fast."
        )
        form.addRow("Guidance", self.guidance_spin)

        # -- seed
        self.seed_spin = SeedSpinBox()
        self.seed_spin.setObjectName("seedSpin")
        self.seed_spin.setAccessibleName("Seed")
        self.seed_spin.setToolTip("The same seed with the same settings gives the same clip.")
        self.random_seed_button = QToolButton()
        self.random_seed_button.setObjectName("randomSeedButton")
        self.random_seed_button.setIcon(ui_icon("dice"))
        self.random_seed_button.setToolTip("Pick a new random seed now.")
        self.random_seed_button.setAccessibleName("Random seed")
        self.random_seed_button.clicked.connect(self.randomize_seed)
        self.seed_lock = QToolButton()
        self.seed_lock.setObjectName("seedLockButton")
        self.seed_lock.setCheckable(True)
        self.seed_lock.setAccessibleName("Lock seed")
        self.seed_lock.toggled.connect(self._on_lock_toggled)
        seed_row = QHBoxLayout()
        seed_row.setSpacing(4)
        seed_row.addWidget(self.seed_spin, 1)
        seed_row.addWidget(self.random_seed_button)
        seed_row.addWidget(self.seed_lock)
        form.addRow("Seed", seed_row)
        self._on_lock_toggled(False)
        self.seed_spin.setValue(random_seed())

        # -- wiring
        self._snapping = False  # True while the form itself rounds a value (keeps the note about it)
        self._size_message = ""
        self._size_snapped: tuple[int, int] | None = None
        self._frames_message = ""
        self._frames_snapped: int | None = None
        self.preset_combo.activated.connect(self._on_preset)
        self.width_spin.editingFinished.connect(lambda: self._snap_size(self.width_spin, "Width"))
        self.height_spin.editingFinished.connect(lambda: self._snap_size(self.height_spin, "Height"))
        self.frames_spin.editingFinished.connect(self._snap_frames)
        for spin in (self.width_spin, self.height_spin, self.frames_spin, self.fps_spin, self.steps_spin):
            spin.valueChanged.connect(self._on_changed)
        self.guidance_spin.valueChanged.connect(self._on_changed)
        self.seed_spin.valueChanged.connect(self._on_changed)
        # A seed typed by hand is meant to be used: keep it instead of drawing a new one at Generate.
        self.seed_spin.edited.connect(lambda: self.set_seed_locked(True))
        self._on_changed()

    # ---- building blocks --------------------------------------------------------------------------------------
    @staticmethod
    def _spin(name: str, lo: int, hi: int, step: int, value: int, suffix: str) -> QSpinBox:
        spin = QSpinBox()
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
        self.duration_label.setText(duration_text(self.frames_spin.value(), self.fps_spin.value()))
        self._sync_preset()
        self._render_notes()
        self.changed.emit()

    def _size_unchanged(self) -> bool:
        return (self.width_spin.value(), self.height_spin.value()) == self._size_snapped

    def _render_notes(self) -> None:
        frames = self.frames_spin.value()
        if snap_frames(frames) != frames:  # typed but not finished yet, or set from outside: say what will run
            self._set_note(
                self.frames_note, f"{frames} frames will run as {snap_frames(frames)} (the VAE needs 4k + 1)."
            )
        else:
            self._set_note(self.frames_note, self._frames_message)
        live = [
            f"The {name} becomes {snap_size(spin.value())} (a multiple of 16)."
            for spin, name in ((self.width_spin, "width"), (self.height_spin, "height"))
            if spin.value() % SIZE_MULTIPLE
        ]
        self._set_note(self.size_note, " ".join(live) or self._size_message)

    @staticmethod
    def _set_note(label: QLabel, text: str) -> None:
        label.setText(text)
        label.setVisible(bool(text))

    def _snap_size(self, spin: QSpinBox, name: str) -> None:
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
        self._size_message = f"{name} {value} was rounded to {snapped}: sizes are multiples of 16."
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
        self._frames_message = f"{value} frames was rounded to {snapped}: the video VAE needs 4k + 1 frames."
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
            "Seed locked: every job uses this seed. Click to draw a new seed for each job."
            if locked
            else "Seed unlocked: each job draws a new random seed. Click to keep this one."
        )
        self.changed.emit()

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
            fps=self.fps_spin.value(),
            steps=self.steps_spin.value(),
            guidance=round(self.guidance_spin.value(), 3),
            seed=self.seed_spin.value(),
            seed_locked=self.seed_locked,
        )

    def apply_request(self, request: GenerationRequest, lock_seed: bool | None = None) -> None:
        """Fill the form from a request (history entry or saved settings)."""
        self.width_spin.setValue(request.width)
        self.height_spin.setValue(request.height)
        self.frames_spin.setValue(request.num_frames)
        self.fps_spin.setValue(request.fps)
        self.steps_spin.setValue(request.steps)
        self.guidance_spin.setValue(request.guidance)
        if request.seed is not None:
            self.seed_spin.setValue(request.seed)
        if lock_seed is not None:
            self.set_seed_locked(lock_seed)
        self._on_changed()
