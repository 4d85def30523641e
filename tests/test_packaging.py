"""Packaging (issue 4): the PyInstaller spec, the Inno Setup script, the release workflow and the Linux files stay
consistent with the bundle's layout (fast tests), and the Linux bundle really builds, opens its window offscreen
and generates a clip (the `slow` test, run by .ci/run; `pytest -m "not slow"` skips it).

CONTENTV_REUSE_DIST=1 lets the slow test reuse dist/ when packaging/build.py --if-stale finds it up to date.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


build = _load("contentv_build", PACKAGING / "build.py")
verify = _load("contentv_verify_bundle", PACKAGING / "verify_bundle.py")

SPEC_TEXT = build.SPEC.read_text(encoding="utf-8")
ISS_TEXT = build.ISS.read_text(encoding="utf-8")
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"
WORKFLOW_TEXT = WORKFLOW.read_text(encoding="utf-8")
DESKTOP = build.LINUX_DIR / f"{build.DESKTOP_ID}.desktop"


def _iss_defines() -> dict[str, str]:
    return dict(re.findall(r'^\s*#define\s+(\w+)\s+"([^"]*)"', ISS_TEXT, re.M))


def _iss_section(name: str) -> list[str]:
    match = re.search(rf"^\[{name}\]\s*$(.*?)(?=^\[|\Z)", ISS_TEXT, re.M | re.S)
    assert match, f"[{name}] is missing from {build.ISS.name}"
    return [ln.strip() for ln in match.group(1).splitlines() if ln.strip() and not ln.strip().startswith(";")]


def _desktop_keys(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))


# ---- the spec and build.py ---------------------------------------------------------------------------------------
def test_the_bundle_check_knows_the_file_a_download_adds():
    """verify_bundle.py runs without the app's modules; its copy of the source marker's name must be the app's."""
    from core.model.identity import SOURCE_MARKER

    assert verify.SOURCE_MARKER == SOURCE_MARKER


def test_packaging_folder_does_not_shadow_the_packaging_library():
    # packaging/ is a plain folder; an __init__.py would make `import packaging` (used by transformers, diffusers
    # and PyInstaller) find this folder instead of the library when run from the repo root.
    assert not (PACKAGING / "__init__.py").exists()
    import packaging.version

    assert Path(packaging.version.__file__).resolve().parent.parent != ROOT


def test_spec_builds_one_folder_bundle_named_after_the_app():
    assert build.APP_NAME == "ContentVStudio"
    assert SPEC_TEXT.count("name=cfg.APP_NAME") == 2  # the EXE and the COLLECT (one-folder) step
    assert "COLLECT(" in SPEC_TEXT and "exclude_binaries=True" in SPEC_TEXT  # one-folder, not one-file
    assert "contents_directory=cfg.CONTENTS_DIR" in SPEC_TEXT and build.CONTENTS_DIR == "_internal"
    assert "console=not windows" in SPEC_TEXT  # windowed on Windows, console elsewhere
    assert '(str(ROOT / "resources"), "resources")' in SPEC_TEXT  # sys._MEIPASS/resources
    assert 'runtime_hooks=[str(HERE / "runtime_hook.py")]' in SPEC_TEXT and (PACKAGING / "runtime_hook.py").is_file()
    assert 'hookspath=[str(HERE / "hooks")]' in SPEC_TEXT and (PACKAGING / "hooks" / "hook-diffusers.py").is_file()
    assert 'collect_submodules("core")' in SPEC_TEXT and 'collect_submodules("gui")' in SPEC_TEXT


def test_exe_and_package_names():
    flavor_free = build.package_basename("1.2.3", "cuda")
    cpu = build.package_basename("1.2.3", "cpu")
    assert cpu == flavor_free + "-cpu"
    assert flavor_free.startswith("ContentVStudio-1.2.3-")
    assert build.exe_name() == ("ContentVStudio.exe" if sys.platform == "win32" else "ContentVStudio")
    assert build.version() == __import__("core").__version__


def test_excluded_modules_are_not_used_by_the_app():
    excluded = set(build.EXCLUDES)
    used: set[str] = set()
    for source in [ROOT / "main.py", *ROOT.glob("core/**/*.py"), *ROOT.glob("gui/**/*.py")]:
        text = source.read_text(encoding="utf-8")
        used |= {f"PySide6.{m}" for m in re.findall(r"\bPySide6\.(Qt\w+)", text)}
        used |= {
            f"PySide6.{m.strip()}"
            for group in re.findall(r"from PySide6 import ([\w, ]+)", text)
            for m in group.split(",")
        }
        used |= set(re.findall(r"^\s*(?:import|from)\s+([\w.]+)", text, re.M))
    clash = {u for u in used for x in excluded if u == x or u.startswith(x + ".")}
    assert not clash, f"the app imports excluded modules: {sorted(clash)}"
    for needed in ("PySide6.QtMultimedia", "PySide6.QtMultimediaWidgets", "PySide6.QtSvg"):
        assert needed in build.HIDDEN_IMPORTS
    assert {"PySide6.QtWebEngineCore", "PySide6.Qt3DCore", "PySide6.QtQuick3D", "PySide6.QtDesigner"} <= excluded


