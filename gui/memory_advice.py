"""What to try after running out of memory: the next rung of the ladder in core.engine.OOM_ADVICE (model CPU
offload and VAE tiling, then 8-bit weights, then attention slicing, then streamed or sequential offload),
skipping what this machine cannot use."""

from __future__ import annotations

import dataclasses

from core.request import MemoryOptions, Placement, Quantization

PLACEMENT_NAMES = {
    Placement.GPU: "all on GPU",
    Placement.MODEL: "model CPU offload",
    Placement.SEQUENTIAL: "sequential CPU offload",
    Placement.STREAMED: "streamed offload",
}


def lower_memory_options(
    current: MemoryOptions, unavailable: dict[str, str] | None = None
) -> tuple[MemoryOptions, list[str]] | None:
    """The next lower-memory settings and the changes in words, or None when nothing is left to lower.

    `unavailable`: core.devices.unavailable_reasons() — placements this machine cannot use."""
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
        changes.append(PLACEMENT_NAMES[new.placement])
    if new.vae_tiling and not old.vae_tiling:
        changes.append("VAE tiling")
    if new.vae_slicing and not old.vae_slicing:
        changes.append("VAE slicing")
    if new.quantization is not old.quantization:
        changes.append(f"{new.quantization.value} weights")
    if new.attention_slicing and not old.attention_slicing:
        changes.append("attention slicing")
    if new.text_encoders_off_gpu and not old.text_encoders_off_gpu:
        changes.append("text encoders off the GPU after encoding")
    return changes
