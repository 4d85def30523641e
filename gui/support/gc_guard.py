"""Garbage collection on the GUI thread only.

Python's cyclic collector runs on whichever thread happens to allocate when a threshold is crossed: the
generation worker, a thread-pool task, Qt Multimedia's decoder thread. If the garbage it frees holds the last
reference to a Qt object owned by the GUI thread (an event loop, a timer, a widget), that object is destroyed
on the wrong thread, which can crash the process. So automatic collection is switched off and the same
generational thresholds are checked from a GUI-thread timer instead (the approach pyqtgraph's
GarbageCollector takes). Objects without cycles are still freed at once by reference counting.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Iterator

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

_installed: GuiGarbageCollector | None = None
_users = 0
_full_pauses = 0  # > 0 while some thread allocates long-lived objects in bulk (the engine's imports)
_pause_lock = threading.Lock()


@contextlib.contextmanager
def full_collections_paused() -> Iterator[None]:
    """From any thread: no full collection while the block runs. For bulk allocation of objects that live as long
    as the process (importing torch, diffusers, transformers), which the caller then hands to gc.freeze(): a full
    collection over them would only hold the GUI thread (several times 200–600 ms while the engine imports)."""
    global _full_pauses
    with _pause_lock:
        _full_pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _full_pauses -= 1


class GuiGarbageCollector(QObject):
    """Collects like CPython's own collector would, from a GUI-thread timer. Two things keep each collection
    short (a long one freezes the window): the check runs often (20 ms), so the young generations hold only what
    was allocated since, even while the worker imports torch or loads a model at hundreds of thousands of objects
    a second; and a full collection waits until the objects that reached the oldest generation since the last one
    are a quarter of those that were there then, CPython's own rule (a plain gc.collect(2) skips it, and full
    collections over everything torch and diffusers allocate held the GUI thread for 100–600 ms)."""

    def __init__(self, interval_ms: int = 20, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        self._long_lived = len(gc.get_objects(generation=2))
        self._next_full_check = 0.0  # counting the old generation costs a few ms: at most once a second
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        gc.enable()

    def check(self) -> None:
        gen0, gen1, gen2 = gc.get_count()
        if gen0 <= self.threshold[0]:
            return
        if gen1 < self.threshold[1]:
            gc.collect(0)
        elif gen2 < self.threshold[2] or _full_pauses or not self._full_collection_due():
            gc.collect(1)
        else:
            gc.collect(2)
            self._long_lived = len(gc.get_objects(generation=2))

    def _full_collection_due(self) -> bool:
        now = time.monotonic()
        if now < self._next_full_check:
            return False
        self._next_full_check = now + 1.0
        pending = len(gc.get_objects(generation=2)) - self._long_lived
        return pending > self._long_lived // 4


def install_gui_gc(interval_ms: int = 20) -> GuiGarbageCollector | None:
    """From the GUI thread, after the QApplication exists; one collector however many windows ask for it."""
    global _installed, _users
    app = QCoreApplication.instance()
    if app is None or QThread.currentThread() is not app.thread():
        return None
    if _installed is None:
        _installed = GuiGarbageCollector(interval_ms, app)
    _users += 1
    return _installed


def release_gui_gc() -> None:
    """The last window is gone (and its threads with it): give collection back to Python."""
    global _installed, _users
    _users = max(0, _users - 1)
    if _users == 0 and _installed is not None:
        _installed.stop()
        _installed.deleteLater()
        _installed = None
