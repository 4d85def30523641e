"""The job journal: what a running job has done so far, on disk, so that a kill, a power cut, a driver reset or an
out-of-memory error loses at most a few steps instead of the whole job.

One folder per job under the data folder (`<data>/jobs/<id>/`):

- `journal.json`: the request (with its seed), where the clip goes, the model folder and its identity (every
  file's name, size and modification time), the engine's version, the device and dtype. Written once, atomically.
- `owner.json`: the process running the job (pid and start time), so a journal is never resumed twice at once.
- `embeddings.safetensors`: the prompt embeddings, so a resumed job skips the text encoders.
- `step-NNNNNN.safetensors`: a snapshot after step N: the latents, the scheduler's full state, the guidance mode
  in effect and the step cache's state. Each is written to a temporary name, fsynced, then renamed, with a
  SHA-256 of its tensors in its header; the newest two are kept, so a torn or damaged newest one falls back to
  the one before. The last step's snapshot is written before decoding starts: a decode that fails (out of
  memory, anything) is decoded again from it without denoising again.

Snapshots are taken every N steps (`DEFAULT_SNAPSHOT_EVERY`), when a job is cancelled or stopped, and after the
last step. The copy from the GPU is made on the job's thread; hashing and writing run on a background thread
so the GPU is not kept waiting (a snapshot still being written when the next one is due is waited for).

The step cache's state (MagCache, First-Block, TaylorSeer, all diffusers hooks) is saved in the snapshot while it
is below `CACHE_STATE_LIMIT_BYTES`, so a resumed job computes exactly what the uninterrupted one would have. Above
that (TaylorSeer keeps two float32 copies of every attention output: tens of GB at full size) the cache restarts
cleanly at the resumed step: it runs its warm-up steps again there, so the resumed clip differs slightly from
an uninterrupted one, and the snapshot says so.

No Qt and no torch at import (the window lists journals at start-up).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core import __version__
from core.errors import FailureKind, StudioError
from core.i18n import _t
from core.store.durable import fsync_dir, fsync_file, process_alive, process_start

logger = logging.getLogger(__name__)

JOURNAL_FORMAT = 1
DEFAULT_SNAPSHOT_EVERY = 5
KEEP_SNAPSHOTS = 2
CACHE_STATE_LIMIT_BYTES = 2 * 2**30
HEADER_FILE = "journal.json"
OWNER_FILE = "owner.json"
EMBEDDINGS_FILE = "embeddings.safetensors"
_SNAPSHOT_NAME = re.compile(r"^step-(\d{6})\.safetensors$")
_JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

# Request fields that may differ on resume because they change how, not what, the transformer computes.
RESUME_FREE_MEMORY_FIELDS = ("placement", "vae_slicing", "vae_tiling", "attention_slicing", "text_encoders_off_gpu")
# State fields a step cache rebuilds within each transformer call: not worth saving.
_TRANSIENT_CACHE_FIELDS = {"MagCacheState": {"head_block_input"}, "FBCSharedBlockState": {"head_block_output"}}
# On a clean restart these counters must continue (MagCache indexes its calibration by the step).
_RESTART_KEPT_FIELDS = {"MagCacheState": ("step_index",)}


class JournalError(StudioError):
    """A journal that cannot be used for this resume: it names why in one line; starting over is the way on."""

    kind = FailureKind.RESUME


@dataclass(frozen=True)
class JournalOptions:
    """How a job keeps its journal (Engine.generate's `journal`)."""

    root: Path  # the data folder's jobs/ (journals_dir())
    job_id: str
    snapshot_every: int = DEFAULT_SNAPSHOT_EVERY  # 0: only on cancel and after the last step
    history_id: int | None = None
    resume: bool = True  # continue this id's journal when there is one (False: start over, dropping it)
    decode_on_cpu: bool = False  # a decode-only resume decodes with a float32 VAE on the CPU (the last resort)


@dataclass(frozen=True)
class JournalOutcome:
    """What became of a job's journal when the job ended (Engine.last_journal)."""

    job_id: str
    folder: Path
    step: int  # the newest snapshot's step (0: none)
    steps: int
    kept: bool  # still on disk: the job can be resumed from `step`

    @property
    def denoised(self) -> bool:
        return self.kept and self.steps > 0 and self.step >= self.steps


# ---- where journals live ---------------------------------------------------------------------------------------
def journals_dir() -> Path:
    from core.store.state_dirs import state_dir

    return state_dir("jobs")


def valid_job_id(job_id: str) -> bool:
    return bool(_JOB_ID.match(job_id))


def new_job_id(prefix: str = "cli") -> str:
    return f"{prefix}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{os.urandom(2).hex()}"


def history_job_id(history_id: int) -> str:
    """The journal of the window's history job `history_id`."""
    return f"job-{int(history_id)}"


# ---- the model folder's identity ---------------------------------------------------------------------------------
def model_identity(model_dir: str | Path) -> str:
    """A hash of every file in the model folder (relative name, size, modification time): replaced weights, an
    edited config or a different folder give a different identity. Reads no file contents (27 GB)."""
    root = Path(model_dir).expanduser().resolve()
    parts: list[str] = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue  # download markers, caches
        try:
            if path.is_file():
                stat = path.stat()
                parts.append(f"{relative.as_posix()}:{stat.st_size}:{stat.st_mtime_ns}")
        except OSError:
            parts.append(f"{relative.as_posix()}:unreadable")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


# ---- the header -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class JournalHeader:
    job_id: str
    request: dict[str, Any]  # GenerationRequest.to_dict(), seed included
    model_dir: str
    model_identity: str
    device: str
    dtype: str
    video_path: str
    frames_dir: str | None
    write_sidecar: bool
    history_id: int | None = None
    created: float = 0.0
    keep_model_path: bool = False  # the clip records the model folder's path (OutputOptions.keep_model_path)
    engine_version: str = __version__
    journal_format: int = JOURNAL_FORMAT

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JournalHeader:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def steps(self) -> int:
        return int(self.request.get("steps", 0))


def _comparable(request: dict[str, Any], decode_only: bool) -> dict[str, Any]:
    """The request as far as it decides the denoised latents (a decode-only resume: only what decides them at all)."""
    data = json.loads(json.dumps(request))
    memory = data.get("memory", {})
    for name in RESUME_FREE_MEMORY_FIELDS:
        memory.pop(name, None)
    if decode_only:  # the latents exist: how the transformer would have run no longer matters
        data.pop("memory", None)
        data.pop("speed", None)
        data.pop("fps", None)
    else:
        data.get("speed", {}).pop("compile", None)
    return data


def mismatch(header: JournalHeader, request: dict[str, Any], model_dir: str | Path, decode_only: bool) -> str:
    """Why the journal cannot continue this job here, in one line ("" when it can)."""
    if header.journal_format != JOURNAL_FORMAT or header.engine_version != __version__:
        return _t("it was written by another version of ContentV Studio ({version})").format(
            version=header.engine_version
        )
    if str(Path(model_dir).expanduser().resolve()) != header.model_dir:
        return _t("it was made with another model folder ({folder})").format(folder=header.model_dir)
    if model_identity(model_dir) != header.model_identity:
        return _t("the model folder has changed since (files replaced, added or removed)")
    if _comparable(request, decode_only) != _comparable(header.request, decode_only):
        return _t("the job's settings differ from the interrupted job's")
    return ""


# ---- writing files safely -----------------------------------------------------------------------------------------
def _write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """write(temp) then fsync and rename over `path`: a kill at any moment leaves the old file or the new one."""
    temp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        write(temp)
        fsync_file(temp)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    with contextlib.suppress(OSError):
        fsync_dir(path.parent)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    _write_atomically(path, lambda temp: temp.write_text(json.dumps(data, indent=1), encoding="utf-8"))


# ---- turning nested state into tensors + JSON (no pickle: a journal is safe to load) ----------------------------
class _Unsupported(Exception):
    pass


def _encode(value: Any, tensors: dict[str, Any], torch: Any) -> Any:
    if isinstance(value, torch.Tensor):
        key = f"t{len(tensors)}"
        tensors[key] = value
        return {"__tensor__": key, "device": str(value.device)}
    if isinstance(value, torch.dtype):
        return {"__dtype__": str(value).removeprefix("torch.")}
    if isinstance(value, torch.device):
        return {"__device__": str(value)}
    if isinstance(value, torch.Size):
        return {"__size__": list(value)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, tensors, torch) for v in value]}
    if isinstance(value, list):
        return [_encode(v, tensors, torch) for v in value]
    if isinstance(value, dict):
        return {"__dict__": [[_encode(k, tensors, torch), _encode(v, tensors, torch)] for k, v in value.items()]}
    raise _Unsupported(type(value).__name__)


