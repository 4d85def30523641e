"""Writing a finished clip: H.264 mp4 (imageio-ffmpeg's bundled ffmpeg), a JSON sidecar, the parameters in the
mp4's own comment tag, and optional lossless PNG frames — atomically, under names no other job can take.

The invariant: under its final names a job leaves either its whole result (mp4, sidecar, frames folder, each
complete and verified) or nothing, whatever happens — a kill, a full disk, a second job given the same name.

1. `reserve_outputs` runs before any work: it refuses a name that is taken (mp4, json or a non-empty frames
   folder) and creates an exclusive reservation file `.{name}.mp4.reserved` (O_EXCL, holding the owner's PID and
   start time), so a second job asking for the same name is refused up front while the first is alive.
2. Everything is written under names unique to the job and tagged with their kind, so that no two of them and no
   name a user can choose are ever the same (`.{stem}.{pid}-{token}.video.partial.mp4`, `….sidecar.partial.json`,
   a `.{frames}.{pid}-{token}.frames.partial` staging folder, the reservation's `….marker.partial` update file).
   ffmpeg's exit status is checked, the finished mp4 is decoded and its frames counted, and every file and the
   folder are fsynced.
3. The reservation is marked "publishing", then the frames folder is renamed into place and the sidecar and the
   mp4 are hard-linked to their final names (a link never replaces an existing file). Any failure before the mp4
   is linked rolls back what was published; once the mp4 is linked the job is whole.
4. The temporary names and the reservation are removed last. A job killed at any point leaves its reservation
   and temporary files behind; `clean_leftovers` (run by the next job in that folder and at start) finds those
   whose owner is gone and finishes a publish that had begun (all of its parts were verified) or deletes the rest.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from core.errors import OutputError, OutputNameTakenError, OutputTakenError
from core.i18n import _t
from core.output.frame_rate import FrameRate, frame_rate_arg
from core.output.h264_levels import h264_rate_args
from core.output.png_frames import FRAME_NAME as FRAME_NAME  # re-exported: where callers have always found it
from core.output.png_frames import write_frames_into
from core.store.durable import fsync_dir, fsync_file, process_alive, process_start

RESERVATION_SUFFIX = ".reserved"
# A job's temporary names: `.{base}.{pid}-{token}.{kind}.partial[.mp4|.json]`. The kind tag keeps the names of one
# job apart whatever the user's names are (the frames folder's staging name and the reservation's update file were
# both `.{name}.{token}.partial` before, so a frames folder named like its clip failed after the job had run).
# Versions before the tag wrote `.{base}.{pid}-{token}.partial[.mp4|.json]`: the optional group still matches those,
# so a killed job's leftovers from before an upgrade are finished or removed like any other.
TEMP_KINDS = ("video", "sidecar", "frames", "marker")
_TEMP_NAME = re.compile(
    r"^\.(?P<base>.*)\.(?P<pid>\d+)-(?P<token>[0-9a-f]{12})\.(?:(?P<kind>video|sidecar|frames|marker)\.)?partial"
    r"(?:\.mp4|\.json)?$"
)
_RESERVATION_NAME = re.compile(r"^\..+\.reserved$")
# The user's name in a temporary name is cut to this many characters: the temporary names stay short enough for the
# file system whatever the user's name (the reservation marker, which must be one name per clip, keeps it whole).
TEMP_BASE_CHARS = 32
# Tokens of jobs this process is writing right now (a cleanup on another thread must leave them alone).
_ACTIVE_TOKENS: set[str] = set()
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def frames_to_uint8(frames: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) float in [0, 1] -> uint8, rounded the way diffusers' numpy_to_pil does; uint8 frames (a finished
    clip's, core/finish) are pixels already and pass as they are."""
    if frames.dtype == np.uint8:
        return frames
    return (np.clip(frames, 0.0, 1.0) * 255).round().astype(np.uint8)


