"""Speed options (issue 9): the step cache, the attention kernel, guidance batching and regional compile.

The panel shows what each choice costs and what this machine can do: kernels that cannot run here are greyed
out with the reason (as the memory panel does for placements), Auto names the kernel it will pick, and the
step-cache note says whether this model has a MagCache calibration yet. torch (and core modules that import it)
is imported only inside the functions that need it, once the engine has probed the machine.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from core.job.request import ATTENTION_BACKENDS, GuidanceBatching, MemoryOptions, SpeedOptions, StepCache
from gui.support.i18n import QT_TRANSLATE_NOOP, core_text

CONTEXT = "SpeedPanel"

STEP_CACHE_TEXT: dict[StepCache, tuple[str, str]] = {
    # level: (label, tooltip on what it does and its quality cost); translated where shown (_label)
    StepCache.OFF: (
        QT_TRANSLATE_NOOP("SpeedPanel", "Off"),
        QT_TRANSLATE_NOOP("SpeedPanel", "Every step computes every block: the official result, the slowest."),
    ),
    StepCache.FAST: (
        QT_TRANSLATE_NOOP("SpeedPanel", "Fast"),
        QT_TRANSLATE_NOOP(
            "SpeedPanel",
            "Reuses the transformer's work between steps where it barely changes. With this model's MagCache "
            "calibration it skips about a third of the transformer calls; without one, the First-Block cache "
            "skips only steps whose first block changed by less than 5 % (conservative, often none). "
            "A small quality cost: fine detail can differ slightly from the uncached clip with the same seed.",
        ),
    ),
    StepCache.FASTER: (
        QT_TRANSLATE_NOOP("SpeedPanel", "Faster"),
        QT_TRANSLATE_NOOP(
            "SpeedPanel",
            "Reuses more: with a MagCache calibration about half the transformer calls are skipped; without "
            "one, TaylorSeer predicts the attention of two steps in three after two warm-up steps. A visible "
            "quality cost is possible (softer detail, small drifts in motion); compare with Off on a short clip.",
        ),
    ),
}

KERNEL_LABELS: dict[str, str] = {
    "auto": QT_TRANSLATE_NOOP("SpeedPanel", "Auto"),
    "sdpa": QT_TRANSLATE_NOOP("SpeedPanel", "PyTorch's default"),
    "math": QT_TRANSLATE_NOOP("SpeedPanel", "PyTorch math (exact, slowest)"),
    "efficient": QT_TRANSLATE_NOOP("SpeedPanel", "Memory-efficient (PyTorch)"),
    "flash": QT_TRANSLATE_NOOP("SpeedPanel", "Flash (PyTorch, FlashAttention-2)"),
    "cudnn": QT_TRANSLATE_NOOP("SpeedPanel", "cuDNN fused attention"),
    "flash-attn": QT_TRANSLATE_NOOP("SpeedPanel", "flash-attn package (FA2 / FA3)"),
    "sage": QT_TRANSLATE_NOOP("SpeedPanel", "SageAttention (int8, approximate)"),
}

BATCHING_TEXT: dict[GuidanceBatching, tuple[str, str]] = {
    GuidanceBatching.SEQUENTIAL: (
        QT_TRANSLATE_NOOP("SpeedPanel", "One after the other"),
        QT_TRANSLATE_NOOP(
            "SpeedPanel",
            "The two guidance branches run one after the other: the official numbers bit for bit and half the "
            "activation memory. As fast as batching at ContentV-8B's size (measured on an H100).",
        ),
    ),
    GuidanceBatching.BATCHED: (
        QT_TRANSLATE_NOOP("SpeedPanel", "Batched"),
        QT_TRANSLATE_NOOP(
            "SpeedPanel",
            "Both guidance branches as one batch of two: may be faster for small clips, needs about twice the "
            "activation memory (about 2.5 GB more at 768 × 432 × 125), and in bf16 differs slightly from the "
            "official numbers.",
        ),
    ),
    GuidanceBatching.AUTO: (
        QT_TRANSLATE_NOOP("SpeedPanel", "Automatic"),
        QT_TRANSLATE_NOOP(
            "SpeedPanel",
            "Measures both ways on the first job of a size and keeps the faster one for the next jobs of that "
            "size; the estimate assumes one after the other.",
        ),
    ),
}


def _label(text: str) -> str:
    """A table entry above in the interface language (the tables are built at import, before any translator)."""
    return QCoreApplication.translate(CONTEXT, text)


@dataclass(frozen=True)
class KernelAvailability:
    """Which attention kernels can run with the current device and precision, and what Auto picks."""

    auto_choice: str  # a key of KERNEL_LABELS
    unavailable: dict[str, str]  # kernel -> the reason it cannot run here (English, core's words)


def kernel_availability(environment: Any) -> KernelAvailability:
    """From core.engine.attention.AttentionEnvironment (a fake one in tests: any GPU generation)."""
    from core.engine.attention import choose_attention_backend, unavailable_reason

    reasons = {name: unavailable_reason(name, environment) for name in ATTENTION_BACKENDS if name != "auto"}
    unavailable = {name: reason for name, reason in reasons.items() if reason is not None}
    return KernelAvailability(choose_attention_backend(environment), unavailable)


def attention_environment(capabilities: Any, memory: MemoryOptions) -> Any | None:
    """The attention environment a job with these memory options would see on this machine; None when the
    options cannot run here (the form already says why)."""
    from core.engine.attention import detect_attention_environment
    from core.engine.devices import resolve_device
    from core.errors import StudioError

    try:
        resolved = resolve_device(memory, capabilities)
    except StudioError:
        return None
    return detect_attention_environment(resolved.device, resolved.dtype_name)


def has_calibration(model_dir: str) -> bool | None:
    """Whether a MagCache calibration is stored for this model folder; None without a folder."""
    if not model_dir:
        return None
    from core.engine.step_cache import load_calibration

    return load_calibration(model_dir) is not None


class SpeedPanel(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._availability: KernelAvailability | None = None
        self._calibrated: bool | None = None
        self._context_key: tuple[object, ...] | None = None
        self._fallback_note = ""

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self.step_cache_combo = self._combo("stepCacheCombo", self.tr("Step cache"))
        for level in StepCache:
            label, tip = STEP_CACHE_TEXT[level]
            self.step_cache_combo.addItem(_label(label), level.value)
            self.step_cache_combo.setItemData(
                self.step_cache_combo.count() - 1, _label(tip), Qt.ItemDataRole.ToolTipRole
            )
        self.step_cache_note = self._hint("stepCacheNote")

        self.attention_combo = self._combo("attentionCombo", self.tr("Attention kernel"))
        for name in ATTENTION_BACKENDS:
            self.attention_combo.addItem(_label(KERNEL_LABELS[name]), name)
        self.attention_combo.setToolTip(
            self.tr(
                "The kernel that computes attention, about four fifths of the transformer's time. Auto picks the "
                "fastest one this GPU and precision can run; a kernel chosen by name is used or the job is refused."
            )
        )
        self.attention_note = self._hint("attentionNote")

        self.batching_combo = self._combo("guidanceBatchingCombo", self.tr("Guidance"))
        for mode in GuidanceBatching:
            label, tip = BATCHING_TEXT[mode]
            self.batching_combo.addItem(_label(label), mode.value)
            self.batching_combo.setItemData(self.batching_combo.count() - 1, _label(tip), Qt.ItemDataRole.ToolTipRole)

        self.compile_check = QCheckBox(self.tr("Compile the transformer's blocks"))
        self.compile_check.setObjectName("compileCheck")
        compile_tip = self.tr(
            "torch.compile of the repeated transformer blocks (regional compile): faster steps on a GPU. The first "
            "job after loading, or after a change of size, pays the compile time (often a minute or more); the "
            "history shows how long it took."
        )
        self.compile_check.setToolTip(compile_tip)
        self.compile_check.setAccessibleDescription(compile_tip)
        self.compile_note = self._hint("compileNote")
        self.compile_note.setText(self.tr("The first job pays the compile time."))

        form.addRow(self.tr("Step cache"), self.step_cache_combo)
        form.addRow("", self.step_cache_note)
        form.addRow(self.tr("Attention kernel"), self.attention_combo)
        form.addRow("", self.attention_note)
        form.addRow(self.tr("Guidance"), self.batching_combo)
        form.addRow("", self.compile_check)
        form.addRow("", self.compile_note)
        layout.addLayout(form)

        for combo in (self.step_cache_combo, self.attention_combo, self.batching_combo):
            combo.currentIndexChanged.connect(self._on_changed)
        self.attention_combo.currentIndexChanged.connect(self._forget_fallback)
        self.compile_check.toggled.connect(self._on_changed)
        self._update_notes()

    def _combo(self, name: str, accessible: str) -> QComboBox:
        combo = QComboBox()
        combo.setObjectName(name)
        combo.setAccessibleName(accessible)
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(12)  # a long item must not widen the whole column
        return combo

    @staticmethod
    def _hint(name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setProperty("role", "hint")
        label.setWordWrap(True)
        return label

    # ---- values -----------------------------------------------------------------------------------------------
    def options(self) -> SpeedOptions:
        return SpeedOptions(
            attention_backend=str(self.attention_combo.currentData()),
            step_cache=StepCache(self.step_cache_combo.currentData()),
            guidance_batching=GuidanceBatching(self.batching_combo.currentData()),
            compile=self.compile_check.isChecked(),
        )

    def set_options(self, options: SpeedOptions) -> None:
        self.blockSignals(True)  # one `changed` at the end, not one per control
        try:
            self.step_cache_combo.setCurrentIndex(max(0, self.step_cache_combo.findData(options.step_cache.value)))
            self.batching_combo.setCurrentIndex(max(0, self.batching_combo.findData(options.guidance_batching.value)))
            self.compile_check.setChecked(options.compile)
            kernel = options.attention_backend
            reasons = self._availability.unavailable if self._availability else {}
            usable = "auto" if kernel in reasons else kernel  # saved elsewhere or with another precision
            self.attention_combo.setCurrentIndex(max(0, self.attention_combo.findData(usable)))
            if usable != kernel:
                self._fallback_note = self._fallback_text(kernel, reasons[kernel])
        finally:
            self.blockSignals(False)
        self._on_changed()

    # ---- what this machine can do -----------------------------------------------------------------------------
    @property
    def calibrated(self) -> bool | None:
        """Whether the chosen model has a MagCache calibration (None: no model, or not checked yet)."""
        return self._calibrated

    @property
    def availability(self) -> KernelAvailability | None:
        return self._availability

    def set_context(self, capabilities: Any, memory: MemoryOptions, model_dir: str) -> None:
        """The machine (None until the engine has probed it), the memory options (device and precision decide
        the kernels) and the model folder (its calibration). Cheap to call again: it recomputes on change."""
        if capabilities is None:
            return
        key = (id(capabilities), memory.device, memory.dtype, memory.placement)
        if key != self._context_key:
            self._context_key = key
            environment = attention_environment(capabilities, memory)
            if environment is not None:
                self.set_environment(environment)
        self.set_calibrated(has_calibration(model_dir))

    def set_environment(self, environment: Any) -> None:
        """core.engine.attention.AttentionEnvironment: grey out the kernels it cannot run, with the reason."""
        self._availability = kernel_availability(environment)
        model = self.attention_combo.model()
        assert isinstance(model, QStandardItemModel)
        for index in range(self.attention_combo.count()):
            name = str(self.attention_combo.itemData(index))
            item = model.item(index)
            reason = self._availability.unavailable.get(name)
            item.setEnabled(reason is None)
            text = _label(KERNEL_LABELS[name])
            if name == "auto":
                chosen = _label(KERNEL_LABELS[self._availability.auto_choice])
                text = self.tr("Auto ({kernel} here)").format(kernel=chosen)
            elif reason is not None:
                text = self.tr("{kernel} — unavailable").format(kernel=text)
            item.setText(text)
            item.setToolTip(self.tr("Unavailable here: {reason}.").format(reason=core_text(reason)) if reason else "")
        current = str(self.attention_combo.currentData())
        if current in self._availability.unavailable:
            self.set_options(dataclasses.replace(self.options(), attention_backend="auto"))
            self._fallback_note = self._fallback_text(current, self._availability.unavailable[current])
        self._update_notes()

    def set_calibrated(self, calibrated: bool | None) -> None:
        if calibrated != self._calibrated:
            self._calibrated = calibrated
            self._update_notes()
            self.changed.emit()  # the estimate of a cached job's time depends on it

    def kernel_reason(self, name: str) -> str:
        """Why `name` cannot run here ("" when it can, or before the machine is known)."""
        if self._availability is None:
            return ""
        return core_text(self._availability.unavailable.get(name, ""))

    def _fallback_text(self, kernel: str, reason: str) -> str:
        return self.tr("{kernel} cannot run here ({reason}); using Auto.").format(
            kernel=_label(KERNEL_LABELS.get(kernel, kernel)), reason=core_text(reason)
        )

    def _forget_fallback(self) -> None:
        """A kernel chosen after the fallback: the note about the saved one no longer applies."""
        self._fallback_note = ""
        self._update_notes()

    # ---- notes ------------------------------------------------------------------------------------------------
    def _on_changed(self, *_: object) -> None:
        self._update_notes()
        if not self.signalsBlocked():
            self.changed.emit()

    def _update_notes(self) -> None:
        level = StepCache(self.step_cache_combo.currentData())
        self.step_cache_combo.setToolTip(_label(STEP_CACHE_TEXT[level][1]))
        self.batching_combo.setToolTip(_label(BATCHING_TEXT[GuidanceBatching(self.batching_combo.currentData())][1]))
        if self._calibrated is None:
            note = self.tr("MagCache calibration: choose a model to check.")
        elif self._calibrated:
            note = self.tr("This model has a MagCache calibration: Fast and Faster use MagCache.")
        else:
            note = self.tr(
                "No MagCache calibration for this model yet: one is recorded during the next job with the step "
                "cache off and at least 8 steps. Until then Fast uses the First-Block cache, Faster TaylorSeer."
            )
        self.step_cache_note.setText(note)

        if self._availability is None:
            attention = self.tr("Which kernels run here is known once the engine has started.")
        else:
            chosen = _label(KERNEL_LABELS[self._availability.auto_choice])
            attention = self.tr("Auto uses {kernel} here.").format(kernel=chosen)
            if self._availability.unavailable:
                attention += " " + self.tr("Greyed-out kernels cannot run here; point at one for the reason.")
        if self._fallback_note:
            attention = f"{self._fallback_note} {attention}"
        self.attention_note.setText(attention)
