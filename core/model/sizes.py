"""Refusing a model whose config.json describes sizes that are absurd or that its weights contradict, before anything
is allocated.

A config is trusted by the loader: it builds the model the config describes, then fills it from the weights. A
`num_layers` of 1,000,000 builds a million blocks (minutes, gigabytes, even on the meta device); a head size that
does not match the weights fails only once the load reaches that tensor. So each component is checked in two steps:

1. `config_problems` (no torch; runs whenever a folder is checked, in milliseconds): every size the config gives is a
   positive whole number within what any ContentV-sized model has, every layer count equals the number of blocks the
   safetensors headers hold, and each size that a tensor's shape shows (a "witness") equals that shape.
2. `shape_problems` (imports torch and the model classes): only once step 1 passed, so the counts are bounded, the
   model is built on the meta device (no memory) and every tensor it would load is compared with the header's
   shape; a tensor the weights lack is named too.

Each problem names the file and the field (or the tensor) in one phrase.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.i18n import _t

Shapes = dict[str, tuple[int, ...]]  # tensor name -> shape, from the safetensors headers

# Far above ContentV-8B's widths (4096 at most) and counts, far below what would take minutes to build.
MAX_WIDTH = 1 << 16
MAX_VOCABULARY = 1 << 20
MAX_SMALL = 1024  # heads, head size, channels, positions, buckets
MAX_PATCH = 16
MAX_LEVELS = 8  # the VAE's resolution levels (dim_mult entries)
MAX_RES_BLOCKS = 16


@dataclass(frozen=True)
class Witness:
    """A size the weights show: `field` (as the message names it) must equal `tensor`'s shape at `axis`."""

    field: str
    value: Callable[[dict[str, Any]], int]
    tensors: tuple[str, ...]  # the first one present in the header is compared
    axis: int


@dataclass(frozen=True)
class ComponentSizes:
    limits: dict[str, int]  # field -> the largest value accepted (at least 1 always)
    count_field: str | None  # the layer count, compared with the header's block indices
    block_prefix: str | None
    witnesses: tuple[Witness, ...]


def _get(name: str) -> Callable[[dict[str, Any]], int]:
    return lambda config: config[name]


_CLIP = ComponentSizes(
    limits={
        "hidden_size": MAX_WIDTH,
        "intermediate_size": MAX_WIDTH * 4,
        "num_attention_heads": MAX_SMALL,
        "max_position_embeddings": MAX_WIDTH,
        "vocab_size": MAX_VOCABULARY,
        "projection_dim": MAX_WIDTH,
    },
    count_field="num_hidden_layers",
    block_prefix="text_model.encoder.layers.",
    witnesses=(
        Witness("hidden_size", _get("hidden_size"), ("text_model.embeddings.token_embedding.weight",), 1),
        Witness("vocab_size", _get("vocab_size"), ("text_model.embeddings.token_embedding.weight",), 0),
        Witness(
            "max_position_embeddings",
            _get("max_position_embeddings"),
            ("text_model.embeddings.position_embedding.weight",),
            0,
        ),
        Witness("intermediate_size", _get("intermediate_size"), ("text_model.encoder.layers.0.mlp.fc1.weight",), 0),
        Witness("projection_dim", _get("projection_dim"), ("text_projection.weight",), 0),
    ),
)

