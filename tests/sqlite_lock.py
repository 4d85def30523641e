"""Another process holding the history database, as a second window, a command-line job or a backup tool does:
`BEGIN EXCLUSIVE` in a subprocess, for a number of seconds or until the test ends it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_HOLDER = """
import sqlite3, sys, time
path, seconds, block_readers = sys.argv[1], float(sys.argv[2]), sys.argv[3] == "1"
db = sqlite3.connect(path, isolation_level=None)
if block_readers:  # as a tool that opens the file for itself alone: even reading waits
    db.execute("PRAGMA locking_mode=EXCLUSIVE")
db.execute("BEGIN EXCLUSIVE")
if block_readers:
    db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # takes the exclusive lock on the file now
print("locked", flush=True)
time.sleep(seconds)
db.execute("ROLLBACK")
db.close()
"""


@contextmanager
def database_held(path: Path, seconds: float, *, block_readers: bool = False) -> Iterator[subprocess.Popen[str]]:
    """Yield once the subprocess holds `path` exclusively; it lets go after `seconds` (or when the block ends)."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path), str(seconds), "1" if block_readers else "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked", "the holder could not lock the database"
        yield holder
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(30)