def test_prune_rules():
    reason = build.prune_reason
    assert reason("torch/test/c10_Array_test", "x", "DATA")
    assert reason("torch/bin/protoc", "x", "DATA")
    assert reason("torch/bin/torch_shm_manager", "x", "DATA") is None
    assert reason("torch/lib/libtorch_cpu.so", "x", "BINARY") is None
    assert reason("PySide6/Qt/lib/libQt6Core.so.6", "x", "BINARY") is None
    assert reason("PySide6/Qt/plugins/multimedia/libffmpegmediaplugin.so", "x", "BINARY") is None
    assert reason("PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so", "x", "BINARY")
    assert reason("libQt6VirtualKeyboard.so.6", "PySide6/Qt/lib/libQt6VirtualKeyboard.so.6", "SYMLINK")  # link+file
    assert reason("PySide6/Qt/lib/libQt6Quick.so.6", "x", "BINARY") is None  # the FFmpeg media plugin needs it
    assert reason("imageio_ffmpeg/binaries/ffmpeg-linux-x86_64-v9.0.2", "x", "DATA") is None
    host = reason("libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "BINARY")
    assert (host is not None) == sys.platform.startswith("linux")
    assert reason("libssl.so.3", "/usr/lib/libssl.so.3", "BINARY") is None  # Python's own: bundled


def test_elf_reader_reads_needed_libraries():
    if not sys.platform.startswith("linux"):
        pytest.skip("ELF files are Linux's")
    needed = verify.elf_needed(Path(sys.executable).resolve())
    assert needed is not None and any(n.startswith("libc.so") for n in needed)
    assert verify.elf_needed(ROOT / "main.py") is None


def test_verify_uses_a_valid_tiny_generate_command():
    from core.cli import build_parser

    args = build_parser().parse_args(
        [
            "generate",
            "--model",
            "m",
            "--prompt",
            "p",
            "--output",
            "o.mp4",
            "--device",
            "cpu",
            *[f"--{k}={v}" for k, v in verify.TINY.items()],
        ]
    )
    assert (args.width, args.height, args.frames, args.steps) == (80, 48, 9, 4)


def _requirement_names(path: Path) -> list[str]:
    names = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.append(re.split(r"[=<>!~\[; ]", line, maxsplit=1)[0])
    return names


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_runtime_requirement_carries_its_metadata():
    # diffusers, transformers and huggingface_hub ask importlib.metadata what is installed; a requirement whose
    # metadata stays behind looks uninstalled in the frozen app.
    carried = {_canonical(d) for d in build.METADATA}
    missing = [n for n in _requirement_names(ROOT / "requirements.txt") if _canonical(n) not in carried]
    assert not missing, f"add to build.METADATA: {missing}"


def test_huggingface_hub_dependencies_carry_their_metadata():
    from importlib.metadata import PackageNotFoundError, requires, version

    from packaging.requirements import Requirement

    carried = {_canonical(d) for d in build.METADATA}
    excluded = {_canonical(x) for x in build.EXCLUDES}
    for dist in ("huggingface_hub", "httpx2"):
        for line in requires(dist) or []:
            requirement = Requirement(line)
            if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
                continue  # an extra, or another platform's
            try:
                version(requirement.name)
            except PackageNotFoundError:
                continue  # not installed here: nothing to carry
            assert _canonical(requirement.name) in carried | excluded, (
                f"{dist} needs {requirement.name}: add it to build.METADATA"
            )


def test_new_features_are_in_the_bundle_lists():
    hidden = set(build.HIDDEN_IMPORTS)
    assert {"huggingface_hub.hf_api", "huggingface_hub.file_download", "diffusers.hooks"} <= hidden
    assert {"PIL.GifImagePlugin", "PIL.PngImagePlugin"} <= hidden  # export writes GIF and PNG through Pillow
    assert "cccv" in hidden and "cccv" in build.METADATA  # upscale / interpolate (core/finish)
    hook = (PACKAGING / "hooks" / "hook-diffusers.py").read_text(encoding="utf-8")
    assert '"hooks"' in hook  # every diffusers.hooks submodule: step caching and group offloading
    # The bundle runs eager: triton (inductor's GPU code generation) and hf_xet (unused by core/model/download.py) stay
    # out, and the frozen app refuses --compile instead of failing inside the first step.
    assert {"triton", "hf_xet"} <= set(build.EXCLUDES)
    for module in hidden:
        assert importlib.util.find_spec(module) is not None, f"{module} is not importable here"


def test_frozen_app_refuses_compile_with_a_clear_message(monkeypatch):
    from torch import nn

    from core.engine.compile import check_compile_available, set_block_compilation
    from core.errors import DeviceUnavailableError

    class Block(nn.Module):
        pass

    class Transformer(nn.Module):
        _repeated_blocks = ("Block",)

        def __init__(self) -> None:
            super().__init__()
            self.block = Block()

    check_compile_available()  # from source: available
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    with pytest.raises(DeviceUnavailableError, match=r"torch\.compile is not available in the standalone app"):
        check_compile_available()
    with pytest.raises(DeviceUnavailableError):
        set_block_compilation(Transformer(), True)
    assert set_block_compilation(Transformer(), False) is False  # turning it off never needs a compiler


def test_verify_commands_match_the_cli():
    from core.cli import build_parser

    parser = build_parser()
    help_text = parser.format_help()
    assert all(command in help_text for command in verify.COMMANDS)
    for fmt in verify.EXPORT_FORMATS:
        args = parser.parse_args(["export", "clip.mp4", "--format", fmt, "--output", "out"])
        assert args.format == fmt
    assert parser.parse_args(["download", "--to", "d"]).to == "d"


def test_decoded_frame_count_reads_every_frame_of_each_export_format(tmp_path):
    import imageio_ffmpeg
    import numpy as np
    from PIL import Image

    w, h, n = verify.TINY["width"], verify.TINY["height"], 5
    frames = [np.full((h, w, 3), 40 * i, dtype=np.uint8) for i in range(n)]
    webm = tmp_path / "clip.webm"
    writer = imageio_ffmpeg.write_frames(str(webm), (w, h), fps=24, codec="libvpx-vp9", macro_block_size=1)
    writer.send(None)
    for frame in frames:
        writer.send(frame)
    writer.close()
    assert verify.decoded_frame_count(webm, "webm") == (n, (w, h))
    images = [Image.fromarray(f) for f in frames]
    images[0].save(tmp_path / "clip.gif", save_all=True, append_images=images[1:], duration=42)
    assert verify.decoded_frame_count(tmp_path / "clip.gif", "gif") == (n, (w, h))
    (tmp_path / "pngs").mkdir()
    for i, image in enumerate(images):
        image.save(tmp_path / "pngs" / f"frame_{i:05d}.png")
    assert verify.decoded_frame_count(tmp_path / "pngs", "png") == (n, (w, h))


def test_ci_script_runs_the_readme_command_and_handles_pytest_exit_codes():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert os.access(ROOT / ".ci" / "run", os.X_OK)
    assert './test.sh "$@"' in ci and "ruff check ." in ci
    assert '-m "not slow"' in ci and "-m slow" in ci
    assert "status -eq 5" in ci  # "no tests collected" is told apart from a failure
    assert "set -e" not in ci.replace("set -euo", "")  # statuses are read, not lost to errexit


# ---- Linux files -------------------------------------------------------------------------------------------------
def test_desktop_entry_matches_the_bundle():
    keys = _desktop_keys(DESKTOP.read_text(encoding="utf-8"))
    assert keys["Type"] == "Application" and keys["Terminal"] == "false"
    assert keys["Exec"].split()[0] == build.APP_NAME  # install.sh makes it absolute; in the AppImage it is on PATH
    assert keys["Icon"] == build.DESKTOP_ID
    assert (ROOT / "resources" / "icons" / f"{build.DESKTOP_ID}.png").is_file()
    assert (ROOT / "resources" / "icons" / f"{build.DESKTOP_ID}.svg").is_file()
    appimage_entry = _desktop_keys(build.desktop_entry(build.APP_NAME))
    assert appimage_entry["Exec"] == keys["Exec"]


def test_apprun_and_install_script_point_at_the_executable():
    apprun = (build.LINUX_DIR / "AppRun").read_text(encoding="utf-8")
    assert f'exec "$HERE/usr/lib/{build.APP_NAME}/{build.APP_NAME}" "$@"' in apprun
    assert os.access(build.LINUX_DIR / "AppRun", os.X_OK) and os.access(build.LINUX_DIR / "install.sh", os.X_OK)
    install = (build.LINUX_DIR / "install.sh").read_text(encoding="utf-8")
    assert f'"$HERE/{build.APP_NAME}"' in install and f"ID={build.DESKTOP_ID}" in install


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a POSIX shell script")
def test_install_script_writes_an_absolute_menu_entry(tmp_path):
    app = tmp_path / "my apps" / build.APP_NAME
    app.mkdir(parents=True)
    for name in ("install.sh", f"{build.DESKTOP_ID}.desktop"):
        (app / name).write_bytes((build.LINUX_DIR / name).read_bytes())
    (app / "install.sh").chmod(0o755)
    (app / build.APP_NAME).write_text("#!/bin/sh\n")
    (app / build.APP_NAME).chmod(0o755)
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "share"))
    subprocess.run(["sh", str(app / "install.sh")], check=True, env=env, capture_output=True)
    entry = _desktop_keys((tmp_path / "share" / "applications" / f"{build.DESKTOP_ID}.desktop").read_text())
    assert entry["Exec"] == f'"{app / build.APP_NAME}"'
    subprocess.run(["sh", str(app / "install.sh"), "--uninstall"], check=True, env=env, capture_output=True)
    assert not (tmp_path / "share" / "applications" / f"{build.DESKTOP_ID}.desktop").exists()
    assert (app / build.APP_NAME).exists()


