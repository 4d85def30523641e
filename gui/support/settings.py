"""Typed settings, stored as JSON in the data folder (settings.json) so a portable install carries them.

Unknown keys are ignored and missing ones take their defaults, so an older or newer settings file never stops
the app from starting; a corrupt one is set aside as settings.json.bad and the defaults are used.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import StudioError
from core.job.request import GenerationRequest

logger = logging.getLogger(__name__)

MAX_RECENT_MODELS = 8


def keep_qt_settings_in(folder: Path) -> None:
    """Qt's own settings (QFileDialog's recent folders and view state, which it saves under the "QtProject"
    organisation) go into `folder` instead of ~/.config/QtProject.conf, so nothing is written outside the data
    folder. QFileDialog opens QSettings(UserScope, "QtProject") in the native format: on Linux and the BSDs
    that is an INI file whose folder setPath() moves. (On Windows and macOS the native format is the registry
    and a plist, which setPath() cannot move.)"""
    from PySide6.QtCore import QSettings

    folder.mkdir(parents=True, exist_ok=True)
    for settings_format in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(settings_format, QSettings.Scope.UserScope, str(folder))


@dataclass
class Settings:
    model_dir: str = ""
    recent_models: list[str] = field(default_factory=list)
    # The form as it was last left: GenerationRequest.to_dict() (prompt, parameters, seed, memory options).
    last_request: dict[str, Any] = field(default_factory=dict)
    seed_locked: bool = False
    window_geometry: str = ""  # QMainWindow.saveGeometry(), hex
    splitter_state: str = ""  # the three-column splitter, hex
    history_search: str = ""
    language: str = ""  # the Language menu's choice ("en", "zh_CN"); "" follows the system
    preview_every: int = 5  # denoising steps between live previews; 0: off
    snapshot_every: int = 5  # denoising steps between journal snapshots, so a killed job resumes; 0: only when stopped
    draft_steps: int = 12  # a Draft's denoising steps (at most the form's)
    finish_sound: bool = True  # a chime when a job or the queue ends while the window is not in front
    finish_notice: bool = True  # a desktop notification then
    # Clips name their model by identity only (core/model/identity.py); on: its folder's absolute path too, for a
    # person's own archive (View ▸ Keep the model folder's path in clips).
    include_model_path: bool = False

    def request(self) -> GenerationRequest | None:
        """The last form contents, or None when there are none (or they no longer parse)."""
        if not self.last_request:
            return None
        try:
            return GenerationRequest.from_dict({"prompt": "", **self.last_request})
        except (KeyError, TypeError, ValueError, StudioError):
            return None

    # ---- file -------------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> Settings:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            logger.warning("Settings file %s is unreadable (%s); using defaults.", path, exc)
            with contextlib.suppress(OSError):
                os.replace(path, path.with_suffix(".json.bad"))
            return cls()
        if not isinstance(data, dict):
            return cls()
        settings = cls()
        for f in dataclasses.fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            default = getattr(settings, f.name)
            # Keep the default when a value has the wrong type (hand-edited or from another version).
            if isinstance(default, bool) and not isinstance(value, bool):
                continue
            if not isinstance(value, type(default)):
                continue
            if isinstance(default, list):
                value = [str(v) for v in value if isinstance(v, str)]  # pyright: ignore[reportGeneralTypeIssues]
            setattr(settings, f.name, value)
        return settings

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(self), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)  # atomic: a crash leaves the old file or the new one, never half of one