def temp_name(base: str, token: str, kind: str, extension: str = "") -> str:
    """The temporary name of one kind of a job's files; `token` is `{pid}-{12 hex digits}`."""
    assert kind in TEMP_KINDS
    return f".{base[:TEMP_BASE_CHARS]}.{token}.{kind}.partial{extension}"


def is_app_temporary_name(name: str) -> bool:
    """A name of the kind this app gives its temporary files and reservations (now or in earlier versions)."""
    return bool(_TEMP_NAME.match(name) or _RESERVATION_NAME.match(name))


def _name_units(name: str) -> int:
    """A name's length as the file system counts it: bytes on POSIX, UTF-16 units on Windows."""
    if sys.platform == "win32":
        return len(name.encode("utf-16-le", "surrogatepass")) // 2
    return len(os.fsencode(name))


def _limits(path: Path) -> tuple[int, int]:
    """(longest name, longest path) the file system under `path` takes, asked of its nearest existing folder."""
    name_max, path_max = 255, 4096 if sys.platform != "win32" else 32767
    folder = Path(os.path.abspath(path))
    while not os.path.isdir(folder) and folder != folder.parent:  # isdir is False (never raises) for a too-long name
        folder = folder.parent
    if hasattr(os, "pathconf"):
        with contextlib.suppress(OSError, ValueError):
            name_max = os.pathconf(folder, "PC_NAME_MAX")
        with contextlib.suppress(OSError, ValueError):
            path_max = os.pathconf(folder, "PC_PATH_MAX")
    return name_max, path_max


def _sample_token() -> str:
    return f"{os.getpid()}-{'0' * 12}"


def check_name_lengths(path: Path, derived: tuple[str, ...] = ()) -> None:
    """Refuse, before any work, a path the file system would refuse (ENAMETOOLONG): any of its folder names, its own
    name, and the names the job derives from it beside it (`derived`: temporary names, reservation, sidecar)."""
    if "\x00" in str(path):
        raise OutputTakenError(_t("The path {path} holds a NUL character; choose another name.").format(path=path))
    name_max, path_max = _limits(path)
    for part in path.parts:
        if part not in (path.anchor, "/", "\\") and _name_units(part) > name_max:
            raise OutputError(
                _t("The name {name} is too long for this file system ({length} bytes, at most {limit}).").format(
                    name=part, length=_name_units(part), limit=name_max
                ),
                "Choose a shorter name.",
            )
    for name in derived:
        if _name_units(name) > name_max:
            raise OutputError(
                _t(
                    "The name {name} is too long for this file system: the job also writes {derived} beside it "
                    "({length} bytes, at most {limit})."
                ).format(name=path.name, derived=name, length=_name_units(name), limit=name_max),
                "Choose a shorter name.",
            )
    longest = max([path.name, *derived], key=_name_units)
    total = _name_units(os.path.join(os.path.dirname(os.path.abspath(path)), longest))
    if total >= path_max:
        raise OutputError(
            _t("The path {path} is too long for this file system ({length} bytes, at most {limit}).").format(
                path=path, length=total, limit=path_max - 1
            ),
            "Choose a shorter folder or name.",
        )


def _video_derived_names(path: Path, sidecar: bool = True) -> tuple[str, ...]:
    token = _sample_token()
    names = [
        f".{path.name}{RESERVATION_SUFFIX}",
        temp_name(path.stem, token, "video", ".mp4"),
        temp_name(path.stem, token, "marker"),
    ]
    if sidecar:
        names += [path.with_suffix(".json").name, temp_name(path.stem, token, "sidecar", ".json")]
    return tuple(names)


def _refuse_app_name(path: Path) -> None:
    if is_app_temporary_name(path.name):
        raise OutputTakenError(
            _t("{name} is a name this app gives its temporary files; choose another name.").format(name=path.name)
        )