# ---- the Inno Setup script ---------------------------------------------------------------------------------------
def test_inno_setup_installs_the_bundle_per_user():
    defines = _iss_defines()
    assert defines["AppExeName"] == f"{build.APP_NAME}.exe"
    assert defines["AppName"] == build.DISPLAY_NAME
    bundle_default = re.search(r'#define BundleDir [^\n]*"([^"\n]+)"', ISS_TEXT).group(1)
    assert bundle_default.replace("\\", "/").endswith(f"dist/{build.APP_NAME}")
    setup = dict(line.split("=", 1) for line in _iss_section("Setup") if "=" in line and not line.startswith("#"))
    assert setup["PrivilegesRequired"] == "lowest"
    assert setup["DefaultDirName"] == "{autopf}\\{#AppName}"
    assert setup["DiskSpanning"] == "yes" and setup["DiskSliceSize"] == "max"
    assert setup["ArchitecturesInstallIn64BitMode"] == "x64compatible"
    files = _iss_section("Files")
    assert files == [
        'Source: "{#BundleDir}\\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs'
    ]
    icons = _iss_section("Icons")
    assert any(i.startswith('Name: "{autoprograms}\\{#AppName}"; Filename: "{app}\\{#AppExeName}"') for i in icons)
    desktop = [i for i in icons if "{autodesktop}" in i]
    assert desktop and all("Tasks: desktopicon" in i for i in desktop)
    assert any("desktopicon" in t and "unchecked" in t for t in _iss_section("Tasks"))
    # Uninstall removes the program only: nothing outside {app}, nothing naming the user's data folder.
    for line in _iss_section("UninstallDelete") + _iss_section("InstallDelete"):
        assert 'Name: "{app}\\' in line, line
        assert "localappdata" not in line.lower() and "userappdata" not in line.lower()
    assert f"{build.CONTENTS_DIR}" in " ".join(_iss_section("InstallDelete"))


