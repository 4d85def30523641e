"""What a queued finish job asks for, as a job's request carries it (`GenerationRequest.finish`): an upscale (scale
and model) and/or an interpolation (factor or rate, method, RIFE's weights).

Light on purpose (no numpy, no torch): core/job/request.py holds one, and the window builds and shows them. The steps
core/finish/clip.py runs come from `steps()`; the checks are that module's own (`problems()`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_MODEL = "default"  # core.finish.models.DEFAULT: the named default model of the step
METHODS = ("rife", "ffmpeg")  # core.finish.interpolate.InterpolationMethod's values


@dataclass(frozen=True)
class FinishSpec:
    upscale: float | None = None  # output size / input size; None: no upscale
    upscale_model: str = DEFAULT_MODEL  # a .pth/.safetensors file or a named model
    factor: int | None = None  # interpolate to this many times the clip's rate, or
    fps: float | None = None  # to this rate; neither (and no method): no interpolation
    method: str | None = None  # "rife", "ffmpeg"; None: RIFE when its weights are here, else ffmpeg
    rife_model: str | None = None  # RIFE's weights: a file or a name; None: the default if downloaded

    @property
    def upscales(self) -> bool:
        return self.upscale is not None

    @property
    def interpolates(self) -> bool:
        return self.factor is not None or self.fps is not None or self.method is not None

    @property
    def empty(self) -> bool:
        return not self.upscales and not self.interpolates

    def steps(self) -> tuple[Any, Any]:
        """(UpscaleStep | None, InterpolateStep | None) for core.finish.clip."""
        from core.finish.clip import InterpolateStep, UpscaleStep
        from core.finish.interpolate import InterpolationMethod

        upscale = UpscaleStep(model=self.upscale_model, scale=float(self.upscale)) if self.upscale is not None else None
        interpolate = None
        if self.interpolates:
            interpolate = InterpolateStep(
                factor=self.factor,
                fps=self.fps,
                method=InterpolationMethod(self.method) if self.method else None,
                model=self.rife_model,
            )
        return upscale, interpolate

    def problems(self) -> list[str]:
        """Why these steps cannot run (empty when they can): core.finish.clip's own checks."""
        from core.errors import InvalidRequestError
        from core.finish.clip import check_steps

        if self.method is not None and self.method not in METHODS:
            from core.i18n import _t

            return [_t("Unknown interpolation method '{method}' (rife or ffmpeg).").format(method=self.method)]
        try:
            check_steps(*self.steps())
        except InvalidRequestError as exc:
            return [exc.message]
        return []

    def short(self) -> str:
        """ "2×, 48 fps", "4×", "fps ×2": what the job ends with, for the queue and the history rows."""
        parts = []
        if self.upscale is not None:
            parts.append(f"{self.upscale:g}×")
        if self.fps is not None:
            parts.append(f"{self.fps:g} fps")
        elif self.interpolates:
            parts.append(f"fps ×{self.factor or 2}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """Only what is set, so the stored request says what was asked for and nothing more."""
        data: dict[str, Any] = {}
        if self.upscale is not None:
            data["upscale"] = {"scale": self.upscale, "model": self.upscale_model}
        if self.interpolates:
            interpolate: dict[str, Any] = {}
            for key, value in (
                ("factor", self.factor),
                ("fps", self.fps),
                ("method", self.method),
                ("model", self.rife_model),
            ):
                if value is not None:
                    interpolate[key] = value
            data["interpolate"] = interpolate
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FinishSpec:
        upscale = data.get("upscale") if isinstance(data.get("upscale"), dict) else None
        interpolate = data.get("interpolate") if isinstance(data.get("interpolate"), dict) else None
        spec = cls(
            upscale=float(upscale.get("scale", 2.0)) if upscale is not None else None,
            upscale_model=str(upscale.get("model", DEFAULT_MODEL)) if upscale is not None else DEFAULT_MODEL,
        )
        if interpolate is None:
            return spec
        factor, fps = interpolate.get("factor"), interpolate.get("fps")
        method, model = interpolate.get("method"), interpolate.get("model")
        return cls(
            upscale=spec.upscale,
            upscale_model=spec.upscale_model,
            factor=None if factor is None else int(factor),
            fps=None if fps is None else float(fps),
            method=None if method is None else str(method),
            rife_model=None if model is None else str(model),
        )
