"""The main window: the form on the left (model, prompt, parameters, memory, Generate), the player in the
centre, the history on the right, and the memory gauge in the status bar. It wires widgets to the job
controller; the state lives in the controller, the history store and the settings, not in the widgets."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QCoreApplication, QLockFile, Qt, QTimer, QUrl
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core import __version__
from core.errors import DeviceUnavailableError, StudioError
from core.history import HistoryStore, JobRecord, JobStatus
from core.journal import discard_journal, history_job_id
from core.preview import PreviewFrames
from core.progress import QueuedWork, Stage, queue_seconds_left
from core.request import GenerationRequest, MemoryOptions, Placement, random_seed
from gui.dialogs.error_dialogs import ErrorDialog, confirm
from gui.form.form_model import FormModel, bind_memory_panel, bind_speed_panel
from gui.form.memory_advice import lower_memory_options
from gui.form.memory_panel import MemoryPanel
from gui.form.model_picker import ModelPicker
from gui.form.parameter_form import ParameterForm
from gui.form.prompt_editor import PromptEditor
from gui.form.speed_panel import SpeedPanel
from gui.jobs.controller import JobController, seed_series
from gui.jobs.history_panel import HistoryPanel
from gui.jobs.queue_panel import BatchControls, QueuePanel
from gui.jobs.worker import JobOutcome
from gui.player.preview_view import PreviewPanel
from gui.player.video_player import VideoPlayer, open_in_folder
from gui.support.gc_guard import install_gui_gc, release_gui_gc
from gui.support.i18n import QT_TRANSLATE_NOOP, LanguageMenu, core_text
from gui.support.paths import APP_NAME, DataPaths
from gui.support.resources import app_icon
from gui.support.settings import Settings
from gui.support.single_instance import InstanceServer
from gui.support.system_monitor import SystemMonitor
from gui.widgets.vram_gauge import VramGauge
from gui.widgets.wheel_guard import guard_wheel

if TYPE_CHECKING:
    from gui.dialogs.export_dialog import ExportDialog

logger = logging.getLogger(__name__)

# Translated where shown (self.tr in MainWindow: same context).
STAGE_TEXT = {
    Stage.LOADING.value: QT_TRANSLATE_NOOP("MainWindow", "Loading the model…"),
    Stage.ENCODING.value: QT_TRANSLATE_NOOP("MainWindow", "Encoding the prompt…"),
    Stage.DENOISING.value: QT_TRANSLATE_NOOP("MainWindow", "Denoising…"),
    Stage.DECODING.value: QT_TRANSLATE_NOOP("MainWindow", "Decoding the video…"),
    Stage.SAVING.value: QT_TRANSLATE_NOOP("MainWindow", "Saving the clip…"),
}
EMPTY_PROMPT = "The prompt is empty"
TITLE_PROMPT_CHARS = 40  # of the prompt in the title while a job runs


def window_title(percent: int | None = None, prompt: str = "") -> str:
    """One title: "85% — a red fox… — ContentV Studio" while a job runs, the app's name otherwise. It ends with
    the application's display name, so Qt does not append it a second time."""
    if percent is None:
        return APP_NAME
    parts = [f"{percent}%"]
    prompt = " ".join(prompt.split())
    if prompt:
        parts.append(prompt if len(prompt) <= TITLE_PROMPT_CHARS else prompt[: TITLE_PROMPT_CHARS - 1].rstrip() + "…")
    return " — ".join([*parts, APP_NAME])


def clock(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, sec = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}:{sec:02d}"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{sec:02d}"


def clip_info(request: GenerationRequest, frames: int | None = None, seconds: float | None = None) -> str:
    n = frames or request.effective_frames
    parts = [
        f"{request.width} × {request.height}",
        QCoreApplication.translate("clip_info", "{frames} frames at {fps} fps ({seconds} s)").format(
            frames=n, fps=request.fps, seconds=f"{n / request.fps:.1f}"
        ),
        QCoreApplication.translate("clip_info", "{steps} steps").format(steps=request.steps),
        QCoreApplication.translate("clip_info", "guidance {guidance}").format(guidance=f"{request.guidance:g}"),
        QCoreApplication.translate("clip_info", "seed {seed}").format(seed=request.seed),
    ]
    if seconds:
        parts.append(QCoreApplication.translate("clip_info", "made in {seconds} s").format(seconds=f"{seconds:.1f}"))
    return "  ·  ".join(parts)


