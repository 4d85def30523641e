"""Check a built bundle the way a user would use it: its layout, its shared-library links (Linux), `--smoke`
(open the window offscreen, exit 0) in English and in Chinese (`--language zh_CN`: our catalogue loads, Qt's
own qtbase catalogue is bundled), `--help` listing the headless commands, a tiny `generate` whose mp4 must hold
the frames asked for, `export` of that clip to WebM, GIF and PNG frames (each decoded back, every frame counted),
`generate --compile` refused with a clear message (the bundle runs eager), and `download` from a stand-in Hub on
127.0.0.1 (tests/hub_server.py) serving the demo model.

    python packaging/verify_bundle.py                       dist/ContentVStudio, a demo model made by the bundle
    python packaging/verify_bundle.py --model DIR           generate with this model folder instead
    python packaging/verify_bundle.py --bundle PATH --skip-smoke

Run from the repository root with the build's Python (it reads the clip back with core.output.video). Used by
tests/test_packaging.py and the release workflow; exits non-zero, naming the failure, if any check fails.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# Tiny generation: 80x48, 9 frames, 4 steps (seconds on a CPU).
TINY = {"width": 80, "height": 48, "frames": 9, "steps": 4}

# What `--help` must list: the headless commands main.py dispatches.
COMMANDS = ("generate", "make-demo-model", "export", "download", "resume")
EXPORT_FORMATS = ("webm", "gif", "png")

# Libraries a bundled ELF may need from the host: glibc, the graphics stack PyInstaller never bundles
# (libGL/EGL, libxcb, libwayland, libdrm, the NVIDIA driver's libcuda), what build.py's LINUX_HOST_LIBS leaves
# to the host, and the optional desktop libraries Qt's plugins load only where present (GTK, VA-API, PipeWire,
# Vulkan...). Anything else missing from the bundle is a packaging bug.
HOST_LIBS_OK = [
    r"ld-linux-x86-64\.so\.2",
    r"lib(c|m|dl|rt|pthread|util|resolv|anl|nsl|crypt|mvec)\.so(\.\d+)*",
    r"libE?(Open)?GLX?(ESv1_CM|ESv2)?(dispatch)?\.so(\.\d+)*",
    r"libGLES.*",
    r"libgbm\.so.*",
    r"libdrm.*",
    r"libxcb\.so.*",
    r"libxcb-dri.*",
    r"libwayland-.*",
    r"libcuda\.so.*",
    r"libnvidia-.*",
    r"libvulkan\.so.*",
    r"libva.*\.so.*",
    r"libpipewire-.*",
    r"libgtk-3\.so.*",
    r"libgdk-3\.so.*",
    r"libasound\.so.*",
    r"libmtdev\.so.*",
    r"libinput\.so.*",
    r"libudev\.so.*",
    r"libts\.so.*",
    r"libdecor-.*",
    r"libxkbfile\.so.*",
    r"libwebp.*\.so.*",
    r"libtiff\.so.*",
    r"libjpeg\.so.*",
    r"libicu.*",
]


# ---- the bundle's layout ------------------------------------------------------------------------------------------
def load_build_config():
    import importlib.util

    spec = importlib.util.spec_from_file_location("contentv_build", HERE / "build.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


SOURCE_MARKER = ".contentv-source.json"  # as core/model/identity.py names it


def check_layout(bundle: Path) -> list[str]:
    cfg = load_build_config()
    problems = []
    internal = bundle / cfg.CONTENTS_DIR
    exe = bundle / cfg.exe_name()
    if not exe.is_file():
        problems.append(f"the executable {exe} is missing")
    elif not sys.platform.startswith("win") and not os.access(exe, os.X_OK):
        problems.append(f"{exe} is not executable")
    for icon in ("contentv-studio.svg", "contentv-studio.png"):
        if (ROOT / "resources" / "icons" / icon).exists() and not (internal / "resources" / "icons" / icon).exists():
            problems.append(f"resources/icons/{icon} is not bundled")
    for catalogue in sorted((ROOT / "resources" / "translations").glob("*.qm")):  # the window's languages
        if not (internal / "resources" / "translations" / catalogue.name).exists():
            problems.append(f"resources/translations/{catalogue.name} is not bundled")
    ffmpeg = sorted((internal / "imageio_ffmpeg" / "binaries").glob("ffmpeg*"))
    if not ffmpeg:
        problems.append("imageio_ffmpeg's ffmpeg binary is not bundled")
    elif not sys.platform.startswith("win") and not os.access(ffmpeg[0], os.X_OK):
        problems.append(f"{ffmpeg[0]} is not executable")
    plugin_dir = internal / "PySide6" / ("plugins" if sys.platform.startswith("win") else "Qt/plugins")
    if not list((plugin_dir / "multimedia").glob("*ffmpegmediaplugin*")):
        problems.append("Qt Multimedia's FFmpeg backend plugin is not bundled")
    for module in ("QtWebEngineCore", "Qt3DCore", "QtQuick3D", "QtDesigner", "QtCharts"):
        if list((internal / "PySide6").glob(f"{module}.*")):
            problems.append(f"PySide6.{module} is bundled but the app never uses it")
    if not list((internal / "sentencepiece" / "package_data").glob("*.bin")):
        problems.append("sentencepiece's normalization tables are not bundled (make-demo-model fails)")
    for dist in ("torch", "diffusers", "transformers", "huggingface_hub", "httpx2"):
        if not list(internal.glob(f"{dist}-*.dist-info")):
            problems.append(f"{dist}'s package metadata is not bundled (importlib.metadata checks fail)")
    # Left out on purpose (build.EXCLUDES): the download never uses Xet, the bundle never compiles.
    for unwanted in ("hf_xet", "triton"):
        if (internal / unwanted).exists() or list(internal.glob(f"{unwanted}-*.dist-info")):
            problems.append(f"{unwanted} is bundled but build.EXCLUDES leaves it out")
    qt_translations = internal / "PySide6" / ("translations" if sys.platform.startswith("win") else "Qt/translations")
    for catalogue in sorted((ROOT / "resources" / "translations").glob("contentv_studio_*.qm")):
        language = catalogue.stem.removeprefix("contentv_studio_")
        if not (qt_translations / f"qtbase_{language}.qm").exists():
            problems.append(f"Qt's own qtbase_{language}.qm is not bundled (standard buttons stay in English)")
    if sys.platform.startswith("linux"):
        for name in ("contentv-studio.desktop", "install.sh"):
            if not (bundle / name).exists():
                problems.append(f"{name} is missing beside the executable")
    return problems


# ---- ELF links (Linux) ----------------------------------------------------------------------------------------------
def elf_needed(path: Path) -> list[str] | None:
    """The DT_NEEDED names of a 64-bit little-endian ELF file, or None if it is not one."""
    with path.open("rb") as fh:
        head = fh.read(64)
        if len(head) < 64 or head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
            return None
        (shoff,) = struct.unpack_from("<Q", head, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", head, 0x3A)
        if not shoff or not shnum:
            return []
        fh.seek(shoff)
        table = fh.read(shentsize * shnum)
        sections = [struct.unpack_from("<IIQQQQIIQQ", table, i * shentsize) for i in range(shnum)]
        needed: list[str] = []
        for _name, sh_type, _flags, _addr, offset, size, link, _info, _align, _entsize in sections:
            if sh_type != 6:  # SHT_DYNAMIC
                continue
            strtab = sections[link]
            fh.seek(strtab[4])
            strings = fh.read(strtab[5])
            fh.seek(offset)
            dyn = fh.read(size)
            for i in range(0, len(dyn) - 15, 16):
                tag, val = struct.unpack_from("<qQ", dyn, i)
                if tag == 0:
                    break
                if tag == 1:  # DT_NEEDED
                    needed.append(strings[val : strings.index(b"\0", val)].decode())
        return needed


def check_links(bundle: Path) -> list[str]:
    """Every library a bundled ELF needs is in the bundle or is one the host is expected to provide."""
    files = [p for p in bundle.rglob("*") if p.is_file() and not p.is_symlink()]
    present = {p.name for p in bundle.rglob("*")}
    allowed = [re.compile(p) for p in HOST_LIBS_OK + load_build_config().LINUX_HOST_LIBS]
    problems = []
    for f in files:
        if f.suffix in {".py", ".pyc", ".json", ".txt", ".png", ".svg", ".qm", ".pt", ".ptl"}:
            continue
        try:
            needed = elf_needed(f)
        except (OSError, struct.error, ValueError, IndexError):
            continue
        for lib in needed or []:
            if lib not in present and not any(p.fullmatch(lib) for p in allowed):
                problems.append(f"{f.relative_to(bundle)} needs {lib}, which is neither bundled nor a host library")
    return sorted(problems)


# ---- running it ------------------------------------------------------------------------------------------------------
def bundle_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("IMAGEIO_FFMPEG_EXE", None)  # the bundle must use its own ffmpeg
    env.pop("PYTHONPATH", None)
    env.pop("PYTHONHOME", None)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def run(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    start = time.perf_counter()
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        env=env or bundle_env(),
        check=False,
        stdin=subprocess.DEVNULL,
    )
    print(f"$ {' '.join(cmd)}\n  exit {proc.returncode} in {time.perf_counter() - start:.1f} s", flush=True)
    return proc


def _fail(what: str, proc: subprocess.CompletedProcess) -> str:
    return f"{what} exited {proc.returncode}\n--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-6000:]}"


def smoke(exe: Path, data_dir: Path, timeout: float = 180) -> str | None:
    proc = run([str(exe), "--smoke", "--data-dir", str(data_dir)], timeout)
    return None if proc.returncode == 0 else _fail("--smoke", proc)


def smoke_translated(exe: Path, data_dir: Path, language: str = "zh_CN", timeout: float = 180) -> str | None:
    """`--language zh_CN --smoke`: the window opens with the Chinese catalogue. gui.support.i18n warns on stderr
    when the app's catalogue cannot be loaded (its info lines come before the log file exists, so they are not checked);
    check_layout checks that Qt's own qtbase catalogue is bundled where QLibraryInfo looks."""
    proc = run([str(exe), "--language", language, "--smoke", "--data-dir", str(data_dir)], timeout)
    if proc.returncode != 0:
        return _fail(f"--language {language} --smoke", proc)
    if "No translation catalogue" in proc.stderr or "Traceback" in proc.stderr:
        return _fail(f"--language {language} --smoke (a catalogue is missing)", proc)
    return None


