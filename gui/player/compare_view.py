"""Two to four clips side by side, in step to the frame, to choose between takes (seeds, step counts, speed
options): a window of its own with one play button, one position slider and one frame step for all of them, a
table of the parameters that differ, and a Flip A/B mode that shows two clips in turn in one large pane.

Several media players cannot be held to the same frame, so each clip is decoded once into memory (on a thread,
scaled to at most a pane's width: core.output.clip_frames) and one clock drives every pane. The timeline is in seconds
and ticks at the fastest clip's frame rate; each pane shows its own frame for that moment and holds its last frame
once its clip has ended. Closing the window lets go of the frames."""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QElapsedTimer, QObject, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QColor, QImage, QKeySequence, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.errors import StudioError
from core.output.clip_frames import DEFAULT_MAX_WIDTH, ClipFrames, DecodeCancelled, decode_clip
from core.store.history import JobRecord
from gui.player.clip_differences import LETTERS, Difference, differences, pane_caption
from gui.player.video_player import SeekSlider
from gui.support.formatting import format_ms
from gui.support.i18n import core_text

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timeline:
    """The shared clock's ticks: one per frame of the fastest clip, for as long as the longest clip lasts."""

    fps: float
    count: int

    @classmethod
    def of(cls, clips: list[ClipFrames]) -> Timeline:
        fps = max(clip.fps for clip in clips)
        count = max(math.ceil(clip.count * fps / clip.fps - 1e-6) for clip in clips)
        return cls(fps, max(1, count))

    def seconds(self, tick: int) -> float:
        return tick / self.fps


class FrameCanvas(QWidget):
    """One frame, scaled to fit and letterboxed on black."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(QSize(160, 90))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._image = QImage()
        self._pixels: np.ndarray | None = None  # the array the image's pixels live in, kept alive while shown

    def set_frame(self, pixels: np.ndarray | None) -> None:
        if pixels is None:
            self._image, self._pixels = QImage(), None
        else:
            height, width, _ = pixels.shape
            contiguous = np.ascontiguousarray(pixels)
            self._pixels = contiguous
            self._image = QImage(contiguous.data, width, height, 3 * width, QImage.Format.Format_RGB888)
        self.update()

    def image(self) -> QImage:
        return self._image

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#0d0f13"))
        if not self._image.isNull():
            scaled = self._image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, scaled.width(), scaled.height())
            target.moveCenter(self.rect().center())
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(target, self._image)
        painter.end()


class ComparePane(QFrame):
    """A caption ("A · seed 11 · Steps 30") over one clip's frame."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.caption = QLabel()
        self.caption.setObjectName(f"{name}Caption")
        self.caption.setProperty("role", "subheading")
        self.canvas = FrameCanvas()
        self.clip_index: int | None = None  # which clip it shows
        self.frame_index: int | None = None  # and which of its frames
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.canvas, 1)

    def show_frame(self, clip_index: int, clip: ClipFrames, frame_index: int) -> None:
        if (self.clip_index, self.frame_index) == (clip_index, frame_index):
            return
        self.clip_index, self.frame_index = clip_index, frame_index
        self.canvas.set_frame(clip.frames[frame_index])

    def image(self) -> QImage:
        """The frame shown, at its decoded size."""
        return self.canvas.image()

    def clear(self) -> None:
        self.clip_index = self.frame_index = None
        self.canvas.set_frame(None)


class _Relay(QObject):
    # Emitted from the decoding thread; delivered on the GUI thread, where the view lives.
    progress = Signal(int, int)  # clip index, frames decoded so far
    loaded = Signal(int, object)  # clip index, ClipFrames
    failed = Signal(int, str)  # clip index, the reason in words


