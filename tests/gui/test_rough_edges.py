"""The window's rough edges (issue 8, item 7), each the way a careful desktop app behaves: the form's observable
model, the wheel over the form, Generate without a usable model, small screens, out-of-range values, the title,
history search and keys, Escape, the player's seeking, frame steps and full screen, the command line's options,
and nothing written outside the data folder."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt, QThread
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QWidget,
)

import gui.jobs.record_actions
import gui.main_window
from core.job.request import GenerationRequest, MemoryOptions, Placement
from core.output.video import write_mp4
from core.store.history import JobStatus
from gui.form.form_model import SEED_LOCKED, FormModel
from gui.jobs.history_panel import matches_search
from gui.jobs.job_progress import window_title
from gui.support.paths import APP_NAME
from tests.gui.helpers import find

REPO = Path(__file__).resolve().parents[2]


# ---- the form's model -------------------------------------------------------------------------------------------
def test_form_model_fields_are_the_requests_own():
    request = GenerationRequest(prompt="a fox", width=512, height=288, steps=7, seed=5)
    model = FormModel(request)
    # The form also holds the Finish and GPUs choices, which a request writes out only when set (as drafts).
    assert set(model.fields()) == set(request.to_dict()) | {SEED_LOCKED, "finish", "parallel"}
    assert model.request() == request
    seen: list[str] = []
    model.changed.connect(seen.append)
    assert model.set("steps", 9) and not model.set("steps", 9)  # a signal only for a real change
    assert seen == ["steps"]
    assert model.request(seed=77).seed == 77 and model.request().steps == 9
    with pytest.raises(KeyError):
        model.set("no_such_field", 1)


def test_panels_bind_to_the_form_model(open_window):
    window = open_window(start_engine=False)
    form = window.form
    # The model drives the widgets...
    form.apply_request(
        GenerationRequest(
            prompt="an owl at night",
            negative_prompt="blurry",
            width=512,
            height=288,
            num_frames=33,
            fps=12,
            steps=20,
            guidance=4.5,
            seed=42,
            memory=MemoryOptions(vae_tiling=True),
        ),
        lock_seed=True,
    )
    assert find(window, QPlainTextEdit, "promptEdit").toPlainText() == "an owl at night"
    assert find(window, QPlainTextEdit, "negativePromptEdit").toPlainText() == "blurry"
    assert find(window, QSpinBox, "widthSpin").value() == 512
    assert find(window, QComboBox, "fpsCombo").value() == 12
    assert find(window, QDoubleSpinBox, "guidanceSpin").value() == 4.5
    assert window.parameter_form.seed_spin.value() == 42 and window.parameter_form.seed_locked
    assert window.memory_panel.options().vae_tiling
    # ...and the widgets write into the model, which builds the request.
    find(window, QSpinBox, "stepsSpin").setValue(11)
    find(window, QPlainTextEdit, "promptEdit").setPlainText("a heron  ")
    window.memory_panel.set_options(MemoryOptions(placement=Placement.GPU, attention_slicing=True))
    request = window.current_request()
    assert request == form.request()
    assert (request.prompt, request.steps, request.fps, request.seed) == ("a heron", 11, 12, 42)
    assert request.memory.attention_slicing and not request.memory.vae_tiling


# ---- the wheel ------------------------------------------------------------------------------------------------
def wheel(widget: QWidget, down: bool = True) -> None:
    centre = QPointF(widget.rect().center())
    delta = QPoint(0, -120 if down else 120)
    event = QWheelEvent(
        centre,
        QPointF(widget.mapToGlobal(widget.rect().center())),
        QPoint(),
        delta,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def test_wheel_scrolls_the_form_unless_a_field_has_focus(qtbot, open_window):
    window = open_window(start_engine=False)
    window.resize(window.minimumSizeHint().width(), 600)  # short enough that the form scrolls
    qtbot.waitUntil(lambda: window.height() <= 640)
    scroll = find(window, QScrollArea, "leftScroll")
    bar = scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0)
    fps = find(window, QComboBox, "fpsCombo")
    scroll.ensureWidgetVisible(fps)
    window.generate_button.setFocus()
    bar.setValue(bar.maximum() // 2)
    before = bar.value()
    wheel(fps)
    assert fps.value() == 24  # today this went 24 → 23 → … → 14
    assert bar.value() != before  # the form scrolled instead
    for name in ("sizePresetCombo", "stepsSpin", "quantizationCombo"):
        widget = window.findChild(QWidget, name)
        assert widget.focusPolicy() == Qt.FocusPolicy.StrongFocus, name
    # With focus (clicked or tabbed into), the wheel changes the field as usual.
    fps.setFocus()
    qtbot.waitUntil(fps.hasFocus)
    wheel(fps, down=False)
    assert fps.value() == Fraction(24000, 1001)  # the rate above it in the list


# ---- Generate and the model folder ------------------------------------------------------------------------------
def test_generate_is_disabled_with_the_reason_while_the_model_folder_is_unusable(
    qtbot, open_window, gui_tiny_model, tmp_path
):
    window = open_window(start_engine=False)
    find(window, QPlainTextEdit, "promptEdit").setPlainText("a fox")
    button = find(window, QPushButton, "generateButton")
    problems = find(window, QLabel, "problemsLabel")
    assert not button.isEnabled() and not window.generate_action.isEnabled()
    assert "Choose a model folder first" in button.toolTip()
    assert problems.isVisible() and "Choose a model folder first" in problems.text()
    assert window.generate() is None and window.store.count() == 0

    broken = tmp_path / "broken"
    broken.mkdir()
    window.model_picker.set_path(broken)
    qtbot.waitUntil(lambda: window.model_picker.report is not None)
    assert not button.isEnabled()
    assert "The model folder cannot be used" in button.toolTip()
    assert "The model folder cannot be used" in problems.text()

    window.model_picker.set_path(gui_tiny_model)
    qtbot.waitUntil(lambda: window.model_picker.is_valid)
    qtbot.waitUntil(button.isEnabled)
    assert not problems.isVisible() and "Generate" in button.toolTip()


# ---- small screens ----------------------------------------------------------------------------------------------
def test_window_fits_small_screens_with_nothing_cut(qtbot, open_window):
    window = open_window(start_engine=False)
    smallest = window.minimumSizeHint()
    # 1366×768 at 100 % and 1920×1080 at 150 % (1280×720 logical), with room for a task bar.
    assert smallest.width() <= 1280 and smallest.height() <= 720, smallest
    window.resize(smallest)
    qtbot.waitUntil(lambda: window.width() <= 1280)
    QApplication.processEvents()
    cut = [
        (button.objectName(), button.text(), button.width(), button.sizeHint().width())
        for button in window.findChildren(QAbstractButton)
        if button.isVisible() and button.text() and button.width() < button.sizeHint().width()
    ]
    assert cut == []
    new_seed = find(window, QPushButton, "rerunNewSeedButton")
    assert new_seed.fontMetrics().horizontalAdvance(new_seed.text()) < new_seed.width()


# ---- out-of-range values -----------------------------------------------------------------------------------------
def type_into(qtbot, spin: QWidget, text: str) -> None:
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, Qt.Key.Key_Return)


def test_out_of_range_values_are_corrected_with_a_note(qtbot, open_window):
    window = open_window(start_engine=False)
    note = find(window, QLabel, "rangeNote")
    assert not note.isVisible()

    steps = find(window, QSpinBox, "stepsSpin")
    type_into(qtbot, steps, "0")
    assert steps.value() == 1
    assert note.isVisible() and note.text() == "Steps: 0 is outside 1–1000; it was set to 1."

    guidance = find(window, QDoubleSpinBox, "guidanceSpin")
    type_into(qtbot, guidance, "99")
    assert guidance.value() == 30.0  # not 9, which Qt makes of it by refusing the second key
    assert note.text() == "Guidance: 99 is outside 0–30; it was set to 30."

    seed = window.parameter_form.seed_spin
    seed.setValue(1234)
    type_into(qtbot, seed, "12ab")
    assert seed.value() == 12 and seed.text() == "12"
    assert note.text().startswith("Seed: “12ab” is not a whole number from 0 to") and note.text().endswith(
        "it stays 12."
    )
    type_into(qtbot, seed, "99999999999999999999")
    assert seed.value() == 2**63 - 1
    assert "above the largest seed" in note.text()
    assert window.current_request().seed == 2**63 - 1 and window.current_request().steps == 1


# ---- the title --------------------------------------------------------------------------------------------------
def test_one_title_with_progress_and_prompt(open_window):
    assert window_title() == APP_NAME
    assert window_title(85, "a red fox trots through snow") == f"85% — a red fox trots through snow — {APP_NAME}"
    long = window_title(3, "a very long prompt " * 10)
    assert long.count(APP_NAME) == 1 and "…" in long and long.endswith(f" — {APP_NAME}")

    window = open_window(start_engine=False)
    record = window.store.add(GenerationRequest(prompt="a red fox", seed=1), "model", JobStatus.RUNNING)
    window.controller.jobStarted.emit(record.id)
    window.controller.stepped.emit(record.id, 17, 20, 1.0, 1.0)
    assert window.windowTitle() == f"85% — a red fox — {APP_NAME}"
    assert window.windowTitle().count(APP_NAME) == 1  # Qt appends the display name only when it is missing
    window.job_progress.ended(record.id)
    assert window.windowTitle() == APP_NAME


# ---- history ----------------------------------------------------------------------------------------------------
def test_history_search_matches_whole_words():
    assert matches_search("job B in the rain", "job B")
    assert not matches_search("job C in the rain", "job B")
    assert matches_search("A Red FOX", "fox red")
    assert not matches_search("foxes", "fox")
    assert matches_search("雪地里的红狐狸", "红狐")  # scripts without spaces match inside words


def test_history_search_and_keys(qtbot, open_window, monkeypatch):
    window = open_window(start_engine=False)
    for name in ("job A", "job B", "job C"):
        window.store.add(GenerationRequest(prompt=name, seed=1), "model", JobStatus.CANCELLED)
    window.history_panel.refresh()
    history = find(window, QListView, "historyList")
    model = history.model()
    search = find(window, QLineEdit, "historySearchEdit")
    empty = find(window, QLabel, "historyEmptyLabel")

    window.history_panel.set_search("job B")
    assert [model.index(i).data() for i in range(model.rowCount())] == ["job B"]
    window.history_panel.set_search("zebra")
    assert model.rowCount() == 0
    assert empty.isVisible() and "zebra" in empty.text() and "Clear the search" in empty.text()
    search.clear()
    window.history_panel.set_search("")
    assert model.rowCount() == 3 and not empty.isVisible()

    # Delete asks first; "no" keeps the entry, "yes" deletes it.
    answers = [False, True]
    questions: list[str] = []

    def confirm(_parent, _title, text, *_args):
        questions.append(text)
        return answers.pop(0)

    monkeypatch.setattr(gui.jobs.record_actions, "confirm", confirm)
    window.activateWindow()
    history.setFocus()
    history.setCurrentIndex(model.index(0))
    qtbot.waitUntil(history.hasFocus)
    qtbot.keyClick(history, Qt.Key.Key_Delete)
    assert len(questions) == 1 and window.store.count() == 3
    qtbot.keyClick(history, Qt.Key.Key_Delete)
    assert len(questions) == 2 and window.store.count() == 2


def test_escape_cancels_the_running_job(qtbot, open_window, monkeypatch):
    window = open_window(start_engine=False)
    cancelled: list[bool] = []
    monkeypatch.setattr(window.controller, "cancel_current", lambda: cancelled.append(True) or True)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    find(window, QPlainTextEdit, "promptEdit").setFocus()
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Escape)
    assert cancelled == []  # nothing runs: Escape does nothing
    window._on_busy(True)
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Escape)
    assert cancelled == [True]
    assert "Cancelling" in window.stage_label.text()
    window._on_busy(False)


# ---- the player ---------------------------------------------------------------------------------------------------
@pytest.fixture
def clip(tmp_path: Path) -> Path:
    frames = np.random.default_rng(3).random((17, 48, 80, 3), dtype=np.float32)
    return write_mp4(frames, tmp_path / "clip.mp4", 8, {})  # 2.1 s at 8 fps


def test_player_seeks_steps_frames_and_goes_full_screen(qtbot, open_window, clip):
    from PySide6.QtMultimedia import QMediaPlayer

    window = open_window(start_engine=False)
    player = window.player
    player.load(clip)
    qtbot.waitUntil(lambda: player.player.duration() > 0)
    # Never at 0:00 with a pause icon: when it says it plays, the position moves.
    qtbot.waitUntil(lambda: player.is_playing() and player.player.position() > 0)
    assert player.play_button.property("showsPause")

    # A click on the track seeks there (Qt's default moved it one page step towards the click).
    slider = player.position_slider
    duration = player.player.duration()
    player.pause()
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(int(slider.width() * 0.75), slider.height() // 2))
    qtbot.waitUntil(lambda: abs(player.player.position() - 0.75 * duration) < 0.15 * duration)

    # Frame steps: the buttons and the , . keys, paused, one frame (125 ms at 8 fps) each.
    player.player.setPosition(int(2.5 * 125))
    qtbot.waitUntil(lambda: player.current_frame() == 2)
    qtbot.mouseClick(find(window, QAbstractButton, "nextFrameButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: player.current_frame() == 3)
    assert player.player.playbackState() != QMediaPlayer.PlaybackState.PlayingState
    assert player.handle_key(Qt.Key.Key_Comma) and player.handle_key(Qt.Key.Key_Comma)
    qtbot.waitUntil(lambda: player.current_frame() == 1)
    assert player.handle_key(Qt.Key.Key_Period)
    qtbot.waitUntil(lambda: player.current_frame() == 2)

    # Full screen: F or a double-click; Esc leaves.
    qtbot.keyClick(player.video_widget, Qt.Key.Key_F)
    qtbot.waitUntil(player.is_full_screen)
    qtbot.keyClick(player.video_widget, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not player.is_full_screen())
    qtbot.mouseDClick(player.video_widget, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(player.is_full_screen)
    qtbot.mouseClick(find(window, QAbstractButton, "fullScreenButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not player.is_full_screen())
    player.clear()


# ---- the command line ------------------------------------------------------------------------------------------
def test_help_lists_every_option_and_the_commands(capsys):
    from gui.app import parse_arguments

    with pytest.raises(SystemExit) as exit_info:
        parse_arguments(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--data-dir", "--model", "--smoke", "--version", "generate", "make-demo-model"):
        assert option in text, option

    args, qt_args = parse_arguments(["--model", "m", "-style", "fusion", "-reverse"])
    assert args.model == "m" and qt_args == ["-style", "fusion", "-reverse"]

    for wrong in (["--bogus"], ["stray"], ["--model"]):
        with pytest.raises(SystemExit) as exit_info:
            parse_arguments(wrong)
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "error:" in err, err


def test_unknown_option_exits_2_without_opening_the_window(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, str(REPO / "main.py"), "--data-dir", str(tmp_path / "data"), "--no-such-option"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "--no-such-option" in done.stderr
    assert not (tmp_path / "data").exists()  # stopped before anything was opened


# ---- nothing outside the data folder ----------------------------------------------------------------------------
def test_file_dialog_writes_nothing_outside_the_data_folder(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    data = tmp_path / "data"
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(REPO)!r})
        from PySide6.QtWidgets import QFileDialog
        from gui.app import create_window, get_application
        app = get_application()
        window = create_window({str(data)!r}, start_engine=False)
        dialog = QFileDialog(window, "pick", {str(tmp_path)!r})
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
        dialog.show()
        app.processEvents()
        dialog.setDirectory({str(data)!r})
        dialog.accept()
        del dialog  # QFileDialog saves its state (recent folders) when it goes
        import gc; gc.collect()
        window.shutdown()
        """
    )
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
    }
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    written = [str(p.relative_to(home)) for p in home.rglob("*") if p.is_file()]
    assert written == []
    assert (data / "qt" / "QtProject.conf").is_file()  # Qt's dialog state went into the data folder