def _decode(value: Any, tensors: dict[str, Any], torch: Any, device: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v, tensors, torch, device) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tensor__" in value:
        return tensors[value["__tensor__"]].to(device if value.get("device", "cpu") != "cpu" else "cpu")
    if "__dtype__" in value:
        return getattr(torch, value["__dtype__"])
    if "__device__" in value:
        return torch.device(value["__device__"]) if value["__device__"] == "cpu" else torch.device(device)
    if "__size__" in value:
        return torch.Size(value["__size__"])
    if "__tuple__" in value:
        return tuple(_decode(v, tensors, torch, device) for v in value["__tuple__"])
    if "__dict__" in value:
        return {_decode(k, tensors, torch, device): _decode(v, tensors, torch, device) for k, v in value["__dict__"]}
    raise _Unsupported("dict")


def _state_managers(transformer: Any) -> list[tuple[str, Any]]:
    """(name, StateManager) of every stateful diffusers hook on the transformer, each manager once, in a stable
    order (the same cache installed on the same model walks the same way)."""
    found: list[tuple[str, Any]] = []
    seen: set[int] = set()
    for module_name, module in transformer.named_modules():
        registry = getattr(module, "_diffusers_hook", None)
        if registry is None:
            continue
        for hook_name, hook in registry.hooks.items():
            manager = getattr(hook, "state_manager", None)
            if manager is None or id(manager) in seen:
                continue
            seen.add(id(manager))
            found.append((f"{module_name}/{hook_name}", manager))
    return found


