"""Shared fixtures: the official reference checkpoint (copied from the ContentV implementation's output) and a
tiny random-weight model built by the app's own `make_demo_model`. Nothing here reaches the network."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

# Set before any test imports Qt or the hub libraries.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Step-cache calibrations go to a throw-away folder, never the tester's own app-data folder.
os.environ.setdefault("CONTENTV_STUDIO_CALIBRATION_DIR", tempfile.mkdtemp(prefix="contentv-calibration-"))
# The engine's other state (job journals) likewise, for commands run without --data-dir.
os.environ.setdefault("CONTENTV_STUDIO_STATE_DIR", tempfile.mkdtemp(prefix="contentv-state-"))
# The app's default data folder (platformdirs' user data folder on Linux), where a `generate` without --data-dir
# records its job: a throw-away one too, never the tester's own history.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="contentv-data-home-")

DATA = Path(__file__).parent / "data"
REFERENCE = DATA / "reference"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        has_cuda = False
    if has_cuda:
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU (run these on a machine with an NVIDIA card)")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def qtbot(qapp, request: pytest.FixtureRequest):
    """pytest-qt's qtbot, whose waits give up after a minute instead of 5 s (tests/patient_qtbot.py): a loaded
    machine is slow, not wrong."""
    from tests.patient_qtbot import PatientQtBot

    return PatientQtBot(request)


@pytest.fixture(scope="session")
def reference_model() -> Path:
    return REFERENCE / "tiny-contentv"


@pytest.fixture(scope="session")
def reference_case() -> dict:
    return json.loads((REFERENCE / "reference.json").read_text())["cfg"]


@pytest.fixture(scope="session")
def reference_outputs() -> dict[str, np.ndarray]:
    with np.load(REFERENCE / "reference-cfg.npz") as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from core.model.demo import make_demo_model

    return make_demo_model(tmp_path_factory.mktemp("demo") / "tiny-contentv")


@pytest.fixture()
def broken_model(tmp_path: Path, reference_model: Path) -> Path:
    """A writable copy of the reference model, for tests that damage it."""
    target = tmp_path / "model"
    shutil.copytree(reference_model, target)
    for path in target.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target
