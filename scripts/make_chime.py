"""Write the chime the window plays when a job ends (resources/sounds/job-done.wav): two soft bell-like tones a fourth
apart (E5, then A5), 0.8 s, 16-bit mono at 44.1 kHz, peaking well below full scale. Generated rather than recorded,
so its source is this file; run it again after changing the sound.

    python scripts/make_chime.py [OUTPUT.wav]
"""

from __future__ import annotations

import math
import struct
import sys
import wave
from pathlib import Path

RATE = 44_100  # what every audio device takes without resampling (Windows shared mode included)
LENGTH_S = 0.8
PEAK = 0.35  # of full scale: a notice, not an alarm
# (start s, frequency Hz, loudness): the second tone answers the first, a little softer.
TONES = ((0.0, 659.25, 1.0), (0.16, 880.0, 0.8))
ATTACK_S = 0.008  # a short fade-in: no click
DECAY_PER_S = 6.0  # exponential decay of each tone (a struck bell, not a beep)
FADE_OUT_S = 0.05  # the last samples go to zero: no click at the end

OUTPUT = Path(__file__).resolve().parents[1] / "resources" / "sounds" / "job-done.wav"


def sample(t: float) -> float:
    value = 0.0
    for start, frequency, loudness in TONES:
        local = t - start
        if local < 0:
            continue
        envelope = min(1.0, local / ATTACK_S) * math.exp(-DECAY_PER_S * local) * loudness
        # The fundamental with a faint octave above it: warmer than a pure sine.
        value += envelope * (
            math.sin(2 * math.pi * frequency * local) + 0.2 * math.sin(4 * math.pi * frequency * local)
        )
    return value


def write_chime(target: Path = OUTPUT) -> Path:
    count = int(RATE * LENGTH_S)
    values = [sample(i / RATE) for i in range(count)]
    fade = int(RATE * FADE_OUT_S)
    for i in range(fade):
        values[count - fade + i] *= 1 - (i + 1) / fade
    scale = PEAK / max(abs(v) for v in values)
    frames = b"".join(struct.pack("<h", round(v * scale * 32767)) for v in values)
    target.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(frames)
    return target


if __name__ == "__main__":
    print(write_chime(Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT))
