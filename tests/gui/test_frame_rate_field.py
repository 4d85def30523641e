"""The form's frame rate: the common rates offered, NTSC rates exact (23.976 is 24000/1001), any other typed in,
and a request, a history entry or a reopened clip's settings round-tripping through the form unchanged."""

from __future__ import annotations

import json
from fractions import Fraction

from PySide6.QtWidgets import QComboBox, QLabel

from core.job.request import GenerationRequest
from tests.gui.helpers import find

NTSC_FILM = Fraction(24000, 1001)


def test_common_rates_are_offered_and_kept_exact(open_window) -> None:
    window = open_window(start_engine=False)
    fps = find(window, QComboBox, "fpsCombo")
    offered = [fps.itemText(i) for i in range(fps.count())]
    assert offered == [
        f"{r} fps" for r in ("8", "12", "15", "16", "23.976", "24", "25", "29.97", "30", "48", "50", "59.94", "60")
    ]
    assert fps.value() == 24 and fps.currentText() == "24 fps"
    fps.setCurrentIndex(fps.findText("23.976 fps"))  # picked from the list
    assert window.parameter_form.parameters().fps == NTSC_FILM
    assert window.current_request().fps == NTSC_FILM
    assert find(window, QLabel, "durationLabel").text() == "5.21 s at 23.976 fps"  # 125 frames


def test_rates_typed_in(qtbot, open_window) -> None:
    window = open_window(start_engine=False)
    fps = find(window, QComboBox, "fpsCombo")
    note = find(window, QLabel, "rangeNote")

    def type_in(text: str) -> None:
        fps.lineEdit().selectAll()
        qtbot.keyClicks(fps.lineEdit(), text)
        fps.lineEdit().editingFinished.emit()

    type_in("30000/1001")
    assert fps.value() == Fraction(30000, 1001) and fps.currentText() == "29.97 fps"
    type_in("12.5")
    assert fps.value() == Fraction(25, 2) and fps.currentText() == "12.5 fps"  # not in the list, still exact
    assert window.current_request().fps == Fraction(25, 2)
    type_in("300")
    assert fps.value() == 240 and "300 is outside" in note.text() and "240 fps" in note.text()
    type_in("fast")
    assert fps.value() == 240 and fps.currentText() == "240 fps" and "“fast” is not a number" in note.text()


def test_a_fractional_rate_round_trips_through_the_form(open_window) -> None:
    window = open_window(start_engine=False)
    sidecar = {"prompt": "a lighthouse", "width": 256, "height": 144, "num_frames": 33, "fps": "30000/1001"}
    request = GenerationRequest.from_dict(json.loads(json.dumps(sidecar)))  # as a reopened clip's settings read
    window.form.apply_request(request, lock_seed=False)
    fps = find(window, QComboBox, "fpsCombo")
    assert fps.currentText() == "29.97 fps"
    back = window.current_request()
    assert back.fps == Fraction(30000, 1001) and back.to_dict()["fps"] == "30000/1001"
    # An old whole-number rate loads as it always did.
    window.form.apply_request(GenerationRequest.from_dict({**sidecar, "fps": 16}), lock_seed=False)
    assert fps.value() == 16 and type(window.current_request().fps) is int
