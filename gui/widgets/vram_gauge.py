"""The status bar's memory gauge: GPU memory used / total with this job's peak, and system RAM beside it.
Samples come from gui.support.system_monitor's thread; this widget only draws them."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from gui.support.system_monitor import NO_GPU_NOTE, SystemSample

GIB = 2**30


def gib(n: int) -> str:
    return f"{n / GIB:.1f}"


class VramGauge(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("vramGauge")
        self.setAccessibleName(self.tr("Memory use"))
        self._sample: SystemSample | None = None
        self._in_job = False
        self._peak: int | None = None  # whole-GPU use (NVML) during the current or last job
        self._torch_peak: int | None = None  # what PyTorch itself allocated at most, reported by the engine

        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.setSpacing(6)
        self.gpu_bar = QProgressBar()
        self.gpu_bar.setObjectName("vramBar")
        self.gpu_bar.setRange(0, 1000)
        self.gpu_bar.setTextVisible(False)
        self.gpu_bar.setFixedSize(90, 10)
        self.gpu_label = QLabel(self.tr("GPU …"))
        self.gpu_label.setObjectName("vramLabel")
        self.ram_bar = QProgressBar()
        self.ram_bar.setObjectName("ramBar")
        self.ram_bar.setRange(0, 1000)
        self.ram_bar.setTextVisible(False)
        self.ram_bar.setFixedSize(60, 10)
        self.ram_label = QLabel(self.tr("RAM …"))
        self.ram_label.setObjectName("ramLabel")
        layout.addWidget(self.gpu_label)
        layout.addWidget(self.gpu_bar)
        layout.addSpacing(10)
        layout.addWidget(self.ram_label)
        layout.addWidget(self.ram_bar)

    # ---- inputs -----------------------------------------------------------------------------------------------
    def update_sample(self, sample: SystemSample) -> None:
        self._sample = sample
        if self._in_job and sample.gpu is not None:
            self._peak = max(self._peak or 0, sample.gpu.used_bytes)
        self._render()

    def begin_job(self) -> None:
        self._in_job = True
        self._torch_peak = None
        self._peak = self._sample.gpu.used_bytes if self._sample and self._sample.gpu else None
        self._render()

    def end_job(self, torch_peak_bytes: int | None = None) -> None:
        self._in_job = False
        self._torch_peak = torch_peak_bytes
        self._render()

    # ---- reading ----------------------------------------------------------------------------------------------
    @property
    def peak_bytes(self) -> int | None:
        return self._peak

    def text(self) -> str:
        """What the gauge says, as one line (also its accessible description)."""
        return f"{self.gpu_label.text()}  ·  {self.ram_label.text()}"

    def _render(self) -> None:
        s = self._sample
        if s is None:
            return
        if s.gpu is not None:
            used, total = s.gpu.used_bytes, s.gpu.total_bytes
            text = self.tr("GPU {used} / {total} GB").format(used=gib(used), total=gib(total))
            if self._peak is not None:
                peak = gib(self._peak)
                text += (self.tr(" · peak {peak}") if self._in_job else self.tr(" · peak {peak} (last job)")).format(
                    peak=peak
                )
            self.gpu_label.setText(text)
            self.gpu_bar.setVisible(True)
            self.gpu_bar.setValue(int(1000 * used / total) if total else 0)
            self._set_level(self.gpu_bar, used / total if total else 0)
            tip = self.tr("{gpu}: {used} GB of {total} GB in use (all programs).").format(
                gpu=s.gpu.name, used=gib(used), total=gib(total)
            )
            if self._peak is not None:
                highest = (
                    self.tr("Highest during this job: {peak} GB.")
                    if self._in_job
                    else self.tr("Highest during the last job: {peak} GB.")
                )
                tip += "\n" + highest.format(peak=gib(self._peak))
            if self._torch_peak is not None:
                tip += "\n" + self.tr("PyTorch's own peak allocation in the last job: {peak} GB.").format(
                    peak=gib(self._torch_peak)
                )
            self.gpu_label.setToolTip(tip)
        else:
            # The monitor's notes are translated already, except "no GPU", which the gauge words itself.
            no_gpu = not s.gpu_note or s.gpu_note == NO_GPU_NOTE
            self.gpu_label.setText(self.tr("No NVIDIA GPU found — jobs run on the CPU") if no_gpu else s.gpu_note)
            self.gpu_label.setToolTip(
                self.tr("GPU memory is read through NVIDIA's driver (NVML); it found no GPU to read.")
            )
            self.gpu_bar.setVisible(False)
        self.ram_label.setText(
            self.tr("RAM {used} / {total} GB").format(used=gib(s.ram_used_bytes), total=gib(s.ram_total_bytes))
        )
        self.ram_bar.setValue(int(1000 * s.ram_used_bytes / s.ram_total_bytes) if s.ram_total_bytes else 0)
        self._set_level(self.ram_bar, s.ram_used_bytes / s.ram_total_bytes if s.ram_total_bytes else 0)
        self.ram_label.setToolTip(self.tr("System memory in use (all programs)."))
        self.setAccessibleDescription(self.text())

    @staticmethod
    def _set_level(bar: QProgressBar, fraction: float) -> None:
        level = "high" if fraction >= 0.9 else "mid" if fraction >= 0.75 else "low"
        if bar.property("level") != level:
            bar.setProperty("level", level)
            bar.style().unpolish(bar)
            bar.style().polish(bar)
