"""Starting the window: options, the data folder, logging, the QApplication, and `--smoke` for packaging checks.

python main.py [--data-dir DIR] [--model DIR] [--language zh_CN|en] [--smoke] [--version]; `main.py --help` lists
these and the headless commands. An unknown option is an error (exit 2, one line), never a window.
"""

from __future__ import annotations

import argparse
import gc
import logging
import logging.handlers
import signal
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from PySide6.QtCore import QCoreApplication, QLockFile, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QSplashScreen

from core import __version__
from core.errors import StudioError
from core.store.history import HistoryError
from core.store.history_recovery import open_history
from core.store.state_dirs import set_state_root
from gui.main_window import MainWindow
from gui.support.i18n import SUPPORTED_LANGUAGES, choose_language, core_text, error_text, install_language
from gui.support.paths import APP_ID, APP_NAME, DataPaths
from gui.support.resources import app_icon
from gui.support.settings import Settings, keep_qt_settings_in
from gui.support.single_instance import InstanceServer, activate_running_instance, instance_name
from gui.support.theme import apply_theme

logger = logging.getLogger(__name__)

SMOKE_TIMEOUT_S = 120.0  # only when the window never appears: a busy machine is slow, not broken
EXIT_BAD_USAGE = 2
# Qt's own command-line options (QApplication/QGuiApplication), passed through to Qt; those marked take a value.
QT_OPTIONS_WITH_VALUE = {"-platform", "-platformpluginpath", "-platformtheme", "-plugin", "-style", "-stylesheet"}
QT_OPTIONS_WITH_VALUE |= {"-session", "-display", "-geometry", "-title", "-name", "-qwindowgeometry"}
QT_OPTIONS_WITH_VALUE |= {"-qwindowtitle", "-qwindowicon", "-fontengine", "-qmljsdebugger"}
QT_FLAGS = {"-reverse", "-widgetcount", "-nograb", "-dograb", "-sync", "-testability"}
_log_handler: logging.Handler | None = None


