"""A tiny random-weight ContentV model in the official folder layout.

It lets a user check an install end to end (load, encode, denoise, decode, write a video) without the
40 GB download, and the tests use it as a fixture. The weights are random, so the video is coloured noise.

Every config mirrors the official checkpoint's keys; the widths that the pipeline connects are kept at
ContentV-8B's real values (T5 d_model == joint_attention_dim == 4096, pooled_projection_dim == 2048 ==
768 + 1280), so code that pads CLIP features to T5's width or splits the pooled vector meets the real
shapes. Everything else is as small as it gets.

Nothing here touches the network: the tokenizers are trained on the small corpus below.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import string
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from typing import Any

from core.errors import OutputTakenError
from core.i18n import _t

# The official checkpoint's model_index.json, class by class. The transformer's module is not in diffusers,
# which is why a loader must pick the transformer class itself.
MODEL_INDEX: dict[str, Any] = {
    "_class_name": "ContentVPipeline",
    "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
    "text_encoder": ["transformers", "CLIPTextModelWithProjection"],
    "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
    "text_encoder_3": ["transformers", "T5EncoderModel"],
    "tokenizer": ["transformers", "CLIPTokenizer"],
    "tokenizer_2": ["transformers", "CLIPTokenizer"],
    "tokenizer_3": ["transformers", "T5Tokenizer"],
    "transformer": ["contentv_transformer", "SD3Transformer3DModel"],
    "vae": ["diffusers", "AutoencoderKLWan"],
}

# Widths the components share; they must stay consistent with one another.
JOINT_ATTENTION_DIM = 4096  # T5 d_model; SD3 zero-pads the CLIP features up to it
CLIP_L_PROJECTION_DIM = 768
CLIP_G_PROJECTION_DIM = 1280
POOLED_PROJECTION_DIM = CLIP_L_PROJECTION_DIM + CLIP_G_PROJECTION_DIM

TRANSFORMER_CONFIG: dict[str, Any] = {
    "sample_size": 128,
    "patch_size": 2,
    "in_channels": 16,
    "num_layers": 2,
    "attention_head_dim": 16,
    "num_attention_heads": 2,
    "joint_attention_dim": JOINT_ATTENTION_DIM,
    "caption_projection_dim": 32,
    "pooled_projection_dim": POOLED_PROJECTION_DIM,
    "out_channels": 16,
    "pos_embed_max_size": 192,
    "dual_attention_layers": (),
    "qk_norm": "rms_norm",
}

# Wan 2.1's latent statistics, as in the official VAE config.
WAN_LATENTS_MEAN = [
    -0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508,
    0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921,
]  # fmt: skip
WAN_LATENTS_STD = [
    2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743,
    3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.916,
]  # fmt: skip

VAE_CONFIG: dict[str, Any] = {
    "base_dim": 8,
    "z_dim": 16,
    "dim_mult": [1, 2, 4, 4],
    "num_res_blocks": 1,
    "attn_scales": [],
    "temperal_downsample": [False, True, True],
    "dropout": 0.0,
    "latents_mean": WAN_LATENTS_MEAN,
    "latents_std": WAN_LATENTS_STD,
}

# CLIP-L and CLIP-G stand-ins: different widths on purpose, as in the real pair (768/1280 hidden there).
CLIP_L_HIDDEN = 32
CLIP_G_HIDDEN = 48
CLIP_MAX_LENGTH = 77
CLIP_BOS = "<|startoftext|>"
CLIP_EOS = "<|endoftext|>"
CLIP_NUM_MERGES = 240

T5_PIECES = 160  # sentencepiece vocabulary before the 100 sentinel ids
T5_EXTRA_IDS = 100

# Scene descriptions the tokenizers are trained on: varied enough that common prompt words get their own
# tokens; anything else falls back to characters (CLIP) or pieces (T5), never to an unknown token for CLIP.
CORPUS: tuple[str, ...] = (
    "A young woman walks slowly along a quiet beach at sunset, holding a red umbrella.",
    "The old man sits on a wooden stool in a cozy room lit by warm candle light.",
    "A golden retriever runs across a green field under a bright blue sky.",
    "Waves crash against dark rocks while seagulls circle above the foamy water.",
    "A small child plays with a paper boat in a puddle after the rain.",
    "The camera pans across a busy city street at night, neon signs glowing in the fog.",
    "A red fox trots through fresh snow in a silent pine forest at dawn.",
    "Two friends laugh together on a park bench as autumn leaves fall around them.",
    "A chef chops vegetables quickly on a wooden board in a bright kitchen.",
    "The full moon rises slowly over a calm lake surrounded by tall mountains.",
    "A hot air balloon floats gently above green hills on a clear summer morning.",
    "A black cat sleeps on a sunny windowsill next to a pot of flowers.",
    "Rain drops slide down a window while a train moves through the countryside.",
    "A musician plays an acoustic guitar on a small stage under soft blue lights.",
    "An astronaut floats inside a space station, looking out at the distant earth.",
    "A herd of wild horses gallops across a dusty desert plain toward the horizon.",
    "Close up of a hummingbird drinking nectar from a bright purple flower.",
    "A little girl in a yellow raincoat jumps into puddles on a gray afternoon.",
    "Snow falls on a quiet village street lined with glowing wooden houses.",
    "A surfer rides a huge turquoise wave, spray shining in the morning sun.",
    "A steaming cup of coffee sits on a table beside an open book and glasses.",
    "The drone shot flies over a winding river cutting through a deep canyon.",
    "A dancer spins gracefully on an empty stage as the spotlight follows her.",
    "Fireworks burst in many colors above a crowded harbor on a summer night.",
    "A bear catches a silver fish in a rushing mountain stream.",
    "An old car drives down a long empty highway through golden wheat fields.",
    "A butterfly lands on a child's open hand in a sunlit garden.",
    "Clouds drift quickly over a tall glass skyscraper in time lapse.",
    "A robot walks carefully through a futuristic laboratory full of screens.",
    "Lanterns float up into the dark sky above a peaceful temple by the sea.",
    "A kitten chases a ball of blue yarn across a soft carpet.",
    "A lighthouse shines its beam over stormy waves on a windy night.",
    "A farmer walks between rows of tall corn as the evening light fades.",
    "A panda eats bamboo slowly while sitting in a misty green forest.",
    "Cinematic shot of a knight riding a white horse toward an ancient castle.",
    "A waterfall pours into a clear pool hidden among ferns and mossy stones.",
    "People walk with umbrellas through a crowded market on a rainy evening.",
    "A sailboat glides across the ocean as dolphins jump beside it.",
    "A candle flickers in a dark room, casting long shadows on the wall.",
    "An eagle soars high above snowy peaks with its wings spread wide.",
    "A baker pulls fresh bread from a stone oven, flour dusting the air.",
    "Cherry blossoms fall softly over a narrow path in a spring garden.",
    "A skateboarder jumps over a railing in slow motion at a sunny skate park.",
    "A turtle swims past colorful coral in warm shallow water.",
    "The northern lights dance in green waves above a frozen lake.",
    "A woman paints a landscape on a canvas beside a quiet river.",
    "Children run and fly a colorful kite on a windy hill.",
    "A steam train crosses a stone bridge over a foggy valley.",
    "Smoke rises from a campfire under a sky full of bright stars.",
    "A man in a blue jacket reads a newspaper at a small cafe table.",
)


class DemoTargetError(OutputTakenError, FileExistsError):
    """The demo model's folder is taken. One of the project's errors, so the window shows it translated (its
    message is a `_t` template), and still a FileExistsError for callers that catch that."""


def make_demo_model(
    target: Path, *, seed: int = 0, overwrite: bool = False, transformer_overrides: dict[str, Any] | None = None
) -> Path:
    """Write a tiny random-weight ContentV model into `target` and return it.

    The same `seed` gives byte-identical weights. An existing non-empty `target` is refused unless
    `overwrite`; the model is built in a temporary sibling folder and renamed into place, so a failure
    leaves nothing half-written.

    `transformer_overrides` replaces entries of `TRANSFORMER_CONFIG` (tests build variants, e.g. 3 heads whose count
    does not divide by 2 ranks). SD3's joint attention adds the text tokens' projections to the video tokens', so
    `caption_projection_dim` must equal the inner width `num_attention_heads × attention_head_dim`: when only the
    heads or the head width are given, it follows them.
    """
    transformer_config = _transformer_config(transformer_overrides)
    target = Path(target).expanduser().absolute()
    if target.exists():
        if not target.is_dir():
            raise DemoTargetError(
                _t("{path} exists and is not a folder; choose another place for the demo model.").format(path=target)
            )
        if any(target.iterdir()) and not overwrite:
            raise DemoTargetError(
                _t("{path} already exists and is not empty; choose an empty folder.").format(path=target)
            )
    target.parent.mkdir(parents=True, exist_ok=True)

    staging = _sibling(target, "building")
    staging.mkdir()  # plain mkdir, not mkdtemp: the folder keeps the user's umask, not mode 0700
    try:
        with _quiet_progress_bars():
            _write_model(staging, seed, transformer_config)
        _move_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _transformer_config(overrides: dict[str, Any] | None) -> dict[str, Any]:
    config = {**TRANSFORMER_CONFIG, **(overrides or {})}
    inner = int(config["num_attention_heads"]) * int(config["attention_head_dim"])
    if "caption_projection_dim" not in (overrides or {}):
        config["caption_projection_dim"] = inner
    if config["caption_projection_dim"] != inner:
        raise ValueError(
            f"caption_projection_dim ({config['caption_projection_dim']}) must equal num_attention_heads × "
            f"attention_head_dim ({inner})"
        )
    return config


def _sibling(target: Path, role: str) -> Path:
    # Hidden and in the same folder as the target, so the final rename never crosses file systems.
    return target.parent / f".{target.name}.{role}-{uuid.uuid4().hex[:12]}"


@contextmanager
def _quiet_progress_bars() -> Iterator[None]:
    """transformers' save_pretrained draws a "Writing model shards" bar per model; a demo build stays quiet."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    states = [(m, m.is_progress_bar_enabled()) for m in (transformers_logging, diffusers_logging)]
    for module, _ in states:
        module.disable_progress_bar()
    try:
        yield
    finally:
        for module, enabled in states:
            if enabled:
                module.enable_progress_bar()


