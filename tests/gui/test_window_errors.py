"""Errors a user meets, each as a dialog in plain words with the advice that fits, and the window still usable
after it: a bad model folder (found by the check, and found only when loading), running out of memory, a
missing GPU."""

from __future__ import annotations

import json
import shutil

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QLineEdit, QPushButton, QRadioButton

from core.engine.runner import OOM_ADVICE
from core.errors import OutOfMemoryError
from core.job.request import GenerationRequest, MemoryOptions
from core.store.history import JobStatus
from tests.gui.helpers import JobWatcher, fill_small, find, wait_ready


def wait_dialog(qtbot, window):
    qtbot.waitUntil(lambda: window.error_dialog is not None and window.error_dialog.isVisible())
    return window.error_dialog


def test_bad_model_folder_is_explained_inline_and_in_a_dialog(qtbot, open_window, gui_tiny_model, tmp_path):
    broken = tmp_path / "broken-model"
    shutil.copytree(gui_tiny_model, broken)
    (broken / "vae" / "diffusion_pytorch_model.safetensors").unlink()
    weights = broken / "transformer" / "diffusion_pytorch_model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])  # an interrupted download

    window = open_window(model=broken)
    wait_ready(qtbot, window)
    # Inline, as soon as the folder is chosen: which components are missing or broken.
    status = find(window, QLabel, "modelStatusLabel").text()
    assert "Not a usable ContentV model folder" in status
    assert "vae (Wan2.1 VAE) has no weight file" in status
    assert "transformer (3D MMDiT) weight file diffusion_pytorch_model.safetensors is truncated" in status
    assert not window.model_picker.is_valid

    fill_small(window, prompt="a cat")
    # Generate waits, saying why (issue 8: disabled with the reason while the folder is unusable).
    generate_button = find(window, QPushButton, "generateButton")
    assert not generate_button.isEnabled()
    assert "vae (Wan2.1 VAE) has no weight file" in generate_button.toolTip()
    assert "The model folder cannot be used" in find(window, QLabel, "problemsLabel").text()
    assert window.generate() is None
    assert window.store.count() == 0  # refused before any job existed

    # A folder that does not exist at all.
    path_edit = find(window, QLineEdit, "modelPathEdit")
    path_edit.setText(str(tmp_path / "nowhere"))
    path_edit.editingFinished.emit()
    qtbot.waitUntil(lambda: window.model_picker.report is not None)
    assert "the folder does not exist" in find(window, QLabel, "modelStatusLabel").text()

    # The app stays usable: choosing the good folder makes it valid again.
    path_edit.setText(str(gui_tiny_model))
    path_edit.editingFinished.emit()
    qtbot.waitUntil(lambda: window.model_picker.is_valid)
    assert "✓ Complete ContentV model" in find(window, QLabel, "modelStatusLabel").text()
    assert find(window, QPushButton, "generateButton").isEnabled()


def test_model_that_fails_to_load_fails_the_job_with_a_dialog(qtbot, open_window, gui_tiny_model, tmp_path):
    # Complete on disk (the check passes: the configs match the weights' headers) but the scheduler refuses its
    # config. (A model config that contradicts its weights is refused by the folder check: tests/test_bad_input.py.)
    mismatched = tmp_path / "mismatched-model"
    shutil.copytree(gui_tiny_model, mismatched)
    config_path = mismatched / "scheduler" / "scheduler_config.json"
    config = json.loads(config_path.read_text())
    config["time_shift_type"] = "no-such-shift"
    config_path.write_text(json.dumps(config))

    window = open_window(model=mismatched)
    wait_ready(qtbot, window)
    assert window.model_picker.is_valid
    fill_small(window, prompt="a cat")
    watcher = JobWatcher(window)
    qtbot.mouseClick(find(window, QPushButton, "generateButton"), Qt.MouseButton.LeftButton)
    dialog = wait_dialog(qtbot, window)
    assert dialog.kind == "model-folder"
    assert "Loading the model from" in dialog.message
    (job_id,) = watcher.failed
    record = window.store.get(job_id)
    assert record.status is JobStatus.FAILED and record.error_kind == "model-folder"
    assert record.error_message == dialog.message
    assert list((tmp_path / "data" / "outputs").iterdir()) == []


