"""A ContentV-shaped random-weight model folder for the benchmark, at full size or scaled down, without a download.

The folder has the official layout and configs (model_index.json, one folder per component, config.json,
sharded safetensors with an index); the tokenizers are the demo model's (core/model/demo.py), which produce ids
well inside the real vocabularies. Weights are random: the figures measured on them are memory and speed, not
quality.

At full size (ContentV-8B: 8.06 B transformer, 4.76 B T5-XXL, CLIP-L/G, Wan 2.1 VAE; ~27 GB in bf16) each
component is built directly on the GPU in its final dtype (initialisation there takes seconds) and written shard
by shard, so the host never holds more than one shard; on a GPU the whole folder takes about a minute.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.model import demo as demo_model

SHARD_BYTES = 2 * 2**30


@dataclass(frozen=True)
class ModelScale:
    name: str
    transformer: dict[str, Any]
    t5: dict[str, Any]
    clip_l: dict[str, Any]
    clip_g: dict[str, Any]
    vae: dict[str, Any] = field(default_factory=dict)


def _clip(hidden: int, intermediate: int, layers: int, heads: int, projection: int) -> dict[str, Any]:
    return {
        "hidden_size": hidden,
        "intermediate_size": intermediate,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "projection_dim": projection,
    }


# ContentV-8B as published: SD3.5-Large-shaped transformer, T5-XXL (v1.1, gated GELU), CLIP-L/14, OpenCLIP bigG/14.
FULL = ModelScale(
    name="full",
    transformer={
        "num_layers": 38,
        "num_attention_heads": 38,
        "attention_head_dim": 64,
        "joint_attention_dim": 4096,
        "caption_projection_dim": 2432,
        "pooled_projection_dim": 2048,
    },
    t5={"d_model": 4096, "d_ff": 10240, "d_kv": 64, "num_heads": 64, "num_layers": 24, "vocab_size": 32128},
    clip_l=_clip(768, 3072, 12, 12, 768),
    clip_g=_clip(1280, 5120, 32, 20, 1280),
    vae={"base_dim": 96, "num_res_blocks": 2},
)

# The same structure scaled down so the CPU runs a job in seconds (the widths the pipeline joins stay consistent:
# T5 width == joint_attention_dim, pooled == CLIP-L + CLIP-G projections).
SMALL = ModelScale(
    name="small",
    transformer={
        "num_layers": 4,
        "num_attention_heads": 8,
        "attention_head_dim": 64,
        "joint_attention_dim": 512,
        "caption_projection_dim": 512,
        "pooled_projection_dim": 320,
    },
    t5={"d_model": 512, "d_ff": 1024, "d_kv": 64, "num_heads": 8, "num_layers": 2, "vocab_size": 32128},
    clip_l=_clip(128, 256, 2, 2, 128),
    clip_g=_clip(192, 384, 2, 3, 192),
    vae={"base_dim": 8, "num_res_blocks": 1},
)

SCALES = {"full": FULL, "small": SMALL}


def build_model(target: Path, scale: ModelScale, device: str = "cpu", dtype_name: str = "bfloat16") -> float:
    """Write the folder into `target` (replacing it); returns the seconds it took."""
    import torch

    start = time.perf_counter()
    target = Path(target)
    if target.exists():
        shutil.rmtree(target)
    staging = target.with_name(target.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    dtype = getattr(torch, dtype_name)
    with demo_model._quiet_progress_bars():
        _write_tokenizers(staging)
        _write_component(staging / "transformer", lambda: _transformer(scale), device, dtype, diffusers_style=True)
        _write_component(staging / "vae", lambda: _vae(scale), device, torch.float32, diffusers_style=True)
        for name, config in (("text_encoder", scale.clip_l), ("text_encoder_2", scale.clip_g)):
            _write_component(staging / name, lambda c=config: _clip_model(c), device, dtype, diffusers_style=False)
        _write_component(staging / "text_encoder_3", lambda: _t5(scale), device, dtype, diffusers_style=False)
        from diffusers import FlowMatchEulerDiscreteScheduler

        FlowMatchEulerDiscreteScheduler(shift=3.0).save_pretrained(staging / "scheduler")
    import diffusers

    index = {"_diffusers_version": diffusers.__version__, **demo_model.MODEL_INDEX}
    (staging / "model_index.json").write_text(json.dumps(index, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    staging.rename(target)
    return time.perf_counter() - start


def _write_tokenizers(root: Path) -> None:
    vocab, merges = demo_model.train_clip_bpe(demo_model.CORPUS)
    for name in ("tokenizer", "tokenizer_2"):
        demo_model._write_clip_tokenizer(root / name, vocab, merges)
    demo_model._write_t5_tokenizer(root / "tokenizer_3")


def _transformer(scale: ModelScale) -> Any:
    from core.engine.transformer import ContentVTransformer3DModel

    return ContentVTransformer3DModel(**scale.transformer)


def _vae(scale: ModelScale) -> Any:
    from diffusers import AutoencoderKLWan

    config = {**demo_model.VAE_CONFIG, "dim_mult": [1, 2, 4, 4], "attn_scales": [], **scale.vae}
    return AutoencoderKLWan(**config)


def _clip_model(config: dict[str, Any]) -> Any:
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection

    return CLIPTextModelWithProjection(
        CLIPTextConfig(
            vocab_size=49408,
            max_position_embeddings=demo_model.CLIP_MAX_LENGTH,
            hidden_act="gelu",
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            **config,
        )
    )


def _t5(scale: ModelScale) -> Any:
    from transformers import T5Config, T5EncoderModel

    return T5EncoderModel(
        T5Config(
            **scale.t5,
            num_decoder_layers=scale.t5["num_layers"],
            feed_forward_proj="gated-gelu",
            is_encoder_decoder=False,
            use_cache=False,
            pad_token_id=0,
            eos_token_id=1,
        )
    )


def _write_component(folder: Path, build: Callable[[], Any], device: str, dtype: Any, diffusers_style: bool) -> None:
    """Build on `device` in `dtype` (the initialisers run there), then write config and weights shard by shard."""
    import torch

    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype if dtype.is_floating_point and dtype != torch.float16 else torch.float32)
    try:
        torch.manual_seed(0)
        with torch.device(device), torch.no_grad():
            model = build()
        model = model.to(dtype=dtype).eval()
    finally:
        torch.set_default_dtype(previous)
    folder.mkdir(parents=True)
    if diffusers_style:
        model.save_config(folder)
        if folder.name == "transformer":
            from core.engine.transformer import OFFICIAL_CLASS_NAME

            config_path = folder / "config.json"
            config = json.loads(config_path.read_text(encoding="utf-8"))
            config["_class_name"] = OFFICIAL_CLASS_NAME
            config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        _save_shards(model, folder, "diffusion_pytorch_model")
    else:
        model.config.save_pretrained(folder)
        _save_shards(model, folder, "model")
    del model
    if device.startswith("cuda"):
        torch.cuda.empty_cache()


def _save_shards(model: Any, folder: Path, stem: str) -> None:
    """safetensors shards of at most SHARD_BYTES, each copied to the host just before it is written, plus the
    index file both diffusers and transformers read. Tied tensors (T5's embedding) are written once."""
    from safetensors.torch import save_file

    seen: set[int] = set()
    shards: list[dict[str, Any]] = [{}]
    size = 0
    total = 0
    for name, tensor in model.state_dict().items():
        key = tensor.untyped_storage().data_ptr()
        if key in seen:
            continue
        seen.add(key)
        nbytes = tensor.numel() * tensor.element_size()
        if shards[-1] and size + nbytes > SHARD_BYTES:
            shards.append({})
            size = 0
        shards[-1][name] = tensor
        size += nbytes
        total += nbytes
    if len(shards) == 1:
        save_file(_to_host(shards[0]), str(folder / f"{stem}.safetensors"), metadata={"format": "pt"})
        return
    weight_map: dict[str, str] = {}
    for number, shard in enumerate(shards, start=1):
        filename = f"{stem}-{number:05d}-of-{len(shards):05d}.safetensors"
        save_file(_to_host(shard), str(folder / filename), metadata={"format": "pt"})
        weight_map.update(dict.fromkeys(shard, filename))
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (folder / f"{stem}.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")


def _to_host(shard: dict[str, Any]) -> dict[str, Any]:
    return {name: tensor.detach().to("cpu").contiguous() for name, tensor in shard.items()}
