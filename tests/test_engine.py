"""The engine's job API: progress per stage and step, cancellation, a pipeline kept across jobs, caches."""

from __future__ import annotations

import dataclasses
import threading
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
import torch

from core.engine.runner import Engine
from core.errors import InvalidRequestError, JobCancelled
from core.job.progress import CancelToken, ProgressSink, Stage, StepProgress
from core.job.request import GenerationRequest, MemoryOptions, OutputOptions, Quantization
from core.output.video import read_mp4_frames

CPU = MemoryOptions(device="cpu")


def tiny_request(**overrides) -> GenerationRequest:
    base = GenerationRequest(
        prompt="a lighthouse at dusk", width=80, height=48, num_frames=9, steps=3, seed=11, memory=CPU
    )
    return dataclasses.replace(base, **overrides)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine()


def test_stages_and_steps_are_reported_in_order(engine, tiny_model, tmp_path):
    stages: list[Stage] = []
    steps: list[StepProgress] = []
    result = engine.generate(
        tiny_model, tiny_request(steps=4), OutputOptions(tmp_path / "a.mp4"), ProgressSink(stages.append, steps.append)
    )
    assert stages == [Stage.LOADING, Stage.ENCODING, Stage.DENOISING, Stage.DECODING, Stage.SAVING]
    assert [s.step for s in steps] == [1, 2, 3, 4]
    assert all(s.total == 4 for s in steps)
    assert steps[-1].eta_s == 0 and steps[-1].fraction == 1.0
    assert all(b.elapsed_s >= a.elapsed_s for a, b in pairwise(steps))
    assert result.timings.total_s > 0 and result.num_frames == 9
    assert result.peak_vram_bytes is None and result.device == "cpu"


def test_pipeline_is_loaded_once_and_reloaded_only_when_needed(tiny_model, tmp_path, monkeypatch):
    import core.engine.runner as engine_module

    loads: list[str] = []
    real = engine_module.load_components

    def counting(root, dtype_name, prepare=None, **options):
        loads.append(dtype_name)
        return real(root, dtype_name, prepare, **options)

    monkeypatch.setattr(engine_module, "load_components", counting)
    engine = Engine()
    engine.generate(tiny_model, tiny_request(), OutputOptions(tmp_path / "1.mp4"))
    pipe = engine.pipeline
    # Switches that need no reload: seed, prompt, size, VAE/attention options.
    changed = tiny_request(
        seed=12, prompt="other", memory=dataclasses.replace(CPU, vae_slicing=True, attention_slicing=True)
    )
    engine.generate(tiny_model, changed, OutputOptions(tmp_path / "2.mp4"))
    assert len(loads) == 1 and engine.pipeline is pipe
    # Quantization is fixed at load time.
    engine.generate(
        tiny_model,
        tiny_request(memory=dataclasses.replace(CPU, quantization=Quantization.INT8)),
        OutputOptions(tmp_path / "3.mp4"),
    )
    assert len(loads) == 2 and engine.pipeline is not pipe


def test_cancel_stops_within_one_step_and_writes_nothing(engine, tiny_model, tmp_path):
    token = CancelToken()
    seen: list[int] = []

    def on_step(p: StepProgress) -> None:
        seen.append(p.step)
        if p.step == 2:
            token.cancel()

    out = tmp_path / "never.mp4"
    with pytest.raises(JobCancelled):
        engine.generate(
            tiny_model,
            tiny_request(steps=10),
            OutputOptions(out, tmp_path / "frames"),
            ProgressSink(None, on_step),
            token,
        )
    assert seen == [1, 2]
    assert list(tmp_path.iterdir()) == []


def test_cancel_from_another_thread(engine, tiny_model, tmp_path):
    token = CancelToken()
    started = threading.Event()
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            engine.generate(
                tiny_model,
                tiny_request(steps=200),
                OutputOptions(tmp_path / "x.mp4"),
                ProgressSink(None, lambda p: started.set()),
                token,
            )
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    assert started.wait(60)
    token.cancel()
    thread.join(60)
    assert not thread.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], JobCancelled)
    assert list(tmp_path.iterdir()) == []


def test_batched_guidance_matches_sequential(engine, tiny_model):
    engine.load(tiny_model, CPU)
    pipe = engine.pipeline
    device = torch.device("cpu")
    embeds = pipe.encode_prompt("a fox", "blurry", True, 256, device, torch.float32)
    noise = pipe.initial_noise((1, 16, 3, 6, 10), 5, torch.float32, device)
    one = pipe.denoise(embeds, noise.clone(), 3, 6.0, device, batch_cfg=False)
    two = pipe.denoise(embeds, noise.clone(), 3, 6.0, device, batch_cfg=True)
    torch.testing.assert_close(one, two, atol=1e-4, rtol=1e-4)


