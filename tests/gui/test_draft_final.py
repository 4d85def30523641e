"""Draft, then final: a Draft runs the form's job with the seed the form shows at fewer steps (the `draft_steps`
setting, never more than the form's) and the fastest step cache, is marked as a draft in the history (also after
the store is reopened), the queue and the clip's sidecar; Final on it runs the same job at the form's steps and
step cache with the same seed, linked to its draft."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from core.job.request import GenerationRequest, SpeedOptions, StepCache
from core.store.history import HistoryStore, JobStatus
from gui.jobs.history_panel import tooltip, variant_text
from gui.jobs.queue_model import QueueEntry, describe
from tests.gui.helpers import JobWatcher, fill_small, find, wait_ready


def queue_and_wait(qtbot, window, watcher: JobWatcher, action) -> int:
    """Run `action`, then wait for the one job it queued to end; returns its id."""
    before = {r.id for r in window.store.list_jobs()}
    action()
    qtbot.waitUntil(lambda: len(window.store.list_jobs()) > len(before))
    job_id = next(r.id for r in window.store.list_jobs() if r.id not in before)
    watcher.wait(qtbot, job_id)
    assert job_id in watcher.finished, watcher.failed.get(job_id)
    return job_id


def step_totals(watcher: JobWatcher, job_id: int) -> list[int]:
    return [total for job, _step, total in watcher.steps if job == job_id]


def test_a_draft_then_its_final(qtbot, open_window, gui_tiny_model, tmp_path):
    window = open_window(data_dir=tmp_path / "data", model=gui_tiny_model)
    wait_ready(qtbot, window)
    window.settings.draft_steps = 2
    fill_small(window, seed=None, steps=4)  # the seed is not locked: the Draft draws one and shows it, as Generate does
    assert not window.parameter_form.seed_locked
    watcher = JobWatcher(window)

    draft_button = find(window, QPushButton, "draftButton")
    assert draft_button.isEnabled()
    draft_id = queue_and_wait(qtbot, window, watcher, lambda: qtbot.mouseClick(draft_button, Qt.MouseButton.LeftButton))
    shown_seed = window.parameter_form.seed_spin.value()

    # Two steps, the seed the form shows, the fastest step cache; everything else as the form says.
    assert step_totals(watcher, draft_id) == [2, 2]
    draft = window.store.get(draft_id)
    assert draft is not None and draft.status is JobStatus.DONE
    assert draft.request.draft and draft.request.final_of is None
    assert draft.request.seed == shown_seed == watcher.finished[draft_id].seed
    assert draft.request.steps == 2 and draft.request.speed.step_cache is StepCache.FASTER
    assert (draft.request.width, draft.request.height, draft.request.num_frames) == (80, 48, 9)
    assert window.form.get("steps") == 4  # the form keeps its own steps
    # The history row and its tooltip say so, and so does the clip's sidecar.
    assert variant_text(draft) == "Draft"
    assert "Draft" in tooltip(draft)
    assert draft.video is not None
    assert json.loads(draft.video.with_suffix(".json").read_text(encoding="utf-8"))["request"]["draft"] is True

    # Final on the finished draft: the form's 4 steps and step cache (off), the draft's seed and settings.
    window.history_panel.select(draft_id)
    final_button = find(window, QPushButton, "historyFinalButton")
    assert final_button.isVisible() and final_button.isEnabled()
    final_id = queue_and_wait(qtbot, window, watcher, lambda: qtbot.mouseClick(final_button, Qt.MouseButton.LeftButton))
    assert step_totals(watcher, final_id) == [4, 4, 4, 4]
    final = window.store.get(final_id)
    assert final is not None and final.status is JobStatus.DONE
    assert watcher.finished[final_id].seed == shown_seed
    assert not final.request.draft and final.request.final_of == draft_id
    assert final.request.speed.step_cache is window.form.speed().step_cache is StepCache.OFF
    assert final.request.prompt == draft.request.prompt and final.request.memory == draft.request.memory
    assert variant_text(final) == f"Final of #{draft_id}"
    # A final is no draft: it offers no Final of its own.
    window.history_panel.select(final_id)
    assert not final_button.isVisible()

    # Reopened, the history still knows which is which (the mark lives in the stored request).
    history_file = window.paths.history_db
    window.close()
    qtbot.waitUntil(lambda: window._shut_down)
    with HistoryStore(history_file) as store:
        assert store.get(draft_id).request.draft  # type: ignore[union-attr]
        reopened_final = store.get(final_id)
        assert reopened_final is not None and not reopened_final.request.draft
        assert reopened_final.request.final_of == draft_id


def test_draft_steps_above_the_forms_are_clamped_and_the_queue_says_draft(qtbot, open_window, gui_tiny_model):
    window = open_window(model=gui_tiny_model)
    wait_ready(qtbot, window)
    assert window.settings.draft_steps == 12  # the default, more than this form's 3 steps
    fill_small(window, seed=777)
    watcher = JobWatcher(window)

    window.controller.pause()  # so the draft waits in the queue where its row can be read
    window.draft_action.trigger()  # the Job menu's action (Ctrl+Shift+Enter)
    qtbot.waitUntil(lambda: len(window.controller.waiting_jobs) == 1)
    draft_id = window.controller.waiting_jobs[0]
    row = window.controller.queue.index(0)
    assert window.controller.queue.data(row, Qt.ItemDataRole.DisplayRole).splitlines()[1].startswith("Draft")

    window.controller.resume()
    watcher.wait(qtbot, draft_id)
    assert draft_id in watcher.finished, watcher.failed.get(draft_id)
    assert step_totals(watcher, draft_id) == [3, 3, 3]
    assert watcher.finished[draft_id].seed == 777
    assert window.store.get(draft_id).request.draft  # type: ignore[union-attr]


def test_the_draft_shortcut_and_button_follow_generate(qtbot, open_window, gui_tiny_model):
    window = open_window(model=gui_tiny_model)
    wait_ready(qtbot, window)
    shortcuts = {s.toString() for s in window.draft_action.shortcuts()}
    assert "Ctrl+Shift+Return" in shortcuts
    fill_small(window, prompt="")
    assert not window.draft_button.isEnabled() and not window.draft_action.isEnabled()  # no prompt: no draft either
    fill_small(window)
    assert window.draft_button.isEnabled() and window.draft_action.isEnabled()


def test_draft_and_final_requests():
    """The request's own rules: clamped steps, the fastest cache, the labels round-trip; ordinary jobs' dictionaries
    carry no label at all (their sidecars, history rows and journals are as before)."""
    base = GenerationRequest(prompt="a fox", steps=30, seed=5, speed=SpeedOptions(attention_backend="math"))
    assert "draft" not in base.to_dict() and "final_of" not in base.to_dict()

    draft = base.as_draft(12)
    assert (draft.steps, draft.seed, draft.draft) == (12, 5, True)
    assert draft.speed == SpeedOptions(attention_backend="math", step_cache=StepCache.FASTER)
    assert base.as_draft(50).steps == 30 and base.as_draft(0).steps == 1
    assert GenerationRequest.from_dict(draft.to_dict()) == draft

    final = draft.as_final(12, 40, StepCache.FAST)
    assert (final.steps, final.seed, final.draft, final.final_of) == (40, 5, False, 12)
    assert final.speed.step_cache is StepCache.FAST and final.speed.attention_backend == "math"
    assert GenerationRequest.from_dict(final.to_dict()) == final
    assert not final.problems()
    assert GenerationRequest(prompt="a fox", final_of=0).problems()

    entry = QueueEntry(3, final, "/models/x")
    assert describe(entry).splitlines()[1].startswith("Final of #12")