class _Parser(argparse.ArgumentParser):
    """A usage error is one line naming the problem, exit status 2."""

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        self.exit(EXIT_BAD_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def headless_commands() -> list[tuple[str, str]]:
    """(name, help) of each command of the command line (core.cli), for the window's --help."""
    from core.cli import build_parser as build_cli_parser

    commands: list[tuple[str, str]] = []
    for action in build_cli_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            commands += [(choice.dest, choice.help or "") for choice in action._choices_actions]
    return commands


def build_parser() -> argparse.ArgumentParser:
    lines = [f"  {name:<18}{text}" for name, text in headless_commands()]
    parser = _Parser(
        prog="main.py",
        description=f"{APP_NAME}: text-to-video with ContentV-8B on your own GPU. Without a command, opens the window.",
        epilog="commands (headless; 'main.py COMMAND --help' for each one's options):\n" + "\n".join(lines),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data-dir", metavar="DIR", help="keep settings, history and outputs under DIR (portable)")
    parser.add_argument("--model", metavar="DIR", help="preselect this model folder")
    parser.add_argument(
        "--language",
        choices=SUPPORTED_LANGUAGES,
        help="the window's language for this run (default: the Language menu's choice, else the system's)",
    )
    parser.add_argument("--smoke", action="store_true", help="open the window, wait until it is shown, exit 0")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    return parser


def configure_logging(paths: DataPaths) -> Path:
    """A rotating log in the data folder (tracebacks of unexpected errors go there), warnings also on stderr."""
    global _log_handler
    log_file = paths.logs / "contentv-studio.log"
    root = logging.getLogger()
    if _log_handler is not None:
        root.removeHandler(_log_handler)
        _log_handler.close()
    try:
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    _log_handler = handler
    return log_file


def create_window(
    data_dir: str | Path | None = None,
    model: str | None = None,
    *,
    start_engine: bool = True,
    warm_imports: bool = True,
    monitor_interval_ms: int = 1000,
) -> MainWindow:
    """Open the data folder and build the window (not shown). Needs a QApplication. Raises HistoryError when the
    history database cannot be used."""
    paths = DataPaths.at(data_dir).ensure()
    keep_qt_settings_in(paths.root / "qt")  # Qt's file dialog remembers its folders there, not in ~/.config
    set_state_root(paths.root)  # the engine's step-cache calibrations live in the data folder too
    log_file = configure_logging(paths)
    logger.info("%s %s starting; data folder %s", APP_NAME, __version__, paths.root)
    # One instance per data folder marks the previous session's unfinished jobs as interrupted; a second
    # instance on the same folder must not do that to jobs the first one is running.
    lock = QLockFile(str(paths.lock_file))
    lock.setStaleLockTime(0)  # a lock left by a crashed process is detected by its dead PID
    owns_folder = lock.tryLock(200)
    # A damaged history is moved aside and a fresh one started; clips a killed session published are
    # reconciled with it (only by the instance that owns the folder, as for interrupted jobs).
    if owns_folder:  # first finish or remove what killed jobs left, so that a finished publish is reconciled
        from core.output.video import clean_leftovers

        for leftover in clean_leftovers(paths.outputs):
            logger.info("Cleaned up after an earlier job: %s", leftover)
    # Another process holding the history (a second window, a command-line job, a backup) is waited on, never
    # taken for damage; if it still holds it, the history opens as it is and is used once free.
    opening = open_history(paths.history_db, paths.outputs if owns_folder else None)
    store = opening.store
    # The previous session's waiting jobs (and the one it was running) wait again, paused, in the queue.
    interrupted = 0
    if owns_folder:
        try:
            interrupted = store.requeue_unfinished()
            _prune_journals(store)
        except sqlite3.Error as exc:  # still held elsewhere: they are requeued at the next start instead
            logger.warning("The last session's unfinished jobs were not requeued now: %s", exc)
    settings = Settings.load(paths.settings_file)
    window = MainWindow(
        paths,
        store,
        settings,
        model_override=model,
        instance_lock=lock if owns_folder else None,
        shared_data_dir=not owns_folder,
        interrupted=interrupted,
        start_engine=start_engine,
        warm_imports=warm_imports,
        monitor_interval_ms=monitor_interval_ms,
    )
    if owns_folder:  # a second start on this folder brings this window forward instead of opening another
        window.instance_server = InstanceServer(instance_name(paths.root), window)
        window.instance_server.activationRequested.connect(lambda: bring_forward(window))
    if opening.notice:
        # Told without blocking (a status-bar message stays until replaced); --smoke never waits on it.
        logger.warning("%s", opening.notice)
        earlier = window.statusBar().currentMessage()  # e.g. the note about interrupted jobs
        window.statusBar().showMessage(f"{core_text(opening.notice)} {earlier}".strip())
    logger.info("Log file: %s", log_file)
    return window


def bring_forward(window: MainWindow) -> None:
    """Show the window above the others (the window manager may only flash it in the task bar)."""
    if window.isMinimized():
        window.showNormal()
    window.show()
    window.raise_()
    window.activateWindow()
    QApplication.alert(window)


def _prune_journals(store: Any) -> None:
    """Journals whose job is gone from the history or done (killed between publishing and removing its journal)
    would only take disk space: they go."""
    from core.store.history import JobStatus
    from core.store.journal import discard_journal, history_job_id, prune_headerless, window_journal_ids

    for folder in prune_headerless():
        logger.info("Removed an empty job journal: %s", folder)
    for job_id in window_journal_ids():
        record = store.get(job_id)
        if record is None or record.status is JobStatus.DONE:
            logger.info("Removing the journal of job %s (%s)", job_id, "done" if record else "deleted")
            discard_journal(history_job_id(job_id))


def get_application(qt_argv: Sequence[str] = ()) -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else APP_ID, *qt_argv])
    assert isinstance(app, QApplication)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
    apply_theme(app)
    return app


def warm_up_engine_imports(show_splash: bool = False) -> QSplashScreen | None:
    """Import torch, diffusers, transformers and the engine before the window's first paint (behind a splash
    screen when asked).

    Importing torch loads its C++ library, whose start-up (relocations and thousands of operator registrations)
    runs inside one import statement that holds the GIL for 0.6–1 s: done on the worker thread while the window
    was up, it froze the window for that long, and no switch interval or chunking can split it. The imports of
    diffusers and transformers that follow also held the GUI thread for 100–250 ms at a time on a busy
    machine (import hooks and extension modules that run without yielding the GIL). Done here they cost the
    same time once, before the window appears, and the worker's own imports find them done. What they allocate
    lives as long as the process, so it is moved out of the collector's sight (gc.freeze) and never makes a
    full collection long. Returns the splash, for `finish(window)`."""
    splash: QSplashScreen | None = None
    if show_splash and "diffusers" not in sys.modules:
        splash = QSplashScreen(app_icon().pixmap(160, 160))
        splash.showMessage(
            QCoreApplication.translate("App", "Starting {name}…").format(name=APP_NAME),
            Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignHCenter,
        )
        splash.show()
        QApplication.processEvents()
    try:
        import torch  # noqa: F401

        from gui.jobs.worker import GenerationWorker

        GenerationWorker.import_pipeline_modules()
    except Exception:  # a missing or broken torch is reported by the engine's own start, with advice
        logger.exception("Importing the engine failed")
    gc.freeze()
    return splash


