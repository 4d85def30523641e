"""Finishing a clip: upscale it, interpolate it, or both, into a new clip published like any other.

The steps run in memory on the decoded frames — upscaling first (fewer frames through the costlier network, and the
interpolator sees clean frames), then interpolation — and the result is written once through core/output/video.py's
publish path: reserved before any work, encoded under temporary names, decoded and counted, then published whole,
so a cancel or a failure leaves nothing under the output's names. The clip's metadata is the source's (so `info`
and `generate --from` still read how it was made) plus "finish": each step's parameters, the models' files and
hashes, and the source clip it came from.

The window calls `finish_clip(FinishRequest(...), progress, cancel)` from a worker thread; `check_finish` refuses
bad input before anything loads.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InvalidRequestError
from core.finish.interpolate import (
    MAX_FPS,
    SCENE_CUT_PERCENT,
    InterpolationMethod,
    Timing,
    as_fraction,
    interpolate_ffmpeg,
    interpolate_rife,
    load_rife,
    target_fps,
)
from core.finish.models import (
    DEFAULT,
    NamedModel,
    download_named_model,
    file_sha256,
    is_downloaded,
    local_path,
    named_model,
)
from core.finish.upscale import check_scale, load_upscaler, output_size, tile_side, upscale_frames
from core.i18n import _t
from core.job.progress import CancelToken
from core.model.download import DownloadProgress
from core.output.export import shareable_parameters
from core.output.frame_rate import FrameRate, frame_rate_json, nearest_frame_rate, parse_frame_rate
from core.output.video import OutputReservation, check_output_path, publish_clip, read_comment_tag, reserve_outputs


class FinishStage(str, Enum):
    READING = "reading"
    DOWNLOADING = "downloading"
    LOADING = "loading"
    UPSCALING = "upscaling"
    INTERPOLATING = "interpolating"
    SAVING = "saving"


@dataclass(frozen=True)
class UpscaleStep:
    model: str = DEFAULT  # a .pth/.safetensors file, "default" or a named model (core.finish.models)
    scale: float = 2.0
    tile: int | None = None  # input pixels; None: from free memory


@dataclass(frozen=True)
class InterpolateStep:
    factor: int | None = None  # 2, 4 or 8 times the clip's rate, or
    fps: float | None = None  # a rate; neither: 2×
    method: InterpolationMethod | None = None  # None: RIFE when its weights are here, else ffmpeg
    model: str | None = None  # RIFE's weights: a file, "default" or a name; None: the default if downloaded
    scene_cut_percent: float = SCENE_CUT_PERCENT

    @property
    def rate(self) -> tuple[int | None, float | None]:
        """(factor, fps): the one given; 2× when neither is."""
        return (2, None) if self.factor is None and self.fps is None else (self.factor, self.fps)


@dataclass(frozen=True)
class FinishRequest:
    source: Path
    output: Path
    upscale: UpscaleStep | None = None
    interpolate: InterpolateStep | None = None
    device: str = "auto"  # auto, cuda or cpu
    allow_download: bool = True  # fetch a named model that is not here yet (else refused)
    source_kept: bool = True  # False: the source is a temporary (generate --finish), so no link to it is recorded
    # A shared clip names files (the source, the model weights) by name only, as it names the main model by its
    # identity (core/model/identity.py); True records absolute paths too, for a person's own archive.
    keep_paths: bool = False


@dataclass(frozen=True)
class FinishProgress:
    stage: FinishStage
    done: int = 0  # frames (bytes while downloading)
    total: int = 0  # 0: not known


@dataclass(frozen=True)
class FinishResult:
    output: Path
    sidecar: Path | None
    frames: int
    fps: float
    width: int
    height: int
    duration_s: float  # first frame to last: (frames − 1) / fps
    notes: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)


FinishCallback = Callable[[FinishProgress], None]


@dataclass(frozen=True)
class ResolvedModel:
    path: Path | None  # None: ffmpeg, no weights
    named: NamedModel | None  # the named model it is, when it is one

    def describe(self, keep_path: bool = False) -> dict[str, Any] | None:
        if self.path is None:
            return None
        described: dict[str, Any] = {"file": str(self.path.resolve()) if keep_path else self.path.name}
        if self.named is not None:
            described.update(name=self.named.name, sha256=self.named.sha256, url=self.named.url)
        else:
            described["sha256"] = file_sha256(self.path)
        return described


# ---- checks and model resolution ---------------------------------------------------------------------------
def check_finish(request: FinishRequest, check_output: bool = True) -> None:
    """Refuse what cannot run, before anything is read or loaded (InvalidRequestError, OutputTakenError: exit 2)."""
    if not Path(request.source).is_file():
        raise InvalidRequestError(_t("The clip {path} does not exist.").format(path=request.source))
    if check_output:
        check_output_path(Path(request.output))
    check_steps(request.upscale, request.interpolate)
    if request.interpolate is not None:
        target_fps(source_fps(Path(request.source)), *request.interpolate.rate)


def source_fps(path: Path) -> Fraction:
    """A clip's frame rate without decoding it: the one its parameters record (sidecar first, then the comment
    tag), else the container's."""
    import imageio_ffmpeg

    from core.output.export import ExportInputError

    for read in (_sidecar_parameters, read_comment_tag):
        recorded = _recorded_fps(read(path))
        if recorded is not None:
            return Fraction(recorded)
    try:
        reader = imageio_ffmpeg.read_frames(str(path))
        meta = next(reader)
        reader.close()
    except (OSError, RuntimeError, StopIteration) as exc:
        raise ExportInputError(_t("{path} could not be read as a video: {error}").format(path=path, error=exc)) from exc
    return Fraction(nearest_frame_rate(float(meta.get("fps") or 24.0)))  # "23.98" from the container: 24000/1001


