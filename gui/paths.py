"""Where the app keeps its things: one data folder holding settings, the history database, outputs,
thumbnails, logs and demo models. `--data-dir DIR` moves all of it (a portable install)."""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

APP_NAME = "ContentV Studio"
APP_ID = "contentv-studio"


def default_data_dir() -> Path:
    from platformdirs import user_data_dir

    # appauthor=False: no extra vendor folder on Windows (%LOCALAPPDATA%\ContentV Studio).
    return Path(user_data_dir(APP_NAME, appauthor=False, roaming=False))


@dataclass(frozen=True)
class DataPaths:
    root: Path

    @classmethod
    def at(cls, root: str | Path | None) -> DataPaths:
        return cls(Path(root).expanduser().absolute() if root else default_data_dir())

    @property
    def settings_file(self) -> Path:
        return self.root / "settings.json"

    @property
    def history_db(self) -> Path:
        return self.root / "history.sqlite3"

    @property
    def outputs(self) -> Path:
        return self.root / "outputs"

    @property
    def thumbnails(self) -> Path:
        return self.root / "thumbnails"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def lock_file(self) -> Path:
        return self.root / ".instance.lock"

    def ensure(self) -> DataPaths:
        for folder in (self.root, self.outputs, self.thumbnails, self.logs):
            folder.mkdir(parents=True, exist_ok=True)
        return self


def slugify(text: str, max_len: int = 40) -> str:
    """A short file-name-safe summary of a prompt: ascii, lowercase, hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_len:
            break
        slug = candidate
    return slug or (words[0][:max_len] if words else "clip")


def unique_output_path(folder: Path, prompt: str, now: float | None = None, suffix: str = ".mp4") -> Path:
    """`YYYYmmdd-HHMMSS-<slug>.mp4`, with -2, -3, … appended when that name (or its sidecar) is taken."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))
    base = f"{stamp}-{slugify(prompt)}"
    for n in range(1, 10_000):
        name = base if n == 1 else f"{base}-{n}"
        candidate = folder / f"{name}{suffix}"
        taken = candidate.exists() or candidate.with_suffix(".json").exists()
        taken = taken or (folder / f".{name}.partial{suffix}").exists()
        # Another job's reservation of the name (core.video.reserve_outputs) while it writes the clip.
        taken = taken or (folder / f".{name}{suffix}.reserved").exists()
        if not taken:
            return candidate
    raise FileExistsError(f"No free output name for {base} in {folder}")