def check_output_path(path: Path, sidecar: bool = True) -> None:
    """Fail early, before any model is loaded, on a path the video could not be written to."""
    if path.suffix.lower() != ".mp4":
        raise OutputTakenError(_t("The output must be an .mp4 file (got '{name}').").format(name=path.name))
    check_name_lengths(path, _video_derived_names(path, sidecar))
    _refuse_app_name(path)
    if path.exists():
        raise OutputNameTakenError(
            _t("{path} already exists; it will not be overwritten.").format(path=path), "Choose another file name."
        )
    sidecar_path = path.with_suffix(".json")
    if sidecar and sidecar_path.exists():
        raise OutputNameTakenError(
            _t("{sidecar} already exists; the clip's sidecar would replace it.").format(sidecar=sidecar_path),
            "Choose another file name.",
        )
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputTakenError(_t("The folder {folder} does not exist.").format(folder=parent))
    if not os.access(parent, os.W_OK):
        raise OutputTakenError(_t("The folder {folder} is not writable.").format(folder=parent))


def check_frames_dir(path: Path) -> None:
    check_name_lengths(path, (temp_name(path.name, _sample_token(), "frames"),))
    _refuse_app_name(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise OutputTakenError(
            _t("{path} already exists and is not an empty folder; frames will not overwrite it.").format(path=path)
        )
    parent = path.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise OutputTakenError(
            _t("Cannot create the frames folder {path}: {folder} is missing or not writable.").format(
                path=path, folder=parent
            )
        )


def _place(path: Path) -> tuple[Path, str]:
    """Where a name lands, for comparing two names that do not exist yet: the real folder and the name, case-folded
    (on Windows and macOS `Clip.json` and `clip.json` are one file)."""
    absolute = Path(os.path.abspath(path))
    return absolute.parent.resolve(), absolute.name.casefold()


def check_outputs(video_path: Path, frames_dir: Path | None = None, sidecar: bool = True) -> None:
    """Every name a job will publish, checked before any work: each on its own, then against one another (a frames
    folder named like the clip or its sidecar, or one that would hold the clip, could only fail after the job)."""
    check_output_path(video_path, sidecar)
    if frames_dir is None:
        return
    check_frames_dir(frames_dir)
    frames = _place(frames_dir)
    for own, what in ((video_path, _t("the clip")), (video_path.with_suffix(".json"), _t("the clip's sidecar"))):
        if frames == _place(own) and (sidecar or own == video_path):
            raise OutputTakenError(
                _t("The frames folder {path} has the same name as {what}; choose another folder name.").format(
                    path=frames_dir, what=what
                )
            )
    video_folder = Path(os.path.abspath(video_path)).parent.resolve()
    frames_path = frames[0] / Path(os.path.abspath(frames_dir)).name
    if video_folder == frames_path or frames_path in video_folder.parents:
        raise OutputTakenError(
            _t("The frames folder {path} would hold the clip {video}; choose another folder.").format(
                path=frames_dir, video=video_path
            )
        )


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _stage_reached(name: str) -> None:
    """Called as the writer reaches each stage; a no-op that fault tests patch to pause or kill there."""


def _output_error(exc: OSError, what: str) -> OutputError:
    if exc.errno in _DISK_FULL:
        return OutputError(
            _t("The disk is full: {what} could not be written; nothing was saved.").format(what=what),
            "Free some space.",
        )
    return OutputError(
        _t("{what} could not be written ({error}); nothing was saved.").format(what=what, error=exc.strerror or exc)
    )


# ---- reservation -----------------------------------------------------------------------------------------------
@dataclass
class OutputReservation:
    """The names one job will publish, held exclusively from the first check to the last rename."""

    video_path: Path
    sidecar_path: Path | None
    frames_dir: Path | None
    token: str = field(default_factory=lambda: f"{os.getpid()}-{secrets.token_hex(6)}")
    released: bool = False

    @property
    def marker(self) -> Path:
        return self.video_path.with_name(f".{self.video_path.name}{RESERVATION_SUFFIX}")

    @property
    def temp_video(self) -> Path:
        return self.video_path.with_name(temp_name(self.video_path.stem, self.token, "video", ".mp4"))

    @property
    def temp_sidecar(self) -> Path:
        return self.video_path.with_name(temp_name(self.video_path.stem, self.token, "sidecar", ".json"))

    @property
    def frames_staging(self) -> Path | None:
        if self.frames_dir is None:
            return None
        return self.frames_dir.with_name(temp_name(self.frames_dir.name, self.token, "frames"))

    @property
    def marker_update(self) -> Path:
        return self.video_path.with_name(temp_name(self.video_path.stem, self.token, "marker"))

    def _write_marker(self, state: str, *, create: bool) -> None:
        pid = os.getpid()
        body = {
            "pid": pid,
            "started": process_start(pid),
            "token": self.token,
            "state": state,
            "video": str(self.video_path),
            "sidecar": str(self.sidecar_path) if self.sidecar_path else None,
            "frames_dir": str(self.frames_dir) if self.frames_dir else None,
            # The temporary names themselves, so a cleanup finishes this publish whatever naming it uses by then
            # (markers without them come from versions that named them `.{base}.{token}.partial…`).
            "temp_video": str(self.temp_video),
            "temp_sidecar": str(self.temp_sidecar) if self.sidecar_path else None,
            "frames_staging": str(self.frames_staging) if self.frames_staging else None,
        }
        data = json.dumps(body).encode("utf-8")
        if create:  # O_EXCL: the reservation itself; a second job asking for this name is refused here
            fd = os.open(self.marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                os.write(fd, data)
                os.fsync(fd)
            except BaseException:
                os.close(fd)
                with contextlib.suppress(OSError):
                    self.marker.unlink()  # ours: created just now
                raise
            os.close(fd)
            return
        # A state change replaces the marker whole, so a kill never leaves it half-written.
        update = self.marker_update
        _write_bytes_synced(update, data)
        os.replace(update, self.marker)

    def release(self) -> None:
        """Remove the job's temporary names and its reservation (the final names are left as they are)."""
        for temp in (self.temp_video, self.temp_sidecar, self.marker_update):
            with contextlib.suppress(OSError):
                temp.unlink()
        staging = self.frames_staging
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if not self.released:
            with contextlib.suppress(OSError):
                self.marker.unlink()
            self.released = True

    def __enter__(self) -> OutputReservation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def reserve_outputs(video_path: Path, frames_dir: Path | None = None, sidecar: bool = True) -> OutputReservation:
    """Check every name the job will publish and hold them for this job, before any work starts."""
    video_path = Path(video_path)
    clean_leftovers(video_path.parent if str(video_path.parent) else Path("."))
    if frames_dir is not None:
        clean_leftovers(frames_dir.parent)
    check_outputs(video_path, frames_dir, sidecar)
    reservation = OutputReservation(video_path, video_path.with_suffix(".json") if sidecar else None, frames_dir)
    try:
        reservation._write_marker("writing", create=True)
    except FileExistsError:
        raise OutputNameTakenError(
            _t("Another job is already writing {path}; it will not be overwritten.").format(path=video_path),
            "Choose another file name.",
        ) from None
    except OSError as exc:
        raise _output_error(exc, _t("The reservation for {path}").format(path=video_path)) from None
    reservation.released = False
    return reservation


def clean_leftovers(folder: Path) -> list[Path]:
    """Finish or remove what jobs that are gone left in `folder`; returns the paths removed or completed.

    A reservation whose owner is dead and whose state is "publishing" had every part written and verified:
    its publish is completed (nothing lost). Any other dead job's temporary files are deleted."""
    handled: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return handled
    live_tokens: set[str] = set()
    for marker in (e for e in entries if e.name.startswith(".") and e.name.endswith(RESERVATION_SUFFIX)):
        try:
            info = json.loads(marker.read_text(encoding="utf-8"))
            pid, token = int(info["pid"]), str(info["token"])
        except (OSError, ValueError, KeyError, TypeError):
            # A marker cut short by a kill while it was created: its owner never started writing.
            if time.time() - _mtime(marker) > 60:
                with contextlib.suppress(OSError):
                    marker.unlink()
                    handled.append(marker)
            continue
        if process_alive(pid, info.get("started")):
            live_tokens.add(token)
            continue
        if info.get("state") == "publishing":
            _finish_publish(info, token)
        with contextlib.suppress(OSError):
            marker.unlink()
        handled.append(marker)
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match is None or f"{match['pid']}-{match['token']}" in live_tokens:
            continue
        if int(match["pid"]) == os.getpid() and f"{match['pid']}-{match['token']}" in _ACTIVE_TOKENS:
            continue
        if process_start(int(match["pid"])) is not None and int(match["pid"]) != os.getpid():
            # The owner still runs (its reservation may be in another folder, as for a frames folder).
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            handled.append(entry)
    return handled


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _finish_publish(info: dict[str, Any], token: str) -> None:
    """Complete a publish its owner began and could not finish: every part was verified before it began."""
    video = Path(info["video"])
    # Markers written before the kind tags do not name their temporary files: derive them as those versions did.
    temp_video = Path(info.get("temp_video") or video.with_name(f".{video.stem}.{token}.partial.mp4"))
    temp_sidecar = Path(info.get("temp_sidecar") or video.with_name(f".{video.stem}.{token}.partial.json"))
    if info.get("frames_dir"):
        frames = Path(info["frames_dir"])
        staging = Path(info.get("frames_staging") or frames.with_name(f".{frames.name}.{token}.partial"))
        if staging.is_dir() and not frames.exists():
            with contextlib.suppress(OSError):
                os.replace(staging, frames)
    if info.get("sidecar") and temp_sidecar.is_file():
        with contextlib.suppress(OSError):
            os.link(temp_sidecar, info["sidecar"])
    if temp_video.is_file():
        with contextlib.suppress(OSError):
            os.link(temp_video, video)


# ---- encoding ----------------------------------------------------------------------------------------------------
def _send_frames(stdin: IO[bytes], pixels: np.ndarray) -> None:
    """Feed raw RGB frames to ffmpeg (a seam for tests that pause a writer mid-clip)."""
    for frame in pixels:
        stdin.write(np.ascontiguousarray(frame).tobytes())
        _stage_reached("frame-sent")


# Every clip is converted to YUV with a stated matrix and tagged to match: BT.709 primaries, transfer and matrix in
# limited (tv) range, the HD standard players assume for untagged HD video. Untagged, ffmpeg's default BT.601
# conversion was shown by browsers with BT.709 at HD sizes (green as (0, 217, 0)). Recent ffmpegs take the
# encoder's colour description from the frames, which `setparams` tags (its colour options date from FFmpeg 4.1);
# older ones take it from the options, which also tag the container.
COLOUR_FILTER = (
    "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
    "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
)
COLOUR_ARGS = (
    "-vf", COLOUR_FILTER,
    "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709", "-color_range", "tv",
)  # fmt: skip


def keyframe_interval(fps: FrameRate) -> int:
    """A keyframe at least every two seconds, so a browser can seek anywhere quickly (scene cuts add more)."""
    return max(1, round(2 * fps))


def _encode_mp4(pixels: np.ndarray, target: Path, fps: FrameRate, comment: str) -> None:
    """ffmpeg from raw frames to an H.264 mp4 at `target` (which must not exist); raises OutputError if it fails."""
    _, h, w, _ = pixels.shape
    command = [
        _ffmpeg(),
        "-hide_banner",
        "-n",  # never overwrite
        "-v",
        "error",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{w}x{h}",
        "-r",
        frame_rate_arg(fps),
        "-i",
        "-",
        "-an",
        *COLOUR_ARGS,
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        # crf 17: visually lossless for generated video; faststart: plays while still loading.
        "-crf",
        "17",
        "-preset",
        "medium",
        # The rate capped to the budget of an H.264 level fit for the size and rate, so the level x264 writes
        # (it picks the lowest that holds all of them) is one the clip keeps.
        *h264_rate_args(w, h, fps),
        "-g",
        str(keyframe_interval(fps)),
        "-movflags",
        "+faststart",
        "-metadata",
        f"comment={comment}",
        str(target),
    ]
    with open(os.devnull, "wb") as devnull, _stderr_file(target) as log:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=devnull, stderr=log)
        assert process.stdin is not None
        try:
            _send_frames(process.stdin, pixels)
            process.stdin.close()
            code = process.wait()
        except BrokenPipeError:
            code = process.wait()
        except BaseException:
            process.kill()
            process.wait()
            raise
        log.seek(0)
        message = log.read().decode("utf-8", "replace").strip()
    if code != 0:
        low = message.lower()
        if "no space" in low or "disk quota" in low:
            raise OutputError(
                _t("The disk is full: the clip {name} could not be written; nothing was saved.").format(
                    name=target.name
                ),
                "Free some space.",
            )
        last = message.splitlines()[-1] if message else _t("exit status {code}").format(code=code)
        raise OutputError(_t("The video encoder failed ({error}); nothing was saved.").format(error=last))


@contextlib.contextmanager
def _stderr_file(target: Path) -> Any:
    import tempfile

    with tempfile.TemporaryFile() as log:  # ffmpeg's messages; a pipe could fill and stall it
        yield log


def verify_mp4(path: Path, expected_frames: int) -> None:
    """Decode the whole clip and count its frames: a truncated or damaged file is refused."""
    result = subprocess.run(
        [
            _ffmpeg(),
            "-hide_banner",
            "-nostats",
            "-v",
            "error",
            "-progress",
            "pipe:1",
            "-i",
            str(path),
            "-map",
            "0:v:0",
            "-f",
            "null",
            "-",
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        check=False,
    )
    counts = re.findall(r"^frame=(\d+)$", result.stdout, flags=re.MULTILINE)
    decoded = int(counts[-1]) if counts else 0
    if result.returncode != 0 or decoded != expected_frames:
        stderr = result.stderr.strip()
        detail = stderr.splitlines()[-1] if stderr else _t("{count} frames decoded").format(count=decoded)
        raise OutputError(
            _t("The finished clip did not check out ({detail}; expected {frames} frames); nothing was saved.").format(
                detail=detail, frames=expected_frames
            )
        )


def _write_bytes_synced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    finally:
        os.close(fd)


def _check_frames(frames: np.ndarray) -> None:
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] < 1:
        raise ValueError(f"frames must be (T, H, W, 3) with T >= 1, got {frames.shape}")


def sidecar_text(metadata: dict[str, Any]) -> str:
    """Strict JSON (no NaN or Infinity, which other readers refuse)."""
    return json.dumps(metadata, indent=2, ensure_ascii=False, sort_keys=True, allow_nan=False) + "\n"


# ---- publishing ----------------------------------------------------------------------------------------------
def publish_clip(
    frames: np.ndarray, reservation: OutputReservation, fps: FrameRate, metadata: dict[str, Any]
) -> OutputReservation:
    """Write, verify and publish the whole result for a reservation (see the module docstring for the invariant).
    Raises OutputError (nothing under final names) or re-raises an interrupt after rolling back."""
    _check_frames(frames)
    if not all(math.isfinite(v) for v in _floats(metadata)):
        raise ValueError("clip metadata holds a non-finite number")
    pixels = frames_to_uint8(frames)
    comment = json.dumps(metadata, ensure_ascii=False, sort_keys=True, allow_nan=False)
    folder = reservation.video_path.parent if str(reservation.video_path.parent) else Path(".")
    _ACTIVE_TOKENS.add(reservation.token)
    try:
        try:
            _stage_reached("encoding")
            _encode_mp4(pixels, reservation.temp_video, fps, comment)
            _stage_reached("encoded")
            verify_mp4(reservation.temp_video, pixels.shape[0])
            fsync_file(reservation.temp_video)
            if reservation.sidecar_path is not None:
                _write_bytes_synced(reservation.temp_sidecar, sidecar_text(metadata).encode("utf-8"))
            staging = reservation.frames_staging
            if staging is not None:
                staging.mkdir()
                # The parameters travel with the frames as they do with a PNG export (the same writer).
                write_frames_into(staging, pixels, metadata)
            fsync_dir(folder)
            _stage_reached("verified")
            reservation._write_marker("publishing", create=False)
        except OSError as exc:
            raise _output_error(exc, _t("The clip {path}").format(path=reservation.video_path)) from None
        _publish_all(reservation, folder)
        with contextlib.suppress(OSError):  # the names are linked; a failed directory flush loses nothing now
            fsync_dir(folder)
        _stage_reached("published")
    finally:
        _ACTIVE_TOKENS.discard(reservation.token)
    reservation.release()
    _stage_reached("released")
    return reservation


def _publish_all(reservation: OutputReservation, folder: Path) -> None:
    """Frames folder, sidecar, then the mp4 (the last step makes the job whole); roll back on any failure."""
    published: list[Path] = []
    try:
        staging, frames_dir = reservation.frames_staging, reservation.frames_dir
        if staging is not None and frames_dir is not None:
            if frames_dir.exists():
                frames_dir.rmdir()  # checked empty when reserved; a non-empty one makes this fail
            os.replace(staging, frames_dir)
            published.append(frames_dir)
            fsync_dir(frames_dir.parent)
            _stage_reached("frames-published")
        if reservation.sidecar_path is not None:
            _link(reservation.temp_sidecar, reservation.sidecar_path)
            published.append(reservation.sidecar_path)
            _stage_reached("sidecar-published")
        _link(reservation.temp_video, reservation.video_path)  # from here on the job is whole
    except BaseException as exc:
        for path in reversed(published):
            with contextlib.suppress(OSError):
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
        if isinstance(exc, FileExistsError):
            raise OutputError(
                _t(
                    "{path} appeared while the clip was being written; it was not overwritten and the clip was not "
                    "saved."
                ).format(path=exc.filename)
            ) from None
        if isinstance(exc, OSError):
            raise _output_error(exc, _t("The clip {path}").format(path=reservation.video_path)) from None
        raise


def _link(temp: Path, final: Path) -> None:
    """Give a finished temporary file its final name without ever replacing an existing file."""
    try:
        os.link(temp, final)  # fails if `final` exists, atomically
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno in _DISK_FULL:
            raise
        # File systems without hard links (FAT, some network drives): an exclusive copy, then fsync.
        with open(temp, "rb") as src, open(final, "xb") as dst:
            shutil.copyfileobj(src, dst)
            dst.flush()
            os.fsync(dst.fileno())


def publish_file(temp: Path, final: Path) -> None:
    """Move a finished temporary file to its final name, never replacing an existing file (for exports)."""
    try:
        _link(temp, final)
    except FileExistsError:
        temp.unlink(missing_ok=True)
        raise OutputError(
            _t("{path} appeared while it was being written; it was not overwritten.").format(path=final)
        ) from None
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise _output_error(exc, str(final)) from None
    temp.unlink(missing_ok=True)


def unique_temp_name(final: Path, suffix: str = ".partial") -> Path:
    """A temporary name beside `final` that no other writer (process or thread) uses."""
    return final.with_name(f".{final.name}.{os.getpid()}-{secrets.token_hex(4)}{suffix}")


def _floats(value: Any) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for v in value.values() for f in _floats(v)]
    if isinstance(value, (list, tuple)):
        return [f for v in value for f in _floats(v)]
    return []