def _move_into_place(staging: Path, target: Path) -> None:
    if not target.exists():
        os.replace(staging, target)
        return
    # Keep the old folder until the new one is in place, so a failed rename loses nothing.
    old = _sibling(target, "old")
    os.replace(target, old)
    try:
        os.replace(staging, target)
    except BaseException:
        os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _write_model(root: Path, seed: int, transformer_config: dict[str, Any]) -> None:
    import diffusers

    clip_vocab, clip_merges = train_clip_bpe(CORPUS)
    for name in ("tokenizer", "tokenizer_2"):
        _write_clip_tokenizer(root / name, clip_vocab, clip_merges)
    t5_vocab_size = _write_t5_tokenizer(root / "tokenizer_3")

    # One seed per component, so changing one component's size leaves the others' weights alone.
    _write_clip_encoder(root / "text_encoder", len(clip_vocab), CLIP_L_HIDDEN, CLIP_L_PROJECTION_DIM, seed, 1)
    _write_clip_encoder(root / "text_encoder_2", len(clip_vocab), CLIP_G_HIDDEN, CLIP_G_PROJECTION_DIM, seed, 2)
    _write_t5_encoder(root / "text_encoder_3", t5_vocab_size, seed, 3)
    _write_transformer(root / "transformer", seed, 4, transformer_config)
    _write_vae(root / "vae", seed, 5)

    from diffusers import FlowMatchEulerDiscreteScheduler

    FlowMatchEulerDiscreteScheduler(shift=3.0).save_pretrained(root / "scheduler")

    index = {"_diffusers_version": diffusers.__version__, **MODEL_INDEX}
    _write_json(root / "model_index.json", index)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    # diffusers' own style (sorted keys, two-space indent), so files diff cleanly against official ones.
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