# ---- a responsive window ------------------------------------------------------------------------------------------
# How long the GUI thread goes without its event loop is measured by bench/gui_gaps.py (a figure that depends on
# the machine's load); the suite asserts the facts that keep those gaps short.
def test_main_imports_the_engine_libraries_before_the_first_paint(tmp_path):
    """torch, diffusers and transformers are imported (and their objects frozen out of the collector's sight)
    before the window is first shown: imported later, on the worker thread, they held the GUI thread."""
    script = textwrap.dedent(
        f"""
        import gc, json, os, sys
        sys.path.insert(0, {str(REPO)!r})
        import gui.main_window
        from gui.app import main

        def first_show(window):
            names = ("torch", "diffusers", "transformers", "core.engine.pipeline", "core.engine.transformer")
            seen = {{name: name in sys.modules for name in names}}
            seen["frozen"] = gc.get_freeze_count()
            print("SEEN " + json.dumps(seen), flush=True)
            os._exit(0)  # the window is never shown: the question was answered

        gui.main_window.MainWindow.show = first_show
        main(["--data-dir", {str(tmp_path / "data")!r}])
        """
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("SEEN ")]
    assert lines, done.stderr
    seen = json.loads(lines[0][len("SEEN ") :])
    assert seen.pop("frozen") > 0
    assert all(seen.values()), seen


