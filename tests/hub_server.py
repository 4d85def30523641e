"""A stand-in for the Hugging Face Hub on 127.0.0.1, serving one model folder through the parts of the hub's HTTP
API that huggingface_hub's downloads use:

- GET  /api/models/{repo}[/revision/{rev}]          model info (sha, siblings with sizes)
- GET  /api/models/{repo}/tree/{rev}[/{path}]       the file tree (sizes, git blob ids, LFS sha256 for weights)
- HEAD /{repo}/resolve/{rev}/{path}                 ETag, X-Repo-Commit, Content-Length, Accept-Ranges
- GET  /{repo}/resolve/{rev}/{path}                 the file, with Range support (206 + Content-Range)

`cut(path, times)` makes the next `times` GETs of a file stop halfway through the body and drop the connection,
as a flaky network does. Every request is logged (method, path, Range header) for the tests to inspect.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

COMMIT = "0123456789abcdef0123456789abcdef01234567"
LFS_SUFFIXES = (".safetensors", ".bin", ".model")


@dataclass
class ServedFile:
    data: bytes
    git_oid: str
    sha256: str
    lfs: bool


@dataclass
class HubState:
    repo: str
    files: dict[str, ServedFile]
    cuts: dict[str, int] = field(default_factory=dict)
    log: list[tuple[str, str, str | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ranges_for(self, path: str) -> list[str | None]:
        suffix = f"/resolve/{COMMIT}/{path}"
        return [r for method, p, r in self.log if method == "GET" and p.endswith(suffix)]


def _load(folder: Path) -> dict[str, ServedFile]:
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        rel = path.relative_to(folder).as_posix()
        git_oid = hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()
        files[rel] = ServedFile(data, git_oid, hashlib.sha256(data).hexdigest(), path.suffix in LFS_SUFFIXES)
    return files


class _Handler(BaseHTTPRequestHandler):
    state: HubState  # set on the subclass each server makes
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet: the state's log records what the tests need

    def _json(self, payload: object, status: int = 200) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _not_found(self, message: str, error_code: str = "EntryNotFound") -> None:
        body = json.dumps({"error": message}).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Error-Code", error_code)
        self.send_header("X-Error-Message", message)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_HEAD(self) -> None:
        self._route(head=True)

    def do_GET(self) -> None:
        self._route(head=False)

    def _route(self, head: bool) -> None:
        state = self.state
        path = unquote(urlsplit(self.path).path)
        with state.lock:
            state.log.append(("HEAD" if head else "GET", path, self.headers.get("Range")))
        api_prefix = f"/api/models/{state.repo}"
        resolve_prefix = f"/{state.repo}/resolve/"
        if path.startswith(api_prefix + "/tree/"):
            rest = path[len(api_prefix + "/tree/") :]
            revision, _, sub = rest.partition("/")
            if revision not in ("main", COMMIT):
                return self._not_found(f"Invalid rev id: {revision}", "RevisionNotFound")
            return self._json(self._tree(sub))
        if path == api_prefix or path.startswith(api_prefix + "/revision/"):
            revision = path[len(api_prefix + "/revision/") :] if "/revision/" in path else "main"
            if revision not in ("main", COMMIT):
                return self._not_found(f"Invalid rev id: {revision}", "RevisionNotFound")
            siblings = [{"rfilename": p, "size": len(f.data)} for p, f in state.files.items()]
            return self._json({"id": state.repo, "modelId": state.repo, "sha": COMMIT, "siblings": siblings})
        if path.startswith(resolve_prefix):
            revision, _, name = path[len(resolve_prefix) :].partition("/")
            served = state.files.get(name)
            if revision not in ("main", COMMIT) or served is None:
                return self._not_found(f"{name} not found")
            return self._file(name, served, head)
        return self._not_found("Repository not found", "RepoNotFound")

    def _tree(self, sub: str) -> list[dict]:
        entries: list[dict] = []
        folders: set[str] = set()
        for name, served in self.state.files.items():
            if sub and not name.startswith(sub.rstrip("/") + "/"):
                continue
            parts = name.split("/")
            for i in range(1, len(parts)):
                folders.add("/".join(parts[:i]))
            entry: dict = {"type": "file", "oid": served.git_oid, "size": len(served.data), "path": name}
            if served.lfs:
                entry["lfs"] = {"oid": served.sha256, "size": len(served.data), "pointerSize": 134}
            entries.append(entry)
        entries += [{"type": "directory", "oid": "0" * 40, "size": 0, "path": f} for f in sorted(folders)]
        return entries

    def _file(self, name: str, served: ServedFile, head: bool) -> None:
        data = served.data
        start, status = 0, 200
        requested = self.headers.get("Range")
        if requested and requested.startswith("bytes="):
            first, _, last = requested[len("bytes=") :].partition("-")
            start = int(first or 0)
            end = int(last) + 1 if last else len(data)
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
            body = data[start:end]
        else:
            body = data
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", f'"{served.sha256 if served.lfs else served.git_oid}"')
        self.send_header("X-Repo-Commit", COMMIT)
        if served.lfs:
            self.send_header("X-Linked-Size", str(len(data)))
            self.send_header("X-Linked-Etag", f'"{served.sha256}"')
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{start + len(body) - 1}/{len(data)}")
        self.end_headers()
        if head:
            return
        with self.state.lock:
            cut = self.state.cuts.get(name, 0) > 0
            if cut:
                self.state.cuts[name] -= 1
        if not cut:
            self.wfile.write(body)
            return
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)  # the connection drops mid-body
        self.close_connection = True


@dataclass
class LocalHub:
    url: str
    state: HubState

    def cut(self, path: str, times: int = 1) -> None:
        with self.state.lock:
            self.state.cuts[path] = times


@contextmanager
def serve_model(folder: Path, repo: str = "ByteDance/ContentV-8B") -> Iterator[LocalHub]:
    state = HubState(repo, _load(folder))
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="local-hub", daemon=True)
    thread.start()
    try:
        yield LocalHub(f"http://127.0.0.1:{server.server_address[1]}", state)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