@contextmanager
def _seeded(seed: int, component: int) -> Iterator[None]:
    """Seeds torch for one component without disturbing the caller's global RNG state."""
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed * 1000 + component)
        yield


# --- tokenizers -------------------------------------------------------------------------------------------


def _clip_pretokenize(texts: tuple[str, ...]) -> Counter[str]:
    """Words as CLIPTokenizer sees them (normalized, split, byte-level), counted."""
    from transformers import CLIPTokenizer

    # Borrow the loader's own normalizer and pre-tokenizer, so training and use split text identically.
    backend = CLIPTokenizer(vocab={CLIP_BOS: 0, CLIP_EOS: 1}, merges=[]).backend_tokenizer
    words: Counter[str] = Counter()
    for text in texts:
        normalized = backend.normalizer.normalize_str(text)
        words.update(piece for piece, _ in backend.pre_tokenizer.pre_tokenize_str(normalized))
    return words


def train_clip_bpe(texts: tuple[str, ...], num_merges: int = CLIP_NUM_MERGES) -> tuple[dict[str, int], list[str]]:
    """Train CLIP-style byte-level BPE (with the `</w>` end-of-word suffix) and return (vocab, merges).

    Plain Python rather than `tokenizers`' BpeTrainer: its tie-breaking and alphabet order depend on
    hash-map order, so two runs can give different ids; here ties go to the smallest pair.
    """
    from tokenizers import pre_tokenizers

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    # Every byte also gets a word-final form, as in CLIP's real vocab: otherwise a word ending in a
    # character the corpus never ended a word with would map to the unknown token (== <|endoftext|>).
    vocab_tokens = [CLIP_BOS, CLIP_EOS, *alphabet, *(c + "</w>" for c in alphabet)]

    words = {(*w[:-1], w[-1] + "</w>"): n for w, n in _clip_pretokenize(texts).items()}
    merges: list[str] = []
    for _ in range(num_merges):
        pairs: Counter[tuple[str, str]] = Counter()
        for symbols, count in words.items():
            for pair in pairwise(symbols):
                pairs[pair] += count
        if not pairs:
            break
        best, count = min(pairs.items(), key=lambda item: (-item[1], item[0]))
        if count < 2:
            break
        merged = best[0] + best[1]
        merges.append(f"{best[0]} {best[1]}")
        vocab_tokens.append(merged)
        words = {_merge(symbols, best, merged): n for symbols, n in words.items()}

    vocab: dict[str, int] = {}
    for token in vocab_tokens:
        vocab.setdefault(token, len(vocab))
    return vocab, merges


