"""The main window: the form on the left (model, prompt, parameters, memory, Generate), the player in the
centre, the history on the right, and the memory gauge in the status bar. It wires widgets to the job
controller; the state lives in the controller, the history store and the settings, not in the widgets."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QLockFile, Qt, QTimer, QUrl
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core import __version__
from core.engine.devices import Capabilities
from core.job.preview import PreviewFrames
from core.job.request import GenerationRequest, MemoryOptions, random_seed
from core.store.history import HistoryStore, JobRecord
from gui.dialogs.close_dialog import CloseChoice, CloseWithJobsDialog
from gui.dialogs.error_dialogs import ErrorDialog
from gui.dialogs.error_fixes import ErrorPresenter
from gui.form.clip_reopen import CLIP_SUFFIXES, ClipReopener, dropped_path
from gui.form.form_column import FormColumn
from gui.form.form_model import FormModel
from gui.form.readiness import model_problem, request_problems
from gui.jobs.controller import JobController, seed_series
from gui.jobs.finish_notices import FinishNotices
from gui.jobs.history_panel import HistoryPanel
from gui.jobs.job_progress import JobProgressView, window_title
from gui.jobs.queue_panel import QueuePanel
from gui.jobs.record_actions import RecordActions
from gui.jobs.worker import JobOutcome
from gui.player.clip_caption import clip_info
from gui.player.preview_view import PreviewPanel
from gui.player.video_player import VideoPlayer, open_in_folder
from gui.support.gc_guard import install_gui_gc, release_gui_gc
from gui.support.i18n import LanguageMenu, core_text
from gui.support.notifier import DesktopNotifier
from gui.support.paths import APP_NAME, DataPaths
from gui.support.resources import app_icon
from gui.support.settings import Settings
from gui.support.single_instance import InstanceServer
from gui.support.system_monitor import SystemMonitor
from gui.widgets.group_box import titled
from gui.widgets.vram_gauge import VramGauge

if TYPE_CHECKING:
    from gui.dialogs.export_dialog import ExportDialog

logger = logging.getLogger(__name__)


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
        self.export_dialog: ExportDialog | None = None  # imported when first opened (it pulls in numpy)
        self.form = FormModel(parent=self)  # the form's state; the panels bind to it

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
        self.controller.keep_model_path = settings.include_model_path
        self._close_dialog: CloseWithJobsDialog | None = None
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
        # Left: what to make and how, and the run bar.
        self.form_column = FormColumn(self.form, self.paths.models)
        fc = self.form_column  # its widgets, named on the window for the wiring below and for tests
        self.model_picker, self.prompt_editor = fc.model_picker, fc.prompt_editor
        self.parameter_form, self.memory_panel, self.speed_panel = fc.parameter_form, fc.memory_panel, fc.speed_panel
        self.batch_controls, self.problems_label = fc.batch_controls, fc.problems_label
        self.generate_button, self.cancel_button = fc.generate_button, fc.cancel_button
        self.draft_button = fc.draft_button
        self.progress_bar, self.stage_label = fc.progress_bar, fc.stage_label

        # Centre: the clip.
        self.player = VideoPlayer()
        centre = QWidget()
        centre_layout = QVBoxLayout(centre)
        centre_layout.setContentsMargins(8, 10, 8, 10)
        centre_layout.addWidget(self.player, 1)
        self.preview_panel = PreviewPanel(self.settings.preview_every)
        self.preview_view = self.preview_panel.view
        self.preview_panel.setMaximumHeight(240)
        centre_layout.addWidget(titled(self.tr("Live preview"), self.preview_panel))

        # Right: the history.
        self.history_panel = HistoryPanel(self.store)
        self.queue_panel = QueuePanel(self.controller)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(8, 10, 10, 10)
        right_layout.addWidget(titled(self.tr("Queue"), self.queue_panel))
        right_layout.addWidget(self.history_panel, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.form_column)
        self.splitter.addWidget(centre)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)

        self.job_progress = JobProgressView(
            self.controller, self.store, self.progress_bar, self.stage_label, self.history_panel, self
        )
        self.errors = ErrorPresenter(
            self, self.controller, self.memory_panel, self.model_picker, self._status, fc.gpus_panel
        )
        self.records = RecordActions(
            self,
            paths=self.paths,
            store=self.store,
            controller=self.controller,
            form=self.form,
            model_picker=self.model_picker,
            player=self.player,
            history=self.history_panel,
            errors=self.errors,
            status=self._status,
        )

        self.reopener = ClipReopener(
            self.form, self.model_picker, lambda: self.controller.capabilities, self._status, self
        )
        self.setAcceptDrops(True)  # a clip dropped anywhere on the window reopens its settings

        # A notice (and a chime) when a job or the queue ends while the window is not in front.
        self.finish_notices = FinishNotices(self, self.controller, self.settings, DesktopNotifier(self))

        self.vram_gauge = VramGauge()
        self.statusBar().addPermanentWidget(self.vram_gauge)
        self.statusBar().setSizeGripEnabled(True)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu(self.tr("&File"))
        choose = file_menu.addAction(self.tr("Choose &model folder…"), self.model_picker.browse)
        choose.setShortcut(QKeySequence.StandardKey.Open)
        file_menu.addAction(self.tr("Make a &demo model…"), self.model_picker.make_demo_model)
        file_menu.addAction(self.tr("&Get ContentV-8B…"), self.model_picker.get_model)
        reopen = file_menu.addAction(self.tr("Open clip's &settings…"), self._choose_clip_to_reopen)
        reopen.setShortcut(QKeySequence("Ctrl+Shift+O"))
        reopen.setToolTip(self.tr("Fill the form with the parameters a clip was made with (or drop the clip here)."))
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
        self.draft_action = QAction(self.tr("&Draft (fewer steps, same seed)"), self)
        self.draft_action.setShortcuts([QKeySequence("Ctrl+Shift+Return"), QKeySequence("Ctrl+Shift+Enter")])
        self.draft_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.draft_action.triggered.connect(self.draft)
        job_menu.addAction(self.draft_action)
        self.addAction(self.draft_action)
        self.cancel_action = job_menu.addAction(self.tr("&Cancel the running job"), self.cancel_job)
        self.cancel_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.cancel_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.cancel_action.setEnabled(False)
        job_menu.addSeparator()
        rerun = job_menu.addAction(self.tr("&Re-run the selected job"), lambda: self.records.rerun_selected(False))
        rerun.setShortcut(QKeySequence("Ctrl+R"))
        job_menu.addAction(self.tr("Re-run with a &new seed"), lambda: self.records.rerun_selected(True))
        job_menu.addAction(self.tr("&Load the selected job into the form"), self.records.load_selected)
        job_menu.addAction(self.tr("Make the selected draft &final"), self.records.final_selected)
        self.compare_action = job_menu.addAction(self.tr("&Compare the selected clips"), self.records.compare_selected)
        self.compare_action.setShortcut(QKeySequence("Ctrl+K"))
        self.compare_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)

        view_menu = bar.addMenu(self.tr("&View"))
        view_menu.addAction(self.tr("&Reset the layout"), self._reset_layout)
        find = view_menu.addAction(self.tr("&Search the history"), self._focus_search)
        find.setShortcut(QKeySequence.StandardKey.Find)
        view_menu.addSeparator()
        for action in self.finish_notices.menu_actions(self):
            view_menu.addAction(action)
        view_menu.addSeparator()
        self.model_path_action = view_menu.addAction(self.tr("&Keep the model folder's path in clips"))
        self.model_path_action.setObjectName("includeModelPathAction")
        self.model_path_action.setToolTip(
            self.tr("Off: clips and exports name the model, not where it is on this computer. On: for an archive.")
        )
        self.model_path_action.setCheckable(True)
        self.model_path_action.setChecked(self.settings.include_model_path)
        self.model_path_action.toggled.connect(self._set_include_model_path)

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
        c.jobFinished.connect(self._on_finished)
        c.jobFailed.connect(self._on_failed)
        c.jobCancelled.connect(self._on_cancelled)
        c.jobSuspended.connect(self._on_suspended)
        c.previewed.connect(self._on_preview)
        c.queue.changed.connect(lambda: self._on_busy(self.controller.busy))
        self.job_progress.titleChanged.connect(self.setWindowTitle)
        self.preview_panel.everyChanged.connect(self._set_preview_every)
        self.batch_controls.changed.connect(self._revalidate)
        c.historyChanged.connect(self.history_panel.refresh)
        c.busyChanged.connect(self._on_busy)

        self.reopener.notesChanged.connect(self.form_column.show_clip_notes)
        self.generate_button.clicked.connect(self.generate)
        self.draft_button.clicked.connect(self.draft)
        self.cancel_button.clicked.connect(self.cancel_job)
        self.prompt_editor.changed.connect(self._revalidate)
        self.parameter_form.changed.connect(self._revalidate)
        self.memory_panel.changed.connect(self._revalidate)
        self.form_column.gpus_panel.changed.connect(self._revalidate)
        self.model_picker.reportChanged.connect(self._revalidate)
        self.model_picker.pathChanged.connect(self._revalidate)
        self.model_picker.demoFinished.connect(self._on_demo_finished)

        self.player.openFolderRequested.connect(lambda p: self._open_folder(Path(p)))
        self.player.exportRequested.connect(self.export_clip)
        self.player.finishRequested.connect(self.records.finish_clip)
        h = self.history_panel
        r = self.records
        h.loadRequested.connect(r.load)
        h.rerunRequested.connect(r.rerun)
        h.playRequested.connect(r.play)
        h.openFolderRequested.connect(lambda rec: rec.video is not None and self._open_folder(rec.video))
        h.deleteRequested.connect(r.delete)
        h.exportRequested.connect(lambda rec: rec.video is not None and self.export_clip(str(rec.video)))
        h.continueRequested.connect(r.continue_job)
        h.startOverRequested.connect(r.start_over)
        h.decodeAgainRequested.connect(r.decode_again)
        h.finalRequested.connect(r.final)
        h.compareRequested.connect(r.compare)
        h.finishRequested.connect(r.finish)
        h.journal_progress = self.controller.journal_progress

        self.monitor.sampled.connect(self.vram_gauge.update_sample)
        # Memory advice before a job (issue 8, item 6): the estimate follows the form and NVML's free memory.
        self.monitor.sampled.connect(self.memory_panel.update_sample)
        self.parameter_form.changed.connect(self._update_memory_advice)
        self.form.changed.connect(self._update_gpu_estimates)
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
        return request_problems(self.current_request(), self.controller.capabilities)

    def _update_memory_advice(self) -> None:
        from core.estimate import JobShape

        p = self.parameter_form.parameters()
        self.memory_panel.set_job_shape(JobShape(p.width, p.height, p.num_frames, p.steps, p.guidance))

    def _update_gpu_estimates(self, *_: object) -> None:
        """The GPUs choice's expected speed-ups for the job in the form, and the split `auto` picks with its reason
        (the estimator imports no torch, so this runs on every change)."""
        panel = self.form_column.gpus_panel
        caps = self.controller.capabilities
        if not isinstance(caps, Capabilities) or not panel.available:
            return
        from core.estimate import parallel_speedups
        from gui.form.gpus_panel import GpuFigures

        request = self.current_request()
        estimates = parallel_speedups(request, caps)
        panel.set_estimates(
            [GpuFigures(e.gpus, e.split, e.speedup, e.seconds_per_step, e.per_gpu_peak_bytes) for e in estimates]
        )
        # The estimate for the chosen count carries the plan's reason; a refused one has none (the readiness line
        # above Generate says why).
        chosen = next((e for e in estimates if e.gpus == request.parallel.gpus and not e.refused), None)
        panel.set_auto_choice(chosen.split if chosen else "", chosen.reason if chosen else "")

    def _update_speed_context(self, *_: object) -> None:
        self.speed_panel.set_context(self.controller.capabilities, self.form.memory(), self.model_picker.path())
        self.memory_panel.set_speed(self.form.speed(), self.speed_panel.calibrated is True)

    def _revalidate(self) -> None:
        ready = self.form_column.show_readiness(
            model_problem(self.model_picker), self.problems(), bool(self.prompt_editor.prompt()), self.controller.busy
        )
        for control in (self.generate_button, self.generate_action, self.draft_button, self.draft_action):
            control.setEnabled(ready and not self._stopping)

    def generate(self) -> JobRecord | None:
        """Queue a job from the form. Unless the seed is locked, a new random seed is drawn and shown."""
        return self._queue_from_form(draft=False)

    def draft(self) -> JobRecord | None:
        """Queue the form's job as a draft (core.job.request.GenerationRequest.as_draft): the seed drawn or kept as
        Generate does, so it is shown in the form and a Final of the draft makes the same clip at full quality."""
        return self._queue_from_form(draft=True)

    def _queue_from_form(self, draft: bool) -> JobRecord | None:
        self._revalidate()
        if not self.generate_button.isEnabled():
            return None
        if not self.parameter_form.seed_locked:
            self.parameter_form.seed_spin.setValue(random_seed())
        requests = self.batch_requests()
        if not requests:
            self.statusBar().showMessage(self.tr("Every line of the prompt is empty."), 5000)
            return None
        if draft:
            requests = [r.as_draft(self.settings.draft_steps) for r in requests]
        records = self.errors.submitting(
            lambda: self.controller.submit_many(requests, self.model_picker.path()), self.paths.root
        )
        if not records:
            return None
        if len(records) > 1:
            self.statusBar().showMessage(self.tr("%n job(s) added to the queue.", "", len(records)), 5000)
        self._save_settings()
        self.reopener.clear_notes()  # they were about the reopened clip's settings, now queued
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

    def cancel_job(self) -> None:
        if self.controller.cancel_current():
            self.job_progress.set_stage(self.tr("Cancelling after the current step…"))
            self.cancel_button.setEnabled(False)

    # ---- job signals (the progress bar, its line and the title are JobProgressView's) --------------------------
    def _on_queued(self, record: JobRecord) -> None:
        if self.controller.running_job is not None and self.controller.running_job != record.id:
            self._status(self.tr("Queued: {prompt}").format(prompt=record.request.prompt[:60]), 4000)
        elif self.controller.paused:
            self._status(self.tr("Added to the paused queue: Resume runs it."), 6000)

    def _on_started(self, job_id: int) -> None:
        self.preview_view.clear()
        self.vram_gauge.begin_job()
        self.cancel_button.setEnabled(True)
        self.cancel_action.setEnabled(True)

    def _on_preview(self, job_id: int, frames: PreviewFrames) -> None:
        if job_id != self.job_progress.current_job:
            return
        entry = self.controller.running_entry
        self.preview_view.show_frames(frames.frames, frames.step, float(entry.request.fps) if entry else 24)

    def _set_preview_every(self, every: int) -> None:
        self.controller.preview_every = every  # from the next job on
        self.settings.preview_every = every

    def _on_finished(self, job_id: int, outcome: JobOutcome) -> None:
        self.job_progress.ended(job_id)
        total = outcome.timings.total_s
        self.job_progress.finished(outcome.request.steps, total, outcome.seed)
        self.vram_gauge.end_job(outcome.peak_vram_bytes)
        if not self._stopping:
            self.player.load(outcome.video_path, clip_info(outcome.request, outcome.num_frames, total))
            self.history_panel.select(job_id)
            for note in outcome.notes:
                self._status(core_text(note), 8000)
            QApplication.alert(self)

    def _on_failed(self, job_id: int, kind: str, message: str, advice: str) -> None:
        self.job_progress.ended(job_id)
        self.job_progress.failed(message)
        self.vram_gauge.end_job(None)
        if not self._stopping:
            record = self.store.get(job_id)
            self.show_error(kind, message, advice, memory=record.request.memory if record else None, record=record)

    def _on_cancelled(self, job_id: int) -> None:
        # The controller still names it as running (handed to the worker, perhaps not started) when it says so.
        was_running = job_id in (self.job_progress.current_job, self.controller.running_job)
        self.job_progress.ended(job_id)
        if was_running:
            self.job_progress.cancelled(self.controller.journal_progress(job_id))
            self.vram_gauge.end_job(None)

    def _on_suspended(self, job_id: int) -> None:
        was_running = job_id == self.job_progress.current_job
        self.job_progress.ended(job_id)
        if was_running:
            self.job_progress.suspended(self.controller.journal_progress(job_id))
            self.vram_gauge.end_job(None)

    def _on_busy(self, busy: bool) -> None:
        running = self.controller.running_job is not None
        self.cancel_button.setEnabled(running or (busy and not self.controller.paused))
        self.cancel_action.setEnabled(self.cancel_button.isEnabled())
        self.generate_button.setText(self.tr("Add to queue") if busy else self.tr("Generate"))
        self._revalidate()

    # ---- engine -----------------------------------------------------------------------------------------------
    def _on_capabilities(self, caps: object) -> None:
        from core.engine.devices import unavailable_reasons

        self.memory_panel.set_capabilities(caps, unavailable_reasons(caps))  # type: ignore[arg-type]
        self.form_column.set_gpu_count(int(getattr(caps, "cuda_devices", 0) or 0))
        self._update_gpu_estimates()
        self._update_speed_context()
        accelerator = getattr(caps, "accelerator", None)
        where = {"cuda": getattr(caps, "cuda_name", "CUDA GPU"), "mps": "Apple GPU"}.get(accelerator or "", "CPU")
        self.statusBar().showMessage(self.tr("Engine ready · {device}").format(device=where), 5000)
        if self.controller.busy and self.job_progress.current_job is None:
            self.job_progress.set_stage(self.tr("Starting…"))
        self._revalidate()

    def _on_engine_failed(self, kind: str, message: str, advice: str) -> None:
        self.statusBar().showMessage(self.tr("The engine could not start."))
        self.show_error(kind, message, advice)

    # ---- errors and history actions (ErrorPresenter's and RecordActions'; named here for callers and tests) -----
    @property
    def error_dialog(self) -> ErrorDialog | None:
        return self.errors.dialog

    def show_error(
        self,
        kind: str,
        message: str,
        advice: str = "",
        memory: MemoryOptions | None = None,
        record: JobRecord | None = None,
    ) -> ErrorDialog:
        return self.errors.show(kind, message, advice, memory, record)

    def load_record(self, record: JobRecord) -> None:
        self.records.load(record)

    def rerun_record(self, record: JobRecord, new_seed: bool = False) -> JobRecord | None:
        return self.records.rerun(record, new_seed)

    def delete_record(self, record: JobRecord) -> bool:
        return self.records.delete(record)

    def _status(self, text: str, timeout_ms: int = 0) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    # ---- a clip's settings back into the form -----------------------------------------------------------------
    def reopen_clip(self, path: str | Path) -> bool:
        return self.reopener.open(path)

    def _choose_clip_to_reopen(self) -> None:
        patterns = " ".join(f"*{suffix}" for suffix in CLIP_SUFFIXES)
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Open a clip's settings"),
            str(self.paths.outputs),
            self.tr("Clips and their settings ({patterns})").format(patterns=patterns),
        )
        if path:
            self.reopen_clip(path)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_path(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if dropped_path(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = dropped_path(event.mimeData())
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.activateWindow()
        self.reopen_clip(path)

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
        self.export_dialog.keep_model_path = self.settings.include_model_path
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

    def _set_include_model_path(self, on: bool) -> None:
        self.settings.include_model_path = self.controller.keep_model_path = on

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
        dialog = CloseWithJobsDialog(len(self.controller.pending_jobs), self)
        dialog.chosen.connect(self._close_chosen)
        self._close_dialog = dialog
        dialog.open()

    def _close_chosen(self, choice: CloseChoice) -> None:
        if self._close_dialog is not None:
            self._close_dialog.deleteLater()
            self._close_dialog = None
        if choice is CloseChoice.KEEP:
            self.controller.suspend_all()
            self._stop_then_close(self.tr("Keeping the jobs and closing…"))
        elif choice is CloseChoice.CANCEL_JOBS:
            self.controller.cancel_all()
            self._stop_then_close(self.tr("Stopping the job before closing…"))

    def _stop_then_close(self, message: str) -> None:
        if self.controller.running_job is None:
            QTimer.singleShot(0, self._close_now)
            return
        self._stopping = True
        self.controller.jobEnded.connect(self._close_when_idle)
        self.splitter.setEnabled(False)
        self.job_progress.set_stage(message)
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
        self.errors.close()
        self.finish_notices.close()
        if self.export_dialog is not None:
            self.export_dialog.close()  # cancels a running export and waits: no temporary file is left
        if self.model_picker.download_dialog is not None:
            self.model_picker.download_dialog.close()  # pauses a download; it resumes on the next start
        if self._close_dialog is not None:
            self._close_dialog.close()
        self.records.close_compare()
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
