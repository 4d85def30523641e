"""The clip player: QMediaPlayer into a QVideoWidget (Qt's FFmpeg backend), looping, with play/pause, a position
slider (a click on the track seeks there), frame steps (buttons and , . keys), full screen (F or a double-click;
Esc leaves) and a button that shows the file in its folder."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeyEvent, QKeySequence, QMouseEvent, QShortcut
from PySide6.QtMultimedia import QMediaMetaData, QMediaPlayer, QVideoSink
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QSlider,
    QStackedWidget,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.support.formatting import format_ms

logger = logging.getLogger(__name__)

DEFAULT_FPS = 24.0  # when the clip does not say
STALL_CHECK_MS = 1500  # playing without the position moving this long: the backend stalled, start again


def open_in_folder(path: Path) -> bool:
    """Show a file in the system's file manager (selected where the platform can), or open its folder."""
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    if path.is_file():
        try:
            if sys.platform == "win32":
                subprocess.Popen(["explorer", "/select,", str(path)])
                return True
            if sys.platform == "darwin":
                subprocess.Popen(["open", "-R", str(path)])
                return True
        except OSError:
            logger.warning("Could not reveal %s; opening its folder", path)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


class SeekSlider(QSlider):
    """A click on the track jumps there (Qt's default moves a page towards the click) and keeps dragging."""

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.maximum() > self.minimum():
            option = QStyleOptionSlider()
            self.initStyleOption(option)
            groove = self.style().subControlRect(
                QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderGroove, self
            )
            handle = self.style().subControlRect(
                QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, self
            )
            if not handle.contains(event.position().toPoint()):
                span = max(1, groove.width() - handle.width())
                x = int(event.position().x()) - groove.x() - handle.width() // 2
                value = QStyle.sliderValueFromPosition(self.minimum(), self.maximum(), x, span, option.upsideDown)
                self.setValue(value)
                self.sliderMoved.emit(value)
        super().mousePressEvent(event)


class _VideoKeys(QObject):
    """On the picture: a double-click toggles full screen; F toggles it, Esc leaves it, , and . step frames."""

    def __init__(self, player: VideoPlayer) -> None:
        super().__init__(player)
        self._player = player

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.MouseButtonDblClick:
            self._player.toggle_full_screen()
            return True
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            return self._player.handle_key(event.key())
        return False