def _sidecar_parameters(path: Path) -> dict[str, Any] | None:
    try:
        loaded = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def _recorded_fps(parameters: dict[str, Any] | None) -> FrameRate | None:
    """The exact rate the clip's parameters record (a number, or "24000/1001"), None when they record none. A
    finished clip keeps its source's request (how it was generated), so an interpolation's own rate wins."""
    if not isinstance(parameters, dict):
        return None
    finish = parameters.get("finish")
    interpolated = finish.get("interpolate") if isinstance(finish, dict) else None
    request = parameters.get("request")
    if isinstance(interpolated, dict) and interpolated.get("fps") is not None:
        fps = interpolated["fps"]
    else:
        fps = request.get("fps") if isinstance(request, dict) else None
    if fps is None:
        return None
    try:
        return parse_frame_rate(fps)
    except ValueError:
        return None


def check_steps(upscale: UpscaleStep | None, interpolate: InterpolateStep | None) -> None:
    """The steps' own values and model files (InvalidRequestError: exit 2)."""
    if upscale is None and interpolate is None:
        raise InvalidRequestError(_t("Nothing to do: ask for an upscale, an interpolation or both."))
    if upscale is not None:
        check_scale(upscale.scale)
        if upscale.tile is not None and upscale.tile < 16:
            raise InvalidRequestError(_t("A tile must be at least 16 pixels (got {value}).").format(value=upscale.tile))
        _check_model_spec(upscale.model, "upscale")
    step = interpolate
    if step is not None:
        if step.factor is not None and step.fps is not None:
            raise InvalidRequestError(_t("Give either a factor or a frame rate to interpolate to, not both."))
        if step.factor is not None and step.factor not in (2, 4, 8):
            raise InvalidRequestError(_t("The factor must be 2, 4 or 8 (got {value}).").format(value=step.factor))
        if step.fps is not None and (not math.isfinite(step.fps) or not 0 < step.fps <= MAX_FPS):
            raise InvalidRequestError(
                _t("The frame rate must be above 0 and at most {limit} (got {value}).").format(
                    limit=MAX_FPS, value=step.fps
                )
            )
        if not 0 < step.scene_cut_percent <= 100:
            raise InvalidRequestError(_t("The scene-cut threshold must be above 0 and at most 100 percent."))
        if step.method is InterpolationMethod.FFMPEG and step.model is not None:
            raise InvalidRequestError(_t("ffmpeg's interpolation takes no model; leave out --model."))
        if step.model is not None:
            _check_model_spec(step.model, "interpolate")


