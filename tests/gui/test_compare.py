"""Comparing takes: several history entries selected, Compare (button, Ctrl+K), and the compare window with real
little clips — every pane on the same frame through seeks, frame steps and playback, clips of other lengths and
rates holding their last frame, the table of differing parameters, Flip A/B, refusals, and memory let go of."""

from __future__ import annotations

import dataclasses
import gc
import time
import weakref
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel, QListView, QPushButton, QTableWidget, QWidget

from core.job.request import GenerationRequest, GenerationResult, SpeedOptions, StageTimings, StepCache
from core.output.video import read_mp4_frames, write_mp4, write_thumbnail
from core.store.history import JobStatus
from gui.player.compare_view import CompareView
from tests.gui.helpers import find

WIDTH, HEIGHT = 80, 48


def done_job(window, seed: int, *, frames: int = 9, fps: int = 8, **changes: object):
    """A finished job on record with a real clip of `frames` frames of noise (from `seed`) at `fps`."""
    video = window.paths.outputs / f"take-{seed}.mp4"
    pixels = np.random.default_rng(seed).random((frames, HEIGHT, WIDTH, 3), dtype=np.float32)
    write_mp4(pixels, video, fps, {})
    thumb = write_thumbnail(video, window.paths.thumbnails / f"take-{seed}.png")
    request = GenerationRequest(
        prompt="a lighthouse in a storm", width=WIDTH, height=HEIGHT, num_frames=frames, fps=fps, steps=30, seed=seed
    )
    request = dataclasses.replace(request, **changes)
    record = window.store.add(request, "/models/contentv", JobStatus.RUNNING)
    result = GenerationResult(request, video, None, None, frames, StageTimings(1, 1, 1, 1, 1), None, "cpu")
    window.store.mark_done(record.id, result, thumb)
    return window.store.get(record.id)


def pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, line = image.width(), image.height(), image.bytesPerLine()
    raw = np.frombuffer(image.constBits(), dtype=np.uint8, count=height * line).reshape(height, line)
    return raw[:, : 3 * width].reshape(height, width, 3).copy()


def select(window, records) -> None:
    window.history_panel.refresh()
    assert window.history_panel.select_many([r.id for r in records]) == len(records)


def open_compare(qtbot, window, records) -> CompareView:
    select(window, records)
    button = find(window, QPushButton, "historyCompareButton")
    assert button.isEnabled(), button.toolTip()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    view = window.records.compare_view
    assert view is not None and view is find(window, CompareView, "compareView") and view.isWindow()
    qtbot.waitUntil(lambda: view.loaded)
    view.pause()
    view.activateWindow()
    qtbot.waitActive(view)
    return view


def assert_panes_show(view: CompareView, expected: list[int], decoded: list[np.ndarray]) -> None:
    assert [pane.frame_index for pane in view.panes] == expected
    for pane, index, frames in zip(view.panes, expected, decoded, strict=True):
        assert np.array_equal(pixels(pane.image()), frames[index])


def close(qtbot, window, view: CompareView) -> None:
    gone: list[bool] = []
    view.destroyed.connect(lambda: gone.append(True))
    view.close()
    qtbot.waitUntil(lambda: bool(gone))  # closing deletes it
    assert window.records.compare_view is None


def test_compare_shows_two_three_and_four_clips_in_a_grid(qtbot, open_window):
    window = open_window(start_engine=False)
    takes = [done_job(window, seed) for seed in (11, 22, 33, 44)]
    for count in (2, 3, 4):
        view = open_compare(qtbot, window, takes[:count])
        assert len(view.panes) == count
        assert all(pane.isVisible() for pane in view.panes)
        assert view.findChild(QWidget, "comparePaneD") is (view.panes[3] if count == 4 else None)
        columns = {pane.geometry().x() for pane in view.panes}
        assert len(columns) == (3 if count == 3 else 2)  # 1×2, 1×3, 2×2
        # A is the take made first (the history lists the newest first); each pane says its seed.
        assert [r.id for r in view.records] == [r.id for r in takes[:count]]
        assert [pane.caption.text() for pane in view.panes] == [
            f"{letter} · seed {take.request.seed}" for letter, take in zip("ABCD"[:count], takes[:count], strict=True)
        ]
        close(qtbot, window, view)


