"""The "GPUs" choice: how many GPUs one job runs on and how it is divided between them, with the speed-up the
estimator expects for each. Shown only on a machine with more than one CUDA GPU; everywhere else jobs run on one.

The panel holds no estimates of its own: the window hands it the estimator's figures for the job in the form
(`set_estimates`) and the split `auto` would choose, with its reason (`set_auto_choice`)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from core.job.request import ParallelOptions, Split
from gui.support.i18n import core_text


@dataclass(frozen=True)
class GpuFigures:
    """What the estimator expects of the job in the form on `gpus` GPUs (core.estimate's per-split figures)."""

    gpus: int
    split: str
    speedup: float
    seconds_per_step: float
    per_gpu_peak_bytes: int


class GpusPanel(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._devices = 0
        self._figures: dict[tuple[int, str], GpuFigures] = {}
        self._auto_split = ""
        self._auto_reason = ""
        # What was asked for, kept while this machine has fewer GPUs (or before it is known) so that it comes back
        # once they are there, instead of being lowered for good.
        self._wanted = ParallelOptions()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.gpus_combo = QComboBox()
        self.gpus_combo.setObjectName("gpusCombo")
        self.gpus_combo.setAccessibleName(self.tr("GPUs"))
        self.gpus_combo.setToolTip(
            self.tr(
                "Run one clip on several GPUs at once. Each GPU holds a whole copy of the model, so each needs the "
                "memory of a one-GPU job (less for the activations); the clip is the same."
            )
        )
        self.split_combo = QComboBox()
        self.split_combo.setObjectName("splitCombo")
        self.split_combo.setAccessibleName(self.tr("Split"))
        for split, label in (
            (Split.AUTO, self.tr("Automatic")),
            (Split.GUIDANCE, self.tr("Guidance branches (one per GPU)")),
            (Split.ULYSSES, self.tr("Tokens, Ulysses (all-to-all)")),
            (Split.RING, self.tr("Tokens, ring")),
        ):
            self.split_combo.addItem(label, split.value)
        self.split_combo.setToolTip(
            self.tr(
                "Guidance runs the prompt's and the negative prompt's branch on different GPUs and exchanges "
                "little; the token splits divide the video itself and exchange more, which suits GPUs joined by "
                "NVLink. Automatic picks from the GPUs, the job and their link."
            )
        )
        form.addRow(self.tr("GPUs"), self.gpus_combo)
        form.addRow(self.tr("Split"), self.split_combo)
        layout.addLayout(form)
        self.hint_label = QLabel()
        self.hint_label.setObjectName("gpusHint")
        self.hint_label.setProperty("role", "hint")
        self.hint_label.setWordWrap(True)
        layout.addWidget(self.hint_label)

        self.gpus_combo.currentIndexChanged.connect(self._on_chosen)
        self.split_combo.currentIndexChanged.connect(self._on_chosen)
        self.set_device_count(0)

    # ---- values -----------------------------------------------------------------------------------------------
    @property
    def available(self) -> bool:
        """More than one GPU is present, so there is a choice to make."""
        return self._devices > 1

    def options(self) -> ParallelOptions:
        gpus = int(self.gpus_combo.currentData() or 1)
        return ParallelOptions(gpus=gpus, split=Split(self.split_combo.currentData()) if gpus > 1 else Split.AUTO)

    def set_options(self, options: ParallelOptions) -> None:
        self._wanted = options
        self._show(options)

    def _show(self, options: ParallelOptions) -> None:
        self.blockSignals(True)  # one `changed` at the end
        try:
            # More GPUs than this machine has (a job from another machine) runs on all of them.
            gpus = min(options.gpus, max(1, self._devices))
            self.gpus_combo.setCurrentIndex(max(0, self.gpus_combo.findData(gpus)))
            self.split_combo.setCurrentIndex(max(0, self.split_combo.findData(options.split.value)))
        finally:
            self.blockSignals(False)
        self._after_change()

    # ---- what the machine and the estimator say ---------------------------------------------------------------
    def set_device_count(self, devices: int) -> None:
        """How many CUDA GPUs this machine has: the choices 1, 2, …, all."""
        self._devices = max(0, devices)
        self.gpus_combo.blockSignals(True)
        try:
            self.gpus_combo.clear()
            self.gpus_combo.addItem(self.tr("1 (one GPU)"), 1)
            for n in range(2, self._devices + 1):
                label = self.tr("All {count}").format(count=n) if n == self._devices else str(n)
                self.gpus_combo.addItem(label, n)
        finally:
            self.gpus_combo.blockSignals(False)
        self.setVisible(self.available)
        self._show(self._wanted)

    def set_estimates(self, figures: list[GpuFigures]) -> None:
        self._figures = {(f.gpus, f.split): f for f in figures}
        self._refresh_hint()

    def set_auto_choice(self, split: str, reason: str) -> None:
        """The split `auto` resolves to for the form's job on the chosen GPUs, and why (core text)."""
        self._auto_split, self._auto_reason = split, reason
        self._refresh_hint()

    def hint_text(self) -> str:
        return self.hint_label.text()

    # ---- internals --------------------------------------------------------------------------------------------
    def _on_chosen(self, *_: object) -> None:
        if not self.signalsBlocked():  # the person chose: that is what is wanted now
            self._wanted = self.options()
            self._after_change()

    def _after_change(self) -> None:
        self.split_combo.setEnabled(self.options().gpus > 1)
        self._refresh_hint()
        self.changed.emit()

    def _figure(self, options: ParallelOptions) -> GpuFigures | None:
        split = self._auto_split if options.split is Split.AUTO else options.split.value
        found = self._figures.get((options.gpus, split))
        if found is None:  # the estimator names the split its own way (a combined one): any figure for that count
            found = next((f for (gpus, _), f in self._figures.items() if gpus == options.gpus), None)
        return found

    def _refresh_hint(self) -> None:
        options = self.options()
        if options.gpus <= 1:
            self.hint_label.setText(self.tr("Each job runs on one GPU."))
            return
        parts = []
        figure = self._figure(options)
        if figure is not None:
            parts.append(
                self.tr(
                    "Expected about {speedup}× as fast as one GPU ({seconds} s per step), {memory} GB per GPU."
                ).format(
                    speedup=f"{figure.speedup:.1f}",
                    seconds=f"{figure.seconds_per_step:.1f}",
                    memory=f"{figure.per_gpu_peak_bytes / 2**30:.1f}",
                )
            )
        if options.split is Split.AUTO and self._auto_reason:
            parts.append(self.tr("Automatic: {reason}").format(reason=core_text(self._auto_reason)))
        self.hint_label.setText(" ".join(parts))
