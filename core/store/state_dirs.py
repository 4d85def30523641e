"""Where the engine keeps what it learns about a model between sessions (step-cache calibrations).

The window points this at its data folder (so `--data-dir` keeps everything in one place and nothing is written
elsewhere); the command line uses the user's data folder. No torch here: the window imports it at start-up.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_DATA_NAME = "ContentV Studio"

_root: Path | None = None


def set_state_root(path: str | Path | None) -> None:
    """Keep the engine's learned state under `path` (None: back to the user's data folder)."""
    global _root
    _root = Path(path) if path is not None else None


def state_root() -> Path | None:
    """What set_state_root set (None: the default)."""
    return _root


def default_data_root() -> Path:
    """The user's data folder, the window's default (`gui.support.paths.default_data_dir` names the same one)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_DATA_NAME, appauthor=False, roaming=False))


def state_dir(name: str) -> Path:
    if _root is not None:
        return _root / name
    override = os.environ.get("CONTENTV_STUDIO_STATE_DIR")  # tests: never the tester's own data folder
    if override:
        return Path(override) / name
    return default_data_root() / name
