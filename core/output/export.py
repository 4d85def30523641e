"""Exporting a finished clip (an mp4 with its parameters) to WebM, an animated GIF or a folder of PNG frames.

Every frame of the clip is kept and counted back after writing (but in a GIF of a clip above 50 fps, see
`gif_timing`), and the clip's parameters travel with each export: in the WebM's comment tag, in the GIF's comment
extension, in each PNG's tEXt chunk, and in a JSON sidecar beside every export (`NAME.webm.json`, `NAME.gif.json`;
`parameters.json` inside a PNG folder). Frame rates stay exact (24000/1001 is written as such), and the WebM is
converted and tagged as BT.709 like the mp4 (core/output/video.py). The model
is named by its identity there, never by its folder's path unless asked (`ExportRequest.keep_model_path`).

Outputs are written under a temporary name and published only when whole, never over an existing file. An
existing target is refused before anything is decoded.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import FailureKind, JobCancelled, OutputError, StudioError
from core.i18n import _t
from core.output.frame_rate import FrameRate, frame_rate_arg, nearest_frame_rate
from core.output.png_frames import PNG_SIDECAR_NAME as PNG_SIDECAR_NAME
from core.output.png_frames import (
    PNG_TEXT_KEY as PNG_TEXT_KEY,  # re-exported, like PNG_SIDECAR_NAME: callers find them here
)
from core.output.png_frames import write_frames_into
from core.output.video import (
    COLOUR_ARGS,
    _ffmpeg,
    keyframe_interval,
    publish_file,
    read_comment_tag,
    read_mp4_comment,
    unique_temp_name,
)

# VP9 in constant-quality mode: crf 24 with an unlimited bitrate is visually close to the H.264 source.
VP9_ARGS = ["-c:v", "libvpx-vp9", "-crf", "24", "-b:v", "0", "-row-mt", "1", "-deadline", "good", "-cpu-used", "2"]
VP8_ARGS = ["-c:v", "libvpx", "-crf", "10", "-b:v", "4M", "-deadline", "good", "-cpu-used", "2"]

ProgressCallback = Callable[[int, int], None]  # (frames done, frames in all)
# An export that counts back fewer (or more) frames than the clip has is refused, not published.
_FRAMES_MISSING = _t("The {format} holds {written} frames instead of {total}; it was not kept.")


class ExportFormat(str, Enum):
    WEBM = "webm"
    GIF = "gif"
    PNG = "png"


class GifPalette(str, Enum):
    PER_CLIP = "clip"  # one global palette from frames across the clip: no flicker between frames
    PER_FRAME = "frame"  # a local palette per frame: truer colours, bigger file


class ExportInputError(StudioError):
    """The source clip or the chosen target is unusable (exit status 2)."""

    kind = FailureKind.BAD_INPUT


class ExportWriteError(OutputError):
    """The export could not be written (exit status 5)."""

    kind = FailureKind.OUTPUT


class ExportCancelled(JobCancelled):
    def __init__(self) -> None:
        super().__init__("The export was cancelled; nothing was written.")


@dataclass(frozen=True)
class ExportRequest:
    source: Path
    format: ExportFormat
    output: Path
    gif_palette: GifPalette = GifPalette.PER_CLIP
    keep_model_path: bool = False  # keep the model folder's path if the clip recorded one (a private archive)


@dataclass(frozen=True)
class ExportResult:
    output: Path
    sidecar: Path
    frames: int  # counted back from the written export
    fps: FrameRate
    codec: str  # what wrote it: "vp9", "vp8", "gif", "png"


@dataclass(frozen=True)
class SourceClip:
    frames: np.ndarray  # (T, H, W, 3) uint8
    fps: FrameRate  # exact: ffmpeg's "23.98 fps" read back as 24000/1001
    parameters: dict[str, Any]


def default_output(source: Path, fmt: ExportFormat) -> Path:
    """`clip.webm`, `clip.gif`, or a folder `clip-frames` beside the clip."""
    if fmt is ExportFormat.PNG:
        return source.with_name(f"{source.stem}-frames")
    return source.with_suffix(f".{fmt.value}")


def sidecar_path(output: Path, fmt: ExportFormat) -> Path:
    # `clip.webm.json`, not `clip.json`: exported beside its source, `clip.json` is the mp4's own sidecar.
    return output / PNG_SIDECAR_NAME if fmt is ExportFormat.PNG else output.with_name(f"{output.name}.json")


def webm_codec() -> str | None:
    """The best WebM video encoder the bundled ffmpeg has: "vp9", "vp8", or None."""
    listing = subprocess.run([_ffmpeg(), "-hide_banner", "-encoders"], capture_output=True, text=True, check=False)
    names = {line.split()[1] for line in listing.stdout.splitlines() if len(line.split()) > 1}
    if "libvpx-vp9" in names:
        return "vp9"
    if "libvpx" in names:
        return "vp8"
    return None


def check_export(request: ExportRequest) -> None:
    """Refuse a bad source or target before any decoding: ExportInputError (2) or ExportWriteError (5)."""
    src, out, fmt = request.source, request.output, request.format
    if not src.is_file():
        raise ExportInputError(_t("The clip {path} does not exist.").format(path=src))
    if fmt is not ExportFormat.PNG and out.suffix.lower() != f".{fmt.value}":
        raise ExportInputError(
            _t("A {format} export must end in .{extension} (got '{name}').").format(
                format=fmt.value.upper(), extension=fmt.value, name=out.name
            )
        )
    if fmt is ExportFormat.PNG and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportInputError(
            _t("{path} already exists and is not an empty folder; it will not be overwritten.").format(path=out)
        )
    if fmt is not ExportFormat.PNG:
        for path in (out, sidecar_path(out, fmt)):
            if path.exists():
                raise ExportInputError(
                    _t("{path} already exists; it will not be overwritten.").format(path=path), "Choose another name."
                )
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise ExportWriteError(_t("The folder {path} does not exist.").format(path=parent))
    if not os.access(parent, os.W_OK):
        raise ExportWriteError(_t("The folder {path} is not writable.").format(path=parent))


def read_source(source: Path) -> SourceClip:
    """Every frame of the clip, its frame rate, and its parameters (sidecar first, then the mp4's comment)."""
    import imageio_ffmpeg

    try:
        reader = imageio_ffmpeg.read_frames(str(source), pix_fmt="rgb24")
        meta = next(reader)
        w, h = meta["size"]
        frames = [np.frombuffer(buf, dtype=np.uint8).reshape(h, w, 3) for buf in reader]
    except (OSError, RuntimeError, StopIteration) as exc:
        raise ExportInputError(
            _t("{path} could not be read as a video: {error}").format(path=source, error=exc)
        ) from exc
    if not frames:
        raise ExportInputError(_t("{path} has no video frames.").format(path=source))
    parameters: dict[str, Any] | None = None
    sidecar = source.with_suffix(".json")
    if sidecar.is_file():
        with contextlib.suppress(OSError, json.JSONDecodeError):
            loaded = json.loads(sidecar.read_text(encoding="utf-8"))
            parameters = loaded if isinstance(loaded, dict) else None
    if parameters is None:
        parameters = read_mp4_comment(source) or {}
    return SourceClip(np.stack(frames), nearest_frame_rate(float(meta.get("fps") or 24.0)), parameters)


def shareable_parameters(parameters: dict[str, Any], keep_model_path: bool) -> dict[str, Any]:
    """The clip's parameters as an export carries them: the model named by its identity, its folder's path left
    out unless `keep_model_path` (an older clip's plain path becomes an identity; core/model/identity.py)."""
    if "model" not in parameters:
        return parameters
    from core.model.identity import shareable_model

    return {**parameters, "model": shareable_model(parameters["model"], keep_model_path)}


def read_webm_comment(path: Path) -> dict[str, Any] | None:
    """The parameters in a WebM's comment tag (Matroska stores tag names upper-case: COMMENT)."""
    return read_comment_tag(path)


# A GIF's delays are whole hundredths of a second, and browsers show a delay under 2 (20 ms) as 100 ms: a GIF
# shows at most 50 frames a second.
MIN_GIF_DELAY_CS = 2
MAX_GIF_FPS = 100 // MIN_GIF_DELAY_CS


@dataclass(frozen=True)
class GifTiming:
    frames: tuple[int, ...]  # which of the clip's frames the GIF shows, in order
    delays_cs: tuple[int, ...]  # how long each shows, in hundredths of a second


def gif_timing(num_frames: int, fps: FrameRate | float) -> GifTiming:
    """The frames a GIF shows and their delays: whole hundredths whose running sum tracks the clip's timeline, so
    24 fps becomes 4, 4, 4, 5, 4, 4, … (41.67 ms on average) instead of drifting by rounding every frame the same
    way, and never under 2. Above 50 fps frames are dropped evenly to an integer step (60 fps shows every other
    frame, 30 fps worth; 120 fps every third), the first and the last kept; the delays add up to the clip's
    duration within half a hundredth."""
    rate = Fraction(fps) if isinstance(fps, (int, Fraction)) else Fraction(nearest_frame_rate(fps))
    duration_cs = Fraction(100 * num_frames) / rate
    shown = num_frames
    if rate > MAX_GIF_FPS:
        step = math.ceil(rate / MAX_GIF_FPS)
        shown = max(1, min(math.ceil(num_frames / step), math.floor(duration_cs / MIN_GIF_DELAY_CS)))
    if shown <= 1:
        frames: tuple[int, ...] = (0,) if num_frames else ()
    else:
        frames = tuple(round(Fraction(k * (num_frames - 1), shown - 1)) for k in range(shown))
    span = duration_cs / shown if shown else Fraction(0)
    delays = tuple(max(MIN_GIF_DELAY_CS, round((k + 1) * span) - round(k * span)) for k in range(len(frames)))
    return GifTiming(frames, delays)


def gif_delays_cs(num_frames: int, fps: FrameRate | float) -> list[int]:
    """The delays of the frames a GIF of the clip shows (see `gif_timing`)."""
    return list(gif_timing(num_frames, fps).delays_cs)


def export_clip(
    request: ExportRequest,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> ExportResult:
    check_export(request)
    clip = read_source(request.source)
    clip = SourceClip(clip.frames, clip.fps, shareable_parameters(clip.parameters, request.keep_model_path))
    report = progress or (lambda _done, _total: None)
    stop = cancel or threading.Event()
    writers = {ExportFormat.WEBM: _export_webm, ExportFormat.GIF: _export_gif, ExportFormat.PNG: _export_png}
    try:
        return writers[request.format](request, clip, report, stop)
    except OSError as exc:
        raise ExportWriteError(
            _t("{path} could not be written: {error}").format(path=request.output, error=exc)
        ) from exc


def _json(parameters: dict[str, Any]) -> str:
    return json.dumps(parameters, ensure_ascii=False, sort_keys=True)


def _write_sidecar_tmp(path: Path, parameters: dict[str, Any]) -> Path:
    tmp = unique_temp_name(path)
    tmp.write_text(json.dumps(parameters, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return tmp


def _publish_pair(media_tmp: Path, media: Path, sidecar_tmp: Path, sidecar: Path) -> None:
    """Publish the export and its sidecar; if the sidecar cannot follow, take the export back."""
    publish_file(media_tmp, media)
    try:
        publish_file(sidecar_tmp, sidecar)
    except BaseException:
        media.unlink(missing_ok=True)
        raise


def _count_frames(path: Path) -> int:
    import imageio_ffmpeg

    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
    return int(frames or 0)


def _export_webm(
    request: ExportRequest, clip: SourceClip, report: ProgressCallback, stop: threading.Event
) -> ExportResult:
    codec = webm_codec()
    if codec is None:
        raise ExportWriteError("This ffmpeg build has no WebM (VP9/VP8) encoder.", "Export a GIF or PNG frames.")
    total = len(clip.frames)
    _, h, w, _ = clip.frames.shape
    out = request.output
    tmp = unique_temp_name(out, ".partial.webm")
    cmd = [
        _ffmpeg(), "-v", "error", "-nostdin", "-y",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", frame_rate_arg(clip.fps), "-i", "-",
        *COLOUR_ARGS, *(VP9_ARGS if codec == "vp9" else VP8_ARGS), "-g", str(keyframe_interval(clip.fps)),
        "-pix_fmt", "yuv420p", "-metadata", f"comment={_json(clip.parameters)}",
        "-f", "webm", str(tmp),
    ]  # fmt: skip
    sidecar = sidecar_path(out, ExportFormat.WEBM)
    sidecar_tmp: Path | None = None
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdin is not None
    try:
        for i, frame in enumerate(clip.frames):
            if stop.is_set():
                raise ExportCancelled()
            proc.stdin.write(np.ascontiguousarray(frame).tobytes())
            report(i + 1, total)
        _, err = proc.communicate()
        if proc.returncode != 0:
            detail = err.decode(errors="replace").strip()[-300:]
            raise ExportWriteError(_t("ffmpeg could not write {path}: {error}").format(path=out, error=detail))
        written = _count_frames(tmp)
        if written != total:
            raise ExportWriteError(_FRAMES_MISSING.format(format="WebM", written=written, total=total))
        sidecar_tmp = _write_sidecar_tmp(sidecar, clip.parameters)
        _publish_pair(tmp, out, sidecar_tmp, sidecar)
    except BaseException:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        tmp.unlink(missing_ok=True)
        if sidecar_tmp is not None:
            sidecar_tmp.unlink(missing_ok=True)
        raise
    return ExportResult(out, sidecar, written, clip.fps, codec)


def _gif_bytes(clip: SourceClip, palette_mode: GifPalette, report: ProgressCallback, stop: threading.Event) -> bytes:
    """Build the GIF ourselves from Pillow's per-frame encoder: Pillow's own multi-frame writer merges identical
    consecutive frames, and every frame must be kept."""
    from PIL import GifImagePlugin, Image

    _, h, w, _ = clip.frames.shape
    timing = gif_timing(len(clip.frames), clip.fps)
    total = len(timing.frames)
    global_palette: Image.Image | None = None
    if palette_mode is GifPalette.PER_CLIP:
        # A palette fitted to up to 16 frames spread over the clip, stacked into one image.
        picks = np.linspace(0, total - 1, num=min(total, 16)).round().astype(int)
        global_palette = Image.fromarray(np.concatenate([clip.frames[i] for i in picks], axis=0)).quantize(256)
    parts: list[bytes] = []
    header_palette = b""
    if global_palette is not None:
        header_palette = bytes((global_palette.getpalette() or [])[: 256 * 3]).ljust(256 * 3, b"\0")
    flags = (0x80 | 0x70 | 0x07) if header_palette else 0x70  # global table of 256 colours, 8 bits per channel
    parts.append(b"GIF89a" + w.to_bytes(2, "little") + h.to_bytes(2, "little") + bytes([flags, 0, 0]))
    parts.append(header_palette)
    parts.append(b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00")  # loop forever
    comment = _json(clip.parameters).encode("utf-8")
    parts.append(b"!\xfe" + b"".join(bytes([len(c)]) + c for c in _chunks(comment, 255)) + b"\x00")
    for i, (index, delay) in enumerate(zip(timing.frames, timing.delays_cs, strict=True)):
        if stop.is_set():
            raise ExportCancelled()
        image = Image.fromarray(clip.frames[index])
        if global_palette is not None:
            indexed = image.quantize(palette=global_palette, dither=Image.Dither.FLOYDSTEINBERG)
        else:
            indexed = image.quantize(256, dither=Image.Dither.FLOYDSTEINBERG)
        indexed.encoderinfo = {}
        parts.extend(
            GifImagePlugin.getdata(
                indexed, duration=delay * 10, include_color_table=global_palette is None, interlace=0
            )
        )
        report(i + 1, total)
    parts.append(b";")
    return b"".join(parts)


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or [b""]


def _export_gif(
    request: ExportRequest, clip: SourceClip, report: ProgressCallback, stop: threading.Event
) -> ExportResult:
    from PIL import Image

    out = request.output
    data = _gif_bytes(clip, request.gif_palette, report, stop)
    tmp = unique_temp_name(out, ".partial.gif")
    sidecar = sidecar_path(out, ExportFormat.GIF)
    sidecar_tmp: Path | None = None
    try:
        tmp.write_bytes(data)
        with Image.open(tmp) as gif:
            written = getattr(gif, "n_frames", 1)
        shown = len(gif_timing(len(clip.frames), clip.fps).frames)
        if written != shown:
            raise ExportWriteError(_FRAMES_MISSING.format(format="GIF", written=written, total=shown))
        sidecar_tmp = _write_sidecar_tmp(sidecar, clip.parameters)
        _publish_pair(tmp, out, sidecar_tmp, sidecar)
    except BaseException:
        tmp.unlink(missing_ok=True)
        if sidecar_tmp is not None:
            sidecar_tmp.unlink(missing_ok=True)
        raise
    return ExportResult(out, sidecar, written, clip.fps, "gif")


def _export_png(
    request: ExportRequest, clip: SourceClip, report: ProgressCallback, stop: threading.Event
) -> ExportResult:
    folder = request.output
    total = len(clip.frames)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the export is an ordinary folder
    try:
        if stop.is_set():
            raise ExportCancelled()

        def frame_written(i: int) -> None:
            report(i + 1, total)
            if stop.is_set():
                raise ExportCancelled()

        # The same writer as `generate --save-frames` (text chunk in each frame, parameters.json beside them).
        written = write_frames_into(staging, clip.frames, clip.parameters, frame_written)
        if written != total:
            raise ExportWriteError(
                _t("Only {written} of {total} frames were written.").format(written=written, total=total)
            )
        if folder.exists():
            folder.rmdir()  # checked empty up front; rmdir refuses if something arrived since
        os.rename(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ExportResult(folder, folder / PNG_SIDECAR_NAME, written, clip.fps, "png")
