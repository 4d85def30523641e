"""A finish job as the window's queue runs it: the request (`GenerationRequest.finish`, `finish_source`) to
core/finish/clip.py's `finish_clip`, and the result back as a `GenerationResult`, so the history records it like
any clip. Also the time it will take, before it runs: output megapixel-frames × seconds per megapixel-frame, the
median of past finish jobs of the same kind on the same device when the history has some, else a deliberately
slow default (it says which).

A finish job's timings: `loading_s` reading the clip and loading (or downloading) the networks, `saving_s` the
frames' work and writing the clip. The generation time estimates leave finish jobs out (core/job/time_left.py).
"""

from __future__ import annotations

import dataclasses
import shutil
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.finish.clip import FinishCallback, FinishProgress, FinishRequest, FinishResult, FinishStage, finish_clip
from core.finish.spec import FinishSpec
from core.job.progress import CancelToken
from core.job.request import GenerationRequest, GenerationResult, StageTimings
from core.store.history import JobRecord, JobStatus

WORK_STAGES = (FinishStage.UPSCALING, FinishStage.INTERPOLATING, FinishStage.SAVING)
# Seconds per output megapixel-frame when no past finish job says better: on the slow side on purpose (an
# estimate that ends early disappoints less than one that runs over). Keys: (upscales, interpolates, on a GPU).
DEFAULT_SECONDS_PER_MPX = {
    (True, False, False): 8.0,
    (True, False, True): 0.5,
    (False, True, False): 1.0,
    (False, True, True): 0.2,
    (True, True, False): 8.0,
    (True, True, True): 0.5,
}


def finish_device(request: GenerationRequest) -> str:
    """core.finish's device for the job's memory options: cuda or cpu as asked, else auto."""
    device = request.memory.device
    return device if device in ("cuda", "cpu") else "auto"


class _Timer:
    """Wraps a progress callback: when the frames' work began."""

    def __init__(self, report: FinishCallback) -> None:
        self.report = report
        self.started = time.perf_counter()
        self.work_started: float | None = None

    def __call__(self, p: FinishProgress) -> None:
        if self.work_started is None and p.stage in WORK_STAGES:
            self.work_started = time.perf_counter()
        self.report(p)

    def timings(self) -> StageTimings:
        end = time.perf_counter()
        work = self.work_started or end
        return StageTimings(loading_s=work - self.started, saving_s=end - work)


def finish_existing(
    request: GenerationRequest,
    output: Path,
    progress: FinishCallback,
    cancel: CancelToken,
    keep_paths: bool = False,
) -> GenerationResult:
    """Finish the clip `request.finish_source` into `output` (nothing is left under its names on a cancel or a
    failure)."""
    assert request.finish is not None and request.finish_source is not None
    upscale, interpolate = request.finish.steps()
    timer = _Timer(progress)
    result = finish_clip(
        FinishRequest(
            Path(request.finish_source),
            output,
            upscale,
            interpolate,
            finish_device(request),
            keep_paths=keep_paths,
        ),
        timer,
        cancel,
    )
    return _as_generation(request, result, timer.timings(), ())