def test_every_pane_shows_the_same_frame_through_seek_step_and_play(qtbot, open_window):
    window = open_window(start_engine=False)
    takes = [done_job(window, seed) for seed in (11, 22, 33)]
    view = open_compare(qtbot, window, takes)
    decoded = [read_mp4_frames(r.video) for r in view.records]
    assert view.timeline is not None and view.timeline.count == 9
    assert_panes_show(view, [0, 0, 0], decoded)

    # One seek (the slider) moves every pane.
    view.slider.setValue(5)
    assert view.position == 5
    assert_panes_show(view, [5, 5, 5], decoded)

    # Frame steps: buttons and keys, every pane by one.
    qtbot.mouseClick(view.next_button, Qt.MouseButton.LeftButton)
    assert_panes_show(view, [6, 6, 6], decoded)
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert_panes_show(view, [5, 5, 5], decoded)
    qtbot.keyClick(view, Qt.Key.Key_Period)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert_panes_show(view, [7, 7, 7], decoded)
    qtbot.keyClick(view, Qt.Key.Key_Comma)
    assert_panes_show(view, [6, 6, 6], decoded)
    assert view.slider.value() == 6

    # Play (Space) advances all of them together; Space pauses.
    view.seek(0)
    seen: list[list[int | None]] = []
    view.positionChanged.connect(lambda _tick: seen.append([pane.frame_index for pane in view.panes]))
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert view.is_playing()
    qtbot.waitUntil(lambda: view.position >= 3)
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert not view.is_playing()
    assert seen and all(len(set(frames)) == 1 for frames in seen)
    assert_panes_show(view, [view.position] * 3, decoded)
    close(qtbot, window, view)


def test_clips_of_other_lengths_and_rates_follow_the_clock_in_seconds(qtbot, open_window):
    window = open_window(start_engine=False)
    long_take = done_job(window, 11, frames=9, fps=8)  # 1.125 s
    short_take = done_job(window, 22, frames=5, fps=8)  # 0.625 s: holds its last frame after that
    fast_take = done_job(window, 33, frames=17, fps=16)  # 1.0625 s at twice the rate
    view = open_compare(qtbot, window, [long_take, short_take, fast_take])
    decoded = [read_mp4_frames(r.video) for r in (long_take, short_take, fast_take)]
    assert view.timeline is not None and view.timeline.fps == 16 and view.timeline.count == 18
    view.seek(4)  # 0.25 s
    assert_panes_show(view, [2, 2, 4], decoded)
    view.seek(13)  # 0.8125 s: the short take has ended
    assert_panes_show(view, [6, 4, 13], decoded)
    view.seek(17)  # 1.0625 s: the fast take shows its last frame too
    assert_panes_show(view, [8, 4, 16], decoded)
    close(qtbot, window, view)


def test_the_table_lists_exactly_the_parameters_that_differ(qtbot, open_window):
    window = open_window(start_engine=False)
    a = done_job(window, 11)
    b = done_job(window, 22, steps=50)
    c = done_job(window, 33, speed=SpeedOptions(step_cache=StepCache.FAST))
    view = open_compare(qtbot, window, [a, b, c])
    table = find(view, QTableWidget, "compareDifferencesTable")
    names = [table.verticalHeaderItem(row).text() for row in range(table.rowCount())]
    assert names == ["Seed", "Steps", "Step cache"]
    values = [[table.item(row, column).text() for column in range(3)] for row in range(table.rowCount())]
    assert values == [["11", "22", "33"], ["30", "50", "30"], ["off", "off", "fast"]]
    assert [table.horizontalHeaderItem(column).text() for column in range(3)] == ["A", "B", "C"]
    assert find(view, QLabel, "compareSameLabel").text() == "Everything else is the same."
    assert view.panes[2].caption.text() == "C · seed 33 · Steps 30 · Step cache fast"
    close(qtbot, window, view)

    # The same settings but the seed: one row, and the prompt (the same) is not listed.
    view = open_compare(qtbot, window, [a, done_job(window, 44)])
    table = find(view, QTableWidget, "compareDifferencesTable")
    assert [table.verticalHeaderItem(row).text() for row in range(table.rowCount())] == ["Seed"]
    close(qtbot, window, view)


