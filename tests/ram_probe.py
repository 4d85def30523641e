"""Run one job in a fresh process and print its host-RAM figures as JSON (used by tests/test_loading_memory.py).

Everything the job imports is imported first, then the kernel's high-water mark is reset (/proc/self/clear_refs),
so `extra_peak_bytes` is what loading and running the job added, nothing else.

    python -m tests.ram_probe MODEL_DIR OUT.mp4 DTYPE QUANTIZATION
"""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def main(model: str, output: str, dtype: str, quantization: str) -> None:
    import torch  # noqa: F401 - imported before the baseline on purpose
    from diffusers import AutoencoderKLWan  # noqa: F401
    from transformers import CLIPTextModelWithProjection, T5EncoderModel  # noqa: F401

    import core.engine.memory
    import core.engine.pipeline
    import core.model.weights_loader  # noqa: F401
    from core.engine.quantize import parameter_bytes
    from core.engine.runner import Engine
    from core.job.request import GenerationRequest, MemoryOptions, OutputOptions, Quantization

    engine = Engine()
    request = GenerationRequest(
        prompt="a red fox in the snow",
        width=64,
        height=48,
        num_frames=5,
        steps=1,
        seed=1,
        max_sequence_length=32,  # short prompts: the figures are about weights, and the test stays fast
        memory=MemoryOptions(device="cpu", dtype=dtype, quantization=Quantization(quantization)),
    )
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
    before = _status_kib("VmRSS") * 1024
    engine.generate(model, request, OutputOptions(Path(output), write_sidecar=False))
    peak = _status_kib("VmHWM") * 1024
    pipe = engine.pipeline
    names = ("transformer", "text_encoder", "text_encoder_2", "text_encoder_3", "vae")
    weights = sum(parameter_bytes(getattr(pipe, n)) + sum(b.nbytes for b in getattr(pipe, n).buffers()) for n in names)
    print(json.dumps({"extra_peak_bytes": peak - before, "weight_bytes": weights}))


if __name__ == "__main__":
    main(*sys.argv[1:5])
