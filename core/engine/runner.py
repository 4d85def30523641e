"""The engine: one object that owns a loaded pipeline across jobs and turns a `GenerationRequest` into a
finished clip, reporting each stage and step and stopping between steps when cancelled.

It reloads only when something that is fixed at load time changes (model folder, device, dtype, placement,
quantization); the other memory switches are applied per job.

Built with a `RankContext` (core/parallel/rank_context.py), the engine is one rank of a job split over several GPUs
(core/parallel/ranks.py starts the ranks): every rank loads, encodes, draws the same noise and denoises in lockstep
(`generate_as_rank`); the leader (rank 0) reserves the outputs, keeps the journal, decodes and publishes.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from core import __version__
from core.engine.devices import Capabilities, ResolvedDevice, detect_capabilities, resolve_device
from core.errors import NonFiniteError, OutOfMemoryError, OutputError
from core.i18n import _t
from core.job.clip_settings import CLIP_FORMAT_VERSION
from core.job.progress import CancelToken, DecodeProgress, ProgressSink, Stage, StepClock
from core.job.request import (
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
from core.model.checkpoint import check_model_folder, check_model_shapes, load_components
from core.model.identity import ModelIdentity, identify_model
from core.output.video import OutputReservation, check_outputs, publish_clip, reserve_outputs
from core.parallel.plan import resolve_split
from core.store.journal import (
    JobJournal,
    JournalError,
    JournalHeader,
    JournalOptions,
    JournalOutcome,
    Snapshot,
    discard_journal,
    find_journal,
    mismatch,
    model_identity,
)

if TYPE_CHECKING:
    from core.parallel.rank_context import RankContext
    from core.parallel.ranks import SplitCancel

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
    def __init__(self, capabilities: Capabilities | None = None, ranks: RankContext | None = None) -> None:
        self._caps = capabilities
        self._ranks = ranks  # this engine is one rank of a split job (None: the whole job runs here)
        self.load_count = 0  # pipelines actually loaded (not kept) by this engine: a kept one is reused
        self._pipe: Any = None
        self._key: LoadKey | None = None
        self._prompt_cache: tuple[_PromptKey, Any] | None = None
        self._encoders_on_cpu = False
        self._speed_report: Any = None  # core.engine.speed.SpeedReport of the current job
        self.last_journal: JournalOutcome | None = None  # what became of the last job's journal

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

    @property
    def last_speed_report(self) -> Any:
        """What the last job's speed settings did (core.engine.speed.SpeedReport; None before a job reached
        denoising)."""
        return self._speed_report

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
        resolve_split(request, self.capabilities)  # a split that cannot run here is refused before loading
        from core.engine.speed import check_attention_request

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
        from core.engine.memory import apply_placement, load_devices, pinned_components, text_encoders_movable
        from core.engine.pipeline import ContentVPipeline

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
        if self._ranks is not None and self._ranks.layout.splits_sequence:
            from core.parallel.sequence_split import enable_sequence_split

            enable_sequence_split(pipe.transformer, self._ranks)
        self.load_count += 1
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
        journal: JournalOptions | None = None,
    ) -> GenerationResult:
        """Run one job. With `journal`, the job keeps a journal (core/store/journal.py) and, when one with that id is
        already there and matches, continues from its newest snapshot instead of step 0."""
        if self._ranks is not None:
            raise RuntimeError("an engine that is one rank of a split job runs jobs through generate_as_rank")
        progress = progress or ProgressSink()
        cancel = cancel or CancelToken()
        resolved = self.check(model_dir, request, output)
        if request.seed is None:
            request = request.with_seed(random_seed())
        notes = tuple(n for n in (request.frames_note,) if n)
        self._speed_report = None
        self.last_journal = None
        # Every name this job will publish is held from here on; a second job asking for it is refused now.
        reservation = reserve_outputs(output.video_path, output.frames_dir, output.write_sidecar)
        with reservation:
            if journal is None:
                result = self._run_job(model_dir, request, output, progress, cancel, resolved, reservation, notes)
                assert result is not None
                return result
            opened, snapshot = self._open_journal(journal, model_dir, request, output, resolved)
            try:
                result = self._run_job(
                    model_dir,
                    request,
                    output,
                    progress,
                    cancel,
                    resolved,
                    reservation,
                    notes,
                    opened,
                    snapshot,
                    journal.decode_on_cpu,
                )
            except BaseException as exc:
                self.last_journal = _close_journal(opened, keep=not isinstance(exc, NonFiniteError))
                raise
            assert result is not None
            self.last_journal = _journal_done(opened, request.steps)
            return result

    def generate_as_rank(
        self,
        model_dir: str | Path,
        request: GenerationRequest,
        output: OutputOptions,
        progress: ProgressSink,
        cancel: SplitCancel,
        journal: JournalOptions | None = None,
    ) -> GenerationResult | None:
        """One job as one rank of a split job; every rank of the job calls this at the same time with the same
        request. The leader does alone what can be refused or fail alone (the checks, the seed, the output
        reservation, the journal), then tells the others whether to go on, with the seed and the snapshot to
        continue from (one broadcast: a refusal leaves every rank idle and in step). All then load, encode and
        denoise in lockstep; the followers return None after the last step, the leader decodes, publishes and
        returns the result. A cancel counts once every rank agreed on it (`cancel`, at each stage and step)."""
        ranks = self._ranks
        assert ranks is not None
        self._speed_report = None
        self.last_journal = None
        leader = ranks.is_leader
        # What the split turns off (query slicing and compiling under a sequence split) is off on every rank alike.
        plan = resolve_split(request, self.capabilities)
        request = plan.applied_to(request)
        notes = tuple(n for n in (request.frames_note,) if n) + plan.notes
        with ExitStack() as held:
            failure: BaseException | None = None
            reservation: OutputReservation | None = None
            opened: JobJournal | None = None
            snapshot: Snapshot | None = None
            resolved: ResolvedDevice | None = None
            if leader:
                try:
                    resolved = self.check(model_dir, request, output)
                    if request.seed is None:
                        request = request.with_seed(random_seed())
                    reservation = reserve_outputs(output.video_path, output.frames_dir, output.write_sidecar)
                    held.enter_context(reservation)
                    if journal is not None:
                        opened, snapshot = self._open_journal(journal, model_dir, request, output, resolved)
                except BaseException as exc:
                    failure = exc
            shared = _from_leader(ranks, {"go": failure is None, "seed": request.seed, "snapshot": snapshot})
            if failure is not None:
                raise failure
            if not shared["go"]:
                return None
            request, snapshot = request.with_seed(shared["seed"]), shared["snapshot"]
            if resolved is None:  # a follower: the leader's checks, without the outputs it alone writes
                resolved = self.check(model_dir, request)
            try:
                result = self._run_job(
                    model_dir,
                    request,
                    output,
                    progress if leader else ProgressSink(),
                    cancel,
                    resolved,
                    reservation,
                    notes,
                    opened,
                    snapshot,
                    journal.decode_on_cpu if journal is not None else False,
                )
            except BaseException as exc:
                if opened is not None:
                    self.last_journal = _close_journal(opened, keep=not isinstance(exc, NonFiniteError))
                raise
            if opened is not None:
                self.last_journal = _journal_done(opened, request.steps)
            return result

    def _open_journal(
        self,
        options: JournalOptions,
        model_dir: str | Path,
        request: GenerationRequest,
        output: OutputOptions,
        resolved: ResolvedDevice,
    ) -> tuple[JobJournal, Snapshot | None]:
        """This job's journal, and the snapshot to continue from (None: from step 0). A journal that does not match
        is refused in one line (JournalError) and left as it is; `resume=False` starts over."""
        existing = None
        if options.resume:
            try:
                existing = find_journal(options.job_id, options.root)
            except JournalError as exc:  # an unreadable journal: start over rather than fail
                logger.warning("Job %s starts over: %s", options.job_id, exc.message)
        if existing is not None:
            existing.snapshot_every = max(0, options.snapshot_every)
            existing.claim()
            snapshot = existing.latest_snapshot()
            decode_only = snapshot is not None and snapshot.step >= request.steps
            problem = mismatch(existing.header, request.to_dict(), model_dir, decode_only)
            moved = (existing.header.device, existing.header.dtype) != (resolved.device, resolved.dtype_name)
            if not problem and not decode_only and moved:
                problem = _t("it ran on {device} in {dtype}").format(
                    device=existing.header.device, dtype=existing.header.dtype
                )
            if problem:
                existing.release()
                raise JournalError(
                    _t("The interrupted job cannot be continued: {reason}.").format(reason=problem),
                    _t("Start it over instead."),
                )
            if snapshot is not None:
                logger.info("Job %s resumes after step %d of %d", options.job_id, snapshot.step, request.steps)
            return existing, snapshot
        discard_journal(options.job_id, options.root)  # starting over: an old journal with this id goes
        header = JournalHeader(
            job_id=options.job_id,
            request=request.to_dict(),
            model_dir=str(Path(model_dir).expanduser().resolve()),
            model_identity=model_identity(model_dir),
            device=resolved.device,
            dtype=resolved.dtype_name,
            video_path=str(Path(output.video_path).expanduser().absolute()),
            frames_dir=str(Path(output.frames_dir).expanduser().absolute()) if output.frames_dir else None,
            write_sidecar=output.write_sidecar,
            history_id=options.history_id,
            created=time.time(),
            keep_model_path=output.keep_model_path,
        )
        try:
            return JobJournal.start(options.root, header, options.snapshot_every), None
        except OSError as exc:
            raise OutputError(
                _t("The job's journal could not be written in {folder} ({cause}).").format(
                    folder=options.root, cause=exc.strerror or type(exc).__name__
                )
            ) from None

    def _run_job(
        self,
        model_dir: str | Path,
        request: GenerationRequest,
        output: OutputOptions,
        progress: ProgressSink,
        cancel: CancelToken,
        resolved: ResolvedDevice,
        reservation: OutputReservation | None,
        notes: tuple[str, ...],
        journal: JobJournal | None = None,
        snapshot: Snapshot | None = None,
        decode_on_cpu: bool = False,
    ) -> GenerationResult | None:
        """The job's stages; None on a follower rank of a split job, which stops after the last step."""
        import torch

        cuda = resolved.device == "cuda"
        decode_only = snapshot is not None and snapshot.step >= request.steps
        leader = self._ranks is None or self._ranks.is_leader
        if decode_only and not leader:
            return None  # only the leader decodes a journal's denoised latents again
        if decode_only and self._ranks is not None:
            cast("SplitCancel", cancel).alone()  # no collective follows
        try:
            if cuda:
                torch.cuda.reset_peak_memory_stats()
            if decode_only:
                assert snapshot is not None
                # The latents are denoised already: only the VAE is needed, and the GPU is best left to it alone.
                with _stage(progress, Stage.LOADING) as t_load:
                    vae, decode_device = self._standalone_vae(model_dir, request, resolved, decode_on_cpu, cancel)
                t_enc = t_den = _stage_time(0.0)
                latents = snapshot.latents
                with _stage(progress, Stage.DECODING) as t_dec:
                    frames = self._decode(latents, decode_device, progress, cancel, vae)
            else:
                with _stage(progress, Stage.LOADING) as t_load:
                    self.load(model_dir, request.memory, cancel)
                    # VAE slicing/tiling and attention slicing are per-job switches on the loaded pipeline.
                    from core.engine.memory import apply_runtime_options

                    apply_runtime_options(self._pipe, request.memory)
                self._stop_point(cancel)
                with _stage(progress, Stage.ENCODING) as t_enc:
                    embeds = self._journal_embeddings(journal, resolved) if snapshot is not None else None
                    if embeds is None:
                        embeds = self._encode(request, resolved)
                        if journal is not None:
                            journal.save_embeddings(vars(embeds))
                self._stop_point(cancel)
                with _stage(progress, Stage.DENOISING) as t_den:
                    latents = self._denoise(request, resolved, embeds, progress, cancel, journal, snapshot)
                _refuse_non_finite(bool(torch.isfinite(latents).all()), "denoised latents", resolved)
                if not leader:
                    return None  # the leader decodes and publishes
                if self._ranks is not None:
                    cast("SplitCancel", cancel).alone()  # no collective follows: a cancel now counts at once
                cancel.raise_if_cancelled()
                with _stage(progress, Stage.DECODING) as t_dec, self._lent(request, resolved, ("vae",)):
                    frames = self._decode(latents, torch.device(resolved.device), progress, cancel)
                if request.memory.placement is Placement.MODEL:
                    self._pipe.maybe_free_model_hooks()  # leave the GPU empty between jobs, as diffusers' pipelines do
            _refuse_non_finite(bool(np.isfinite(frames).all()), "decoded frames", resolved)
            cancel.raise_if_cancelled()
            peak = int(torch.cuda.max_memory_allocated()) if cuda else None
        except torch.OutOfMemoryError as exc:
            self._after_oom()
            raise OutOfMemoryError(
                _t("The GPU ran out of memory ({cause}).").format(cause=_first_line(exc)), OOM_ADVICE
            ) from None

        assert reservation is not None
        with _stage(progress, Stage.SAVING) as t_save:
            metadata = self.clip_metadata(request, resolved, frames.shape[0], str(model_dir), output.keep_model_path)
            if output.job_id is not None:
                metadata["job_id"] = output.job_id
            if snapshot is not None:
                metadata["resumed_from_step"] = snapshot.step
            publish_clip(frames, reservation, request.fps, metadata)
            video, sidecar, frames_dir = reservation.video_path, reservation.sidecar_path, reservation.frames_dir

        if snapshot is not None:
            notes += (_t("Continued from step {step} of {steps}.").format(step=snapshot.step, steps=request.steps),)
            if not snapshot.exact and self._ranks is not None:
                # A split job's snapshots never hold the cache state (each rank has only its branch's or shard's).
                notes += (
                    _t(
                        "Under a split each GPU holds only its part of the step cache's state, so the cache restarted "
                        "at the resumed step; the clip may differ slightly from an uninterrupted one."
                    ),
                )
            elif not snapshot.exact:
                notes += (
                    _t(
                        "The step cache's state was too large to keep, so it restarted at the resumed step; "
                        "the clip differs slightly from an uninterrupted one."
                    ),
                )
        timings = StageTimings(t_load(), t_enc(), t_den(), t_dec(), t_save())
        return GenerationResult(
            request=request,
            video_path=video,
            sidecar_path=sidecar,
            frames_dir=frames_dir,
            num_frames=int(frames.shape[0]),
            timings=timings,
            peak_vram_bytes=peak,
            device=resolved.device if not decode_on_cpu else "cpu",
            notes=notes + tuple(self._speed_report.notes if self._speed_report else ()),
            attention_backend=self._speed_report.attention_backend if self._speed_report else "",
            compile_s=self._speed_report.compile_s if self._speed_report else None,
        )

    def _stop_point(self, cancel: CancelToken) -> None:
        """Between stages. Under a split every rank agrees first, so all stop at the same point (or none does)."""
        if self._ranks is not None:
            cast("SplitCancel", cancel).agree()
        cancel.raise_if_cancelled()

    def _journal_embeddings(self, journal: JobJournal | None, resolved: ResolvedDevice) -> Any:
        """The interrupted job's prompt embeddings, on this job's device (None: encode again)."""
        import torch

        from core.engine.pipeline import PromptEmbeddings

        saved = journal.load_embeddings() if journal is not None else None
        if not saved or "embeds" not in saved or "pooled" not in saved:
            return None
        device, dtype = torch.device(resolved.device), getattr(torch, resolved.dtype_name)

        def on_device(name: str) -> Any:
            tensor = saved.get(name)
            return None if tensor is None else tensor.to(device=device, dtype=dtype)

        return PromptEmbeddings(
            on_device("embeds"), on_device("pooled"), on_device("negative_embeds"), on_device("negative_pooled")
        )

    def _standalone_vae(
        self,
        model_dir: str | Path,
        request: GenerationRequest,
        resolved: ResolvedDevice,
        on_cpu: bool,
        cancel: CancelToken,
    ) -> tuple[Any, Any]:
        """The Wan VAE alone (float32), for decoding a journal's latents again: on the job's device, or on the CPU
        as the last resort. A pipeline that keeps its transformer on the GPU is unloaded first, so the decode has
        the whole GPU."""
        import torch
        from diffusers import AutoencoderKLWan

        from core.job.request import Quantization
        from core.model.weights_loader import load_model

        device = "cpu" if on_cpu else resolved.device
        if self._pipe is not None and device != "cpu" and request.memory.placement is Placement.GPU:
            self.unload()
        check_model_folder(model_dir)
        cancel.raise_if_cancelled()
        root = Path(model_dir).expanduser().resolve()
        vae: Any = load_model(AutoencoderKLWan, root / "vae", torch.float32, Quantization.NONE, ("",), device=device)
        if request.memory.vae_slicing:
            vae.enable_slicing()
        if request.memory.vae_tiling:
            vae.enable_tiling()
        return vae, torch.device(device)

    def clip_metadata(
        self,
        request: GenerationRequest,
        resolved: ResolvedDevice,
        frames: int,
        model_dir: str = "",
        keep_model_path: bool = False,
    ) -> dict[str, Any]:
        """The parameters every clip carries (its comment tag and sidecar; exports copy them). The model is named by
        its identity — folder name, hub id and revision where known, a hash of its configs — and by its absolute
        path only with `keep_model_path`: a shared clip does not tell where the model lives on this computer."""
        # The job's own folder (a decode-only resume may run while another model is loaded, or none).
        folder = model_dir or (self._key.model_dir if self._key else "")
        model = identify_model(folder, keep_model_path).to_dict() if folder else ModelIdentity().to_dict()
        metadata: dict[str, Any] = {
            "app": "ContentV Studio",
            "app_version": __version__,
            "format_version": CLIP_FORMAT_VERSION,  # core/job/clip_settings.py reads these back
            "model": model,
            "request": request.to_dict(),
            "frames_generated": frames,
            "device": resolved.device,
            "dtype": resolved.dtype_name,
            "speed": self._speed_report.to_dict() if getattr(self, "_speed_report", None) else {},
        }
        ranks = getattr(self, "_ranks", None)  # (tests build engines without __init__)
        if ranks is not None:
            metadata["split"] = ranks.layout.describe()
        return metadata

    # ---- stages ---------------------------------------------------------------------------------------------
    def _encode(self, request: GenerationRequest, resolved: ResolvedDevice) -> Any:
        import torch

        from core.engine.memory import move_text_encoders, text_encoders_movable

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
        from core.engine.memory import stage_residency

        return stage_residency(self._pipe, request.memory.placement, resolved.device, names)

    def _batch_cfg(self, request: GenerationRequest, resolved: ResolvedDevice) -> GuidanceBatching:
        """How the guidance branches run. One after the other unless asked: batching buys nothing at ContentV-8B's
        size on an H100, costs ~2.5 GiB and the official bf16 numerics. AUTO measures both on the job's own steps
        (remembered per device and shape), but only when the GPU has room for twice the activations and no step
        cache runs (a cache keeps separate state per branch)."""
        import torch

        from core.engine.speed import remembered_batching

        mode = request.speed.guidance_batching
        if self._ranks is not None:  # each rank runs one branch (or its shard of both, one after the other)
            return GuidanceBatching.SEQUENTIAL
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
        journal: JobJournal | None = None,
        snapshot: Snapshot | None = None,
    ) -> Any:
        import torch

        from core.engine.speed import JobSpeed, remember_batching
        from core.store.journal import restore_cache_state, restore_scheduler, snapshot_of

        device = torch.device(resolved.device)
        dtype = getattr(torch, resolved.dtype_name)
        shape = self._pipe.latent_shape(request.height, request.width, request.effective_frames)
        start = snapshot.step if snapshot is not None else 0
        if snapshot is not None:
            if tuple(snapshot.latents.shape) != tuple(shape):
                raise JournalError(
                    _t("The interrupted job's latents do not fit this job."), _t("Start it over instead.")
                )
            latents = snapshot.latents.to(device=device, dtype=dtype)
        else:
            latents = self._pipe.initial_noise(shape, request.seed, dtype, device)
        clock = StepClock(request.steps, start)
        extra: dict[str, Any] = {}
        if progress.wants_previews:
            from core.job.preview import PreviewFrames, latents_to_rgb, should_preview

            def preview(done: int, current: Any) -> None:
                if should_preview(done, request.steps, progress.preview_every) and not cancel.cancelled:
                    progress.preview(PreviewFrames(done, request.steps, latents_to_rgb(current)))

            extra["on_latents"] = preview
        assert self._key is not None
        batching = self._batch_cfg(request, resolved)
        resumed_plan = snapshot.cache.get("plan") if snapshot is not None else None
        pipe = self._pipe
        ranks = self._ranks
        # Under a sequence split the First-Block cache decides from the change measured over every shard.
        agree_over = ranks.sequence_group if ranks is not None and ranks.layout.splits_sequence else None
        with JobSpeed(
            pipe,
            self._key.model_dir,
            request,
            resolved.device,
            resolved.dtype_name,
            resumed_plan,
            record_calibration=ranks is None,
            agree_over=agree_over,
            start_step=start,
        ) as speed:
            self._speed_report = speed.report
            if resumed_plan is not None and speed.plan_record()["method"] != resumed_plan.get("method"):
                raise JournalError(
                    _t("The interrupted job's step cache cannot be rebuilt."), _t("Start it over instead.")
                )
            steps_done = [start]

            def keep(done: int, current: Any, background: bool = True) -> None:
                """Snapshot the state after `done` steps into the journal; the last step's needs no cache state."""
                assert journal is not None
                started = time.perf_counter()
                snapshot_now = snapshot_of(
                    done,
                    current,
                    pipe.scheduler,
                    pipe.guidance_state(),
                    pipe.transformer,
                    speed.plan_record(),
                    journal.cache_limit,
                    # Under a split each rank holds only its branch's (or shard's) cache state: a resumed split
                    # job restarts its step cache at the resumed step instead (the inexact-resume note).
                    with_cache=done < request.steps and ranks is None,
                )
                if ranks is not None and done < request.steps and speed.plan_record()["method"] != "none":
                    snapshot_now.cache.update(mode="restart", states={})
                journal.write(snapshot_now, background)
                journal.write_seconds += time.perf_counter() - started

            def before_loop() -> None:
                if snapshot is not None:
                    restore_scheduler(pipe.scheduler, snapshot.scheduler, snapshot.tensors, device)
                    restore_cache_state(pipe.transformer, snapshot.cache, snapshot.tensors, device)

            def after_step(done: int, current: Any) -> None:
                steps_done[0] = done
                if journal is not None and done < request.steps and journal.due(done):
                    keep(done, current)

            result = pipe.denoise(
                embeds,
                latents,
                request.steps,
                request.guidance,
                device,
                batch_cfg=batching,
                on_step=lambda _done: progress.step(clock.tick()),
                # Under a split: this rank's request; the pipeline has the ranks agree on it before each step.
                should_stop=cast("SplitCancel", cancel).requested if ranks is not None else lambda: cancel.cancelled,
                start_step=start,
                before_loop=before_loop,
                after_step=after_step,
                guidance_state=snapshot.guidance if snapshot is not None else None,
                ranks=ranks,
                **extra,
            )
            if ranks is not None and steps_done[0] < request.steps:
                cancel.cancel()  # every rank agreed to stop at this same step
            if journal is not None and steps_done[0] > start:
                # After the last step (a failed decode must not cost the denoising) or where a cancel stopped it.
                keep(steps_done[0], result, background=False)
            speed.completed = not cancel.cancelled
        if batching is GuidanceBatching.AUTO and len(self._pipe.guidance_timings) == 2:
            chosen = self._pipe.guidance_batching_used
            remember_batching(resolved.device, resolved.dtype_name, request.latent_shape, chosen)
        cancel.raise_if_cancelled()
        return result

    def _decode(self, latents: Any, device: Any, progress: ProgressSink, cancel: CancelToken, vae: Any = None) -> Any:
        """Decode with progress; a cancel stops it before the decoder's next block (a fraction of a frame)."""
        from core.engine.pipeline import decode_latents

        def on_call(done: int, total: int) -> None:
            progress.decode(DecodeProgress(done, total))

        if vae is None:  # the pipeline's own decode (what benchmarks and tests hook)
            return self._pipe.decode(latents, device, on_decoder_call=on_call, before_block=cancel.raise_if_cancelled)
        return decode_latents(vae, latents, device, on_call, cancel.raise_if_cancelled)

    def _after_oom(self) -> None:
        import torch

        # Drop cached tensors so the app stays usable for a retry with lower-memory settings.
        self._prompt_cache = None
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _from_leader(ranks: RankContext, payload: dict[str, Any]) -> dict[str, Any]:
    """The leader's `payload` on every rank (one broadcast over the whole job's group)."""
    import torch.distributed as dist

    box: list[Any] = [payload if ranks.is_leader else None]
    dist.broadcast_object_list(box, src=0)
    return cast(dict[str, Any], box[0])


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


def _journal_done(journal: JobJournal, steps: int) -> JournalOutcome:
    """After a job that published its clip: nothing is left to resume, so its journal goes."""
    journal.remove()
    return JournalOutcome(journal.header.job_id, journal.folder, steps, steps, False)


def _close_journal(journal: JobJournal, keep: bool) -> JournalOutcome:
    """After a job that did not publish: keep its journal when it holds a snapshot to continue from (and the
    numbers are sound); one with nothing in it goes."""
    journal.wait()
    steps = journal.snapshot_steps()
    step = steps[-1] if steps else 0
    kept = keep and bool(steps)
    if kept:
        journal.release()
    else:
        journal.remove()
    return JournalOutcome(journal.header.job_id, journal.folder, step, journal.header.steps, kept)


def _stage_time(seconds: float) -> Any:
    return lambda: seconds


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
