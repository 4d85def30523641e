"""Downloading ContentV-8B from the Hugging Face Hub into a folder the user picks.

- The file list and sizes come first (the repo's tree at one commit), so the total is shown and the free disk
  space is checked before a byte is fetched.
- Each file is fetched into `<folder>/.download-parts/<file>.part` with huggingface_hub's HTTP downloader; an
  interrupted file resumes from its last byte (an HTTP Range request), in the same run after a dropped
  connection and in a later run after a cancel or a crash. A file moves into place only when its size and its
  hash (sha256 for LFS files, the git blob id for the others) match the repo's.
- A marker file `.download-incomplete` sits in the folder from the first byte until the whole folder has been
  checked by core.model.checkpoint.inspect_model_folder, which refuses any folder that still has it: a folder never
  looks complete when it is not.
- A finished folder keeps a small `.contentv-source.json` (`SOURCE_MARKER`: repo, revision, commit), so clips made
  with it name the model by where it came from (core/model/identity.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import FailureKind, JobCancelled, ModelFolderError, StudioError
from core.i18n import _t
from core.model.checkpoint import DOWNLOAD_MARKER, ModelFolderReport, inspect_model_folder
from core.model.identity import write_model_source

DEFAULT_REPO = "ByteDance/ContentV-8B"  # the official weights (huggingface.co/ByteDance/ContentV-8B)
DEFAULT_REVISION = "main"
PARTS_DIR = ".download-parts"
SPACE_MARGIN_BYTES = 200 * 1024**2  # room for the file system and the app's own writes


class DownloadError(StudioError):
    """The hub could not be reached, or a file arrived damaged."""

    kind = FailureKind.NETWORK


class DownloadTargetError(StudioError):
    """The chosen folder cannot receive the model (exit status 2)."""

    kind = FailureKind.BAD_INPUT


class NotEnoughSpaceError(DownloadError):
    kind = FailureKind.OUTPUT


class DownloadCancelled(JobCancelled):
    def __init__(self) -> None:
        super().__init__("The download was paused; run it again with the same folder to resume.")


@dataclass(frozen=True)
class RemoteFile:
    path: str
    size: int
    sha256: str | None  # LFS files
    git_oid: str | None  # small files: the git blob id (sha1 of "blob <size>\0" + content)


@dataclass(frozen=True)
class DownloadPlan:
    repo: str
    revision: str
    commit: str
    files: tuple[RemoteFile, ...]
    endpoint: str | None = None
    token: str | None = None

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


@dataclass(frozen=True)
class DownloadProgress:
    done_bytes: int
    total_bytes: int
    current_file: str
    files_done: int
    files_total: int
    bytes_per_s: float

    @property
    def fraction(self) -> float:
        return self.done_bytes / self.total_bytes if self.total_bytes else 1.0

    @property
    def eta_s(self) -> float | None:
        if self.bytes_per_s <= 0:
            return None
        return (self.total_bytes - self.done_bytes) / self.bytes_per_s


@dataclass(frozen=True)
class SpaceCheck:
    needed_bytes: int  # what is still to be fetched, plus a margin
    free_bytes: int

    @property
    def enough(self) -> bool:
        return self.free_bytes >= self.needed_bytes


def _ensure_online() -> None:
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        raise DownloadError(
            "Downloading is switched off: HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set.",
            "Unset it to download the model.",
        )


def fetch_plan(
    repo: str = DEFAULT_REPO, revision: str = DEFAULT_REVISION, endpoint: str | None = None, token: str | None = None
) -> DownloadPlan:
    """The repo's files and sizes at the commit `revision` points to now."""
    from huggingface_hub import HfApi, constants
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError, RevisionNotFoundError
    from huggingface_hub.hf_api import RepoFile

    _ensure_online()
    endpoint = (endpoint or constants.ENDPOINT).rstrip("/")  # HF_ENDPOINT, read when huggingface_hub was imported
    api = HfApi(endpoint=endpoint, token=token)
    try:
        info = api.model_info(repo, revision=revision)
        commit = info.sha or revision
        entries = [e for e in api.list_repo_tree(repo, recursive=True, revision=commit) if isinstance(e, RepoFile)]
    except RevisionNotFoundError:
        raise DownloadTargetError(
            _t("{repo} has no revision '{revision}'.").format(repo=repo, revision=revision)
        ) from None
    except RepositoryNotFoundError:
        raise DownloadTargetError(
            _t("There is no model '{repo}' on the hub (or it needs a login).").format(repo=repo)
        ) from None
    except (HfHubHTTPError, OSError) as exc:
        raise DownloadError(
            _t("The hub could not be reached: {error}").format(error=exc), "Check the connection and try again."
        ) from exc
    files = tuple(
        RemoteFile(
            path=e.path,
            size=int(e.lfs.size if e.lfs is not None else e.size),
            sha256=e.lfs.sha256 if e.lfs is not None else None,
            git_oid=None if e.lfs is not None else e.blob_id,
        )
        for e in sorted(entries, key=lambda e: e.path)
        if not e.path.startswith(".")  # .gitattributes and the like: not part of the model
    )
    if not files:
        raise DownloadError(_t("{repo} at {revision} lists no files.").format(repo=repo, revision=revision))
    return DownloadPlan(repo, revision, commit, files, endpoint, token)