SIZES: dict[str, ComponentSizes] = {
    "transformer": ComponentSizes(
        limits={
            "attention_head_dim": MAX_SMALL,
            "num_attention_heads": MAX_SMALL,
            "joint_attention_dim": MAX_WIDTH,
            "caption_projection_dim": MAX_WIDTH,
            "pooled_projection_dim": MAX_WIDTH,
            "in_channels": MAX_SMALL,
            "out_channels": MAX_SMALL,
            "patch_size": MAX_PATCH,
            "sample_size": MAX_SMALL,
            "pos_embed_max_size": MAX_SMALL,
        },
        count_field="num_layers",
        block_prefix="transformer_blocks.",
        witnesses=(
            Witness("attention_head_dim", _get("attention_head_dim"), ("transformer_blocks.0.attn.norm_q.weight",), 0),
            Witness(
                "num_attention_heads × attention_head_dim",
                lambda c: c["num_attention_heads"] * c["attention_head_dim"],
                ("transformer_blocks.0.attn.to_q.weight",),
                0,
            ),
            Witness("joint_attention_dim", _get("joint_attention_dim"), ("context_embedder.weight",), 1),
            Witness("caption_projection_dim", _get("caption_projection_dim"), ("context_embedder.weight",), 0),
            Witness(
                "pooled_projection_dim",
                _get("pooled_projection_dim"),
                ("time_text_embed.text_embedder.linear_1.weight",),
                1,
            ),
            Witness("in_channels", _get("in_channels"), ("pos_embed.proj.weight",), 1),
            Witness("patch_size", _get("patch_size"), ("pos_embed.proj.weight",), 2),
            Witness(
                "out_channels × patch_size²",
                lambda c: c["out_channels"] * c["patch_size"] ** 2,
                ("proj_out.weight",),
                0,
            ),
        ),
    ),
    "vae": ComponentSizes(
        limits={
            "base_dim": MAX_WIDTH,
            "z_dim": MAX_SMALL,
            "in_channels": MAX_SMALL,
            "out_channels": MAX_SMALL,
            "num_res_blocks": MAX_RES_BLOCKS,
        },
        count_field=None,
        block_prefix=None,
        witnesses=(
            Witness("base_dim", _get("base_dim"), ("encoder.conv_in.weight",), 0),
            Witness("z_dim", _get("z_dim"), ("post_quant_conv.weight", "decoder.conv_in.weight"), 1),
        ),
    ),
    "text_encoder": _CLIP,
    "text_encoder_2": _CLIP,
    "text_encoder_3": ComponentSizes(
        limits={
            "d_model": MAX_WIDTH,
            "d_kv": MAX_SMALL,
            "d_ff": MAX_WIDTH * 4,
            "num_heads": MAX_SMALL,
            "vocab_size": MAX_VOCABULARY,
            "relative_attention_num_buckets": MAX_SMALL,
        },
        count_field="num_layers",
        block_prefix="encoder.block.",
        witnesses=(
            Witness("d_model", _get("d_model"), ("shared.weight", "encoder.embed_tokens.weight"), 1),
            Witness("vocab_size", _get("vocab_size"), ("shared.weight", "encoder.embed_tokens.weight"), 0),
            Witness(
                "num_heads × d_kv",
                lambda c: c["num_heads"] * c["d_kv"],
                ("encoder.block.0.layer.0.SelfAttention.q.weight",),
                0,
            ),
            Witness(
                "num_heads",
                _get("num_heads"),
                ("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",),
                1,
            ),
            Witness(
                "relative_attention_num_buckets",
                _get("relative_attention_num_buckets"),
                ("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",),
                0,
            ),
            Witness(
                "d_ff",
                _get("d_ff"),
                (
                    "encoder.block.0.layer.1.DenseReluDense.wi.weight",
                    "encoder.block.0.layer.1.DenseReluDense.wi_0.weight",
                ),
                0,
            ),
        ),
    ),
}


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _out_of_range(file: str, field: str, value: object, limit: int) -> str:
    return _t("{file}: {field} must be a whole number from 1 to {limit} (got {value})").format(
        file=file, field=field, limit=limit, value=value
    )


def _contradicted(file: str, field: str, value: object, actual: object) -> str:
    return _t("{file}: {field} is {value}, but the weights say {actual}").format(
        file=file, field=field, value=value, actual=actual
    )


def block_count(shapes: Shapes, prefix: str) -> int:
    """How many blocks the weights hold: one more than the highest index after `prefix`."""
    pattern = re.compile(re.escape(prefix) + r"(\d+)\.")
    indices = {int(m.group(1)) for name in shapes if (m := pattern.match(name))}
    return max(indices) + 1 if indices else 0


def config_problems(component: str, config: dict[str, Any], shapes: Shapes | None) -> list[str]:
    """What the component's config.json says that is absurd or that its weights' headers contradict (no torch).
    `shapes` is None where the weights have no header to read (a .bin pickle): then only the ranges are checked."""
    sizes = SIZES.get(component)
    if sizes is None:
        return []
    file = f"{component}/config.json"
    found: list[str] = []
    for field, limit in sizes.limits.items():
        if field in config and (not _whole(config[field]) or not 1 <= config[field] <= limit):
            found.append(_out_of_range(file, field, config[field], limit))
    if component == "vae":
        found.extend(_vae_problems(file, config, shapes or {}))
    if sizes.count_field is not None and sizes.count_field in config and sizes.block_prefix is not None:
        value = config[sizes.count_field]
        held = block_count(shapes, sizes.block_prefix) if shapes is not None else None
        if not _whole(value) or value < 1 or (held is None and value > MAX_SMALL):
            found.append(_out_of_range(file, sizes.count_field, value, max(held or MAX_SMALL, 1)))
        elif held is not None and value != held:
            found.append(_contradicted(file, sizes.count_field, value, held))
    if found or shapes is None:
        return found  # the witnesses' arithmetic needs sane numbers
    for witness in sizes.witnesses:
        tensor = next((t for t in witness.tensors if t in shapes), None)
        if tensor is None or len(shapes[tensor]) <= witness.axis:
            continue  # a tensor the weights lack is named by shape_problems
        try:
            value = witness.value(config)
        except KeyError:
            continue  # the class's default applies; shape_problems compares it
        actual = shapes[tensor][witness.axis]
        if value != actual:
            found.append(_contradicted(file, witness.field, value, actual))
    heads = config.get("num_attention_heads")
    hidden = config.get("hidden_size")
    text_encoder = component in ("text_encoder", "text_encoder_2")
    if text_encoder and isinstance(heads, int) and isinstance(hidden, int) and heads > 0 and hidden % heads:
        found.append(
            _t("{file}: {field} ({value}) does not divide {other} ({total})").format(
                file=file,
                field="num_attention_heads",
                value=heads,
                other="hidden_size",
                total=config["hidden_size"],
            )
        )
    return found


