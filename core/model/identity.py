"""Which model made a clip, said without saying where it lives on the computer that made it.

Every file a person shares (the mp4's comment tag and sidecar, the WebM/GIF comments, PNG text chunks and export
sidecars, `info --json`) names the model by a `ModelIdentity`: the folder's name, the Hugging Face repo and commit
it was downloaded from where that is known, and a hash of its configuration files. The folder's absolute path —
often a home folder with the user's name in it — is kept only when the user asks for it (the window's
`include_model_path` setting, `generate --keep-model-path`), for a person's own archive.

Reading a clip back, `find_model` looks for that identity among the folders this app knows (the current and
recent model folders, the data folder's `models/`, the recorded path when there is one): a folder with the same
configuration hash first, then one from the same repo and commit, the same repo, the recorded path itself, and last
one with the same name. Clips written before identities existed record a plain path string; they are read as an
identity with that path and its last component as the name. No Qt, no torch.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from core.i18n import _t

# Written into a model folder by core/model/download.py once the download is whole: where the folder came from.
SOURCE_MARKER = ".contentv-source.json"
# The configuration files the hash covers, in each direct subfolder (a component); plus model_index.json at the
# top. All are small JSON files; weights, their shard indexes and tokenizer vocabularies are never read.
COMPONENT_CONFIG_NAMES = ("config.json", "scheduler_config.json", "tokenizer_config.json", "special_tokens_map.json")
MODEL_INDEX = "model_index.json"
MAX_CONFIG_BYTES = 4 * 1024**2  # a config file is a few kB; anything bigger is not one and is left out
# Keys that say where a config was saved from, not what the model is: left out of the hash.
_VOLATILE_KEYS = frozenset({"_name_or_path"})
# The window's settings file in a data folder, and the keys that name model folders in it (gui/support/settings.py).
SETTINGS_FILE = "settings.json"


@dataclass(frozen=True)
class ModelIdentity:
    """A model folder named by what it is, not where it is. Empty strings are what is not known."""

    name: str = ""  # the folder's name ("ContentV-8B")
    hub_id: str = ""  # the Hugging Face repo it was downloaded from ("ByteDance/ContentV-8B")
    revision: str = ""  # the repo's commit it was downloaded at
    config_hash: str = ""  # `config_hash` of the folder (SHA-256, hex)
    path: str = ""  # the absolute folder; only when the user chose to keep it (or in an old clip)

    @property
    def known(self) -> bool:
        return any((self.name, self.hub_id, self.config_hash, self.path))

    def to_dict(self) -> dict[str, str]:
        """The clip's `model` object: name, hub_id, revision and config_hash always (possibly ""), path only when
        kept."""
        data = {"name": self.name, "hub_id": self.hub_id, "revision": self.revision, "config_hash": self.config_hash}
        if self.path:
            data["path"] = self.path
        return data

    @classmethod
    def from_recorded(cls, value: Any) -> ModelIdentity:
        """The identity a clip recorded: the `model` object, or an older clip's plain path string."""
        if isinstance(value, str):
            value = value.strip()
            return cls(name=_folder_name(value), path=value) if value else cls()
        if not isinstance(value, dict):
            return cls()

        def text(key: str) -> str:
            item = value.get(key)
            return item.strip() if isinstance(item, str) else ""

        return cls(text("name"), text("hub_id"), text("revision"), text("config_hash"), text("path"))

    def without_path(self) -> ModelIdentity:
        return ModelIdentity(self.name, self.hub_id, self.revision, self.config_hash)

    def shareable(self, keep_path: bool) -> ModelIdentity:
        return self if keep_path else self.without_path()

    def describe(self) -> str:
        """In words, for notes: "ContentV-8B (hub id ByteDance/ContentV-8B, revision 1a2b3c4d5e6f)"."""
        name = self.name or self.hub_id or _t("an unnamed model")
        if self.hub_id and self.revision:
            return _t("{name} (hub id {hub_id}, revision {revision})").format(
                name=name, hub_id=self.hub_id, revision=self.revision[:12]
            )
        if self.hub_id:
            return _t("{name} (hub id {hub_id})").format(name=name, hub_id=self.hub_id)
        return name


