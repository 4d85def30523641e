"""Where the app keeps its things: one data folder holding settings, the history database, outputs,
thumbnails, logs and demo models. `--data-dir DIR` moves all of it (a portable install)."""

from __future__ import annotations

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


# Names Windows reserves for devices, with or without an extension (CON, CON.txt): never a whole file name.
WINDOWS_RESERVED_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{device}{n}" for device in ("COM", "LPT") for n in [*"123456789", "¹", "²", "³"]}
)
# Bytes a slug may take in UTF-8: with the stamp, a counter and ".partial.mp4" the file name stays far below the
# 255-byte (Linux, macOS) and 255-UTF-16-unit (Windows) limits whatever the script.
SLUG_MAX_BYTES = 120


def _is_word_char(char: str) -> bool:
    # Letters of any script, their combining marks (Devanagari vowel signs, Arabic harakat) and digits. Everything
    # else, including the characters Windows forbids (<>:"/\|?*), controls and invisible formatting, separates.
    return unicodedata.category(char)[0] in "LMN"


def slugify(text: str, max_len: int = 40) -> str:
    """A short file-name-safe summary of a prompt: its words in any script, lowercased, joined by hyphens, at most
    `max_len` characters (and SLUG_MAX_BYTES in UTF-8); "clip" when nothing is left."""
    # NFKC folds full-width and compatibility forms (ｆｏｘ → fox, ① → 1) and composes accents (ü stays one char).
    normalized = unicodedata.normalize("NFKC", text).lower()
    words: list[str] = []
    current: list[str] = []
    for char in normalized:
        if _is_word_char(char):
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))

    def fits(candidate: str) -> bool:
        return len(candidate) <= max_len and len(candidate.encode("utf-8")) <= SLUG_MAX_BYTES

    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if not fits(candidate):
            break
        slug = candidate
    if not slug and words:  # one long word (a Chinese or Japanese sentence has no spaces): cut it
        word = words[0]
        cut = len(word)
        while cut and not fits(word[:cut]):
            cut -= 1
        while 0 < cut < len(word) and unicodedata.category(word[cut])[0] == "M":
            cut -= 1  # never part a letter from its marks: cut before the letter instead
        slug = word[:cut]
    if not slug:
        return "clip"
    if slug.upper() in WINDOWS_RESERVED_NAMES:
        slug = f"{slug}-clip"
    return slug


def unique_output_path(folder: Path, prompt: str, now: float | None = None, suffix: str = ".mp4") -> Path:
    """`YYYYmmdd-HHMMSS-<slug>.mp4`, with -2, -3, … appended when that name (or its sidecar) is taken."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))
    base = f"{stamp}-{slugify(prompt)}"
    for n in range(1, 10_000):
        name = base if n == 1 else f"{base}-{n}"
        candidate = folder / f"{name}{suffix}"
        taken = candidate.exists() or candidate.with_suffix(".json").exists()
        taken = taken or (folder / f".{name}.partial{suffix}").exists()
        # Another job's reservation of the name (core.output.video.reserve_outputs) while it writes the clip.
        taken = taken or (folder / f".{name}{suffix}.reserved").exists()
        if not taken:
            return candidate
    raise FileExistsError(f"No free output name for {base} in {folder}")
