"""One window per data folder, and a locked history is not a damaged one: the window opens over a history another
process holds without moving it aside; a second start on the same folder brings the first window forward (or,
when that window does not answer, opens one that shares the folder)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QLockFile
from PySide6.QtNetwork import QLocalServer

from core.job.request import GenerationRequest
from core.store.history import HistoryStore, JobStatus
from gui.support.single_instance import instance_name
from tests.sqlite_lock import database_held

ROOT = Path(__file__).resolve().parents[2]


def smoke(data: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "--smoke", "--data-dir", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )


def test_the_window_opens_over_a_history_another_process_holds(open_window, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    with HistoryStore(data / "history.sqlite3") as store:
        for i in range(6):
            store.add(GenerationRequest(prompt=f"job {i}"), "/m", JobStatus.DONE)
        store.add(GenerationRequest(prompt="was running"), "/m", JobStatus.RUNNING)
    with database_held(data / "history.sqlite3", 8, block_readers=True) as holder:
        window = open_window(data_dir=data, start_engine=False, warm_imports=False)
        holder.wait(60)
    assert not [p for p in data.iterdir() if ".damaged-" in p.name]
    window.history_panel.refresh()
    assert window.store.count() == 7 and window.history_panel.model.rowCount() == 7
    assert "could not be used" not in window.statusBar().currentMessage()
    assert window.error_dialog is None


def test_a_second_start_on_the_same_data_folder_brings_the_first_window_forward(open_window, qtbot, tmp_path):
    data = tmp_path / "data"
    window = open_window(data_dir=data, start_engine=False, warm_imports=False)
    assert window.instance_server is not None and window.instance_server.listening
    asked: list[bool] = []
    window.instance_server.activationRequested.connect(lambda: asked.append(True))
    second = smoke(data)
    qtbot.waitUntil(lambda: second.poll() is not None, timeout=120_000)  # this window answers meanwhile
    out, err = second.communicate()
    assert second.returncode == 0, err
    assert "already open on the data folder" in err and "window shown" not in out
    assert asked == [True] and window.isVisible()


def test_a_first_window_that_does_not_answer_does_not_stop_a_second_one(qapp, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    lock = QLockFile(str(data / ".instance.lock"))  # a first window holds the folder...
    assert lock.tryLock(0)
    hung = QLocalServer()
    assert hung.listen(instance_name(data))  # ...and its socket, but never answers: no event loop runs here
    try:
        second = smoke(data)
        out, err = second.communicate(timeout=120)
    finally:
        hung.close()
        lock.unlock()
    assert second.returncode == 0, err
    assert "window shown" in out  # a window of its own, sharing the folder
    assert "did not answer" in err