# ---- single files (thumbnails, tests, exports) ------------------------------------------------------------------
def write_mp4(frames: np.ndarray, path: Path, fps: FrameRate, metadata: dict[str, Any]) -> Path:
    """One mp4 without a sidecar, with the same guarantees as `publish_clip`."""
    _check_frames(frames)
    with reserve_outputs(Path(path), None, sidecar=False) as reservation:
        publish_clip(frames, reservation, fps, metadata)
    return Path(path)


def write_sidecar(path: Path, metadata: dict[str, Any]) -> Path:
    """A sidecar beside an existing clip (never replacing one)."""
    sidecar = Path(path).with_suffix(".json")
    token = f"{os.getpid()}-{secrets.token_hex(6)}"
    temp = sidecar.with_name(temp_name(sidecar.stem, token, "sidecar", ".json"))
    _ACTIVE_TOKENS.add(token)  # a cleanup on another thread leaves it alone
    try:
        _write_bytes_synced(temp, sidecar_text(metadata).encode("utf-8"))
        try:
            _link(temp, sidecar)
        except FileExistsError:
            raise OutputError(_t("{path} already exists; it was not overwritten.").format(path=sidecar)) from None
    except OSError as exc:
        raise _output_error(exc, _t("The sidecar {path}").format(path=sidecar)) from None
    finally:
        _ACTIVE_TOKENS.discard(token)
        with contextlib.suppress(OSError):
            temp.unlink()
    return sidecar


