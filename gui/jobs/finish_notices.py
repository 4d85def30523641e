"""When a long job ends and nobody is looking: one notice (and a chime) for a clip made, a queue finished or a job
that failed, through a `gui.support.notifier.Notifier`. Nothing while the window is in front (active and not
minimised): whoever looks at it sees the end already.

A queue that ran several jobs tells once, at its end ("Queue finished: 3 clips"), not once a clip; a failure is told
when it happens, since it may want the user (the queue goes on meanwhile). Cancelled jobs are the user's own doing:
no notice. The settings `finish_notice` and `finish_sound` (the View menu) switch the notice and the chime off.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from gui.jobs.controller import JobController
from gui.jobs.worker import JobOutcome
from gui.support.formatting import clock
from gui.support.notifier import Notifier
from gui.support.settings import Settings

NOTICE_PROMPT_CHARS = 60  # of the prompt or an error message in a notice's title


def shorten(text: str, limit: int = NOTICE_PROMPT_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class FinishNotices(QObject):
    def __init__(self, window: QWidget, controller: JobController, settings: Settings, notifier: Notifier) -> None:
        super().__init__(window)
        self.window = window
        self.controller = controller
        self.settings = settings
        self.notifier = notifier
        self._clips: list[tuple[str, float]] = []  # (prompt, seconds) of each clip made since the queue was idle
        self._failed = 0
        controller.jobFinished.connect(self._on_finished)
        controller.jobFailed.connect(self._on_failed)
        controller.jobEnded.connect(self._on_ended)

    def menu_actions(self, parent: QObject) -> list[QAction]:
        """The View menu's switches: the desktop notice and the chime (saved in the settings)."""
        notice = QAction(self.tr("&Notify when a job ends"), parent)
        notice.setObjectName("finishNoticeAction")
        notice.setToolTip(
            self.tr("A desktop notification when a job or the queue ends while the window is not in front.")
        )
        sound = QAction(self.tr("Play a &sound when a job ends"), parent)
        sound.setObjectName("finishSoundAction")
        for action, name in ((notice, "finish_notice"), (sound, "finish_sound")):
            action.setCheckable(True)
            action.setChecked(bool(getattr(self.settings, name)))
            action.toggled.connect(lambda on, name=name: setattr(self.settings, name, on))
        return [notice, sound]

    def window_in_front(self) -> bool:
        return self.window.isActiveWindow() and not self.window.isMinimized()

    def close(self) -> None:
        self.notifier.close()

    # ---- the controller's signals -------------------------------------------------------------------------------
    def _on_finished(self, _job_id: int, outcome: JobOutcome) -> None:
        self._clips.append((outcome.request.prompt, outcome.timings.total_s))

    def _on_failed(self, _job_id: int, _kind: str, message: str, _advice: str) -> None:
        self._failed += 1
        entry = self.controller.running_entry  # still the failed job: the controller lets it go after this signal
        self._tell(
            self.tr("Job failed: {message}").format(message=shorten(message)), entry.request.prompt if entry else ""
        )

    def _on_ended(self, _job_id: int) -> None:
        c = self.controller
        if c.running_job is not None or (c.waiting_jobs and not c.paused):
            return  # the queue goes on
        clips, failed = self._clips, self._failed
        self._clips, self._failed = [], 0
        seconds = sum(s for _, s in clips)
        if len(clips) + failed >= 2:
            body = self.tr("{time} of work").format(time=clock(seconds))
            if failed:
                body += "  ·  " + self.tr("%n failed", "", failed)
            # Two sentences, not "%n clip(s)": English has no plural catalogue to fill one in.
            title = (
                self.tr("Queue finished: 1 clip")
                if len(clips) == 1
                else self.tr("Queue finished: {count} clips").format(count=len(clips))
            )
            self._tell(title, body)
        elif clips:
            prompt, seconds = clips[0]
            self._tell(
                self.tr("Clip ready: {prompt}").format(prompt=shorten(prompt)),
                self.tr("Made in {time}").format(time=clock(seconds)),
            )

    def _tell(self, title: str, body: str) -> None:
        if self.window_in_front():
            return
        if self.settings.finish_notice:
            self.notifier.notify(title, body)
        if self.settings.finish_sound:
            self.notifier.play_sound()
