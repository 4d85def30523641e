"""How long the window's GUI thread goes without running its event loop, from the first paint through a first job.

    .venv/bin/python bench/gui_gaps.py [--json OUT.json] [--md OUT.md] [--steps 3] [--model DIR]

Offscreen (QT_QPA_PLATFORM=offscreen unless set). As `main()` does, the engine's libraries are imported before the
window appears; the window opens over a throw-away data folder with the tiny demo model (core/model/demo.py, built
into a temporary folder unless --model names one), and once it is shown and exposed (the first paint) a 10 ms
precise QTimer starts on the GUI thread. Generate is pressed as soon as the model check allows, and the timer runs
until the clip is in the player and has played for a moment. A gap is the interval between two ticks: 10 ms when
the loop is free, longer when something held the GUI thread (or the GIL) that long.

Reports the longest gap, the 99th percentile and the tick count, with the 1-minute load average before and after:
on a loaded machine the gaps grow with the load, which is why this is a measurement here and not a test in the
suite (tests/gui/test_rough_edges.py asserts the facts that keep the gaps short instead).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TICK_MS = 10
GIVE_UP_S = 600.0  # only when something that should happen never does
JOB = {"width": 80, "height": 48, "num_frames": 9}  # the GUI tests' small job (tests/gui/helpers.py)


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):  # not on Windows
        return None


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (no interpolation: a gap that happened, not a blend of two)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def wait_until(app: Any, predicate: Callable[[], bool], what: str, give_up_s: float = GIVE_UP_S) -> None:
    """Run the event loop until `predicate()` holds (as qtbot.waitUntil does)."""
    from PySide6.QtCore import QEventLoop

    deadline = time.monotonic() + give_up_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {give_up_s:.0f} s")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
        time.sleep(0.001)


def measure(model: Path | None, steps: int, data_dir: Path) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QPlainTextEdit, QSpinBox

    from gui.app import create_window, get_application, warm_up_engine_imports

    app = get_application()
    imports_started = time.perf_counter()
    warm_up_engine_imports()  # as main() does before the window
    imports_s = time.perf_counter() - imports_started
    if model is None:  # after the imports, which it would otherwise do (and so hide their cost)
        from core.model.demo import make_demo_model

        model = make_demo_model(data_dir.parent / "demo-model")
    window = create_window(data_dir, str(model))
    window.show()
    wait_until(app, lambda: window.windowHandle() is not None and window.windowHandle().isExposed(), "first paint")

    ticks: list[float] = [time.perf_counter()]
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TICK_MS)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    ended: dict[str, Any] = {}
    window.controller.jobFinished.connect(lambda job, _outcome: ended.setdefault("finished", job))
    window.controller.jobFailed.connect(lambda job, *info: ended.setdefault("failed", (job, *info)))
    window.findChild(QPlainTextEdit, "promptEdit").setPlainText("a red fox trots through snow")
    for name, value in {**JOB, "steps": steps}.items():
        spin_name = {"width": "widthSpin", "height": "heightSpin", "num_frames": "framesSpin", "steps": "stepsSpin"}
        window.findChild(QSpinBox, spin_name[name]).setValue(value)
    wait_until(app, window.generate_button.isEnabled, "the model folder check")
    window.generate_button.click()
    wait_until(app, lambda: bool(ended), "the job's end")
    wait_until(app, lambda: window.player.path is not None, "the clip in the player")
    settle = time.perf_counter() + 0.3  # the clip starts playing
    wait_until(app, lambda: time.perf_counter() > settle, "the clip playing")
    timer.stop()
    window.controller.cancel_all()
    window.close()
    wait_until(app, lambda: window._shut_down, "the window's shutdown")
    if "failed" in ended:
        raise RuntimeError(f"the job failed: {ended['failed']}")

    gaps_ms = [(b - a) * 1000 for a, b in itertools.pairwise(ticks)]
    return {
        "tick_ms": TICK_MS,
        "ticks": len(ticks),
        "measured_s": round(ticks[-1] - ticks[0], 3),
        "longest_gap_ms": round(max(gaps_ms), 1),
        "p99_gap_ms": round(percentile(gaps_ms, 0.99), 1),
        "median_gap_ms": round(percentile(gaps_ms, 0.5), 1),
        "gaps_over_100_ms": sum(g > 100 for g in gaps_ms),
        "longest_gaps_ms": [round(g, 1) for g in sorted(gaps_ms, reverse=True)[:8]],
        "engine_imports_s": round(imports_s, 2),
        "job": {**JOB, "steps": steps},
    }


def markdown(report: dict[str, Any]) -> str:
    r = report
    loads = r["load_average"]
    return "\n".join(
        [
            "# GUI-thread event-loop gaps: first paint through a first job",
            "",
            f"Machine: {r['machine']}. 1-minute load average before → after the run: {loads[0]} → {loads[1]}. "
            f"Python {r['python']}, offscreen Qt.",
            "",
            f"A {r['tick_ms']} ms precise QTimer on the GUI thread from the window's first paint (engine imports done "
            f"before it, {r['engine_imports_s']} s) through a first job on the tiny demo model "
            f"({r['job']['width']}×{r['job']['height']}, {r['job']['num_frames']} frames, {r['job']['steps']} steps) "
            "until the clip has played for 0.3 s.",
            "",
            "| measured s | ticks | longest gap ms | 99th percentile ms | median ms | gaps over 100 ms |",
            "|---|---|---|---|---|---|",
            f"| {r['measured_s']} | {r['ticks']} | {r['longest_gap_ms']} | {r['p99_gap_ms']} | {r['median_gap_ms']} | "
            f"{r['gaps_over_100_ms']} |",
            "",
            f"Longest gaps (ms): {', '.join(str(g) for g in r['longest_gaps_ms'])}.",
            "",
            "Command: `.venv/bin/python bench/gui_gaps.py --json bench/results/gui-gaps-cpu.json "
            "--md bench/results/gui-gaps-cpu.md`. The gaps grow with the machine's load (other processes take the "
            "cores the GUI thread waits for), so compare runs only at a similar load average.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", default=None, help="write the figures here (JSON)")
    parser.add_argument("--md", default=None, help="write a Markdown report here")
    parser.add_argument("--model", default=None, help="a ContentV folder (default: a fresh tiny demo model)")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--machine", default=None, help="how to describe this machine in the report")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    load_before = _load_average()
    with tempfile.TemporaryDirectory(prefix="gui-gaps-") as tmp:
        os.environ.setdefault("CONTENTV_STUDIO_CALIBRATION_DIR", str(Path(tmp) / "step-cache"))
        figures = measure(Path(args.model) if args.model else None, args.steps, Path(tmp) / "data")
    report = {
        **figures,
        "machine": args.machine or f"{platform.machine()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(),
        "load_average": [load_before, _load_average()],
    }
    print(json.dumps(report, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.md:
        Path(args.md).write_text(markdown(report), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
