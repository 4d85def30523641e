"""The history panel: every job newest first with its thumbnail, a search over prompts, and the actions for
the selected entry (load into the form, re-run, re-run with a new seed, a draft's final, play, show in folder,
delete). Several entries can be selected (Ctrl/Shift+click) to compare their clips; the one-entry actions then wait
for one."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QCoreApplication,
    QDateTime,
    QItemSelection,
    QItemSelectionModel,
    QLocale,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QColor, QFont, QKeySequence, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from core.job.request import Placement
from core.output.frame_rate import frame_rate_text
from core.store.history import HistoryStore, JobRecord, JobStatus
from gui.support.i18n import QT_TRANSLATE_NOOP

logger = logging.getLogger(__name__)

RecordRole = Qt.ItemDataRole.UserRole + 1
ProgressRole = Qt.ItemDataRole.UserRole + 2
ReachedRole = Qt.ItemDataRole.UserRole + 3  # (step, steps) an ended job's journal reached: it can continue
# Ended jobs whose journal may let them continue (a done job's journal is gone with its publish).
CONTINUABLE = (JobStatus.CANCELLED, JobStatus.FAILED, JobStatus.INTERRUPTED)
MAX_LISTED = 2000  # enough for years of use; the search reaches the rest
MIN_COMPARED, MAX_COMPARED = 2, 4  # a 1×2, 1×3 or 2×2 grid of clips

STATUS_COLOURS = {
    JobStatus.QUEUED: "#8a93a6",
    JobStatus.RUNNING: "#4c9be8",
    JobStatus.DONE: "#3fb07f",
    JobStatus.FAILED: "#e0585b",
    JobStatus.CANCELLED: "#c39a3a",
    JobStatus.INTERRUPTED: "#c37a3a",
}
THUMB = QSize(96, 54)


def _word_pattern(word: str) -> re.Pattern[str]:
    # A word with letters of scripts written without spaces (Chinese, Japanese) matches inside text; other words
    # must stand alone, so "B" does not match "job C" nor "Bb".
    if any(ord(ch) >= 0x2E80 for ch in word):
        return re.compile(re.escape(word), re.IGNORECASE)
    return re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)


def matches_search(prompt: str, query: str) -> bool:
    """Whole-word search: every word of the query occurs in the prompt as a word of its own (any case)."""
    return all(_word_pattern(word).search(prompt) for word in query.split())


# The statuses in words, translated where shown (status_text).
STATUS_TEXT = {
    JobStatus.QUEUED: QT_TRANSLATE_NOOP("HistoryPanel", "queued"),
    JobStatus.RUNNING: QT_TRANSLATE_NOOP("HistoryPanel", "running"),
    JobStatus.DONE: QT_TRANSLATE_NOOP("HistoryPanel", "done"),
    JobStatus.FAILED: QT_TRANSLATE_NOOP("HistoryPanel", "failed"),
    JobStatus.CANCELLED: QT_TRANSLATE_NOOP("HistoryPanel", "cancelled"),
    JobStatus.INTERRUPTED: QT_TRANSLATE_NOOP("HistoryPanel", "interrupted"),
}


# Option values as the history's details show them ("auto", "none" …), translated where shown (option_text).
PLACEMENT_TEXT = {
    Placement.GPU: QT_TRANSLATE_NOOP("HistoryPanel", "all on GPU"),
    Placement.MODEL: QT_TRANSLATE_NOOP("HistoryPanel", "model CPU offload"),
    Placement.SEQUENTIAL: QT_TRANSLATE_NOOP("HistoryPanel", "sequential CPU offload"),
    Placement.STREAMED: QT_TRANSLATE_NOOP("HistoryPanel", "streamed offload"),
}
OPTION_TEXT = {
    "auto": QT_TRANSLATE_NOOP("HistoryPanel", "auto"),
    "none": QT_TRANSLATE_NOOP("HistoryPanel", "none"),
    "off": QT_TRANSLATE_NOOP("HistoryPanel", "off"),
    "fast": QT_TRANSLATE_NOOP("HistoryPanel", "fast"),
    "faster": QT_TRANSLATE_NOOP("HistoryPanel", "faster"),
    "sequential": QT_TRANSLATE_NOOP("HistoryPanel", "sequential"),
    "batched": QT_TRANSLATE_NOOP("HistoryPanel", "batched"),
}


def status_text(status: JobStatus) -> str:
    return QCoreApplication.translate("HistoryPanel", STATUS_TEXT.get(status, status.value))


def option_text(value: str) -> str:
    """An option's value in words; names (cuda, bfloat16, int8, sdpa …) stay as they are."""
    return QCoreApplication.translate("HistoryPanel", OPTION_TEXT[value]) if value in OPTION_TEXT else value


