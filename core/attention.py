"""Query-chunked joint attention for the MMDiT blocks.

diffusers' `set_attention_slice` only reaches processors that know about slicing, and SD3's
`JointAttnProcessor2_0` does not, so it is a no-op here. This processor computes the same joint attention
(video tokens and text tokens attend to each other) a slice of queries at a time: each slice's softmax runs
over all keys, so the result equals the unsliced one, while the attention-score buffer of a non-fused SDPA
kernel shrinks from (heads × N × N) to (heads × chunk × N).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from diffusers.models.attention_processor import Attention, JointAttnProcessor2_0
from torch import nn

DEFAULT_QUERY_CHUNK = 2048


def _heads(x: torch.Tensor, batch: int, heads: int, head_dim: int) -> torch.Tensor:
    return x.view(batch, -1, heads, head_dim).transpose(1, 2)


class ChunkedJointAttnProcessor:
    """Drop-in replacement for JointAttnProcessor2_0 that slices the query sequence."""

    def __init__(self, query_chunk: int = DEFAULT_QUERY_CHUNK) -> None:
        if query_chunk < 1:
            raise ValueError("query_chunk must be at least 1")
        self.query_chunk = query_chunk

    def __call__(
        self,
        attn: Any,  # diffusers' Attention, whose projections are typed Optional although a joint block has them all
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        *args: object,
        **kwargs: object,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        batch, video_tokens = hidden_states.shape[0], hidden_states.shape[1]
        query = attn.to_q(hidden_states)
        key = attn.to_k(hidden_states)
        value = attn.to_v(hidden_states)
        head_dim = key.shape[-1] // attn.heads
        query, key, value = (_heads(t, batch, attn.heads, head_dim) for t in (query, key, value))
        if attn.norm_q is not None:
            query = attn.norm_q(query)
        if attn.norm_k is not None:
            key = attn.norm_k(key)

        if encoder_hidden_states is not None:
            ctx_q = _heads(attn.add_q_proj(encoder_hidden_states), batch, attn.heads, head_dim)
            ctx_k = _heads(attn.add_k_proj(encoder_hidden_states), batch, attn.heads, head_dim)
            ctx_v = _heads(attn.add_v_proj(encoder_hidden_states), batch, attn.heads, head_dim)
            if attn.norm_added_q is not None:
                ctx_q = attn.norm_added_q(ctx_q)
            if attn.norm_added_k is not None:
                ctx_k = attn.norm_added_k(ctx_k)
            query = torch.cat([query, ctx_q], dim=2)
            key = torch.cat([key, ctx_k], dim=2)
            value = torch.cat([value, ctx_v], dim=2)

        total = query.shape[2]
        # Written slice by slice into one buffer (batch, tokens, heads*dim), so no list of slices is kept alive.
        out = query.new_empty(batch, total, attn.heads * head_dim)
        for start in range(0, total, self.query_chunk):
            stop = min(start + self.query_chunk, total)
            part = F.scaled_dot_product_attention(query[:, :, start:stop], key, value, dropout_p=0.0, is_causal=False)
            out[:, start:stop] = part.transpose(1, 2).reshape(batch, stop - start, -1)
            del part
        del query, key, value

        if encoder_hidden_states is not None:
            hidden_out, context_out = out[:, :video_tokens], out[:, video_tokens:]
            if not attn.context_pre_only:
                context_out = attn.to_add_out(context_out)
        else:
            hidden_out, context_out = out, None

        hidden_out = attn.to_out[0](hidden_out)
        hidden_out = attn.to_out[1](hidden_out)
        if context_out is not None:
            return hidden_out, context_out
        return hidden_out


def _attention_modules(model: nn.Module) -> list[Attention]:
    return [m for m in model.modules() if isinstance(m, Attention)]


def enable_attention_slicing(model: nn.Module, query_chunk: int = DEFAULT_QUERY_CHUNK) -> int:
    """Switch every joint attention of `model` to the chunked processor; returns how many were switched."""
    modules = _attention_modules(model)
    for module in modules:
        module.set_processor(ChunkedJointAttnProcessor(query_chunk))  # pyright: ignore[reportArgumentType]
    return len(modules)


def disable_attention_slicing(model: nn.Module) -> None:
    for module in _attention_modules(model):
        if isinstance(module.processor, ChunkedJointAttnProcessor):
            module.set_processor(JointAttnProcessor2_0())  # pyright: ignore[reportArgumentType]


def attention_slicing_enabled(model: nn.Module) -> bool:
    modules = _attention_modules(model)
    return bool(modules) and all(isinstance(m.processor, ChunkedJointAttnProcessor) for m in modules)
