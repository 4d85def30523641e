"""docs/screenshots/upscale-before-after.png: one frame of a clip before and after `main.py upscale`, side by side.

    .venv/bin/python scripts/upscale_before_after.py [--model FILE|default] [--output PNG]

Without --model it makes everything it needs offline: a clip from the tiny random-weight demo model (coloured
noise) and a random-weight Real-ESRGAN compact net, so the picture shows the mechanics (the size doubles, the frame
is the clip's), not a real model's quality; with --model (a real Real-ESRGAN file, or `default`, downloaded once)
it shows the real thing. The "before" half is the source frame enlarged pixel for pixel to the same size.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, metavar="FILE|default")
    parser.add_argument("--output", default=str(ROOT / "docs" / "screenshots" / "upscale-before-after.png"))
    args = parser.parse_args()

    import torch
    from PIL import Image, ImageDraw

    from core.cli import main as cli_main
    from core.finish.networks import import_cccv
    from core.model.demo import make_demo_model
    from core.output.video import read_mp4_frames

    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        model_dir = make_demo_model(folder / "demo")
        clip = folder / "clip.mp4"
        common = ["--data-dir", str(folder / "data")]
        status = cli_main(
            ["generate", "--model", str(model_dir), "--prompt", "a lighthouse at dusk", "--width", "192",
             "--height", "112", "--frames", "5", "--steps", "4", "--seed", "11", "--output", str(clip), *common]
        )  # fmt: skip
        if status:
            return status
        weights = args.model
        if weights is None:
            torch.manual_seed(0)
            net = import_cccv().SRVGGNetCompact(num_feat=16, num_conv=4, scale=2)
            weights = str(folder / "compact-x2.pth")
            torch.save({"params": net.state_dict()}, weights)
        big = folder / "big.mp4"
        status = cli_main(["upscale", str(clip), "--model", weights, "--scale", "2", "--output", str(big), *common])
        if status:
            return status
        before, after = read_mp4_frames(clip)[2], read_mp4_frames(big)[2]

    height, width = after.shape[:2]
    left = Image.fromarray(before).resize((width, height), Image.Resampling.NEAREST)
    gap, caption = 12, 28
    sheet = Image.new("RGB", (2 * width + gap, height + caption), (32, 32, 36))
    sheet.paste(left, (0, caption))
    sheet.paste(Image.fromarray(after), (width + gap, caption))
    draw = ImageDraw.Draw(sheet)
    draw.text((6, 8), f"before: {before.shape[1]}x{before.shape[0]} (shown enlarged)", fill=(230, 230, 230))
    draw.text((width + gap + 6, 8), f"after: upscale 2x -> {width}x{height}", fill=(230, 230, 230))
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(output)
    print(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
