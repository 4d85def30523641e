"""The Speed group (issue 9's options in the window): its controls reach the request, kernels this machine cannot
run are greyed out with the reason, the values survive a restart and "load into form", the estimate uses them,
and a tiny real job with the "fast" step cache runs from the window."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QPushButton

from core.estimate import SAFETY_MARGIN_BYTES, JobShape, step_cache_saving
from core.job.request import GenerationRequest, GuidanceBatching, MemoryOptions, Placement, SpeedOptions, StepCache
from core.store.history import JobStatus
from gui.form.memory_advice import advise, recommend_options
from gui.jobs.history_panel import tooltip
from gui.support.system_monitor import GpuSample, SystemSample
from tests.gui.helpers import JobWatcher, fill_small, find, wait_ready

GPU_KERNELS = ("efficient", "flash", "cudnn", "flash-attn", "sage")


@pytest.fixture(autouse=True)
def own_calibrations(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """No MagCache calibration recorded by another test's job leaks into these."""
    monkeypatch.setenv("CONTENTV_STUDIO_CALIBRATION_DIR", str(tmp_path / "calibrations"))


def choose(combo: QComboBox, data: str) -> None:
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def item_state(combo: QComboBox, data: str) -> tuple[bool, str, str]:
    """(enabled, text, tooltip) of the item whose data is `data`."""
    model = combo.model()
    assert isinstance(model, QStandardItemModel)
    item = model.item(combo.findData(data))
    return item.isEnabled(), item.text(), item.toolTip()


def set_speed_controls(window, options: SpeedOptions) -> None:
    choose(find(window, QComboBox, "stepCacheCombo"), options.step_cache.value)
    choose(find(window, QComboBox, "attentionCombo"), options.attention_backend)
    choose(find(window, QComboBox, "guidanceBatchingCombo"), options.guidance_batching.value)
    find(window, QCheckBox, "compileCheck").setChecked(options.compile)


# ---- controls and the request -----------------------------------------------------------------------------------
def test_controls_reach_the_request(qtbot, open_window):
    window = open_window(start_engine=False)
    assert window.current_request().speed == SpeedOptions()  # sequential guidance, no cache, auto, no compile
    chosen = SpeedOptions("math", StepCache.FASTER, GuidanceBatching.BATCHED, True)
    set_speed_controls(window, chosen)
    assert window.current_request().speed == chosen
    assert window.form.get("speed") == chosen.to_dict()
    # Each level's tooltip says what it does and what it costs.
    combo = find(window, QComboBox, "stepCacheCombo")
    assert "quality" in combo.toolTip().lower()
    assert "first job" in find(window, QLabel, "compileNote").text().lower()


def test_kernels_this_cpu_cannot_run_are_disabled_with_the_reason(qtbot, open_window):
    window = open_window()
    wait_ready(qtbot, window)
    combo = find(window, QComboBox, "attentionCombo")
    qtbot.waitUntil(lambda: window.speed_panel.availability is not None)
    for kernel in GPU_KERNELS:
        enabled, text, tip = item_state(combo, kernel)
        assert not enabled, kernel
        assert "unavailable" in text.lower()
        assert tip and ("cuda" in tip.lower() or "installed" in tip.lower()), tip
        assert window.speed_panel.kernel_reason(kernel)
    assert item_state(combo, "math")[0] and item_state(combo, "auto")[0]
    assert "PyTorch's default" in item_state(combo, "auto")[1]  # what auto picks on the CPU
    assert "PyTorch's default" in find(window, QLabel, "attentionNote").text()


def test_a_gpu_enables_its_kernels_and_auto_names_its_choice(qtbot):
    from core.engine.attention import AttentionEnvironment
    from gui.form.speed_panel import SpeedPanel

    panel = SpeedPanel()
    qtbot.addWidget(panel)
    combo = panel.attention_combo
    hopper = AttentionEnvironment("cuda", "bfloat16", capability=(9, 0))
    panel.set_environment(hopper)
    for kernel in ("math", "efficient", "flash", "cudnn"):
        assert item_state(combo, kernel)[0], kernel
    enabled, _, tip = item_state(combo, "sage")
    assert not enabled and "sageattention" in tip  # the optional package is not installed here
    assert "cuDNN" in item_state(combo, "auto")[1]  # Hopper: cuDNN's fused attention first
    assert "cuDNN" in panel.attention_note.text()

    choose(combo, "flash")
    turing = AttentionEnvironment("cuda", "float16", capability=(7, 5))
    panel.set_environment(turing)  # flash needs Ampere: the forced choice falls back to Auto, and says why
    enabled, _, tip = item_state(combo, "flash")
    assert not enabled and "Ampere" in tip
    assert panel.options().attention_backend == "auto"
    assert "Ampere" in panel.attention_note.text() and "using Auto" in panel.attention_note.text()
    assert "Memory-efficient" in item_state(combo, "auto")[1]

    float32 = AttentionEnvironment("cuda", "float32", capability=(8, 9))
    panel.set_environment(float32)
    assert "bfloat16 or float16" in item_state(combo, "cudnn")[2]