def cache_state_bytes(transformer: Any) -> int:
    import torch

    total = 0
    for _name, manager in _state_managers(transformer):
        for state in manager._state_cache.values():
            skip = _TRANSIENT_CACHE_FIELDS.get(type(state).__name__, set())
            stack = [v for k, v in vars(state).items() if k not in skip]
            while stack:
                item = stack.pop()
                if isinstance(item, torch.Tensor):
                    total += item.numel() * item.element_size()
                elif isinstance(item, (list, tuple)):
                    stack.extend(item)
                elif isinstance(item, dict):
                    stack.extend(item.values())
    return total


def capture_cache_state(transformer: Any, tensors: dict[str, Any], limit: int) -> dict[str, Any]:
    """The step cache's state as JSON with tensors put in `tensors` (copied to the CPU by the caller). Over `limit`
    bytes, or holding something that cannot be saved without pickle, only what a clean restart needs."""
    import torch

    managers = _state_managers(transformer)
    if not managers:
        return {"mode": "none"}
    size = cache_state_bytes(transformer)
    exact = size <= limit
    states: dict[str, Any] = {}
    local: dict[str, Any] = {}
    try:
        for name, manager in managers:
            contexts: dict[str, Any] = {}
            for context, state in manager._state_cache.items():
                kind = type(state).__name__
                if exact:
                    skip = _TRANSIENT_CACHE_FIELDS.get(kind, set())
                    fields = {k: v for k, v in vars(state).items() if k not in skip}
                else:
                    fields = {k: getattr(state, k) for k in _RESTART_KEPT_FIELDS.get(kind, ()) if hasattr(state, k)}
                contexts[str(context)] = {"kind": kind, "fields": _encode(fields, local, torch)}
            states[name] = contexts
    except _Unsupported as exc:
        logger.warning("The step cache's state holds a %s; it restarts at a resumed step", exc)
        return {"mode": "restart", "bytes": size, "states": {}}
    for key, tensor in local.items():
        tensors[f"cache.{key}"] = tensor
    return {"mode": "exact" if exact else "restart", "bytes": size, "states": states}


