"""The model download against a local stand-in for the Hugging Face Hub (tests/hub_server.py on 127.0.0.1): sizes
up front, a dropped connection and a cancel both resume with identical bytes, a folder is never taken for
complete before it is, disk space is checked first. Nothing here reaches the internet."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.cli import main as cli_main
from core.model.checkpoint import DOWNLOAD_MARKER, inspect_model_folder
from core.model.download import (
    PARTS_DIR,
    DownloadCancelled,
    DownloadError,
    DownloadProgress,
    DownloadTargetError,
    NotEnoughSpaceError,
    download_model,
    fetch_plan,
)
from core.model.identity import SOURCE_MARKER, identify_model
from tests.hub_server import COMMIT, LocalHub, serve_model

BIG = "text_encoder_3/model.safetensors"  # the largest file of the tiny model (6 MB)


@pytest.fixture
def hub(reference_model: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalHub]:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # the suite runs offline; this server is local
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 64 * 1024)  # many chunks per file, as with real weights
    with serve_model(reference_model) as server:
        monkeypatch.setattr(constants, "ENDPOINT", server.url)
        yield server


def _same_files(a: Path, b: Path) -> None:
    """The model's files, byte for byte (the download's own record of where it came from aside)."""
    expected = {p.relative_to(a).as_posix(): p.read_bytes() for p in a.rglob("*") if p.is_file()}
    got = {p.relative_to(b).as_posix(): p.read_bytes() for p in b.rglob("*") if p.is_file() and p.name != SOURCE_MARKER}
    assert got.keys() == expected.keys()
    assert all(got[k] == expected[k] for k in expected)


def test_plan_has_every_file_and_size(hub: LocalHub, reference_model: Path) -> None:
    plan = fetch_plan(endpoint=hub.url)
    assert plan.commit == COMMIT
    local = {
        p.relative_to(reference_model).as_posix(): p.stat().st_size for p in reference_model.rglob("*") if p.is_file()
    }
    assert {f.path: f.size for f in plan.files} == local
    assert plan.total_bytes == sum(local.values())
    assert next(f for f in plan.files if f.path == BIG).sha256  # weights are LFS files with a sha256


def test_download_is_complete_checked_and_identical(hub: LocalHub, reference_model: Path, tmp_path: Path) -> None:
    target = tmp_path / "ContentV-8B"
    updates: list[DownloadProgress] = []
    report = download_model(fetch_plan(endpoint=hub.url), target, updates.append)
    assert report.ok
    _same_files(reference_model, target)  # no marker, no parts folder left
    # The folder records where it came from: clips made with it name the model by its hub id and commit.
    identity = identify_model(target)
    assert (identity.name, identity.hub_id, identity.revision) == ("ContentV-8B", "ByteDance/ContentV-8B", COMMIT)
    assert identity.config_hash == identify_model(reference_model).config_hash and not identity.path
    assert updates[-1].done_bytes == updates[-1].total_bytes and updates[-1].files_done == updates[-1].files_total
    assert all(b.done_bytes <= b.total_bytes for b in updates)


def test_dropped_connection_resumes_with_a_range_request(hub: LocalHub, reference_model: Path, tmp_path: Path) -> None:
    hub.cut(BIG, times=1)
    target = tmp_path / "model"
    assert download_model(fetch_plan(endpoint=hub.url), target).ok
    ranges = hub.state.ranges_for(BIG)
    assert ranges[0] is None and len(ranges) == 2
    assert ranges[1] is not None and int(ranges[1].removeprefix("bytes=").rstrip("-")) > 0  # resumed, not restarted
    _same_files(reference_model, target)


def test_cancelled_download_is_not_complete_and_resumes_later(
    hub: LocalHub, reference_model: Path, tmp_path: Path
) -> None:
    target = tmp_path / "model"
    stop = threading.Event()

    def cancel_inside_big_file(p: DownloadProgress) -> None:
        if p.current_file == BIG and p.done_bytes > p.total_bytes // 2:
            stop.set()

    with pytest.raises(DownloadCancelled):
        download_model(fetch_plan(endpoint=hub.url), target, cancel_inside_big_file, stop)
    part = target / PARTS_DIR / f"{BIG}.part"
    kept = part.stat().st_size
    assert 0 < kept < (reference_model / BIG).stat().st_size
    assert (target / DOWNLOAD_MARKER).exists()
    report = inspect_model_folder(target)
    assert not report.ok and any("has not finished" in p for p in report.problems)

    assert download_model(fetch_plan(endpoint=hub.url), target).ok  # a new run, as after restarting the app
    assert hub.state.ranges_for(BIG)[-1] == f"bytes={kept}-"
    _same_files(reference_model, target)


def test_damaged_file_is_removed_and_folder_stays_incomplete(hub: LocalHub, tmp_path: Path) -> None:
    plan = fetch_plan(endpoint=hub.url)
    served = hub.state.files["vae/diffusion_pytorch_model.safetensors"]
    served.data = served.data[:-4] + b"oops"  # same size, wrong bytes: only the hash can tell
    target = tmp_path / "model"
    with pytest.raises(DownloadError, match="damaged"):
        download_model(plan, target)
    assert not (target / "vae" / "diffusion_pytorch_model.safetensors").exists()
    assert not inspect_model_folder(target).ok


def test_disk_space_is_checked_before_anything_is_written(
    hub: LocalHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    import core.model.download

    real = shutil.disk_usage
    monkeypatch.setattr(core.model.download.shutil, "disk_usage", lambda p: real(p)._replace(free=1_000_000))
    with pytest.raises(NotEnoughSpaceError, match="GB free"):
        download_model(fetch_plan(endpoint=hub.url), tmp_path / "model")
    assert not (tmp_path / "model").exists()
    assert hub.state.ranges_for(BIG) == []


def test_refuses_a_folder_with_other_things_in_it(hub: LocalHub, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(DownloadTargetError, match="not empty"):
        download_model(fetch_plan(endpoint=hub.url), tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_offline_mode_is_respected(reference_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(DownloadError, match="HF_HUB_OFFLINE"):
        fetch_plan(endpoint="http://127.0.0.1:9")


def test_cli_download(hub: LocalHub, reference_model: Path, tmp_path: Path) -> None:
    target = tmp_path / "cli-model"
    out, err = io.StringIO(), io.StringIO()
    assert cli_main(["download", "--to", str(target)], out, err) == 0, err.getvalue()
    assert out.getvalue().strip() == str(target.absolute())
    assert "files," in err.getvalue()
    _same_files(reference_model, target)
    err = io.StringIO()
    assert cli_main(["download", "--to", str(target), "--revision", "nope"], io.StringIO(), err) == 2
    assert "no revision 'nope'" in err.getvalue()


def test_interrupted_run_of_another_commit_is_rechecked_by_hash(
    hub: LocalHub, reference_model: Path, tmp_path: Path
) -> None:
    target = tmp_path / "model"
    plan = fetch_plan(endpoint=hub.url)
    assert download_model(plan, target).ok
    # As if an older revision had been half downloaded here: one finished file differs, same size.
    (target / DOWNLOAD_MARKER).write_text('{"commit": "an-older-commit"}')
    vae = target / "vae" / "diffusion_pytorch_model.safetensors"
    vae.write_bytes(vae.read_bytes()[:-4] + b"old!")
    assert download_model(plan, target).ok
    assert hub.state.ranges_for("vae/diffusion_pytorch_model.safetensors") == [None, None]  # fetched again, whole
    _same_files(reference_model, target)