class MainWindow(QMainWindow):
    def __init__(
        self,
        paths: DataPaths,
        store: HistoryStore,
        settings: Settings,
        *,
        model_override: str | None = None,
        instance_lock: QLockFile | None = None,
        shared_data_dir: bool = False,
        interrupted: int = 0,
        start_engine: bool = True,
        warm_imports: bool = True,
        monitor_interval_ms: int = 1000,
    ) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.paths = paths
        self.store = store
        self.settings = settings
        self._lock = instance_lock
        self.instance_server: InstanceServer | None = None  # set by gui.app when this window owns the folder
        self._start_engine = start_engine
        self._started = False
        self._stopping = False
        self._shut_down = False
        self._current_job: int | None = None
        self._stage_text = self.tr("Ready.")
        self.error_dialog: ErrorDialog | None = None
        self.export_dialog: ExportDialog | None = None  # imported when first opened (it pulls in numpy)
        self.form = FormModel(parent=self)  # the form's state; the panels bind to it
        self._current_prompt = ""  # of the running job, for the title

        self.setWindowTitle(window_title())
        self.setWindowIcon(app_icon())
        install_gui_gc()  # released in shutdown()
        self.controller = JobController(
            store,
            paths.outputs,
            paths.thumbnails,
            log_hint=str(paths.logs / "contentv-studio.log"),
            warm_imports=warm_imports,
            parent=self,
            restore_queue=not shared_data_dir,
        )
        self.controller.preview_every = max(0, settings.preview_every)
        self.controller.snapshot_every = max(0, settings.snapshot_every)
        self._seconds_per_step: float | None = None  # measured on the running job, for the queue's time left
        self._job_eta = 0.0
        self._close_dialog: QMessageBox | None = None
        self.monitor = SystemMonitor(monitor_interval_ms, self)

        self._build_ui()
        self._build_menus()
        self._connect()
        self._restore(model_override)
        self._update_memory_advice()
        if shared_data_dir:
            self.statusBar().showMessage(
                self.tr("Another ContentV Studio window is using this data folder; both write to the same history."),
                15000,
            )
        elif interrupted:
            self.statusBar().showMessage(
                self.tr(
                    "%n job(s) from the last session are waiting in the queue, paused: Resume runs them.",
                    "",
                    interrupted,
                ),
                15000,
            )

    # ---- layout -----------------------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        # Left column: what to make and how.
        self.model_picker = ModelPicker(self.paths.models)
        self.prompt_editor = PromptEditor()
        self.parameter_form = ParameterForm()
        self.memory_panel = MemoryPanel()
        self.prompt_editor.bind(self.form)
        self.parameter_form.bind(self.form)
        bind_memory_panel(self.form, self.memory_panel)
        self.speed_panel = SpeedPanel()
        bind_speed_panel(self.form, self.speed_panel)

        left_content = QWidget()
        left_layout = QVBoxLayout(left_content)
        left_layout.setContentsMargins(10, 4, 10, 10)
        left_layout.setSpacing(4)
        left_layout.addWidget(self._group(self.tr("Model"), self.model_picker))
        left_layout.addWidget(self._group(self.tr("&Prompt"), self.prompt_editor), 1)
        left_layout.addWidget(self._group(self.tr("Video"), self.parameter_form))
        left_layout.addWidget(self._group(self.tr("Memory and device"), self.memory_panel))
        left_layout.addWidget(self._group(self.tr("Speed"), self.speed_panel))
        left_layout.addStretch(0)
        scroll = QScrollArea()
        scroll.setObjectName("leftScroll")
        scroll.setWidget(left_content)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        guard_wheel(left_content)  # the wheel scrolls the form; it changes a field only once that has focus

        # The run bar stays in view below the scrolling form.
        self.problems_label = QLabel()
        self.problems_label.setObjectName("problemsLabel")
        self.problems_label.setWordWrap(True)
        self.problems_label.hide()
        self.generate_button = QPushButton(self.tr("Generate"))
        self.generate_button.setObjectName("generateButton")
        self.generate_button.setToolTip(self.tr("Generate the clip (Ctrl+Enter)."))
        self.generate_button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setObjectName("cancelButton")
        self.cancel_button.setToolTip(self.tr("Stop the running job after the current step; nothing is written (Esc)."))
        self.cancel_button.setEnabled(False)
        self.batch_controls = BatchControls()
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button, 1)
        buttons.addWidget(self.cancel_button)
        batch_row = QHBoxLayout()
        batch_row.addWidget(self.batch_controls)
        batch_row.addStretch(1)
        self.stage_label = QLabel(self._stage_text)
        self.stage_label.setObjectName("stageLabel")
        self.stage_label.setProperty("role", "hint")
        self.stage_label.setWordWrap(True)
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("progressBar")
        self.progress_bar.setAccessibleName(self.tr("Job progress"))
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("")
        run_bar = QWidget()
        run_bar.setObjectName("runBar")
        run_layout = QVBoxLayout(run_bar)
        run_layout.setContentsMargins(10, 6, 10, 10)
        run_layout.setSpacing(6)
        run_layout.addWidget(self.problems_label)
        run_layout.addLayout(buttons)
        run_layout.addLayout(batch_row)
        run_layout.addWidget(self.progress_bar)
        run_layout.addWidget(self.stage_label)

        left = QWidget()
        left.setObjectName("leftColumn")
        left_col = QVBoxLayout(left)
        left_col.setContentsMargins(0, 0, 0, 0)
        left_col.setSpacing(0)
        left_col.addWidget(scroll, 1)
        left_col.addWidget(run_bar)
        # As narrow as the form allows (its widest row plus the scroll bar), so the window fits small screens.
        left.setMinimumWidth(left_content.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4)

        # Centre: the clip.
        self.player = VideoPlayer()
        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(8, 10, 8, 10)
        centre_layout.addWidget(self.player, 1)
        self.preview_panel = PreviewPanel(self.settings.preview_every)
        self.preview_view = self.preview_panel.view
        self.preview_panel.setMaximumHeight(240)
        centre_layout.addWidget(self._group(self.tr("Live preview"), self.preview_panel))

        # Right: the history.
        self.history_panel = HistoryPanel(self.store)
        self.queue_panel = QueuePanel(self.controller)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(8, 10, 10, 10)
        right_layout.addWidget(self._group(self.tr("Queue"), self.queue_panel))
        right_layout.addWidget(self.history_panel, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(centre)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)

        self.vram_gauge = VramGauge()
        self.statusBar().addPermanentWidget(self.vram_gauge)
        self.statusBar().setSizeGripEnabled(True)

    @staticmethod
    def _group(title: str, widget: QWidget) -> QGroupBox:
        box = QGroupBox(title)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.addWidget(widget)
        return box

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu(self.tr("&File"))
        choose = file_menu.addAction(self.tr("Choose &model folder…"), self.model_picker.browse)
        choose.setShortcut(QKeySequence.StandardKey.Open)
        file_menu.addAction(self.tr("Make a &demo model…"), self.model_picker.make_demo_model)
        file_menu.addAction(self.tr("&Get ContentV-8B…"), self.model_picker.get_model)
        file_menu.addSeparator()
        self.export_action = file_menu.addAction(self.tr("&Export the clip…"), self._export_playing)
        self.export_action.setShortcut(QKeySequence("Ctrl+E"))
        file_menu.addAction(self.tr("Open the &outputs folder"), lambda: self._open_folder(self.paths.outputs))
        file_menu.addAction(self.tr("Open the data &folder"), lambda: self._open_folder(self.paths.root))
        file_menu.addSeparator()
        quit_action = file_menu.addAction(self.tr("&Quit"), self.close)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)

        job_menu = bar.addMenu(self.tr("&Job"))
        self.generate_action = QAction(self.tr("&Generate"), self)
        self.generate_action.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        self.generate_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.generate_action.triggered.connect(self.generate)
        job_menu.addAction(self.generate_action)
        self.addAction(self.generate_action)  # the shortcut works even with the menu bar hidden
        self.cancel_action = job_menu.addAction(self.tr("&Cancel the running job"), self.cancel_job)
        self.cancel_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.cancel_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.cancel_action.setEnabled(False)
        job_menu.addSeparator()
        rerun = job_menu.addAction(self.tr("&Re-run the selected job"), lambda: self._rerun_selected(False))
        rerun.setShortcut(QKeySequence("Ctrl+R"))
        job_menu.addAction(self.tr("Re-run with a &new seed"), lambda: self._rerun_selected(True))
        job_menu.addAction(self.tr("&Load the selected job into the form"), self._load_selected)

        view_menu = bar.addMenu(self.tr("&View"))
        view_menu.addAction(self.tr("&Reset the layout"), self._reset_layout)
        find = view_menu.addAction(self.tr("&Search the history"), self._focus_search)
        find.setShortcut(QKeySequence.StandardKey.Find)

        bar.addMenu(LanguageMenu(self.settings.language, self._save_language, self))

        help_menu = bar.addMenu(self.tr("&Help"))
        help_menu.addAction(self.tr("Open the &log file"), lambda: self._open_folder(self.paths.logs))
        help_menu.addAction(self.tr("&About {app}").format(app=APP_NAME), self._about)

    def _connect(self) -> None:
        c = self.controller
        c.capabilitiesReady.connect(self._on_capabilities)
        c.engineFailed.connect(self._on_engine_failed)
        c.jobQueued.connect(self._on_queued)
        c.jobStarted.connect(self._on_started)
        c.stageChanged.connect(self._on_stage)
        c.stepped.connect(self._on_step)
        c.jobFinished.connect(self._on_finished)
        c.jobFailed.connect(self._on_failed)
        c.jobCancelled.connect(self._on_cancelled)
        c.jobSuspended.connect(self._on_suspended)
        c.previewed.connect(self._on_preview)
        c.decoded.connect(self._on_decoded)
        c.queue.changed.connect(self._on_queue_changed)
        self.preview_panel.everyChanged.connect(self._set_preview_every)
        self.batch_controls.changed.connect(self._revalidate)
        c.historyChanged.connect(self.history_panel.refresh)
        c.busyChanged.connect(self._on_busy)

        self.generate_button.clicked.connect(self.generate)
        self.cancel_button.clicked.connect(self.cancel_job)
        self.prompt_editor.changed.connect(self._revalidate)
        self.parameter_form.changed.connect(self._revalidate)
        self.memory_panel.changed.connect(self._revalidate)
        self.model_picker.reportChanged.connect(self._revalidate)
        self.model_picker.pathChanged.connect(self._revalidate)
        self.model_picker.demoFinished.connect(self._on_demo_finished)

        self.player.openFolderRequested.connect(lambda p: self._open_folder(Path(p)))
        self.player.exportRequested.connect(self.export_clip)
        h = self.history_panel
        h.loadRequested.connect(self.load_record)
        h.rerunRequested.connect(self.rerun_record)
        h.playRequested.connect(self.play_record)
        h.openFolderRequested.connect(lambda r: r.video is not None and self._open_folder(r.video))
        h.deleteRequested.connect(self.delete_record)
        h.exportRequested.connect(lambda r: r.video is not None and self.export_clip(str(r.video)))
        h.continueRequested.connect(self.continue_record)
        h.startOverRequested.connect(self.start_over_record)
        h.decodeAgainRequested.connect(self.decode_again_record)
        h.journal_progress = self.controller.journal_progress

        self.monitor.sampled.connect(self.vram_gauge.update_sample)
        # Memory advice before a job (issue 8, item 6): the estimate follows the form and NVML's free memory.
        self.monitor.sampled.connect(self.memory_panel.update_sample)
        self.parameter_form.changed.connect(self._update_memory_advice)
        # Speed options: the kernels follow the device and precision, the step-cache note the model's calibration
        # (recorded by a finished job), and the advice both.
        self.form.changed.connect(lambda name: name == "memory" and self._update_speed_context())
        self.model_picker.pathChanged.connect(self._update_speed_context)
        c.jobFinished.connect(self._update_speed_context)
        self.speed_panel.changed.connect(self._update_speed_context)

    # ---- start-up ---------------------------------------------------------------------------------------------
    def _restore(self, model_override: str | None) -> None:
        s = self.settings
        request = s.request()
        if request is not None:
            self.form.apply_request(request, lock_seed=s.seed_locked)
        self.model_picker.set_recent(s.recent_models)
        model = model_override or s.model_dir
        if model:
            self.model_picker.set_path(model)
        if s.history_search:
            self.history_panel.set_search(s.history_search)
        if s.window_geometry:
            self.restoreGeometry(QByteArray.fromHex(s.window_geometry.encode()))
        else:
            self._default_geometry()
        if s.splitter_state:
            self.splitter.restoreState(QByteArray.fromHex(s.splitter_state.encode()))
        else:
            self.splitter.setSizes([460, 660, 360])
        self._revalidate()

    def _default_geometry(self) -> None:
        screen = QApplication.primaryScreen()
        available = screen.availableGeometry() if screen else None
        width, height = 1480, 900
        if available is not None:
            width = min(width, available.width() - 40)
            height = min(height, available.height() - 60)
        self.resize(width, height)
        if available is not None:
            self.move(available.center() - self.rect().center())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._started:
            self._started = True
            # After the window is on screen: the worker's first act is importing torch.
            QTimer.singleShot(0, self._start_background)

    def _start_background(self) -> None:
        if self._shut_down:
            return
        self.monitor.start()
        if self._start_engine:
            self.controller.start()
            if not self.statusBar().currentMessage():  # keep a start-up note (interrupted jobs) readable
                self.statusBar().showMessage(self.tr("Starting the engine…"), 15000)

    # ---- the form ---------------------------------------------------------------------------------------------
    def current_request(self, seed: int | None = None) -> GenerationRequest:
        return self.form.request(seed)

    def problems(self) -> list[str]:
        """What stops the form from running, in plain words (the empty prompt is a hint, not a problem)."""
        request = self.current_request()
        found = [p for p in request.problems() if not p.startswith(EMPTY_PROMPT)]
        caps = self.controller.capabilities
        if caps is not None:
            from core.devices import resolve_device

            try:
                resolve_device(request.memory, caps)  # type: ignore[arg-type]
            except DeviceUnavailableError as exc:
                found.append(exc.message)
        return found

    def _update_memory_advice(self) -> None:
        from core.estimate import JobShape

        p = self.parameter_form.parameters()
        self.memory_panel.set_job_shape(JobShape(p.width, p.height, p.num_frames, p.steps, p.guidance))

    def _update_speed_context(self, *_: object) -> None:
        self.speed_panel.set_context(self.controller.capabilities, self.form.memory(), self.model_picker.path())
        self.memory_panel.set_speed(self.form.speed(), self.speed_panel.calibrated is True)

    def model_problem(self) -> str:
        """Why the chosen model folder cannot run a job yet ("" when it can)."""
        picker = self.model_picker
        if not picker.path():
            return self.tr("Choose a model folder first (File ▸ Choose model folder…).")
        if picker.checking or picker.report is None:
            return self.tr("Checking the model folder…")
        if not picker.is_valid:
            return self.tr("The model folder cannot be used: {problems}").format(
                problems="; ".join(picker.report.problems) or self.tr("see the note under it")
            )
        return ""

    def _revalidate(self) -> None:
        problems = self.problems()
        model_problem = self.model_problem()
        shown = [model_problem, *problems] if model_problem else problems
        if shown:
            self.problems_label.setText("\n".join(f"• {core_text(p)}" for p in shown))
        self.problems_label.setVisible(bool(shown))
        has_prompt = bool(self.prompt_editor.prompt())
        ok = not shown and has_prompt and not self._stopping
        self.generate_button.setEnabled(ok)
        self.generate_action.setEnabled(ok)
        if model_problem:
            self.generate_button.setToolTip(model_problem)
        elif not has_prompt:
            self.generate_button.setToolTip(self.tr("Write a prompt first."))
        elif problems:
            self.generate_button.setToolTip(self.tr("Fix the settings listed above first."))
        else:
            self.generate_button.setToolTip(
                self.tr("Add this job to the queue (Ctrl+Enter).")
                if self.controller.busy
                else self.tr("Generate the clip (Ctrl+Enter).")
            )

    def generate(self) -> JobRecord | None:
        """Queue a job from the form. Unless the seed is locked, a new random seed is drawn and shown."""
        self._revalidate()
        if not self.generate_button.isEnabled():
            return None
        if not self.parameter_form.seed_locked:
            self.parameter_form.seed_spin.setValue(random_seed())
        requests = self.batch_requests()
        if not requests:
            self.statusBar().showMessage(self.tr("Every line of the prompt is empty."), 5000)
            return None
        try:
            records = self.controller.submit_many(requests, self.model_picker.path())
        except StudioError as exc:
            self.show_error(exc.kind, exc.message, exc.advice)
            return None
        except sqlite3.Error as exc:
            self._history_write_failed(exc)
            return None
        if len(records) > 1:
            self.statusBar().showMessage(self.tr("%n job(s) added to the queue.", "", len(records)), 5000)
        self._save_settings()
        return records[0]

    def batch_requests(self) -> list[GenerationRequest]:
        """The jobs one Generate makes: for each prompt (one per line when asked), the batch count of seeds
        seed, seed + 1, …"""
        base = self.current_request()
        seeds = seed_series(base.seed if base.seed is not None else random_seed(), self.batch_controls.count)
        return [
            dataclasses.replace(base, prompt=prompt, seed=seed)
            for prompt in self.batch_controls.prompts(base.prompt)
            for seed in seeds
        ]

    def _history_write_failed(self, exc: Exception) -> None:
        logger.exception("Recording the job failed", exc_info=exc)
        self.show_error(
            "internal",
            self.tr("The job could not be recorded in the history ({error}), so it was not started.").format(error=exc),
            self.tr("Check that the data folder {folder} is writable and the disk has free space.").format(
                folder=self.paths.root
            ),
        )

    def cancel_job(self) -> None:
        if self.controller.cancel_current():
            self._set_stage(self.tr("Cancelling after the current step…"))
            self.cancel_button.setEnabled(False)

    # ---- job signals ------------------------------------------------------------------------------------------
    def _set_stage(self, text: str) -> None:
        self._stage_text = text
        self.stage_label.setText(text + self._queue_note())

    def _queue_note(self) -> str:
        """The queue behind the running job: how many wait and, once a step was measured, the time they need."""
        c = self.controller
        waiting = len(c.waiting_jobs)
        if not waiting:
            return ""
        if c.paused:
            return "  ·  " + self.tr("%n waiting (paused)", "", waiting)
        note = "  ·  " + self.tr("%n more queued", "", waiting)
        entry = c.running_entry
        if entry is not None and self._seconds_per_step is not None:
            work = [QueuedWork(e.request.steps, e.latent_pixels) for e in c.queue.entries]
            current = QueuedWork(entry.request.steps, entry.latent_pixels)
            total = queue_seconds_left(self._job_eta, self._seconds_per_step, current, work)
            note += "  ·  " + self.tr("queue about {time} left").format(time=clock(total))
        return note

    def _on_queue_changed(self) -> None:
        self._set_stage(self._stage_text)  # the count (and time) of waiting jobs
        self._on_busy(self.controller.busy)

    def _on_queued(self, record: JobRecord) -> None:
        if self.controller.running_job is not None and self.controller.running_job != record.id:
            self.statusBar().showMessage(self.tr("Queued: {prompt}").format(prompt=record.request.prompt[:60]), 4000)
        elif self.controller.paused:
            self.statusBar().showMessage(self.tr("Added to the paused queue: Resume runs it."), 6000)
        else:
            self._set_stage(
                self.tr("Waiting for the engine…") if not self.controller.engine_ready else self.tr("Starting…")
            )
            self._set_busy_bar()

    def _on_started(self, job_id: int) -> None:
        self._current_job = job_id
        self._seconds_per_step = None
        self._job_eta = 0.0
        self.preview_view.clear()
        record = self.store.get(job_id)
        self._current_prompt = record.request.prompt if record is not None else ""
        self.setWindowTitle(window_title(0, self._current_prompt))
        self.vram_gauge.begin_job()
        self._set_busy_bar()
        self._set_stage(self.tr(STAGE_TEXT[Stage.LOADING.value]))
        self.cancel_button.setEnabled(True)
        self.cancel_action.setEnabled(True)

    def _set_busy_bar(self) -> None:
        self.progress_bar.setRange(0, 0)  # indeterminate until the steps begin
        self.progress_bar.setFormat("")

    def _on_stage(self, job_id: int, stage: str) -> None:
        if job_id != self._current_job:
            return
        self._set_stage(self.tr(STAGE_TEXT[stage]) if stage in STAGE_TEXT else stage)
        if stage in (Stage.LOADING.value, Stage.ENCODING.value):
            self._set_busy_bar()
        elif stage == Stage.DECODING.value:
            self.progress_bar.setRange(0, 0)  # until the first decoded frame says how many there are
            self.progress_bar.setFormat("")
        elif stage == Stage.SAVING.value:
            self.progress_bar.setValue(self.progress_bar.maximum())

    def _on_step(self, job_id: int, step: int, total: int, elapsed: float, eta: float) -> None:
        if job_id != self._current_job:
            return
        if self.progress_bar.maximum() != total:
            self.progress_bar.setRange(0, total)
            self.progress_bar.setFormat(self.tr("%v / %m steps"))
        self.progress_bar.setValue(step)
        self._seconds_per_step = elapsed / max(1, step)
        self._job_eta = eta
        left = "  ·  " + self.tr("about {time} left").format(time=clock(eta)) if step < total else ""
        self._set_stage(
            self.tr("Denoising  ·  step {step} of {total}  ·  {elapsed}").format(
                step=step, total=total, elapsed=clock(elapsed)
            )
            + left
        )
        self.history_panel.set_progress(job_id, step / total if total else 1.0)
        self.setWindowTitle(window_title(100 * step // max(1, total), self._current_prompt))

    def _on_preview(self, job_id: int, frames: PreviewFrames) -> None:
        if job_id != self._current_job:
            return
        entry = self.controller.running_entry
        self.preview_view.show_frames(frames.frames, frames.step, entry.request.fps if entry else 24)

    def _on_decoded(self, job_id: int, done: int, total: int) -> None:
        if job_id != self._current_job:
            return
        if self.progress_bar.maximum() != total:
            self.progress_bar.setRange(0, total)
            self.progress_bar.setFormat(self.tr("decoding %v / %m"))
        self.progress_bar.setValue(done)
        self._set_stage(self.tr("Decoding the video  ·  {done} of {total}").format(done=done, total=total))

    def _set_preview_every(self, every: int) -> None:
        self.controller.preview_every = every  # from the next job on
        self.settings.preview_every = every

    def _on_finished(self, job_id: int, outcome: JobOutcome) -> None:
        self._job_ended(job_id)
        self.progress_bar.setRange(0, max(1, outcome.request.steps))
        self.progress_bar.setValue(self.progress_bar.maximum())
        self.progress_bar.setFormat(self.tr("Done"))
        total = outcome.timings.total_s
        self._set_stage(
            self.tr("Done in {seconds} s  ·  seed {seed}").format(seconds=f"{total:.1f}", seed=outcome.seed)
        )
        self.vram_gauge.end_job(outcome.peak_vram_bytes)
        if not self._stopping:
            self.player.load(outcome.video_path, clip_info(outcome.request, outcome.num_frames, total))
            self.history_panel.select(job_id)
            for note in outcome.notes:
                self.statusBar().showMessage(note, 8000)
            QApplication.alert(self)

    def _on_failed(self, job_id: int, kind: str, message: str, advice: str) -> None:
        self._job_ended(job_id)
        self._reset_bar(self.tr("Failed"))
        self._set_stage(self.tr("Failed: {message}").format(message=message))
        self.vram_gauge.end_job(None)
        if not self._stopping:
            record = self.store.get(job_id)
            self.show_error(kind, message, advice, memory=record.request.memory if record else None, record=record)

    def _on_cancelled(self, job_id: int) -> None:
        # The controller still names it as running (handed to the worker, perhaps not started) when it says so.
        was_running = job_id in (self._current_job, self.controller.running_job)
        self._job_ended(job_id)
        if was_running:
            self._reset_bar(self.tr("Cancelled"))
            reached = self.controller.journal_progress(job_id)
            if reached is not None:
                self._set_stage(
                    self.tr(
                        "Cancelled at step {step} of {steps}; nothing was written. Continue it from the history."
                    ).format(step=reached[0], steps=reached[1])
                )
            else:
                self._set_stage(self.tr("Cancelled — nothing was written."))
            self.vram_gauge.end_job(None)

    def _on_suspended(self, job_id: int) -> None:
        was_running = job_id == self._current_job
        self._job_ended(job_id)
        if was_running:
            self._reset_bar(self.tr("Stopped"))
            reached = self.controller.journal_progress(job_id)
            if reached is not None:
                self._set_stage(
                    self.tr("Stopped; the job waits in the queue and continues from step {step} of {steps}.").format(
                        step=reached[0], steps=reached[1]
                    )
                )
            else:
                self._set_stage(self.tr("Stopped; the job waits in the queue and restarts from the beginning."))
            self.vram_gauge.end_job(None)

    def _job_ended(self, job_id: int) -> None:
        self.history_panel.set_progress(job_id, None)
        if job_id == self._current_job:
            self._current_job = None
            self._seconds_per_step = None
            self.setWindowTitle(window_title())

    def _reset_bar(self, text: str) -> None:
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat(text)

    def _on_busy(self, busy: bool) -> None:
        running = self.controller.running_job is not None
        self.cancel_button.setEnabled(running or (busy and not self.controller.paused))
        self.cancel_action.setEnabled(self.cancel_button.isEnabled())
        self.generate_button.setText(self.tr("Add to queue") if busy else self.tr("Generate"))
        self._revalidate()

    # ---- engine -----------------------------------------------------------------------------------------------
    def _on_capabilities(self, caps: object) -> None:
        from core.devices import unavailable_reasons

        self.memory_panel.set_capabilities(caps, unavailable_reasons(caps))  # type: ignore[arg-type]
        self._update_speed_context()
        accelerator = getattr(caps, "accelerator", None)
        where = {"cuda": getattr(caps, "cuda_name", "CUDA GPU"), "mps": "Apple GPU"}.get(accelerator or "", "CPU")
        self.statusBar().showMessage(self.tr("Engine ready · {device}").format(device=where), 5000)
        if self.controller.busy and self._current_job is None:
            self._set_stage(self.tr("Starting…"))
        self._revalidate()

    def _on_engine_failed(self, kind: str, message: str, advice: str) -> None:
        self.statusBar().showMessage(self.tr("The engine could not start."))
        self.show_error(kind, message, advice)

    # ---- errors -----------------------------------------------------------------------------------------------
    def show_error(
        self,
        kind: str,
        message: str,
        advice: str = "",
        memory: MemoryOptions | None = None,
        record: JobRecord | None = None,
    ) -> ErrorDialog:
        """A dialog in plain words, with a button that applies the fix where there is one. For a job whose decode
        failed after its last step, the fix decodes its kept latents again (no denoising)."""
        if self.error_dialog is not None:
            self.error_dialog.close()
        fix_text = ""
        details = ""
        fix: Callable[[], None] | None = None
        reached = self.controller.journal_progress(record.id) if record is not None else None
        if record is not None and reached is not None and reached[0] >= reached[1] > 0:
            details = self.tr("Every denoising step was done and is kept: only the decode runs again.")
            fix_text = self.tr("Decode again with lower memory settings")

            def decode_again(r: JobRecord = record) -> None:
                self.decode_again_record(r)

            fix = decode_again
        elif kind == "resume" and record is not None:
            fix_text = self.tr("Start over")

            def start_over(r: JobRecord = record) -> None:
                self.start_over_record(r)

            fix = start_over
        elif kind == "out-of-memory":
            base = memory or self.memory_panel.options()
            suggestion = lower_memory_options(base, self.memory_panel.unavailable)
            if suggestion is not None:
                lower, changes = suggestion
                listed = self.tr(", ").join(changes)
                details = self.tr("Next settings to try: {changes}.").format(changes=listed)
                fix_text = self.tr("Use lower-memory settings")

                def apply_lower() -> None:
                    self.memory_panel.set_options(lower)
                    self.statusBar().showMessage(
                        self.tr("Lower-memory settings applied: {changes}.").format(changes=listed), 8000
                    )

                fix = apply_lower
            else:
                details = self.tr(
                    "These are already the lowest-memory settings: choose a smaller size or fewer frames."
                )
        elif kind == "model-folder":
            fix_text = self.tr("Choose another folder…")
            fix = self.model_picker.browse
        elif kind == "device":
            fix_text = self.tr("Choose automatically")

            def choose_automatically() -> None:
                options = self.memory_panel.options()
                placement = options.placement
                if placement.value in self.memory_panel.unavailable:
                    placement = Placement.GPU
                self.memory_panel.set_options(
                    dataclasses.replace(options, device="auto", dtype="auto", placement=placement)
                )

            fix = choose_automatically

        dialog = ErrorDialog(kind, message, advice, fix_text, details, self)
        if fix is not None:
            dialog.fixRequested.connect(fix)
        dialog.finished.connect(lambda _r, d=dialog: self._dialog_closed(d))
        self.error_dialog = dialog
        dialog.open()
        return dialog

    def _dialog_closed(self, dialog: ErrorDialog) -> None:
        if self.error_dialog is dialog:
            self.error_dialog = None
        dialog.deleteLater()

    # ---- history actions --------------------------------------------------------------------------------------
    def continue_record(self, record: JobRecord) -> bool:
        """Queue an interrupted, cancelled or failed job again: it continues from its journal's last snapshot."""
        if not self._queue_again(self.controller.continue_job, record):
            return False
        self.statusBar().showMessage(self.tr("The job continues where it stopped."), 6000)
        return True

    def start_over_record(self, record: JobRecord) -> bool:
        if not self._queue_again(lambda r: self.controller.start_over(r.id), record):
            return False
        self.statusBar().showMessage(self.tr("The job starts over from the beginning (same seed)."), 6000)
        return True

    def decode_again_record(self, record: JobRecord) -> bool:
        if not self._queue_again(self.controller.decode_again, record):
            return False
        self.statusBar().showMessage(self.tr("Decoding again with lower memory settings; no step runs again."), 6000)
        return True

    def _queue_again(self, action: Callable[[JobRecord], bool], record: JobRecord) -> bool:
        try:
            return action(record)
        except sqlite3.Error as exc:
            self.show_error("internal", self.tr("The history could not be updated: {error}").format(error=exc))
            return False

    def load_record(self, record: JobRecord) -> None:
        self.form.apply_request(record.request, lock_seed=True)
        if record.model_dir and record.model_dir != self.model_picker.path():
            self.model_picker.set_path(record.model_dir)
        self.statusBar().showMessage(
            self.tr("Loaded the job into the form (seed locked: Generate makes the same clip)."), 6000
        )

    def rerun_record(self, record: JobRecord, new_seed: bool = False) -> JobRecord | None:
        try:
            return self.controller.rerun(record, new_seed=new_seed)
        except StudioError as exc:
            self.show_error(exc.kind, exc.message, exc.advice)
            return None
        except sqlite3.Error as exc:
            self._history_write_failed(exc)
            return None

    def play_record(self, record: JobRecord) -> None:
        video = record.video
        if record.status is not JobStatus.DONE or video is None or not video.is_file():
            self.statusBar().showMessage(self.tr("This job has no clip to play."), 5000)
            return
        self.player.load(video, clip_info(record.request, record.frames_generated, record.total_s))

    def delete_record(self, record: JobRecord) -> bool:
        if record.status is JobStatus.RUNNING:
            self.statusBar().showMessage(self.tr("Cancel the running job before deleting it."), 5000)
            return False
        video = record.video
        has_file = video is not None and video.is_file()
        question = (
            self.tr("Delete this job from the history and its video file?")
            if has_file
            else self.tr("Delete this job from the history?")
        )
        detail = (
            self.tr("{file}\n\nThe file is deleted, not moved to the trash.").format(file=video) if has_file else ""
        )
        if not confirm(self, self.tr("Delete job"), question, detail, self.tr("Delete")):
            return False
        if record.status is JobStatus.QUEUED:
            self.controller.cancel(record.id)
        if video is not None and self.player.path == video:
            self.player.clear()
        self.store.delete(record.id)
        discard_journal(history_job_id(record.id))  # what an interrupted job kept goes with it
        for path in (video, video.with_suffix(".json") if video else None, record.thumbnail):
            if path is not None:
                try:
                    path.unlink(missing_ok=True)
                except OSError as exc:
                    logger.warning("Could not delete %s: %s", path, exc)
        self.history_panel.refresh()
        self.statusBar().showMessage(self.tr("Deleted."), 3000)
        return True

    def _rerun_selected(self, new_seed: bool) -> None:
        record = self.history_panel.selected_record()
        if record is not None:
            self.rerun_record(record, new_seed)

    def _load_selected(self) -> None:
        record = self.history_panel.selected_record()
        if record is not None:
            self.load_record(record)

    # ---- misc -------------------------------------------------------------------------------------------------
    def _on_demo_finished(self, path: str, error: str) -> None:
        if error:
            self.show_error("output", error, self.tr("Choose another folder for the demo model."))
        else:
            self.statusBar().showMessage(self.tr("Demo model ready: {path}").format(path=path), 8000)

    def export_clip(self, path: str) -> ExportDialog:
        """Open the export dialog for a clip (one at a time; a new clip replaces an idle dialog's)."""
        from gui.dialogs.export_dialog import ExportDialog

        if self.export_dialog is not None and not self.export_dialog.running:
            self.export_dialog.close()
            self.export_dialog.deleteLater()
            self.export_dialog = None
        if self.export_dialog is None:
            self.export_dialog = ExportDialog(path, self)
            self.export_dialog.exported.connect(
                lambda out: self.statusBar().showMessage(self.tr("Exported to {0}").format(out), 8000)
            )
        self.export_dialog.show()
        self.export_dialog.raise_()
        return self.export_dialog

    def _export_playing(self) -> None:
        if self.player.path is not None:
            self.export_clip(str(self.player.path))
        else:
            self.statusBar().showMessage(self.tr("Play a finished clip first, then export it."), 5000)

    def _open_folder(self, path: Path) -> None:
        """A folder opens in the file manager; a file is shown in its folder."""
        path = Path(path)
        if not path.exists() and not path.suffix:
            path.mkdir(parents=True, exist_ok=True)  # outputs/ or logs/ before the first job
        ok = QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))) if path.is_dir() else open_in_folder(path)
        if not ok:
            self.statusBar().showMessage(self.tr("Could not open the folder of {path}.").format(path=path), 5000)

    def _focus_search(self) -> None:
        self.history_panel.search_edit.setFocus()
        self.history_panel.search_edit.selectAll()

    def _reset_layout(self) -> None:
        self._default_geometry()
        self.splitter.setSizes([460, 660, 360])

    def _about(self) -> None:
        QMessageBox.about(
            self,
            self.tr("About {app}").format(app=APP_NAME),
            f"<h3>{APP_NAME} {__version__}</h3>"
            + self.tr("<p>Text to video with ByteDance's ContentV-8B on your own GPU.</p>")
            + self.tr("<p>Data folder: <code>{folder}</code></p>").format(folder=self.paths.root),
        )

    # ---- settings and closing ---------------------------------------------------------------------------------
    def _save_settings(self) -> None:
        s = self.settings
        s.model_dir = self.model_picker.path()
        s.recent_models = self.model_picker.recent()
        s.last_request = self.current_request().to_dict()
        s.seed_locked = self.parameter_form.seed_locked
        s.window_geometry = bytes(self.saveGeometry().toHex().data()).decode()
        s.splitter_state = bytes(self.splitter.saveState().toHex().data()).decode()
        s.history_search = self.history_panel.search_edit.text()
        s.preview_every = self.preview_panel.every
        try:
            s.save(self.paths.settings_file)
        except OSError as exc:
            logger.warning("Settings not saved: %s", exc)

    def _save_language(self, language: str) -> None:
        self.settings.language = language
        self._save_settings()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._shut_down:
            event.accept()
            return
        if self._stopping:  # already stopping the running job; closes when it has
            event.ignore()
            return
        if self.controller.has_unsettled_jobs():
            event.ignore()
            self._ask_before_closing()
            return
        if self.controller.running_job is not None:  # cancelled already: wait (within a step) for it to stop
            event.ignore()
            self._stop_then_close(self.tr("Stopping the job before closing…"))
            return
        self.shutdown()
        event.accept()

    def _ask_before_closing(self) -> None:
        """Jobs run or wait: keep them for the next start (the default), cancel them, or stay open."""
        if self._close_dialog is not None:
            self._close_dialog.raise_()
            return
        c = self.controller
        count = len(c.pending_jobs)
        box = QMessageBox(self)
        box.setObjectName("closeWithJobsDialog")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Close ContentV Studio"))
        box.setText(self.tr("%n job(s) are running or waiting.", "", count))
        box.setInformativeText(
            self.tr(
                "Kept jobs wait in the queue, paused, the next time the app starts; a running job restarts "
                "from the beginning with the same seed."
            )
        )
        keep = box.addButton(self.tr("Close and keep the jobs"), QMessageBox.ButtonRole.AcceptRole)
        keep.setObjectName("closeKeepButton")
        discard = box.addButton(self.tr("Cancel the jobs and close"), QMessageBox.ButtonRole.DestructiveRole)
        discard.setObjectName("closeCancelJobsButton")
        stay = box.addButton(self.tr("Don't close"), QMessageBox.ButtonRole.RejectRole)
        stay.setObjectName("closeStayButton")
        box.setDefaultButton(keep)
        box.setEscapeButton(stay)

        def answered() -> None:
            clicked = box.clickedButton()
            self._close_dialog = None
            box.deleteLater()
            if clicked is keep:
                c.suspend_all()
                self._stop_then_close(self.tr("Keeping the jobs and closing…"))
            elif clicked is discard:
                c.cancel_all()
                self._stop_then_close(self.tr("Stopping the job before closing…"))

        box.finished.connect(lambda _result: answered())
        self._close_dialog = box
        box.open()

    def _stop_then_close(self, message: str) -> None:
        if self.controller.running_job is None:
            QTimer.singleShot(0, self._close_now)
            return
        self._stopping = True
        self.controller.jobEnded.connect(self._close_when_idle)
        self.splitter.setEnabled(False)
        self._set_stage(message)
        self.statusBar().showMessage(message)

    def _close_when_idle(self, _job_id: int) -> None:
        if self.controller.running_job is None:
            QTimer.singleShot(0, self._close_now)

    def _close_now(self) -> None:
        self.shutdown()
        self.close()

    def shutdown(self) -> None:
        """Save, stop the threads, close the database. Safe to call more than once."""
        if self._shut_down:
            return
        self._shut_down = True
        self._save_settings()
        self.controller.blockSignals(True)  # late worker signals must not reach widgets or the closed store
        if self.error_dialog is not None:
            self.error_dialog.close()
        if self.export_dialog is not None:
            self.export_dialog.close()  # cancels a running export and waits: no temporary file is left
        if self.model_picker.download_dialog is not None:
            self.model_picker.download_dialog.close()  # pauses a download; it resumes on the next start
        if self._close_dialog is not None:
            self._close_dialog.close()
        self.player.clear()
        self.monitor.stop()
        self.controller.shutdown()
        self.model_picker.wait_idle(120_000)  # a demo model being written finishes (it is built atomically)
        self.store.close()
        release_gui_gc()
        if self.instance_server is not None:  # a start from now on opens its own window
            self.instance_server.close()
        if self._lock is not None:
            self._lock.unlock()
            self._lock = None
        with contextlib.suppress(RuntimeError):
            self.history_panel.model.set_records([])
