"""An honest time left: the whole job (loading, encoding, denoising, decoding, saving) and the whole queue, not
only the denoising steps. No Qt, no torch: the window calls it on every progress signal.

Where the figures come from
- `StageCosts.from_history(records, device=…)` learns this machine's costs from its finished jobs (the history's
  `JobRecord.timings`, see StageTimings): the median of the most recent jobs on the same device, per unit of work
  so that jobs of other sizes count too —
  - decoding: seconds per latent pixel (latent frames × latent height × latent width; the VAE's work grows with
    it), kept apart per VAE mode (tiling, slicing, decoded on the CPU) when jobs with that mode exist;
  - denoising (for jobs not started yet): seconds per step per latent pixel;
  - encoding: seconds per job (the prompt's length is fixed, the clip's size does not matter);
  - saving: seconds per output pixel-frame (H.264 encoding and the check that reads the clip back);
  - loading from disk (cold start): seconds, from the jobs that did load (a job that found the model loaded
    records almost nothing), per placement and quantization when such jobs exist.
- Without history the figure comes from core/estimate.py (decoding and denoising from the card's throughput;
  loading from the weights' size over a conservative disk-and-convert rate), and where the estimator has nothing
  (encoding, saving) from conservative defaults. Each figure says which (`Figure.source`, `Figure.note`).

The running job: `job_seconds_left(stage, costs, request, step_progress, decode_progress, model_loaded)` (or
`job_time_left(...)` for the parts). Denoising uses the StepClock's ETA once steps are measured; decoding shrinks
with DecodeProgress (or is extrapolated from the decode's own elapsed time when given).

The queue: `queue_time_left(current_left_s, costs, current, waiting, seconds_per_step=…)` adds, for every waiting
job, its encoding, denoising, decoding and saving, and loading again only where its model folder or load settings
(device, dtype, placement, quantization: what core.engine.runner keys the loaded pipeline on) differ from the job before
it. core.job.progress.queue_seconds_left (denoising only) is unchanged.

Usage (the history read on a worker thread; the stage, step and decode signals give the rest):

    costs = StageCosts.from_history(store.list_jobs(limit=200), device=caps.accelerator or "cpu",
                                    gpu_name=caps.cuda_name or CALIBRATION_GPU)
    job = QueuedJob(entry.request, entry.model_dir)
    loaded = last_job is not None and last_job.load_key == job.load_key  # the job before it left the model loaded
    left = job_seconds_left(stage, costs, entry.request, last_step, last_decode, model_loaded=loaded)
    queue = queue_time_left(left, costs, job,
                            [QueuedJob(e.request, e.model_dir) for e in waiting_entries],
                            seconds_per_step=seconds_per_step)  # None before the first steps are measured
    costs.decode.source  # Source.HISTORY, ESTIMATE or DEFAULT; costs.decode.note says which jobs, or why not
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

from core.estimate import CALIBRATION_GPU, estimate_request
from core.job.progress import DecodeProgress, Stage, StepProgress
from core.job.request import (
    VAE_TEMPORAL_FACTOR,
    GenerationRequest,
    MemoryOptions,
    Placement,
    Quantization,
    StageTimings,
    snap_frames,
)
from core.store.history import JobRecord, JobStatus

RECENT_JOBS = 20  # the median of this many of the newest jobs: recent enough to follow a driver or disk change
# A job whose loading took less than this found the model loaded (only the check ran): not a cold start.
COLD_LOAD_MIN_S = 0.5
# Reading the weights from disk and converting them to the compute dtype, bytes per second: a SATA SSD's pace,
# so an NVMe machine is told a little too much, never too little (the estimator has no disk model).
LOAD_BYTES_PER_S = 400e6
# Encoding both prompts (CLIP-L, CLIP-G, T5-XXL), no history: a GPU takes about a second, a CPU tens of them.
DEFAULT_ENCODE_S = {"cpu": 30.0, "mps": 6.0, "cuda": 3.0}
# Writing the H.264 clip and reading it back: a few seconds for 768×432×125 (41 M pixel-frames) on a desktop.
DEFAULT_SAVE_S_PER_PIXEL_FRAME = 1e-7
# The reference job the estimator's per-pixel figures come from (the official demo's size).
_REFERENCE = GenerationRequest(prompt="reference")


class Source(str, Enum):
    """Where a figure came from."""

    HISTORY = "history"  # the median of this machine's finished jobs
    ESTIMATE = "estimate"  # core/estimate.py, from the hardware's numbers
    DEFAULT = "default"  # a conservative constant: neither history nor the estimator had it


@dataclass(frozen=True)
class Figure:
    value: float  # in the unit the field names (seconds, or seconds per unit of work)
    source: Source
    samples: int = 0  # how many jobs the median is of (0 unless from history)
    note: str = ""  # which jobs, or why it fell back (English, for the log and tests)


@dataclass(frozen=True)
class DecodeMode:
    """What changes the VAE decoder's pace: tiling, slicing, and decoding on the CPU (a resume option)."""

    tiling: bool = False
    slicing: bool = False
    on_cpu: bool = False

    def __str__(self) -> str:
        parts = [name for name, on in (("tiling", self.tiling), ("slicing", self.slicing)) if on]
        return ("VAE " + " and ".join(parts) if parts else "plain VAE") + (" on the CPU" if self.on_cpu else "")


