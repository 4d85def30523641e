"""Outputs are whole or absent under their final names, whatever happens: two jobs given one name, a full disk at
any moment, a kill at any stage. Leftovers of a job that is gone are cleaned up by the next one."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import core.output.video as video
from core.errors import OutputError, OutputNameTakenError
from core.output.video import (
    clean_leftovers,
    publish_clip,
    read_mp4_comment,
    read_mp4_frames,
    reserve_outputs,
    write_mp4,
)
from gui.support.paths import unique_output_path

ROOT = Path(__file__).resolve().parents[1]
META = {"request": {"prompt": "a kite", "seed": 3}, "frames_generated": 5}


def frames(t: int = 5, h: int = 32, w: int = 48) -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.random((t, h, w, 3), dtype=np.float32)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def assert_whole(clip: Path, count: int = 5) -> None:
    assert read_mp4_frames(clip).shape[0] == count
    assert json.loads(clip.with_suffix(".json").read_text()) == read_mp4_comment(clip)


def publish(folder: Path, stem: str = "clip", with_frames: bool = True) -> Path:
    target = folder / f"{stem}.mp4"
    with reserve_outputs(target, folder / f"{stem}-frames" if with_frames else None) as reservation:
        publish_clip(frames(), reservation, 8, META)
    return target


def test_whole_result_and_no_temporary_names(tmp_path):
    clip = publish(tmp_path)
    assert names(tmp_path) == ["clip-frames", "clip.json", "clip.mp4"]
    assert_whole(clip)
    # Five frames and the parameters they carry (as a PNG export's folder does).
    assert names(tmp_path / "clip-frames") == [*(f"frame_{i:05d}.png" for i in range(5)), "parameters.json"]


def test_every_name_is_checked_before_any_work(tmp_path, monkeypatch):
    (tmp_path / "x.json").write_text("{}")
    with pytest.raises(OutputNameTakenError, match=r"x\.json already exists"):
        reserve_outputs(tmp_path / "x.mp4")
    (tmp_path / "f").mkdir()
    (tmp_path / "f" / "keep.txt").write_text("keep")
    with pytest.raises(OutputError, match="not an empty folder"):
        reserve_outputs(tmp_path / "y.mp4", tmp_path / "f")
    assert names(tmp_path) == ["f", "x.json"]


def test_two_writers_of_one_name_second_is_refused_while_first_is_paused_mid_write(tmp_path, monkeypatch):
    """The failure: both shared one temporary name, the second kept writing into the first's published clip."""
    paused, resume = threading.Event(), threading.Event()
    real_send = video._send_frames

    def slow_send(stdin, pixels):
        real_send(stdin, pixels[:2])
        paused.set()
        assert resume.wait(60)
        real_send(stdin, pixels[2:])

    monkeypatch.setattr(video, "_send_frames", slow_send)
    target = tmp_path / "same.mp4"
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with reserve_outputs(target) as reservation:
                publish_clip(frames(), reservation, 8, META)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    writer = threading.Thread(target=first)
    writer.start()
    assert paused.wait(60)
    with pytest.raises(OutputNameTakenError, match="Another job is already writing"):
        reserve_outputs(target)
    # The window's naming skips the reserved name, so a second window would write beside it.
    assert unique_output_path(tmp_path, "same", now=0).name != ".same.mp4"
    taken = tmp_path / ".same.mp4.reserved"
    assert taken.exists()
    resume.set()
    writer.join(60)
    assert not errors
    assert names(tmp_path) == ["same.json", "same.mp4"]
    assert_whole(target)


def test_unique_output_path_skips_a_reserved_name(tmp_path):
    first = unique_output_path(tmp_path, "a cat", now=0)
    (tmp_path / f".{first.name}.reserved").write_text("{}")
    assert unique_output_path(tmp_path, "a cat", now=0) != first


