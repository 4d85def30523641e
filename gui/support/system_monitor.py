"""Sampling GPU memory (NVML, from nvidia-ml-py) and system RAM (psutil) once a second on a thread of its own,
so a slow driver call never stalls the window. No torch here: NVML sees the whole GPU, other programs too."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QThread, Signal

logger = logging.getLogger(__name__)

# The note when there is simply no NVIDIA GPU, kept in English as an id: the gauge words it itself, translated.
NO_GPU_NOTE = "No NVIDIA GPU found"


@dataclass(frozen=True)
class GpuSample:
    name: str
    used_bytes: int
    total_bytes: int
    own_bytes: int = 0  # of used_bytes, what this process holds (the loaded model), where NVML tells


@dataclass(frozen=True)
class SystemSample:
    gpu: GpuSample | None
    gpu_note: str  # why there is no GPU reading, translated, or NO_GPU_NOTE ("" when there is a reading)
    ram_used_bytes: int
    ram_total_bytes: int


def _nvml_index() -> int:
    # PyTorch's cuda:0 is the first device in CUDA_VISIBLE_DEVICES; NVML numbers all GPUs.
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")[0].strip()
    return int(visible) if visible.isdigit() else 0


class NvmlReader:
    """Initialises NVML on first use; if that fails (no NVIDIA driver or GPU), remembers why and stops trying."""

    def __init__(self) -> None:
        self._nvml = None
        self._handle = None
        self._name = ""
        self.note = ""
        self._tried = False

    def read(self) -> GpuSample | None:
        if not self._tried:
            self._tried = True
            self._init()
        if self._handle is None or self._nvml is None:
            return None
        try:
            info = self._nvml.nvmlDeviceGetMemoryInfo(self._handle)
        except Exception as exc:  # the GPU fell off the bus, the driver was reloaded…
            # translate() is thread-safe; this runs on the monitor thread.
            self.note = QCoreApplication.translate("NvmlReader", "The NVIDIA driver stopped answering ({error}).")
            self.note = self.note.format(error=exc)
            self._handle = None
            return None
        return GpuSample(self._name, int(info.used), int(info.total), self._own_bytes())

    def _own_bytes(self) -> int:
        """GPU memory this process holds: the memory advice counts it as free, since a new job reuses or
        replaces the loaded model. 0 where the driver does not say (some report None per process)."""
        try:
            processes = self._nvml.nvmlDeviceGetComputeRunningProcesses(self._handle)  # type: ignore[union-attr]
        except Exception:
            return 0
        pid = os.getpid()
        return sum(int(getattr(p, "usedGpuMemory", 0) or 0) for p in processes if getattr(p, "pid", None) == pid)

    def _init(self) -> None:
        try:
            import pynvml

            pynvml.nvmlInit()
        except Exception as exc:
            logger.info("NVML unavailable: %s", exc)
            self.note = NO_GPU_NOTE
            return
        try:
            count = pynvml.nvmlDeviceGetCount()
            if count == 0:
                self.note = NO_GPU_NOTE
                pynvml.nvmlShutdown()
                return
            handle = pynvml.nvmlDeviceGetHandleByIndex(min(_nvml_index(), count - 1))
            name = pynvml.nvmlDeviceGetName(handle)
        except Exception as exc:
            self.note = QCoreApplication.translate("NvmlReader", "The NVIDIA GPU cannot be read ({error}).")
            self.note = self.note.format(error=exc)
            return
        self._nvml = pynvml
        self._handle = handle
        self._name = name.decode() if isinstance(name, bytes) else str(name)

    def close(self) -> None:
        if self._nvml is not None:
            try:
                self._nvml.nvmlShutdown()
            except Exception:
                pass
            self._nvml = None
            self._handle = None


def read_ram() -> tuple[int, int]:
    import psutil

    vm = psutil.virtual_memory()
    return int(vm.total - vm.available), int(vm.total)


def sample(reader: NvmlReader) -> SystemSample:
    gpu = reader.read()
    used, total = read_ram()
    return SystemSample(gpu, "" if gpu else reader.note, used, total)


class SystemMonitor(QThread):
    """Emits `sampled(SystemSample)` every `interval_ms` until `stop()`."""

    sampled = Signal(object)

    def __init__(self, interval_ms: int = 1000, parent: object = None) -> None:
        super().__init__(parent)  # type: ignore[arg-type]
        self.setObjectName("system-monitor")
        self.interval_ms = interval_ms

    def run(self) -> None:
        reader = NvmlReader()
        try:
            while not self.isInterruptionRequested():
                try:
                    self.sampled.emit(sample(reader))
                except Exception:
                    logger.exception("Sampling memory failed")
                slept = 0
                while slept < self.interval_ms and not self.isInterruptionRequested():
                    self.msleep(50)
                    slept += 50
        finally:
            reader.close()

    def stop(self, timeout_ms: int = 3000) -> None:
        self.requestInterruption()
        self.wait(timeout_ms)