LoadSettings = tuple[Placement, Quantization]


def latent_pixels(request: GenerationRequest) -> int:
    """Latent frames × latent height × latent width: what the decoder's (and a step's) work scales with."""
    latent_frames = (snap_frames(request.num_frames) - 1) // VAE_TEMPORAL_FACTOR + 1
    return max(1, latent_frames * (request.height // 8) * (request.width // 8))


def output_pixel_frames(request: GenerationRequest) -> int:
    return max(1, snap_frames(request.num_frames) * request.height * request.width)


def decode_mode(memory: MemoryOptions, on_cpu: bool = False) -> DecodeMode:
    return DecodeMode(memory.vae_tiling, memory.vae_slicing, on_cpu)


@dataclass(frozen=True)
class StageCosts:
    """This machine's cost of each stage for one device (see the module docstring for units and sources)."""

    device: str  # "cuda", "mps" or "cpu"
    encode: Figure  # seconds per job
    save: Figure  # seconds per output pixel-frame
    denoise: Figure  # seconds per step per latent pixel (jobs not started; a running job has its StepClock)
    decode: Figure  # seconds per latent pixel, over every VAE mode on the device (for a mode without its own jobs)
    load: Figure  # seconds for a cold load, over every placement and quantization
    decode_on_cpu: Figure  # seconds per latent pixel decoding on the CPU instead (a resume after running out of memory)
    decode_by_mode: dict[DecodeMode, Figure] = field(default_factory=dict)
    load_by_settings: dict[LoadSettings, Figure] = field(default_factory=dict)

    def decode_figure(self, memory: MemoryOptions, on_cpu: bool = False) -> Figure:
        """The decode figure for these VAE settings: their own jobs' when there are some, else every mode's on the
        same side (the device, or the CPU)."""
        return self.decode_by_mode.get(decode_mode(memory, on_cpu), self.decode_on_cpu if on_cpu else self.decode)

    def load_figure(self, memory: MemoryOptions) -> Figure:
        return self.load_by_settings.get((memory.placement, memory.quantization), self.load)

    def decode_s(self, request: GenerationRequest, on_cpu: bool = False) -> float:
        return self.decode_figure(request.memory, on_cpu).value * latent_pixels(request)

    def save_s(self, request: GenerationRequest) -> float:
        return self.save.value * output_pixel_frames(request)

    def denoise_s(self, request: GenerationRequest) -> float:
        return self.denoise.value * request.steps * latent_pixels(request)

    def load_s(self, request: GenerationRequest) -> float:
        return self.load_figure(request.memory).value

    @classmethod
    def from_history(
        cls,
        records: Iterable[JobRecord],
        device: str,
        *,
        gpu_name: str = CALIBRATION_GPU,
        recent: int = RECENT_JOBS,
    ) -> StageCosts:
        """Learn the costs from the history's jobs (in any order: the newest `recent` finished ones count, by
        `finished_at`). Only jobs done on `device` count; every figure without such jobs falls back to the
        estimator for `gpu_name` or a default, and says so."""
        jobs = sorted(_finished_jobs(records, device), key=lambda job: job.finished_at, reverse=True)
        fallback = _fallbacks(device, gpu_name)
        scope = f"{device} jobs"

        def learned(rows: Sequence[_Job], value: Callable[[_Job], float | None], what: str, default: Figure) -> Figure:
            values = [v for v in (value(job) for job in rows) if v is not None][:recent]
            if not values:
                return default
            return Figure(statistics.median(values), Source.HISTORY, len(values), f"median of {len(values)} {what}")

        on_device = [job for job in jobs if not job.decode_mode.on_cpu]  # the usual decode, on the device itself
        on_cpu = [job for job in jobs if job.decode_mode.on_cpu]
        cpu_fallback = fallback["decode"] if device == "cpu" else _fallbacks("cpu", gpu_name)["decode"]
        decode_by_mode: dict[DecodeMode, Figure] = {}
        for mode in {job.decode_mode for job in jobs}:
            rows = [job for job in jobs if job.decode_mode == mode]
            default = cpu_fallback if mode.on_cpu else fallback["decode"]
            decode_by_mode[mode] = learned(rows, _Job.decode_per_pixel, f"{scope} with {mode}", default)
        cold = [job for job in jobs if job.cold_load_s is not None]
        load_by_settings: dict[LoadSettings, Figure] = {}
        for settings in {job.load_settings for job in cold}:
            rows = [job for job in cold if job.load_settings == settings]
            what = f"cold loads on {device} with {settings[0].value} placement, {settings[1].value} quantization"
            load_by_settings[settings] = learned(rows, lambda job: job.cold_load_s, what, fallback["load"])
        return cls(
            device=device,
            encode=learned(jobs, _Job.encode_s, scope, fallback["encode"]),
            save=learned(jobs, _Job.save_per_pixel_frame, scope, fallback["save"]),
            denoise=learned(jobs, _Job.denoise_per_step_pixel, scope, fallback["denoise"]),
            decode=learned(on_device, _Job.decode_per_pixel, scope, fallback["decode"]),
            load=learned(cold, lambda job: job.cold_load_s, f"cold loads on {device}", fallback["load"]),
            decode_on_cpu=learned(on_cpu, _Job.decode_per_pixel, f"{scope} decoded on the CPU", cpu_fallback),
            decode_by_mode=decode_by_mode,
            load_by_settings=load_by_settings,
        )


@dataclass(frozen=True)
class _Job:
    """One finished job's timings, per unit of work."""

    request: GenerationRequest
    timings: dict[str, float]
    finished_at: float
    decode_mode: DecodeMode

    @property
    def load_settings(self) -> LoadSettings:
        return (self.request.memory.placement, self.request.memory.quantization)

    def _stage(self, name: str) -> float | None:
        value = self.timings.get(name)
        return float(value) if isinstance(value, (int, float)) and value >= 0 else None

    def decode_per_pixel(self) -> float | None:
        seconds = self._stage("decoding_s")
        return None if not seconds else seconds / latent_pixels(self.request)

    def denoise_per_step_pixel(self) -> float | None:
        seconds = self._stage("denoising_s")
        return None if not seconds else seconds / (max(1, self.request.steps) * latent_pixels(self.request))

    def encode_s(self) -> float | None:
        return self._stage("encoding_s")

    def save_per_pixel_frame(self) -> float | None:
        seconds = self._stage("saving_s")
        return None if not seconds else seconds / output_pixel_frames(self.request)

    @property
    def cold_load_s(self) -> float | None:
        seconds = self._stage("loading_s")
        return seconds if seconds is not None and seconds >= COLD_LOAD_MIN_S else None


def _finished_jobs(records: Iterable[JobRecord], device: str) -> list[_Job]:
    """The finished jobs that ran on `device`. A job decoded on the CPU after a GPU ran out of memory (a resume
    option) is recorded with device "cpu" while its request names the GPU: it counts for that GPU, with its
    decode in the on-CPU mode. A request for "auto" recorded as "cpu" is a machine without an accelerator."""
    jobs: list[_Job] = []
    for record in records:
        ran_on = record.device
        if record.status is not JobStatus.DONE or not record.timings or not ran_on:
            continue
        if record.request.finish is not None:  # a finish job's time is not a generation's (core/finish/job.py)
            continue
        asked = record.request.memory.device
        on_cpu = ran_on == "cpu" and asked in ("cuda", "mps")
        if (asked if on_cpu else ran_on) != device:
            continue
        finished = record.finished_at or record.created_at
        jobs.append(_Job(record.request, dict(record.timings), finished, decode_mode(record.request.memory, on_cpu)))
    return jobs


def _fallbacks(device: str, gpu_name: str) -> dict[str, Figure]:
    """What the estimator says for the reference job on `device`, per unit of work, and the defaults."""
    reference = GenerationRequest(prompt=_REFERENCE.prompt, memory=MemoryOptions(device=device))
    estimate = estimate_request(reference, gpu_name=gpu_name, device=device)
    steps_s = estimate.s_per_step * reference.steps
    pixels = latent_pixels(reference)
    card = "this CPU" if device == "cpu" else gpu_name
    # The estimator's total is steps + decoding + per-job transfers; in the default placement there are none.
    decode_s = max(0.0, estimate.total_s - steps_s)
    encode = DEFAULT_ENCODE_S.get(device, DEFAULT_ENCODE_S["cuda"])
    return {
        "decode": Figure(decode_s / pixels, Source.ESTIMATE, note=f"no {device} jobs yet: estimated for {card}"),
        "denoise": Figure(
            estimate.s_per_step / pixels, Source.ESTIMATE, note=f"no {device} jobs yet: estimated for {card}"
        ),
        "load": Figure(
            estimate.weights_bytes / LOAD_BYTES_PER_S,
            Source.ESTIMATE,
            note=f"no cold load on {device} yet: the weights' size at {LOAD_BYTES_PER_S / 1e6:.0f} MB/s",
        ),
        "encode": Figure(encode, Source.DEFAULT, note=f"no {device} jobs yet: a default"),
        "save": Figure(DEFAULT_SAVE_S_PER_PIXEL_FRAME, Source.DEFAULT, note=f"no {device} jobs yet: a default"),
    }


# ---- the running job ------------------------------------------------------------------------------------------
# The five stages as seconds still to come (0 for stages already behind the job): the shape a finished job's
# timings have, so one type serves both.
TimeLeft = StageTimings


_ORDER = (Stage.LOADING, Stage.ENCODING, Stage.DENOISING, Stage.DECODING, Stage.SAVING)


def job_time_left(
    stage: Stage | None,
    costs: StageCosts,
    request: GenerationRequest,
    step_progress: StepProgress | None,
    decode_progress: DecodeProgress | None,
    model_loaded: bool,
    *,
    stage_elapsed_s: float = 0.0,
    decode_elapsed_s: float | None = None,
    decode_on_cpu: bool = False,
) -> TimeLeft:
    """The time left in each stage of the running job. `stage` is the stage it is in (None: not started yet);
    `stage_elapsed_s`, the time spent in it so far, is taken off a predicted loading or encoding (never below 0);
    `decode_elapsed_s`, when given with some decode progress, extrapolates the decode from its own pace."""
    position = _ORDER.index(stage) if stage is not None else -1
    ahead = {s: _ORDER.index(s) > position for s in _ORDER}
    current = {s: s == stage for s in _ORDER}
    elapsed = max(0.0, stage_elapsed_s)

    loading = 0.0
    if not model_loaded and (ahead[Stage.LOADING] or current[Stage.LOADING]):
        loading = costs.load_s(request)
        if current[Stage.LOADING]:
            loading = max(0.0, loading - elapsed)
    encoding = 0.0
    if ahead[Stage.ENCODING] or current[Stage.ENCODING]:
        encoding = costs.encode.value
        if current[Stage.ENCODING]:
            encoding = max(0.0, encoding - elapsed)
    denoising = 0.0
    if current[Stage.DENOISING] and step_progress is not None:
        denoising = max(0.0, step_progress.eta_s)  # measured: the StepClock's own ETA
    elif ahead[Stage.DENOISING] or current[Stage.DENOISING]:
        denoising = costs.denoise_s(request)
    decoding = 0.0
    if ahead[Stage.DECODING]:
        decoding = costs.decode_s(request, decode_on_cpu)
    elif current[Stage.DECODING]:
        predicted = costs.decode_s(request, decode_on_cpu)
        if decode_progress is None:
            decoding = predicted
        elif decode_elapsed_s is not None and decode_progress.done > 0:
            decoding = decode_elapsed_s / decode_progress.done * max(0, decode_progress.total - decode_progress.done)
        else:
            decoding = predicted * (1.0 - min(1.0, max(0.0, decode_progress.fraction)))
    saving = 0.0
    if ahead[Stage.SAVING] or current[Stage.SAVING]:
        saving = costs.save_s(request)
        if current[Stage.SAVING]:
            saving = max(0.0, saving - elapsed)
    return TimeLeft(loading, encoding, denoising, decoding, saving)


def job_seconds_left(
    stage: Stage | None,
    costs: StageCosts,
    request: GenerationRequest,
    step_progress: StepProgress | None,
    decode_progress: DecodeProgress | None,
    model_loaded: bool,
    *,
    stage_elapsed_s: float = 0.0,
    decode_elapsed_s: float | None = None,
    decode_on_cpu: bool = False,
) -> float:
    """Seconds left for the running job, loading, encoding, decoding and saving included (see job_time_left)."""
    return job_time_left(
        stage,
        costs,
        request,
        step_progress,
        decode_progress,
        model_loaded,
        stage_elapsed_s=stage_elapsed_s,
        decode_elapsed_s=decode_elapsed_s,
        decode_on_cpu=decode_on_cpu,
    ).total_s


# ---- the queue ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QueuedJob:
    """A job in the queue as far as its time goes: the request and the model folder it runs with."""

    request: GenerationRequest
    model_dir: str = ""

    @property
    def load_key(self) -> tuple[str, str, str, Placement, Quantization]:
        """What core.engine.runner keys the loaded pipeline on: the same key means no loading between two jobs."""
        memory = self.request.memory
        return (self.model_dir, memory.device, memory.dtype, memory.placement, memory.quantization)


def waiting_job_seconds(
    costs: StageCosts, job: QueuedJob, previous: QueuedJob | None, seconds_per_step_pixel: float | None = None
) -> float:
    """One waiting job from start to saved clip; it loads the model only where the job before it ran with another
    model folder or load settings."""
    request = job.request
    load = costs.load_s(request) if previous is None or previous.load_key != job.load_key else 0.0
    per_step_pixel = seconds_per_step_pixel if seconds_per_step_pixel is not None else costs.denoise.value
    denoise = per_step_pixel * request.steps * latent_pixels(request)
    return load + costs.encode.value + denoise + costs.decode_s(request) + costs.save_s(request)


def queue_time_left(
    current_left_s: float,
    costs: StageCosts,
    current: QueuedJob | None,
    waiting: Sequence[QueuedJob],
    seconds_per_step: float | None = None,
) -> float:
    """Seconds until the running job (`current_left_s`, from job_seconds_left) and every waiting job are done.

    `current` is the running job, or with none running the job whose model is still loaded (None: nothing is
    loaded, so the first waiting job loads). `seconds_per_step`, the running job's measured pace, is scaled to each
    waiting job by its latent pixels, as core.job.progress.queue_seconds_left does; without it (or without a running
    job to scale from) the learned figure is used."""
    per_step_pixel = None
    if seconds_per_step is not None and current is not None:
        per_step_pixel = seconds_per_step / latent_pixels(current.request)
    total = max(0.0, current_left_s)
    previous = current
    for job in waiting:
        total += waiting_job_seconds(costs, job, previous, per_step_pixel)
        previous = job
    return total
