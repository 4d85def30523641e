"""Telling the user something outside the window: a desktop notification and a short chime.

`Notifier` is the small interface the window uses (gui/jobs/finish_notices.py decides when); `DesktopNotifier` is the
real one and `RecordingNotifier` the stand-in tests use. The desktop notification goes through the system tray where
there is one (the tray icon is made at the first notice and hidden at shutdown); without a tray the window's taskbar
entry is flashed instead (QApplication.alert). The chime is resources/sounds/job-done.wav (scripts/make_chime.py),
played with Qt Multimedia's QSoundEffect; where no audio output exists it plays nothing, silently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, QUrl
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from gui.support.paths import APP_NAME
from gui.support.resources import app_icon, resources_dir

logger = logging.getLogger(__name__)

NOTICE_MS = 10_000  # how long the desktop shows a notice (where the desktop lets the app choose)
CHIME_VOLUME = 0.6


def chime_path() -> Path:
    return resources_dir() / "sounds" / "job-done.wav"


class Notifier(Protocol):
    def notify(self, title: str, body: str) -> None: ...

    def play_sound(self) -> None: ...

    def close(self) -> None: ...


class DesktopNotifier(QObject):
    """Notices through the system tray (or a flash of the taskbar entry), the chime through QSoundEffect."""

    def __init__(self, window: QWidget, sound: Path | None = None) -> None:
        super().__init__(window)
        self._window = window
        self._sound = sound or chime_path()
        self._tray: QSystemTrayIcon | None = None
        self._effect: Any = None  # QSoundEffect, made at the first chime (Qt Multimedia loads its backend then)

    def notify(self, title: str, body: str) -> None:
        if QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages():
            tray = self._tray_icon()
            tray.showMessage(title, body, app_icon(), NOTICE_MS)
        else:
            QApplication.alert(self._window)

    def play_sound(self) -> None:
        effect = self._sound_effect()
        if effect is not None:
            effect.play()  # queued until the file is loaded, the first time

    def close(self) -> None:
        """Hide the tray icon (it would linger in the tray after the app quits on some desktops); stop the chime."""
        if self._tray is not None:
            self._tray.hide()
            self._tray.deleteLater()
            self._tray = None
        if self._effect is not None:
            self._effect.stop()

    def _tray_icon(self) -> QSystemTrayIcon:
        if self._tray is None:
            self._tray = QSystemTrayIcon(app_icon(), self)
            self._tray.setToolTip(APP_NAME)
            self._tray.messageClicked.connect(self._bring_window_forward)
            self._tray.activated.connect(lambda _reason: self._bring_window_forward())
            self._tray.show()
        return self._tray

    def _bring_window_forward(self) -> None:
        window = self._window
        if window.isMinimized():
            window.showNormal()
        window.raise_()
        window.activateWindow()

    def _sound_effect(self) -> Any:
        if self._effect is None:
            if not self._sound.is_file():
                logger.warning("The chime %s is missing; no sound is played.", self._sound)
                return None
            try:
                from PySide6.QtMultimedia import QSoundEffect
            except ImportError:  # a Qt without its multimedia module: notices without sound
                logger.warning("Qt Multimedia is not available; no sound is played.")
                return None
            effect = QSoundEffect(self)
            effect.setSource(QUrl.fromLocalFile(str(self._sound)))
            effect.setVolume(CHIME_VOLUME)
            self._effect = effect
        return self._effect


@dataclass
class RecordingNotifier:
    """Writes down what it was asked to tell instead of telling it (tests, and anywhere a notice must not show)."""

    notices: list[tuple[str, str]] = field(default_factory=list)  # (title, body)
    sounds: int = 0
    closed: bool = False

    def notify(self, title: str, body: str) -> None:
        self.notices.append((title, body))

    def play_sound(self) -> None:
        self.sounds += 1

    def close(self) -> None:
        self.closed = True