def restore_cache_state(transformer: Any, saved: dict[str, Any], tensors: dict[str, Any], device: Any) -> None:
    """Put a captured cache state back into the freshly installed cache hooks (same config, same model)."""
    import torch

    if saved.get("mode", "none") == "none":
        return
    local = {k.removeprefix("cache."): v for k, v in tensors.items() if k.startswith("cache.")}
    managers = dict(_state_managers(transformer))
    try:
        _restore_states(managers, saved.get("states", {}), local, torch, device)
    except (KeyError, TypeError, ValueError, AttributeError, _Unsupported):
        raise JournalError(_t("the step cache in use differs from the interrupted job's")) from None


def _restore_states(
    managers: dict[str, Any], states: dict[str, Any], local: dict[str, Any], torch: Any, device: Any
) -> None:
    for name, contexts in states.items():
        manager = managers.get(name)
        if manager is None:
            raise JournalError(_t("the step cache in use differs from the interrupted job's"))
        for context, entry in contexts.items():
            state = manager._state_cls(*manager._init_args, **manager._init_kwargs)
            if type(state).__name__ != entry["kind"]:
                raise JournalError(_t("the step cache in use differs from the interrupted job's"))
            for key, value in _decode(entry["fields"], local, torch, device).items():
                setattr(state, key, value)
            manager._state_cache[context] = state


def capture_scheduler(scheduler: Any, tensors: dict[str, Any]) -> dict[str, Any]:
    """Every attribute of the scheduler but its config (which comes from the model folder)."""
    import torch

    local: dict[str, Any] = {}
    fields = {k: v for k, v in vars(scheduler).items() if k not in ("config", "_internal_dict")}
    encoded: dict[str, Any] = {}
    for key, value in fields.items():
        try:
            encoded[key] = _encode(value, local, torch)
        except _Unsupported:
            continue  # callables and the like: rebuilt by set_timesteps
    for key, tensor in local.items():
        tensors[f"scheduler.{key}"] = tensor
    return encoded


def restore_scheduler(scheduler: Any, saved: dict[str, Any], tensors: dict[str, Any], device: Any) -> None:
    """After `set_timesteps` with the job's sigmas: check the schedule is the one the job was started with, then
    put back the saved state (the step index above all)."""
    import torch

    local = {k.removeprefix("scheduler."): v for k, v in tensors.items() if k.startswith("scheduler.")}
    restored = {k: _decode(v, local, torch, device) for k, v in saved.items()}
    for key in ("timesteps", "sigmas"):
        now, before = getattr(scheduler, key, None), restored.get(key)
        if not isinstance(now, torch.Tensor) or not isinstance(before, torch.Tensor):
            continue
        if now.shape != before.shape or not torch.equal(now.cpu(), before.cpu()):
            raise JournalError(_t("the sampling schedule differs from the interrupted job's"))
    for key, value in restored.items():
        setattr(scheduler, key, value)


# ---- snapshots ----------------------------------------------------------------------------------------------
def _digest(tensors: dict[str, Any], meta: dict[str, str] | None = None) -> str:
    """SHA-256 over the tensors (names, dtypes, shapes, bytes) and the header's other fields."""
    import torch

    sha = hashlib.sha256()
    for key in sorted(meta or {}):
        if key != "sha256":
            sha.update(f"{key}={(meta or {})[key]}\n".encode())
    for name in sorted(tensors):
        tensor = tensors[name]
        sha.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}\n".encode())
        sha.update(tensor.contiguous().reshape(-1).view(torch.uint8).numpy())  # a view: no copy of 1 GB states
    return sha.hexdigest()


@dataclass
class Snapshot:
    """The state after `step` finished steps, tensors on the CPU."""

    step: int
    latents: Any
    scheduler: dict[str, Any]
    guidance: dict[str, Any]  # the pipeline's guidance mode in effect (and AUTO's measurements so far)
    cache: dict[str, Any]  # capture_cache_state()
    tensors: dict[str, Any] = field(default_factory=dict)  # scheduler.* and cache.* tensors

    @property
    def exact(self) -> bool:
        return self.cache.get("mode", "none") != "restart"


def _write_checked(path: Path, tensors: dict[str, Any], meta: dict[str, str]) -> None:
    """A safetensors file whose header also holds a SHA-256 of it all, written atomically."""
    from safetensors.torch import save_file

    meta = {**meta, "sha256": _digest(tensors, meta)}
    _write_atomically(path, lambda temp: save_file(tensors, str(temp), metadata=meta))


