"""The engine: one object that owns a loaded pipeline across jobs and turns a `GenerationRequest` into a
finished clip, reporting each stage and step and stopping between steps when cancelled.

It reloads only when something that is fixed at load time changes (model folder, device, dtype, placement,
quantization); the other memory switches are applied per job.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core import __version__
from core.checkpoint import check_model_folder, check_model_shapes, load_components
from core.devices import Capabilities, ResolvedDevice, detect_capabilities, resolve_device
from core.errors import NonFiniteError, OutOfMemoryError
from core.i18n import _t
from core.progress import CancelToken, DecodeProgress, ProgressSink, Stage, StepClock
from core.request import (
    GenerationRequest,
    GenerationResult,
    GuidanceBatching,
    MemoryOptions,
    OutputOptions,
    Placement,
    Quantization,
    StageTimings,
    StepCache,
    random_seed,
)
from core.video import OutputReservation, check_outputs, publish_clip, reserve_outputs

logger = logging.getLogger(__name__)

OOM_ADVICE = (
    "Try, in this order: model CPU offload, VAE tiling, int8 or fp8 quantization, attention slicing, "
    "streamed or sequential offload; or a smaller size, fewer frames."
)


@dataclass(frozen=True)
class LoadKey:
    model_dir: str
    device: str
    dtype: str
    placement: Placement
    quantization: Quantization


@dataclass(frozen=True)
class _PromptKey:
    prompt: str
    negative_prompt: str
    do_cfg: bool
    max_sequence_length: int


def _quiet_libraries() -> None:
    # The engine reports progress itself; the libraries' own bars would interleave with ours on stderr.
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()
    diffusers_logging.set_verbosity_error()
    transformers_logging.set_verbosity_error()


def activation_bytes_per_sample(request: GenerationRequest, hidden: int, elem: int) -> int:
    """Rough peak activation size of one transformer pass for one sample (measured ~16 hidden-sized
    buffers alive at once in a block with a fused attention kernel)."""
    _, _, t, h, w = request.latent_shape
    tokens = t * (h // 2) * (w // 2) + 77 + request.max_sequence_length
    return tokens * hidden * 16 * elem


class Engine:
    def __init__(self, capabilities: Capabilities | None = None) -> None:
        self._caps = capabilities
        self._pipe: Any = None
        self._key: LoadKey | None = None
        self._prompt_cache: tuple[_PromptKey, Any] | None = None
        self._encoders_on_cpu = False
        self._speed_report: Any = None  # core.speed.SpeedReport of the current job

    # ---- state ----------------------------------------------------------------------------------------------
    @property
    def capabilities(self) -> Capabilities:
        if self._caps is None:
            self._caps = detect_capabilities()
        return self._caps

    @property
    def loaded_key(self) -> LoadKey | None:
        return self._key

    @property
    def pipeline(self) -> Any:
        return self._pipe

    def unload(self) -> None:
        self._pipe = None
        self._key = None
        self._prompt_cache = None
        gc.collect()
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:  # pragma: no cover
            pass

    # ---- checks -----------------------------------------------------------------------------------------------
    def check(
        self, model_dir: str | Path, request: GenerationRequest, output: OutputOptions | None = None
    ) -> ResolvedDevice:
        """Everything that can be refused without loading anything, in the order a user would fix it."""
        request.validate()
        resolved = resolve_device(request.memory, self.capabilities)
        from core.speed import check_attention_request

        check_attention_request(request, resolved.device, resolved.dtype_name)  # a forced kernel must exist here
        if output is not None:  # every name the job publishes, and their derived names, before anything exists
            check_outputs(output.video_path, output.frames_dir, output.write_sidecar)
        check_model_folder(model_dir)
        check_model_shapes(model_dir)  # configs against the weights' headers, on the meta device: nothing allocated
        return resolved

    # ---- loading ----------------------------------------------------------------------------------------------
    def load(self, model_dir: str | Path, memory: MemoryOptions, cancel: CancelToken | None = None) -> LoadKey:
        """Load (or keep) the pipeline for these options. A cancel is honoured between components, so closing the
        window during a long load does not wait for all 27 GB; the half-loaded pipeline is dropped."""
        from core.memory import apply_placement, load_devices, pinned_components, text_encoders_movable
        from core.pipeline import ContentVPipeline

        resolved = resolve_device(memory, self.capabilities)
        root = Path(model_dir).expanduser().resolve()
        key = LoadKey(str(root), resolved.device, resolved.dtype_name, memory.placement, memory.quantization)
        if key == self._key and self._pipe is not None:
            return key
        self.unload()
        check_model_folder(root)
        _quiet_libraries()
        encoders_off = (
            memory.text_encoders_off_gpu and text_encoders_movable(memory.placement) and resolved.device != "cpu"
        )

        def stop_if_cancelled(_name: str, module: Any) -> Any:
            if cancel is not None:
                cancel.raise_if_cancelled()
            return module

        components = load_components(
            root,
            resolved.dtype_name,
            stop_if_cancelled,
            quantization=memory.quantization,
            pinned=pinned_components(memory.placement, resolved.device),
            devices=load_devices(memory.placement, resolved.device, encoders_off),
        )
        pipe = ContentVPipeline(**vars(components))
        apply_placement(pipe, memory.placement, resolved.device)
        self._encoders_on_cpu = encoders_off
        self._pipe, self._key = pipe, key
        return key

    # ---- one job --------------------------------------------------------------------------------------------
    def generate(
        self,
        model_dir: str | Path,
        request: GenerationRequest,
        output: OutputOptions,
        progress: ProgressSink | None = None,
        cancel: CancelToken | None = None,
    ) -> GenerationResult:
        progress = progress or ProgressSink()
        cancel = cancel or CancelToken()
        resolved = self.check(model_dir, request, output)
        if request.seed is None:
            request = request.with_seed(random_seed())
        notes = tuple(n for n in (request.frames_note,) if n)
        self._speed_report = None
        # Every name this job will publish is held from here on; a second job asking for it is refused now.
        reservation = reserve_outputs(output.video_path, output.frames_dir, output.write_sidecar)
        with reservation:
            return self._run_job(model_dir, request, output, progress, cancel, resolved, reservation, notes)

    def _run_job(
        self,
        model_dir: str | Path,
        request: GenerationRequest,
        output: OutputOptions,
        progress: ProgressSink,
        cancel: CancelToken,
        resolved: ResolvedDevice,
        reservation: OutputReservation,
        notes: tuple[str, ...],
    ) -> GenerationResult:
        import torch

        cuda = resolved.device == "cuda"
        try:
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            with _stage(progress, Stage.LOADING) as t_load:
                self.load(model_dir, request.memory, cancel)
                # VAE slicing/tiling and attention slicing are per-job switches on the loaded pipeline.
                from core.memory import apply_runtime_options

                apply_runtime_options(self._pipe, request.memory)
            cancel.raise_if_cancelled()
            with _stage(progress, Stage.ENCODING) as t_enc:
                embeds = self._encode(request, resolved)
            cancel.raise_if_cancelled()
            with _stage(progress, Stage.DENOISING) as t_den:
                latents = self._denoise(request, resolved, embeds, progress, cancel)
            _refuse_non_finite(bool(torch.isfinite(latents).all()), "denoised latents", resolved)
            cancel.raise_if_cancelled()
            with _stage(progress, Stage.DECODING) as t_dec, self._lent(request, resolved, ("vae",)):
                frames = self._decode(latents, resolved, progress, cancel)
            _refuse_non_finite(bool(np.isfinite(frames).all()), "decoded frames", resolved)
            if request.memory.placement is Placement.MODEL:
                self._pipe.maybe_free_model_hooks()  # leave the GPU empty between jobs, as diffusers' pipelines do
            cancel.raise_if_cancelled()
            peak = int(torch.cuda.max_memory_allocated()) if cuda else None
        except torch.OutOfMemoryError as exc:
            self._after_oom()
            raise OutOfMemoryError(
                _t("The GPU ran out of memory ({cause}).").format(cause=_first_line(exc)), OOM_ADVICE
            ) from None

        with _stage(progress, Stage.SAVING) as t_save:
            metadata = self.clip_metadata(request, resolved, frames.shape[0])
            if output.job_id is not None:
                metadata["job_id"] = output.job_id
            publish_clip(frames, reservation, request.fps, metadata)
            video, sidecar, frames_dir = reservation.video_path, reservation.sidecar_path, reservation.frames_dir

        timings = StageTimings(t_load(), t_enc(), t_den(), t_dec(), t_save())
        return GenerationResult(
            request=request,
            video_path=video,
            sidecar_path=sidecar,
            frames_dir=frames_dir,
            num_frames=int(frames.shape[0]),
            timings=timings,
            peak_vram_bytes=peak,
            device=resolved.device,
            notes=notes + tuple(self._speed_report.notes if self._speed_report else ()),
            attention_backend=self._speed_report.attention_backend if self._speed_report else "",
            compile_s=self._speed_report.compile_s if self._speed_report else None,
        )

    def clip_metadata(self, request: GenerationRequest, resolved: ResolvedDevice, frames: int) -> dict[str, Any]:
        assert self._key is not None
        return {
            "app": "ContentV Studio",
            "app_version": __version__,
            "model": self._key.model_dir,
            "request": request.to_dict(),
            "frames_generated": frames,
            "device": resolved.device,
            "dtype": resolved.dtype_name,
            "speed": self._speed_report.to_dict() if getattr(self, "_speed_report", None) else {},
        }

    # ---- stages ---------------------------------------------------------------------------------------------
    def _encode(self, request: GenerationRequest, resolved: ResolvedDevice) -> Any:
        import torch

        from core.memory import move_text_encoders, text_encoders_movable

        do_cfg = request.guidance > 1
        key = _PromptKey(request.prompt, request.negative_prompt, do_cfg, request.max_sequence_length)
        movable = text_encoders_movable(request.memory.placement) and resolved.device != "cpu"
        want_off = request.memory.text_encoders_off_gpu and movable
        # Re-runs and seed changes keep the prompt: skip the text encoders entirely.
        if self._prompt_cache is not None and self._prompt_cache[0] == key:
            if want_off and not self._encoders_on_cpu:  # switched on since the last job
                move_text_encoders(self._pipe, "cpu")
                self._encoders_on_cpu = True
            return self._prompt_cache[1]
        device = torch.device(resolved.device)
        dtype = getattr(torch, resolved.dtype_name)
        if movable and self._encoders_on_cpu:
            move_text_encoders(self._pipe, resolved.device)
            self._encoders_on_cpu = False
        with self._lent(request, resolved, ("text_encoder", "text_encoder_2")):
            embeds = self._pipe.encode_prompt(
                request.prompt, request.negative_prompt, do_cfg, request.max_sequence_length, device, dtype
            )
        if want_off:
            move_text_encoders(self._pipe, "cpu")
            self._encoders_on_cpu = True
        self._prompt_cache = (key, embeds)
        return embeds

    def _lent(self, request: GenerationRequest, resolved: ResolvedDevice, names: tuple[str, ...]) -> Any:
        """The named components on the GPU for one stage only, where the placement keeps them in RAM."""
        from core.memory import stage_residency

        return stage_residency(self._pipe, request.memory.placement, resolved.device, names)

    def _batch_cfg(self, request: GenerationRequest, resolved: ResolvedDevice) -> GuidanceBatching:
        """How the guidance branches run. One after the other unless asked: batching buys nothing at ContentV-8B's
        size on an H100, costs ~2.5 GiB and the official bf16 numerics. AUTO measures both on the job's own steps
        (remembered per device and shape), but only when the GPU has room for twice the activations and no step
        cache runs (a cache keeps separate state per branch)."""
        import torch

        from core.speed import remembered_batching

        mode = request.speed.guidance_batching
        if mode is not GuidanceBatching.AUTO:
            return mode
        if request.speed.step_cache is not StepCache.OFF:
            return GuidanceBatching.SEQUENTIAL
        remembered = remembered_batching(resolved.device, resolved.dtype_name, request.latent_shape)
        if remembered is not None:
            return remembered
        if resolved.device == "cuda":
            transformer = self._pipe.transformer
            elem = torch.finfo(getattr(torch, resolved.dtype_name)).bits // 8
            needed = 2 * activation_bytes_per_sample(request, transformer.inner_dim, elem)
            free, _ = torch.cuda.mem_get_info()
            if request.memory.placement is Placement.MODEL:
                # The transformer is not on the GPU yet; it will be when the first step runs.
                free -= sum(p.numel() * p.element_size() for p in transformer.parameters())
            if free <= needed * 1.25:
                return GuidanceBatching.SEQUENTIAL
        return GuidanceBatching.AUTO

    def _denoise(
        self,
        request: GenerationRequest,
        resolved: ResolvedDevice,
        embeds: Any,
        progress: ProgressSink,
        cancel: CancelToken,
    ) -> Any:
        import torch

        from core.speed import JobSpeed, remember_batching

        device = torch.device(resolved.device)
        dtype = getattr(torch, resolved.dtype_name)
        shape = self._pipe.latent_shape(request.height, request.width, request.effective_frames)
        latents = self._pipe.initial_noise(shape, request.seed, dtype, device)
        clock = StepClock(request.steps)
        extra: dict[str, Any] = {}
        if progress.wants_previews:
            from core.preview import PreviewFrames, latents_to_rgb, should_preview

            def preview(done: int, current: Any) -> None:
                if should_preview(done, request.steps, progress.preview_every) and not cancel.cancelled:
                    progress.preview(PreviewFrames(done, request.steps, latents_to_rgb(current)))

            extra["on_latents"] = preview
        assert self._key is not None
        batching = self._batch_cfg(request, resolved)
        with JobSpeed(self._pipe, self._key.model_dir, request, resolved.device, resolved.dtype_name) as speed:
            self._speed_report = speed.report
            result = self._pipe.denoise(
                embeds,
                latents,
                request.steps,
                request.guidance,
                device,
                batch_cfg=batching,
                on_step=lambda _done: progress.step(clock.tick()),
                should_stop=lambda: cancel.cancelled,
                **extra,
            )
            speed.completed = not cancel.cancelled
        if batching is GuidanceBatching.AUTO and len(self._pipe.guidance_timings) == 2:
            chosen = self._pipe.guidance_batching_used
            remember_batching(resolved.device, resolved.dtype_name, request.latent_shape, chosen)
        cancel.raise_if_cancelled()
        return result

    def _decode(self, latents: Any, resolved: ResolvedDevice, progress: ProgressSink, cancel: CancelToken) -> Any:
        """Decode with progress; a cancel stops it before the decoder's next block (a fraction of a frame)."""
        import torch

        return self._pipe.decode(
            latents,
            torch.device(resolved.device),
            on_decoder_call=lambda done, total: progress.decode(DecodeProgress(done, total)),
            before_block=cancel.raise_if_cancelled,
        )

    def _after_oom(self) -> None:
        import torch

        # Drop cached tensors so the app stays usable for a retry with lower-memory settings.
        self._prompt_cache = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _refuse_non_finite(finite: bool, what: str, resolved: ResolvedDevice) -> None:
    """NaN or infinity would become a black clip: end the job instead, naming the likely cause."""
    if finite:
        return
    # Whole sentences with named fields (_t), so the window can translate them (core/i18n.py).
    if what == "decoded frames":
        template = _t("The decoded frames hold NaN or infinity: {cause}. Nothing was written.")
    else:
        template = _t("The denoised latents hold NaN or infinity: {cause}. Nothing was written.")
    cause = _t("the model's weights are probably damaged (download the transformer and VAE again)")
    if resolved.dtype_name == "float16":
        cause = _t(
            "float16 overflowed (choose bfloat16 or float32), or the model's weights are damaged "
            "(download the transformer and VAE again)"
        )
    raise NonFiniteError(template.format(cause=cause))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


@contextmanager
def _stage(progress: ProgressSink, stage: Stage) -> Iterator[Any]:
    progress.stage(stage)
    start = time.perf_counter()
    elapsed: list[float] = []
    try:
        yield lambda: elapsed[0] if elapsed else 0.0
    finally:
        elapsed.append(time.perf_counter() - start)