def write_png_frames(frames: np.ndarray, folder: Path, parameters: dict[str, Any] | None = None) -> Path:
    """A folder of lossless PNG frames (with `parameters` in each and in parameters.json, when given), published
    whole by one rename."""
    _check_frames(frames)
    check_frames_dir(folder)
    token = f"{os.getpid()}-{secrets.token_hex(6)}"
    staging = folder.with_name(temp_name(folder.name, token, "frames"))
    _ACTIVE_TOKENS.add(token)
    try:
        staging.mkdir()
        write_frames_into(staging, frames_to_uint8(frames), parameters)
        if folder.exists():
            folder.rmdir()
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        _ACTIVE_TOKENS.discard(token)
    return folder


def read_png_frames(folder: Path) -> np.ndarray:
    from PIL import Image

    files = sorted(folder.glob("frame_*.png"))
    return np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files])


def read_mp4_frames(path: Path) -> np.ndarray:
    """Decode a clip to uint8 (T, H, W, 3) — for tests and thumbnails."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    meta = next(reader)
    w, h = meta["size"]
    frames = [np.frombuffer(buf, dtype=np.uint8).reshape(h, w, 3) for buf in reader]
    return np.stack(frames)


def _unescape_ffmetadata(value: str) -> str:
    out, it = [], iter(value)
    for ch in it:
        out.append(next(it, "") if ch == "\\" else ch)
    return "".join(out)


def read_mp4_comment(path: Path) -> dict[str, Any] | None:
    """The parameters stored in the mp4's comment tag, or None if it has none."""
    return read_comment_tag(path)