class VideoPlayer(QWidget):
    openFolderRequested = Signal(str)
    exportRequested = Signal(str)  # the clip to export as WebM, GIF or PNG frames
    finishRequested = Signal(str, str)  # the clip, "upscale" or "interpolate"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("videoPlayer")
        self.setAccessibleName(self.tr("Video player"))
        self._path: Path | None = None
        self._scrubbing = False
        self._was_playing = False
        self._last_position = -1
        self._stall_restarts = 0

        self.player = QMediaPlayer(self)
        self.player.setLoops(QMediaPlayer.Loops.Infinite)
        self.video_widget = QVideoWidget()
        self.video_widget.setObjectName("videoWidget")
        self.video_widget.setAspectRatioMode(Qt.AspectRatioMode.KeepAspectRatio)
        self.video_widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.player.setVideoOutput(self.video_widget)

        self.placeholder = QLabel()
        self.placeholder.setObjectName("videoPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setText(
            self.tr("Your clip will play here.\n\nWrite a prompt and press Generate (Ctrl+Enter).")
        )

        self.stack = QStackedWidget()
        self.stack.setObjectName("videoStack")
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.video_widget)

        style = self.style()
        self.play_button = QToolButton()
        self.play_button.setObjectName("playPauseButton")
        self.play_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setToolTip(self.tr("Play / pause (or click the picture and press Space)"))
        self.play_button.setAccessibleName(self.tr("Play or pause"))
        self.play_button.clicked.connect(self.toggle_play)
        self.previous_frame_button = QToolButton()
        self.previous_frame_button.setObjectName("previousFrameButton")
        self.previous_frame_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaSeekBackward))
        self.previous_frame_button.setToolTip(self.tr("One frame back (,)"))
        self.previous_frame_button.setAccessibleName(self.tr("Previous frame"))
        self.previous_frame_button.clicked.connect(lambda: self.step_frames(-1))
        self.next_frame_button = QToolButton()
        self.next_frame_button.setObjectName("nextFrameButton")
        self.next_frame_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaSeekForward))
        self.next_frame_button.setToolTip(self.tr("One frame forward (.)"))
        self.next_frame_button.setAccessibleName(self.tr("Next frame"))
        self.next_frame_button.clicked.connect(lambda: self.step_frames(1))
        self.full_screen_button = QToolButton()
        self.full_screen_button.setObjectName("fullScreenButton")
        self.full_screen_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_TitleBarMaxButton))
        self.full_screen_button.setToolTip(self.tr("Full screen (F or double-click the picture; Esc leaves)"))
        self.full_screen_button.setAccessibleName(self.tr("Full screen"))
        self.full_screen_button.clicked.connect(self.toggle_full_screen)
        self.position_slider = SeekSlider(Qt.Orientation.Horizontal)
        self.position_slider.setObjectName("positionSlider")
        self.position_slider.setAccessibleName(self.tr("Position"))
        self.position_slider.setRange(0, 0)
        self.position_slider.setMinimumWidth(90)  # room to aim a click even in the smallest window
        self.position_slider.sliderPressed.connect(self._on_slider_pressed)
        self.position_slider.sliderReleased.connect(self._on_slider_released)
        self.position_slider.sliderMoved.connect(self.player.setPosition)
        self.position_slider.valueChanged.connect(self._on_slider_value)
        self.time_label = QLabel("0:00.0 / 0:00.0")
        self.time_label.setObjectName("timeLabel")
        self.time_label.setProperty("role", "hint")
        self.folder_button = QToolButton()
        self.folder_button.setObjectName("openFolderButton")
        self.folder_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon))
        # Icon only (named for screen readers): the controls must fit the centre column of a small window.
        self.folder_button.setText(self.tr("Show in folder"))
        self.folder_button.setAccessibleName(self.tr("Show in folder"))
        self.folder_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.folder_button.setToolTip(self.tr("Show the clip in its folder."))
        self.folder_button.clicked.connect(self._open_folder)
        self.export_button = QToolButton()
        self.export_button.setObjectName("exportClipButton")
        self.export_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DialogSaveButton))
        self.export_button.setText(self.tr("Export…"))
        self.export_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.export_button.setToolTip(self.tr("Export the clip as WebM, an animated GIF or PNG frames."))
        self.export_button.clicked.connect(self._export)
        # Upscale… / Interpolate… the played clip into a new one (a queued finish job): one button, its menu.
        self.finish_button = QToolButton()
        self.finish_button.setObjectName("finishClipButton")
        self.finish_button.setText(self.tr("Finish"))
        self.finish_button.setToolTip(self.tr("Upscale the clip or raise its frame rate, into a new clip."))
        self.finish_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        finish_menu = QMenu(self.finish_button)
        self.upscale_action = finish_menu.addAction(self.tr("Upscale…"))
        self.upscale_action.setObjectName("playerUpscaleAction")
        self.upscale_action.triggered.connect(lambda: self._finish("upscale"))
        self.interpolate_action = finish_menu.addAction(self.tr("Interpolate…"))
        self.interpolate_action.setObjectName("playerInterpolateAction")
        self.interpolate_action.triggered.connect(lambda: self._finish("interpolate"))
        self.finish_button.setMenu(finish_menu)

        self.info_label = QLabel()
        self.info_label.setObjectName("clipInfoLabel")
        self.info_label.setProperty("role", "hint")
        self.info_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info_label.setWordWrap(True)

        controls = QHBoxLayout()
        controls.setSpacing(6)
        controls.addWidget(self.previous_frame_button)
        controls.addWidget(self.play_button)
        controls.addWidget(self.next_frame_button)
        controls.addWidget(self.position_slider, 1)
        controls.addWidget(self.time_label)
        controls.addWidget(self.full_screen_button)
        controls.addWidget(self.folder_button)
        controls.addWidget(self.export_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.stack, 1)
        layout.addLayout(controls)
        # Finish sits beside the caption, not in the controls row: that row sets the centre column's narrowest
        # width, and the window must fit a 1280-pixel screen.
        caption_row = QHBoxLayout()
        caption_row.setSpacing(6)
        caption_row.addWidget(self.info_label, 1)
        caption_row.addWidget(self.finish_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(caption_row)

        self.player.positionChanged.connect(self._on_position)
        self.player.durationChanged.connect(self._on_duration)
        self.player.playbackStateChanged.connect(self._on_state)
        self.player.errorOccurred.connect(self._on_error)
        self._set_controls_enabled(False)
        # Space plays and pauses once the picture is clicked (a window-wide Space would steal it from buttons).
        self.stack.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.video_widget.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        toggle = QShortcut(QKeySequence(Qt.Key.Key_Space), self.stack, self.toggle_play)
        toggle.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._video_keys = _VideoKeys(self)
        self.video_widget.installEventFilter(self._video_keys)
        for key, action in (("F", self.toggle_full_screen), (",", lambda: self.step_frames(-1))):
            shortcut = QShortcut(QKeySequence(key), self.stack, action)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        forward = QShortcut(QKeySequence("."), self.stack, lambda: self.step_frames(1))
        forward.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        # Some backends report "playing" and never move (seen as 0:00 with a pause icon): restart once, and
        # otherwise show the play icon so the button tells the truth.
        self._stall_timer = QTimer(self)
        self._stall_timer.setInterval(STALL_CHECK_MS)
        self._stall_timer.timeout.connect(self._check_stall)

    # ---- API --------------------------------------------------------------------------------------------------
    @property
    def path(self) -> Path | None:
        return self._path

    def video_sink(self) -> QVideoSink:
        return self.player.videoSink()

    def is_playing(self) -> bool:
        return self.player.playbackState() == QMediaPlayer.PlaybackState.PlayingState

    def load(self, path: str | Path, info: str = "", autoplay: bool = True) -> None:
        self._path = Path(path)
        self.player.setSource(QUrl.fromLocalFile(str(self._path)))
        self.info_label.setText(info)
        self.stack.setCurrentWidget(self.video_widget)
        self._set_controls_enabled(True)
        self._stall_restarts = 0
        self._last_position = -1
        if autoplay:
            self.player.play()

    def frame_rate(self) -> float:
        rate = self.player.metaData().value(QMediaMetaData.Key.VideoFrameRate)
        try:
            fps = float(rate)
        except (TypeError, ValueError):
            return DEFAULT_FPS
        return fps if fps > 0 else DEFAULT_FPS

    def current_frame(self) -> int:
        return int(self.player.position() * self.frame_rate() / 1000 + 1e-6)

    def step_frames(self, frames: int) -> None:
        """Pause and move by whole frames (wrapping around the loop's ends stays at the first or last)."""
        if self._path is None:
            return
        self.pause()
        fps = self.frame_rate()
        last = max(0, int(self.player.duration() * fps / 1000) - 1)
        frame = max(0, min(last, self.current_frame() + frames))
        # The middle of the frame's display interval, so rounding in the backend lands on that frame.
        self.player.setPosition(int((frame + 0.5) * 1000 / fps))

    def is_full_screen(self) -> bool:
        return self.video_widget.isFullScreen()

    def toggle_full_screen(self) -> None:
        if self._path is None and not self.is_full_screen():
            return
        self.video_widget.setFullScreen(not self.is_full_screen())
        if self.is_full_screen():
            self.video_widget.setFocus()

    def handle_key(self, key: int) -> bool:
        """Keys on the picture (also when it is full screen, where the window's shortcuts do not reach)."""
        if key == Qt.Key.Key_Escape and self.is_full_screen():
            self.video_widget.setFullScreen(False)
        elif key == Qt.Key.Key_F:
            self.toggle_full_screen()
        elif key == Qt.Key.Key_Comma:
            self.step_frames(-1)
        elif key == Qt.Key.Key_Period:
            self.step_frames(1)
        elif key == Qt.Key.Key_Space:
            self.toggle_play()
        else:
            return False
        return True

    def clear(self, message: str | None = None) -> None:
        """Stop and let go of the file (Windows keeps an open file from being deleted)."""
        if self.is_full_screen():
            self.video_widget.setFullScreen(False)
        self.player.stop()
        self.player.setSource(QUrl())
        self._path = None
        self.info_label.setText("")
        if message is not None:
            self.placeholder.setText(message)
        self.stack.setCurrentWidget(self.placeholder)
        self._set_controls_enabled(False)

    def toggle_play(self) -> None:
        if self._path is None:
            return
        if self.is_playing():
            self.player.pause()
        else:
            self.player.play()

    def pause(self) -> None:
        if self.is_playing():
            self.player.pause()

    # ---- slots ------------------------------------------------------------------------------------------------
    def _set_controls_enabled(self, enabled: bool) -> None:
        for w in (
            self.play_button,
            self.previous_frame_button,
            self.next_frame_button,
            self.position_slider,
            self.full_screen_button,
            self.folder_button,
            self.export_button,
            self.finish_button,
        ):
            w.setEnabled(enabled)

    def _on_position(self, ms: int) -> None:
        if not self._scrubbing:
            self.position_slider.blockSignals(True)
            self.position_slider.setValue(ms)
            self.position_slider.blockSignals(False)
        self.time_label.setText(f"{format_ms(ms)} / {format_ms(self.player.duration())}")

    def _on_duration(self, ms: int) -> None:
        self.position_slider.setRange(0, max(0, ms))
        self.position_slider.setPageStep(max(1, ms // 10))
        self.time_label.setText(f"{format_ms(self.player.position())} / {format_ms(ms)}")

    def _on_slider_pressed(self) -> None:
        self._scrubbing = True
        self._was_playing = self.is_playing()
        self.player.pause()

    def _on_slider_released(self) -> None:
        self._scrubbing = False
        self.player.setPosition(self.position_slider.value())
        if self._was_playing:
            self.player.play()

    def _on_slider_value(self, value: int) -> None:
        # Clicks and keys on the slider (not drags, which sliderMoved handles) also seek.
        if not self._scrubbing and value != self.player.position():
            self.player.setPosition(value)

    def _on_state(self, state: QMediaPlayer.PlaybackState) -> None:
        playing = state == QMediaPlayer.PlaybackState.PlayingState
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setProperty("showsPause", playing)
        self._last_position = -1
        if playing:
            self._stall_timer.start()
        else:
            self._stall_timer.stop()

    def _check_stall(self) -> None:
        if not self.is_playing() or self._scrubbing:
            return
        position = self.player.position()
        if position != self._last_position:
            if self._last_position >= 0:
                self._stall_restarts = 0  # it moved since the last restart: a later stall may restart again
            self._last_position = position
            return
        if self._stall_restarts < 1 and self._path is not None:
            logger.info("Playback of %s stalled at %d ms; starting it again", self._path, position)
            self._stall_restarts += 1
            self._last_position = -1
            self.player.stop()
            self.player.play()
        else:
            self.player.pause()  # the icon shows "play": press it to try again

    def _on_error(self, error: QMediaPlayer.Error, message: str) -> None:
        if error == QMediaPlayer.Error.NoError:
            return
        logger.warning("Playback of %s failed: %s", self._path, message)
        self.info_label.setText(
            self.tr("This clip cannot be played here ({message}). Open its folder to play it elsewhere.").format(
                message=message
            )
        )

    def _export(self) -> None:
        if self._path is not None:
            self.exportRequested.emit(str(self._path))

    def _finish(self, kind: str) -> None:
        if self._path is not None:
            self.finishRequested.emit(str(self._path), kind)

    def _open_folder(self) -> None:
        if self._path is not None:
            self.openFolderRequested.emit(str(self._path))
