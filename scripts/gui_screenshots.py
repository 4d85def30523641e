"""Screenshots of the real window for the README, taken under a virtual X server with the tiny demo model:

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python scripts/gui_screenshots.py [--out docs/screenshots]

It makes a demo model in a temporary data folder, then captures: the idle window, a job in progress, the
finished clip playing with the history filled, the out-of-memory dialog, and three seeds of one prompt in the
compare window. The screen is grabbed from the X
server (not QWidget.grab), so the video surface is in the picture.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication, QScrollArea

PROMPTS = [
    "A red fox trots through fresh snow at dawn, low tracking shot, soft golden light.",
    "Waves crash against black volcanic rocks under a stormy sky, slow motion.",
    "A hummingbird hovers beside a bright orange flower, macro, shallow depth of field.",
]


def pump(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_for(condition, timeout_s: float = 300.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        pump(50)


def shoot(window, path: Path) -> None:
    pump(400)  # let the last repaint and a few video frames land
    screen = window.screen()
    frame = window.frameGeometry()
    pixmap = screen.grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
    if pixmap.isNull():
        pixmap = window.grab()
    path.parent.mkdir(parents=True, exist_ok=True)
    pixmap.save(str(path))
    print(f"wrote {path} ({pixmap.width()}×{pixmap.height()})", flush=True)


def run_job(window, steps: int) -> int:
    window.parameter_form.steps_spin.setValue(steps)
    record = window.generate()
    assert record is not None, window.problems()
    return record.id


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="docs/screenshots")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    out = Path(args.out)

    from gui.app import create_window, get_application

    app = get_application()
    data = Path(args.data_dir or tempfile.mkdtemp(prefix="contentv-shots-"))
    from core.model.demo import make_demo_model

    model = data / "models" / "contentv-demo"
    if not model.exists():
        make_demo_model(model)

    window = create_window(data, str(model))
    window.resize(1480, 900)
    screen = app.primaryScreen().availableGeometry()
    window.move(screen.center() - window.rect().center())
    window.show()
    wait_for(lambda: window.controller.engine_ready and not window.model_picker.checking, what="the engine")
    window.prompt_editor.set_prompt(PROMPTS[0])
    wait_for(lambda: "GB" in window.vram_gauge.text(), what="the gauge")
    shoot(window, out / "main-window-idle.png")  # the official defaults: 768 × 432, 125 frames, 50 steps

    # The memory options, further down the left column.
    scroll = window.findChild(QScrollArea, "leftScroll")
    scroll.verticalScrollBar().setValue(scroll.verticalScrollBar().maximum())
    window.memory_panel.vae_tiling.setChecked(True)
    shoot(window, out / "memory-options.png")
    scroll.verticalScrollBar().setValue(0)

    # The demo model is random noise, so the jobs are kept small to be quick on a CPU.
    form = window.parameter_form
    form.width_spin.setValue(384)
    form.height_spin.setValue(224)
    form.frames_spin.setValue(25)
    form.fps_combo.setValue(12)

    # Two finished jobs so the history has something in it.
    done: list[int] = []
    window.controller.jobFinished.connect(lambda job, _o: done.append(job))
    for prompt in PROMPTS[1:]:
        window.prompt_editor.set_prompt(prompt)
        job = run_job(window, 6)
        wait_for(lambda j=job: j in done, what="a job")

    # A job in progress.
    window.prompt_editor.set_prompt(PROMPTS[0])
    job = run_job(window, 40)
    wait_for(lambda: 12 <= window.progress_bar.value() < 40 and window.progress_bar.maximum() == 40, what="steps")
    shoot(window, out / "main-window-generating.png")
    wait_for(lambda: job in done, what="the job")
    wait_for(window.player.is_playing, what="playback")
    pump(1200)
    shoot(window, out / "main-window-finished.png")

    from core.engine.runner import OOM_ADVICE

    dialog = window.show_error(
        "out-of-memory",
        "The GPU ran out of memory (CUDA out of memory. Tried to allocate 3.52 GiB).",
        OOM_ADVICE,
        memory=window.memory_panel.options(),
    )
    pump(300)
    dialog_shot = out / "out-of-memory-dialog.png"
    geometry = dialog.frameGeometry()
    pixmap = dialog.screen().grabWindow(0, geometry.x(), geometry.y(), geometry.width(), geometry.height())
    (pixmap if not pixmap.isNull() else dialog.grab()).save(str(dialog_shot))
    print(f"wrote {dialog_shot}", flush=True)
    dialog.close()

    # Three seeds of one prompt (one Generate with a batch of 3), compared side by side.
    window.prompt_editor.set_prompt(PROMPTS[2])
    window.batch_controls.count_spin.setValue(3)
    before = len(done)
    run_job(window, 8)
    wait_for(lambda: len(done) >= before + 3, what="three takes")
    window.batch_controls.count_spin.setValue(1)
    window.history_panel.refresh()
    window.history_panel.select_many(done[-3:])
    view = window.records.compare_selected()
    assert view is not None, window.statusBar().currentMessage()
    view.resize(1480, 720)
    view.move(screen.center() - view.rect().center())
    wait_for(lambda: view.loaded, what="the clips decoded")
    view.pause()
    view.seek(view.last_tick // 2)
    shoot(view, out / "compare-view.png")
    view.close()

    window.close()
    wait_for(lambda: window._shut_down, what="shutdown")
    QApplication.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