def read_comment_tag(path: Path) -> dict[str, Any] | None:
    """The JSON parameters in a clip's comment tag (mp4 `comment`, Matroska/WebM `COMMENT`), or None."""
    result = subprocess.run(
        [_ffmpeg(), "-v", "error", "-i", str(path), "-f", "ffmetadata", "-"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    lines = result.stdout.splitlines()
    # ffmetadata escapes newlines with a trailing backslash; join continuation lines first.
    joined: list[str] = []
    for line in lines:
        if joined and joined[-1].endswith("\\") and not joined[-1].endswith("\\\\"):
            joined[-1] = joined[-1][:-1] + "\n" + line
        else:
            joined.append(line)
    for line in joined:
        if line.lower().startswith("comment="):
            try:
                return json.loads(_unescape_ffmetadata(line[len("comment=") :]))
            except json.JSONDecodeError:
                return None
    return None


def write_thumbnail(video_path: Path, png_path: Path, max_side: int = 256) -> Path:
    """A still from the middle of the clip, for history lists."""
    from PIL import Image

    frames = read_mp4_frames(video_path)
    image = Image.fromarray(frames[len(frames) // 2])
    image.thumbnail((max_side, max_side))
    png_path.parent.mkdir(parents=True, exist_ok=True)
    image.save(png_path)
    return png_path