def check_target(target: Path) -> None:
    """A new or empty folder, or one a download into was interrupted; anything else is refused."""
    if target.exists() and not target.is_dir():
        raise DownloadTargetError(_t("{path} is a file, not a folder.").format(path=target))
    if target.is_dir() and any(target.iterdir()) and not (target / DOWNLOAD_MARKER).exists():
        raise DownloadTargetError(
            _t("{path} is not empty and holds no interrupted download; the model will not be mixed into it.").format(
                path=target
            ),
            "Choose an empty or new folder.",
        )
    parent = _existing_ancestor(target)
    if not os.access(parent, os.W_OK):
        raise DownloadTargetError(_t("{path} is not writable.").format(path=parent))


def _existing_ancestor(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def _part_path(target: Path, file: RemoteFile) -> Path:
    return target / PARTS_DIR / f"{file.path}.part"


def _marker_commit(target: Path) -> str | None:
    try:
        data = json.loads((target / DOWNLOAD_MARKER).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data.get("commit") if isinstance(data, dict) else None


def bytes_present(plan: DownloadPlan, target: Path) -> int:
    """Bytes already in `target` for this plan: finished files and the parts of interrupted ones."""
    if not target.is_dir() or _marker_commit(target) not in (plan.commit, None):
        return 0
    present = 0
    for f in plan.files:
        final, part = target / f.path, _part_path(target, f)
        if final.is_file() and final.stat().st_size == f.size:
            present += f.size
        elif part.is_file():
            present += min(part.stat().st_size, f.size)
    return present


def check_space(plan: DownloadPlan, target: Path) -> SpaceCheck:
    needed = plan.total_bytes - bytes_present(plan, target) + SPACE_MARGIN_BYTES
    return SpaceCheck(needed, shutil.disk_usage(_existing_ancestor(target)).free)


def _verify(path: Path, file: RemoteFile) -> bool:
    if path.stat().st_size != file.size:
        return False
    if file.sha256:
        digest = hashlib.sha256()
    elif file.git_oid:
        digest = hashlib.sha1(f"blob {file.size}\0".encode())  # git's own object id, not security
    else:
        return True
    with path.open("rb") as f:
        for block in iter(lambda: f.read(8 * 1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest() == (file.sha256 or file.git_oid)


def _write_marker(target: Path, plan: DownloadPlan) -> None:
    marker = {"repo": plan.repo, "revision": plan.revision, "commit": plan.commit, "started": time.time()}
    (target / DOWNLOAD_MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


def download_model(
    plan: DownloadPlan,
    target: Path,
    progress: Callable[[DownloadProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> ModelFolderReport:
    """Fetch every file of `plan` into `target`, resuming what is there; return the folder's check once it passes.

    Raises DownloadCancelled when `cancel` is set (the parts stay for a later resume), NotEnoughSpaceError before
    starting when the disk is too small, DownloadError when a file cannot be fetched or arrives damaged, and
    ModelFolderError when the finished folder is not a usable model (the marker stays).
    """
    from huggingface_hub.file_download import http_get
    from huggingface_hub.utils import build_hf_headers

    _ensure_online()
    target = target.expanduser().absolute()
    check_target(target)
    space = check_space(plan, target)
    if not space.enough:
        raise NotEnoughSpaceError(
            _t("Not enough disk space: the model needs {needed} GB more and {folder} has {free} GB free.").format(
                needed=f"{space.needed_bytes / 1e9:.1f}",
                folder=_existing_ancestor(target),
                free=f"{space.free_bytes / 1e9:.1f}",
            ),
            "Free some space or choose a folder on another disk.",
        )
    stop = cancel or threading.Event()
    target.mkdir(parents=True, exist_ok=True)
    # An interrupted run of another commit (the revision moved on, or the marker is unreadable): its parts are
    # dropped and its finished files are kept only where their hash matches this commit's.
    stale = (target / DOWNLOAD_MARKER).exists() and _marker_commit(target) != plan.commit
    if stale:
        shutil.rmtree(target / PARTS_DIR, ignore_errors=True)
    _write_marker(target, plan)

    total = plan.total_bytes
    done = bytes_present(plan, target)
    start, start_done = time.monotonic(), done
    state: dict[str, Any] = {"file": "", "files_done": 0}

    def report() -> None:
        if progress is not None:
            elapsed = time.monotonic() - start
            rate = (done - start_done) / elapsed if elapsed > 0.5 else 0.0
            progress(DownloadProgress(done, total, state["file"], state["files_done"], len(plan.files), rate))

    def on_bytes(n: float) -> None:
        nonlocal done
        done += int(n)
        report()
        if stop.is_set():
            raise DownloadCancelled()  # out of http_get's loop; the part file keeps what arrived

    bar_class = _bar_class(on_bytes)
    headers = build_hf_headers(token=plan.token, library_name="contentv-studio")
    report()
    for file in plan.files:
        if stop.is_set():
            raise DownloadCancelled()
        state["file"] = file.path
        final, part = target / file.path, _part_path(target, file)
        if final.is_file() and final.stat().st_size == file.size and not part.exists():
            if not stale or _verify(final, file):
                state["files_done"] += 1
                continue  # verified when it was moved into place
            final.unlink()
            done -= file.size
        part.parent.mkdir(parents=True, exist_ok=True)
        resume = part.stat().st_size if part.is_file() else 0
        if resume > file.size:  # not ours, or the file changed: start again
            part.unlink()
            done -= resume - file.size  # bytes_present counted it as a whole file
            resume = 0
        url = _resolve_url(plan, file)
        try:
            with part.open("ab") as sink:
                http_get(url, sink, resume_size=resume, headers=headers, expected_size=file.size, tqdm_class=bar_class)
        except DownloadCancelled:
            raise
        except Exception as exc:  # the hub's HTTP errors, a dropped connection after its retries, a full disk
            raise DownloadError(
                _t("Downloading {file} failed: {error}").format(file=file.path, error=exc),
                "Run the download again; it resumes where it stopped.",
            ) from exc
        if not _verify(part, file):
            part.unlink()
            done -= file.size
            raise DownloadError(
                _t("{file} arrived damaged (its hash does not match) and was removed.").format(file=file.path)
            )
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part, final)
        state["files_done"] += 1
        report()

    shutil.rmtree(target / PARTS_DIR, ignore_errors=True)
    # The marker hides the folder from the check; look at it as it will be without the marker.
    (target / DOWNLOAD_MARKER).rename(target / f"{DOWNLOAD_MARKER}.checking")
    try:
        report_ = inspect_model_folder(target)
    finally:
        (target / f"{DOWNLOAD_MARKER}.checking").rename(target / DOWNLOAD_MARKER)
    if not report_.ok:
        raise ModelFolderError(
            report_.message(), _t("{repo} may not be a ContentV model in diffusers' layout.").format(repo=plan.repo)
        )
    # Where the folder came from, so the clips made with it can name the model by its hub id and commit
    # (core/model/identity.py) instead of by its path on this computer.
    write_model_source(target, plan.repo, plan.revision, plan.commit)
    (target / DOWNLOAD_MARKER).unlink()
    return inspect_model_folder(target)


def _resolve_url(plan: DownloadPlan, file: RemoteFile) -> str:
    """The hub's download URL of a file at the plan's commit, on the plan's endpoint (hf_hub_url fills in the
    endpoint only where it differs from the one read at import time, so build it here)."""
    from urllib.parse import quote

    return f"{plan.endpoint}/{plan.repo}/resolve/{plan.commit}/{quote(file.path)}"


def _bar_class(on_bytes: Callable[[float], None]) -> type:
    """A tqdm stand-in for huggingface_hub's downloader that forwards each chunk's byte count."""

    class _Bar:
        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

        def __enter__(self) -> _Bar:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def update(self, n: float | None = 1) -> None:
            on_bytes(n or 0)

        def close(self) -> None:
            pass

    return _Bar
