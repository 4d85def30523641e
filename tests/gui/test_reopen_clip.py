"""A clip back into the form: dropping a clip (or its sidecar) made by this app on the window fills the form with
its parameters; a file without them gets one line and the form stays as it was; a clip from another machine
names what cannot run here; the clip's model is found by its identity among the window's folders, even moved; and
View ▸ Keep the model folder's path in clips puts the path in the window's clips."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QDoubleSpinBox, QLabel, QPlainTextEdit, QSpinBox

from core.cli import main as cli_main
from core.engine.devices import Capabilities
from core.output.video import _ffmpeg
from gui.form.seed_spin import SeedSpinBox
from tests.gui.helpers import JobWatcher, fill_small, find, wait_ready

FIELDS = ("stepsSpin", "widthSpin", "heightSpin", "framesSpin")


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> Path:
    folder = tmp_path_factory.mktemp("reopen")
    out = folder / "kite.mp4"
    err = io.StringIO()
    code = cli_main(
        ["generate", "--model", str(tiny_model), "--prompt", "a red kite over the dunes", "--width", "80",
         "--height", "48", "--frames", "9", "--steps", "3", "--guidance", "4.5", "--seed", "7071", "--fps", "12",
         "--device", "cpu", "--data-dir", str(folder / "data"), "--output", str(out)],
        io.StringIO(), err,
    )  # fmt: skip
    assert code == 0, err.getvalue()
    return out


def drop(window, path: Path) -> bool:
    """A real drag and drop of one local file onto the window: True when the window took the drag."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    centre = window.rect().center()
    enter = QDragEnterEvent(
        centre, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(window, enter)
    if not enter.isAccepted():
        return False
    event = QDropEvent(
        QPointF(centre), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(window, event)
    return True


def form_values(window) -> dict[str, object]:
    values: dict[str, object] = {name: find(window, QSpinBox, name).value() for name in FIELDS}
    values["seedSpin"] = find(window, SeedSpinBox, "seedSpin").value()
    values["guidanceSpin"] = find(window, QDoubleSpinBox, "guidanceSpin").value()
    values["promptEdit"] = find(window, QPlainTextEdit, "promptEdit").toPlainText()
    return values


EXPECTED = {
    "promptEdit": "a red kite over the dunes",
    "stepsSpin": 3,
    "seedSpin": 7071,
    "widthSpin": 80,
    "heightSpin": 48,
    "framesSpin": 9,
    "guidanceSpin": 4.5,
}


def test_a_dropped_clip_and_a_dropped_sidecar_fill_the_form(open_window, clip: Path, tiny_model: Path):
    window = open_window(start_engine=False)
    window.controller.capabilities = Capabilities(cuda=False, mps=False)
    window.model_picker.set_recent([str(tiny_model)])  # a folder the window knows holds the clip's model
    assert form_values(window) != EXPECTED
    assert drop(window, clip)
    assert form_values(window) == EXPECTED
    assert window.parameter_form.seed_locked  # Generate makes the same clip
    assert Path(window.model_picker.path()) == tiny_model.resolve()  # the folder it was made with, found here
    assert "Loaded the settings of kite.mp4" in window.statusBar().currentMessage()

    window.form.apply_request(window.current_request().with_seed(1))  # change the form, then drop the sidecar
    find(window, QSpinBox, "stepsSpin").setValue(20)
    assert drop(window, clip.with_suffix(".json"))
    assert form_values(window) == EXPECTED


def test_a_foreign_file_gets_one_line_and_leaves_the_form_alone(open_window, clip: Path, tmp_path: Path):
    window = open_window(start_engine=False)
    before = window.current_request()
    foreign = tmp_path / "holiday.mp4"
    subprocess.run(
        [_ffmpeg(), "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=8:duration=1", "-pix_fmt", "yuv420p",
         str(foreign)],
        check=True,
    )  # fmt: skip
    other_json = tmp_path / "settings.json"
    other_json.write_text(json.dumps({"prompt": "not ours", "steps": 9}), encoding="utf-8")
    for path in (foreign, other_json, tmp_path / "missing.mp4"):
        window.statusBar().clearMessage()
        assert window.reopen_clip(path) is False
        message = window.statusBar().currentMessage()
        assert message and "\n" not in message and path.name in message, message
        assert window.current_request() == before


def test_a_clip_from_another_machine_names_what_cannot_run_here(open_window, clip: Path, tmp_path: Path):
    window = open_window(start_engine=False)
    window.controller.capabilities = Capabilities(cuda=False, mps=False)
    data = json.loads(clip.with_suffix(".json").read_text(encoding="utf-8"))
    data["model"] = "/home/someone-else/models/ContentV-8B"
    data["request"]["memory"]["device"] = "cuda"
    data["device"], data["dtype"] = "cuda", "bfloat16"
    sidecar = tmp_path / "from-a-friend.json"
    sidecar.write_text(json.dumps(data), encoding="utf-8")
    assert drop(window, sidecar)
    notes = find(window, QLabel, "clipNotesLabel")
    assert notes.isVisible()
    text = notes.text()
    assert "Made with ContentV-8B, not found among the model folders this app knows." in text
    assert "cuda" in text.lower()
    assert window.current_request().memory.device != "cuda"  # the form holds what runs here
    assert form_values(window)["seedSpin"] == 7071


def test_a_moved_model_is_found_by_its_identity_in_the_recent_list(
    open_window, clip: Path, tiny_model: Path, tmp_path: Path
):
    moved = tmp_path / "other-disk" / "renamed-model"
    shutil.copytree(tiny_model, moved)  # the clip's model, moved: its path is not in the clip anyway
    window = open_window(start_engine=False)
    window.controller.capabilities = Capabilities(cuda=False, mps=False)
    window.model_picker.set_recent([str(tmp_path / "gone"), str(moved)])
    assert window.reopen_clip(clip)
    assert Path(window.model_picker.path()) == moved.resolve()
    notes = find(window, QLabel, "clipNotesLabel").text()
    assert f"Model folder set to {moved.resolve()}, where the clip's model was found." in notes

    window.model_picker.set_recent([])  # known nowhere now (and the current folder is another model)
    other = tmp_path / "another-model"
    shutil.copytree(tiny_model, other)
    config = other / "transformer" / "config.json"
    config.write_text(config.read_text(encoding="utf-8").replace("{", '{"edited": true,', 1), encoding="utf-8")
    window.model_picker.set_path(other)
    assert window.reopen_clip(clip)
    assert Path(window.model_picker.path()) == other  # left as it was
    assert "Made with tiny-contentv, not found among the model folders this app knows." in (
        find(window, QLabel, "clipNotesLabel").text()
    )


def test_the_keep_model_path_setting_puts_the_path_in_the_windows_clips(qtbot, open_window, gui_tiny_model, tmp_path):
    window = open_window(model=gui_tiny_model)
    wait_ready(qtbot, window)
    action = window.model_path_action
    assert not action.isChecked() and not window.settings.include_model_path  # private by default
    watcher = JobWatcher(window)
    path = str(Path(gui_tiny_model).resolve())
    sidecars = []
    for on, seed in ((False, 5), (True, 6)):
        action.setChecked(on)
        assert window.settings.include_model_path is on and window.controller.keep_model_path is on
        fill_small(window, seed=seed)
        window.generate()
        qtbot.waitUntil(lambda seed=seed: any(o.seed == seed for o in watcher.finished.values()), timeout=90_000)
        outcome = next(o for o in watcher.finished.values() if o.seed == seed)
        sidecars.append(outcome.video_path.with_suffix(".json"))
    private, kept = (json.loads(p.read_text(encoding="utf-8"))["model"] for p in sidecars)
    assert "path" not in private and path not in sidecars[0].read_text(encoding="utf-8")
    assert kept["path"] == path and kept["config_hash"] == private["config_hash"]
    window._save_settings()
    assert json.loads((tmp_path / "data" / "settings.json").read_text(encoding="utf-8"))["include_model_path"]