def _merge(symbols: tuple[str, ...], pair: tuple[str, str], merged: str) -> tuple[str, ...]:
    out: list[str] = []
    i = 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(merged)
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)


def _write_clip_tokenizer(folder: Path, vocab: dict[str, int], merges: list[str]) -> None:
    # The official layout: vocab.json + merges.txt + tokenizer_config.json, no tokenizer.json.
    folder.mkdir(parents=True)
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n" + "".join(m + "\n" for m in merges), encoding="utf-8")
    config = {
        "backend": "tokenizers",
        "bos_token": CLIP_BOS,
        "eos_token": CLIP_EOS,
        "model_max_length": CLIP_MAX_LENGTH,
        "pad_token": CLIP_EOS,
        "tokenizer_class": "CLIPTokenizer",
        "unk_token": CLIP_EOS,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def train_t5_sentencepiece(texts: tuple[str, ...], vocab_size: int = T5_PIECES) -> bytes:
    """Train a T5-style sentencepiece unigram model (pad 0, eos 1, unk 2, no bos) and return its bytes."""
    import sentencepiece as spm

    spm.set_random_generator_seed(0)  # the tokenizer does not depend on the weights' seed
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts),
        model_writer=model,
        model_type="unigram",
        vocab_size=vocab_size,
        hard_vocab_limit=False,  # a small corpus may not support the full size
        character_coverage=1.0,
        # Printable ASCII always gets a piece, so digits or capitals the corpus lacks are not <unk>.
        required_chars="".join(sorted(set(string.ascii_letters + string.digits + string.punctuation))),
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        num_threads=1,  # multi-threaded EM is not reproducible
        shuffle_input_sentence=False,
        minloglevel=2,  # silence the trainer's progress log
    )
    return model.getvalue()


