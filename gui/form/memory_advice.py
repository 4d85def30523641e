"""Memory advice for the window, as plain functions the panel calls (no widgets here).

Before a job: whether it will fit on the GPU and how long it will take (the estimator in core/estimate.py against
the free memory NVML reports), and the fastest settings that fit. After running out of memory: the next rung of
the ladder in core.engine.runner.OOM_ADVICE (model CPU offload and VAE tiling, then 8-bit weights, then attention
slicing, then streamed or sequential offload), skipping what this machine cannot use."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication

from core.estimate import SAFETY_MARGIN_BYTES, JobShape, Recommendation, estimate, options_from_memory, recommend
from core.job.request import GuidanceBatching, MemoryOptions, Placement, Quantization, SpeedOptions
from gui.support.i18n import QT_TRANSLATE_NOOP
from gui.support.system_monitor import GpuSample, SystemSample

# Translated where they are put into words (describe_changes).
PLACEMENT_NAMES = {
    Placement.GPU: QT_TRANSLATE_NOOP("memory_advice", "all on GPU"),
    Placement.MODEL: QT_TRANSLATE_NOOP("memory_advice", "model CPU offload"),
    Placement.SEQUENTIAL: QT_TRANSLATE_NOOP("memory_advice", "sequential CPU offload"),
    Placement.STREAMED: QT_TRANSLATE_NOOP("memory_advice", "streamed offload"),
}


def lower_memory_options(
    current: MemoryOptions, unavailable: dict[str, str] | None = None
) -> tuple[MemoryOptions, list[str]] | None:
    """The next lower-memory settings and the changes in words, or None when nothing is left to lower.

    `unavailable`: core.engine.devices.unavailable_reasons() — placements this machine cannot use."""
    unavailable = unavailable or {}

    def usable(p: Placement) -> bool:
        return p.value not in unavailable

    rungs: list[dict[str, object]] = []
    first: dict[str, object] = {}
    if current.placement is Placement.GPU and usable(Placement.MODEL):
        first["placement"] = Placement.MODEL
    if not current.vae_tiling:
        first["vae_tiling"] = True
    if not current.vae_slicing:
        first["vae_slicing"] = True
    rungs.append(first)
    if current.quantization is Quantization.NONE:
        rungs.append({"quantization": Quantization.INT8})
    if not current.attention_slicing:
        rungs.append({"attention_slicing": True})
    if current.placement in (Placement.GPU, Placement.MODEL):
        if usable(Placement.STREAMED):
            rungs.append({"placement": Placement.STREAMED})
        elif usable(Placement.SEQUENTIAL):
            rungs.append({"placement": Placement.SEQUENTIAL})

    for rung in rungs:
        if rung:
            changed = dataclasses.replace(current, **rung)  # type: ignore[arg-type]
            return changed, describe_changes(current, changed)
    return None


def describe_changes(old: MemoryOptions, new: MemoryOptions) -> list[str]:
    changes: list[str] = []
    if new.placement is not old.placement:
        changes.append(QCoreApplication.translate("memory_advice", PLACEMENT_NAMES[new.placement]))
    if new.vae_tiling and not old.vae_tiling:
        changes.append(QCoreApplication.translate("memory_advice", "VAE tiling"))
    if new.vae_slicing and not old.vae_slicing:
        changes.append(QCoreApplication.translate("memory_advice", "VAE slicing"))
    if new.quantization is not old.quantization:
        changes.append(
            QCoreApplication.translate("memory_advice", "{quantization} weights").format(
                quantization=new.quantization.value
            )
        )
    if new.attention_slicing and not old.attention_slicing:
        changes.append(QCoreApplication.translate("memory_advice", "attention slicing"))
    if new.text_encoders_off_gpu and not old.text_encoders_off_gpu:
        changes.append(QCoreApplication.translate("memory_advice", "text encoders off the GPU after encoding"))
    return changes


# ---- before a job: will it fit, how long will it take (issue 8, item 6) -------------------------------------------
@dataclass(frozen=True)
class JobAdvice:
    """The estimator's answer for the job in the form, against what the GPU has free now."""

    fits: bool | None  # None: no GPU reading to compare with (a CPU-only machine, no NVIDIA driver)
    peak_bytes: int
    peak_stage: str  # "encoding", "denoising" or "decoding"
    free_bytes: int | None
    total_s: float
    s_per_step: float
    on_cpu: bool


