"""One window per data folder: the window that owns the folder listens on a local socket named from the folder,
and a second start on the same folder asks it to come forward instead of opening a second window.

The second start sends "activate" and waits briefly for "ok": a first window that is hung, or a socket that fails,
costs it that wait and no more; it then opens a window of its own that shares the folder (gui.app).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

logger = logging.getLogger(__name__)

ACTIVATE = b"activate\n"
ACTIVATED = b"ok\n"
ANSWER_TIMEOUT_MS = 2000  # how long a second start waits for the first window to answer


def instance_name(data_root: Path) -> str:
    """The local socket's name for this data folder (a short hash: socket paths have a length limit)."""
    key = str(Path(data_root).expanduser().absolute()).encode("utf-8", "surrogatepass")
    return f"contentv-studio-{hashlib.sha256(key).hexdigest()[:20]}"


class InstanceServer(QObject):
    """Listens for a second start on the same data folder; `activationRequested` asks the window to come forward.
    Only the owner of the folder's lock runs one, so a socket file left by a crashed owner is removed first."""

    activationRequested = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        QLocalServer.removeServer(name)
        self.listening = self._server.listen(name)
        if not self.listening:
            logger.warning(
                "A second start on this data folder cannot reach this window: %s", self._server.errorString()
            )
        self._server.newConnection.connect(self._accept)
        self._buffers: dict[QLocalSocket, bytes] = {}

    def close(self) -> None:
        self._server.close()

    def _accept(self) -> None:
        while (socket := self._server.nextPendingConnection()) is not None:
            self._buffers[socket] = b""
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(lambda s=socket: self._forget(s))
            self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        data = self._buffers.get(socket, b"") + bytes(socket.readAll().data())
        self._buffers[socket] = data[-64:]
        if ACTIVATE.strip() in data:
            self._buffers[socket] = b""
            logger.info("Another start on this data folder asked this window to come forward")
            self.activationRequested.emit()
            socket.write(ACTIVATED)
            socket.flush()
            socket.disconnectFromServer()

    def _forget(self, socket: QLocalSocket) -> None:
        self._buffers.pop(socket, None)
        socket.deleteLater()


def activate_running_instance(name: str, timeout_ms: int = ANSWER_TIMEOUT_MS) -> bool:
    """Ask the window that owns this data folder to come forward. True when it answered; False when none
    listens, or it did not answer in time (hung, or the socket failed)."""
    socket = QLocalSocket()
    try:
        socket.connectToServer(name)
        if not socket.waitForConnected(timeout_ms):
            return False
        socket.write(ACTIVATE)
        if not socket.waitForBytesWritten(timeout_ms):
            return False
        answer = b""
        while ACTIVATED.strip() not in answer:
            if not socket.waitForReadyRead(timeout_ms):
                logger.warning("The window that owns this data folder did not answer; opening another one")
                return False
            answer += bytes(socket.readAll().data())
        return True
    finally:
        socket.abort()