def _read_checked(path: Path) -> tuple[dict[str, str], dict[str, Any]]:
    """(header fields, tensors) of a file `_write_checked` wrote; ValueError when its checksum does not hold, and
    whatever safetensors raises for a torn or foreign file."""
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
        tensors = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118 - safe_open has no __iter__
    if meta.get("sha256") != _digest(tensors, meta):
        raise ValueError("checksum")
    return meta, tensors


def snapshot_path(folder: Path, step: int) -> Path:
    return folder / f"step-{step:06d}.safetensors"


def write_snapshot_file(path: Path, snapshot: Snapshot) -> None:
    meta = {
        "format": str(JOURNAL_FORMAT),
        "step": str(snapshot.step),
        "scheduler": json.dumps(snapshot.scheduler),
        "guidance": json.dumps(snapshot.guidance),
        "cache": json.dumps(snapshot.cache),
    }
    _write_checked(path, {"latents": snapshot.latents, **snapshot.tensors}, meta)


def read_snapshot_file(path: Path) -> Snapshot:
    """Raises JournalError when the file is torn, damaged or not a snapshot."""
    try:
        meta, tensors = _read_checked(path)
        if meta.get("format") != str(JOURNAL_FORMAT):
            raise ValueError("format")
        step = int(meta["step"])
        latents = tensors.pop("latents")
        return Snapshot(
            step,
            latents,
            json.loads(meta["scheduler"]),
            json.loads(meta["guidance"]),
            json.loads(meta["cache"]),
            tensors,
        )
    except JournalError:
        raise
    except Exception as exc:  # safetensors raises its own error types for torn headers
        raise JournalError(
            _t("the snapshot {name} is damaged ({cause})").format(name=path.name, cause=type(exc).__name__)
        ) from None


# ---- one job's journal ------------------------------------------------------------------------------------------
def _owner_alive(owner: dict[str, Any]) -> bool:
    try:
        pid = int(owner["pid"])
    except (KeyError, TypeError, ValueError):
        return False
    if pid == os.getpid():
        return True  # this process releases its journals when each job ends
    started = owner.get("started")
    return process_alive(pid, float(started) if isinstance(started, int | float) else None)


@dataclass(frozen=True)
class JournalSummary:
    """One journal as `resume --list` and the window show it."""

    job_id: str
    folder: Path
    header: JournalHeader | None
    step: int  # the newest snapshot's step, by its name (0: none yet); a resume falls back if it is damaged
    steps: int
    running: bool  # its owner process is alive
    problem: str = ""  # why it cannot be read ("" when it can)

    @property
    def denoised(self) -> bool:
        return self.steps > 0 and self.step >= self.steps


