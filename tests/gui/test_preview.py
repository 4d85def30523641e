"""Live previews and decode progress in the real window: previews arrive in `previewView` while a job denoises
(one projection each), the progress bar counts decoded latent frames, and a cancel during decoding stops the
decoder after the frame it is on."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QSpinBox

from core.store.history import JobStatus
from tests.gui.helpers import JobWatcher, fill_small, find, wait_ready


def test_previews_arrive_during_a_job_one_projection_each(qtbot, open_window, gui_tiny_model, monkeypatch):
    """What a preview costs in time is measured by bench/bench_engine.py; here: one projection per preview, none
    on other steps."""
    import core.job.preview

    projections = [0]
    real_projection = core.job.preview.latents_to_rgb

    def counted_projection(latents, max_side=core.job.preview.PREVIEW_MAX_SIDE):
        projections[0] += 1
        return real_projection(latents, max_side)

    monkeypatch.setattr(core.job.preview, "latents_to_rgb", counted_projection)
    window = open_window(model=gui_tiny_model)
    wait_ready(qtbot, window)
    find(window, QSpinBox, "previewEverySpin").setValue(2)
    view = find(window, QLabel, "previewView")
    fill_small(window, prompt="a heron lifting off a lake", steps=8)
    watcher = JobWatcher(window)
    shown: list[tuple[int, int]] = []
    window.controller.previewed.connect(lambda _job, frames: shown.append((frames.step, view.updates)))
    qtbot.mouseClick(find(window, QPushButton, "generateButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(watcher.finished), timeout=90_000)

    assert [step for step, _ in shown] == [2, 4, 6]  # every 2 steps, not the last
    assert projections == [3]
    assert view.updates == 3 and view.frame_count == 3  # 9 frames: 3 latent frames, looping
    assert not view.pixmap().isNull()

    # A new job starts with an empty preview; 0 turns previews off.
    find(window, QSpinBox, "previewEverySpin").setValue(0)
    qtbot.mouseClick(find(window, QPushButton, "generateButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(watcher.finished) == 2, timeout=90_000)
    assert view.updates == 0 and view.frame_count == 0 and len(shown) == 3 and projections == [3]


def test_preview_view_loops_the_latent_frames(qtbot):
    from gui.player.preview_view import PreviewView

    view = PreviewView()
    qtbot.addWidget(view)
    view.resize(160, 96)
    frames = np.zeros((3, 6, 10, 3), dtype=np.uint8)
    for t in range(3):
        frames[t, ..., t] = 255  # red, green, blue
    view.show_frames(frames, step=5, fps=48)  # 4 video frames per latent frame: 12 latent frames a second
    seen: set[tuple[int, int, int]] = set()

    def colour() -> tuple[int, int, int]:
        c = view.pixmap().toImage().pixelColor(5, 5)
        return (c.red(), c.green(), c.blue())

    qtbot.waitUntil(lambda: seen.add(colour()) or len(seen) == 3)
    assert seen == {(255, 0, 0), (0, 255, 0), (0, 0, 255)}
    view.clear()
    assert view.frame_count == 0 and view.pixmap().isNull()


def test_decoding_shows_progress_and_a_cancel_stops_the_decoder(qtbot, open_window, gui_tiny_model):
    window = open_window(model=gui_tiny_model)
    wait_ready(qtbot, window)
    watcher = JobWatcher(window)
    bar = find(window, QProgressBar, "progressBar")
    # 29 frames: 8 latent frames, so the decode has room to be stopped midway.
    fill_small(window, prompt="a clock tower at noon", steps=1, num_frames=29)
    seen: list[tuple[int, int, int, int]] = []
    window.controller.decoded.connect(lambda _job, done, total: seen.append((done, total, bar.value(), bar.maximum())))
    qtbot.mouseClick(find(window, QPushButton, "generateButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(watcher.finished), timeout=90_000)
    assert [(d, t) for d, t, _, _ in seen] == [(n, 8) for n in range(1, 9)]
    assert all(value == done and maximum == total for done, total, value, maximum in seen)  # the bar follows

    # Cancel as soon as the first latent frame is decoded. The press is made from the worker's own signal
    # (a direct connection), so it lands while the decoder is still at work, as a person's click would.
    worker = window.controller._host.worker
    decoder_calls: list[int] = []  # on the worker's thread, as they happen

    def press_cancel(job_id: int, done: int, _total: int) -> None:
        decoder_calls.append(done)
        if done == 1:
            window.controller.cancel(job_id)

    worker.decoded.connect(press_cancel, Qt.ConnectionType.DirectConnection)
    seen.clear()
    qtbot.mouseClick(find(window, QPushButton, "generateButton"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(watcher.cancelled), timeout=90_000)
    job_id = watcher.cancelled[0]
    assert decoder_calls == [1]  # the decoder was not called again after the cancel
    assert max(done for done, *_ in seen) < 8  # the decode stopped midway
    assert window.store.get(job_id).status is JobStatus.CANCELLED  # type: ignore[union-attr]
    assert "Cancelled" in find(window, QLabel, "stageLabel").text()
