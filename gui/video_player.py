"""The clip player: QMediaPlayer into a QVideoWidget (Qt's FFmpeg backend), looping, with play/pause, a position
slider and a button that shows the file in its folder."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QKeySequence, QShortcut
from PySide6.QtMultimedia import QMediaPlayer, QVideoSink
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStackedWidget,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

logger = logging.getLogger(__name__)


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


def format_ms(ms: int) -> str:
    seconds = max(0, ms) / 1000
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


class VideoPlayer(QWidget):
    openFolderRequested = Signal(str)
    exportRequested = Signal(str)  # the clip to export as WebM, GIF or PNG frames

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("videoPlayer")
        self.setAccessibleName("Video player")
        self._path: Path | None = None
        self._scrubbing = False
        self._was_playing = False

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
        self.placeholder.setText("Your clip will play here.\n\nWrite a prompt and press Generate (Ctrl+Enter).")

        self.stack = QStackedWidget()
        self.stack.setObjectName("videoStack")
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.video_widget)

        style = self.style()
        self.play_button = QToolButton()
        self.play_button.setObjectName("playPauseButton")
        self.play_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setToolTip("Play / pause (or click the picture and press Space)")
        self.play_button.setAccessibleName("Play or pause")
        self.play_button.clicked.connect(self.toggle_play)
        self.position_slider = QSlider(Qt.Orientation.Horizontal)
        self.position_slider.setObjectName("positionSlider")
        self.position_slider.setAccessibleName("Position")
        self.position_slider.setRange(0, 0)
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
        self.folder_button.setText("Show in folder")
        self.folder_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.folder_button.setToolTip("Show the clip in its folder.")
        self.folder_button.clicked.connect(self._open_folder)
        self.export_button = QToolButton()
        self.export_button.setObjectName("exportClipButton")
        self.export_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DialogSaveButton))
        self.export_button.setText(self.tr("Export…"))
        self.export_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.export_button.setToolTip(self.tr("Export the clip as WebM, an animated GIF or PNG frames."))
        self.export_button.clicked.connect(self._export)

        self.info_label = QLabel()
        self.info_label.setObjectName("clipInfoLabel")
        self.info_label.setProperty("role", "hint")
        self.info_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.info_label.setWordWrap(True)

        controls = QHBoxLayout()
        controls.setSpacing(6)
        controls.addWidget(self.play_button)
        controls.addWidget(self.position_slider, 1)
        controls.addWidget(self.time_label)
        controls.addWidget(self.folder_button)
        controls.addWidget(self.export_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.stack, 1)
        layout.addLayout(controls)
        layout.addWidget(self.info_label)

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
        if autoplay:
            self.player.play()

    def clear(self, message: str | None = None) -> None:
        """Stop and let go of the file (Windows keeps an open file from being deleted)."""
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
        for w in (self.play_button, self.position_slider, self.folder_button, self.export_button):
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
        icon = (
            QStyle.StandardPixmap.SP_MediaPause
            if state == QMediaPlayer.PlaybackState.PlayingState
            else QStyle.StandardPixmap.SP_MediaPlay
        )
        self.play_button.setIcon(self.style().standardIcon(icon))

    def _on_error(self, error: QMediaPlayer.Error, message: str) -> None:
        if error == QMediaPlayer.Error.NoError:
            return
        logger.warning("Playback of %s failed: %s", self._path, message)
        self.info_label.setText(f"This clip cannot be played here ({message}). Open its folder to play it elsewhere.")

    def _export(self) -> None:
        if self._path is not None:
            self.exportRequested.emit(str(self._path))

    def _open_folder(self) -> None:
        if self._path is not None:
            self.openFolderRequested.emit(str(self._path))