def help_lists_commands(exe: Path, timeout: float = 120) -> str | None:
    proc = run([str(exe), "--help"], timeout)
    if proc.returncode != 0:
        return _fail("--help", proc)
    missing = [c for c in COMMANDS if c not in proc.stdout]
    return f"--help does not list {missing}:\n{proc.stdout[-3000:]}" if missing else None


def make_demo_model(exe: Path, target: Path, timeout: float = 600) -> str | None:
    proc = run([str(exe), "make-demo-model", str(target)], timeout)
    return None if proc.returncode == 0 else _fail("make-demo-model", proc)


def generate(exe: Path, model: Path, output: Path, timeout: float = 900) -> str | None:
    cmd = [
        str(exe),
        "generate",
        "--model",
        str(model),
        "--prompt",
        "a red fox running through fresh snow",
        "--width",
        str(TINY["width"]),
        "--height",
        str(TINY["height"]),
        "--frames",
        str(TINY["frames"]),
        "--steps",
        str(TINY["steps"]),
        "--seed",
        "7",
        "--device",
        "cpu",
        "--output",
        str(output),
    ]
    proc = run(cmd, timeout)
    if proc.returncode != 0:
        return _fail("generate", proc)
    if not output.is_file():
        return f"generate exited 0 but {output} was not written\n{proc.stderr[-3000:]}"
    sys.path.insert(0, str(ROOT))
    from core.output.video import read_mp4_frames

    frames = read_mp4_frames(output)
    want = (TINY["frames"], TINY["height"], TINY["width"], 3)
    if frames.shape != want:
        return f"{output} holds frames of shape {frames.shape}, expected {want}"
    if not output.with_suffix(".json").is_file():
        return f"the sidecar {output.with_suffix('.json')} is missing"
    return None