def gpu_free_bytes(gpu: GpuSample | None) -> int | None:
    if gpu is None or gpu.total_bytes <= 0:
        return None
    # What this app holds (a model loaded by an earlier job) is freed or reused by the next one.
    return max(0, gpu.total_bytes - gpu.used_bytes + gpu.own_bytes)


def host_ram_available(sample: SystemSample | None) -> int:
    """RAM the job may use: what is free now, or (with no reading) an unlimited amount."""
    if sample is None or sample.ram_total_bytes <= 0:
        return 1 << 62
    return max(0, sample.ram_total_bytes - sample.ram_used_bytes)


def _gpu_name(capabilities: object, sample: SystemSample | None) -> str:
    if sample is not None and sample.gpu is not None and sample.gpu.name:
        return sample.gpu.name
    return str(getattr(capabilities, "cuda_name", "") or "")


def speed_estimate_options(speed: SpeedOptions | None, calibrated: bool = False) -> dict[str, Any]:
    """The speed options where the estimator needs them: batched guidance holds two samples' activations, a
    step cache skips a share of the transformer's work (more with a MagCache calibration), and the math kernel
    materialises the attention scores. AUTO batching is estimated as sequential, the engine's safe default."""
    speed = speed or SpeedOptions()
    return {
        "guidance_batched": speed.guidance_batching is GuidanceBatching.BATCHED,
        "step_cache": speed.step_cache,
        "step_cache_calibrated": calibrated,
        "fused_attention": speed.attention_backend != "math",
    }


def advise(
    shape: JobShape,
    memory: MemoryOptions,
    capabilities: object,
    sample: SystemSample | None,
    speed: SpeedOptions | None = None,
    calibrated: bool = False,
) -> JobAdvice:
    """Estimate the job as the form stands: peak GPU memory against the free memory NVML reports, and time."""
    accelerator = getattr(capabilities, "accelerator", None)
    on_cpu = memory.device == "cpu" or (memory.device == "auto" and accelerator is None)
    device = "cpu" if on_cpu else ("mps" if accelerator == "mps" and memory.device != "cuda" else "cuda")
    bf16 = bool(getattr(capabilities, "bf16", True))
    dtype = memory.dtype if memory.dtype != "auto" else ("float32" if on_cpu else "bfloat16" if bf16 else "float16")
    options = options_from_memory(
        dataclasses.replace(memory, device=device, dtype=dtype),
        gpu_name=_gpu_name(capabilities, sample),
        **speed_estimate_options(speed, calibrated),  # type: ignore[arg-type]
    )
    result = estimate(shape, options)
    free = None if on_cpu else gpu_free_bytes(sample.gpu if sample is not None else None)
    fits = None if free is None else result.peak_bytes + SAFETY_MARGIN_BYTES <= free
    if on_cpu:
        peak = result.host_ram_bytes
        fits = peak <= host_ram_available(sample) if sample is not None else None
    else:
        peak = result.peak_bytes
    return JobAdvice(fits, peak, result.peak_stage, free, result.total_s, result.s_per_step, on_cpu)


def recommend_options(
    shape: JobShape,
    current: MemoryOptions,
    capabilities: object,
    sample: SystemSample | None,
    speed: SpeedOptions | None = None,
    calibrated: bool = False,
) -> Recommendation | None:
    """The fastest settings predicted to fit this GPU's free memory; None without a GPU reading. The device and
    precision the user chose are kept."""
    free = gpu_free_bytes(sample.gpu if sample is not None else None)
    if free is None or getattr(capabilities, "accelerator", None) is None:
        return None
    kept = speed_estimate_options(speed, calibrated)
    found = recommend(shape, free, host_ram_available(sample), capabilities, **kept)
    chosen = dataclasses.replace(found.options, device=current.device, dtype=current.dtype)
    return Recommendation(chosen, found.estimate, found.fits)