def describe(record: JobRecord) -> str:
    """One meta line: size, frames, steps, seed, time taken, when."""
    parts = [
        f"{record.request.width}×{record.request.height}",
        QCoreApplication.translate("HistoryPanel", "{frames} f").format(
            frames=record.frames_generated or record.request.num_frames
        ),
        QCoreApplication.translate("HistoryPanel", "{steps} steps").format(steps=record.request.steps),
    ]
    if record.request.seed is not None:
        parts.append(QCoreApplication.translate("HistoryPanel", "seed {seed}").format(seed=record.request.seed))
    if record.total_s:
        parts.append(f"{record.total_s:.0f} s" if record.total_s >= 10 else f"{record.total_s:.1f} s")
    return " · ".join(parts)


def when(record: JobRecord, now: float | None = None) -> str:
    now = time.time() if now is None else now
    t = time.localtime(record.created_at)
    if time.localtime(now)[:3] == t[:3]:
        return time.strftime("%H:%M", t)
    # Qt date formats in the interface language (strftime's month names follow the C locale: always English).
    moment = QDateTime.fromSecsSinceEpoch(int(record.created_at))
    if time.localtime(now).tm_year == t.tm_year:
        return QLocale().toString(moment, QCoreApplication.translate("HistoryPanel", "d MMM HH:mm"))
    return QLocale().toString(moment, QCoreApplication.translate("HistoryPanel", "d MMM yyyy"))


def variant_text(record: JobRecord) -> str:
    """ "Draft" for a draft, "Final of #12" for the final of draft 12, "#12 → 2×, 48 fps" for a finish of entry 12,
    "→ 2×" for a job that ends finished, "" for an ordinary job."""
    finish = record.request.finish
    if finish is not None and record.request.finishes_only:
        return QCoreApplication.translate("HistoryPanel", "#{job} → {what}").format(
            job=record.request.finish_of if record.request.finish_of is not None else "?", what=finish.short()
        )
    if finish is not None:
        return f"→ {finish.short()}"
    if record.request.draft:
        return QCoreApplication.translate("HistoryPanel", "Draft")
    if record.request.final_of is not None:
        return QCoreApplication.translate("HistoryPanel", "Final of #{job}").format(job=record.request.final_of)
    return ""


def reached_text(reached: tuple[int, int]) -> str:
    step, steps = reached
    if step >= steps:
        return QCoreApplication.translate("HistoryPanel", "denoised, not decoded")
    return QCoreApplication.translate("HistoryPanel", "at step {step} of {steps}").format(step=step, steps=steps)


def tooltip(record: JobRecord, reached: tuple[int, int] | None = None) -> str:
    m = record.request.memory
    lines = [
        record.request.prompt,
        "",
        QCoreApplication.translate("HistoryPanel", "Status: {status}").format(status=status_text(record.status)),
        *variant_lines(record),
        QCoreApplication.translate("HistoryPanel", "{width} × {height}, {frames} frames at {fps} fps").format(
            width=record.request.width,
            height=record.request.height,
            frames=record.frames_generated or record.request.num_frames,
            fps=frame_rate_text(record.request.fps),
        ),
        QCoreApplication.translate("HistoryPanel", "{steps} steps, guidance {guidance}, seed {seed}").format(
            steps=record.request.steps, guidance=f"{record.request.guidance:g}", seed=record.request.seed
        ),
        QCoreApplication.translate("HistoryPanel", "Model: {folder}").format(folder=record.model_dir),
        QCoreApplication.translate(
            "HistoryPanel", "Device {device}, {dtype}; placement {placement}; 8-bit {quantization}"
        ).format(
            device=option_text(m.device),
            dtype=option_text(m.dtype),
            placement=QCoreApplication.translate("HistoryPanel", PLACEMENT_TEXT[m.placement]),
            quantization=option_text(m.quantization.value),
        ),
        speed_details(record),
    ]
    if record.total_s:
        lines.append(
            QCoreApplication.translate("HistoryPanel", "Took {seconds} s").format(seconds=f"{record.total_s:.1f}")
        )
    if record.peak_vram_bytes:
        lines.append(
            QCoreApplication.translate("HistoryPanel", "Peak VRAM {size} GB").format(
                size=f"{record.peak_vram_bytes / 2**30:.2f}"
            )
        )
    if record.error_message:
        lines.append(f"\n{record.error_message}")
    if reached is not None:
        lines.append(
            "\n"
            + QCoreApplication.translate(
                "HistoryPanel", "Stopped {where}: Continue goes on from there, Start over runs it again from step 0."
            ).format(where=reached_text(reached))
        )
    return "\n".join(lines)