# ---- a full disk ---------------------------------------------------------------------------------------------
def _enospc(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("moment", ["reservation", "sidecar-write", "fsync", "png", "sidecar-link", "mp4-link"])
def test_disk_full_at_each_moment_publishes_nothing(tmp_path, monkeypatch, moment):
    real_link, real_write, real_fsync = os.link, os.write, os.fsync
    if moment == "reservation":
        monkeypatch.setattr(video.os, "write", _enospc)
    elif moment == "sidecar-write":  # the sidecar is the indented JSON
        monkeypatch.setattr(
            video.os, "write", lambda fd, data: _enospc() if bytes(data[:2]) == b"{\n" else real_write(fd, data)
        )
    elif moment == "fsync":
        calls = {"n": 0}

        def fsync(fd):
            calls["n"] += 1
            if calls["n"] == 3:  # after the reservation and the mp4, at the sidecar
                _enospc()
            real_fsync(fd)

        monkeypatch.setattr(video.os, "fsync", fsync)
    elif moment == "png":
        from PIL import Image

        real_save = Image.Image.save
        monkeypatch.setattr(
            Image.Image,
            "save",
            lambda self, fp, *a, **k: _enospc() if "frame_00003" in str(fp) else real_save(self, fp, *a, **k),
        )
    else:
        suffix = ".json" if moment == "sidecar-link" else ".mp4"
        monkeypatch.setattr(
            video.os, "link", lambda src, dst: _enospc() if str(dst).endswith(suffix) else real_link(src, dst)
        )
    with pytest.raises(OutputError, match="disk is full") as caught:
        publish(tmp_path)
    assert "\n" not in str(caught.value)  # one line for the user
    assert names(tmp_path) == []  # no clip, no sidecar, no frames, no temporary file, no reservation


def test_encoder_failure_is_checked_and_nothing_is_published(tmp_path, monkeypatch):
    """An encoder that dies half-way (as ffmpeg does on a full disk) leaves a file; it must not be published."""
    fake = tmp_path / "bin" / "ffmpeg"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\nfor last; do :; done\nhead -c 1000 > /dev/null\nprintf 'garbage' > \"$last\"\n"
        "echo 'av_interleaved_write_frame(): No space left on device' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    monkeypatch.setattr(video, "_ffmpeg", lambda: str(fake))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(OutputError, match="disk is full"):
        publish(out, with_frames=False)
    assert names(out) == []


def test_a_truncated_clip_is_never_published(tmp_path, monkeypatch):
    real_encode = video._encode_mp4

    def truncating(pixels, target, fps, comment):
        real_encode(pixels, target, fps, comment)
        data = target.read_bytes()
        target.write_bytes(data[: len(data) // 2])  # what a full disk leaves behind ("moov atom not found")

    monkeypatch.setattr(video, "_encode_mp4", truncating)
    with pytest.raises(OutputError, match="did not check out"):
        publish(tmp_path)
    assert names(tmp_path) == []


def test_a_real_small_tmpfs_fills_up(tmp_path):
    """Where this machine lets us mount one (root in a privileged container), a real full disk."""
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24k", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here; the injected ENOSPC tests cover the same moments")
    try:
        with pytest.raises(OutputError), reserve_outputs(mount / "big.mp4") as reservation:
            publish_clip(frames(9, 128, 128), reservation, 8, META)
        assert names(mount) == []
    finally:
        subprocess.run(["umount", str(mount)], check=False)


# ---- a kill at each stage -------------------------------------------------------------------------------------
KILLED_JOB = """
import sys, time
import numpy as np
import core.output.video as video
stage = sys.argv[2]
real = video._stage_reached
def reached(name):
    if name == stage:
        print("AT", name, flush=True)
        time.sleep(600)
video._stage_reached = reached
from pathlib import Path
folder = Path(sys.argv[1])
pixels = np.random.default_rng(1).random((5, 32, 48, 3), dtype=np.float32)
with video.reserve_outputs(folder / "k.mp4", folder / "k-frames") as r:
    video.publish_clip(pixels, r, 8, {"request": {"prompt": "k"}})
print("AT end", flush=True)
"""

STAGES = ["encoding", "frame-sent", "encoded", "verified", "frames-published", "sidecar-published", "published"]


@pytest.mark.parametrize("stage", STAGES)
def test_kill_at_each_stage_leaves_whole_or_nothing_and_the_next_job_cleans_up(tmp_path, stage):
    import psutil

    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_JOB, str(tmp_path), stage], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == f"AT {stage}", line
    children = psutil.Process(proc.pid).children(recursive=True)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(30)
    psutil.wait_procs(children, timeout=30)  # an encoder left running finishes its (temporary) file

    final = [n for n in names(tmp_path) if not n.startswith(".")]
    assert final in ([], ["k-frames"], ["k-frames", "k.json"], ["k-frames", "k.json", "k.mp4"]), final
    if "k.mp4" in final:
        assert read_mp4_frames(tmp_path / "k.mp4").shape[0] == 5

    # The next job in the folder (any name) finishes a publish that had begun or removes the dead job's files.
    publish(tmp_path, "next", with_frames=False)
    after = names(tmp_path)
    assert not [n for n in after if n.startswith(".")], after
    begun = stage in ("frames-published", "sidecar-published", "published")
    if begun:
        assert {"k.mp4", "k.json", "k-frames"} <= set(after)
        assert_whole(tmp_path / "k.mp4")
        assert len(list((tmp_path / "k-frames").glob("frame_*.png"))) == 5
    else:
        assert not {"k.mp4", "k.json", "k-frames"} & set(after)


def test_a_live_owners_files_are_left_alone(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        leftover = tmp_path / f".clip.{sleeper.pid}-0123456789ab.partial.mp4"
        leftover.write_bytes(b"being written")
        dead = tmp_path / ".old.999999-0123456789ab.partial.json"
        dead.write_bytes(b"{}")
        clean_leftovers(tmp_path)
        assert leftover.exists() and not dead.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    clean_leftovers(tmp_path)
    assert names(tmp_path) == []


def test_a_reservation_whose_pid_was_reused_is_stale(tmp_path):
    marker = tmp_path / ".c.mp4.reserved"
    info = {"pid": os.getpid(), "started": time.time() - 10_000, "token": f"{os.getpid()}-0123456789ab"}
    marker.write_text(json.dumps({**info, "state": "writing", "video": str(tmp_path / "c.mp4")}))
    clean_leftovers(tmp_path)
    assert not marker.exists()


def test_write_mp4_alone_keeps_the_guarantees(tmp_path):
    clip = write_mp4(frames(), tmp_path / "solo.mp4", 8, {"a": 1})
    assert names(tmp_path) == ["solo.mp4"] and read_mp4_frames(clip).shape[0] == 5
