"""Chunked feed-forward for the transformer blocks during inference.

A block's feed-forward widens every token to 4x the hidden size (ContentV-8B: 41,472 video tokens x 9,728 at
768x432x125, about 0.8 GB in bf16 per intermediate, two of them alive across the GELU): the largest tensors of a
step once attention runs in a fused kernel. The feed-forward acts on each token alone, so running it a slice of
tokens at a time gives the same numbers with a fraction of that memory.

diffusers' `set_chunk_feed_forward` on `JointTransformerBlock` does the same idea but needs the token count to
be a multiple of the chunk (never true for ContentV's 77 + 256 text tokens) and concatenates the chunks, which
holds the output twice; here any count works and each slice is written into one preallocated output.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import torch
from torch import nn

DEFAULT_CHUNK_TOKENS = 8192
FEED_FORWARD_NAMES = ("ff", "ff_context")


def chunked_feed_forward(module: nn.Module, chunk_tokens: int, hidden_states: torch.Tensor) -> torch.Tensor:
    """`module`'s own forward, over slices of at most `chunk_tokens` tokens along dimension 1."""
    whole = type(module).forward
    tokens = hidden_states.shape[1]
    if tokens <= chunk_tokens:
        return whole(module, hidden_states)
    first = whole(module, hidden_states[:, :chunk_tokens])
    out = first.new_empty((first.shape[0], tokens, *first.shape[2:]))
    out[:, : first.shape[1]] = first
    del first
    for start in range(chunk_tokens, tokens, chunk_tokens):
        piece = whole(module, hidden_states[:, start : start + chunk_tokens])
        out[:, start : start + piece.shape[1]] = piece
        del piece
    return out


def enable_feed_forward_chunking(transformer: Any, chunk_tokens: int = DEFAULT_CHUNK_TOKENS) -> None:
    """Run every block's feed-forward (image and text streams) `chunk_tokens` tokens at a time."""
    if chunk_tokens < 1:
        raise ValueError("chunk_tokens must be at least 1")
    for block in transformer.transformer_blocks:
        for name in FEED_FORWARD_NAMES:
            ff = getattr(block, name, None)
            if isinstance(ff, nn.Module):
                # An instance-level forward: module names (and so weight names and offload hooks) are unchanged.
                ff.forward = partial(chunked_feed_forward, ff, chunk_tokens)


def disable_feed_forward_chunking(transformer: Any) -> None:
    for block in transformer.transformer_blocks:
        for name in FEED_FORWARD_NAMES:
            ff = getattr(block, name, None)
            if isinstance(ff, nn.Module) and "forward" in vars(ff):
                del ff.forward


def feed_forward_chunk_tokens(transformer: Any) -> int | None:
    """The chunk size in effect (None: off)."""
    ff = getattr(transformer.transformer_blocks[0], "ff", None)
    forward = vars(ff).get("forward") if ff is not None else None
    return forward.args[1] if isinstance(forward, partial) else None
