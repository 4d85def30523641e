"""The window's exports (from the player and from a history entry) and its "Get ContentV-8B…" download dialog,
driven offscreen; the download runs against the local hub stand-in on 127.0.0.1 (tests/hub_server.py)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QPushButton, QToolButton

from core.output.export import ExportFormat
from tests.gui.helpers import JobWatcher, fill_small, find, wait_ready
from tests.hub_server import LocalHub, serve_model

BIG = "text_encoder_3/model.safetensors"


@pytest.fixture
def hub(reference_model: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalHub]:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # the suite runs offline; this server is local
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 64 * 1024)
    with serve_model(reference_model) as server:
        monkeypatch.setattr(constants, "ENDPOINT", server.url)
        yield server


def _clip(folder: Path, frames: int = 7) -> Path:
    from core.output.video import write_mp4, write_sidecar

    rng = np.random.default_rng(3)
    pixels = rng.uniform(0, 1, size=(frames, 48, 80, 3)).astype(np.float32)
    path = folder / "clip.mp4"
    write_mp4(pixels, path, 24, {"prompt": "a test clip", "seed": 7})
    write_sidecar(path, {"prompt": "a test clip", "seed": 7})
    return path


def test_export_webm_from_the_player(qtbot, open_window, tmp_path: Path) -> None:
    from core.output.export import read_webm_comment
    from core.output.video import read_mp4_frames

    window = open_window()
    clip = _clip(tmp_path)
    window.player.load(clip, autoplay=False)
    find(window, QToolButton, "exportClipButton").click()
    dialog = window.export_dialog
    assert dialog is not None and dialog.isVisible() and dialog.source == clip
    dialog.set_format(ExportFormat.WEBM)
    assert dialog.output_path() == tmp_path / "clip.webm"
    find(dialog, QPushButton, "exportButton").click()
    assert dialog.running
    qtbot.waitUntil(lambda: not dialog.running, timeout=60_000)
    assert dialog.export_result is not None, dialog.status_label.text()
    assert len(read_mp4_frames(tmp_path / "clip.webm")) == 7
    assert read_webm_comment(tmp_path / "clip.webm") == {"prompt": "a test clip", "seed": 7}
    assert "Exported 7 frames" in dialog.status_label.text()

    # The same target again is refused with a message, and the first export is untouched.
    size = (tmp_path / "clip.webm").stat().st_size
    find(dialog, QPushButton, "exportButton").click()
    qtbot.waitUntil(lambda: not dialog.running)
    assert "already exists" in dialog.status_label.text()
    assert (tmp_path / "clip.webm").stat().st_size == size


def test_export_png_frames_from_a_history_entry(qtbot, open_window, gui_tiny_model: Path) -> None:
    from PIL import Image

    window = open_window(model=gui_tiny_model)
    wait_ready(qtbot, window)
    watcher = JobWatcher(window)
    fill_small(window, "a lighthouse at dusk")
    record = window.generate()
    assert record is not None
    watcher.wait(qtbot, record.id)
    assert record.id in watcher.finished
    window.history_panel.select(record.id)
    button = find(window.history_panel, QPushButton, "historyExportButton")
    assert button.isEnabled()
    button.click()
    dialog = window.export_dialog
    assert dialog is not None
    dialog.set_format(ExportFormat.PNG)
    folder = dialog.output_path()
    find(dialog, QPushButton, "exportButton").click()
    qtbot.waitUntil(lambda: not dialog.running, timeout=60_000)
    assert dialog.export_result is not None, dialog.status_label.text()
    frames = sorted(folder.glob("frame_*.png"))
    assert len(frames) == 9  # every frame of the 9-frame job
    with Image.open(frames[0]) as image:
        assert json.loads(image.text["parameters"])["request"]["seed"] == 1234  # type: ignore[attr-defined]
    assert (
        json.loads((folder / "parameters.json").read_text(encoding="utf-8"))["request"]["prompt"]
        == "a lighthouse at dusk"
    )


def test_get_model_downloads_checks_and_selects(qtbot, open_window, hub: LocalHub, reference_model: Path) -> None:
    window = open_window()
    find(window, QPushButton, "getModelButton").click()
    dialog = window.model_picker.download_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.plan is not None)
    assert "files" in dialog.size_label.text() and "free on this disk" in dialog.size_label.text()
    target = dialog.folder()
    assert target == window.paths.models / "ContentV-8B"
    hub.cut(BIG, times=1)  # the connection drops halfway through the biggest file
    start = find(dialog, QPushButton, "downloadStartButton")
    assert start.isEnabled() and start.text() == "Download"
    start.click()
    qtbot.waitUntil(lambda: dialog.report is not None or not dialog.running, timeout=60_000)
    assert dialog.report is not None and dialog.report.ok, dialog.status_label.text()
    assert dialog.progress_bar.value() == dialog.progress_bar.maximum()
    ranges = hub.state.ranges_for(BIG)
    assert len(ranges) == 2 and ranges[1] is not None  # resumed with a Range request
    assert (target / BIG).read_bytes() == (reference_model / BIG).read_bytes()
    qtbot.waitUntil(lambda: window.model_picker.is_valid)
    assert window.model_picker.path() == str(target)


def test_download_dialog_resumes_an_interrupted_folder(
    qtbot, open_window, hub: LocalHub, reference_model: Path, tmp_path: Path
) -> None:
    from core.model.download import DownloadCancelled, DownloadProgress, download_model, fetch_plan

    target = tmp_path / "half"
    stop = threading.Event()

    def stop_in_big_file(p: DownloadProgress) -> None:
        if p.current_file == BIG and p.done_bytes > p.total_bytes // 2:
            stop.set()

    with pytest.raises(DownloadCancelled):  # as if the app had been closed mid-download
        download_model(fetch_plan(), target, stop_in_big_file, stop)

    window = open_window()
    window.model_picker.set_path(target)
    qtbot.waitUntil(lambda: window.model_picker.report is not None)
    assert not window.model_picker.is_valid  # the marker keeps a half folder from passing

    window.model_picker.get_model()
    dialog = window.model_picker.download_dialog
    assert dialog is not None
    dialog.folder_edit.setText(str(target))
    qtbot.waitUntil(lambda: dialog.plan is not None)
    dialog.folder_edit.editingFinished.emit()
    assert "interrupted download" in dialog.size_label.text()
    start = find(dialog, QPushButton, "downloadStartButton")
    assert start.text() == "Resume"
    start.click()
    qtbot.waitUntil(lambda: dialog.report is not None or not dialog.running, timeout=60_000)
    assert dialog.report is not None and dialog.report.ok, dialog.status_label.text()
    assert hub.state.ranges_for(BIG)[-1] not in (None, "bytes=0-")
    qtbot.waitUntil(lambda: window.model_picker.is_valid)
    assert (target / BIG).read_bytes() == (reference_model / BIG).read_bytes()


def test_cancelling_an_export_leaves_nothing(qtbot, open_window, tmp_path: Path) -> None:
    window = open_window()
    clip = _clip(tmp_path)
    dialog = window.export_clip(str(clip))
    dialog.set_format(ExportFormat.GIF)
    find(dialog, QPushButton, "exportButton").click()
    assert find(dialog, QPushButton, "exportCloseButton").text() == "Cancel"
    find(dialog, QPushButton, "exportCloseButton").click()  # cancels before the first frame is written
    qtbot.waitUntil(lambda: not dialog.running, timeout=60_000)
    assert dialog.export_result is None
    assert "cancelled" in dialog.status_label.text()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "data") == ["clip.json", "clip.mp4"]