def variant_lines(record: JobRecord) -> list[str]:
    """The tooltip's word on a draft, a final or a finish (none for an ordinary job)."""
    finish = record.request.finish
    if finish is not None and record.request.finishes_only:
        return [
            QCoreApplication.translate("HistoryPanel", "Finished ({what}) from #{job}: {clip}").format(
                what=finish.short(), job=record.request.finish_of, clip=record.request.finish_source
            )
        ]
    if finish is not None:
        return [
            QCoreApplication.translate("HistoryPanel", "Generated, then finished: {what}").format(what=finish.short())
        ]
    if record.request.draft:
        return [
            QCoreApplication.translate(
                "HistoryPanel", "Draft: a quick look at fewer steps; Final makes it at full quality with the same seed."
            )
        ]
    if record.request.final_of is not None:
        return [QCoreApplication.translate("HistoryPanel", "Final of draft #{job}").format(job=record.request.final_of)]
    return []


def speed_details(record: JobRecord) -> str:
    """The speed options asked for, and from the clip's sidecar what ran (the kernel, the cache method)."""
    speed = record.request.speed
    line = QCoreApplication.translate(
        "HistoryPanel", "Speed: step cache {cache}, attention {attention}, guidance {guidance}, compile {compile}"
    ).format(
        cache=option_text(speed.step_cache.value),
        attention=option_text(speed.attention_backend),
        guidance=option_text(speed.guidance_batching.value),
        compile=QCoreApplication.translate("HistoryPanel", "on")
        if speed.compile
        else QCoreApplication.translate("HistoryPanel", "off"),
    )
    ran: dict[str, Any] = {}
    if record.video is not None:
        try:
            ran = json.loads(record.video.with_suffix(".json").read_text(encoding="utf-8")).get("speed") or {}
        except (OSError, ValueError, AttributeError):
            ran = {}  # no sidecar (turned off, or moved): the options asked for are all there is
    used = (
        [QCoreApplication.translate("HistoryPanel", "kernel {name}").format(name=ran["attention_backend"])]
        if ran.get("attention_backend")
        else []
    )
    if ran.get("step_cache_method") not in (None, "none"):
        used.append(
            QCoreApplication.translate("HistoryPanel", "cache {method}").format(method=ran["step_cache_method"])
        )
    if ran.get("compile_s") is not None:
        used.append(
            QCoreApplication.translate("HistoryPanel", "compiled in {seconds} s").format(
                seconds=f"{ran['compile_s']:.0f}"
            )
        )
    if not used:
        return line
    return QCoreApplication.translate("HistoryPanel", "{speed} (ran: {what})").format(speed=line, what=", ".join(used))


def compare_problem(records: list[JobRecord]) -> str:
    """Why these entries cannot be compared side by side ("" when they can): 2 to 4 finished jobs whose clips
    are still on disk."""
    if len(records) < MIN_COMPARED:
        return QCoreApplication.translate(
            "HistoryPanel", "Select 2 to 4 finished clips to compare (Ctrl+click or Shift+click in the history)."
        )
    if len(records) > MAX_COMPARED:
        return QCoreApplication.translate(
            "HistoryPanel", "At most 4 clips can be compared at once; {count} are selected."
        ).format(count=len(records))
    for record in records:
        prompt = record.request.prompt[:40]
        if record.status is not JobStatus.DONE or record.video is None:
            return QCoreApplication.translate("HistoryPanel", "“{prompt}” has no clip to compare ({status}).").format(
                prompt=prompt, status=status_text(record.status)
            )
        if not record.video.is_file():
            return QCoreApplication.translate("HistoryPanel", "The clip of “{prompt}” is missing: {path}").format(
                prompt=prompt, path=record.video
            )
    return ""


