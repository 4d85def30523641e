"""Applying the user's memory options to a loaded pipeline.

Placement (where weights live) and quantization are fixed when the model is loaded; VAE slicing, VAE tiling and
attention slicing are switches that can change between jobs without a reload.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import torch

from core.attention import disable_attention_slicing, enable_attention_slicing
from core.pipeline import ContentVPipeline
from core.quantize import T5_QUANT_PREFIXES, TRANSFORMER_QUANT_PREFIXES, quantize_linears
from core.request import MemoryOptions, Placement, Quantization

logger = logging.getLogger(__name__)


QUANTIZED_COMPONENTS = {"transformer": TRANSFORMER_QUANT_PREFIXES, "text_encoder_3": T5_QUANT_PREFIXES}
TEXT_ENCODER_NAMES = ("text_encoder", "text_encoder_2", "text_encoder_3")


def component_preparer(
    kind: Quantization,
    compute_dtype: torch.dtype,
    placement: Placement,
    device: str,
    text_encoders_off_gpu: bool,
) -> Callable[[str, torch.nn.Module], torch.nn.Module]:
    """What happens to each model as soon as it is loaded: quantization (on the CPU), then, when everything is to
    live on the GPU, the move there — one component at a time, so host RAM never holds the whole model."""

    def prepare(name: str, module: torch.nn.Module) -> torch.nn.Module:
        prefixes = QUANTIZED_COMPONENTS.get(name)
        if prefixes is not None and kind is not Quantization.NONE:
            quantize_linears(module, kind, compute_dtype, prefixes)
        stays_on_cpu = text_encoders_off_gpu and name in TEXT_ENCODER_NAMES
        if placement is Placement.GPU and not stays_on_cpu:
            module.to(device)
        return module

    return prepare


def apply_placement(pipe: ContentVPipeline, placement: Placement, device: str) -> None:
    """Set up the offload modes, once per load. (All-on-GPU needs nothing here: component_preparer already
    moved each model as it was loaded.)"""
    target = torch.device(device)
    if placement is Placement.GPU:
        pass
    elif placement is Placement.MODEL:
        # Whole components take turns on the GPU: peak is the largest one (the transformer) plus activations.
        pipe.enable_model_cpu_offload(device=target)
    elif placement is Placement.SEQUENTIAL:
        # Every leaf module is moved in right before it runs: lowest VRAM, much slower.
        pipe.enable_sequential_cpu_offload(device=target)
    elif placement is Placement.STREAMED:
        # Transformer and T5 blocks live in pinned RAM; each block is copied in on a side CUDA stream while the
        # previous one computes, so the GPU holds about two blocks of weights at a time.
        for module in (pipe.transformer, pipe.text_encoder_3):
            _group_offload(module, target)
        for module in (pipe.text_encoder, pipe.text_encoder_2, pipe.vae):
            module.to(target)
    else:  # pragma: no cover - Placement is closed
        raise ValueError(placement)


def _group_offload(module: torch.nn.Module, device: torch.device) -> None:
    from diffusers.hooks import apply_group_offloading

    apply_group_offloading(
        module,
        onload_device=device,
        offload_device=torch.device("cpu"),
        offload_type="block_level",
        num_blocks_per_group=1,
        use_stream=True,
    )


def apply_runtime_options(pipe: ContentVPipeline, options: MemoryOptions) -> None:
    """Switches that can change from one job to the next on an already loaded pipeline."""
    if options.vae_slicing:
        pipe.vae.enable_slicing()
    else:
        pipe.vae.disable_slicing()
    if options.vae_tiling:
        pipe.vae.enable_tiling()
    else:
        pipe.vae.disable_tiling()
    if options.attention_slicing:
        enable_attention_slicing(pipe.transformer)
    else:
        disable_attention_slicing(pipe.transformer)



def text_encoders_movable(placement: Placement) -> bool:
    """Only the all-on-GPU placement leaves the text encoders' residency to us; the offload modes manage it."""
    return placement is Placement.GPU


def move_text_encoders(pipe: ContentVPipeline, device: str) -> None:
    for name in TEXT_ENCODER_NAMES:
        getattr(pipe, name).to(device)
    if device == "cpu" and torch.cuda.is_available():
        torch.cuda.empty_cache()