# ---- computing a folder's identity ---------------------------------------------------------------------------
def config_files(folder: str | Path) -> list[Path]:
    """The files `config_hash` reads, in its order: `model_index.json`, then in each direct subfolder (sorted by
    name) its `config.json`, `scheduler_config.json`, `tokenizer_config.json` and `special_tokens_map.json` where
    present. Hidden folders (download parts, caches) are skipped."""
    root = Path(folder)
    found = [root / MODEL_INDEX] if (root / MODEL_INDEX).is_file() else []
    try:
        components = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return found
    for component in components:
        found += [component / name for name in COMPONENT_CONFIG_NAMES if (component / name).is_file()]
    return found


def config_hash(folder: str | Path) -> str:
    """SHA-256 over the model's configuration (`config_files`): each file's path relative to the folder and its
    contents. JSON is hashed in a canonical form (keys sorted, no whitespace, `_name_or_path` left out — it records
    where a config was saved from), so two copies of a folder hash the same on any machine, while a changed value
    in any config changes the hash. A file over 4 MiB or one that cannot be read is left out."""
    root = Path(folder)
    digest = hashlib.sha256()
    for path in config_files(root):
        try:
            if path.stat().st_size > MAX_CONFIG_BYTES:
                continue
            raw = path.read_bytes()
        except OSError:
            continue
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        digest.update(_canonical(raw) + b"\0")
    return digest.hexdigest()


