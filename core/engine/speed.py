"""A job's speed settings applied to a loaded pipeline, and what they did (for the result and the clip's metadata).

`JobSpeed` is entered around the denoising stage: it routes attention to the chosen kernel, (un)compiles the
repeated blocks, installs the step cache, records a MagCache calibration during an uncached job that has none
yet, and afterwards reports the kernel, the cache method, the guidance batching and the compile time. It always
removes the step cache again, so a cache's state never reaches the next job or the official-algorithm baseline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.engine.attention import (
    attention_backend_in_use,
    auto_attention_notes,
    detect_attention_environment,
    resolve_attention_backend,
    set_attention_backend,
)
from core.engine.compile import compile_seconds, set_block_compilation
from core.engine.step_cache import (
    MIN_CALIBRATION_STEPS,
    MagCalibrationRecorder,
    apply_step_cache,
    first_block_skips,
    load_calibration,
    plan_step_cache,
    remove_step_cache,
    save_calibration,
)
from core.i18n import _t
from core.job.request import GenerationRequest, GuidanceBatching, StepCache
from core.parallel.sequence_split import sequence_split_enabled

# AUTO's measured choice per (device, dtype, latent shape), kept for the process: measured once, reused.
_MEASURED_BATCHING: dict[tuple[str, str, tuple[int, ...]], GuidanceBatching] = {}


@dataclass
class SpeedReport:
    attention_backend: str = ""
    step_cache: str = "off"  # the level asked for
    step_cache_method: str = "none"
    guidance_batching: str = GuidanceBatching.SEQUENTIAL.value  # what ran
    compiled: bool = False
    compile_s: float | None = None
    notes: list[str] = field(default_factory=list)
    # The steps (1 = the job's first) at which the First-Block cache reused the cached blocks, per guidance branch
    # ("cond", "uncond"; only the branch this process ran under a guidance split). Under a sequence split every
    # rank's must be the same.
    skipped_steps: dict[str, list[int]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "attention_backend": self.attention_backend,
            "step_cache": self.step_cache,
            "step_cache_method": self.step_cache_method,
            "guidance_batching": self.guidance_batching,
            "compiled": self.compiled,
        }
        if self.compile_s is not None:
            data["compile_s"] = round(self.compile_s, 2)
        return data


def check_attention_request(request: GenerationRequest, device: str, dtype_name: str) -> str:
    """The kernel the job will use; raises DeviceUnavailableError for a forced kernel that cannot run here."""
    return resolve_attention_backend(request.speed.attention_backend, detect_attention_environment(device, dtype_name))


def remembered_batching(device: str, dtype_name: str, shape: tuple[int, ...]) -> GuidanceBatching | None:
    return _MEASURED_BATCHING.get((device, dtype_name, tuple(shape)))


def remember_batching(device: str, dtype_name: str, shape: tuple[int, ...], choice: GuidanceBatching) -> None:
    _MEASURED_BATCHING[(device, dtype_name, tuple(shape))] = choice


class JobSpeed:
    """Context manager around one denoising stage."""

    def __init__(
        self,
        pipe: Any,
        model_dir: str | Path,
        request: GenerationRequest,
        device: str,
        dtype_name: str,
        resumed_plan: dict[str, Any] | None = None,
        record_calibration: bool = True,
        agree_over: Any = None,
        start_step: int = 0,
    ):
        """`resumed_plan`: `self.plan_record()` of the interrupted job being resumed; its step cache is rebuilt as it
        was (a calibration recorded since must not change the method mid-job), and no calibration is recorded.
        A job split over ranks records none either (`record_calibration=False`: its ranks each see a branch or a
        shard), and under a sequence split the step cache reduces its measured change over `agree_over` (the
        sequence group) so every rank skips the same steps. `start_step`: the steps already done before this
        denoising stage (a resumed job), so `report.skipped_steps` counts from the job's first step."""
        self.resumed_plan = resumed_plan
        self.record_calibration = record_calibration
        self.agree_over = agree_over
        self.start_step = start_step
        self.mag_ratios: list[float] | None = None
        self.pipe = pipe
        self.model_dir = model_dir
        self.request = request
        self.device = device
        self.dtype_name = dtype_name
        self.report = SpeedReport(step_cache=request.speed.step_cache.value)
        self._recorder: MagCalibrationRecorder | None = None
        self.completed = False  # set by the caller when every step ran

    def __enter__(self) -> JobSpeed:
        transformer = self.pipe.transformer
        speed = self.request.speed
        env = detect_attention_environment(self.device, self.dtype_name)
        backend = resolve_attention_backend(speed.attention_backend, env)
        set_attention_backend(transformer, backend, strict=speed.attention_backend != "auto")
        # Under a sequence split the kernel is the one the split can run (core/parallel/sequence_split.py), which may
        # differ from the one asked for: report the one that runs.
        self.report.attention_backend = (
            attention_backend_in_use(transformer) if sequence_split_enabled(transformer) else backend
        )
        if speed.attention_backend == "auto":
            self.report.notes.extend(auto_attention_notes(env))  # an installed kernel too old for diffusers
        set_block_compilation(transformer, speed.compile)
        self.report.compiled = speed.compile

        if self.resumed_plan is not None:
            saved = self.resumed_plan.get("mag_ratios")
            ratios = [float(r) for r in saved] if saved is not None else None
        else:
            ratios = load_calibration(self.model_dir)
        plan = plan_step_cache(speed.step_cache, self.request.steps, ratios)
        self.mag_ratios = ratios if plan.method == "mag-cache" else None
        if self.agree_over is not None:
            apply_step_cache(transformer, plan, agree_over=self.agree_over)  # every rank skips the same steps
        else:
            apply_step_cache(transformer, plan)
        self.report.step_cache_method = plan.method
        if plan.method in ("first-block", "taylorseer"):
            self.report.notes.append(
                _t(
                    "Step cache '{level}' used {method}: this model has no MagCache calibration yet (the next job "
                    "with the step cache off records one)."
                ).format(level=speed.step_cache.value, method=plan.method)
            )
        # Calibrate on uncached jobs until one long enough has run: MagCache interpolates the ratios to any step
        # count, and more measured steps interpolate better.
        steps = self.request.steps
        calibrate = speed.step_cache is StepCache.OFF and self.resumed_plan is None  # a resumed job misses steps
        calibrate = calibrate and self.record_calibration
        if calibrate and steps >= MIN_CALIBRATION_STEPS and len(ratios or ()) < steps:
            self._recorder = MagCalibrationRecorder(transformer, lambda: self.pipe.active_branch)
        return self

    def plan_record(self) -> dict[str, Any]:
        """What a journal keeps to rebuild this job's step cache exactly on resume."""
        return {"method": self.report.step_cache_method, "mag_ratios": self.mag_ratios}

    def __exit__(self, *exc: object) -> None:
        skipped = first_block_skips(self.pipe.transformer)
        self.report.skipped_steps = {
            branch: [self.start_step + call for call in calls] for branch, calls in skipped.items()
        }
        remove_step_cache(self.pipe.transformer)
        if self._recorder is not None:
            recorder, self._recorder = self._recorder, None
            recorder.close()
            if self.completed and len(recorder.ratios) == self.request.steps:
                saved = save_calibration(self.model_dir, recorder.ratios, self.request.steps)
                if saved is not None:
                    self.report.notes.append(
                        _t("Recorded this model's MagCache calibration ({path}).").format(path=saved)
                    )
        self.report.guidance_batching = self.pipe.guidance_batching_used.value
        if self.request.speed.compile:
            self.report.compile_s = compile_seconds(list(self.pipe.step_seconds))