class HistoryModel(QAbstractListModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._records: list[JobRecord] = []
        self._progress: dict[int, float] = {}
        self._thumbs: dict[str, QPixmap] = {}
        self._reached: dict[int, tuple[int, int]] = {}
        self.journal_progress: Callable[[int], tuple[int, int] | None] | None = None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._records)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._records):
            return None
        record = self._records[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return record.request.prompt
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbnail(record)
        if role == Qt.ItemDataRole.ToolTipRole:
            return tooltip(record, self._reached.get(record.id))
        if role == ReachedRole:
            return self._reached.get(record.id)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            variant = variant_text(record)
            status = f"{status_text(record.status)}, {variant}" if variant else status_text(record.status)
            return f"{status}: {record.request.prompt}"
        if role == RecordRole:
            return record
        if role == ProgressRole:
            return self._progress.get(record.id)
        return None

    def thumbnail(self, record: JobRecord) -> QPixmap | None:
        path = record.thumbnail_path
        if not path:
            return None
        if path not in self._thumbs:
            pixmap = QPixmap(path)
            self._thumbs[path] = pixmap if not pixmap.isNull() else QPixmap()
        pixmap = self._thumbs[path]
        return None if pixmap.isNull() else pixmap

    def set_records(self, records: list[JobRecord]) -> None:
        self.beginResetModel()
        self._records = list(records)
        self._reached = {}
        if self.journal_progress is not None:
            for record in self._records:
                resumable = record.status in CONTINUABLE or record.status is JobStatus.QUEUED
                reached = self.journal_progress(record.id) if resumable else None
                if reached is not None:
                    self._reached[record.id] = reached
        self.endResetModel()

    def records(self) -> list[JobRecord]:
        return list(self._records)

    def row_of(self, job_id: int) -> int:
        for row, record in enumerate(self._records):
            if record.id == job_id:
                return row
        return -1

    def set_progress(self, job_id: int, fraction: float | None) -> None:
        if fraction is None:
            self._progress.pop(job_id, None)
        else:
            self._progress[job_id] = fraction
        row = self.row_of(job_id)
        if row >= 0:
            index = self.index(row)
            self.dataChanged.emit(index, index, [ProgressRole])


class HistoryDelegate(QStyledItemDelegate):
    """Thumbnail on the left; the prompt on two lines; a status dot and the settings underneath."""

    PAD = 6

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(240, THUMB.height() + 2 * self.PAD)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        record: JobRecord = index.data(RecordRole)
        if record is None:
            return
        painter.save()
        palette = option.palette  # type: ignore[attr-defined]
        rect: QRect = option.rect  # type: ignore[attr-defined]
        state = option.state  # type: ignore[attr-defined]
        selected = bool(state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(rect, palette.color(QPalette.ColorRole.Highlight))
        elif state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(rect, palette.color(QPalette.ColorRole.AlternateBase))
        text_colour = palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        muted = QColor(text_colour)
        muted.setAlpha(160)

        # -- thumbnail, letterboxed
        thumb_rect = QRect(rect.left() + self.PAD, rect.top() + self.PAD, THUMB.width(), THUMB.height())
        painter.fillRect(thumb_rect, QColor("#15171c"))
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            scaled = pixmap.scaled(
                THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
            x = thumb_rect.left() + (THUMB.width() - scaled.width()) // 2
            y = thumb_rect.top() + (THUMB.height() - scaled.height()) // 2
            painter.drawPixmap(x, y, scaled)
        else:
            painter.setPen(QColor("#6b7280"))
            glyph = {JobStatus.RUNNING: "…", JobStatus.QUEUED: "⏳"}.get(record.status, "—")
            painter.drawText(thumb_rect, Qt.AlignmentFlag.AlignCenter, glyph)

        # -- text
        left = thumb_rect.right() + 10
        text_rect = QRect(left, rect.top() + self.PAD - 1, rect.right() - left - self.PAD, rect.height() - 2 * self.PAD)
        base_font = QFont(option.font)  # type: ignore[attr-defined]
        fm = painter.fontMetrics()
        line_h = fm.height()
        painter.setFont(base_font)
        painter.setPen(text_colour)
        prompt_lines = self._two_lines(record.request.prompt, fm, text_rect.width())
        for i, line in enumerate(prompt_lines):
            painter.drawText(
                QRect(text_rect.left(), text_rect.top() + i * line_h, text_rect.width(), line_h),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                line,
            )

        # -- status dot, status, meta
        small = QFont(base_font)
        small.setPointSizeF(max(7.0, base_font.pointSizeF() * 0.85))
        painter.setFont(small)
        sfm = painter.fontMetrics()
        y = text_rect.bottom() - sfm.height() + 1
        dot = QColor(STATUS_COLOURS.get(record.status, "#888"))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(dot)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.drawEllipse(QRect(text_rect.left(), y + sfm.height() // 2 - 3, 7, 7))
        painter.setPen(muted)
        status = status_text(record.status)
        progress = index.data(ProgressRole)
        if record.status is JobStatus.RUNNING and progress is not None:
            status = QCoreApplication.translate("HistoryPanel", "running {percent}%").format(
                percent=f"{progress * 100:.0f}"
            )
        reached = index.data(ReachedRole)
        if reached is not None and record.status is JobStatus.QUEUED:  # waiting to continue, in the queue
            status = QCoreApplication.translate("HistoryPanel", "interrupted at step {step} of {steps}").format(
                step=reached[0], steps=reached[1]
            )
        elif reached is not None:
            status = f"{status} {reached_text(reached)}"
        variant = variant_text(record)
        if variant:
            status = f"{status}  ·  {variant}"
        meta = f"{status}  ·  {when(record)}  ·  {describe(record)}"
        meta = sfm.elidedText(meta, Qt.TextElideMode.ElideRight, text_rect.width() - 12)
        painter.drawText(
            QRect(text_rect.left() + 12, y, text_rect.width() - 12, sfm.height()),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            meta,
        )

        # -- thin progress bar under a running job
        if record.status is JobStatus.RUNNING and progress is not None:
            bar = QRect(thumb_rect.left(), thumb_rect.bottom() - 3, int(THUMB.width() * progress), 4)
            painter.fillRect(bar, QColor(STATUS_COLOURS[JobStatus.RUNNING]))
        painter.restore()

    @staticmethod
    def _two_lines(text: str, fm: Any, width: int) -> list[str]:
        words = " ".join(text.split()).split(" ")
        first = ""
        rest_index = len(words)
        for i, word in enumerate(words):
            candidate = f"{first} {word}".strip()
            if fm.horizontalAdvance(candidate) > width and first:
                rest_index = i
                break
            first = candidate
        rest = " ".join(words[rest_index:])
        lines = [fm.elidedText(first, Qt.TextElideMode.ElideRight, width)]
        if rest:
            lines.append(fm.elidedText(rest, Qt.TextElideMode.ElideRight, width))
        return lines


class HistoryPanel(QWidget):
    loadRequested = Signal(object)  # JobRecord
    rerunRequested = Signal(object, bool)  # JobRecord, new seed
    playRequested = Signal(object)
    openFolderRequested = Signal(object)
    deleteRequested = Signal(object)
    exportRequested = Signal(object)  # JobRecord whose clip to export
    continueRequested = Signal(object)  # JobRecord to continue from its journal's last snapshot
    startOverRequested = Signal(object)  # JobRecord to run again from step 0 under its own id
    decodeAgainRequested = Signal(object)  # JobRecord whose kept latents to decode again with lower memory
    finalRequested = Signal(object)  # a finished draft's JobRecord, to make again at full quality
    compareRequested = Signal(list)  # the selected JobRecords, 2 to 4 finished clips
    finishRequested = Signal(object, str)  # a finished JobRecord, "upscale" or "interpolate"
    selectionChanged = Signal()

    def __init__(self, store: HistoryStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyPanel")
        self._store = store
        self._busy_ids: set[int] = set()

        self.compare_button = self._button("historyCompareButton", self.tr("Compare"), "")
        self.compare_button.clicked.connect(self.request_compare)
        title = QLabel(self.tr("History"))
        title.setProperty("role", "heading")
        self.count_label = QLabel()
        self.count_label.setObjectName("historyCountLabel")
        self.count_label.setProperty("role", "hint")
        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.count_label)
        header.addWidget(self.compare_button)  # here, not in the action row, which must stay narrow

        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("historySearchEdit")
        self.search_edit.setPlaceholderText(self.tr("Search prompts…"))
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setAccessibleName(self.tr("Search the history"))
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(200)  # search once typing pauses, not on every key
        self._search_timer.timeout.connect(self.refresh)
        self.search_edit.textChanged.connect(lambda _t: self._search_timer.start())

        self.model = HistoryModel(self)
        self.list_view = QListView()
        self.list_view.setObjectName("historyList")
        self.list_view.setAccessibleName(self.tr("Job history"))
        self.list_view.setModel(self.model)
        self.list_view.setItemDelegate(HistoryDelegate(self.list_view))
        # Ctrl/Shift+click select several entries, to compare their clips; a plain click selects one.
        self.list_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list_view.setUniformItemSizes(True)
        self.list_view.setMouseTracking(True)
        self.list_view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list_view.customContextMenuRequested.connect(self._context_menu)
        self.list_view.doubleClicked.connect(self._on_double_click)
        self.list_view.selectionModel().selectionChanged.connect(self._update_actions)
        # Delete (the platform's delete key) asks to delete the selected entry, as the trash button does.
        self.delete_action = QAction(self.tr("Delete"), self.list_view)
        self.delete_action.setObjectName("historyDeleteAction")
        self.delete_action.setShortcuts(QKeySequence.StandardKey.Delete)
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.delete_action.triggered.connect(lambda: self._emit(self.deleteRequested))
        self.list_view.addAction(self.delete_action)
        # An ended job with a journal: continue it, decode its kept latents again, or start it over.
        self.continue_action = QAction(self.tr("Continue where it stopped"), self)
        self.continue_action.setObjectName("historyContinueAction")
        self.continue_action.triggered.connect(lambda: self._emit(self.continueRequested))
        self.decode_again_action = QAction(self.tr("Decode again with lower memory settings"), self)
        self.decode_again_action.setObjectName("historyDecodeAgainAction")
        self.decode_again_action.triggered.connect(lambda: self._emit(self.decodeAgainRequested))
        self.start_over_action = QAction(self.tr("Start over"), self)
        self.start_over_action.setObjectName("historyStartOverAction")
        self.start_over_action.triggered.connect(lambda: self._emit(self.startOverRequested))

        # A finished clip: upscale it or raise its frame rate, into a new entry (in the context menu: the row of
        # buttons must stay narrow).
        self.upscale_action = QAction(self.tr("Upscale…"), self)
        self.upscale_action.setObjectName("historyUpscaleAction")
        self.upscale_action.triggered.connect(lambda: self._emit_finish("upscale"))
        self.interpolate_action = QAction(self.tr("Interpolate…"), self)
        self.interpolate_action.setObjectName("historyInterpolateAction")
        self.interpolate_action.triggered.connect(lambda: self._emit_finish("interpolate"))

        self.empty_label = QLabel()
        self.empty_label.setObjectName("historyEmptyLabel")
        self.empty_label.setProperty("role", "hint")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)

        style = self.style()
        self.load_button = self._button(
            "loadButton", self.tr("Load"), self.tr("Put this job's prompt and settings into the form.")
        )
        self.rerun_button = self._button(
            "rerunButton",
            self.tr("Re-run"),
            self.tr("Run this job again with the same seed and settings: the same clip."),
        )
        self.rerun_new_button = self._button(
            "rerunNewSeedButton", self.tr("New seed"), self.tr("Run this job again with a new random seed.")
        )
        self.final_button = self._button(
            "historyFinalButton",
            self.tr("Final"),
            self.tr(
                "Make this draft at full quality: the same seed and settings with the form's steps and step cache, "
                "so it looks like the draft."
            ),
        )
        self.final_button.hide()  # shown while a draft is selected
        self.play_button = self._button("historyPlayButton", "", self.tr("Play this clip in the player."))
        self.play_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.play_button.setAccessibleName(self.tr("Play"))
        self.folder_button = self._button("historyFolderButton", "", self.tr("Show the clip in its folder."))
        self.folder_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DirOpenIcon))
        self.export_button = self._button(
            "historyExportButton", "", self.tr("Export this clip as WebM, an animated GIF or PNG frames.")
        )
        self.export_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_DialogSaveButton))
        self.export_button.setAccessibleName(self.tr("Export…"))  # icon only: the row must stay narrow
        self.delete_button = self._button("deleteButton", "", self.tr("Delete this entry and its video file."))
        self.delete_button.setIcon(style.standardIcon(QStyle.StandardPixmap.SP_TrashIcon))
        self.delete_button.setAccessibleName(self.tr("Delete"))
        self.folder_button.setAccessibleName(self.tr("Show in folder"))

        self.load_button.clicked.connect(lambda: self._emit(self.loadRequested))
        self.final_button.clicked.connect(lambda: self._emit(self.finalRequested))
        self.rerun_button.clicked.connect(lambda: self._emit_rerun(False))
        self.rerun_new_button.clicked.connect(lambda: self._emit_rerun(True))
        self.play_button.clicked.connect(lambda: self._emit(self.playRequested))
        self.folder_button.clicked.connect(lambda: self._emit(self.openFolderRequested))
        self.delete_button.clicked.connect(lambda: self._emit(self.deleteRequested))
        self.export_button.clicked.connect(lambda: self._emit(self.exportRequested))

        row1 = QHBoxLayout()
        row1.setSpacing(4)
        row1.addWidget(self.final_button)
        row1.addWidget(self.rerun_button)
        row1.addWidget(self.rerun_new_button)
        row1.addWidget(self.load_button)
        row1.addStretch(1)
        row1.addWidget(self.play_button)
        row1.addWidget(self.folder_button)
        row1.addWidget(self.export_button)
        row1.addWidget(self.delete_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(header)
        layout.addWidget(self.search_edit)
        layout.addWidget(self.list_view, 1)
        layout.addWidget(self.empty_label, 1)
        layout.addLayout(row1)
        self.refresh()

    @staticmethod
    def _button(name: str, text: str, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setToolTip(tip)
        if text:
            button.setAccessibleName(text)
        return button

    # ---- contents ---------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the store, keeping the selection."""
        selected_ids = [record.id for record in self.selected_records()]
        current = self.list_view.currentIndex().data(RecordRole)
        query = self.search_edit.text()
        # The store narrows by substring; the panel keeps whole-word matches only.
        try:
            listed = self._store.list_jobs(query, limit=MAX_LISTED)
            total = self._store.count()
        except sqlite3.Error:  # held by another process past the wait: the list stays as it was until the next refresh
            logger.warning("The history could not be read now", exc_info=True)
            return
        records = [r for r in listed if matches_search(r.request.prompt, query)]
        self.model.set_records(records)
        if query.strip():
            self.count_label.setText(self.tr("{shown} of {total}").format(shown=len(records), total=total))
        else:
            count = self.tr("1 job") if total == 1 else self.tr("{count} jobs").format(count=total)
            self.count_label.setText(count if total else "")
        has_rows = bool(records)
        self.list_view.setVisible(has_rows)
        self.empty_label.setVisible(not has_rows)
        self.empty_label.setText(
            self.tr("No job's prompt has the words “{query}”.\nClear the search to see all {total}.").format(
                query=query.strip(), total=total
            )
            if query.strip()
            else self.tr("No jobs yet.\nEvery clip you make is listed here.")
        )
        if selected_ids:
            self.select_many(selected_ids, current.id if current is not None else None)
        self._update_actions()

    def select(self, job_id: int) -> bool:
        row = self.model.row_of(job_id)
        if row < 0:
            return False
        index = self.model.index(row)
        # This entry alone, whatever modifier keys are held (the view's own setCurrentIndex would toggle on Ctrl).
        self.list_view.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.list_view.scrollTo(index)
        return True

    def select_many(self, job_ids: list[int], current: int | None = None) -> int:
        """Select these entries (those still listed), the current one being `current` when listed, else the
        first; returns how many are selected."""
        rows = [row for row in (self.model.row_of(job_id) for job_id in job_ids) if row >= 0]
        selection = QItemSelection()
        for row in rows:
            selection.select(self.model.index(row), self.model.index(row))
        selection_model = self.list_view.selectionModel()
        if not rows:
            selection_model.clearSelection()
            return 0
        current_row = self.model.row_of(current) if current is not None else -1
        current_row = current_row if current_row in rows else rows[0]
        selection_model.setCurrentIndex(self.model.index(current_row), QItemSelectionModel.SelectionFlag.NoUpdate)
        selection_model.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.list_view.scrollTo(self.model.index(current_row))
        return len(rows)

    def selected_records(self) -> list[JobRecord]:
        """Every selected entry, top to bottom as listed (newest first)."""
        selection_model = self.list_view.selectionModel()
        rows = sorted(index.row() for index in selection_model.selectedRows()) if selection_model else []
        return [record for record in (self.model.index(row).data(RecordRole) for row in rows) if record is not None]

    def selected_record(self) -> JobRecord | None:
        """The selected entry when exactly one is: the one-entry actions (load, re-run, play …) act on it."""
        records = self.selected_records()
        return records[0] if len(records) == 1 else None

    def set_progress(self, job_id: int, fraction: float | None) -> None:
        self.model.set_progress(job_id, fraction)

    def set_search(self, text: str) -> None:
        self.search_edit.setText(text)
        self._search_timer.stop()
        self.refresh()

    # ---- actions ----------------------------------------------------------------------------------------------
    def _update_actions(self) -> None:
        self._update_compare()
        record = self.selected_record()
        has = record is not None
        playable = has and record.status is JobStatus.DONE and bool(record.video) and record.video.is_file()  # type: ignore[union-attr]
        runnable = has and bool(record.request.prompt.strip())  # type: ignore[union-attr]
        self.load_button.setEnabled(has)
        draft = has and record.request.draft  # type: ignore[union-attr]
        self.final_button.setVisible(draft)
        self.final_button.setEnabled(draft and runnable and record.status is JobStatus.DONE)  # type: ignore[union-attr]
        self.rerun_button.setEnabled(runnable)
        self.rerun_new_button.setEnabled(runnable)
        self.play_button.setEnabled(playable)
        self.folder_button.setEnabled(playable)
        self.export_button.setEnabled(playable)
        self.upscale_action.setEnabled(playable)
        self.interpolate_action.setEnabled(playable)
        self.delete_button.setEnabled(has and record.status is not JobStatus.RUNNING)  # type: ignore[union-attr]
        reached = self.selected_reached() if has and record.status in CONTINUABLE else None  # type: ignore[union-attr]
        self.continue_action.setVisible(reached is not None and reached[0] < reached[1])
        self.decode_again_action.setVisible(reached is not None and reached[0] >= reached[1])
        self.start_over_action.setVisible(reached is not None)
        self.selectionChanged.emit()

    def _update_compare(self) -> None:
        records = self.selected_records()
        problem = compare_problem(records)
        self.compare_button.setEnabled(not problem)
        ready = self.tr("Play the {count} selected clips side by side, in step to the frame (Ctrl+K).")
        self.compare_button.setToolTip(problem or ready.format(count=len(records)))

    def request_compare(self) -> None:
        """Ask to compare the selected entries (the window checks them and says why not)."""
        self.compareRequested.emit(self.selected_records())

    def selected_reached(self) -> tuple[int, int] | None:
        """(step, steps) the selected ended job's journal reached, when it can continue."""
        record = self.selected_record()
        row = self.model.row_of(record.id) if record is not None else -1
        return self.model.data(self.model.index(row), ReachedRole) if row >= 0 else None

    @property
    def journal_progress(self) -> Callable[[int], tuple[int, int] | None] | None:
        return self.model.journal_progress

    @journal_progress.setter
    def journal_progress(self, provider: Callable[[int], tuple[int, int] | None] | None) -> None:
        self.model.journal_progress = provider
        self.refresh()

    def _emit(self, signal: Any) -> None:
        record = self.selected_record()
        if record is not None:
            signal.emit(record)

    def _emit_finish(self, kind: str) -> None:
        record = self.selected_record()
        if record is not None:
            self.finishRequested.emit(record, kind)

    def _emit_rerun(self, new_seed: bool) -> None:
        record = self.selected_record()
        if record is not None:
            self.rerunRequested.emit(record, new_seed)

    def _on_double_click(self, index: QModelIndex) -> None:
        record: JobRecord = index.data(RecordRole)
        if record is None:
            return
        if record.status is JobStatus.DONE and record.video and Path(record.video).is_file():
            self.playRequested.emit(record)
        else:
            self.loadRequested.emit(record)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.list_view.indexAt(pos)
        if not index.isValid():
            return
        selection = self.list_view.selectionModel()
        if not selection.isSelected(index):  # a right-click inside the selection keeps it all, to compare it
            selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        menu = QMenu(self)
        # First what an interrupted job most wants: continue it (or decode its latents again), or start it over.
        journal_actions = [self.continue_action, self.decode_again_action, self.start_over_action]
        for action in (a for a in journal_actions if a.isVisible()):
            menu.addAction(action)
        if self.final_button.isVisibleTo(self):  # a draft: its final is what it is for
            final = menu.addAction(self.final_button.text())
            final.setObjectName("historyFinalAction")
            final.setEnabled(self.final_button.isEnabled())
            final.triggered.connect(self.final_button.click)
        if not menu.isEmpty():
            menu.addSeparator()
        for button in (
            self.play_button,
            self.rerun_button,
            self.rerun_new_button,
            self.load_button,
            self.folder_button,
            self.export_button,
            self.delete_button,
        ):
            label = button.text() or button.accessibleName()
            action = QAction(button.icon(), label, menu)
            action.setEnabled(button.isEnabled())
            action.triggered.connect(button.click)
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.upscale_action)
        menu.addAction(self.interpolate_action)
        menu.addSeparator()
        compare = menu.addAction(self.tr("Compare the selected clips"))
        compare.setObjectName("historyCompareMenuAction")
        compare.setShortcut(QKeySequence("Ctrl+K"))  # shown as a hint; the window's action owns the key
        compare.setEnabled(self.compare_button.isEnabled())
        compare.triggered.connect(self.request_compare)
        menu.addSeparator()
        copy = menu.addAction(self.tr("Copy prompt"))
        copy.setEnabled(self.selected_record() is not None)
        copy.triggered.connect(self._copy_prompt)
        menu.exec(self.list_view.viewport().mapToGlobal(pos))
        menu.deleteLater()

    def _copy_prompt(self) -> None:
        from PySide6.QtGui import QGuiApplication

        record = self.selected_record()
        if record is not None:
            QGuiApplication.clipboard().setText(record.request.prompt)