def _check_model_spec(spec: str, kind: str) -> None:
    if named_model(spec, kind) is not None:
        return
    path = Path(spec).expanduser()
    if not path.is_file():
        raise InvalidRequestError(_t("The model file {path} does not exist (or give 'default').").format(path=path))


def resolve_model(
    spec: str, kind: str, allow_download: bool, progress: FinishCallback | None, cancel: CancelToken | None
) -> ResolvedModel:
    """The weights file `spec` names: a file as it is; a named model from the data folder, downloaded first when
    it is not there (and `allow_download`)."""
    named = named_model(spec, kind)
    if named is None:
        return ResolvedModel(Path(spec).expanduser(), None)
    if is_downloaded(named):
        return ResolvedModel(local_path(named), named)
    if not allow_download:
        raise InvalidRequestError(
            _t("The model {name} is not downloaded yet.").format(name=named.name), "Give --model default to get it."
        )
    report = progress or (lambda _p: None)

    def on_download(p: DownloadProgress) -> None:
        report(FinishProgress(FinishStage.DOWNLOADING, p.done_bytes, p.total_bytes))

    return ResolvedModel(download_named_model(named, progress=on_download, cancel=cancel), named)


def resolve_interpolation(
    step: InterpolateStep, allow_download: bool, progress: FinishCallback | None, cancel: CancelToken | None
) -> tuple[InterpolationMethod, ResolvedModel, str | None]:
    """The method and weights that will run, and a note when RIFE was not available and ffmpeg runs instead."""
    if step.method is InterpolationMethod.FFMPEG:
        return InterpolationMethod.FFMPEG, ResolvedModel(None, None), None
    if step.model is not None or step.method is InterpolationMethod.RIFE:
        model = resolve_model(step.model or DEFAULT, "interpolate", allow_download, progress, cancel)
        return InterpolationMethod.RIFE, model, None
    default = named_model(DEFAULT, "interpolate")
    assert default is not None
    if is_downloaded(default):
        return InterpolationMethod.RIFE, ResolvedModel(local_path(default), default), None
    note = _t(
        "RIFE's weights are not downloaded, so ffmpeg's minterpolate interpolates (softer); "
        "--model default downloads RIFE ({name})."
    ).format(name=default.name)
    return InterpolationMethod.FFMPEG, ResolvedModel(None, None), note


# ---- the job -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SourceFrames:
    frames: np.ndarray  # uint8 (n, H, W, 3)
    fps: Fraction
    parameters: dict[str, Any]


def read_source_clip(path: Path) -> SourceFrames:
    """Every frame of the clip, its frame rate (the recorded one when it has this app's parameters) and its
    parameters (sidecar first, then the comment tag)."""
    from core.output.export import read_source

    clip = read_source(Path(path))
    recorded = _recorded_fps(clip.parameters)
    fps = as_fraction(recorded if recorded is not None else clip.fps)
    return SourceFrames(clip.frames, fps, dict(clip.parameters))


def finish_clip(
    request: FinishRequest,
    progress: FinishCallback | None = None,
    cancel: CancelToken | None = None,
    reservation: OutputReservation | None = None,
) -> FinishResult:
    """Run the request's steps and publish the new clip; `reservation`: the output's names already held by the
    caller (generate --finish), else they are reserved here."""
    check_finish(request, check_output=reservation is None)
    held = reservation or reserve_outputs(Path(request.output))
    try:
        return _finish(request, held, progress or (lambda _p: None), cancel or CancelToken())
    finally:
        held.release()


