"""A clip decoded once into memory, frame by frame, for showing any frame at once (the compare view): ffmpeg
decodes, frames wider than a limit are scaled down on the way, so a few clips side by side fit in memory.

No Qt here; the caller runs `decode_clip` on a thread of its own and may stop it between frames."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import OutputError
from core.i18n import _t

DEFAULT_MAX_WIDTH = 960  # a pane is at most about this wide, so wider frames buy nothing but memory


class DecodeCancelled(Exception):
    """The caller asked the decoding to stop (the view closed while it ran)."""


@dataclass
class ClipFrames:
    """Every frame of one clip as uint8 (H, W, 3) arrays, and the rate they play at."""

    path: Path
    fps: float
    frames: list[np.ndarray] = field(default_factory=list)
    source_size: tuple[int, int] = (0, 0)  # (width, height) in the file, before any scaling

    @property
    def count(self) -> int:
        return len(self.frames)

    @property
    def duration_s(self) -> float:
        return self.count / self.fps if self.fps > 0 else 0.0

    def frame_at(self, seconds: float) -> int:
        """The frame shown at `seconds` into the clip; past its end it holds its last frame."""
        if not self.frames:
            return 0
        # The tiny epsilon keeps a time computed as k / fps from landing just below frame k.
        return max(0, min(self.count - 1, math.floor(seconds * self.fps + 1e-6)))

    def release(self) -> None:
        self.frames = []


def _scaled(frame: np.ndarray, max_width: int) -> np.ndarray:
    height, width, _ = frame.shape
    if width <= max_width:
        return frame
    from PIL import Image

    new_height = max(2, round(height * max_width / width))
    return np.asarray(Image.fromarray(frame).resize((max_width, new_height), Image.Resampling.BILINEAR))


def decode_clip(
    path: Path,
    *,
    max_width: int = DEFAULT_MAX_WIDTH,
    fallback_fps: float = 24.0,
    progress: Callable[[int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ClipFrames:
    """Decode every frame of `path` (scaled to at most `max_width` pixels wide). `progress(n)` is called after
    each frame; when `cancelled()` says so the ffmpeg process is stopped and DecodeCancelled raised."""
    import imageio_ffmpeg

    path = Path(path)
    if not path.is_file():
        raise OutputError(_t("The clip {path} is missing.").format(path=path))
    try:
        reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
        meta = next(reader)
    except (OSError, RuntimeError, StopIteration) as exc:
        raise OutputError(_t("The clip {path} could not be read: {error}").format(path=path, error=exc)) from None
    width, height = meta["size"]
    fps = float(meta.get("fps") or 0) or fallback_fps
    clip = ClipFrames(path=path, fps=fps, source_size=(width, height))
    try:
        for buffer in reader:
            if cancelled is not None and cancelled():
                raise DecodeCancelled
            frame = np.frombuffer(buffer, dtype=np.uint8).reshape(height, width, 3)
            clip.frames.append(_scaled(frame, max_width))
            if progress is not None:
                progress(clip.count)
    except (OSError, RuntimeError) as exc:
        raise OutputError(_t("The clip {path} could not be read: {error}").format(path=path, error=exc)) from None
    finally:
        reader.close()  # stops ffmpeg when the loop ended early
    if not clip.frames:
        raise OutputError(_t("The clip {path} has no frames.").format(path=path))
    return clip