def test_flip_shows_a_then_b_at_the_same_frame(qtbot, open_window):
    window = open_window(start_engine=False)
    takes = [done_job(window, seed) for seed in (11, 22)]
    view = open_compare(qtbot, window, takes)
    decoded = [read_mp4_frames(r.video) for r in view.records]
    view.seek(4)
    qtbot.keyClick(view, Qt.Key.Key_X)
    assert view.flip_mode and view.flip_pane.isVisible() and not view.panes[0].isVisible()
    assert view.flip_button.isChecked()
    assert (view.flip_pane.clip_index, view.flip_pane.frame_index) == (0, 4)
    assert np.array_equal(pixels(view.flip_pane.image()), decoded[0][4])
    qtbot.keyClick(view, Qt.Key.Key_X)
    assert (view.flip_pane.clip_index, view.flip_pane.frame_index) == (1, 4)
    assert np.array_equal(pixels(view.flip_pane.image()), decoded[1][4])
    assert not np.array_equal(decoded[0][4], decoded[1][4])
    qtbot.keyClick(view, Qt.Key.Key_Right)  # stepping keeps the flipped clip
    assert (view.flip_pane.clip_index, view.flip_pane.frame_index) == (1, 5)
    qtbot.keyClick(view, Qt.Key.Key_Escape)  # back to side by side
    assert not view.flip_mode and view.panes[0].isVisible() and not view.flip_button.isChecked()
    close(qtbot, window, view)


def test_compare_refuses_one_or_five_entries_and_missing_clips(qtbot, open_window):
    window = open_window(start_engine=False)
    takes = [done_job(window, seed) for seed in (11, 22, 33, 44, 55)]
    history = find(window, QListView, "historyList")
    button = find(window, QPushButton, "historyCompareButton")

    def ctrl_k() -> str:
        window.statusBar().clearMessage()
        qtbot.keyClick(history, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
        assert window.findChild(CompareView, "compareView") is None
        return window.statusBar().currentMessage()

    select(window, takes[:1])
    assert not button.isEnabled()
    assert ctrl_k().startswith("Select 2 to 4 finished clips")
    select(window, takes)
    assert not button.isEnabled()
    assert ctrl_k() == "At most 4 clips can be compared at once; 5 are selected."
    takes[0].video.unlink()
    select(window, takes[:2])
    assert not button.isEnabled() and "is missing" in button.toolTip()
    assert ctrl_k().startswith("The clip of “a lighthouse in a storm” is missing")

    # Several selected: the one-entry actions wait for one; one selected: they come back.
    select(window, takes[1:3])
    assert button.isEnabled()
    assert not find(window, QPushButton, "loadButton").isEnabled()
    assert not find(window, QPushButton, "historyPlayButton").isEnabled()
    window.history_panel.select(takes[1].id)
    assert window.history_panel.selected_records() == [window.store.get(takes[1].id)]
    assert find(window, QPushButton, "loadButton").isEnabled()
    assert not button.isEnabled()


def test_ctrl_k_opens_it_and_closing_lets_go_of_the_frames(qtbot, open_window):
    window = open_window(start_engine=False)
    takes = [done_job(window, seed) for seed in (11, 22)]
    select(window, takes)
    history = find(window, QListView, "historyList")
    qtbot.keyClick(history, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    view = window.records.compare_view
    assert view is not None and view.objectName() == "compareView" and view.isWindow()
    qtbot.waitUntil(lambda: view.loaded)
    frames = weakref.ref(view.clips[0].frames[0])
    clips = [weakref.ref(clip) for clip in view.clips]
    view.close()
    assert view.clips == [] and not view.loaded
    assert all(pane.image().isNull() for pane in view.panes)
    assert window.records.compare_view is None
    gc.collect()
    assert frames() is None and all(clip() is None for clip in clips)


def test_closing_while_decoding_stops_the_decoder(qtbot, open_window, monkeypatch):
    import core.output.clip_frames

    window = open_window(start_engine=False)
    takes = [done_job(window, seed) for seed in (11, 22)]
    started: list[Path] = []
    real = core.output.clip_frames.decode_clip

    def slow_decode(path, **kwargs):
        started.append(Path(path))
        while not kwargs["cancelled"]():  # stands for a long clip: it stops only when told
            time.sleep(0.01)
        return real(path, **kwargs)

    monkeypatch.setattr("gui.player.compare_view.decode_clip", slow_decode)
    select(window, takes)
    view = window.records.compare(window.history_panel.selected_records())
    assert view is not None
    qtbot.waitUntil(lambda: bool(started))
    view.close()
    assert not view._loader.running and not view.loaded
