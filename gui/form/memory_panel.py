"""Memory options: where the weights live (one exclusive choice), the per-job savers, 8-bit weights, and the
device and precision. Options this machine cannot use are disabled with the reason written beside them."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from core.estimate import JobShape
from core.job.request import DEVICES, DTYPES, MemoryOptions, Placement, Quantization, SpeedOptions
from gui.form.memory_advice import advise, describe_changes, recommend_options
from gui.support.i18n import QT_TRANSLATE_NOOP, core_text
from gui.support.system_monitor import SystemSample

PLACEMENT_TEXT: dict[Placement, tuple[str, str, str]] = {
    # placement: (objectName, label, tooltip on cost and saving); texts translated where shown (_label)
    Placement.GPU: (
        "allOnGpuCheck",
        QT_TRANSLATE_NOOP("MemoryPanel", "All on GPU"),
        QT_TRANSLATE_NOOP(
            "MemoryPanel",
            "Every component stays on the GPU. Fastest, and needs the most VRAM: about 30 GB for ContentV-8B in "
            "bf16 (transformer ~16 GB, T5-XXL ~9.5 GB, CLIPs and VAE ~1.5 GB) plus activations.",
        ),
    ),
    Placement.MODEL: (
        "modelOffloadCheck",
        QT_TRANSLATE_NOOP("MemoryPanel", "Model CPU offload"),
        QT_TRANSLATE_NOOP(
            "MemoryPanel",
            "Whole components take turns on the GPU; the others wait in system RAM. Peak VRAM is about the "
            "transformer (~16 GB in bf16, ~8 GB with 8-bit weights) plus activations. Costs a few seconds per job "
            "to move components; 24 GB cards.",
        ),
    ),
    Placement.SEQUENTIAL: (
        "sequentialOffloadCheck",
        QT_TRANSLATE_NOOP("MemoryPanel", "Sequential CPU offload"),
        QT_TRANSLATE_NOOP(
            "MemoryPanel",
            "Every layer is copied to the GPU just before it runs. Lowest VRAM (a few GB), but much slower: all "
            "weights cross PCIe again at every step. A last resort for 8 GB cards.",
        ),
    ),
    Placement.STREAMED: (
        "streamedOffloadCheck",
        QT_TRANSLATE_NOOP("MemoryPanel", "Streamed offload"),
        QT_TRANSLATE_NOOP(
            "MemoryPanel",
            "Transformer and T5 blocks stream from pinned system RAM on a side CUDA stream, the next block "
            "copying while the current one computes. Near the lowest VRAM (about two blocks of weights) and far "
            "faster than sequential offload; needs system RAM for all the weights. 8–16 GB cards.",
        ),
    ),
}

DEVICE_LABELS = {
    "auto": QT_TRANSLATE_NOOP("MemoryPanel", "Automatic"),
    "cuda": QT_TRANSLATE_NOOP("MemoryPanel", "NVIDIA GPU (CUDA)"),
    "mps": QT_TRANSLATE_NOOP("MemoryPanel", "Apple GPU (MPS)"),
    "cpu": QT_TRANSLATE_NOOP("MemoryPanel", "CPU (slow)"),
}
DTYPE_LABELS = {
    "auto": QT_TRANSLATE_NOOP("MemoryPanel", "Automatic"),
    "bfloat16": "bfloat16",
    "float16": "float16",
    "float32": QT_TRANSLATE_NOOP("MemoryPanel", "float32 (CPU; 2× memory)"),
}
QUANT_LABELS = {
    Quantization.NONE: QT_TRANSLATE_NOOP("MemoryPanel", "None (full precision)"),
    Quantization.INT8: QT_TRANSLATE_NOOP("MemoryPanel", "int8 weights"),
    Quantization.FP8: QT_TRANSLATE_NOOP("MemoryPanel", "fp8 weights"),
}


def _label(text: str) -> str:
    """A table entry above in the interface language (the tables are built at import, before any translator)."""
    return QCoreApplication.translate("MemoryPanel", text)


class MemoryPanel(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._unavailable: dict[str, str] = {}
        self._caps_known = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)

        # -- device and precision
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.device_combo = QComboBox()
        self.device_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.device_combo.setMinimumContentsLength(12)  # a long item must not widen the whole column
        self.device_combo.setObjectName("deviceCombo")
        self.device_combo.setAccessibleName(self.tr("Device"))
        for device in DEVICES:
            self.device_combo.addItem(_label(DEVICE_LABELS[device]), device)
        self.device_combo.setToolTip(self.tr("Automatic picks the NVIDIA GPU, then an Apple GPU, then the CPU."))
        self.dtype_combo = QComboBox()
        self.dtype_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.dtype_combo.setMinimumContentsLength(12)  # a long item must not widen the whole column
        self.dtype_combo.setObjectName("dtypeCombo")
        self.dtype_combo.setAccessibleName(self.tr("Precision"))
        for dtype in DTYPES:
            self.dtype_combo.addItem(_label(DTYPE_LABELS[dtype]), dtype)
        self.dtype_combo.setToolTip(
            self.tr(
                "Compute precision. Automatic: bfloat16 on GPUs that support it (RTX 30xx and newer), float16 on "
                "older ones, float32 on the CPU. The VAE always runs in float32."
            )
        )
        self.quant_combo = QComboBox()
        self.quant_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.quant_combo.setMinimumContentsLength(12)  # a long item must not widen the whole column
        self.quant_combo.setObjectName("quantizationCombo")
        self.quant_combo.setAccessibleName(self.tr("Quantization"))
        for quant in Quantization:
            self.quant_combo.addItem(_label(QUANT_LABELS[quant]), quant.value)
        self.quant_combo.setToolTip(
            self.tr(
                "Store the transformer's and T5's weights in 8 bits, one scale per output channel. Halves their VRAM "
                "(transformer ~16 → ~8 GB, T5 ~9.5 → ~4.8 GB) for a small loss of detail; each layer is widened "
                "back just before it runs, so steps are a little slower. fp8 keeps more range than int8. "
                "Changing it reloads the model."
            )
        )
        form.addRow(self.tr("Device"), self.device_combo)
        form.addRow(self.tr("Precision"), self.dtype_combo)
        form.addRow(self.tr("8-bit weights"), self.quant_combo)
        layout.addLayout(form)

        # -- placement: one exclusive choice
        heading = QLabel(self.tr("Where the weights live"))
        heading.setProperty("role", "subheading")
        layout.addWidget(heading)
        placements = QVBoxLayout()
        placements.setContentsMargins(8, 0, 0, 0)
        placements.setSpacing(2)
        self.placement_group = QButtonGroup(self)
        self.placement_group.setExclusive(True)
        self.placement_buttons: dict[Placement, QRadioButton] = {}
        self.placement_reasons: dict[Placement, QLabel] = {}
        for placement in Placement:
            name, label, tip = PLACEMENT_TEXT[placement]
            label, tip = _label(label), _label(tip)
            button = QRadioButton(label)
            button.setObjectName(name)
            button.setToolTip(tip)
            button.setAccessibleDescription(tip)
            reason = QLabel()
            reason.setObjectName(f"{name}Reason")
            reason.setProperty("role", "hint")
            reason.setWordWrap(True)
            reason.setContentsMargins(24, 0, 0, 2)  # under the button's text, not its indicator
            reason.hide()
            self.placement_group.addButton(button)
            self.placement_buttons[placement] = button
            self.placement_reasons[placement] = reason
            placements.addWidget(button)
            placements.addWidget(reason)
        self.placement_buttons[Placement.GPU].setChecked(True)
        layout.addLayout(placements)

        # -- per-job savers
        heading2 = QLabel(self.tr("Savers"))
        heading2.setProperty("role", "subheading")
        layout.addWidget(heading2)
        savers = QGridLayout()
        savers.setContentsMargins(8, 0, 0, 0)
        savers.setVerticalSpacing(2)
        self.vae_slicing = self._check(
            "vaeSlicingCheck",
            self.tr("VAE slicing"),
            self.tr(
                "Decode the video one sample at a time. Saves a little memory while decoding; costs almost nothing."
            ),
        )
        self.vae_tiling = self._check(
            "vaeTilingCheck",
            self.tr("VAE tiling"),
            self.tr(
                "Decode the video in overlapping spatial tiles. Saves several GB at the end of a job (768 × 432 × "
                "125 frames needs ~10 GB untiled); a little slower, and faint seams are possible."
            ),
        )
        self.attention_slicing = self._check(
            "attentionSlicingCheck",
            self.tr("Attention slicing"),
            self.tr(
                "Compute attention a slice of queries at a time: the same result with a smaller attention buffer. "
                "Helps where no fused attention kernel runs (older GPUs, float32); slower."
            ),
        )
        self.text_encoders_off = self._check(
            "textEncodersOffCheck",
            self.tr("Text encoders off GPU after encoding"),
            self.tr(
                "Move CLIP and T5 to system RAM once the prompt is encoded: frees about 11 GB for the transformer. "
                "A new prompt moves them back first (a few seconds). Only with 'All on GPU'; the offload modes "
                "manage the text encoders themselves."
            ),
        )
        self.text_encoders_reason = QLabel()
        self.text_encoders_reason.setObjectName("textEncodersOffReason")
        self.text_encoders_reason.setProperty("role", "hint")
        self.text_encoders_reason.setWordWrap(True)
        self.text_encoders_reason.setContentsMargins(24, 0, 0, 0)
        savers.addWidget(self.vae_slicing, 0, 0)
        savers.addWidget(self.vae_tiling, 0, 1)
        savers.addWidget(self.attention_slicing, 1, 0, 1, 2)
        savers.addWidget(self.text_encoders_off, 2, 0, 1, 2)
        savers.addWidget(self.text_encoders_reason, 3, 0, 1, 2)
        layout.addLayout(savers)

        self.machine_label = QLabel(self.tr("Checking this machine…"))
        self.machine_label.setObjectName("machineLabel")
        self.machine_label.setProperty("role", "hint")
        self.machine_label.setWordWrap(True)
        layout.addWidget(self.machine_label)

        # -- advice before a job: will it fit, how long (the estimator against NVML's free memory)
        advice_row = QHBoxLayout()
        advice_row.setContentsMargins(0, 0, 0, 0)
        self.advice_label = QLabel()
        self.advice_label.setObjectName("memoryAdviceLabel")
        self.advice_label.setProperty("role", "hint")
        self.advice_label.setWordWrap(True)
        self.recommend_button = QPushButton(self.tr("Recommend"))
        self.recommend_button.setObjectName("recommendButton")
        self.recommend_button.setToolTip(
            self.tr("Choose the fastest memory settings predicted to fit in the GPU memory that is free now.")
        )
        self.recommend_button.clicked.connect(self.apply_recommendation)
        advice_row.addWidget(self.advice_label, 1)
        advice_row.addWidget(self.recommend_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(advice_row)
        self._caps: object = None
        self._sample: SystemSample | None = None
        self._shape = JobShape()
        self._recommendation_note = ""
        self._speed = SpeedOptions()  # the Speed group's choices, where they change memory or time
        self._calibrated = False

        for combo in (self.device_combo, self.dtype_combo, self.quant_combo):
            combo.currentIndexChanged.connect(self._on_changed)
        self.placement_group.buttonToggled.connect(lambda _b, on: on and self._on_changed())
        for check in (self.vae_slicing, self.vae_tiling, self.attention_slicing, self.text_encoders_off):
            check.toggled.connect(self._on_changed)
        self._update_dependent()
        self._refresh_advice()

    @staticmethod
    def _check(name: str, text: str, tip: str) -> QCheckBox:
        check = QCheckBox(text)
        check.setObjectName(name)
        check.setToolTip(tip)
        check.setAccessibleDescription(tip)
        return check

    # ---- values -----------------------------------------------------------------------------------------------
    def placement(self) -> Placement:
        for placement, button in self.placement_buttons.items():
            if button.isChecked():
                return placement
        return Placement.GPU

    def options(self) -> MemoryOptions:
        return MemoryOptions(
            device=str(self.device_combo.currentData()),
            dtype=str(self.dtype_combo.currentData()),
            placement=self.placement(),
            vae_slicing=self.vae_slicing.isChecked(),
            vae_tiling=self.vae_tiling.isChecked(),
            attention_slicing=self.attention_slicing.isChecked(),
            quantization=Quantization(self.quant_combo.currentData()),
            text_encoders_off_gpu=self.text_encoders_off.isChecked(),
        )

    def set_options(self, options: MemoryOptions) -> None:
        self.blockSignals(True)  # one `changed` at the end, not one per control
        try:
            self.device_combo.setCurrentIndex(max(0, self.device_combo.findData(options.device)))
            self.dtype_combo.setCurrentIndex(max(0, self.dtype_combo.findData(options.dtype)))
            self.quant_combo.setCurrentIndex(max(0, self.quant_combo.findData(options.quantization.value)))
            placement = options.placement
            if placement.value in self._unavailable:
                placement = Placement.GPU  # saved on another machine; this one cannot do it
            self.placement_buttons[placement].setChecked(True)
            self.vae_slicing.setChecked(options.vae_slicing)
            self.vae_tiling.setChecked(options.vae_tiling)
            self.attention_slicing.setChecked(options.attention_slicing)
            self.text_encoders_off.setChecked(options.text_encoders_off_gpu)
        finally:
            self.blockSignals(False)
        self._on_changed()

    # ---- what this machine can do -----------------------------------------------------------------------------
    def set_capabilities(self, caps: object, unavailable: dict[str, str]) -> None:
        """caps: core.engine.devices.Capabilities; unavailable: core.engine.devices.unavailable_reasons(caps)."""
        self._caps_known = True
        self._caps = caps
        self._unavailable = dict(unavailable)
        for placement, button in self.placement_buttons.items():
            reason = core_text(self._unavailable.get(placement.value, ""))
            button.setEnabled(not reason)
            self.placement_reasons[placement].setText(reason)
            self.placement_reasons[placement].setVisible(bool(reason))
            if reason:
                button.setToolTip(
                    self.tr("Unavailable here: {reason}").format(reason=reason)
                    + "\n\n"
                    + _label(PLACEMENT_TEXT[placement][2])
                )
        if self.placement().value in self._unavailable:
            self.placement_buttons[Placement.GPU].setChecked(True)

        cuda = bool(getattr(caps, "cuda", False))
        mps = bool(getattr(caps, "mps", False))
        bf16 = bool(getattr(caps, "bf16", False))
        self._enable_item(
            self.device_combo, "cuda", cuda, self.tr("No CUDA GPU is visible to PyTorch on this machine.")
        )
        self._enable_item(self.device_combo, "mps", mps, self.tr("This machine has no Apple GPU."))
        self._enable_item(
            self.dtype_combo, "bfloat16", bf16 or not cuda, self.tr("This GPU does not support bfloat16; use float16.")
        )
        if not cuda and not mps:
            self.placement_buttons[Placement.GPU].setText(self.tr("All on one device (the CPU here)"))
        name = getattr(caps, "cuda_name", "")
        total = int(getattr(caps, "cuda_total_bytes", 0) or 0)
        if cuda:
            self.machine_label.setText(
                self.tr("This machine: {gpu}, {vram} GB of VRAM.").format(gpu=name, vram=f"{total / 2**30:.0f}")
            )
        elif mps:
            self.machine_label.setText(self.tr("This machine: Apple GPU (MPS)."))
        else:
            self.machine_label.setText(
                self.tr("This machine has no GPU that PyTorch can use: jobs run on the CPU (slowly).")
            )
        self._update_dependent()
        self.changed.emit()

    @staticmethod
    def _enable_item(combo: QComboBox, data: str, enabled: bool, reason: str) -> None:
        model = combo.model()
        index = combo.findData(data)
        if index < 0 or not isinstance(model, QStandardItemModel):
            return
        item = model.item(index)
        item.setEnabled(enabled)
        item.setToolTip("" if enabled else reason)
        if not enabled and combo.currentIndex() == index:
            combo.setCurrentIndex(0)

    @property
    def unavailable(self) -> dict[str, str]:
        return dict(self._unavailable)

    # ---- dependent controls -----------------------------------------------------------------------------------
    def _on_changed(self, *_: object) -> None:
        self._update_dependent()
        self._refresh_advice()
        if not self.signalsBlocked():
            self.changed.emit()

    def _update_dependent(self) -> None:
        no_gpu = self._caps_known and Placement.MODEL.value in self._unavailable
        device_cpu = self.device_combo.currentData() == "cpu"
        if self.placement() is not Placement.GPU:
            reason = self.tr("Only with 'All on GPU': the offload modes manage the text encoders themselves.")
        elif no_gpu or device_cpu:
            reason = self.tr("Only on a GPU: on the CPU there is no VRAM to free.")
        else:
            reason = ""
        self.text_encoders_off.setEnabled(not reason)
        self.text_encoders_reason.setText(reason)
        self.text_encoders_reason.setVisible(bool(reason))

    # ---- advice before a job (issue 8, item 6) -----------------------------------------------------------------
    def set_job_shape(self, shape: JobShape) -> None:
        """The size, length, steps and guidance of the job in the form."""
        if shape != self._shape:
            self._shape = shape
            self._recommendation_note = ""
            self._refresh_advice()

    def set_speed(self, speed: SpeedOptions, calibrated: bool = False) -> None:
        """The speed options (batched guidance's memory, the step cache's time); `calibrated`: this model has a
        MagCache calibration, so a step cache skips more."""
        if (speed, calibrated) != (self._speed, self._calibrated):
            self._speed, self._calibrated = speed, calibrated
            self._refresh_advice()

    def update_sample(self, sample: SystemSample) -> None:
        """A reading from the system monitor (NVML's free GPU memory, system RAM)."""
        self._sample = sample
        self._refresh_advice()

    def advice_text(self) -> str:
        return self.advice_label.text()

    def apply_recommendation(self) -> None:
        found = recommend_options(self._shape, self.options(), self._caps, self._sample, self._speed, self._calibrated)
        if found is None:
            return
        old = self.options()
        self.set_options(found.options)
        changes = describe_changes(old, found.options)
        if not found.fits:
            self._recommendation_note = self.tr(
                "Nothing fits in the free GPU memory; these are the lowest-memory settings. "
                "Try a smaller size or fewer frames."
            )
        elif changes:
            self._recommendation_note = self.tr("Recommended: {0}.").format(", ".join(changes))
        else:
            self._recommendation_note = self.tr("The current settings are already the fastest that fit.")
        self._refresh_advice()

    def _refresh_advice(self) -> None:
        if not hasattr(self, "advice_label"):
            return  # still building the panel
        caps = self._caps
        has_gpu_reading = self._sample is not None and self._sample.gpu is not None
        can_recommend = has_gpu_reading and getattr(caps, "accelerator", None) is not None
        self.recommend_button.setEnabled(can_recommend)
        if not can_recommend:
            self.recommend_button.setToolTip(self.tr("Needs a GPU whose free memory can be read (NVIDIA, NVML)."))
        if caps is None:
            self.advice_label.setText(self.tr("Estimating needs the machine check to finish…"))
            return
        advice = advise(self._shape, self.options(), caps, self._sample, self._speed, self._calibrated)
        peak = f"{advice.peak_bytes / 2**30:.1f}"
        stage = {
            "encoding": self.tr("while encoding the prompt"),
            "denoising": self.tr("while denoising"),
            "decoding": self.tr("while decoding"),
        }[advice.peak_stage]
        duration = self._duration(advice.total_s)
        if advice.on_cpu:
            text = self.tr("Runs on the CPU: about {0} GB of RAM; very slow (an estimate of {1}).")
            text = text.format(peak, duration)
        elif advice.free_bytes is None:
            text = self.tr("Needs about {0} GB of GPU memory at its peak ({1}); about {2} on this GPU.").format(
                peak, stage, duration
            )
        elif advice.fits:
            text = self.tr("Fits: about {0} GB at its peak ({1}), {2} GB free. About {3} ({4} s per step).").format(
                peak, stage, f"{advice.free_bytes / 2**30:.1f}", duration, f"{advice.s_per_step:.1f}"
            )
        else:
            text = self.tr(
                "Will not fit: needs about {0} GB ({1}), {2} GB free. Press Recommend for settings that fit."
            ).format(peak, stage, f"{advice.free_bytes / 2**30:.1f}")
        if self._recommendation_note:
            text = f"{self._recommendation_note} {text}"
        self.advice_label.setText(text)
        self.advice_label.setProperty("fits", "" if advice.fits is None else ("yes" if advice.fits else "no"))

    def _duration(self, seconds: float) -> str:
        if seconds < 90:
            return self.tr("{0} s").format(f"{seconds:.0f}")
        if seconds < 90 * 60:
            return self.tr("{0} min").format(f"{seconds / 60:.0f}")
        return self.tr("{0} h").format(f"{seconds / 3600:.1f}")
