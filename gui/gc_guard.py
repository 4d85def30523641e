"""Garbage collection on the GUI thread only.

Python's cyclic collector runs on whichever thread happens to allocate when a threshold is crossed: the
generation worker, a thread-pool task, Qt Multimedia's decoder thread. If the garbage it frees holds the last
reference to a Qt object owned by the GUI thread (an event loop, a timer, a widget), that object is destroyed
on the wrong thread, which can crash the process. So automatic collection is switched off and the same
generational thresholds are checked from a GUI-thread timer instead (the approach pyqtgraph's
GarbageCollector takes). Objects without cycles are still freed at once by reference counting.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer

_installed: GuiGarbageCollector | None = None
_users = 0


class GuiGarbageCollector(QObject):
    def __init__(self, interval_ms: int = 200, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
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
        if gen0 > self.threshold[0]:
            gc.collect(0)
            if gen1 > self.threshold[1]:
                gc.collect(1)
                if gen2 > self.threshold[2]:
                    gc.collect(2)


def install_gui_gc(interval_ms: int = 200) -> GuiGarbageCollector | None:
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