def test_build_passes_the_defines_the_inno_script_reads():
    passed = set(re.findall(r"/D(\w+)=", build.Path(build.__file__).read_text(encoding="utf-8")))
    read = set(re.findall(r"#ifn?def\s+(\w+)", ISS_TEXT))
    assert (
        passed
        == read
        == {
            "AppVersion",
            "BundleDir",
            "OutputDir",
            "OutputBaseName",
            "Flavor",
            "SetupIcon",
            "SpanDisks",
        }
    )
    # build.py's installer name and the script's default agree.
    assert '"ContentVStudio-" + AppVersion + "-windows-x86_64-cpu-setup"' in ISS_TEXT
    assert "{package_basename(ver, flavor)}-setup" in build.Path(build.__file__).read_text(encoding="utf-8")


# ---- the release workflow ----------------------------------------------------------------------------------------
def _workflow() -> dict:
    yaml = pytest.importorskip("yaml")
    return yaml.safe_load(WORKFLOW_TEXT)


def test_workflow_builds_and_checks_on_windows_and_linux():
    flow = _workflow()
    triggers = flow.get("on") or flow.get(True)  # YAML 1.1 reads a bare `on` as True
    assert triggers["push"]["tags"] == ["v*"]
    job = flow["jobs"]["build"]
    matrix = job["strategy"]["matrix"]
    assert any(o.startswith("ubuntu") for o in matrix["os"]) and any(o.startswith("windows") for o in matrix["os"])
    assert set(matrix["flavor"]) == {"cuda", "cpu"}
    runs = [step.get("run", "") for step in job["steps"]]
    assert any("-r requirements.txt -r requirements-build.txt" in r for r in runs)
    assert any(r.strip() == "python packaging/build.py" for r in runs)
    # verify_bundle.py runs the bundle's --smoke and a tiny generate; the unpacked archive and the installed copy
    # are run again.
    assert any("python packaging/verify_bundle.py --bundle dist/ContentVStudio" in r for r in runs)
    assert any('"$app/ContentVStudio" --smoke' in r and '"$app/ContentVStudio" generate' in r for r in runs)
    assert any('"$dir\\ContentVStudio.exe"' in r and "'--smoke'" in r and "unins000.exe" in r for r in runs)
    assert any("gh release upload" in r for r in runs)


