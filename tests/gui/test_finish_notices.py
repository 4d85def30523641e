"""When a long job ends while the window is not in front: one notice and one chime (through a recording notifier),
none while the window is in front, no chime once the sound is switched off, one notice for a whole queue, one for a
failure; the real notifier works (or does nothing) without a desktop; the title shows the decode and the queue."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QWidget

from core.job.request import GenerationRequest, MemoryOptions
from gui.jobs.job_progress import window_title
from gui.support.notifier import DesktopNotifier, RecordingNotifier, chime_path
from gui.support.paths import APP_NAME
from gui.support.settings import Settings
from tests.gui.helpers import JobWatcher, find, wait_ready
from tests.interrupting import fail_decode_once


def small(prompt: str, seed: int = 3) -> GenerationRequest:
    return GenerationRequest(
        prompt=prompt, width=80, height=48, num_frames=9, steps=2, seed=seed, memory=MemoryOptions(device="cpu")
    )


@pytest.fixture
def other_window(qtbot):
    """Another top-level window, active: the main window is then not in front."""
    widget = QWidget()
    qtbot.addWidget(widget)

    def activate() -> QWidget:
        widget.show()
        widget.activateWindow()
        qtbot.waitUntil(widget.isActiveWindow)
        return widget

    return activate


def open_with_recorder(qtbot, open_window, model):
    window = open_window(model=model)
    wait_ready(qtbot, window)
    recorder = RecordingNotifier()
    window.finish_notices.notifier = recorder
    return window, recorder, JobWatcher(window)


def run(qtbot, window, watcher: JobWatcher, *requests: GenerationRequest, model) -> list[int]:
    records = window.controller.submit_many(list(requests), str(model))
    for record in records:
        watcher.wait(qtbot, record.id)
    # The notice is told at the queue's end, right after the last job's signals.
    qtbot.waitUntil(lambda: not window.controller.busy)
    return [r.id for r in records]


def test_a_job_ending_behind_another_window_tells_once(qtbot, open_window, gui_tiny_model, other_window):
    window, recorder, watcher = open_with_recorder(qtbot, open_window, gui_tiny_model)
    other_window()
    assert not window.finish_notices.window_in_front()
    (job_id,) = run(qtbot, window, watcher, small("a lighthouse at dusk"), model=gui_tiny_model)
    assert job_id in watcher.finished
    assert len(recorder.notices) == 1 and recorder.sounds == 1
    title, body = recorder.notices[0]
    assert title == "Clip ready: a lighthouse at dusk"
    assert body.startswith("Made in ")


def test_no_notice_while_the_window_is_in_front(qtbot, open_window, gui_tiny_model):
    window, recorder, watcher = open_with_recorder(qtbot, open_window, gui_tiny_model)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    assert window.finish_notices.window_in_front()
    run(qtbot, window, watcher, small("a lighthouse at dawn"), model=gui_tiny_model)
    assert recorder.notices == [] and recorder.sounds == 0


def test_sound_off_still_notifies_and_is_saved(qtbot, open_window, gui_tiny_model, other_window, tmp_path):
    window, recorder, watcher = open_with_recorder(qtbot, open_window, gui_tiny_model)
    sound = find(window, QAction, "finishSoundAction")
    notice = find(window, QAction, "finishNoticeAction")
    assert sound.isCheckable() and sound.isChecked() and notice.isChecked()  # both on by default
    sound.trigger()  # the View menu's switch
    assert not window.settings.finish_sound
    window.showMinimized()  # minimised counts as not in front, whatever the focus says
    assert not window.finish_notices.window_in_front()
    run(qtbot, window, watcher, small("a lighthouse at noon"), model=gui_tiny_model)
    assert len(recorder.notices) == 1 and recorder.sounds == 0

    window.close()
    qtbot.waitUntil(lambda: window._shut_down)
    assert recorder.closed  # the notifier is closed at shutdown (the tray icon hidden)
    saved = Settings.load(tmp_path / "data" / "settings.json")
    assert saved.finish_sound is False and saved.finish_notice is True


def test_a_queue_of_two_tells_once_at_its_end(qtbot, open_window, gui_tiny_model):
    window, recorder, watcher = open_with_recorder(qtbot, open_window, gui_tiny_model)
    titles: list[str] = []
    window.job_progress.titleChanged.connect(titles.append)
    # Minimised: offscreen, the player's first clip gives the window the focus back, as no desktop would.
    window.showMinimized()
    ids = run(qtbot, window, watcher, small("a fox", 1), small("a hare", 2), model=gui_tiny_model)
    assert all(i in watcher.finished for i in ids)
    assert len(recorder.notices) == 1 and recorder.sounds == 1
    assert recorder.notices[0][0] == "Queue finished: 2 clips"
    # The title: the queue behind the first job, the decode's progress, and back to the app's name at the end.
    assert any(t.startswith("0% (+1) — a fox") for t in titles), titles
    assert any(t.startswith("Decoding ") and "% — a hare" in t for t in titles), titles
    assert titles[-1] == APP_NAME


def test_a_failure_is_told(qtbot, open_window, gui_tiny_model, other_window, monkeypatch):
    fail_decode_once(monkeypatch, RuntimeError("the decoder fell over"))
    window, recorder, watcher = open_with_recorder(qtbot, open_window, gui_tiny_model)
    other_window()
    (job_id,) = run(qtbot, window, watcher, small("a lighthouse in fog"), model=gui_tiny_model)
    assert job_id in watcher.failed
    assert len(recorder.notices) == 1 and recorder.sounds == 1
    title, body = recorder.notices[0]
    assert title.startswith("Job failed: ") and "decoder fell over" in title
    assert body == "a lighthouse in fog"


def test_the_real_notifier_works_without_a_desktop(qtbot):
    assert chime_path().is_file()  # bundled with resources/ (packaging/ContentVStudio.spec)
    window = QWidget()
    qtbot.addWidget(window)
    notifier = DesktopNotifier(window)
    notifier.notify("Clip ready: a test", "Made in 3 s")  # no tray offscreen: the taskbar entry is flashed
    notifier.play_sound()
    notifier.play_sound()
    QApplication.processEvents()
    notifier.close()
    notifier.close()


def test_the_chime_is_short_soft_16_bit_mono():
    import wave

    with wave.open(str(chime_path())) as chime:
        assert chime.getnchannels() == 1 and chime.getsampwidth() == 2
        assert chime.getnframes() / chime.getframerate() < 1.0
        samples = chime.readframes(chime.getnframes())
    peak = max(abs(int.from_bytes(samples[i : i + 2], "little", signed=True)) for i in range(0, len(samples), 2))
    assert 0 < peak < 0.5 * 32767


def test_window_title_forms():
    assert window_title() == APP_NAME
    assert window_title(40, "a fox", decoding=True) == f"Decoding 40% — a fox — {APP_NAME}"
    assert window_title(85, "a fox", waiting=2) == f"85% (+2) — a fox — {APP_NAME}"
