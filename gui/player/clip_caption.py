"""The line under the player that says what the clip is: size, frames, steps, guidance, seed, time taken."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from core.job.request import GenerationRequest
from core.output.frame_rate import frame_rate_text
from core.output.frame_rate import seconds as duration_s


def clip_info(request: GenerationRequest, frames: int | None = None, seconds: float | None = None) -> str:
    n = frames or request.effective_frames
    parts = [
        f"{request.width} × {request.height}",
        QCoreApplication.translate("clip_info", "{frames} frames at {fps} fps ({seconds} s)").format(
            frames=n, fps=frame_rate_text(request.fps), seconds=f"{duration_s(n, request.fps):.1f}"
        ),
        QCoreApplication.translate("clip_info", "{steps} steps").format(steps=request.steps),
        QCoreApplication.translate("clip_info", "guidance {guidance}").format(guidance=f"{request.guidance:g}"),
        QCoreApplication.translate("clip_info", "seed {seed}").format(seed=request.seed),
    ]
    if seconds:
        parts.append(QCoreApplication.translate("clip_info", "made in {seconds} s").format(seconds=f"{seconds:.1f}"))
    return "  ·  ".join(parts)