def _wait_until_shown(app: QApplication, window: MainWindow, timeout_s: float) -> None:
    """--smoke: exit 0 once the window is visible and exposed, 1 if that does not happen in time."""
    deadline = time.monotonic() + timeout_s

    def check() -> None:
        handle = window.windowHandle()
        if window.isVisible() and handle is not None and handle.isExposed():
            print(f"{APP_NAME} {__version__}: window shown", flush=True)
            window.close()
            app.exit(0)
        elif time.monotonic() > deadline:
            print(f"{APP_NAME}: the window was not shown within {timeout_s:.0f} s", file=sys.stderr, flush=True)
            window.close()
            app.exit(1)
        else:
            QTimer.singleShot(50, check)

    QTimer.singleShot(0, check)


def _exit_on_terminate(app: QApplication) -> None:
    """SIGTERM (SIGBREAK on Windows) ends the window as Ctrl+C ends a job: the event loop stops with status 130
    and `shutdown` cancels and records the jobs, saves the settings and closes the history; no dialog waits."""

    def terminate(_signum: int, _frame: object) -> None:
        logger.warning("Terminated by a signal; shutting down.")
        app.exit(130)

    for name in ("SIGTERM", "SIGBREAK"):
        number = getattr(signal, name, None)
        if number is not None:
            signal.signal(number, terminate)
    # Python runs signal handlers only between bytecodes: a timer gives the interpreter a moment regularly.
    wake = QTimer(app)
    wake.timeout.connect(lambda: None)
    wake.start(250)


def split_qt_options(args: Sequence[str]) -> tuple[list[str], list[str]]:
    """(ours, Qt's): Qt's own options (-style fusion, -reverse, …) go to QApplication; the rest are ours."""
    ours: list[str] = []
    qt: list[str] = []
    pending_value = False
    for arg in args:
        if pending_value:
            qt.append(arg)
            pending_value = False
        elif arg in QT_FLAGS:
            qt.append(arg)
        elif arg in QT_OPTIONS_WITH_VALUE:
            qt.append(arg)
            pending_value = True
        else:
            ours.append(arg)
    return ours, qt


def parse_arguments(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """Our options and Qt's. Anything else (an unknown option, a stray word) exits 2 with one line."""
    ours, qt_args = split_qt_options(argv)
    return build_parser().parse_args(ours), qt_args


def main(argv: Sequence[str] | None = None) -> int:
    args, qt_args = parse_arguments(list(sys.argv[1:] if argv is None else argv))
    app = get_application(qt_args)
    paths = DataPaths.at(args.data_dir)
    # One window per data folder: a window already open on it comes forward, and this start ends. One that does
    # not answer in time (hung) does not stop this start: it opens a window that shares the folder.
    if activate_running_instance(instance_name(paths.root)):
        print(
            f"{APP_NAME} is already open on the data folder {paths.root}: that window was brought forward.",
            file=sys.stderr,
            flush=True,
        )
        return 0
    # Before any widget exists: every widget sets its texts once, when it is built.
    saved_language = Settings.load(paths.settings_file).language
    install_language(app, choose_language(args.language, saved_language))
    # --smoke checks that the window opens; it does not start the engine (no torch import to wait for).
    splash = None if args.smoke else warm_up_engine_imports(show_splash=True)
    try:
        window = create_window(args.data_dir, args.model, start_engine=not args.smoke)
    except (HistoryError, OSError) as exc:
        if splash is not None:
            splash.close()
        message = QCoreApplication.translate("main", "{app} cannot start.").format(app=APP_NAME)
        print(f"{APP_NAME} cannot start: {exc}", file=sys.stderr, flush=True)
        if not args.smoke:  # --smoke never waits on a dialog
            detail = error_text(exc) if isinstance(exc, StudioError) else str(exc)
            QMessageBox.critical(None, APP_NAME, f"{message}\n\n{detail}")
        return 1
    _exit_on_terminate(app)
    window.show()
    if splash is not None:
        splash.finish(window)
    if args.smoke:
        _wait_until_shown(app, window, SMOKE_TIMEOUT_S)
    # From here a SIGTERM ends the window cleanly (the tests wait for this line before they send one).
    QTimer.singleShot(0, lambda: logger.info("Event loop running"))
    code = app.exec()
    window.shutdown()
    return int(code)
