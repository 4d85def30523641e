"""Frame rates, kept exact: a whole number of frames a second (24) or a fraction (NTSC's 24000/1001).

A rate is an `int` when it is whole, so every whole-rate clip, request and dictionary reads as it always did, and a
`fractions.Fraction` otherwise. Decimals name the NTSC rates the way people write them: 23.976 (or 23.98) is
24000/1001, 29.97 is 30000/1001, 59.94 is 60000/1001, and so on for any N × 1000/1001; other decimals are kept as
the exact fraction they spell (12.5 is 25/2). In JSON a fractional rate is the string "24000/1001" (a float could
not hold it exactly); `parse_frame_rate` reads that, a whole number, a float or a decimal back.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import TypeAlias

from core.i18n import _t

FrameRate: TypeAlias = int | Fraction

MIN_FPS = 1
MAX_FPS = 240
# The largest denominator a rate may have: NTSC's 1001 (and every decimal with up to three places).
MAX_DENOMINATOR = 1001
NTSC = Fraction(1000, 1001)
# The rates the window offers (any other in range can be typed).
COMMON_RATES: tuple[FrameRate, ...] = (
    8,
    12,
    15,
    16,
    Fraction(24000, 1001),
    24,
    25,
    Fraction(30000, 1001),
    30,
    48,
    50,
    Fraction(60000, 1001),
    60,
)


def _normal(rate: Fraction) -> FrameRate:
    return rate.numerator if rate.denominator == 1 else rate


def _from_decimal(text: str) -> Fraction:
    """A decimal's exact value, read as an NTSC rate when it is one written to its own precision (two places or
    more: 23.98, 23.976, 29.97, 59.94, 119.88) or, given as a float, equal to one but for float rounding."""
    value = Fraction(Decimal(text))
    places = max(0, -int(Decimal(text).as_tuple().exponent))
    candidate = round(value / NTSC) * NTSC
    if candidate and places >= 2 and abs(candidate - value) <= Fraction(1, 2 * 10**places):
        return candidate
    return value


def parse_frame_rate(value: object) -> FrameRate:
    """An exact rate from an int, a float, a Fraction or text ("24", "23.976", "24000/1001"); ValueError with a
    sentence for the user when it is none or outside 1–240 fps."""
    rate: Fraction | None = None
    if isinstance(value, bool):
        rate = None
    elif isinstance(value, int):
        rate = Fraction(value)
    elif isinstance(value, Fraction):
        rate = value
    elif isinstance(value, float) and math.isfinite(value):
        rate = _from_decimal(repr(value))
        if rate.denominator > MAX_DENOMINATOR:  # a float that stands for a fraction (24000/1001 is 23.97602397…)
            near = rate.limit_denominator(MAX_DENOMINATOR)
            rate = near if abs(near - rate) < Fraction(1, 10**9) else rate
    elif isinstance(value, str):
        text = value.strip().lower().removesuffix("fps").strip()
        try:
            if "/" in text:
                top, _, bottom = text.partition("/")
                rate = Fraction(Decimal(top.strip())) / Fraction(Decimal(bottom.strip()))
            else:
                rate = _from_decimal(text)
        except (InvalidOperation, ValueError, ZeroDivisionError, OverflowError):
            rate = None
    if rate is None:
        raise ValueError(
            _t("The frame rate must be a number such as 24, 23.976 or 24000/1001 (got {value}).").format(value=value)
        )
    if rate.denominator > MAX_DENOMINATOR:
        too_fine = _t("The frame rate {value} is too fine: use up to three decimals or a fraction like 24000/1001.")
        raise ValueError(too_fine.format(value=value))
    if not MIN_FPS <= rate <= MAX_FPS:
        # The message names 1 and 240 itself (MIN_FPS, MAX_FPS): its translation is the one it always had.
        raise ValueError(
            _t("The frame rate must be between 1 and 240 fps (got {value}).").format(
                value=frame_rate_text(_normal(rate))
            )
        )
    return _normal(rate)


def is_frame_rate(value: object) -> bool:
    """A rate as a request holds it: a whole int (not a bool) or a Fraction, within 1–240 fps."""
    try:
        return not isinstance(value, (float, str)) and parse_frame_rate(value) == value
    except ValueError:
        return False


def nearest_frame_rate(value: float) -> FrameRate:
    """A stream's rate as ffmpeg prints it (two decimals: "23.98 fps") back to the exact rate it stands for: whole,
    NTSC, or the nearest fraction with a small denominator. Never raises (a stream's rate can be anything)."""
    if not math.isfinite(value) or value <= 0:
        return 24
    rate = Fraction(value)
    for candidate in (Fraction(round(value)), round(rate / NTSC) * NTSC):
        if candidate and abs(candidate - rate) <= Fraction(1, 200):
            return _normal(candidate)
    return _normal(rate.limit_denominator(MAX_DENOMINATOR))


def frame_rate_text(rate: FrameRate | float) -> str:
    """For people: "24", "23.976", "29.97", "12.5" (at most three decimals, no trailing zeros)."""
    if isinstance(rate, int):
        return str(rate)
    return f"{float(rate):.3f}".rstrip("0").rstrip(".")


def frame_rate_json(rate: object) -> object:
    """For a dictionary: an int stays an int, a fraction becomes "24000/1001"; anything else is passed through (a
    request that does not validate still describes itself)."""
    if isinstance(rate, Fraction):
        return str(rate) if rate.denominator != 1 else rate.numerator
    return rate


def frame_rate_arg(rate: FrameRate) -> str:
    """For ffmpeg's -r: "24" or "24000/1001" (exact; ffmpeg reads the fraction as it is)."""
    return str(_normal(Fraction(rate)))


def seconds(frames: int, rate: FrameRate) -> float:
    return float(Fraction(frames) / Fraction(rate)) if rate else 0.0
