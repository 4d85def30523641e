"""Frame rates kept exact from the command line to the clip: 23.976 is 24000/1001 in the request, the history, the
sidecar and the stream, and old whole-number values load as they always did (core/output/frame_rate.py)."""

from __future__ import annotations

import io
import json
from fractions import Fraction
from pathlib import Path

import pytest

from core.cli import build_parser
from core.cli import main as cli_main
from core.job.clip_settings import read_clip_settings
from core.job.request import GenerationRequest
from core.output.frame_rate import COMMON_RATES, frame_rate_text, nearest_frame_rate, parse_frame_rate
from core.output.video import sidecar_text
from core.store.history import HistoryStore
from tests.media_probe import packet_rate

NTSC_FILM = Fraction(24000, 1001)


@pytest.mark.parametrize(
    ("given", "exact"),
    [
        ("23.976", NTSC_FILM), ("23.98", NTSC_FILM), ("24000/1001", NTSC_FILM), (23.976, NTSC_FILM),
        (float(NTSC_FILM), NTSC_FILM), ("29.97", Fraction(30000, 1001)), ("30000/1001", Fraction(30000, 1001)),
        ("59.94", Fraction(60000, 1001)), ("47.952", Fraction(48000, 1001)), ("119.88", Fraction(120000, 1001)),
        ("24", 24), (24, 24), ("24.0", 24), (Fraction(48, 2), 24), ("12.5", Fraction(25, 2)), ("60 fps", 60),
    ],
)  # fmt: skip
def test_rates_are_read_exactly(given: object, exact: int | Fraction) -> None:
    rate = parse_frame_rate(given)
    assert rate == exact and type(rate) is type(exact)  # a whole rate is an int, as it always was


@pytest.mark.parametrize(
    ("given", "says"),
    [("abc", "must be a number"), ("0", "between 1 and 240"), ("241", "between 1 and 240"), ("1/0", "a number"),
     ("23.9761234", "too fine"), (True, "a number"), (float("nan"), "a number"), (None, "a number")],
)  # fmt: skip
def test_bad_rates_are_refused_with_a_reason(given: object, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_frame_rate(given)


def test_rates_read_as_people_write_them() -> None:
    texts = [frame_rate_text(rate) for rate in COMMON_RATES]
    assert texts == ["8", "12", "15", "16", "23.976", "24", "25", "29.97", "30", "48", "50", "59.94", "60"]
    assert all(parse_frame_rate(text) == rate for text, rate in zip(texts, COMMON_RATES, strict=True))
    # ffmpeg prints a stream's rate with two decimals; read back, it is the exact rate again.
    assert [nearest_frame_rate(v) for v in (23.98, 29.97, 59.94, 24.0, 12.5)] == [
        NTSC_FILM,
        Fraction(30000, 1001),
        Fraction(60000, 1001),
        24,
        Fraction(25, 2),
    ]


def test_request_keeps_the_rate_exact_through_its_dictionary(tmp_path: Path) -> None:
    request = GenerationRequest(prompt="p", fps=23.976)  # type: ignore[arg-type]
    assert request.fps == NTSC_FILM and request.problems() == []
    data = request.to_dict()
    assert data["fps"] == "24000/1001"
    assert json.loads(sidecar_text(data))["fps"] == "24000/1001"  # strict JSON holds it
    assert GenerationRequest.from_dict(json.loads(json.dumps(data))) == request
    # Old dictionaries (whole numbers) and a float written by hand keep loading.
    old = GenerationRequest.from_dict({"prompt": "p", "fps": 16})
    assert old.fps == 16 and type(old.fps) is int and old.to_dict()["fps"] == 16
    assert GenerationRequest.from_dict({"prompt": "p", "fps": 29.97}).fps == Fraction(30000, 1001)
    assert GenerationRequest.from_dict({"prompt": "p", "fps": 0}).problems()  # loads; validation says why
    for bad in (0, 241, "fast"):
        problems = GenerationRequest(prompt="p", fps=bad).problems()  # type: ignore[arg-type]
        assert len(problems) == 1 and "frame rate" in problems[0], problems
    with HistoryStore(tmp_path / "history.db") as store:
        record = store.add(request, "model")
        assert store.get(record.id).request.fps == NTSC_FILM  # type: ignore[union-attr]


def test_command_line_accepts_fractional_rates() -> None:
    parser = build_parser()
    base = ["generate", "--prompt", "p", "--output", "x.mp4"]
    for given, exact in (("23.976", NTSC_FILM), ("29.97", Fraction(30000, 1001)), ("24000/1001", NTSC_FILM)):
        assert parser.parse_args([*base, "--fps", given]).fps == exact
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info, pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stderr", err)
        parser.parse_args([*base, "--fps", "fast"])
    assert exit_info.value.code == 2
    assert err.getvalue().count("\n") == 1 and "must be a number such as 24, 23.976" in err.getvalue()


def test_generate_at_23_976_makes_a_clip_of_exactly_24000_1001(tmp_path: Path, tiny_model: Path) -> None:
    clip = tmp_path / "ntsc.mp4"
    out, err = io.StringIO(), io.StringIO()
    code = cli_main(
        ["generate", "--model", str(tiny_model), "--prompt", "a kite", "--width", "80", "--height", "48",
         "--frames", "9", "--steps", "1", "--seed", "3", "--fps", "23.976", "--device", "cpu",
         "--data-dir", str(tmp_path / "data"), "--output", str(clip)],
        out, err,
    )  # fmt: skip
    assert code == 0, err.getvalue()
    assert packet_rate(clip) == NTSC_FILM  # the stream's rate, exact
    sidecar = json.loads(clip.with_suffix(".json").read_text(encoding="utf-8"))
    assert sidecar["request"]["fps"] == "24000/1001"
    settings = read_clip_settings(clip)
    assert settings.request.fps == NTSC_FILM
    info = io.StringIO()
    assert cli_main(["info", str(clip), "--model", str(tiny_model)], info, io.StringIO()) == 0
    assert "9 at 23.976 fps (0.38 s)" in info.getvalue()
