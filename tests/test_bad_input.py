"""Bad input stays bad input: each is refused before any work with its exit status (2 bad input, 3 model, 5 output),
exactly one line on stderr, and nothing left in the output folder — never after the job has run."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.cli import main as cli_main
from core.errors import EXIT_BAD_INPUT, EXIT_MODEL, EXIT_OUTPUT, InvalidRequestError, exit_code
from core.job.request import GenerationRequest
from core.output.video import (
    check_outputs,
    clean_leftovers,
    publish_clip,
    read_mp4_frames,
    reserve_outputs,
    temp_name,
)

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--width", "80", "--height", "48", "--frames", "5", "--steps", "1", "--seed", "1"]


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def generate(model: Path, *extra: str, output: Path) -> tuple[int, list[str]]:
    """`main.py generate` in this process; (exit status, the lines on stderr)."""
    err = io.StringIO()
    code = cli_main(["generate", "--model", str(model), *TINY, *extra, "--output", str(output)], io.StringIO(), err)
    return code, err.getvalue().strip().splitlines()


def assert_refused(code: int, lines: list[str], expected: int, *words: str) -> None:
    assert code == expected, lines
    assert len(lines) == 1, lines  # one line, no progress: nothing started
    assert lines[0].startswith("error: ") and "unexpected" not in lines[0], lines
    for word in words:
        assert word in lines[0], lines


# ---- text --------------------------------------------------------------------------------------------------------
BAD_TEXT = [
    ("a kite\udcff over the sea", "U+DCFF"),  # a byte that is not UTF-8, as Linux argv delivers it (surrogateescape)
    ("\udc80", "U+DC80"),
    ("a kite\ud800", "U+D800"),  # a lone surrogate from a JSON "\ud800" escape
    ("a kite\x00", "U+0000"),
    ("a kite\x1b[31m", "U+001B"),
]


@pytest.mark.parametrize("option", ["--prompt", "--negative-prompt"])
@pytest.mark.parametrize(("text", "code_point"), BAD_TEXT, ids=[c for _, c in BAD_TEXT])
def test_text_that_is_not_valid_text_exits_2_with_one_line(tmp_path, reference_model, option, text, code_point):
    prompt = ["--prompt", text] if option == "--prompt" else ["--prompt", "x", "--negative-prompt", text]
    code, lines = generate(reference_model, *prompt, output=tmp_path / "o.mp4")
    what = "prompt" if option == "--prompt" else "negative prompt"
    assert_refused(code, lines, EXIT_BAD_INPUT, f"The {what}", code_point)
    assert listing(tmp_path) == []


def test_tabs_and_line_breaks_are_fine_in_a_prompt():
    assert GenerationRequest(prompt="a kite\tover\nthe\r\nsea", negative_prompt="blur\n").problems() == []


def test_requests_read_back_from_json_are_checked_the_same_way():
    """History rows and sidecars hold the request as JSON: a "\\udcff" escape or a NUL there is refused too."""
    for raw in ('{"prompt": "a \\udcff kite"}', '{"prompt": "ok", "negative_prompt": "bad\\u0000"}'):
        request = GenerationRequest.from_dict(json.loads(raw))
        with pytest.raises(InvalidRequestError) as refused:
            request.validate()
        assert exit_code(refused.value.kind) == EXIT_BAD_INPUT
    # A prompt that is not text at all (a damaged row) is named, not a TypeError.
    assert GenerationRequest(prompt=["x"]).problems() == ["The prompt must be text (got list)."]  # type: ignore[arg-type]


@pytest.mark.skipif(sys.platform == "win32", reason="argv is UTF-16 on Windows: no undecodable bytes reach Python")
def test_undecodable_argv_bytes_from_a_real_command_line(tmp_path, reference_model):
    out = tmp_path / "o.mp4"
    argv = [sys.executable, str(ROOT / "main.py"), "generate", "--model", str(reference_model)]
    proc = subprocess.run(
        [*argv, "--prompt", b"caf\xe9 at night", "--output", str(out)],  # Latin-1 bytes, not UTF-8
        capture_output=True,
        env=dict(os.environ, PYTHONUTF8="0", LC_ALL="C.UTF-8"),
        timeout=300,
    )
    stderr = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    assert proc.returncode == EXIT_BAD_INPUT, stderr
    assert len(stderr) == 1 and "U+DCE9" in stderr[0] and "Traceback" not in stderr[0], stderr
    assert listing(tmp_path) == []


# ---- names too long for the file system ----------------------------------------------------------------------------
def _name_max(folder: Path) -> int:
    return os.pathconf(folder, "PC_NAME_MAX") if hasattr(os, "pathconf") else 255


def test_output_names_too_long_exit_5_before_anything(tmp_path, reference_model):
    limit = _name_max(tmp_path)
    cases = [
        (["--output", str(tmp_path / ("a" * 300 + ".mp4"))], "too long"),
        # Fits, but its reservation `.NAME.reserved` and sidecar `.json` do not: refused, not failed after the job.
        (["--output", str(tmp_path / ("b" * (limit - 4) + ".mp4"))], "also writes"),
        (["--output", str(tmp_path / ("c" * 300) / "o.mp4")], "too long"),
        (["--output", str(tmp_path / "o.mp4"), "--save-frames", str(tmp_path / ("d" * 300))], "too long"),
    ]
    for extra, words in cases:
        err = io.StringIO()
        argv = ["generate", "--model", str(reference_model), "--prompt", "x", *TINY, *extra]
        code = cli_main(argv, io.StringIO(), err)
        assert_refused(code, err.getvalue().strip().splitlines(), EXIT_OUTPUT, words)
        assert listing(tmp_path) == []


def test_the_longest_name_that_fits_works_and_leaves_nothing_else(tmp_path):
    limit = _name_max(tmp_path)
    # The longest derived name is the reservation marker `.{name}.reserved` (10 bytes more than the clip's name).
    clip = tmp_path / ("k" * (limit - 14) + ".mp4")
    frames_dir = tmp_path / ("f" * limit)
    with reserve_outputs(clip, frames_dir) as reservation:
        publish_clip(_frames(), reservation, 8, {"a": 1})
    # Five frames and the parameters they carry.
    pngs = [f"{frames_dir.name}/frame_{i:05d}.png" for i in range(5)] + [f"{frames_dir.name}/parameters.json"]
    assert listing(tmp_path) == sorted([clip.name, clip.with_suffix(".json").name, frames_dir.name, *pngs])


# ---- frames folders and clips whose names could collide --------------------------------------------------------------
def _frames() -> np.ndarray:
    return np.random.default_rng(1).random((5, 32, 48, 3), dtype=np.float32)


TOKEN = f"{os.getpid()}-0123456789ab"
COLLISIONS = {
    # frames folder name (beside clip.mp4) -> the exit status if it is refused up front, None if it works
    "clip": None,  # the clip's stem: its staging name was the reservation's update file before the kind tags
    "clip.mp4": EXIT_BAD_INPUT,
    "clip.json": EXIT_BAD_INPUT,
    "clip.mp4.reserved": None,  # no leading dot: not a name the app uses
    "Clip.JSON": EXIT_BAD_INPUT,  # one file on case-insensitive file systems: refused everywhere
    ".clip.mp4.reserved": EXIT_BAD_INPUT,
    f".clip.{TOKEN}.partial": EXIT_BAD_INPUT,  # staging and update names of versions before the kind tags
    f".clip.{TOKEN}.partial.mp4": EXIT_BAD_INPUT,
    temp_name("clip", TOKEN, "frames"): EXIT_BAD_INPUT,
    temp_name("clip", TOKEN, "marker"): EXIT_BAD_INPUT,
    temp_name("clip", TOKEN, "sidecar", ".json"): EXIT_BAD_INPUT,
    ".clip": None,
    "clip.partial": None,
    ".": EXIT_BAD_INPUT,  # the clip's own folder
}


@pytest.mark.parametrize(("frames_name", "refusal"), COLLISIONS.items(), ids=list(COLLISIONS))
def test_every_combination_of_names_works_or_is_refused_up_front(tmp_path, frames_name, refusal):
    clip = tmp_path / "clip.mp4"
    frames_dir = tmp_path / frames_name
    if frames_name == ".":
        frames_dir = tmp_path
    if refusal is not None:
        with pytest.raises(Exception) as refused:
            check_outputs(clip, frames_dir)
        assert exit_code(refused.value.kind) == refusal  # type: ignore[attr-defined]
        with pytest.raises(type(refused.value)):
            reserve_outputs(clip, frames_dir)
        assert listing(tmp_path) == []
        return
    with reserve_outputs(clip, frames_dir) as reservation:
        publish_clip(_frames(), reservation, 8, {"a": 1})
    assert read_mp4_frames(clip).shape[0] == 5
    assert json.loads(clip.with_suffix(".json").read_text()) == {"a": 1}
    assert sorted(p.name for p in frames_dir.glob("frame_*.png")) == [f"frame_{i:05d}.png" for i in range(5)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["clip.mp4", "clip.json", frames_name])


def test_the_temporary_names_of_one_job_are_all_distinct(tmp_path):
    """Whatever the user's names, no two of a job's names (final, staging, reservation, update) are the same."""
    for frames_name in ["clip", "clip.json.x", ".clip.mp4", "clip.mp4.d"]:
        reservation = reserve_outputs(tmp_path / "clip.mp4", tmp_path / frames_name)
        try:
            every = [
                reservation.video_path,
                reservation.sidecar_path,
                reservation.frames_dir,
                reservation.marker,
                reservation.temp_video,
                reservation.temp_sidecar,
                reservation.frames_staging,
                reservation.marker_update,
            ]
            assert len({str(p).casefold() for p in every}) == len(every), every
        finally:
            reservation.release()
        assert listing(tmp_path) == []


def test_save_frames_named_like_the_clip_from_the_command_line(tmp_path, reference_model):
    """The report: `--output clip.mp4 --save-frames clip` ran the whole job and then failed with "File exists"."""
    code, lines = generate(
        reference_model, "--prompt", "x", "--save-frames", str(tmp_path / "clip"), output=tmp_path / "clip.mp4"
    )
    assert code == 0, lines
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip", "clip.json", "clip.mp4"]
    assert len(list((tmp_path / "clip").glob("frame_*.png"))) == 5
    code, lines = generate(
        reference_model, "--prompt", "x", "--save-frames", str(tmp_path / "b.json"), output=tmp_path / "b.mp4"
    )
    assert_refused(code, lines, EXIT_BAD_INPUT, "same name as the clip's sidecar")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip", "clip.json", "clip.mp4"]


# ---- leftovers of killed jobs, old naming and new ----------------------------------------------------------------
DEAD_PID = 4_194_303  # above any pid Linux hands out by default; checked below to be free


def _killed_job(folder: Path, source: Path, state: str, old_names: bool) -> dict[str, Path]:
    """The files a job killed mid-publish leaves: reservation marker, temporary clip, sidecar and frames staging
    (`source`: a verified clip and its sidecar, written elsewhere)."""
    assert not Path(f"/proc/{DEAD_PID}").exists()
    token = f"{DEAD_PID}-00112233aabb"
    video = folder / "k.mp4"
    frames_dir = folder / "k"  # the frames folder named like its clip: old staging name == old update file name
    if old_names:  # as versions before the kind tags named them, and their marker did not list them
        temps = {
            "temp_video": folder / f".k.{token}.partial.mp4",
            "temp_sidecar": folder / f".k.{token}.partial.json",
            "frames_staging": folder / f".k.{token}.partial",
        }
    else:
        temps = {
            "temp_video": folder / temp_name("k", token, "video", ".mp4"),
            "temp_sidecar": folder / temp_name("k", token, "sidecar", ".json"),
            "frames_staging": folder / temp_name("k", token, "frames"),
        }
    marker = {"pid": DEAD_PID, "started": 1.0, "token": token, "state": state, "video": str(video)}
    marker |= {"sidecar": str(video.with_suffix(".json")), "frames_dir": str(frames_dir)}
    if not old_names:
        marker |= {k: str(v) for k, v in temps.items()}
    (folder / ".k.mp4.reserved").write_text(json.dumps(marker))
    shutil.copyfile(source, temps["temp_video"])
    shutil.copyfile(source.with_suffix(".json"), temps["temp_sidecar"])
    temps["frames_staging"].mkdir()
    (temps["frames_staging"] / "frame_00000.png").write_bytes(b"png")
    if not old_names:
        (folder / temp_name("k", token, "marker")).write_text("{}")  # killed while updating its marker
    return temps


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the dead pid is a Linux one")
@pytest.mark.parametrize("old_names", [True, False], ids=["old-names", "kind-tagged-names"])
@pytest.mark.parametrize("state", ["writing", "publishing"])
def test_leftovers_of_killed_jobs_are_finished_or_removed(tmp_path, state, old_names):
    (tmp_path / "source").mkdir()
    with reserve_outputs(tmp_path / "source" / "s.mp4") as source:
        publish_clip(_frames(), source, 8, {"a": 1})
    folder = tmp_path / "out"
    folder.mkdir()
    _killed_job(folder, tmp_path / "source" / "s.mp4", state, old_names)
    clean_leftovers(folder)
    if state == "publishing":  # every part had been verified: the publish is completed, nothing lost
        assert listing(folder) == ["k", "k.json", "k.mp4", "k/frame_00000.png"]
        assert read_mp4_frames(folder / "k.mp4").shape[0] == 5
    else:
        assert listing(folder) == []


# ---- model configs that are absurd or contradicted by the weights ----------------------------------------------------
def _edit_config(model: Path, component: str, **changes: object) -> None:
    path = model / component / "config.json"
    config = json.loads(path.read_text())
    config.update(changes)
    path.write_text(json.dumps(config))


def _drop_tensor(model: Path, component: str, name: str) -> None:
    from safetensors.torch import load_file, save_file

    (path,) = (model / component).glob("*.safetensors")
    tensors = load_file(path)
    del tensors[name]
    save_file(tensors, path)


BAD_CONFIGS = [
    ("transformer", {"num_layers": 1_000_000}, "transformer/config.json: num_layers is 1000000, but the weights say 2"),
    ("transformer", {"num_layers": 0}, "transformer/config.json: num_layers must be a whole number from 1"),
    ("transformer", {"num_layers": -1}, "transformer/config.json: num_layers must be a whole number from 1"),
    ("transformer", {"num_layers": 38}, "transformer/config.json: num_layers is 38, but the weights say 2"),
    ("transformer", {"num_layers": 2.5}, "transformer/config.json: num_layers must be a whole number"),
    (
        "transformer",
        {"attention_head_dim": 8},
        "transformer/config.json: attention_head_dim is 8, but the weights say 16",
    ),
    (
        "transformer",
        {"attention_head_dim": 10**9},
        "transformer/config.json: attention_head_dim must be a whole number",
    ),
    ("transformer", {"num_attention_heads": -4}, "transformer/config.json: num_attention_heads must be"),
    ("transformer", {"joint_attention_dim": 4095}, "transformer/config.json: joint_attention_dim is 4095"),
    ("transformer", {"in_channels": 0}, "transformer/config.json: in_channels must be"),
    ("transformer", {"patch_size": 10**6}, "transformer/config.json: patch_size must be"),
    ("transformer", {"sample_size": -128}, "transformer/config.json: sample_size must be"),
    ("transformer", {"pos_embed_max_size": 10**6}, "transformer/config.json: pos_embed_max_size must be"),
    ("vae", {"z_dim": 0}, "vae/config.json: z_dim must be"),
    ("vae", {"z_dim": 32}, "vae/config.json: z_dim is 32, but the weights say 16"),
    ("vae", {"base_dim": 10**7}, "vae/config.json: base_dim must be"),
    ("vae", {"num_res_blocks": 10**6}, "vae/config.json: num_res_blocks must be"),
    ("vae", {"num_res_blocks": 2}, "vae/config.json: num_res_blocks is 2, but the weights say 1"),
    ("vae", {"dim_mult": [1, 2, 4, 10**6]}, "vae/config.json: dim_mult must be a list"),
    (
        "vae",
        {"dim_mult": [1, 2, 4, 8]},
        "in the weights, but the config makes it",
    ),  # only the built model shows this one
    ("text_encoder", {"hidden_size": -1}, "text_encoder/config.json: hidden_size must be"),
    ("text_encoder", {"num_hidden_layers": 10**6}, "text_encoder/config.json: num_hidden_layers is 1000000"),
    ("text_encoder", {"intermediate_size": 128}, "text_encoder/config.json: intermediate_size is 128, but the weights"),
    ("text_encoder_2", {"num_hidden_layers": 0}, "text_encoder_2/config.json: num_hidden_layers must be"),
    (
        "text_encoder_2",
        {"num_attention_heads": 5},
        "text_encoder_2/config.json: num_attention_heads (5) does not divide",
    ),
    ("text_encoder_3", {"num_layers": 24}, "text_encoder_3/config.json: num_layers is 24, but the weights say 2"),
    ("text_encoder_3", {"d_model": 10**8}, "text_encoder_3/config.json: d_model must be"),
    ("text_encoder_3", {"d_kv": 64}, "text_encoder_3/config.json: num_heads × d_kv is 128, but the weights say 16"),
    ("text_encoder_3", {"vocab_size": 0}, "text_encoder_3/config.json: vocab_size must be"),
]


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("component", "changes", "words"), BAD_CONFIGS, ids=[w for _, _, w in BAD_CONFIGS])
def test_absurd_or_contradicted_configs_exit_3_before_anything(tmp_path, broken_model, component, changes, words):
    _edit_config(broken_model, component, **changes)
    out = tmp_path / "out"
    out.mkdir()
    code, lines = generate(broken_model, "--prompt", "x", "--save-frames", str(out / "f"), output=out / "o.mp4")
    assert_refused(code, lines, EXIT_MODEL, words)
    assert listing(out) == []


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("component", "tensor"),
    [
        ("transformer", "proj_out.bias"),
        ("transformer", "transformer_blocks.1.attn.to_q.weight"),
        ("vae", "decoder.conv_out.weight"),
        ("text_encoder_3", "encoder.final_layer_norm.weight"),
    ],
)
def test_a_tensor_the_weights_lack_exits_3_naming_it(tmp_path, broken_model, component, tensor):
    _drop_tensor(broken_model, component, tensor)
    out = tmp_path / "out"
    out.mkdir()
    code, lines = generate(broken_model, "--prompt", "x", output=out / "o.mp4")
    assert_refused(code, lines, EXIT_MODEL, f"{component}/config.json", tensor)
    assert listing(out) == []


def test_a_header_shape_that_contradicts_its_byte_range_is_refused(broken_model):
    """A header whose shape says more bytes than its offsets give (a damaged or hand-edited file)."""
    from core.model.checkpoint import inspect_model_folder

    (path,) = (broken_model / "transformer").glob("*.safetensors")
    data = path.read_bytes()
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + length])
    header["proj_out.bias"]["shape"] = [10**6]
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + data[8 + length :])
    assert any("is truncated or corrupt" in p for p in inspect_model_folder(broken_model).problems)


# ---- the full-size layout, headers only ------------------------------------------------------------------------------
def _write_header_only(folder: Path, model: object) -> None:
    """A safetensors file whose header lists every tensor of `model` (bf16) and whose data is a sparse hole."""
    header: dict[str, object] = {}
    offset = 0
    for name, tensor in model.state_dict().items():  # type: ignore[attr-defined]
        size = tensor.numel() * 2
        header[name] = {"dtype": "BF16", "shape": list(tensor.shape), "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header).encode()
    for old in folder.glob("*.safetensors"):
        old.unlink()
    with open(folder / "model.safetensors", "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text)
        f.truncate(8 + len(text) + offset)  # no data written: the file takes no disk space


def make_full_size_headers(root: Path) -> None:
    """ContentV-8B's configs (core.estimate's architecture), header-only weights, the reference's tokenizers."""
    import torch
    from diffusers import AutoencoderKLWan
    from transformers import CLIPTextConfig, CLIPTextModelWithProjection, T5Config, T5EncoderModel

    from core.engine.transformer import ContentVTransformer3DModel
    from core.estimate import Architecture
    from core.model.demo import TRANSFORMER_CONFIG, VAE_CONFIG

    arch = Architecture.contentv_8b()
    with torch.device("meta"):
        transformer = ContentVTransformer3DModel(**{**TRANSFORMER_CONFIG, **vars(arch.transformer)})
        vae = AutoencoderKLWan(**{**VAE_CONFIG, "base_dim": arch.vae.base_dim, "num_res_blocks": 2})
        clips = [
            CLIPTextModelWithProjection(
                CLIPTextConfig(
                    hidden_size=c.hidden_size,
                    intermediate_size=c.intermediate_size,
                    num_hidden_layers=c.num_hidden_layers,
                    num_attention_heads=c.hidden_size // 64,
                    projection_dim=c.projection_dim,
                )
            )
            for c in (arch.clip_l, arch.clip_g)
        ]
        t5 = arch.t5
        t5_model = T5EncoderModel(
            T5Config(
                d_model=t5.d_model,
                d_ff=t5.d_ff,
                d_kv=t5.d_kv,
                num_heads=t5.num_heads,
                num_layers=t5.num_layers,
                feed_forward_proj="gated-gelu",
            )
        )
    for name, model in (("transformer", transformer), ("vae", vae)):
        (root / name / "config.json").unlink()
        model.save_config(root / name)  # type: ignore[attr-defined]
        _write_header_only(root / name, model)
    for name, model in (("text_encoder", clips[0]), ("text_encoder_2", clips[1]), ("text_encoder_3", t5_model)):
        model.config.save_pretrained(root / name)
        _write_header_only(root / name, model)


@pytest.mark.timeout(300)
@pytest.mark.skipif(sys.platform == "win32", reason="sparse files")
def test_the_full_size_layout_checks_out_and_a_contradiction_in_it_is_refused(tmp_path, reference_model):
    from core.errors import ModelFolderError
    from core.model.checkpoint import check_model_shapes, inspect_model_folder

    root = tmp_path / "contentv-8b"
    shutil.copytree(reference_model, root)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    make_full_size_headers(root)
    report = inspect_model_folder(root)
    assert report.ok, report.problems
    assert report.total_weight_bytes > 15e9  # the real sizes, in bf16
    check_model_shapes(root)
    # The same width (19 × 128 = 38 × 64) with other heads: only the head size's own tensors show it.
    _edit_config(root, "transformer", num_attention_heads=19, attention_head_dim=128)
    with pytest.raises(ModelFolderError, match="attention_head_dim is 128, but the weights say 64"):
        check_model_shapes(root)
