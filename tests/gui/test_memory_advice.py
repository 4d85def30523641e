"""Memory advice before a job (issue 8, item 6): the memory panel says whether the job in the form fits the GPU's
free memory and how long it takes, and Recommend picks the fastest settings predicted to fit. A fake NVIDIA GPU
(pynvml replaced, as in test_window_widgets) stands in for a real one."""

from __future__ import annotations

import sys
import types

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

from core.engine.devices import Capabilities
from core.estimate import SAFETY_MARGIN_BYTES, JobShape
from core.job.request import MemoryOptions, Placement, Quantization
from gui.form.memory_advice import advise
from gui.form.memory_panel import MemoryPanel
from gui.support.system_monitor import GpuSample, SystemSample

GiB = 2**30
RTX_4070 = Capabilities(cuda=True, mps=False, cuda_name="NVIDIA GeForce RTX 4070", cuda_total_bytes=12 * GiB, bf16=True)
H100 = Capabilities(cuda=True, mps=False, cuda_name="NVIDIA H100 80GB HBM3", cuda_total_bytes=80 * GiB, bf16=True)


def sample(caps: Capabilities, used: int) -> SystemSample:
    gpu = GpuSample(caps.cuda_name, used, caps.cuda_total_bytes)
    return SystemSample(gpu, "", 8 * GiB, 64 * GiB)


def panel_for(qtbot, caps: Capabilities, reading: SystemSample | None) -> MemoryPanel:
    from core.engine.devices import unavailable_reasons

    panel = MemoryPanel()
    qtbot.addWidget(panel)
    panel.set_capabilities(caps, unavailable_reasons(caps))
    if reading is not None:
        panel.update_sample(reading)
    panel.set_job_shape(JobShape(768, 432, 125))
    return panel


def test_a_job_too_big_for_the_card_says_so_and_recommend_makes_it_fit(qtbot) -> None:
    reading = sample(RTX_4070, used=1 * GiB)
    panel = panel_for(qtbot, RTX_4070, reading)
    assert panel.placement() is Placement.GPU
    assert panel.advice_text().startswith("Will not fit"), panel.advice_text()
    assert "11.0 GB free" in panel.advice_text()

    button = panel.findChild(QPushButton, "recommendButton")
    assert button is not None and button.isEnabled()
    with qtbot.waitSignal(panel.changed):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    options = panel.options()
    assert options.placement in (Placement.STREAMED, Placement.MODEL, Placement.SEQUENTIAL)
    shown = advise(JobShape(768, 432, 125), options, RTX_4070, reading)
    assert shown.fits and shown.peak_bytes + SAFETY_MARGIN_BYTES <= 11 * GiB
    text = panel.findChild(QLabel, "memoryAdviceLabel").text()
    assert text.startswith("Recommended:") and "Fits:" in text and "min" in text


def test_a_roomy_gpu_keeps_the_fastest_settings(qtbot) -> None:
    panel = panel_for(qtbot, H100, sample(H100, used=1 * GiB))
    assert panel.advice_text().startswith("Fits:")
    panel.apply_recommendation()
    assert panel.options().placement is Placement.GPU
    assert panel.options().quantization is Quantization.NONE and not panel.options().vae_tiling
    assert "already the fastest" in panel.advice_text()


def test_the_advice_follows_the_options_and_the_job_size(qtbot) -> None:
    panel = panel_for(qtbot, RTX_4070, sample(RTX_4070, used=1 * GiB))
    panel.set_options(MemoryOptions(placement=Placement.STREAMED, quantization=Quantization.INT8, vae_tiling=True))
    assert panel.advice_text().startswith("Fits:")
    big = panel.advice_text()
    panel.set_job_shape(JobShape(512, 288, 49))
    assert panel.advice_text().startswith("Fits:") and panel.advice_text() != big
    # Another program takes the GPU's memory: the same job no longer fits.
    panel.update_sample(sample(RTX_4070, used=11 * GiB))
    assert panel.advice_text().startswith("Will not fit")


def test_without_a_gpu_the_advice_speaks_of_the_cpu_and_recommend_is_off(qtbot) -> None:
    cpu = Capabilities(cuda=False, mps=False)
    panel = panel_for(qtbot, cpu, SystemSample(None, "No NVIDIA GPU found", 8 * GiB, 32 * GiB))
    assert "CPU" in panel.advice_text()
    assert not panel.findChild(QPushButton, "recommendButton").isEnabled()


@pytest.fixture
def fake_rtx_4070(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine with a 12 GB card, 1 GB of it used by other programs (after the cpu_only fixture)."""
    import core.engine.devices

    class Memory:
        used, total = 1 * GiB, 12 * GiB

    fake = types.SimpleNamespace(
        nvmlInit=lambda: None,
        nvmlShutdown=lambda: None,
        nvmlDeviceGetCount=lambda: 1,
        nvmlDeviceGetHandleByIndex=lambda i: "gpu0",
        nvmlDeviceGetName=lambda h: RTX_4070.cuda_name.encode(),
        nvmlDeviceGetMemoryInfo=lambda h: Memory(),
    )
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    monkeypatch.setattr(core.engine.devices, "detect_capabilities", lambda: RTX_4070)


def test_the_window_shows_the_advice_and_recommends(qtbot, open_window, fake_rtx_4070) -> None:
    window = open_window()
    panel = window.memory_panel
    label = window.findChild(QLabel, "memoryAdviceLabel")
    # The machine check runs on the engine's thread (it imports torch): wait for it and for a GPU reading.
    qtbot.waitUntil(lambda: label.text().startswith("Will not fit"), timeout=90_000)
    button = window.findChild(QPushButton, "recommendButton")
    qtbot.waitUntil(button.isEnabled)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert panel.options().placement is not Placement.GPU
    qtbot.waitUntil(lambda: "Fits:" in label.text())
    # The form's size reaches the estimate: fewer frames, a different figure.
    before = label.text()
    window.parameter_form.frames_spin.setValue(17)
    qtbot.waitUntil(lambda: label.text() != before)


def test_memory_this_app_holds_counts_as_free(qtbot, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a job the loaded model fills the card; NVML's per-process figure lets the next job's advice count
    that memory as free (the engine reuses or replaces the model)."""
    import os

    from gui.support.system_monitor import NvmlReader

    class Memory:
        used, total = 11 * GiB, 12 * GiB

    process = types.SimpleNamespace(pid=os.getpid(), usedGpuMemory=10 * GiB)
    other = types.SimpleNamespace(pid=-1, usedGpuMemory=1 * GiB)
    fake = types.SimpleNamespace(
        nvmlInit=lambda: None,
        nvmlShutdown=lambda: None,
        nvmlDeviceGetCount=lambda: 1,
        nvmlDeviceGetHandleByIndex=lambda i: "gpu0",
        nvmlDeviceGetName=lambda h: RTX_4070.cuda_name.encode(),
        nvmlDeviceGetMemoryInfo=lambda h: Memory(),
        nvmlDeviceGetComputeRunningProcesses=lambda h: [process, other],
    )
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    gpu = NvmlReader().read()
    assert gpu is not None and gpu.own_bytes == 10 * GiB
    panel = panel_for(qtbot, RTX_4070, SystemSample(gpu, "", 8 * GiB, 64 * GiB))
    assert "11.0 GB free" in panel.advice_text()