class ClipLoader:
    """Decodes the clips one after the other on a thread of its own; `stop` ends it within a frame."""

    def __init__(self, paths: list[Path], fallback_fps: list[float], max_width: int, relay: _Relay) -> None:
        self._paths = paths
        self._fps = fallback_fps
        self._max_width = max_width
        self._relay = relay
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="compare-decode", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        for index, path in enumerate(self._paths):
            try:
                clip = decode_clip(
                    path,
                    max_width=self._max_width,
                    fallback_fps=self._fps[index],
                    progress=lambda n, i=index: self._relay.progress.emit(i, n),
                    cancelled=self._stop.is_set,
                )
            except DecodeCancelled:
                return
            except StudioError as exc:
                self._relay.failed.emit(index, core_text(exc.message))
                return
            except Exception as exc:  # an unexpected decoder failure must reach the window, not kill the thread
                logger.exception("Could not decode %s", path)
                self._relay.failed.emit(index, str(exc))
                return
            if self._stop.is_set():
                return
            self._relay.loaded.emit(index, clip)


class CompareView(QWidget):
    """The compare window (objectName `compareView`): `ready` once every clip is decoded, `closed` when it
    closes (its frames are let go of then)."""

    ready = Signal()
    closed = Signal()
    positionChanged = Signal(int)  # the shared clock's tick

    def __init__(
        self,
        records: list[JobRecord],
        parent: QWidget | None = None,
        *,
        max_width: int = DEFAULT_MAX_WIDTH,
        autoplay: bool = True,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("compareView")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(self.tr("Compare {count} clips").format(count=len(records)))
        self.records = list(records)
        self.clips: list[ClipFrames] = []
        self._pending: list[ClipFrames | None] = [None] * len(records)
        self._decoded = [0] * len(records)
        self._expected = [max(1, r.frames_generated or r.request.effective_frames) for r in records]
        self._autoplay = autoplay
        self._released = False
        self.timeline: Timeline | None = None
        self.position = 0
        self.flip_side = 0  # 0: the flip pane shows the pair's first clip, 1: its second
        self.differences: list[Difference] = differences(self.records)

        self._clock = QElapsedTimer()
        self._clock_start = 0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)

        self._build()
        self._build_actions()
        self._relay = _Relay(self)
        self._relay.progress.connect(self._on_progress)
        self._relay.loaded.connect(self._on_loaded)
        self._relay.failed.connect(self._on_failed)
        paths = [r.video if r.video is not None else Path() for r in records]
        self._loader = ClipLoader(paths, [float(r.request.fps) for r in records], max_width, self._relay)
        self._loader.start()
        self.resize(1280, 820)

    # ---- layout -----------------------------------------------------------------------------------------------
    def _build(self) -> None:
        count = len(self.records)
        self.loading_label = QLabel(self.tr("Decoding the clips…"))
        self.loading_label.setObjectName("compareLoadingLabel")
        self.loading_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.loading_label.setWordWrap(True)
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("compareProgress")
        self.progress_bar.setRange(0, sum(self._expected))
        self.progress_bar.setValue(0)
        loading = QWidget()
        loading_layout = QVBoxLayout(loading)
        loading_layout.addStretch(1)
        loading_layout.addWidget(self.loading_label)
        loading_layout.addWidget(self.progress_bar)
        loading_layout.addStretch(1)

        # A 1×2, 1×3 or 2×2 grid.
        columns = 3 if count == 3 else 2
        grid_page = QWidget()
        grid = QGridLayout(grid_page)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(8)
        self.panes: list[ComparePane] = []
        for index, record in enumerate(self.records):
            pane = ComparePane(f"comparePane{LETTERS[index]}")
            pane.caption.setText(pane_caption(index, record, self.differences))
            pane.setToolTip(record.request.prompt)
            grid.addWidget(pane, index // columns, index % columns)
            self.panes.append(pane)

        # Flip A/B: one large pane showing one clip of a pair, then the other, at the same moment.
        flip_page = QWidget()
        flip_layout = QVBoxLayout(flip_page)
        flip_layout.setContentsMargins(0, 0, 0, 0)
        self.flip_pane = ComparePane("compareFlipPane")
        flip_layout.addWidget(self.flip_pane, 1)

        self.stack = QStackedWidget()
        self.stack.setObjectName("compareStack")
        self.stack.addWidget(loading)
        self.stack.addWidget(grid_page)
        self.stack.addWidget(flip_page)

        style = self.style()
        self.previous_button = self._tool_button(
            "comparePreviousFrameButton", style.standardIcon(QStyle.StandardPixmap.SP_MediaSeekBackward)
        )
        self.previous_button.setToolTip(self.tr("One frame back, every clip (← or ,)"))
        self.previous_button.setAccessibleName(self.tr("Previous frame"))
        self.previous_button.clicked.connect(lambda: self.step(-1))
        self.play_button = self._tool_button(
            "comparePlayButton", style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay)
        )
        self.play_button.setToolTip(self.tr("Play / pause every clip (Space)"))
        self.play_button.setAccessibleName(self.tr("Play or pause"))
        self.play_button.clicked.connect(self.toggle_play)
        self.next_button = self._tool_button(
            "compareNextFrameButton", style.standardIcon(QStyle.StandardPixmap.SP_MediaSeekForward)
        )
        self.next_button.setToolTip(self.tr("One frame forward, every clip (→ or .)"))
        self.next_button.setAccessibleName(self.tr("Next frame"))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.slider = SeekSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("compareSlider")
        self.slider.setAccessibleName(self.tr("Position"))
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the arrow keys step frames, for every clip
        self.slider.setRange(0, 0)
        self.slider.valueChanged.connect(self._on_slider)
        self.time_label = QLabel()
        self.time_label.setObjectName("compareTimeLabel")
        self.time_label.setProperty("role", "hint")
        self.flip_button = QToolButton()
        self.flip_button.setObjectName("compareFlipButton")
        self.flip_button.setText(self.tr("Flip A/B"))
        self.flip_button.setCheckable(True)
        self.flip_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.flip_button.setToolTip(
            self.tr(
                "Show two clips in one large pane at the same frame: X flips between them, "
                "Esc goes back to side by side."
            )
        )
        self.flip_button.toggled.connect(self.set_flip_mode)
        self.flip_first = QComboBox()
        self.flip_first.setObjectName("compareFlipFirstCombo")
        self.flip_second = QComboBox()
        self.flip_second.setObjectName("compareFlipSecondCombo")
        for combo in (self.flip_first, self.flip_second):
            combo.addItems(list(LETTERS[:count]))
            combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            combo.setToolTip(self.tr("The two clips Flip shows in turn."))
            combo.setVisible(count > 2)  # with two clips the pair is A and B
            combo.currentIndexChanged.connect(self._render)
        self.flip_second.setCurrentIndex(1)
        for widget in (self.previous_button, self.play_button, self.next_button):
            widget.setEnabled(False)
        self.slider.setEnabled(False)
        self.flip_button.setEnabled(False)

        transport = QHBoxLayout()
        transport.setSpacing(6)
        transport.addWidget(self.previous_button)
        transport.addWidget(self.play_button)
        transport.addWidget(self.next_button)
        transport.addWidget(self.slider, 1)
        transport.addWidget(self.time_label)
        transport.addSpacing(12)
        transport.addWidget(self.flip_button)
        transport.addWidget(self.flip_first)
        transport.addWidget(self.flip_second)

        self.help_label = QLabel(
            self.tr(
                "Space plays and pauses · ← → or , . step one frame · Home/End go to the start/end · "
                "X flips A/B in one pane · Esc back to side by side"
            )
        )
        self.help_label.setObjectName("compareHelpLabel")
        self.help_label.setProperty("role", "hint")
        self.help_label.setWordWrap(True)

        # The parameters that differ: one row each, one column per clip.
        self.differences_table = QTableWidget(len(self.differences), count)
        self.differences_table.setObjectName("compareDifferencesTable")
        self.differences_table.setHorizontalHeaderLabels(list(LETTERS[:count]))
        self.differences_table.setVerticalHeaderLabels([d.name for d in self.differences])
        self.differences_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.differences_table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.differences_table.setWordWrap(False)
        self.differences_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for row, difference in enumerate(self.differences):
            for column, value in enumerate(difference.values):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                self.differences_table.setItem(row, column, item)
        rows_height = sum(self.differences_table.rowHeight(r) for r in range(min(len(self.differences), 6)))
        self.differences_table.setMaximumHeight(rows_height + self.differences_table.horizontalHeader().height() + 6)
        self.differences_table.setVisible(bool(self.differences))
        self.same_label = QLabel(
            self.tr("Everything else is the same.")
            if self.differences
            else self.tr("The clips were made with the same settings.")
        )
        self.same_label.setObjectName("compareSameLabel")
        self.same_label.setProperty("role", "hint")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(8)
        layout.addWidget(self.stack, 1)
        layout.addLayout(transport)
        layout.addWidget(self.help_label)
        layout.addWidget(self.differences_table)
        layout.addWidget(self.same_label)

    @staticmethod
    def _tool_button(name: str, icon: object) -> QToolButton:
        button = QToolButton()
        button.setObjectName(name)
        button.setIcon(icon)  # type: ignore[arg-type]
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space plays every clip, not the focused button
        return button

    def _build_actions(self) -> None:
        def action(name: str, keys: list[QKeySequence], slot: object) -> QAction:
            act = QAction(self)
            act.setObjectName(name)
            act.setShortcuts(keys)
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(slot)  # type: ignore[arg-type]
            self.addAction(act)
            return act

        key = Qt.Key
        self.play_action = action("comparePlayAction", [QKeySequence(key.Key_Space)], self.toggle_play)
        self.previous_action = action(
            "comparePreviousAction",
            [QKeySequence(key.Key_Left), QKeySequence(key.Key_Comma)],
            lambda: self.step(-1),
        )
        self.next_action = action(
            "compareNextAction", [QKeySequence(key.Key_Right), QKeySequence(key.Key_Period)], lambda: self.step(1)
        )
        action("compareStartAction", [QKeySequence(key.Key_Home)], lambda: self.seek(0))
        action("compareEndAction", [QKeySequence(key.Key_End)], lambda: self.seek(self.last_tick))
        self.flip_action = action("compareFlipAction", [QKeySequence(key.Key_X)], self.flip)
        action("compareSideBySideAction", [QKeySequence(key.Key_Escape)], lambda: self.set_flip_mode(False))

    # ---- loading ----------------------------------------------------------------------------------------------
    @property
    def loaded(self) -> bool:
        return self.timeline is not None

    def _on_progress(self, index: int, frames: int) -> None:
        if self._released:
            return
        self._decoded[index] = frames
        self.progress_bar.setValue(min(self.progress_bar.maximum(), sum(self._decoded)))
        self.loading_label.setText(
            self.tr("Decoding clip {letter} of {count} ({frames} of {total} frames)…").format(
                letter=LETTERS[index], count=len(self.records), frames=frames, total=self._expected[index]
            )
        )

    def _on_loaded(self, index: int, clip: object) -> None:
        if self._released or not isinstance(clip, ClipFrames):
            return
        self._pending[index] = clip
        if any(c is None for c in self._pending):
            return
        self.clips = [c for c in self._pending if c is not None]
        self._pending = []
        self.timeline = Timeline.of(self.clips)
        self.slider.setRange(0, self.last_tick)
        for widget in (self.previous_button, self.play_button, self.next_button, self.slider, self.flip_button):
            widget.setEnabled(True)
        self.stack.setCurrentIndex(1)
        self.seek(0)
        self.ready.emit()
        if self._autoplay:
            self.play()

    def _on_failed(self, index: int, message: str) -> None:
        if self._released:
            return
        self.progress_bar.hide()
        self.loading_label.setText(
            self.tr("Clip {letter} could not be decoded: {reason}").format(letter=LETTERS[index], reason=message)
        )

    # ---- the shared clock -------------------------------------------------------------------------------------
    @property
    def last_tick(self) -> int:
        return self.timeline.count - 1 if self.timeline is not None else 0

    def seconds(self) -> float:
        return self.timeline.seconds(self.position) if self.timeline is not None else 0.0

    def seek(self, tick: int) -> None:
        """Every pane to the moment `tick` (clamped to the timeline)."""
        if self.timeline is None:
            return
        self.position = max(0, min(self.last_tick, tick))
        if self._timer.isActive():  # playing on from here
            self._clock_start = self.position
            self._clock.restart()
        self._render()
        self.positionChanged.emit(self.position)

    def step(self, frames: int) -> None:
        """Pause and move every pane by `frames` ticks of the shared clock."""
        self.pause()
        self.seek(self.position + frames)

    def play(self) -> None:
        if self.timeline is None or self._timer.isActive():
            return
        if self.position >= self.last_tick:
            self.position = 0  # from the start again, as a player does at the end
        self._clock_start = self.position
        self._clock.start()
        self._timer.start(max(1, round(1000 / self.timeline.fps)))
        self._set_play_icon(True)

    def pause(self) -> None:
        self._timer.stop()
        self._set_play_icon(False)

    def toggle_play(self) -> None:
        if self._timer.isActive():
            self.pause()
        else:
            self.play()

    def is_playing(self) -> bool:
        return self._timer.isActive()

    def _set_play_icon(self, playing: bool) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))

    def _tick(self) -> None:
        if self.timeline is None:
            return
        # The clock, not the count of timer events, says where playback is: a busy machine skips frames in
        # every pane alike rather than slowing down.
        tick = self._clock_start + math.floor(self._clock.elapsed() * self.timeline.fps / 1000)
        if tick > self.last_tick:  # loop
            tick %= self.timeline.count
            self._clock_start = tick
            self._clock.restart()
        if tick != self.position:
            self.seek(tick)

    def _on_slider(self, value: int) -> None:
        if value != self.position:
            self.seek(value)

    # ---- what the panes show ----------------------------------------------------------------------------------
    def frame_indices(self) -> list[int]:
        """The frame each clip shows at the current moment."""
        seconds = self.seconds()
        return [clip.frame_at(seconds) for clip in self.clips]

    def flip_pair(self) -> tuple[int, int]:
        return self.flip_first.currentIndex(), self.flip_second.currentIndex()

    @property
    def flip_mode(self) -> bool:
        return self.stack.currentIndex() == 2

    def set_flip_mode(self, on: bool) -> None:
        if self.timeline is None:
            return
        self.stack.setCurrentIndex(2 if on else 1)
        if self.flip_button.isChecked() != on:
            self.flip_button.setChecked(on)  # re-enters here once, with nothing left to change
        self._render()

    def flip(self) -> None:
        """X: in flip mode show the pair's other clip; otherwise go into flip mode showing the first."""
        if self.timeline is None:
            return
        if self.flip_mode:
            self.flip_side = 1 - self.flip_side
        else:
            self.flip_side = 0
            self.set_flip_mode(True)
        self._render()

    def _render(self) -> None:
        if self.timeline is None:
            return
        indices = self.frame_indices()
        for index, (pane, clip) in enumerate(zip(self.panes, self.clips, strict=True)):
            pane.show_frame(index, clip, indices[index])
        shown = self.flip_pair()[self.flip_side]
        self.flip_pane.show_frame(shown, self.clips[shown], indices[shown])
        other = self.flip_pair()[1 - self.flip_side]
        self.flip_pane.caption.setText(
            self.tr("{caption}   (X shows {other})").format(
                caption=pane_caption(shown, self.records[shown], self.differences), other=LETTERS[other]
            )
        )
        blocked = self.slider.blockSignals(True)
        self.slider.setValue(self.position)
        self.slider.blockSignals(blocked)
        duration_ms = round(1000 * self.timeline.count / self.timeline.fps)
        self.time_label.setText(
            self.tr("{position} / {duration} · frame {frame} of {count}").format(
                position=format_ms(round(1000 * self.seconds())),
                duration=format_ms(duration_ms),
                frame=self.position + 1,
                count=self.timeline.count,
            )
        )

    # ---- closing ----------------------------------------------------------------------------------------------
    def release(self) -> None:
        """Stop the clock and the decoding, and let go of every frame. Safe to call more than once."""
        if self._released:
            return
        self._released = True
        self._timer.stop()
        self._loader.stop()
        for pane in (*self.panes, self.flip_pane):
            pane.clear()
        for clip in (*self.clips, *self._pending):
            if clip is not None:
                clip.release()
        self.clips = []
        self._pending = []
        self.timeline = None

    def closeEvent(self, event: QCloseEvent) -> None:
        self.release()
        self.closed.emit()
        super().closeEvent(event)