def test_the_engine_runs_off_the_gui_thread_from_start_to_clip(qtbot, open_window, gui_tiny_model, monkeypatch):
    """The engine's start (torch's import), the job and its steps run on the worker's thread, with full
    collections paused while the engine imports; automatic collection stays off while the window is open (the
    GUI-thread collector paces it, tests/gui/test_gui_logic.py), and the clip ends up in the player."""
    import core.engine.devices
    import gui.support.gc_guard
    from core.engine.runner import Engine
    from tests.gui.helpers import JobWatcher, fill_small

    threads: dict[str, list[object]] = {"start": [], "generate": [], "step": []}
    paused_at_start: list[int] = []
    probe = core.engine.devices.detect_capabilities  # the CPU-only stand-in of the cpu_only fixture

    def recording_probe():
        threads["start"].append(QThread.currentThread())
        paused_at_start.append(gui.support.gc_guard._full_pauses)
        return probe()

    real_generate = Engine.generate

    def recording_generate(self, *args, **kwargs):
        threads["generate"].append(QThread.currentThread())
        return real_generate(self, *args, **kwargs)

    monkeypatch.setattr(core.engine.devices, "detect_capabilities", recording_probe)
    monkeypatch.setattr(Engine, "generate", recording_generate)
    window = open_window(model=gui_tiny_model)
    window.controller._host.worker.stepped.connect(
        lambda *_: threads["step"].append(QThread.currentThread()), Qt.ConnectionType.DirectConnection
    )
    watcher = JobWatcher(window)
    fill_small(window)
    qtbot.waitUntil(window.generate_button.isEnabled, timeout=60_000)  # the model folder check
    assert not gc.isenabled()  # the GUI-thread collector has it
    qtbot.mouseClick(window.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(watcher.finished or watcher.failed), timeout=300_000)
    assert watcher.finished, watcher.failed
    qtbot.waitUntil(lambda: window.player.path is not None, timeout=60_000)

    gui_thread = QApplication.instance().thread()
    worker_thread = window.controller._host.worker_thread
    assert paused_at_start == [1]
    assert len(threads["generate"]) == 1 and len(threads["step"]) == 3
    for stage, seen in threads.items():
        assert all(thread is worker_thread and thread is not gui_thread for thread in seen), stage


def test_a_stalled_clip_is_restarted_and_otherwise_shows_the_play_icon(qtbot, open_window, clip, monkeypatch):
    window = open_window(start_engine=False)
    player = window.player
    player.load(clip)
    qtbot.waitUntil(lambda: player.is_playing() and player.player.position() > 0)
    # The backend says "playing" but the position stands still (as seen at 0:00 with a pause icon).
    monkeypatch.setattr(player.player, "position", lambda: 0)
    restarts: list[bool] = []
    monkeypatch.setattr(player.player, "stop", lambda: restarts.append(True))
    player._stall_timer.stop()
    player._check_stall()  # notes the position
    player._check_stall()  # it did not move: start again
    assert restarts == [True] and player.is_playing()
    player._check_stall()
    player._check_stall()  # still not moving after the restart: pause, so the button shows "play"
    qtbot.waitUntil(lambda: not player.is_playing())
    assert player.play_button.property("showsPause") is False