def _write_t5_tokenizer(folder: Path) -> int:
    """Write spiece.model, tokenizer.json and tokenizer_config.json; return the vocabulary size."""
    from sentencepiece import sentencepiece_model_pb2
    from transformers import T5Tokenizer

    folder.mkdir(parents=True)
    spiece = train_t5_sentencepiece(CORPUS)
    (folder / "spiece.model").write_bytes(spiece)

    proto = sentencepiece_model_pb2.ModelProto()  # pyright: ignore[reportAttributeAccessIssue] - generated protobuf module
    proto.ParseFromString(spiece)
    # What transformers' sentencepiece converter builds: the pieces, then the sentinels from
    # <extra_id_99> down to <extra_id_0>, and the model's own normalizer.
    vocab = [(piece.piece, piece.score) for piece in proto.pieces]
    vocab += [(f"<extra_id_{i}>", 0.0) for i in reversed(range(T5_EXTRA_IDS))]
    tokenizer = T5Tokenizer(
        vocab=vocab,
        _spm_precompiled_charsmap=proto.normalizer_spec.precompiled_charsmap,
        extra_ids=T5_EXTRA_IDS,
        model_max_length=512,
    )
    tokenizer.save_pretrained(folder)
    return len(tokenizer)


# --- models -----------------------------------------------------------------------------------------------


def _write_clip_encoder(
    folder: Path, vocab_size: int, hidden: int, projection_dim: int, seed: int, component: int
) -> None:
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection

    config = CLIPTextConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=2,
        num_attention_heads=2,
        max_position_embeddings=CLIP_MAX_LENGTH,
        projection_dim=projection_dim,
        hidden_act="gelu",
        # The vocab puts the special tokens first; CLIP pools at the first eos_token_id.
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
    )
    with _seeded(seed, component):
        model = CLIPTextModelWithProjection(config)
    model.save_pretrained(folder, safe_serialization=True)


def _write_t5_encoder(folder: Path, vocab_size: int, seed: int, component: int) -> None:
    from transformers import T5Config, T5EncoderModel

    config = T5Config(
        vocab_size=vocab_size,
        d_model=JOINT_ATTENTION_DIM,
        d_kv=8,
        d_ff=16,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=2,
        relative_attention_num_buckets=8,
        feed_forward_proj="relu",
        is_encoder_decoder=False,
        use_cache=False,
        pad_token_id=0,
        eos_token_id=1,
    )
    with _seeded(seed, component):
        model = T5EncoderModel(config)
    model.save_pretrained(folder, safe_serialization=True)


def _write_transformer(folder: Path, seed: int, component: int, config: dict[str, Any]) -> None:
    from core.engine.transformer import OFFICIAL_CLASS_NAME, ContentVTransformer3DModel

    with _seeded(seed, component):
        model = ContentVTransformer3DModel(**config)
    model.save_pretrained(folder, safe_serialization=True)
    # The official checkpoint names its own class; loaders map it back to ours.
    config_path = folder / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["_class_name"] = OFFICIAL_CLASS_NAME
    _write_json(config_path, config)


def _write_vae(folder: Path, seed: int, component: int) -> None:
    from diffusers import AutoencoderKLWan

    with _seeded(seed, component):
        model = AutoencoderKLWan(**VAE_CONFIG)
    model.save_pretrained(folder, safe_serialization=True)
