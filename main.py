"""ContentV Studio's entry point.

python main.py                     open the window (options: --model DIR, --data-dir DIR, --smoke, --version)
python main.py --help              the window's options and the headless commands
python main.py generate ...        headless text-to-video (see `python main.py generate --help`)
python main.py generate --from CLIP --output NEW.mp4 [options]   a clip again, options given here override its own
python main.py info CLIP [--json]  the parameters a clip (mp4, WebM, GIF, PNG frames, sidecar) was made with
python main.py make-demo-model DIR write a tiny random-weight model to check an install
python main.py export CLIP.mp4 --format webm|gif|png [--output PATH]   a clip as WebM, GIF or PNG frames
python main.py download --to DIR [--repo R] [--revision R]            get ContentV-8B (resumable)
python main.py resume [--list] [JOB]   continue interrupted jobs from their last snapshot
python main.py upscale CLIP --model FILE|default [--scale 2] --output NEW.mp4       upscale a clip
python main.py interpolate CLIP --factor 2|--fps 48 [--method rife|ffmpeg] --output NEW.mp4   more frames per second
"""

from __future__ import annotations

import sys

CLI_COMMANDS = {"generate", "info", "make-demo-model", "export", "download", "resume", "upscale", "interpolate"}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in CLI_COMMANDS:
        from core.cli import main as cli_main

        return cli_main(argv)
    from gui.app import main as gui_main

    return gui_main(argv)


if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()  # a frozen (PyInstaller) build re-enters here in worker processes
    sys.exit(main())