def test_out_of_memory_offers_lower_memory_settings(qtbot, open_window, gui_tiny_model, monkeypatch):
    def out_of_memory(self, *args, **kwargs):
        raise OutOfMemoryError("The GPU ran out of memory (tried to allocate 2.00 GiB).", OOM_ADVICE)

    monkeypatch.setattr("core.engine.runner.Engine.generate", out_of_memory)
    window = open_window(model=gui_tiny_model)
    wait_ready(qtbot, window)
    fill_small(window, prompt="a cat")
    qtbot.mouseClick(find(window, QPushButton, "generateButton"), Qt.MouseButton.LeftButton)
    dialog = wait_dialog(qtbot, window)
    assert dialog.kind == "out-of-memory"
    assert dialog.windowTitle() == "Out of memory"
    assert "ran out of memory" in dialog.message
    assert dialog.advice == OOM_ADVICE
    # This machine has no GPU, so offloading is not offered; the VAE savers are.
    assert dialog.details_label.text() == "Next settings to try: VAE tiling, VAE slicing."
    assert dialog.fix_button is not None
    assert not find(window, QCheckBox, "vaeTilingCheck").isChecked()
    qtbot.mouseClick(dialog.fix_button, Qt.MouseButton.LeftButton)
    assert find(window, QCheckBox, "vaeTilingCheck").isChecked()
    assert find(window, QCheckBox, "vaeSlicingCheck").isChecked()
    qtbot.waitUntil(lambda: window.error_dialog is None)

    (record,) = window.store.list_jobs()
    assert record.status is JobStatus.FAILED and record.error_kind == "out-of-memory"
    assert find(window, QPushButton, "generateButton").isEnabled()  # still usable
    # A second OOM climbs the ladder: 8-bit weights next.
    window.show_error("out-of-memory", "again", OOM_ADVICE)
    assert window.error_dialog.details_label.text() == "Next settings to try: int8 weights."
    qtbot.mouseClick(window.error_dialog.fix_button, Qt.MouseButton.LeftButton)
    assert find(window, QComboBox, "quantizationCombo").currentData() == "int8"


def test_missing_gpu_is_explained_inline_and_in_a_dialog(qtbot, open_window, gui_tiny_model):
    window = open_window(model=gui_tiny_model)
    wait_ready(qtbot, window)
    fill_small(window, prompt="a cat")

    # Options this machine cannot use are disabled, with the reason written beside them.
    for name in ("modelOffloadCheck", "sequentialOffloadCheck"):
        assert not find(window, QRadioButton, name).isEnabled()
        assert find(window, QLabel, f"{name}Reason").text() == "Needs a GPU; this machine has none."
    assert not find(window, QRadioButton, "streamedOffloadCheck").isEnabled()
    assert "CUDA" in find(window, QLabel, "streamedOffloadCheckReason").text()
    device = find(window, QComboBox, "deviceCombo")
    cuda_item = device.model().item(device.findData("cuda"))
    assert not cuda_item.isEnabled() and "No CUDA GPU" in cuda_item.toolTip()

    # Forced anyway (e.g. settings from another machine): explained inline, and Generate waits.
    device.setCurrentIndex(device.findData("cuda"))
    problems = find(window, QLabel, "problemsLabel")
    assert problems.isVisible() and "A CUDA GPU was asked for" in problems.text()
    assert not find(window, QPushButton, "generateButton").isEnabled()
    device.setCurrentIndex(device.findData("auto"))
    assert not problems.isVisible()

    # Before the engine has probed the machine, the worker refuses it with a dialog.
    window.controller.capabilities = None
    request = GenerationRequest(
        prompt="a cat", width=80, height=48, num_frames=9, steps=2, seed=1, memory=MemoryOptions(device="cuda")
    )
    record = window.controller.submit(request, str(gui_tiny_model))
    dialog = wait_dialog(qtbot, window)
    assert dialog.kind == "device"
    assert "CUDA GPU was asked for" in dialog.message
    assert window.store.get(record.id).status is JobStatus.FAILED
    assert dialog.fix_button is not None and dialog.fix_button.text() == "Choose automatically"
    device.setCurrentIndex(device.findData("cpu"))
    qtbot.mouseClick(dialog.fix_button, Qt.MouseButton.LeftButton)
    assert device.currentData() == "auto"