def _canonical(raw: bytes) -> bytes:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return raw
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in _VOLATILE_KEYS}
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def model_source(folder: str | Path) -> tuple[str, str]:
    """(hub id, revision) the folder was downloaded from, where known: this app's download marker, else the
    Hugging Face cache's own layout (`…/models--ORG--NAME/snapshots/COMMIT`); ("", "") otherwise."""
    root = Path(folder)
    try:
        data = json.loads((root / SOURCE_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    if isinstance(data, dict) and isinstance(data.get("repo"), str):
        revision = data.get("commit") or data.get("revision") or ""
        return data["repo"], revision if isinstance(revision, str) else ""
    parent = root.parent
    if parent.name == "snapshots" and parent.parent.name.startswith("models--"):
        return parent.parent.name[len("models--") :].replace("--", "/"), root.name
    return "", ""


def write_model_source(folder: str | Path, repo: str, revision: str, commit: str) -> None:
    """Record in a downloaded model folder where it came from (read by `model_source`)."""
    marker = {"repo": repo, "revision": revision, "commit": commit}
    (Path(folder) / SOURCE_MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


_cache: dict[str, tuple[tuple[Any, ...], ModelIdentity]] = {}
_cache_lock = threading.Lock()


def identify_model(folder: str | Path, keep_path: bool = False) -> ModelIdentity:
    """The identity of the model folder at `folder` (with its absolute path when `keep_path`). Cached per folder
    while its configuration files and source marker keep their size and modification time, so a job pays a few
    stat calls."""
    root = _resolved(Path(folder).expanduser())
    watched = [*config_files(root), root / SOURCE_MARKER]
    signature = tuple(_stamp(path) for path in watched)
    key = str(root)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None and cached[0] == signature:
        identity = cached[1]
    else:
        hub_id, revision = model_source(root)
        name = root.name
        if hub_id and root.parent.name == "snapshots":  # a Hugging Face cache folder is named by its commit
            name = hub_id.rsplit("/", 1)[-1]
        identity = ModelIdentity(name, hub_id, revision, config_hash(root), str(root))
        with _cache_lock:
            _cache[key] = (signature, identity)
    return identity.shareable(keep_path)


def _stamp(path: Path) -> tuple[str, int, int]:
    try:
        stat = path.stat()
    except OSError:
        return (str(path), -1, -1)
    return (str(path), stat.st_size, stat.st_mtime_ns)


def shareable_model(recorded: Any, keep_path: bool) -> dict[str, str]:
    """A clip's recorded `model` as it may go into a shared file: an old clip's plain path becomes an identity
    (computed from the folder when it is still here), and the path is dropped unless `keep_path`."""
    identity = ModelIdentity.from_recorded(recorded)
    if identity.path and not identity.config_hash:
        folder = Path(identity.path).expanduser()
        if (folder / MODEL_INDEX).is_file():
            identity = identify_model(folder, keep_path=True)
    return identity.shareable(keep_path).to_dict()


# ---- finding a model by its identity ------------------------------------------------------------------------------
class MatchKind(str, Enum):
    """How a folder was found to be a clip's model, strongest first."""

    CONFIG = "config_hash"  # the same configuration files
    HUB_REVISION = "hub_revision"  # downloaded from the same repo at the same commit
    HUB = "hub_id"  # downloaded from the same repo (the commit differs or is not known)
    PATH = "path"  # the folder the clip recorded
    NAME = "name"  # only the folder's name is the same

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class ModelMatch:
    folder: str
    kind: MatchKind


def find_model(identity: ModelIdentity, candidates: Iterable[str | Path]) -> ModelMatch | None:
    """The folder among `candidates` (and the recorded path, when there is one) that best matches `identity`:
    a match on the configuration hash wins, then the hub id with the revision, the hub id alone, the recorded path,
    and the folder's name; among equals the earliest candidate. None when nothing matches."""
    folders = _model_folders([*candidates, *([identity.path] if identity.path else [])])
    recorded = _resolved(Path(identity.path).expanduser()) if identity.path else None
    best: tuple[int, int, ModelMatch] | None = None
    for order, folder in enumerate(folders):
        kind = _match(identity, folder, recorded)
        if kind is None:
            continue
        rank = list(MatchKind).index(kind)
        if best is None or (rank, order) < best[:2]:
            best = (rank, order, ModelMatch(str(folder), kind))
    return best[2] if best else None


def _match(identity: ModelIdentity, folder: Path, recorded: Path | None) -> MatchKind | None:
    here = identify_model(folder, keep_path=True)
    if identity.config_hash and identity.config_hash == here.config_hash:
        return MatchKind.CONFIG
    if identity.hub_id and identity.hub_id == here.hub_id:
        same_revision = identity.revision and identity.revision == here.revision
        return MatchKind.HUB_REVISION if same_revision else MatchKind.HUB
    if recorded is not None and folder == recorded:
        return MatchKind.PATH
    if identity.name and identity.name == here.name:
        return MatchKind.NAME
    return None


def _model_folders(candidates: Iterable[str | Path]) -> list[Path]:
    """The candidates that are model folders (they hold model_index.json), resolved, each once, in order."""
    seen: set[Path] = set()
    folders: list[Path] = []
    for candidate in candidates:
        if not candidate:
            continue
        folder = _resolved(Path(candidate).expanduser())
        if folder in seen or not (folder / MODEL_INDEX).is_file():
            continue
        seen.add(folder)
        folders.append(folder)
    return folders


def model_folders_under(models_dir: str | Path) -> list[str]:
    """The model folders directly inside `models_dir` (the data folder's `models/`: demo models and downloads)."""
    try:
        children = sorted(Path(models_dir).expanduser().iterdir())
    except OSError:
        return []
    return [str(child) for child in children if (child / MODEL_INDEX).is_file()]


def known_model_folders(
    current: str | Path | None = None, recent: Sequence[str] = (), models_dir: str | Path | None = None
) -> list[str]:
    """The folders this app knows, in the order a match prefers them: the current model folder, the recent ones,
    then those in the data folder's `models/`."""
    folders = [str(current)] if current else []
    folders += [str(f) for f in recent if f]
    if models_dir is not None:
        folders += model_folders_under(models_dir)
    return folders


def window_model_folders(data_dir: str | Path) -> list[str]:
    """What the window in the data folder `data_dir` knows: its model folder and recent ones (settings.json) and
    the folder's `models/`."""
    root = Path(data_dir).expanduser()
    try:
        settings = json.loads((root / SETTINGS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        settings = {}
    if not isinstance(settings, dict):
        settings = {}
    current = settings.get("model_dir")
    recent = settings.get("recent_models")
    return known_model_folders(
        current if isinstance(current, str) else None,
        [r for r in recent if isinstance(r, str)] if isinstance(recent, list) else [],
        root / "models",
    )


def _folder_name(path: str) -> str:
    # An old clip's path may come from another OS: take the last component whichever separator it uses.
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop, an unreachable drive
        return path.absolute()