def decoded_frame_count(path: Path, fmt: str) -> tuple[int, tuple[int, int]]:
    """Decode an export back (with this Python's libraries, not the bundle's): (frames, (width, height))."""
    if fmt == "webm":
        import imageio_ffmpeg

        reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
        width, height = next(reader)["size"]
        return sum(1 for _ in reader), (width, height)
    from PIL import Image, ImageSequence

    if fmt == "gif":
        with Image.open(path) as gif:
            frames = [frame.convert("RGB").size for frame in ImageSequence.Iterator(gif)]
        return len(frames), frames[0]
    sizes = []
    for png in sorted(path.glob("*.png")):
        with Image.open(png) as image:
            image.load()  # every frame decodes, not only its header
            sizes.append(image.size)
    return len(sizes), sizes[0] if sizes else (0, 0)


def export_all(exe: Path, clip: Path, work: Path, frames: int, timeout: float = 300) -> list[str]:
    """`export` of the clip to each format; each output must decode back to every frame at the clip's size."""
    problems = []
    want_size = (TINY["width"], TINY["height"])
    for fmt in EXPORT_FORMATS:
        output = work / (f"export-{fmt}" if fmt == "png" else f"export.{fmt}")
        proc = run([str(exe), "export", str(clip), "--format", fmt, "--output", str(output)], timeout)
        if proc.returncode != 0:
            problems.append(_fail(f"export --format {fmt}", proc))
            continue
        try:
            count, size = decoded_frame_count(output, fmt)
        except Exception as exc:  # whatever the decoder raises: the export is unreadable
            problems.append(f"export --format {fmt}: {output} does not decode: {exc!r}")
            continue
        if (count, size) != (frames, want_size):
            problems.append(
                f"export --format {fmt}: {output} decodes to {count} frames of {size}, not {frames} of {want_size}"
            )
    return problems


