"""Private by default: every file a person shares (the mp4's comment tag and sidecar, the WebM/GIF comments, the PNG
text chunks and `parameters.json`, `info --json`) names the model by its identity — name, hub id and revision where
known, a hash of its configs — and never by its folder's absolute path, unless the user keeps the path
(`generate --keep-model-path`, the window's `include_model_path`). A clip finds its model again by that identity
after the folder was moved or renamed."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from core.cli import main as cli_main
from core.engine.devices import Capabilities
from core.errors import EXIT_BAD_INPUT
from core.job.clip_settings import read_clip_settings, settings_notes
from core.model.identity import (
    SOURCE_MARKER,
    MatchKind,
    ModelIdentity,
    config_files,
    config_hash,
    find_model,
    identify_model,
    write_model_source,
)
from core.output.export import ExportFormat, ExportRequest, export_clip, shareable_parameters

TINY = ["--width", "80", "--height", "48", "--frames", "9", "--steps", "2", "--seed", "11", "--device", "cpu"]
CPU = Capabilities(cuda=False, mps=False)
PRIVATE = "alice-private-home"  # a distinctive parent folder: in no shared byte


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli_main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def copy_model(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def touch_later(path: Path) -> None:
    """Move a file's modification time on, so a change is seen whatever the file system's clock resolution."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))


def shared_texts(path: Path) -> list[bytes]:
    """Every byte of a shared file, and a GIF's comment joined up (its extension splits it into 255-byte blocks)."""
    texts = [path.read_bytes()]
    if path.suffix == ".gif":
        with Image.open(path) as gif:
            texts.append(bytes(gif.info.get("comment", b"")))
    return texts


def holds(path: Path, needle: str) -> bool:
    return any(needle.encode("utf-8") in text for text in shared_texts(path))


