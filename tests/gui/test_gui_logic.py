"""The GUI's plain logic: output names, the data folder, settings files, the lower-memory ladder, how worker
exceptions are classified, and that gui/ keeps torch out of its module level."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from core.errors import ModelFolderError, OutOfMemoryError
from core.job.request import MemoryOptions, Placement, Quantization
from gui.form.memory_advice import lower_memory_options
from gui.jobs.worker import classify_exception
from gui.support.paths import DataPaths, slugify, unique_output_path
from gui.support.settings import MAX_RECENT_MODELS, Settings

REPO = Path(__file__).resolve().parents[2]
NO_GPU = {"model": "Needs a GPU", "sequential": "Needs a GPU", "streamed": "Needs a CUDA GPU"}


def test_slugify():
    assert (
        slugify("A red fox trots through fresh snow at dawn, low tracking shot")
        == "a-red-fox-trots-through-fresh-snow-at"
    )
    assert slugify("Zürich's fjord — wow!") == "zürich-s-fjord-wow"  # letters of any script are kept
    assert slugify("日本の桜") == "日本の桜"
    assert slugify("x" * 100) == "x" * 40


def test_unique_output_names_never_collide(tmp_path: Path):
    now = 1_700_000_000.0
    first = unique_output_path(tmp_path, "a cat", now)
    assert re.fullmatch(r"\d{8}-\d{6}-a-cat\.mp4", first.name)
    first.write_bytes(b"x")
    second = unique_output_path(tmp_path, "a cat", now)
    assert second.name == first.stem + "-2.mp4"
    # A sidecar or a partial file of that name also counts as taken.
    second.with_suffix(".json").write_text("{}")
    third = unique_output_path(tmp_path, "a cat", now)
    assert third.name == first.stem + "-3.mp4"
    (tmp_path / f".{first.stem}-3.partial.mp4").write_bytes(b"")
    assert unique_output_path(tmp_path, "a cat", now).name == first.stem + "-4.mp4"


def test_data_paths(tmp_path: Path):
    paths = DataPaths.at(tmp_path / "portable").ensure()
    assert paths.outputs == tmp_path / "portable" / "outputs" and paths.outputs.is_dir()
    assert paths.thumbnails.is_dir() and paths.logs.is_dir()
    assert paths.history_db.name == "history.sqlite3" and paths.settings_file.name == "settings.json"
    default = DataPaths.at(None)
    assert "ContentV Studio" in str(default.root)


def test_settings_round_trip_and_bad_files(tmp_path: Path):
    path = tmp_path / "settings.json"
    assert Settings.load(path) == Settings()
    s = Settings(model_dir="/m", seed_locked=True, last_request={"prompt": "a cat", "width": 576, "height": 576})
    s.recent_models = [f"/m{i}" for i in range(MAX_RECENT_MODELS)]
    s.save(path)
    loaded = Settings.load(path)
    assert loaded == s
    assert loaded.request() is not None and loaded.request().width == 576  # type: ignore[union-attr]

    # Wrong types fall back to defaults; unknown keys are ignored.
    path.write_text(json.dumps({"seed_locked": "yes", "recent_models": ["/a", 3], "future_key": 1, "model_dir": "/x"}))
    odd = Settings.load(path)
    assert odd.seed_locked is False and odd.recent_models == ["/a"] and odd.model_dir == "/x"
    # A corrupt file is set aside, not fatal.
    path.write_text("{not json")
    assert Settings.load(path) == Settings()
    assert (tmp_path / "settings.json.bad").is_file()
    # A request that no longer parses is ignored.
    assert Settings(last_request={"width": "wide"}).request() is None


def test_lower_memory_ladder_on_a_gpu():
    steps = []
    options = MemoryOptions()
    while (nxt := lower_memory_options(options, {})) is not None:
        options, changes = nxt
        steps.append(changes)
    assert steps == [
        ["model CPU offload", "VAE tiling", "VAE slicing"],
        ["int8 weights"],
        ["attention slicing"],
        ["streamed offload"],
    ]
    assert options.placement is Placement.STREAMED and options.quantization is Quantization.INT8


def test_lower_memory_ladder_respects_what_the_machine_can_do():
    # No CUDA but another GPU (MPS): sequential offload instead of streamed.
    mps_only = {"streamed": "Needs a CUDA GPU"}
    options = MemoryOptions(
        placement=Placement.MODEL,
        vae_tiling=True,
        vae_slicing=True,
        quantization=Quantization.FP8,
        attention_slicing=True,
    )
    lower = lower_memory_options(options, mps_only)
    assert lower is not None and lower[0].placement is Placement.SEQUENTIAL
    # No GPU at all: only the savers, never an offload mode.
    opts, changes = lower_memory_options(MemoryOptions(), NO_GPU)  # type: ignore[misc]
    assert changes == ["VAE tiling", "VAE slicing"] and opts.placement is Placement.GPU
    everything = MemoryOptions(
        vae_tiling=True, vae_slicing=True, quantization=Quantization.INT8, attention_slicing=True
    )
    assert lower_memory_options(everything, NO_GPU) is None


def test_classify_exception():
    assert classify_exception(ModelFolderError("bad", "fix")) == ("model-folder", "bad", "fix")
    kind, message, _ = classify_exception(MemoryError())
    assert kind == OutOfMemoryError.kind and "system memory" in message
    kind, message, advice = classify_exception(RuntimeError("MPS backend out of memory (MPS allocated: 1 GB)"))
    assert kind == "out-of-memory" and "offload" in advice
    kind, message, advice = classify_exception(ValueError("boom"), "/data/logs/x.log")
    assert kind == "internal" and "ValueError: boom" in message and "/data/logs/x.log" in advice


def test_gui_never_imports_torch_at_module_level():
    pattern = re.compile(r"^(from|import) (torch|diffusers|transformers)\b", re.MULTILINE)
    offenders = [p.name for p in (REPO / "gui").glob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
    # And importing the whole window does not pull torch in.
    code = (
        "import sys; import gui.app, gui.main_window, gui.jobs.worker, gui.jobs.controller; "
        "sys.exit(1 if any(m in sys.modules for m in ('torch', 'diffusers', 'transformers')) else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr


def test_gui_collector_keeps_full_collections_rare_and_none_while_paused(qapp):
    """Full collections (the long ones) follow CPython's 25 % rule and wait while the engine imports."""
    import gc

    from gui.support.gc_guard import GuiGarbageCollector, full_collections_paused

    collector = GuiGarbageCollector(interval_ms=3_600_000)  # driven by hand below
    started: list[int] = []

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.callbacks.append(on_gc)
    kept: list[list[object]] = []
    try:

        def allocate_and_check(rounds: int) -> None:
            for _ in range(rounds):
                kept.append([[] for _ in range(gc.get_threshold()[0] + 50)])  # long-lived containers
                collector.check()

        collector._long_lived = 10**9  # as if a huge heap were there: a full collection is not due yet
        allocate_and_check(150)
        assert 2 not in started and 1 in started and 0 in started
        collector._long_lived = 0  # now it is due, but the engine is importing
        collector._next_full_check = 0.0
        with full_collections_paused():
            allocate_and_check(150)
        assert 2 not in started
        allocate_and_check(150)
        assert 2 in started
    finally:
        gc.callbacks.remove(on_gc)
        collector.stop()
        collector.deleteLater()


def test_the_window_keeps_the_engines_learned_state_in_its_data_folder(open_window, tmp_path, monkeypatch):
    """Step-cache calibrations follow --data-dir, so a portable install writes nothing elsewhere."""
    from core.store.state_dirs import set_state_root, state_dir

    monkeypatch.delenv("CONTENTV_STUDIO_CALIBRATION_DIR", raising=False)
    data = tmp_path / "portable"
    try:
        open_window(data_dir=data, start_engine=False)
        from core.engine.step_cache import calibration_dir

        assert calibration_dir() == data.absolute() / "step-cache"
        assert state_dir("step-cache") == calibration_dir()
    finally:
        set_state_root(None)