def compile_refused(exe: Path, model: Path, work: Path, timeout: float = 600) -> str | None:
    """The bundle runs eager (no triton, no C++ headers): `--compile` must end with exit 2 and one clear line,
    not a traceback from inside inductor."""
    output = work / "compiled.mp4"
    cmd = [str(exe), "generate", "--model", str(model), "--prompt", "compile", "--width", "32", "--height", "32",
           "--frames", "1", "--steps", "1", "--device", "cpu", "--compile", "--output", str(output)]  # fmt: skip
    proc = run(cmd, timeout)
    if proc.returncode != 2 or "torch.compile is not available" not in proc.stderr or output.exists():
        return _fail("generate --compile (expected exit 2, refused)", proc)
    return None


def download_from_local_hub(exe: Path, model: Path, work: Path, timeout: float = 300) -> str | None:
    """`download` against tests/hub_server.py on 127.0.0.1 serving `model`: the folder arrives whole and equal."""
    sys.path.insert(0, str(ROOT))
    try:
        from tests.hub_server import serve_model
    except ImportError:
        print("  (download check skipped: tests/hub_server.py is not beside this script)")
        return None
    target = work / "downloaded-model"
    env = bundle_env()
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env.pop(name, None)
        env.pop(name.lower(), None)
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["HF_HOME"] = str(work / "hf-home")  # no token or cache of the machine's user
    with serve_model(model) as hub:
        env["HF_ENDPOINT"] = hub.url
        proc = run([str(exe), "download", "--to", str(target)], timeout, env=env)
    if proc.returncode != 0:
        return _fail("download", proc)
    expected = {p.relative_to(model).as_posix(): p for p in model.rglob("*") if p.is_file()}
    got = {p.relative_to(target).as_posix(): p for p in target.rglob("*") if p.is_file()}
    # The app adds one file of its own: where the model came from (core/model/identity.py's SOURCE_MARKER).
    if got.pop(SOURCE_MARKER, None) is None:
        return f"download: {target} has no {SOURCE_MARKER} naming the repo it came from"
    if set(got) != set(expected):
        return f"download: {target} holds {sorted(set(got) ^ set(expected))} unlike the served model"
    different = [name for name, p in expected.items() if p.read_bytes() != got[name].read_bytes()]
    return f"download: {different} differ from the served files" if different else None


def verify(bundle: Path, model: Path | None = None, skip_smoke: bool = False, work: Path | None = None) -> list[str]:
    cfg = load_build_config()
    exe = bundle / cfg.exe_name()
    problems = check_layout(bundle)
    if sys.platform.startswith("linux"):
        problems += check_links(bundle)
    if problems or not exe.exists():
        return problems
    own_work = work is None
    work = Path(tempfile.mkdtemp(prefix="contentv-verify-")) if work is None else work
    try:
        checks = [lambda: help_lists_commands(exe)]
        if not skip_smoke:
            checks += [lambda: smoke(exe, work / "smoke-data"), lambda: smoke_translated(exe, work / "smoke-zh")]
        problems += [failure for check in checks if (failure := check())]
        made_here = model is None
        if model is None:
            model = work / "tiny-model"
            failure = make_demo_model(exe, model)
            if failure:
                return [*problems, failure]
        clip = work / "tiny.mp4"
        failure = generate(exe, model, clip)
        if failure:
            return [*problems, failure]
        problems += export_all(exe, clip, work, TINY["frames"])
        failure = compile_refused(exe, model, work)
        if failure:
            problems.append(failure)
        if made_here:  # the demo model is small enough to download in seconds; a real one is not
            failure = download_from_local_hub(exe, model, work)
            if failure:
                problems.append(failure)
    finally:
        if own_work:
            shutil.rmtree(work, ignore_errors=True)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="packaging/verify_bundle.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "ContentVStudio")
    parser.add_argument("--model", type=Path, default=None, help="default: a demo model made by the bundle")
    parser.add_argument("--skip-smoke", action="store_true")
    args = parser.parse_args(argv)
    problems = verify(args.bundle.resolve(), args.model, args.skip_smoke)
    for problem in problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    if not problems:
        print(f"OK: {args.bundle} passed layout, links, --help, --smoke (en, zh_CN), generate, export, download")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