@pytest.fixture(scope="module")
def private_model(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Path:
    """The tiny model in a folder whose path names its owner."""
    return copy_model(tiny_model, tmp_path_factory.mktemp("home") / PRIVATE / "studio-models" / "tiny-contentv")


def make_clip(model: Path, folder: Path, *extra: str) -> dict[str, Path]:
    """A clip by `generate` (with PNG frames), its WebM, GIF and PNG exports (with `extra` export flags), and its
    `info --json`, all under `folder/shared`; the data folder (history, journals: private) beside it."""
    shared = folder / "shared"
    shared.mkdir(parents=True)
    clip = shared / "clip.mp4"
    code, _, err = run_cli(
        "generate", "--model", str(model), "--prompt", "a lighthouse at dusk", *TINY, *extra,
        "--save-frames", str(shared / "frames"), "--data-dir", str(folder / "data"), "--output", str(clip),
    )  # fmt: skip
    assert code == 0, err
    keep = "--keep-model-path" in extra
    for fmt, name in ((ExportFormat.WEBM, "clip.webm"), (ExportFormat.GIF, "clip.gif"), (ExportFormat.PNG, "png")):
        export_clip(ExportRequest(clip, fmt, shared / name, keep_model_path=keep))
    code, out, err = run_cli("info", str(clip), "--json", "--model", str(model), "--data-dir", str(folder / "data"))
    assert code == 0, err
    (shared / "info.json").write_text(out, encoding="utf-8")
    return {"clip": clip, "shared": shared, "data": folder / "data"}


def shared_files(shared: Path) -> list[Path]:
    files = sorted(p for p in shared.rglob("*") if p.is_file())
    names = {p.relative_to(shared).as_posix() for p in files}
    expected = {"clip.mp4", "clip.json", "clip.webm", "clip.webm.json", "clip.gif", "clip.gif.json", "info.json"}
    assert expected <= names and "png/parameters.json" in names and "png/frame_00000.png" in names, names
    return files


# ---- what a shared file holds --------------------------------------------------------------------------------------
def test_no_shared_file_holds_the_model_folders_path(private_model: Path, tmp_path: Path) -> None:
    made = make_clip(private_model, tmp_path)
    resolved = str(private_model.resolve())
    for path in shared_files(made["shared"]):
        for needle in (resolved, str(private_model), PRIVATE, "studio-models"):
            assert not holds(path, needle), (path, needle)
    # What they hold instead: the model's identity, the same in every one of them.
    identity = identify_model(private_model).to_dict()
    assert identity["name"] == "tiny-contentv" and len(identity["config_hash"]) == 64 and "path" not in identity
    sidecar = json.loads((made["shared"] / "clip.json").read_text(encoding="utf-8"))
    assert sidecar["model"] == identity
    for name in ("clip.webm", "clip.gif", "png", "png/frame_00004.png", "info.json"):
        assert read_clip_settings(made["shared"] / name).model == ModelIdentity(**identity), name
    info = json.loads((made["shared"] / "info.json").read_text(encoding="utf-8"))
    assert info["model"] == identity


def test_keep_model_path_puts_the_path_in_every_shared_file(private_model: Path, tmp_path: Path) -> None:
    made = make_clip(private_model, tmp_path, "--keep-model-path")
    resolved = str(private_model.resolve())
    for path in shared_files(made["shared"]):
        if path.suffix in (".mp4", ".webm", ".gif", ".json", ".png") and "frames" not in path.parts:
            assert holds(path, resolved), path
    assert read_clip_settings(made["clip"]).model.path == resolved
    # Exported with the setting off, a clip that kept its path shares none.
    webm = export_clip(ExportRequest(made["clip"], ExportFormat.WEBM, tmp_path / "shared.webm")).output
    assert not holds(webm, PRIVATE) and not holds(Path(f"{webm}.json"), PRIVATE)


def test_an_old_clips_plain_path_is_read_and_not_passed_on(private_model: Path, tmp_path: Path) -> None:
    made = make_clip(private_model, tmp_path)
    old = json.loads((made["shared"] / "clip.json").read_text(encoding="utf-8"))
    old["model"] = str(private_model)  # how clips recorded their model before identities
    sidecar = tmp_path / "old.json"
    sidecar.write_text(json.dumps(old), encoding="utf-8")
    settings = read_clip_settings(sidecar)
    assert settings.model == ModelIdentity(name="tiny-contentv", path=str(private_model))
    assert settings.model_dir == str(private_model.resolve()) and settings.model_match is MatchKind.PATH
    # An export of an old clip names the model by the identity of the folder it recorded, without the path.
    shared = shareable_parameters(old, keep_model_path=False)
    assert shared["model"] == identify_model(private_model).to_dict()
    assert PRIVATE not in json.dumps(shared)
    gone = shareable_parameters({**old, "model": "/home/bob/models/ContentV-8B"}, keep_model_path=False)
    assert gone["model"] == {"name": "ContentV-8B", "hub_id": "", "revision": "", "config_hash": ""}


# ---- the identity ----------------------------------------------------------------------------------------------
def test_the_config_hash_is_the_same_for_copies_and_changes_with_a_config(tiny_model: Path, tmp_path: Path) -> None:
    a = copy_model(tiny_model, tmp_path / "a" / "ContentV-8B")
    b = copy_model(tiny_model, tmp_path / "b" / "renamed")
    assert config_hash(a) == config_hash(b) == identify_model(b).config_hash
    names = [p.relative_to(a).as_posix() for p in config_files(a)]
    assert names[0] == "model_index.json" and "transformer/config.json" in names
    assert "scheduler/scheduler_config.json" in names and "tokenizer_3/tokenizer_config.json" in names
    assert not [n for n in names if n.endswith((".safetensors", ".model", "vocab.json", "merges.txt"))]

    weights = b / "transformer" / "diffusion_pytorch_model.safetensors"
    weights.write_bytes(weights.read_bytes())  # the weights are never read: rewritten, the hash stays
    assert config_hash(b) == config_hash(a)
    config = b / "transformer" / "config.json"
    data = json.loads(config.read_text(encoding="utf-8"))
    data["_name_or_path"] = "/home/alice/somewhere"  # where a config was saved from is not what the model is
    config.write_text(json.dumps(data, indent=4), encoding="utf-8")
    assert config_hash(b) == config_hash(a)
    before = identify_model(b)
    data["num_layers"] += 1
    config.write_text(json.dumps(data), encoding="utf-8")
    touch_later(config)
    assert config_hash(b) != config_hash(a)
    assert identify_model(b).config_hash == config_hash(b) != before.config_hash  # the cache sees the change


def test_the_hub_id_and_revision_come_from_the_download_or_the_hub_cache(tiny_model: Path, tmp_path: Path) -> None:
    downloaded = copy_model(tiny_model, tmp_path / "ContentV-8B")
    write_model_source(downloaded, "ByteDance/ContentV-8B", "main", "a" * 40)
    assert (downloaded / SOURCE_MARKER).is_file()
    identity = identify_model(downloaded)
    assert (identity.name, identity.hub_id, identity.revision) == ("ContentV-8B", "ByteDance/ContentV-8B", "a" * 40)
    assert identity.describe() == "ContentV-8B (hub id ByteDance/ContentV-8B, revision aaaaaaaaaaaa)"
    cached = copy_model(tiny_model, tmp_path / "hub" / "models--ByteDance--ContentV-8B" / "snapshots" / ("b" * 40))
    identity = identify_model(cached)
    assert (identity.name, identity.hub_id, identity.revision) == ("ContentV-8B", "ByteDance/ContentV-8B", "b" * 40)


def test_find_model_prefers_the_config_then_the_hub_id_then_the_name(tiny_model: Path, tmp_path: Path) -> None:
    same_name = copy_model(tiny_model, tmp_path / "x" / "ContentV-8B")
    config = same_name / "scheduler" / "scheduler_config.json"
    config.write_text(config.read_text(encoding="utf-8").replace("{", '{"shift_extra": 1,', 1), encoding="utf-8")
    from_hub = copy_model(same_name, tmp_path / "y" / "downloaded")
    write_model_source(from_hub, "ByteDance/ContentV-8B", "main", "c" * 40)
    exact = copy_model(tiny_model, tmp_path / "z" / "moved")
    recorded = ModelIdentity("ContentV-8B", "ByteDance/ContentV-8B", "c" * 40, config_hash(tiny_model))
    folders = [same_name, from_hub, exact, tmp_path / "missing", tmp_path]  # not every candidate is a model
    assert find_model(recorded, folders) == _match(exact, MatchKind.CONFIG)
    assert find_model(recorded, [same_name, from_hub]) == _match(from_hub, MatchKind.HUB_REVISION)
    other_commit = ModelIdentity("ContentV-8B", "ByteDance/ContentV-8B", "d" * 40, "0" * 64)
    assert find_model(other_commit, [same_name, from_hub]) == _match(from_hub, MatchKind.HUB)
    assert find_model(ModelIdentity("ContentV-8B", config_hash="0" * 64), folders) == _match(same_name, MatchKind.NAME)
    assert find_model(ModelIdentity("nothing-like-it", config_hash="0" * 64), folders) is None
    assert find_model(ModelIdentity(), folders) is None


def _match(folder: Path, kind: MatchKind) -> object:
    from core.model.identity import ModelMatch

    return ModelMatch(str(folder.resolve()), kind)


# ---- finding the model after it moved ------------------------------------------------------------------------------
def test_generate_from_finds_a_moved_model_among_the_windows_folders(tiny_model: Path, tmp_path: Path) -> None:
    original = copy_model(tiny_model, tmp_path / PRIVATE / "tiny-contentv")
    made = make_clip(original, tmp_path / "first")
    moved = copy_model(original, tmp_path / "new-disk" / "renamed-model")
    shutil.rmtree(original)
    data = tmp_path / "data"
    data.mkdir()
    again = tmp_path / "again.mp4"
    base = ["generate", "--from", str(made["clip"]), "--output", str(again), "--data-dir", str(data)]

    code, out, err = run_cli(*base)  # the window knows no model folder yet
    assert code == EXIT_BAD_INPUT and not again.exists()
    assert "The clip was made with tiny-contentv, not found among the model folders this app knows." in err

    (data / "settings.json").write_text(json.dumps({"model_dir": str(moved)}), encoding="utf-8")
    code, out, err = run_cli(*base)
    assert code == 0, err
    assert f"model: {moved.resolve()} (the clip's model, found by its configuration)" in err
    assert json.loads(again.with_suffix(".json").read_text(encoding="utf-8"))["model"]["name"] == "renamed-model"

    # `info` says where it was found (and `info --json`, which may be shared, does not).
    code, out, err = run_cli("info", str(made["clip"]), "--data-dir", str(data), "--model", str(tmp_path))
    assert code == 0, err
    assert f"model folder:    {moved.resolve()}" in out.splitlines()
    assert f"  - Made with tiny-contentv, found at {moved.resolve()}." in out
    code, out, err = run_cli("info", str(made["clip"]), "--json", "--data-dir", str(data), "--model", str(tmp_path))
    assert code == 0 and "new-disk" not in out and str(moved) not in out
    assert "found among the model folders this app knows" in out


def test_a_moved_model_is_found_in_the_recent_list_and_the_data_folders_models(
    private_model: Path, tmp_path: Path
) -> None:
    made = make_clip(private_model, tmp_path / "made")
    settings = read_clip_settings(made["clip"])
    assert settings.model_dir == ""  # nothing to look in: no path recorded, no folders given
    moved = copy_model(private_model, tmp_path / "elsewhere" / "ContentV-8B copy")
    found = read_clip_settings(made["clip"], [tmp_path / "not-a-model", moved])
    assert found.model_dir == str(moved.resolve()) and found.model_match is MatchKind.CONFIG
    assert settings_notes(found, str(moved), CPU) == []
    [note] = settings_notes(found, None, CPU)
    assert note.message == f"Made with tiny-contentv, found at {moved.resolve()}."

    data = tmp_path / "data"
    in_models = copy_model(private_model, data / "models" / "demo")
    (data / "settings.json").write_text(json.dumps({"recent_models": [str(tmp_path / "gone")]}), encoding="utf-8")
    code, out, err = run_cli("info", str(made["clip"]), "--data-dir", str(data))
    assert code == 0, err
    assert f"model folder:    {in_models.resolve()}" in out.splitlines()
