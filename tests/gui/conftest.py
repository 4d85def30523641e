"""Fixtures for the window tests: a tiny model (built once per session) and a factory for real main windows over
a temporary data folder, shut down cleanly at the end of each test."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")

import pytest

# The official reference checkpoint in the repository (tests/data/reference), wherever the checkout is.
REFERENCE_MODEL = Path(__file__).resolve().parents[1] / "data" / "reference" / "tiny-contentv"


@pytest.fixture(autouse=True)
def cpu_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every window test sees a machine without a GPU, whatever runs it: the same memory options are disabled,
    the gauge reads no NVIDIA GPU, and jobs run on the CPU, where re-runs are bit-exact."""
    import sys

    import core.engine.devices

    monkeypatch.setattr(
        core.engine.devices, "detect_capabilities", lambda: core.engine.devices.Capabilities(cuda=False, mps=False)
    )
    monkeypatch.setitem(sys.modules, "pynvml", None)  # `import pynvml` fails as it does without the driver


@pytest.fixture(scope="session")
def gui_tiny_model(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared `tiny_model` (tests/conftest.py) when there is one; otherwise a demo model of our own, or a copy
    of the reference checkpoint where the demo model builder is missing."""
    try:
        return Path(request.getfixturevalue("tiny_model"))
    except pytest.FixtureLookupError:
        pass
    target = tmp_path_factory.mktemp("gui-model") / "model"
    try:
        from core.model.demo import make_demo_model
    except ImportError:
        shutil.copytree(REFERENCE_MODEL, target)
        return target
    return make_demo_model(target)


@pytest.fixture
def open_window(qtbot, tmp_path: Path) -> Iterator[Callable[..., object]]:
    """open_window(data_dir=None, model=None, **create_window kwargs) -> MainWindow, shown and exposed."""
    from gui.app import create_window

    windows = []

    def _open(data_dir: Path | None = None, model: Path | str | None = None, **kwargs: object):
        kwargs.setdefault("monitor_interval_ms", 200)
        window = create_window(data_dir or tmp_path / "data", str(model) if model else None, **kwargs)
        windows.append(window)
        with qtbot.waitExposed(window):  # a context manager: called bare, it waits for nothing
            window.show()
        return window

    yield _open
    for window in windows:
        if not window._shut_down:
            window.controller.cancel_all()
            if window.error_dialog is not None:
                window.error_dialog.close()
            window.close()
            qtbot.waitUntil(lambda w=window: w._shut_down, timeout=60_000)
        window.deleteLater()