def test_a_saved_kernel_this_machine_cannot_run_comes_back_as_auto_in_the_request(qtbot, open_window):
    window = open_window()
    wait_ready(qtbot, window)
    qtbot.waitUntil(lambda: window.speed_panel.availability is not None)
    record_request = GenerationRequest(prompt="a kite", seed=3, speed=SpeedOptions(attention_backend="flash"))
    record = window.store.add(record_request, "", JobStatus.DONE)
    window.load_record(record)
    assert window.current_request().speed.attention_backend == "auto"
    assert "using Auto" in find(window, QLabel, "attentionNote").text()


# ---- persistence --------------------------------------------------------------------------------------------------
def test_speed_options_survive_a_restart_and_load_into_form(qtbot, open_window, tmp_path):
    data = tmp_path / "data"
    chosen = SpeedOptions("math", StepCache.FAST, GuidanceBatching.AUTO, True)
    first = open_window(data_dir=data, start_engine=False)
    set_speed_controls(first, chosen)
    first.close()
    qtbot.waitUntil(lambda: first._shut_down)

    second = open_window(data_dir=data, start_engine=False)
    assert second.speed_panel.options() == chosen
    assert second.current_request().speed == chosen
    assert find(second, QCheckBox, "compileCheck").isChecked()

    # "Load into form" from a history entry brings its speed options back, and its details show them.
    older = SpeedOptions("auto", StepCache.FASTER, GuidanceBatching.BATCHED, False)
    record = second.store.add(GenerationRequest(prompt="rain on a window", seed=9, speed=older), "", JobStatus.DONE)
    second.load_record(record)
    assert second.speed_panel.options() == older
    assert second.current_request().speed == older
    assert find(second, QComboBox, "stepCacheCombo").currentData() == "faster"
    details = tooltip(record)
    assert "step cache faster" in details and "guidance batched" in details


# ---- the estimate -------------------------------------------------------------------------------------------------
class _Cuda:
    cuda, mps, bf16, accelerator, cuda_name = True, False, True, "cuda", "NVIDIA GeForce RTX 4090"


def _sample(free_gib: float) -> SystemSample:
    total = 24 * 2**30
    gpu = GpuSample(name=_Cuda.cuda_name, total_bytes=total, used_bytes=int(total - free_gib * 2**30), own_bytes=0)
    return SystemSample(gpu=gpu, gpu_note="", ram_used_bytes=8 * 2**30, ram_total_bytes=64 * 2**30)


def test_the_advice_counts_the_step_cache_and_batched_guidance():
    shape = JobShape()
    memory = MemoryOptions(placement=Placement.STREAMED, vae_tiling=True)  # the peak is while denoising
    sample = _sample(20)
    plain = advise(shape, memory, _Cuda(), sample)
    fast_calibrated = advise(shape, memory, _Cuda(), sample, SpeedOptions(step_cache=StepCache.FAST), True)
    fast_uncalibrated = advise(shape, memory, _Cuda(), sample, SpeedOptions(step_cache=StepCache.FAST), False)
    faster = advise(shape, memory, _Cuda(), sample, SpeedOptions(step_cache=StepCache.FASTER), False)
    # MagCache skips a third of the calls; the First-Block cache promises nothing; TaylorSeer skips attention.
    assert fast_calibrated.s_per_step == pytest.approx(plain.s_per_step * 2 / 3, rel=1e-6)
    assert fast_uncalibrated.s_per_step == pytest.approx(plain.s_per_step)
    assert plain.s_per_step * 0.3 < faster.s_per_step < plain.s_per_step * 0.8
    batched = advise(shape, memory, _Cuda(), sample, SpeedOptions(guidance_batching=GuidanceBatching.BATCHED))
    # A second sample's activations while denoising (with the feed-forward chunked, well under the 2.5 GiB that
    # issue 9 measured unchunked).
    assert batched.peak_bytes > plain.peak_bytes + 2**29
    # The math kernel materialises the attention scores: slower.
    assert advise(shape, memory, _Cuda(), sample, SpeedOptions(attention_backend="math")).s_per_step > plain.s_per_step