class JobJournal:
    """The journal folder of one job. Create with `start` (a new job) or `open` (an existing one)."""

    def __init__(self, folder: Path, header: JournalHeader, snapshot_every: int = DEFAULT_SNAPSHOT_EVERY) -> None:
        self.folder = folder
        self.header = header
        self.snapshot_every = max(0, int(snapshot_every))
        self.cache_limit = CACHE_STATE_LIMIT_BYTES
        self._writer: threading.Thread | None = None
        self._write_error: BaseException | None = None
        self._last_written = -1
        self.write_seconds = 0.0  # time the job's thread spent on snapshots (copies and waits), for the bench
        self.snapshots_written = 0

    # ---- creating and opening ----
    @classmethod
    def start(cls, root: Path, header: JournalHeader, snapshot_every: int = DEFAULT_SNAPSHOT_EVERY) -> JobJournal:
        folder = root / header.job_id
        folder.mkdir(parents=True, exist_ok=True)
        journal = cls(folder, header, snapshot_every)
        journal.claim()
        _write_json(folder / HEADER_FILE, header.to_dict())
        return journal

    @classmethod
    def open(cls, folder: Path, snapshot_every: int = DEFAULT_SNAPSHOT_EVERY) -> JobJournal:
        try:
            data = json.loads((folder / HEADER_FILE).read_text(encoding="utf-8"))
            header = JournalHeader.from_dict(data)
        except (OSError, ValueError, TypeError) as exc:
            raise JournalError(
                _t("the journal in {folder} cannot be read ({cause})").format(folder=folder, cause=type(exc).__name__)
            ) from None
        return cls(folder, header, snapshot_every)

    def claim(self) -> None:
        """Mark this process as the journal's runner; refused while another live process runs it."""
        owner_file = self.folder / OWNER_FILE
        with contextlib.suppress(OSError, ValueError):
            owner = json.loads(owner_file.read_text(encoding="utf-8"))
            if int(owner.get("pid", -1)) != os.getpid() and _owner_alive(owner):
                raise JournalError(_t("the job is running in another process (pid {pid})").format(pid=owner.get("pid")))
        _write_json(owner_file, {"pid": os.getpid(), "started": process_start(os.getpid()) or time.time()})

    def release(self) -> None:
        self.wait()
        with contextlib.suppress(OSError):
            (self.folder / OWNER_FILE).unlink()

    def remove(self) -> None:
        self.wait()
        shutil.rmtree(self.folder, ignore_errors=True)

    # ---- embeddings ----
    def save_embeddings(self, tensors: dict[str, Any]) -> None:
        cpu = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in tensors.items() if v is not None}
        try:
            _write_checked(self.folder / EMBEDDINGS_FILE, cpu, {})
        except OSError as exc:  # an optimisation: the encoders run again on resume
            logger.warning("Could not keep the prompt embeddings in the journal: %s", exc)

    def load_embeddings(self) -> dict[str, Any] | None:
        try:
            return _read_checked(self.folder / EMBEDDINGS_FILE)[1]
        except Exception:  # missing, torn or damaged: the encoders run again
            return None

    # ---- snapshots ----
    def snapshot_steps(self) -> list[int]:
        try:
            names = [p.name for p in self.folder.iterdir()]
        except OSError:
            return []
        return sorted(int(m.group(1)) for m in map(_SNAPSHOT_NAME.match, names) if m)

    def latest_snapshot(self) -> Snapshot | None:
        """The newest snapshot that reads back whole; a damaged newest one falls back to the one before."""
        for step in reversed(self.snapshot_steps()):
            path = snapshot_path(self.folder, step)
            try:
                return read_snapshot_file(path)
            except JournalError as exc:
                logger.warning("Journal %s: %s; trying the previous snapshot", self.header.job_id, exc.message)
        return None

    def due(self, done: int) -> bool:
        """A periodic snapshot after `done` steps (the stopping and last-step ones are the job's to take)."""
        return self.snapshot_every > 0 and done % self.snapshot_every == 0

    def write(self, snapshot: Snapshot, background: bool = True) -> None:
        """Write a snapshot (its tensors already copies on the CPU). In the background unless asked; a write still
        running is waited for first, so snapshots land in order and at most one copy is in memory."""
        self.wait()
        if snapshot.step <= self._last_written:
            return
        self._last_written = snapshot.step
        if not background:
            self._write(snapshot)
            return
        self._writer = threading.Thread(target=self._write, args=(snapshot,), name="journal-writer", daemon=True)
        self._writer.start()

    def wait(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.join()
        error, self._write_error = self._write_error, None
        if error is not None:
            logger.warning("A journal snapshot could not be written: %s", error)

    def _write(self, snapshot: Snapshot) -> None:
        try:
            write_snapshot_file(snapshot_path(self.folder, snapshot.step), snapshot)
            self.snapshots_written += 1
            for old in self.snapshot_steps()[:-KEEP_SNAPSHOTS]:
                with contextlib.suppress(OSError):
                    snapshot_path(self.folder, old).unlink()
        except BaseException as exc:  # a full disk must not end the job: the previous snapshot stays
            self._write_error = exc

    def summary(self) -> JournalSummary:
        owner: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            owner = json.loads((self.folder / OWNER_FILE).read_text(encoding="utf-8"))
        steps = self.snapshot_steps()  # by name: a listing must not read gigabytes; a resume verifies
        return JournalSummary(
            self.header.job_id,
            self.folder,
            self.header,
            steps[-1] if steps else 0,
            self.header.steps,
            bool(owner) and int(owner.get("pid", -1)) != os.getpid() and _owner_alive(owner),
        )


def list_journals(root: Path | None = None) -> list[JournalSummary]:
    """Every job journal under `root` (default: the data folder's), oldest first; unreadable ones with the reason."""
    root = journals_dir() if root is None else root
    found: list[JournalSummary] = []
    try:
        folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return found
    for folder in folders:
        try:
            found.append(JobJournal.open(folder).summary())
        except JournalError as exc:
            found.append(JournalSummary(folder.name, folder, None, 0, 0, False, exc.message))
    found.sort(key=lambda s: (s.header.created if s.header else 0.0, s.job_id))
    return found


def journal_progress(job_id: str, root: Path | None = None) -> tuple[int, int] | None:
    """(newest snapshot's step, steps) of a job's journal, or None when it has none: cheap, for the window."""
    try:
        journal = find_journal(job_id, root)
        if journal is None:
            return None
        steps = journal.snapshot_steps()
    except JournalError:
        return None
    return (steps[-1], journal.header.steps) if steps else None


def discard_journal(job_id: str, root: Path | None = None) -> None:
    """Start over: the job's journal goes (a job running it keeps its own files open until it ends)."""
    root = journals_dir() if root is None else root
    if valid_job_id(job_id):
        shutil.rmtree(root / job_id, ignore_errors=True)


def prune_headerless(root: Path | None = None, older_than_s: float = 60.0) -> list[Path]:
    """Remove journal folders that never got their header (a job killed within moments of starting) once no live
    process owns them: they hold nothing to resume. Returns what was removed."""
    root = journals_dir() if root is None else root
    removed: list[Path] = []
    try:
        folders = [p for p in root.iterdir() if p.is_dir() and not (p / HEADER_FILE).exists()]
    except OSError:
        return removed
    for folder in folders:
        owner: dict[str, Any] = {}
        with contextlib.suppress(OSError, ValueError):
            owner = json.loads((folder / OWNER_FILE).read_text(encoding="utf-8"))
        try:
            young = time.time() - folder.stat().st_mtime < older_than_s
        except OSError:
            continue
        if young or (owner and _owner_alive(owner)):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def window_journal_ids(root: Path | None = None) -> list[int]:
    """History ids of the window's jobs that have a journal folder."""
    root = journals_dir() if root is None else root
    try:
        names = [p.name for p in root.iterdir() if p.is_dir()]
    except OSError:
        return []
    return sorted(int(n[4:]) for n in names if n.startswith("job-") and n[4:].isdigit())


def find_journal(job_id: str, root: Path | None = None) -> JobJournal | None:
    root = journals_dir() if root is None else root
    if not valid_job_id(job_id):
        return None
    folder = root / job_id
    if not (folder / HEADER_FILE).exists():
        return None
    return JobJournal.open(folder)


def snapshot_of(
    step: int,
    latents: Any,
    scheduler: Any,
    guidance: dict[str, Any],
    transformer: Any,
    cache_plan: dict[str, Any],
    cache_limit: int = CACHE_STATE_LIMIT_BYTES,
    with_cache: bool = True,
) -> Snapshot:
    """Copy the job's state after `step` steps to the CPU (the job goes on changing the originals). The last
    step's snapshot needs no cache state (`with_cache=False`): nothing runs the transformer after it."""
    tensors: dict[str, Any] = {}
    scheduler_state = capture_scheduler(scheduler, tensors)
    cache: dict[str, Any] = capture_cache_state(transformer, tensors, cache_limit) if with_cache else {"mode": "none"}
    cache["plan"] = cache_plan
    cpu = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in tensors.items()}
    return Snapshot(step, latents.detach().to("cpu", copy=True).contiguous(), scheduler_state, guidance, cache, cpu)


def describe(summaries: Iterable[JournalSummary]) -> list[str]:
    """`resume --list`'s lines."""
    lines = []
    for s in summaries:
        if s.header is None:
            lines.append(f"{s.job_id}  unreadable: {s.problem}")
            continue
        state = "running" if s.running else ("denoised, not decoded" if s.denoised else "interrupted")
        prompt = str(s.header.request.get("prompt", "")).replace("\n", " ")
        prompt = prompt[:48] + ("…" if len(prompt) > 48 else "")
        lines.append(f"{s.job_id}  step {s.step}/{s.steps}  {state}  {s.header.video_path}  {prompt!r}")
    return lines
