"""The window's parts without running the engine: the memory gauge (with and without a GPU), the parameter form's
snapping and inline notes, the memory panel, the history panel's actions, the demo-model button, and --smoke."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QToolButton,
    QWidget,
)

import gui.form.model_picker
import gui.jobs.record_actions
import gui.main_window
from core.job.request import MAX_SEED, OFFICIAL_NEGATIVE_PROMPT, GenerationRequest, MemoryOptions, Placement
from core.output.video import write_mp4, write_thumbnail
from core.store.history import JobStatus
from gui.support.system_monitor import NvmlReader, SystemSample
from gui.widgets.vram_gauge import VramGauge
from tests.gui.helpers import find

REPO = Path(__file__).resolve().parents[2]

OBJECT_NAMES = {
    "promptEdit": QPlainTextEdit,
    "negativePromptEdit": QPlainTextEdit,
    "widthSpin": QSpinBox,
    "heightSpin": QSpinBox,
    "framesSpin": QSpinBox,
    "fpsCombo": QComboBox,
    "stepsSpin": QWidget,
    "guidanceSpin": QWidget,
    "seedSpin": QWidget,
    "modelPathEdit": QLineEdit,
    "generateButton": QPushButton,
    "cancelButton": QPushButton,
    "progressBar": QWidget,
    "vramGauge": QWidget,
    "videoPlayer": QWidget,
    "historyList": QListView,
    "rerunButton": QPushButton,
    "modelOffloadCheck": QRadioButton,
    "sequentialOffloadCheck": QRadioButton,
    "streamedOffloadCheck": QRadioButton,
    "vaeSlicingCheck": QCheckBox,
    "vaeTilingCheck": QCheckBox,
    "attentionSlicingCheck": QCheckBox,
    "quantizationCombo": QComboBox,
}


def test_every_stable_object_name_is_there(open_window):
    window = open_window(start_engine=False)
    for name, cls in OBJECT_NAMES.items():
        assert len(window.findChildren(cls, name)) == 1, name
    assert window.windowIcon().availableSizes() or not window.windowIcon().isNull()


# ---- the gauge ------------------------------------------------------------------------------------------------
def test_gauge_says_plainly_that_there_is_no_nvidia_gpu(qtbot, open_window):
    window = open_window(start_engine=False)
    gauge = find(window, QWidget, "vramGauge")
    assert isinstance(gauge, VramGauge)
    qtbot.waitUntil(lambda: "RAM" in gauge.text() and "…" not in gauge.text())
    assert gauge.text().startswith("No NVIDIA GPU found — jobs run on the CPU")
    assert " GB" in gauge.ram_label.text()
    assert not gauge.gpu_bar.isVisible()


def test_gauge_shows_gpu_use_and_the_jobs_peak(qtbot, monkeypatch):
    class Memory:
        def __init__(self, used: int) -> None:
            self.used, self.total = used, 24 * 2**30

    used = [3 * 2**30]
    fake = types.SimpleNamespace(
        nvmlInit=lambda: None,
        nvmlShutdown=lambda: None,
        nvmlDeviceGetCount=lambda: 1,
        nvmlDeviceGetHandleByIndex=lambda i: "gpu0",
        nvmlDeviceGetName=lambda h: b"NVIDIA GeForce RTX 4090",
        nvmlDeviceGetMemoryInfo=lambda h: Memory(used[0]),
    )
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    reader = NvmlReader()
    gauge = VramGauge()
    qtbot.addWidget(gauge)

    def feed() -> None:
        gauge.update_sample(SystemSample(reader.read(), reader.note, 8 * 2**30, 32 * 2**30))

    feed()
    assert gauge.text() == "GPU 3.0 / 24.0 GB  ·  RAM 8.0 / 32.0 GB"
    gauge.begin_job()
    used[0] = 20 * 2**30
    feed()
    used[0] = 12 * 2**30
    feed()
    assert gauge.gpu_label.text() == "GPU 12.0 / 24.0 GB · peak 20.0"
    gauge.end_job(torch_peak_bytes=18 * 2**30)
    assert gauge.gpu_label.text() == "GPU 12.0 / 24.0 GB · peak 20.0 (last job)"
    assert "RTX 4090" in gauge.gpu_label.toolTip() and "18.0 GB" in gauge.gpu_label.toolTip()
    assert gauge.gpu_bar.property("level") == "low"
    used[0] = 23 * 2**30
    feed()
    assert gauge.gpu_bar.property("level") == "high"


def test_nvml_reader_without_a_driver_says_so():
    reader = NvmlReader()  # pynvml cannot be imported here (the cpu_only fixture), as without a driver
    assert reader.read() is None
    assert reader.note == "No NVIDIA GPU found"
    assert reader.read() is None  # and it does not retry every second


# ---- the form -------------------------------------------------------------------------------------------------
def test_parameter_form_snaps_and_explains(qtbot, open_window):
    window = open_window(start_engine=False)
    width = find(window, QSpinBox, "widthSpin")
    frames = find(window, QSpinBox, "framesSpin")
    size_note = find(window, QLabel, "sizeNote")
    frames_note = find(window, QLabel, "framesNote")
    duration = find(window, QLabel, "durationLabel")
    presets = find(window, QComboBox, "sizePresetCombo")

    # The official defaults.
    assert (width.value(), find(window, QSpinBox, "heightSpin").value()) == (768, 432)
    assert presets.currentText().startswith("Landscape 768 × 432")
    assert frames.value() == 125 and duration.text() == "5.21 s at 24 fps"
    assert find(window, QPlainTextEdit, "negativePromptEdit").toPlainText() == OFFICIAL_NEGATIVE_PROMPT

    # Free entry: while typing, the note says what will happen; when finished, the value snaps.
    width.lineEdit().selectAll()
    qtbot.keyClicks(width.lineEdit(), "770")
    assert width.value() == 770
    assert size_note.isVisible() and "becomes 768" in size_note.text()
    problems = find(window, QLabel, "problemsLabel")
    assert "multiple of 16" in problems.text() and problems.isVisible()
    width.editingFinished.emit()
    assert width.value() == 768
    assert size_note.text() == "Width 770 was rounded to 768: sizes are multiples of 16."
    # Only the missing model folder is left (this window has none), not the size.
    assert "multiple of 16" not in problems.text() and "Choose a model folder first" in problems.text()

    frames.lineEdit().selectAll()
    qtbot.keyClicks(frames.lineEdit(), "100")
    assert "100 frames will run as 101" in frames_note.text()
    frames.editingFinished.emit()
    assert frames.value() == 101
    assert frames_note.text() == "100 frames was rounded to 101: the video VAE needs 4k + 1 frames."
    assert duration.text() == "4.21 s at 24 fps"
    find(window, QComboBox, "fpsCombo").setValue(16)
    assert duration.text() == "6.31 s at 16 fps"

    # Presets and the swap button.
    presets.setCurrentIndex(presets.findText("Portrait 432 × 768"))
    presets.activated.emit(presets.currentIndex())
    assert (width.value(), find(window, QSpinBox, "heightSpin").value()) == (432, 768)
    qtbot.mouseClick(find(window, QToolButton, "swapSizeButton"), Qt.MouseButton.LeftButton)
    assert (width.value(), find(window, QSpinBox, "heightSpin").value()) == (768, 432)
    assert presets.currentText().startswith("Landscape")
    width.setValue(512)
    assert presets.currentText() == "Custom"


def test_seed_random_button_lock_and_big_seeds(qtbot, open_window):
    window = open_window(start_engine=False)
    form = window.parameter_form
    seed = find(window, QWidget, "seedSpin")
    lock = find(window, QToolButton, "seedLockButton")
    assert not lock.isChecked()
    before = seed.value()
    qtbot.mouseClick(find(window, QToolButton, "randomSeedButton"), Qt.MouseButton.LeftButton)
    assert seed.value() != before
    seed.setValue(MAX_SEED)  # beyond a QSpinBox's 32-bit range
    assert form.parameters().seed == MAX_SEED
    # Typing a seed by hand locks it, so Generate uses it.
    seed.lineEdit().selectAll()
    qtbot.keyClicks(seed.lineEdit(), "123456789012")
    assert seed.value() == 123456789012 and lock.isChecked()
    qtbot.keyClicks(seed.lineEdit(), "x")  # rejected by the validator
    assert seed.value() == 123456789012


def test_memory_panel_is_one_exclusive_placement_with_tooltips(open_window):
    window = open_window(start_engine=False)
    radios = [
        find(window, QRadioButton, n)
        for n in ("allOnGpuCheck", "modelOffloadCheck", "sequentialOffloadCheck", "streamedOffloadCheck")
    ]
    assert radios[0].isChecked()
    radios[1].setChecked(True)
    assert [r.isChecked() for r in radios] == [False, True, False, False]
    assert window.memory_panel.options().placement is Placement.MODEL
    for name in (
        "allOnGpuCheck",
        "modelOffloadCheck",
        "sequentialOffloadCheck",
        "streamedOffloadCheck",
        "vaeSlicingCheck",
        "vaeTilingCheck",
        "attentionSlicingCheck",
        "textEncodersOffCheck",
        "quantizationCombo",
        "deviceCombo",
        "dtypeCombo",
    ):
        assert len(window.findChild(QWidget, name).toolTip()) > 40, name
    # Text encoders off the GPU only applies to the all-on-GPU placement.
    assert not find(window, QCheckBox, "textEncodersOffCheck").isEnabled()
    quant = find(window, QComboBox, "quantizationCombo")
    assert [quant.itemData(i) for i in range(quant.count())] == ["none", "int8", "fp8"]
    options = MemoryOptions(
        device="cpu",
        dtype="float32",
        placement=Placement.GPU,
        vae_slicing=True,
        vae_tiling=True,
        attention_slicing=True,
        text_encoders_off_gpu=False,
    )
    window.memory_panel.set_options(options)
    assert window.memory_panel.options() == options


# ---- history ----------------------------------------------------------------------------------------------------
def fake_done_job(window, prompt: str, seed: int, tmp_path: Path):
    """A finished job on record with a real little clip and thumbnail, without running the engine."""
    outputs = window.paths.outputs
    video = outputs / f"clip-{seed}.mp4"
    frames = np.random.default_rng(seed).random((5, 48, 80, 3), dtype=np.float32)
    write_mp4(frames, video, 8, {})
    (video.with_suffix(".json")).write_text("{}")
    thumb = write_thumbnail(video, window.paths.thumbnails / f"clip-{seed}.png")
    request = GenerationRequest(
        prompt=prompt,
        width=80,
        height=48,
        num_frames=5,
        fps=8,
        steps=2,
        seed=seed,
        memory=MemoryOptions(vae_tiling=True),
    )
    record = window.store.add(request, str(tmp_path / "some-model"), JobStatus.RUNNING)
    from core.job.request import GenerationResult, StageTimings

    result = GenerationResult(request, video, None, None, 5, StageTimings(1, 1, 1, 1, 1), None, "cpu")
    window.store.mark_done(record.id, result, thumb)
    return window.store.get(record.id)


def test_history_panel_actions(qtbot, open_window, tmp_path, monkeypatch):
    window = open_window(start_engine=False)
    fox = fake_done_job(window, "a red fox in the snow", 11, tmp_path)
    owl = fake_done_job(window, "an owl at night", 22, tmp_path)
    window.history_panel.refresh()
    history = find(window, QListView, "historyList")
    model = history.model()
    assert model.rowCount() == 2
    assert model.index(0).data() == "an owl at night"  # newest first
    assert find(window, QLabel, "historyCountLabel").text() == "2 jobs"

    # Search the prompts.
    search = find(window, QLineEdit, "historySearchEdit")
    qtbot.keyClicks(search, "FOX snow")
    qtbot.waitUntil(lambda: model.rowCount() == 1)
    assert model.index(0).data() == "a red fox in the snow"
    assert find(window, QLabel, "historyCountLabel").text() == "1 of 2"
    search.clear()
    qtbot.waitUntil(lambda: model.rowCount() == 2)

    # Load into the form: prompt, parameters, seed (locked), memory options, model folder.
    history.setCurrentIndex(model.index(model.row_of(fox.id)))
    qtbot.mouseClick(find(window, QPushButton, "loadButton"), Qt.MouseButton.LeftButton)
    assert find(window, QPlainTextEdit, "promptEdit").toPlainText() == "a red fox in the snow"
    assert window.parameter_form.parameters().seed == 11 and window.parameter_form.seed_locked
    assert window.parameter_form.parameters().fps == 8
    assert find(window, QCheckBox, "vaeTilingCheck").isChecked()
    assert find(window, QLineEdit, "modelPathEdit").text() == str(tmp_path / "some-model")

    # Play, and show in folder.
    qtbot.mouseClick(find(window, QPushButton, "historyPlayButton"), Qt.MouseButton.LeftButton)
    assert window.player.path == fox.video
    opened: list[Path] = []
    monkeypatch.setattr(gui.main_window, "open_in_folder", lambda p: opened.append(Path(p)) or True)
    qtbot.mouseClick(find(window, QPushButton, "historyFolderButton"), Qt.MouseButton.LeftButton)
    assert opened == [fox.video]

    # Delete asks first; "no" keeps everything.
    answers = [False]
    monkeypatch.setattr(gui.jobs.record_actions, "confirm", lambda *a, **k: answers.pop(0))
    qtbot.mouseClick(find(window, QPushButton, "deleteButton"), Qt.MouseButton.LeftButton)
    assert model.rowCount() == 2 and fox.video.is_file()
    # "Yes" removes the record, the clip, its sidecar and its thumbnail (and stops playing it).
    answers.append(True)
    qtbot.mouseClick(find(window, QPushButton, "deleteButton"), Qt.MouseButton.LeftButton)
    assert model.rowCount() == 1 and window.store.get(fox.id) is None
    assert not fox.video.exists() and not fox.video.with_suffix(".json").exists()
    assert not fox.thumbnail.exists()
    assert window.player.path is None
    assert owl.video.is_file()


def test_make_a_demo_model_from_the_picker(qtbot, open_window, tmp_path, monkeypatch):
    window = open_window(start_engine=False)
    target = tmp_path / "models" / "contentv-demo"
    asked: list[Path] = []
    monkeypatch.setattr(
        gui.form.model_picker, "choose_demo_target", lambda parent, suggested: asked.append(suggested) or target
    )
    qtbot.mouseClick(find(window, QPushButton, "makeDemoModelButton"), Qt.MouseButton.LeftButton)
    assert window.model_picker.making_demo
    assert "Making the demo model" in find(window, QLabel, "modelStatusLabel").text()
    qtbot.waitUntil(lambda: window.model_picker.is_valid, timeout=120_000)
    assert asked == [window.paths.models / "contentv-demo"]
    assert find(window, QLineEdit, "modelPathEdit").text() == str(target)
    assert "a small test model" in find(window, QLabel, "modelStatusLabel").text()
    assert str(target) in window.model_picker.recent()


# ---- start-up -------------------------------------------------------------------------------------------------
def test_smoke_opens_the_window_and_exits_zero(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, str(REPO / "main.py"), "--smoke", "--data-dir", str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "window shown" in result.stdout
    assert (tmp_path / "data" / "history.sqlite3").is_file()
    assert (tmp_path / "data" / "settings.json").is_file()


def test_app_options():
    from gui.app import build_parser

    args = build_parser().parse_args(["--data-dir", "/x/data", "--model", "/x/model", "--smoke"])
    assert (args.data_dir, args.model, args.smoke) == ("/x/data", "/x/model", True)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--nope"])
