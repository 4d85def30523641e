"""The demo model: official folder layout, every component loads with the classes the app uses, the shapes
connect the way the pipeline connects them, and builds are reproducible and safe."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from diffusers import AutoencoderKLWan
from transformers import (
    CLIPTextModelWithProjection,
    CLIPTokenizer,
    T5EncoderModel,
    T5Tokenizer,
    T5TokenizerFast,
)

import core.model.demo as demo_model
from core.engine.transformer import ContentVTransformer3DModel
from core.model.demo import make_demo_model

EXPECTED_FILES = [
    "model_index.json",
    "scheduler/scheduler_config.json",
    "text_encoder/config.json",
    "text_encoder/model.safetensors",
    "text_encoder_2/config.json",
    "text_encoder_2/model.safetensors",
    "text_encoder_3/config.json",
    "text_encoder_3/model.safetensors",
    "tokenizer/merges.txt",
    "tokenizer/tokenizer_config.json",
    "tokenizer/vocab.json",
    "tokenizer_2/merges.txt",
    "tokenizer_2/tokenizer_config.json",
    "tokenizer_2/vocab.json",
    "tokenizer_3/spiece.model",
    "tokenizer_3/tokenizer.json",
    "tokenizer_3/tokenizer_config.json",
    "transformer/config.json",
    "transformer/diffusion_pytorch_model.safetensors",
    "vae/config.json",
    "vae/diffusion_pytorch_model.safetensors",
]

# A prompt full of words the tokenizers' corpus lacks (capitals, digits, accents, a dash).
UNSEEN_PROMPT = "A quizzical zebra juxtaposes 3 XYLOPHONES near Zürich's fjord — wow!"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_demo_model(tmp_path_factory.mktemp("demo") / "ContentV-demo")


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_layout_matches_the_official_checkpoint(model_dir: Path) -> None:
    assert _files(model_dir) == EXPECTED_FILES
    index = json.loads((model_dir / "model_index.json").read_text())
    assert index.pop("_diffusers_version")
    # the same classes, module by module, as the index the official implementation wrote
    official = json.loads((Path(__file__).parent / "data/reference/tiny-contentv/model_index.json").read_text())
    official.pop("_diffusers_version")
    assert index == official
    transformer_config = json.loads((model_dir / "transformer/config.json").read_text())
    assert transformer_config["_class_name"] == "SD3Transformer3DModel"
    scheduler_config = json.loads((model_dir / "scheduler/scheduler_config.json").read_text())
    assert scheduler_config["_class_name"] == "FlowMatchEulerDiscreteScheduler"
    assert scheduler_config["shift"] == 3.0


@pytest.mark.parametrize("name", ["tokenizer", "tokenizer_2"])
def test_clip_tokenizer(model_dir: Path, name: str) -> None:
    tokenizer = CLIPTokenizer.from_pretrained(model_dir / name)
    assert tokenizer.model_max_length == 77
    ids = tokenizer(UNSEEN_PROMPT).input_ids
    assert ids[0] == tokenizer.bos_token_id == 0
    assert ids[-1] == tokenizer.eos_token_id == 1
    # Unseen words fall back to byte tokens, never to the unknown token (which is <|endoftext|>).
    assert tokenizer.eos_token_id not in ids[1:-1]
    assert tokenizer.decode(ids, skip_special_tokens=True).startswith("a quizzical zebra juxtaposes 3 xylophones")
    padded = tokenizer("a dog runs", padding="max_length", max_length=77, truncation=True).input_ids
    assert len(padded) == 77


@pytest.mark.parametrize("cls", [T5Tokenizer, T5TokenizerFast])
def test_t5_tokenizer(model_dir: Path, cls: type) -> None:
    tokenizer = cls.from_pretrained(model_dir / "tokenizer_3")
    assert (tokenizer.pad_token, tokenizer.pad_token_id) == ("<pad>", 0)
    assert (tokenizer.eos_token, tokenizer.eos_token_id) == ("</s>", 1)
    assert (tokenizer.unk_token, tokenizer.unk_token_id) == ("<unk>", 2)
    # Sentinels follow the pieces, <extra_id_99> first, as in T5's own vocabulary.
    assert tokenizer.convert_tokens_to_ids("<extra_id_0>") == len(tokenizer) - 1
    assert tokenizer.convert_tokens_to_ids("<extra_id_99>") == len(tokenizer) - 100
    ids = tokenizer(UNSEEN_PROMPT).input_ids
    assert ids[-1] == 1 and 1 not in ids[:-1]
    config = json.loads((model_dir / "text_encoder_3/config.json").read_text())
    assert config["vocab_size"] == len(tokenizer)


def test_components_connect(model_dir: Path) -> None:
    prompt = "A red fox runs through the snow at dawn"
    clip_states, pooled = [], []
    for tok_name, enc_name in (("tokenizer", "text_encoder"), ("tokenizer_2", "text_encoder_2")):
        tokenizer = CLIPTokenizer.from_pretrained(model_dir / tok_name)
        encoder = CLIPTextModelWithProjection.from_pretrained(model_dir / enc_name).eval()
        ids = tokenizer(prompt, padding="max_length", max_length=77, truncation=True, return_tensors="pt").input_ids
        with torch.no_grad():
            out = encoder(ids, output_hidden_states=True)
        penultimate = out.hidden_states[-2]
        assert penultimate.shape == (1, 77, encoder.config.hidden_size)
        assert out.text_embeds.shape == (1, encoder.config.projection_dim)
        assert torch.isfinite(penultimate).all()
        clip_states.append(penultimate)
        pooled.append(out.text_embeds)

    t5_tokenizer = T5Tokenizer.from_pretrained(model_dir / "tokenizer_3")
    t5 = T5EncoderModel.from_pretrained(model_dir / "text_encoder_3").eval()
    ids = t5_tokenizer(prompt, padding="max_length", max_length=256, truncation=True, return_tensors="pt").input_ids
    with torch.no_grad():
        t5_states = t5(ids).last_hidden_state
    assert t5_states.shape == (1, 256, t5.config.d_model)
    assert torch.isfinite(t5_states).all()

    transformer = ContentVTransformer3DModel.from_pretrained(model_dir / "transformer").eval()
    assert t5.config.d_model == transformer.config.joint_attention_dim
    # SD3's joint conditioning: CLIP features side by side, zero-padded to T5's width, then T5's tokens.
    clip = torch.cat(clip_states, dim=-1)
    assert clip.shape[-1] <= t5.config.d_model
    clip = torch.nn.functional.pad(clip, (0, t5.config.d_model - clip.shape[-1]))
    context = torch.cat([clip, t5_states], dim=-2)
    pooled_projection = torch.cat(pooled, dim=-1)
    assert pooled_projection.shape == (1, transformer.config.pooled_projection_dim)

    latents = torch.randn(1, 16, 3, 6, 10, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        noise_pred = transformer(
            hidden_states=latents,
            encoder_hidden_states=context,
            pooled_projections=pooled_projection,
            timestep=torch.tensor([500.0]),
        ).sample
    assert noise_pred.shape == latents.shape
    assert torch.isfinite(noise_pred).all()

    vae = AutoencoderKLWan.from_pretrained(model_dir / "vae").eval()
    assert vae.config.z_dim == transformer.config.in_channels == 16
    with torch.no_grad():
        video = vae.decode(latents).sample
    assert video.shape == (1, 3, 9, 48, 80)
    assert torch.isfinite(video).all()


def test_builds_are_reproducible(model_dir: Path, tmp_path: Path) -> None:
    state = torch.random.get_rng_state()
    again = make_demo_model(tmp_path / "again", seed=0)
    assert torch.equal(torch.random.get_rng_state(), state), "the caller's RNG must be left alone"
    for name in EXPECTED_FILES:
        assert (again / name).read_bytes() == (model_dir / name).read_bytes(), name

    other = make_demo_model(tmp_path / "other", seed=1)
    weights = "transformer/diffusion_pytorch_model.safetensors"
    assert (other / weights).read_bytes() != (model_dir / weights).read_bytes()


def test_build_is_quiet(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    make_demo_model(tmp_path / "quiet")
    out, err = capfd.readouterr()
    assert out == ""
    assert err == ""


def test_refuses_a_non_empty_folder(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        make_demo_model(target)
    assert _files(target) == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]

    make_demo_model(target, overwrite=True)
    assert _files(target) == EXPECTED_FILES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_accepts_an_empty_folder(tmp_path: Path) -> None:
    target = tmp_path / "empty"
    target.mkdir()
    assert make_demo_model(target) == target
    assert _files(target) == EXPECTED_FILES


def test_failure_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(demo_model, "_write_vae", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        make_demo_model(tmp_path / "model")
    assert list(tmp_path.iterdir()) == []