def _vae_problems(file: str, config: dict[str, Any], shapes: Shapes) -> list[str]:
    """The Wan VAE's level list, its temporal flags, and its res-block count against the encoder's blocks."""
    found: list[str] = []
    levels = config.get("dim_mult", [1, 2, 4, 4])
    if (
        not isinstance(levels, list)
        or not 1 <= len(levels) <= MAX_LEVELS
        or not all(_whole(m) and 1 <= m <= MAX_SMALL for m in levels)
    ):
        found.append(
            _t("{file}: {field} must be a list of 1 to {count} whole numbers from 1 to {limit} (got {value})").format(
                file=file, field="dim_mult", count=MAX_LEVELS, limit=MAX_SMALL, value=levels
            )
        )
        return found
    temporal = config.get("temperal_downsample", [False, True, True])
    if not isinstance(temporal, list) or len(temporal) != len(levels) - 1:
        found.append(
            _t("{file}: {field} must list {count} true/false values, one per level but the last (got {value})").format(
                file=file, field="temperal_downsample", count=len(levels) - 1, value=temporal
            )
        )
    res_blocks = config.get("num_res_blocks", 2)
    held = block_count(shapes, "encoder.down_blocks.")
    if _whole(res_blocks) and 1 <= res_blocks <= MAX_RES_BLOCKS and held and not config.get("is_residual"):
        # The encoder's flat list: num_res_blocks per level, plus a resample between levels.
        expected = len(levels) * res_blocks + len(levels) - 1
        if expected != held:
            actual = (held - len(levels) + 1) / len(levels)
            shown = int(actual) if actual.is_integer() else _t("{count} encoder blocks").format(count=held)
            found.append(_contradicted(file, "num_res_blocks", res_blocks, shown))
    return found


# ---- step 2: the model the config describes, on the meta device ---------------------------------------------------
def model_classes() -> dict[str, Any]:
    from diffusers import AutoencoderKLWan
    from transformers import CLIPTextModelWithProjection, T5EncoderModel

    from core.engine.transformer import ContentVTransformer3DModel

    return {
        "transformer": ContentVTransformer3DModel,
        "vae": AutoencoderKLWan,
        "text_encoder": CLIPTextModelWithProjection,
        "text_encoder_2": CLIPTextModelWithProjection,
        "text_encoder_3": T5EncoderModel,
    }


def _shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in shape) or "scalar"


def shape_problems(component: str, folder: Path, shapes: Shapes, cls: Any) -> list[str]:
    """Build the component's model on the meta device from its config (cheap once `config_problems` passed) and
    compare every tensor the loader would fill with the header: a different shape, or a tensor the weights lack."""
    import torch

    from core.model.weights_loader import _construct

    file = f"{component}/config.json"
    try:
        with torch.device("meta"):
            model = _construct(cls, folder)
    except Exception as exc:  # the library refused the config itself (e.g. a head count that does not divide)
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        return [_t("{file} describes a model that cannot be built ({reason})").format(file=file, reason=reason)]
    # Each tensor once, under all of its names (tied weights: T5's shared and encoder.embed_tokens are one).
    names: dict[int, list[str]] = {}
    tensors: dict[int, Any] = {}
    for name, tensor in [*model.named_parameters(remove_duplicate=False), *model.named_buffers(remove_duplicate=False)]:
        names.setdefault(id(tensor), []).append(name)
        tensors[id(tensor)] = tensor
    parameter_ids = {id(p) for _, p in model.named_parameters(remove_duplicate=False)}
    tied = getattr(model, "_tied_weights_keys", None)
    tied_pairs = tied.items() if isinstance(tied, dict) else ()
    found: list[str] = []
    for key, aliases in names.items():
        present = [n for n in aliases if n in shapes]
        expected = tuple(tensors[key].shape)
        for name in present:
            if shapes[name] != expected:
                found.append(
                    _t("{file}: {tensor} is {actual} in the weights, but the config makes it {expected}").format(
                        file=file, tensor=name, actual=_shape_text(shapes[name]), expected=_shape_text(expected)
                    )
                )
        tied_present = any((a in aliases and b in shapes) or (b in aliases and a in shapes) for a, b in tied_pairs)
        if not present and key in parameter_ids and not tied_present:
            found.append(
                _t("{file}: the weights lack {tensor}, which the config's model has").format(
                    file=file, tensor=sorted(aliases)[0]
                )
            )
        if found:  # the first says enough: a wrong config would list hundreds of tensors
            break
    return found
