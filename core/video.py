"""Writing a finished clip: H.264 mp4 (imageio-ffmpeg's bundled ffmpeg), a JSON sidecar, the parameters in the
mp4's own comment tag, and optional lossless PNG frames.

Everything is written under a temporary name and moved into place only when whole, and an existing file is
never replaced: a crash or a cancel leaves either nothing or the previous state.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import OutputError

FRAME_NAME = "frame_{:05d}.png"


def frames_to_uint8(frames: np.ndarray) -> np.ndarray:
    """(T, H, W, 3) float in [0, 1] -> uint8, rounded the way diffusers' numpy_to_pil does."""
    return (np.clip(frames, 0.0, 1.0) * 255).round().astype(np.uint8)


def check_output_path(path: Path) -> None:
    """Fail early, before any model is loaded, on a path the video could not be written to."""
    if path.suffix.lower() != ".mp4":
        raise OutputError(f"The output must be an .mp4 file (got '{path.name}').")
    if path.exists():
        raise OutputError(f"{path} already exists; it will not be overwritten.", "Choose another file name.")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"The folder {parent} does not exist.")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"The folder {parent} is not writable.")


def check_frames_dir(path: Path) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise OutputError(f"{path} already exists and is not an empty folder; frames will not overwrite it.")
    parent = path.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise OutputError(f"Cannot create the frames folder {path}: {parent} is missing or not writable.")


def _ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _publish(tmp: Path, final: Path) -> None:
    """Move a finished temporary file to its final name without ever replacing an existing file."""
    try:
        os.link(tmp, final)  # fails if `final` exists, atomically
    except FileExistsError:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"{final} appeared while the clip was being written; it was not overwritten.") from None
    except OSError:
        # File systems without hard links (FAT, some network drives): a checked rename.
        if final.exists():
            tmp.unlink(missing_ok=True)
            raise OutputError(f"{final} already exists; it was not overwritten.") from None
        os.replace(tmp, final)
        return
    tmp.unlink()


def write_mp4(frames: np.ndarray, path: Path, fps: int, metadata: dict[str, Any]) -> Path:
    import imageio_ffmpeg

    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] < 1:
        raise ValueError(f"frames must be (T, H, W, 3) with T >= 1, got {frames.shape}")
    pixels = frames_to_uint8(frames)
    _, h, w, _ = pixels.shape
    tmp = path.with_name(f".{path.stem}.partial.mp4")
    comment = json.dumps(metadata, ensure_ascii=False, sort_keys=True)
    writer = imageio_ffmpeg.write_frames(
        str(tmp),
        size=(w, h),
        fps=fps,
        codec="libx264",
        pix_fmt_in="rgb24",
        pix_fmt_out="yuv420p",
        quality=None,  # pyright: ignore[reportArgumentType] - None: let -crf below decide
        bitrate=None,
        macro_block_size=16,
        ffmpeg_log_level="error",
        # crf 17: visually lossless for generated video; faststart: plays while still loading.
        output_params=["-crf", "17", "-preset", "medium", "-movflags", "+faststart", "-metadata", f"comment={comment}"],
    )
    try:
        writer.send(None)
        for frame in pixels:
            writer.send(np.ascontiguousarray(frame))
        writer.close()
    except BaseException:
        with contextlib.suppress(Exception):
            writer.close()
        tmp.unlink(missing_ok=True)
        raise
    _publish(tmp, path)
    return path


def write_sidecar(path: Path, metadata: dict[str, Any]) -> Path:
    sidecar = path.with_suffix(".json")
    tmp = sidecar.with_name(f".{sidecar.name}.partial")
    tmp.write_text(json.dumps(metadata, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    _publish(tmp, sidecar)
    return sidecar


def write_png_frames(frames: np.ndarray, folder: Path) -> Path:
    from PIL import Image

    pixels = frames_to_uint8(frames)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the frames folder is an ordinary one
    try:
        for i, frame in enumerate(pixels):
            Image.fromarray(frame).save(staging / FRAME_NAME.format(i), compress_level=4)
        if folder.exists():
            folder.rmdir()  # checked empty by check_frames_dir
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
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
        if line.startswith("comment="):
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
