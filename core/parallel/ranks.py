"""A job split over several GPUs (on the CPU: processes): the coordinator that starts and owns the rank processes,
and the loop each rank runs.

`ParallelEngine` has the surface the CLI and the window's worker use on `core.engine.runner.Engine` (`capabilities`,
`check`, `generate`, `unload`, `loaded_key`, `last_journal`) plus `close()`. It holds no model: on the first job
that asks for N > 1 GPUs it spawns N processes (torch.multiprocessing's "spawn" context), which join one process
group (`core.parallel.rank_context.join_ranks`: NCCL on CUDA, gloo on the CPU, over `tcp://127.0.0.1:<free port>`) and
each
build an `Engine` with their `RankContext`. Each job is sent to every rank through its pipe; rank 0 (the leader)
sends back the stages, steps, previews and decode progress (relayed to the caller's `ProgressSink` on the caller's
thread), then the result. The ranks stay loaded and wait on their pipes between jobs (no collective runs while
idle, so no timeout fires there); a job with another layout or world size starts fresh ranks.

Cancel: a shared event the coordinator sets when the caller's `CancelToken` is cancelled; the ranks agree on it at
each stage and each step (`RankContext.any_rank`), so all stop at the same step and wait for the next job.

A rank that dies or raises mid-job ends the job: the coordinator waits on every rank's pipe and process sentinel at
once, kills the others within seconds, removes what the leader had reserved or half-written
(`core.output.video.clean_leftovers`) and raises one line naming the rank and its exit code (`RankFailedError`); the
next
job starts fresh ranks. Every collective runs under the process group's timeout (`collective_timeout`), so a rank
that hangs makes the others raise instead of waiting for ever.

Host RAM: every rank loads the model from the same folder with `core.model.weights_loader`, which reads the safetensors
with plain reads into freshly allocated buffers, not through memory maps. The files' pages therefore sit once in
the kernel's page cache, shared by all ranks (the second rank's reads come from RAM, not the disk, while RAM
allows; that cache is reclaimable and not charged to any rank), but each rank's weights are its own private copy:
- all on the GPU (placement "none"): each tensor goes to the rank's GPU as soon as it is read, so a rank holds one
  tensor plus an 8 MiB read buffer in host RAM: N ranks cost about N × (the Python/torch runtime, ~1-2 GB) besides
  the page cache;
- placements that keep weights in RAM (model, sequential, streamed offload) hold a full private copy per rank
  (converted, and for streamed offload pinned): N × the model's size, e.g. 2 × ~27 GB in bf16 for ContentV-8B.
Sharing memory maps would not help there: the weights are converted (dtype, int8/fp8) or pinned on load, which
makes private copies anyway, and mapped pages count towards each rank's resident memory. So the page cache is the
sharing there is, and it is kept: nothing here reads the files through another path.
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from core.engine.devices import Capabilities, ResolvedDevice, detect_capabilities
from core.errors import InvalidRequestError, JobCancelled, RankFailedError, StudioError
from core.i18n import _t
from core.job.progress import CancelToken, ProgressSink
from core.job.request import GenerationRequest, GenerationResult, OutputOptions
from core.parallel.plan import SplitPlan, resolve_split
from core.parallel.rank_context import (
    DEFAULT_COLLECTIVE_TIMEOUT,
    SplitLayout,
    join_ranks,
    leave_ranks,
)

if TYPE_CHECKING:
    from core.engine.runner import LoadKey
    from core.parallel.rank_context import RankContext
    from core.store.journal import JournalOptions, JournalOutcome

logger = logging.getLogger(__name__)

POLL_S = 0.1  # how often the coordinator looks at the caller's cancel token while it waits
STOP_GRACE_S = 5.0  # how long a rank may take to end after it was told to (then it is killed)


class SplitCancel(CancelToken):
    """A rank's cancel token: a request (`requested`, the coordinator's shared event) counts only once every rank
    agreed on it at the same point (`agree`, or the pipeline's per-step `any_rank`), so no rank leaves a collective
    the others still wait in. After the last collective (`alone`) the leader honours a request at once (a long
    decode stops within a fraction of a frame, as with one GPU)."""

    def __init__(self, requested: Callable[[], bool], ranks: RankContext) -> None:
        super().__init__()
        self.requested = requested
        self._ranks = ranks
        self._alone = False

    def agree(self) -> bool:
        """Collective: True on every rank when any was asked to stop."""
        if self._ranks.any_rank(self.cancelled or bool(self.requested())):
            self.cancel()
        return self.cancelled

    def alone(self) -> None:
        self._alone = True

    @property
    def cancelled(self) -> bool:
        return super().cancelled or (self._alone and bool(self.requested()))

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise JobCancelled()


# ---- choosing the split ------------------------------------------------------------------------------------------
# ---- the coordinator ---------------------------------------------------------------------------------------------
@dataclass
class _Ranks:
    """The running rank processes of one layout."""

    layout: SplitLayout
    device_type: str
    processes: list[Any]
    pipes: list[Connection]
    cancel: Any  # multiprocessing Event shared by every rank
    loads: list[int] = field(default_factory=list)  # each rank's Engine.load_count after its last job
    skipped: list[dict[str, list[int]]] = field(default_factory=list)  # each rank's SpeedReport.skipped_steps


class ParallelEngine:
    """The coordinator of split jobs (see the module docstring). Use one per caller; it is not thread-safe (the
    CLI's main thread or the window's worker thread drives it)."""

    def __init__(
        self,
        capabilities: Capabilities | None = None,
        collective_timeout: timedelta = DEFAULT_COLLECTIVE_TIMEOUT,
    ) -> None:
        self._caps = capabilities
        self.collective_timeout = collective_timeout  # every collective of every rank runs under it
        self._ranks: _Ranks | None = None
        self._key: LoadKey | None = None
        self.last_journal: JournalOutcome | None = None
        self.last_split: SplitPlan | None = None  # what the last checked job runs on, and why

    # ---- state ----------------------------------------------------------------------------------------------
    @property
    def capabilities(self) -> Capabilities:
        if self._caps is None:
            self._caps = detect_capabilities()
        return self._caps

    @property
    def loaded_key(self) -> LoadKey | None:
        """What the ranks hold loaded (None: no ranks run)."""
        return self._key if self._ranks is not None else None

    @property
    def rank_pids(self) -> list[int]:
        return [p.pid for p in self._ranks.processes] if self._ranks is not None else []

    @property
    def rank_loads(self) -> list[int]:
        """How many times each rank has loaded the pipeline (a kept one is not loaded again)."""
        return list(self._ranks.loads) if self._ranks is not None else []

    @property
    def rank_skipped_steps(self) -> list[dict[str, list[int]]]:
        """The steps each rank's First-Block step cache skipped in its last job, per guidance branch (under a
        sequence split all ranks must have skipped the same ones)."""
        return [dict(skipped) for skipped in self._ranks.skipped] if self._ranks is not None else []

    def unload(self) -> None:
        self.close()

    def close(self) -> None:
        """Stop the ranks: each is told to leave, and killed if it has not within a few seconds."""
        ranks, self._ranks, self._key = self._ranks, None, None
        if ranks is None:
            return
        for pipe in ranks.pipes:
            with contextlib.suppress(OSError, ValueError):
                pipe.send(None)
        _end_processes(ranks, STOP_GRACE_S)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    # ---- checks ---------------------------------------------------------------------------------------------
    def check(
        self, model_dir: str | Path, request: GenerationRequest, output: OutputOptions | None = None
    ) -> ResolvedDevice:
        """What one engine refuses, and what a split refuses, without starting or loading anything."""
        from core.engine.runner import Engine

        resolved = Engine(self.capabilities).check(model_dir, request, output)  # the split's refusals included
        self.last_split = resolve_split(request, self.capabilities)
        return resolved

    # ---- one job ----------------------------------------------------------------------------------------------
    def generate(
        self,
        model_dir: str | Path,
        request: GenerationRequest,
        output: OutputOptions,
        progress: ProgressSink | None = None,
        cancel: CancelToken | None = None,
        journal: JournalOptions | None = None,
    ) -> GenerationResult:
        from core.engine.runner import LoadKey
        from core.job.request import random_seed

        progress = progress or ProgressSink()
        cancel = cancel or CancelToken()
        resolved = self.check(model_dir, request, output)
        assert self.last_split is not None
        layout = self.last_split.layout
        if request.seed is None:  # every rank draws the same noise
            request = request.with_seed(random_seed())
        self.last_journal = None
        cancel.raise_if_cancelled()
        ranks = self._ranks
        if ranks is not None and not all(process.is_alive() for process in ranks.processes):
            # One ended while idle (the out-of-memory killer, a crash between jobs): not this job's failure.
            logger.warning("A rank ended between jobs; starting the ranks again")
            self.close()
            ranks = None
        if ranks is not None and (ranks.layout, ranks.device_type) != (layout, resolved.device):
            self.close()
            ranks = None
        if ranks is None:
            ranks = self._start(layout, resolved.device)
        root = Path(model_dir).expanduser().resolve()
        key = LoadKey(
            str(root), resolved.device, resolved.dtype_name, request.memory.placement, request.memory.quantization
        )
        job = _Job(str(model_dir), request, output, journal, progress.preview_every if progress.wants_previews else 0)
        try:
            result = self._run(ranks, job, progress, cancel, output)
        except (StudioError, JobCancelled):
            raise  # the job's own end: the ranks are idle again, or were stopped on the way
        except BaseException:
            # Anything else (a second Ctrl+C, a bug here) leaves the ranks mid-job: stop them, publish nothing.
            if self._ranks is ranks:
                with contextlib.suppress(StudioError):
                    self._fail(ranks, output, RankFailedError("the coordinator stopped"))
            raise
        self._key = key
        return result

    def _start(self, layout: SplitLayout, device_type: str) -> _Ranks:
        import torch.multiprocessing as torch_mp

        from core.store.state_dirs import state_root

        context = torch_mp.get_context("spawn")
        address = f"tcp://127.0.0.1:{free_port()}"
        threads = max(1, (os.cpu_count() or 1) // layout.world) if device_type == "cpu" else 0
        cancel = context.Event()
        processes, pipes = [], []
        for rank in range(layout.world):
            mine, theirs = context.Pipe(duplex=True)
            process = context.Process(
                target=rank_main,
                args=(
                    rank,
                    layout,
                    device_type,
                    address,
                    self.collective_timeout.total_seconds(),
                    theirs,
                    cancel,
                    threads,
                    self.capabilities,
                    state_root(),
                ),
                name=f"contentv-rank-{rank}",
                daemon=True,
            )
            process.start()
            theirs.close()
            processes.append(process)
            pipes.append(mine)
        self._ranks = _Ranks(
            layout, device_type, processes, pipes, cancel, [0] * layout.world, [{} for _ in range(layout.world)]
        )
        logger.info("Started %d ranks (%s) over %s", layout.world, layout.describe(), address)
        return self._ranks

    def _run(
        self, ranks: _Ranks, job: _Job, progress: ProgressSink, cancel: CancelToken, output: OutputOptions
    ) -> GenerationResult:
        from core.store.state_dirs import state_root

        ranks.cancel.clear()
        message = ("job", job, state_root())
        for rank, pipe in enumerate(ranks.pipes):
            try:
                pipe.send(message)
            except (OSError, ValueError):
                self._fail(ranks, output, _death(ranks, rank))
        pending = set(range(len(ranks.pipes)))
        ended: dict[int, tuple[str, Any]] = {}
        by_pipe = {id(pipe): rank for rank, pipe in enumerate(ranks.pipes)}
        by_sentinel = {process.sentinel: rank for rank, process in enumerate(ranks.processes)}
        while pending:
            if cancel.cancelled and not ranks.cancel.is_set():
                ranks.cancel.set()
            ready = wait([ranks.pipes[r] for r in pending] + list(by_sentinel), timeout=POLL_S)
            pipes_first = sorted(ready, key=lambda r: not isinstance(r, Connection))  # a last word before a death
            for item in pipes_first:
                if isinstance(item, Connection):
                    rank = by_pipe[id(item)]
                    if rank not in pending:
                        continue
                    try:
                        kind, *body = item.recv()
                    except (EOFError, OSError):
                        self._fail(ranks, output, _death(ranks, rank))
                    if kind == "event":
                        _relay(progress, body[0], body[1])
                        continue
                    pending.discard(rank)
                    ended[rank] = (kind, body[0])
                    ranks.loads[rank], ranks.skipped[rank] = body[2], body[3]
                    if rank == 0:
                        self.last_journal = body[1]
                    if kind == "failed" and pending:  # the others may wait in a collective for the failed one
                        self._fail(ranks, output, _failure(rank, body[0]))
                else:  # a rank ended mid-job (ranks only end when told to, between jobs)
                    self._fail(ranks, output, _death(ranks, by_sentinel[item]))
        failures = sorted((rank, body) for rank, (kind, body) in ended.items() if kind == "failed")
        if failures:  # every rank is back at its pipe: they stay, the job's own error is raised
            raise _failure(*failures[0])
        if any(kind == "cancelled" for kind, _ in ended.values()):
            raise JobCancelled()
        result = ended[0][1]
        assert isinstance(result, GenerationResult)
        return result

    def _fail(self, ranks: _Ranks, output: OutputOptions, error: BaseException) -> NoReturn:
        """End the job: kill every rank, remove what the leader had reserved or half-written, raise `error`."""
        from core.output.video import clean_leftovers

        if self._ranks is ranks:
            self._ranks, self._key = None, None
        _end_processes(ranks, 0.0)
        video = Path(output.video_path).expanduser()
        clean_leftovers(video.parent if str(video.parent) else Path("."))
        if output.frames_dir is not None:
            clean_leftovers(Path(output.frames_dir).expanduser().parent)
        raise error


@dataclass(frozen=True)
class _Job:
    model_dir: str
    request: GenerationRequest
    output: OutputOptions
    journal: JournalOptions | None
    preview_every: int  # 0: no previews wanted


def _relay(progress: ProgressSink, kind: str, payload: Any) -> None:
    if kind == "stage":
        progress.stage(payload)
    elif kind == "step":
        progress.step(payload)
    elif kind == "preview":
        progress.preview(payload)
    elif kind == "decode":
        progress.decode(payload)


def _end_processes(ranks: _Ranks, grace_s: float) -> None:
    if grace_s > 0:
        for process in ranks.processes:
            process.join(timeout=grace_s)
    for process in ranks.processes:
        if process.is_alive():
            process.kill()
    for process in ranks.processes:
        process.join(timeout=STOP_GRACE_S)
    for pipe in ranks.pipes:
        with contextlib.suppress(OSError):
            pipe.close()


def _death(ranks: _Ranks, rank: int) -> RankFailedError:
    process = ranks.processes[rank]
    process.join(timeout=STOP_GRACE_S)
    code = process.exitcode
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            signame = signal.Signals(-code).name
            return RankFailedError(
                _t(
                    "Rank {rank} of the split job was ended by {signal} (exit code {code}); nothing was written."
                ).format(rank=rank, signal=signame, code=code),
                rank=rank,
                exit_status=code,
            )
    return RankFailedError(
        _t("Rank {rank} of the split job ended with exit code {code}; nothing was written.").format(
            rank=rank, code=code
        ),
        rank=rank,
        exit_status=code,
    )


def _failure(rank: int, described: dict[str, Any]) -> BaseException:
    """The error a rank reported: its own StudioError where it could be carried over (an out-of-memory stays one),
    otherwise one line naming the rank."""
    carried = described.get("pickled")
    if carried is not None:
        with contextlib.suppress(Exception):
            error = pickle.loads(carried)
            if isinstance(error, StudioError):
                return error
    return RankFailedError(
        _t("Rank {rank} of the split job failed: {cause}").format(rank=rank, cause=described.get("line", "")),
        rank=rank,
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 free now, for the ranks' rendezvous (the tests' too)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- a rank ------------------------------------------------------------------------------------------------------
def _describe(exc: BaseException) -> dict[str, Any]:
    text = str(exc).strip().splitlines()
    line = f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__
    described: dict[str, Any] = {"line": line, "traceback": traceback.format_exc()}
    if isinstance(exc, StudioError):
        with contextlib.suppress(Exception):
            pickled = pickle.dumps(exc)
            pickle.loads(pickled)  # carried only where it comes back whole
            described["pickled"] = pickled
    return described


def _leader_sink(pipe: Connection, preview_every: int) -> ProgressSink:
    def send(kind: str) -> Callable[[Any], None]:
        return lambda payload: pipe.send(("event", kind, payload))

    return ProgressSink(
        on_stage=send("stage"),
        on_step=send("step"),
        on_preview=send("preview") if preview_every > 0 else None,
        on_decode=send("decode"),
        preview_every=preview_every,
    )


def rank_main(
    rank: int,
    layout: SplitLayout,
    device_type: str,
    address: str,
    timeout_s: float,
    pipe: Connection,
    cancel_event: Any,
    threads: int,
    caps: Capabilities | None,
    state: Path | None,
) -> None:
    """A rank process: join the group, then run each job that arrives on `pipe` until told to stop (None) or the
    coordinator is gone. Nothing collective runs while it waits."""
    import torch

    from core.engine.runner import Engine
    from core.store.state_dirs import set_state_root

    # Ctrl+C in a terminal reaches the whole process group: the coordinator turns it into a cancel every rank
    # agrees on; a rank that took it itself would leave the others waiting in a collective.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if threads:
        torch.set_num_threads(threads)  # N ranks share the CPU's cores instead of each taking all of them
    set_state_root(state)
    try:
        ctx = join_ranks(layout, rank, device_type, address, timedelta(seconds=timeout_s))
    except BaseException as exc:
        with contextlib.suppress(OSError):
            pipe.send(("failed", _describe(exc), None, 0, {}))
        raise SystemExit(1) from None
    engine = Engine(caps, ranks=ctx)
    try:
        while True:
            try:
                message = pipe.recv()
            except (EOFError, OSError):
                break  # the coordinator is gone
            if message is None:
                break
            _, job, state = message
            set_state_root(state)
            _run_rank_job(engine, ctx, job, pipe, cancel_event)
    finally:
        with contextlib.suppress(Exception):
            leave_ranks()


def _run_rank_job(engine: Any, ctx: RankContext, job: _Job, pipe: Connection, cancel_event: Any) -> None:
    sink = _leader_sink(pipe, job.preview_every) if ctx.is_leader else ProgressSink()
    cancel = SplitCancel(cancel_event.is_set, ctx)

    def skipped() -> dict[str, list[int]]:
        report = engine.last_speed_report
        return dict(report.skipped_steps) if report is not None else {}

    try:
        result = engine.generate_as_rank(job.model_dir, job.request, job.output, sink, cancel, job.journal)
        pipe.send(("done", result, engine.last_journal, engine.load_count, skipped()))
    except JobCancelled:
        pipe.send(("cancelled", None, engine.last_journal, engine.load_count, skipped()))
    except BaseException as exc:
        logger.debug("Rank %d failed", ctx.rank, exc_info=True)
        pipe.send(("failed", _describe(exc), engine.last_journal, engine.load_count, skipped()))


# ---- torchrun: this process is one rank --------------------------------------------------------------------------
class LaunchedRank:
    """This process as one rank of a job launched by torchrun (one process per rank, maybe on several machines),
    with the surface the CLI uses on `Engine`. It joins over torchrun's environment (env://) for one job and leaves
    after it. Every process runs the job from its own command line; rank 0 reserves, journals, decodes and writes,
    and `generate` returns None on the others (they print nothing but errors)."""

    def __init__(
        self, capabilities: Capabilities | None = None, collective_timeout: timedelta = DEFAULT_COLLECTIVE_TIMEOUT
    ) -> None:
        self._caps = capabilities
        self.collective_timeout = collective_timeout
        self.rank = int(os.environ.get("RANK", "0"))
        self.last_journal: JournalOutcome | None = None
        self.last_split: SplitPlan | None = None

    @property
    def is_leader(self) -> bool:
        return self.rank == 0

    @property
    def capabilities(self) -> Capabilities:
        if self._caps is None:
            self._caps = detect_capabilities()
        return self._caps

    def check(
        self, model_dir: str | Path, request: GenerationRequest, output: OutputOptions | None = None
    ) -> ResolvedDevice:
        from core.engine.runner import Engine

        # The outputs are rank 0's alone (another machine's paths are its own business).
        resolved = Engine(self.capabilities).check(model_dir, request, output if self.is_leader else None)
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world != request.parallel.gpus:
            raise InvalidRequestError(
                _t("torchrun started {world} processes, but the job asks for {n} (--parallel).").format(
                    world=world, n=request.parallel.gpus
                )
            )
        self.last_split = resolve_split(request, self.capabilities)
        return resolved

    def generate(
        self,
        model_dir: str | Path,
        request: GenerationRequest,
        output: OutputOptions,
        progress: ProgressSink | None = None,
        cancel: CancelToken | None = None,
        journal: JournalOptions | None = None,
    ) -> GenerationResult | None:
        from core.engine.runner import Engine

        resolved = self.check(model_dir, request, output)
        assert self.last_split is not None
        cancel = cancel or CancelToken()
        self.last_journal = None
        ctx = join_ranks(self.last_split.layout, self.rank, resolved.device, None, self.collective_timeout)
        try:
            engine = Engine(self.capabilities, ranks=ctx)
            split_cancel = SplitCancel(lambda: cancel.cancelled, ctx)
            sink = (progress or ProgressSink()) if ctx.is_leader else ProgressSink()
            try:
                return engine.generate_as_rank(model_dir, request, output, sink, split_cancel, journal)
            finally:
                self.last_journal = engine.last_journal
        finally:
            leave_ranks()

    def close(self) -> None:
        pass
