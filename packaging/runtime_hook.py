"""PyInstaller runtime hook for ContentV Studio: runs inside the frozen app before main.py.

It repairs what freezing breaks:

* Standard streams. A windowed executable (Windows, console=False) starts with sys.stdout and sys.stderr set to
  None, and anything that prints (`generate`'s progress, tqdm, logging, a traceback) would crash. A stream that
  is None is replaced:
    1. on Windows, by the console of the process that started us, if there is one (AttachConsole): typing
       `ContentVStudio.exe generate ...` in cmd or PowerShell prints there. (A GUI-subsystem program is not
       waited for by cmd: use `start /wait ContentVStudio.exe generate ...`, or PowerShell's
       `Start-Process -Wait`, to get the exit code and the prompt back after the output.)
       Output redirected to a file or a pipe is already a valid stream and is left alone.
    2. otherwise (double-clicked: no console at all), by the log file `<data folder>/logs/console.log`
       (the data folder is `--data-dir DIR` if given, else gui.support.paths' default), so a crash still leaves its
       traceback somewhere a user can find and send.
* multiprocessing: a frozen Windows/macOS program re-executes itself for each spawned worker;
  freeze_support() makes such a child run the worker instead of the app. main.py calls it too; calling it here
  as well keeps that true whatever main.py becomes.
* Resources: the repo's resources/ folder is bundled as `sys._MEIPASS/resources`. Code that locates it as
  `Path(__file__).resolve().parent.parent / "resources"` (from core/ or gui/) finds it frozen or not, because a
  frozen module's __file__ is `sys._MEIPASS/<package>/<module>.py`. CONTENTV_STUDIO_RESOURCES is set to the same
  folder for code that prefers to ask.
"""

from __future__ import annotations

import os
import sys

LOG_NAME = "console.log"
LOG_MAX_BYTES = 5 * 2**20


def _bundle_dir() -> str:
    return getattr(sys, "_MEIPASS", os.path.dirname(os.path.abspath(sys.executable)))


def _data_dir() -> str:
    argv = sys.argv[1:]
    for i, arg in enumerate(argv):
        if arg == "--data-dir" and i + 1 < len(argv):
            return os.path.abspath(os.path.expanduser(argv[i + 1]))
        if arg.startswith("--data-dir="):
            return os.path.abspath(os.path.expanduser(arg.split("=", 1)[1]))
    try:
        from gui.support.paths import default_data_dir  # the app's own rule, when gui/ provides it

        return str(default_data_dir())
    except Exception:
        from platformdirs import user_data_dir

        return user_data_dir("ContentV Studio", appauthor=False, roaming=False)


def _attach_parent_console():
    """On Windows, attach to the parent's console (if any) and return writable text streams for it."""
    if sys.platform != "win32":
        return None
    try:
        import ctypes
        import io

        attach_parent_process = ctypes.c_uint32(0xFFFFFFFF)  # ATTACH_PARENT_PROCESS = (DWORD)-1
        if not ctypes.windll.kernel32.AttachConsole(attach_parent_process):
            return None

        def console_stream():
            try:  # the console's own UTF-16 writer, as Python uses for a console: no code-page mojibake
                raw = io._WindowsConsoleIO("CONOUT$", "w")
                return io.TextIOWrapper(io.BufferedWriter(raw), encoding="utf-8", errors="replace", line_buffering=True)
            except Exception:
                return open("CONOUT$", "w", encoding="utf-8", errors="replace", buffering=1)

        out, err = console_stream(), console_stream()
        out.write("\n")  # the shell's prompt is already on this line: start on a fresh one
        return out, err
    except Exception:
        return None


def _log_stream():
    folder = os.path.join(_data_dir(), "logs")
    try:
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, LOG_NAME)
        if os.path.exists(path) and os.path.getsize(path) > LOG_MAX_BYTES:
            os.replace(path, path + ".1")
        stream = open(path, "a", encoding="utf-8", errors="replace", buffering=1)  # noqa: SIM115
        import time

        stream.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(sys.argv)}\n")
        return stream
    except OSError:
        return open(os.devnull, "w", encoding="utf-8")  # nowhere to write: at least don't crash


def _fix_std_streams() -> None:
    if sys.stdout is not None and sys.stderr is not None:
        return
    streams = _attach_parent_console()
    if streams is None:
        log = _log_stream()
        streams = (log, log)
    if sys.stdout is None:
        sys.stdout = streams[0]
    if sys.stderr is None:
        sys.stderr = streams[1]
    if sys.stdin is None:
        sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115


def _main() -> None:
    _fix_std_streams()
    os.environ.setdefault("CONTENTV_STUDIO_RESOURCES", os.path.join(_bundle_dir(), "resources"))
    import multiprocessing

    multiprocessing.freeze_support()


_main()