def test_step_cache_saving_follows_each_method():
    assert step_cache_saving(StepCache.OFF, 50, True) == 0.0
    assert step_cache_saving(StepCache.FASTER, 50, True) == pytest.approx(0.5)
    # TaylorSeer: steps 0-1 warm up, then one full step in three: 50 steps -> 32 cached.
    assert step_cache_saving(StepCache.FASTER, 50, False, attention_share=1.0) == pytest.approx(32 / 50)


def test_recommend_keeps_room_for_batched_guidance():
    # Free memory between model offload's peak with one branch at a time and with the batch of two (768x432x125):
    # the first fits model offload, the second must fall back to a lower-memory placement.
    from core.estimate import EstimateOptions, estimate

    shape = JobShape()
    one = estimate(shape, EstimateOptions(placement=Placement.MODEL, vae_tiling=True)).peak_bytes
    two = estimate(shape, EstimateOptions(placement=Placement.MODEL, vae_tiling=True, guidance_batched=True)).peak_bytes
    assert two > one
    free_gib = (SAFETY_MARGIN_BYTES + (one + two) / 2) / 2**30
    sequential = recommend_options(shape, MemoryOptions(), _Cuda(), _sample(free_gib))
    batched_speed = SpeedOptions(guidance_batching=GuidanceBatching.BATCHED)
    batched = recommend_options(shape, MemoryOptions(), _Cuda(), _sample(free_gib), batched_speed)
    assert sequential is not None and batched is not None and sequential.fits and batched.fits
    assert sequential.options.placement is Placement.MODEL
    assert batched.options.placement is not Placement.MODEL
    assert batched.estimate.peak_bytes + SAFETY_MARGIN_BYTES <= free_gib * 2**30


def test_the_memory_panel_follows_the_speed_options(qtbot, open_window):
    window = open_window()
    wait_ready(qtbot, window)
    window.memory_panel.update_sample(_sample(20))
    window.memory_panel.set_capabilities(_Cuda(), {})
    before = window.memory_panel.advice_text()
    choose(find(window, QComboBox, "guidanceBatchingCombo"), "batched")
    assert window.memory_panel._speed.guidance_batching is GuidanceBatching.BATCHED
    assert window.memory_panel.advice_text() != before


# ---- calibration note and a real job ------------------------------------------------------------------------------
def test_the_calibration_note_follows_the_model(qtbot, open_window, gui_tiny_model):
    from core.engine.step_cache import save_calibration

    window = open_window(model=gui_tiny_model)
    wait_ready(qtbot, window)
    note = find(window, QLabel, "stepCacheNote")
    qtbot.waitUntil(lambda: window.speed_panel.calibrated is False)
    assert "No MagCache calibration" in note.text()
    save_calibration(gui_tiny_model, [1.0, 0.98, 0.97, 0.95, 0.9, 0.9, 0.88, 0.85], steps=8)
    window.model_picker.pathChanged.emit(str(gui_tiny_model))
    assert window.speed_panel.calibrated is True
    assert "has a MagCache calibration" in note.text()


def test_a_tiny_job_with_the_fast_step_cache_runs_from_the_window(qtbot, open_window, gui_tiny_model):
    window = open_window(model=gui_tiny_model)
    wait_ready(qtbot, window)
    fill_small(window, prompt="a paper boat on a pond", seed=21)
    choose(find(window, QComboBox, "stepCacheCombo"), "fast")
    assert window.current_request().speed.step_cache is StepCache.FAST
    watcher = JobWatcher(window)
    before = {r.id for r in window.store.list_jobs()}
    qtbot.mouseClick(find(window, QPushButton, "generateButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(window.store.list_jobs()) > len(before))
    job_id = next(r.id for r in window.store.list_jobs() if r.id not in before)
    watcher.wait(qtbot, job_id)
    assert job_id in watcher.finished, watcher.failed.get(job_id)

    record = window.store.get(job_id)
    assert record is not None and record.video is not None
    assert record.request.speed.step_cache is StepCache.FAST
    sidecar = json.loads(record.video.with_suffix(".json").read_text(encoding="utf-8"))
    assert sidecar["speed"]["step_cache"] == "fast"
    assert sidecar["speed"]["step_cache_method"] == "first-block"  # no calibration for this model yet
    assert sidecar["speed"]["attention_backend"] == "sdpa"
    details = tooltip(record)
    assert "step cache fast" in details and "kernel sdpa" in details and "cache first-block" in details
