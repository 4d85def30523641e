"""H.264 levels (ITU-T H.264 Table A-1) and the bitrate budget a clip is encoded within.

A level promises a decoder the most macroblocks per frame and per second and the highest bitrate a stream needs.
x264 writes the lowest level that holds the clip's size, rate and VBV limits, but without a VBV cap it leaves the
bitrate out, so a tiny clip at crf 17 was tagged level 1.2 (384 kb/s) while carrying 2.85 Mb/s. The encoder is
therefore given a VBV cap: the limits of the level the size and rate need, never below level 3.0 (10 Mb/s, which
every device decodes), so a tiny clip keeps its quality and says the level it needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from core.output.frame_rate import FrameRate


@dataclass(frozen=True)
class H264Level:
    name: str  # "3.1"
    idc: int  # level_idc in the SPS: 31
    max_mbps: int  # macroblocks a second
    max_fs: int  # macroblocks a frame
    max_br: int  # kbit/s, for Baseline/Main (High allows 1.25 times this)
    max_cpb: int  # kbit, likewise


LEVELS: tuple[H264Level, ...] = (
    H264Level("1", 10, 1485, 99, 64, 175),
    H264Level("1.1", 11, 3000, 396, 192, 500),
    H264Level("1.2", 12, 6000, 396, 384, 1000),
    H264Level("1.3", 13, 11880, 396, 768, 2000),
    H264Level("2", 20, 11880, 396, 2000, 2000),
    H264Level("2.1", 21, 19800, 792, 4000, 4000),
    H264Level("2.2", 22, 20250, 1620, 4000, 4000),
    H264Level("3", 30, 40500, 1620, 10000, 10000),
    H264Level("3.1", 31, 108000, 3600, 14000, 14000),
    H264Level("3.2", 32, 216000, 5120, 20000, 20000),
    H264Level("4", 40, 245760, 8192, 20000, 25000),
    H264Level("4.1", 41, 245760, 8192, 50000, 62500),
    H264Level("4.2", 42, 522240, 8704, 50000, 62500),
    H264Level("5", 50, 589824, 22080, 135000, 135000),
    H264Level("5.1", 51, 983040, 36864, 240000, 240000),
    H264Level("5.2", 52, 2073600, 36864, 240000, 240000),
    H264Level("6", 60, 4177920, 139264, 240000, 240000),
    H264Level("6.1", 61, 8355840, 139264, 480000, 480000),
    H264Level("6.2", 62, 16711680, 139264, 800000, 800000),
)
FLOOR_LEVEL = 30  # the budget of level 3.0 at the least
HIGH_PROFILE_FACTOR = Fraction(5, 4)  # High profile's bitrate and buffer allowance over the table's


def level_by_idc(idc: int) -> H264Level:
    return next(level for level in LEVELS if level.idc == idc)


def macroblocks(width: int, height: int) -> tuple[int, int]:
    return math.ceil(width / 16), math.ceil(height / 16)


def fits(level: H264Level, width: int, height: int, fps: FrameRate) -> bool:
    """Whether the level holds frames of this size at this rate (frame size, each side, macroblocks a second)."""
    across, down = macroblocks(width, height)
    frame = across * down
    side_limit = math.isqrt(level.max_fs * 8)  # no side longer than sqrt(8 × MaxFS) macroblocks
    return frame <= level.max_fs and across <= side_limit and down <= side_limit and frame * fps <= level.max_mbps


def level_for(width: int, height: int, fps: FrameRate) -> H264Level:
    """The lowest level whose frame size and macroblock rate hold the clip (the highest if none does)."""
    return next((level for level in LEVELS if fits(level, width, height, fps)), LEVELS[-1])


def budget_level(width: int, height: int, fps: FrameRate) -> H264Level:
    """The level whose bitrate limits the encoder works within: the one the size and rate need, at least 3.0."""
    needed = level_for(width, height, fps)
    return needed if needed.idc >= FLOOR_LEVEL else level_by_idc(FLOOR_LEVEL)


def h264_rate_args(width: int, height: int, fps: FrameRate) -> list[str]:
    """x264's VBV cap for the clip (ffmpeg options): the budget level's Main-profile bitrate and buffer, which the
    High profile x264 writes holds with room to spare; x264 then tags the lowest level that holds them all."""
    level = budget_level(width, height, fps)
    return ["-maxrate", f"{level.max_br}k", "-bufsize", f"{level.max_cpb}k"]
