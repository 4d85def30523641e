"""Applying the user's memory options to a loaded pipeline.

Placement (where weights live) and quantization are fixed when the model is loaded; VAE slicing, VAE tiling and
attention slicing are switches that can change between jobs without a reload.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager

import torch

from core.engine.attention import disable_attention_slicing, enable_attention_slicing
from core.engine.feed_forward import enable_feed_forward_chunking
from core.engine.pipeline import ContentVPipeline
from core.job.request import MemoryOptions, Placement

logger = logging.getLogger(__name__)


TEXT_ENCODER_NAMES = ("text_encoder", "text_encoder_2", "text_encoder_3")


def load_devices(placement: Placement, device: str, text_encoders_off_gpu: bool) -> dict[str, str]:
    """Where each component is put as it is read: when everything lives on the GPU, straight there, tensor by
    tensor, so host RAM never holds a whole component (text encoders kept off the GPU stay in RAM)."""
    if placement is not Placement.GPU or device == "cpu":
        return {}
    names = ("transformer", "vae", *TEXT_ENCODER_NAMES)
    return {n: device for n in names if not (text_encoders_off_gpu and n in TEXT_ENCODER_NAMES)}


def pinned_components(placement: Placement, device: str) -> frozenset[str]:
    """The components read straight into page-locked RAM: those streamed to the GPU on a side stream (the copy
    can only overlap compute from pinned memory), and those moved in for their stage (faster copies)."""
    if placement is Placement.STREAMED and device == "cuda":
        return frozenset(STREAMED_BLOCKS) | frozenset(LENT_FOR_STAGE)
    return frozenset()


def apply_placement(pipe: ContentVPipeline, placement: Placement, device: str) -> None:
    """Set up the offload modes, once per load. (All-on-GPU needs nothing here: the loader put each model on the
    GPU as it was read, see load_devices.)"""
    target = torch.device(device)
    # Feed-forward a slice of tokens at a time: the 4x-wide intermediate is the largest tensor of a block.
    enable_feed_forward_chunking(pipe.transformer)
    if placement is Placement.GPU:
        pass
    elif placement is Placement.MODEL:
        # Whole components take turns on the GPU: peak is the largest one (the transformer) plus activations.
        pipe.enable_model_cpu_offload(device=target)
    elif placement is Placement.SEQUENTIAL:
        # Every leaf module is moved in right before it runs and out after it: lowest VRAM, much slower. The CLIP
        # encoders and the VAE are thus on the GPU only while they run, one layer at a time.
        pipe.enable_sequential_cpu_offload(device=target)
    elif placement is Placement.STREAMED:
        # Transformer and T5 blocks live in pinned RAM; each block is copied in on a side CUDA stream while the
        # previous one computes, so the GPU holds about two blocks of weights at a time. CLIP and the VAE stay in
        # RAM and are lent to the GPU for their stage only (stage_residency).
        stream_blocks(pipe, target, use_stream=target.type == "cuda")
    else:  # pragma: no cover - Placement is closed
        raise ValueError(placement)


# component -> the submodules whose ModuleList children become offload groups (None: the component's own). T5's
# blocks sit one level down (T5EncoderModel.encoder.block), which block-level offloading does not look into by
# itself: without naming `encoder` the whole 9.5 GB encoder would be one group.
STREAMED_BLOCKS: dict[str, list[str] | None] = {"transformer": None, "text_encoder_3": ["encoder"]}
# Components moved to the GPU for their stage only in the streamed placement.
LENT_FOR_STAGE = ("text_encoder", "text_encoder_2", "vae")


def stream_blocks(pipe: ContentVPipeline, device: torch.device, use_stream: bool = True) -> None:
    """Block-level group offloading of the transformer and T5, one block per group."""
    from diffusers.hooks import apply_group_offloading

    for name, block_modules in STREAMED_BLOCKS.items():
        apply_group_offloading(
            getattr(pipe, name),
            onload_device=device,
            offload_device=torch.device("cpu"),
            offload_type="block_level",
            num_blocks_per_group=1,
            use_stream=use_stream,
            block_modules=block_modules,
        )


@contextmanager
def stage_residency(pipe: ContentVPipeline, placement: Placement, device: str, names: Iterable[str]) -> Iterator[None]:
    """In the streamed placement, the named components (CLIP encoders, VAE) are on the GPU only inside this
    block; elsewhere their residency is the placement's business and this does nothing."""
    if placement is not Placement.STREAMED or device == "cpu":
        yield
        return
    with ExitStack() as stack:
        for name in names:
            stack.enter_context(lent_to_device(getattr(pipe, name), torch.device(device)))
        yield


@contextmanager
def lent_to_device(module: torch.nn.Module, device: torch.device) -> Iterator[None]:
    """Copy a module's tensors to `device` for the duration of the block, then point it back at the very same
    host tensors (no new host copy per use, unlike `.to("cpu")`), freeing the device copies."""
    host: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}  # id -> (the tensor, its host data)
    for tensor in list(module.parameters()) + list(module.buffers()):
        if id(tensor) not in host:
            host[id(tensor)] = (tensor, tensor.data)
            tensor.data = _copy_to(tensor.data, device)
    try:
        yield
    finally:
        for tensor, data in host.values():
            tensor.data = data
        if device.type == "cuda":
            torch.cuda.empty_cache()


def _copy_to(data: torch.Tensor, device: torch.device) -> torch.Tensor:
    return data.to(device, non_blocking=data.is_pinned())


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