def test_position_embedding_is_cached_per_shape(engine, tiny_model):
    engine.load(tiny_model, CPU)
    embed = engine.pipeline.transformer.pos_embed
    a = embed.position_embedding(3, 6, 10, torch.device("cpu"), torch.float32)
    assert embed.position_embedding(3, 6, 10, torch.device("cpu"), torch.float32) is a
    b = embed.position_embedding(5, 6, 10, torch.device("cpu"), torch.float32)
    assert b.shape[1] == 5 * 3 * 5 and b is not a


def test_prompt_embeddings_are_reused_for_the_same_prompt(engine, tiny_model, tmp_path, monkeypatch):
    engine.generate(tiny_model, tiny_request(seed=1), OutputOptions(tmp_path / "a.mp4"))
    calls = []
    real = engine.pipeline.encode_prompt
    monkeypatch.setattr(engine.pipeline, "encode_prompt", lambda *a, **k: calls.append(1) or real(*a, **k))
    engine.generate(tiny_model, tiny_request(seed=2), OutputOptions(tmp_path / "b.mp4"))
    assert calls == []
    engine.generate(tiny_model, tiny_request(seed=2, prompt="something else"), OutputOptions(tmp_path / "c.mp4"))
    assert calls == [1]


def test_same_seed_same_clip_other_seed_other_clip(engine, tiny_model, tmp_path):
    a = engine.generate(tiny_model, tiny_request(seed=5), OutputOptions(tmp_path / "a.mp4"))
    b = engine.generate(tiny_model, tiny_request(seed=5), OutputOptions(tmp_path / "b.mp4"))
    c = engine.generate(tiny_model, tiny_request(seed=6), OutputOptions(tmp_path / "c.mp4"))
    fa, fb, fc = (read_mp4_frames(r.video_path) for r in (a, b, c))
    assert np.array_equal(fa, fb)
    assert not np.array_equal(fa, fc)


def test_no_guidance_skips_the_negative_branch(tiny_model, tmp_path, monkeypatch):
    """guidance <= 1: no negative prompt is encoded and the transformer sees one sample per step, never two."""
    from core.engine.pipeline import ContentVPipeline

    engine = Engine()  # its own, so no cached prompt embeddings from another test hide the encoding
    encoded_cfg: list[bool] = []
    batch_sizes: list[int] = []
    real_encode, real_predict = ContentVPipeline.encode_prompt, ContentVPipeline._predict

    def encode_spy(self, prompt, negative_prompt, do_cfg, *args, **kwargs):
        encoded_cfg.append(do_cfg)
        return real_encode(self, prompt, negative_prompt, do_cfg, *args, **kwargs)

    def predict_spy(self, latents, *args, **kwargs):
        batch_sizes.append(int(latents.shape[0]))
        return real_predict(self, latents, *args, **kwargs)

    monkeypatch.setattr(ContentVPipeline, "encode_prompt", encode_spy)
    monkeypatch.setattr(ContentVPipeline, "_predict", predict_spy)
    result = engine.generate(tiny_model, tiny_request(guidance=1.0, steps=2), OutputOptions(tmp_path / "g.mp4"))
    assert result.video_path.exists()
    assert encoded_cfg == [False]
    assert batch_sizes == [1, 1]  # one call per step, one sample: the negative branch never ran
    embeds = engine._prompt_cache[1] if engine._prompt_cache else None
    assert embeds is not None and embeds.negative_embeds is None


def test_invalid_request_is_refused_before_loading(tiny_model, tmp_path):
    engine = Engine()
    with pytest.raises(InvalidRequestError, match="multiple of 16"):
        engine.generate(tiny_model, tiny_request(width=81), OutputOptions(tmp_path / "a.mp4"))
    assert engine.pipeline is None
    assert list(tmp_path.iterdir()) == []


def test_bad_model_folder_is_refused_before_loading(tmp_path: Path):
    from core.errors import ModelFolderError

    engine = Engine()
    with pytest.raises(ModelFolderError, match="does not exist"):
        engine.generate(tmp_path / "missing", tiny_request(), OutputOptions(tmp_path / "a.mp4"))
    assert engine.pipeline is None


def test_cancel_during_loading_stops_between_components(tiny_model, tmp_path, monkeypatch):
    import core.engine.runner as engine_module

    token = CancelToken()
    loaded: list[str] = []
    real = engine_module.load_components

    def cancelling(root, dtype_name, prepare=None, **options):
        def spy(name, module):
            loaded.append(name)
            if name == "vae":
                token.cancel()  # the user closes the window while the VAE loads
            return prepare(name, module)

        return real(root, dtype_name, spy, **options)

    monkeypatch.setattr(engine_module, "load_components", cancelling)
    engine = Engine()
    with pytest.raises(JobCancelled):
        engine.generate(tiny_model, tiny_request(), OutputOptions(tmp_path / "x.mp4"), cancel=token)
    assert loaded == ["transformer", "vae"]  # stopped before loading the text encoders
    assert engine.pipeline is None and engine.loaded_key is None
    assert list(tmp_path.iterdir()) == []