def _finish(
    request: FinishRequest, reservation: OutputReservation, report: FinishCallback, cancel: CancelToken
) -> FinishResult:
    report(FinishProgress(FinishStage.READING))
    source = read_source_clip(Path(request.source))
    frames, fps = source.frames, source.fps
    count, height, width, _ = frames.shape
    link = _source_link(Path(request.source), source, request.source_kept, request.keep_paths)
    finish: dict[str, Any] = {"steps": [], "source": link}
    notes: list[str] = []
    cancel.raise_if_cancelled()

    if request.upscale is not None:
        step = request.upscale
        model = resolve_model(step.model, "upscale", request.allow_download, report, cancel)
        report(FinishProgress(FinishStage.LOADING))
        assert model.path is not None
        upscaler = load_upscaler(model.path, request.device)
        side = step.tile or tile_side(upscaler, width, height)
        frames = upscale_frames(
            frames,
            upscaler,
            step.scale,
            lambda done, total: report(FinishProgress(FinishStage.UPSCALING, done, total)),
            cancel,
            tile=side,
        )
        finish["steps"].append("upscale")
        finish["upscale"] = {
            "scale": step.scale,
            "model": model.describe(request.keep_paths),
            "network": upscaler.spec.to_dict(),
            "width": frames.shape[2],
            "height": frames.shape[1],
            "device": upscaler.device,
            "precision": "float16" if upscaler.half else "float32",
            "tile": side,
        }
        del upscaler

    if request.interpolate is not None:
        step_i = request.interpolate
        out_fps = target_fps(fps, *step_i.rate)
        timing = Timing(count, fps, out_fps)
        method, model, note = resolve_interpolation(step_i, request.allow_download, report, cancel)
        if note:
            notes.append(note)
        repeated = None

        def on_frame(done: int, total: int) -> None:
            report(FinishProgress(FinishStage.INTERPOLATING, done, total))

        if method is InterpolationMethod.RIFE:
            assert model.path is not None
            report(FinishProgress(FinishStage.LOADING))
            rife = load_rife(model.path, request.device)
            frames, repeated = interpolate_rife(frames, timing, rife, step_i.scene_cut_percent, on_frame, cancel)
            del rife
        else:
            frames = interpolate_ffmpeg(frames, timing, step_i.scene_cut_percent, on_frame, cancel)
        fps = out_fps
        finish["steps"].append("interpolate")
        finish["interpolate"] = {
            "method": method.value,
            "model": model.describe(request.keep_paths),
            "factor": step_i.rate[0],
            "fps": frame_rate_json(out_fps),  # exact: "48000/1001"
            "source_fps": frame_rate_json(timing.source_fps),
            "frames": timing.count,
            "duration_s": timing.duration_s,
            "scene_cut_percent": step_i.scene_cut_percent,
            "repeated_at_scene_cuts": repeated,
        }

    cancel.raise_if_cancelled()
    report(FinishProgress(FinishStage.SAVING))
    metadata = _metadata(shareable_parameters(source.parameters, request.keep_paths), finish)
    publish_clip(frames, reservation, parse_frame_rate(fps), metadata)  # exact: 48000/1001 stays so
    total, out_h, out_w, _ = frames.shape
    return FinishResult(
        output=reservation.video_path,
        sidecar=reservation.sidecar_path,
        frames=total,
        fps=float(fps),
        width=out_w,
        height=out_h,
        duration_s=(total - 1) / float(fps),
        notes=tuple(notes),
        metadata=metadata,
    )


def _source_link(path: Path, source: SourceFrames, kept: bool, keep_paths: bool) -> dict[str, Any]:
    count, height, width, _ = source.frames.shape
    sidecar = path.with_suffix(".json")
    where = sidecar if sidecar.is_file() else path
    parameters = str(where.resolve()) if keep_paths else where.name
    return {
        # Where the source and its parameters are; None when it was an intermediate never kept (its parameters
        # are this clip's own, above).
        "clip": (str(path.resolve()) if keep_paths else path.name) if kept else None,
        "parameters": parameters if kept else None,
        "width": width,
        "height": height,
        "frames": count,
        "fps": float(source.fps),
    }


def _metadata(parameters: dict[str, Any], finish: dict[str, Any]) -> dict[str, Any]:
    """The source's parameters (how it was made) with this finish on top; a finish of a finished clip keeps the
    earlier one under its source."""
    from core import __version__

    metadata = json.loads(json.dumps(parameters))  # a deep copy, JSON-clean
    earlier = metadata.pop("finish", None)
    if earlier is not None:
        finish["source"]["finish"] = earlier
    finish["app_version"] = __version__
    metadata["finish"] = finish
    return metadata


__all__ = [
    "FinishProgress",
    "FinishRequest",
    "FinishResult",
    "FinishStage",
    "InterpolateStep",
    "UpscaleStep",
    "check_finish",
    "check_steps",
    "finish_clip",
    "output_size",
    "resolve_interpolation",
    "resolve_model",
]