def generate_then_finish(
    request: GenerationRequest,
    output: Path,
    generate: Callable[[Path], GenerationResult],
    progress: FinishCallback,
    cancel: CancelToken,
    keep_paths: bool = False,
) -> GenerationResult:
    """Generate into a private folder beside `output` (`generate(path)`), finish that clip into `output`, and remove
    the folder: as `generate --finish` does (core/cli_finish.py), the output's names are held from the start."""
    from core.output.video import reserve_outputs, temp_name

    assert request.finish is not None
    upscale, interpolate = request.finish.steps()
    reservation = reserve_outputs(output)
    folder = output.with_name(temp_name(output.stem, reservation.token, "frames"))
    try:
        folder.mkdir()
        generated = generate(folder / "generated.mp4")
        timer = _Timer(progress)
        finished = finish_clip(
            FinishRequest(
                generated.video_path,
                output,
                upscale,
                interpolate,
                finish_device(request),
                source_kept=False,
                keep_paths=keep_paths,
            ),
            timer,
            cancel,
            reservation=reservation,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        reservation.release()
    spent = timer.timings().total_s
    timings = dataclasses.replace(generated.timings, saving_s=generated.timings.saving_s + spent)
    result = _as_generation(generated.request, finished, timings, generated.notes)
    return dataclasses.replace(result, peak_vram_bytes=generated.peak_vram_bytes, device=generated.device)


def _as_generation(
    request: GenerationRequest, result: FinishResult, timings: StageTimings, notes: tuple[str, ...]
) -> GenerationResult:
    ran = result.metadata.get("finish", {})
    device = (ran.get("upscale") or {}).get("device") or "cpu"
    return GenerationResult(
        request=request,
        video_path=result.output,
        sidecar_path=result.sidecar,
        frames_dir=None,
        num_frames=result.frames,
        timings=timings,
        peak_vram_bytes=None,
        device=str(device),
        notes=notes + result.notes,
    )


# ---- how long it will take ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClipShape:
    frames: int
    width: int
    height: int
    fps: float


def clip_shape(path: Path) -> ClipShape:
    """A clip's frame count, size and rate (the container's) without decoding it (ffmpeg counts the packets)."""
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(path))
    try:
        meta = next(reader)
    finally:
        reader.close()
    frames, _seconds = imageio_ffmpeg.count_frames_and_secs(str(path))
    meta_any: Any = meta  # imageio_ffmpeg's first item: the metadata dictionary
    width, height = meta_any["size"]
    return ClipShape(int(frames or 0), int(width), int(height), float(meta_any.get("fps") or 24.0))


def output_megapixel_frames(spec: FinishSpec, source: ClipShape) -> float:
    """The work a finish does, in output megapixels × frames."""
    scale = spec.upscale or 1.0
    frames = source.frames
    if spec.interpolates:
        rate = spec.fps / source.fps if spec.fps else float(spec.factor or 2)
        frames = round((source.frames - 1) * rate) + 1
    return frames * source.width * scale * source.height * scale / 1e6


@dataclass(frozen=True)
class FinishEstimate:
    seconds: float
    learned_from: int  # past finish jobs the rate is the median of; 0: the default


def _kind(spec: FinishSpec, on_gpu: bool) -> tuple[bool, bool, bool]:
    return (spec.upscales, spec.interpolates, on_gpu)


def estimate_finish(
    spec: FinishSpec, source: ClipShape, records: Iterable[JobRecord], on_gpu: bool, recent: int = 20
) -> FinishEstimate:
    """Seconds for the frames' work (and saving) of a finish of `source`: the median rate of the newest `recent`
    finished finish-only jobs of the same kind on the same kind of device, else the default."""
    rates: list[float] = []
    for record in records:
        request = record.request
        if record.status is not JobStatus.DONE or not request.finishes_only or request.finish is None:
            continue
        if _kind(request.finish, record.device == "cuda") != _kind(spec, on_gpu) or not record.timings:
            continue
        work_s = float(record.timings.get("saving_s", 0.0))
        shape = _recorded_output(record)
        if shape is None or work_s <= 0:
            continue
        rates.append(work_s / shape)
        if len(rates) >= recent:
            break
    if rates:
        return FinishEstimate(statistics.median(rates) * output_megapixel_frames(spec, source), len(rates))
    return FinishEstimate(DEFAULT_SECONDS_PER_MPX[_kind(spec, on_gpu)] * output_megapixel_frames(spec, source), 0)


def _recorded_output(record: JobRecord) -> float | None:
    """A past finish job's output megapixel-frames, from its clip's sidecar (its size and frame count)."""
    import json

    video = record.video
    if video is None or not record.frames_generated:
        return None
    try:
        finish = json.loads(video.with_suffix(".json").read_text(encoding="utf-8")).get("finish") or {}
    except (OSError, ValueError, AttributeError):
        return None
    source = finish.get("source") or {}
    upscaled = finish.get("upscale") or {}
    width = upscaled.get("width") or source.get("width")
    height = upscaled.get("height") or source.get("height")
    if not width or not height:
        return None
    return record.frames_generated * width * height / 1e6