def test_workflow_uploads_what_build_py_names():
    flow = _workflow()
    steps = flow["jobs"]["build"]["steps"]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    paths = upload["with"]["path"].split()
    assert "dist/*.tar.gz" in paths and "dist/*.AppImage" in paths
    assert "dist/*-setup*.exe" in paths and "dist/*-setup*.bin" in paths  # Inno's disk-spanning slices
    assert "ContentVStudio-*-setup.exe" in WORKFLOW_TEXT
    assert "CUDA_TORCH_INDEX" in WORKFLOW_TEXT and "CPU_TORCH_INDEX" in WORKFLOW_TEXT


# ---- the real thing ----------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="CI builds the Linux bundle")
def test_linux_bundle_builds_starts_and_generates(tmp_path):
    if importlib.util.find_spec("PyInstaller") is None:
        pytest.fail("PyInstaller is not installed: pip install -r requirements-build.txt")
    cmd = [sys.executable, str(PACKAGING / "build.py")]
    if os.environ.get("CONTENTV_REUSE_DIST") == "1":
        cmd.append("--if-stale")
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    print(proc.stdout)
    assert proc.returncode == 0, f"build failed:\n{proc.stdout}\n{proc.stderr}"
    info = json.loads((ROOT / "dist" / build.BUILD_INFO).read_text(encoding="utf-8"))
    bundle = Path(info["bundle"])

    import torch

    assert info["flavor"] == ("cpu" if torch.version.cuda is None else "cuda")
    archive = Path(info["archive"])
    assert archive.name == f"{build.package_basename(build.version(), info['flavor'])}.tar.gz"
    with tarfile.open(archive) as tar:
        members = {m.name: m for m in tar.getmembers()}
    top = build.APP_NAME
    for name in (
        f"{top}/{top}",
        f"{top}/{build.DESKTOP_ID}.desktop",
        f"{top}/{build.DESKTOP_ID}.png",
        f"{top}/install.sh",
        f"{top}/_internal/resources/icons/{build.DESKTOP_ID}.svg",
    ):
        assert name in members, f"{name} is not in {archive.name}"
    assert members[f"{top}/{top}"].mode & 0o111 and members[f"{top}/install.sh"].mode & 0o111

    appdir = Path(info["appdir"])
    assert os.access(appdir / "AppRun", os.X_OK)
    assert (appdir / f"{build.DESKTOP_ID}.desktop").is_file() and (appdir / ".DirIcon").exists()
    assert os.access(appdir / "usr" / "lib" / top / top, os.X_OK)

    problems = verify.verify(bundle, work=tmp_path)
    assert not problems, "\n\n".join(problems)

    # With no standard streams at all (a windowed app started from a desktop), `generate` still works and its
    # output lands in <data folder>/logs/console.log (packaging/runtime_hook.py).
    model, clip = tmp_path / "tiny-model", tmp_path / "no-streams.mp4"
    env = dict(verify.bundle_env(), XDG_DATA_HOME=str(tmp_path / "xdg"))
    cmd = [
        info["executable"],
        "generate",
        "--model",
        str(model),
        "--prompt",
        "streams",
        "--width",
        "80",
        "--height",
        "48",
        "--frames",
        "5",
        "--steps",
        "2",
        "--device",
        "cpu",
        "--output",
        str(clip),
    ]
    proc = subprocess.run(
        cmd, env=env, stdin=subprocess.DEVNULL, timeout=600, check=False, preexec_fn=lambda: (os.close(1), os.close(2))
    )
    assert proc.returncode == 0 and clip.is_file()
    log = (tmp_path / "xdg" / "ContentV Studio" / "logs" / "console.log").read_text(encoding="utf-8")
    assert "denoising" in log and str(clip) in log
