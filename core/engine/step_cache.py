"""Step caching: reuse part of the transformer's work between denoising steps, at a small cost in fidelity.

Neighbouring flow-matching steps change the transformer's inner features very little, so some of them can be
reused instead of recomputed. The levels, and why each uses its method:

- `off`: every step computes every block (the official numerics).
- `fast`: diffusers' **MagCache** with its own default threshold (0.06, at most 2 skipped steps in a row, the
  first 20 % of steps always computed) when this model has a stored calibration. MagCache skips whole steps
  (every block) where the residual's magnitude is predicted, from ratios measured on the user's own weights, to
  change by less than the threshold, so the error it accepts is known in advance and the saving is large (about a
  third of the calls on the tiny test model). Without a calibration, the **First-Block cache** (threshold 0.05):
  each step runs the first block and reuses the other blocks' residual when the first block's output changed by
  less than 5 % — adaptive, calibration-free and conservative (on random weights it skips nothing, the features
  change too much). diffusers' version raised on this transformer; core/engine/transformer.py makes the last block
  return its text states so it works.
- `faster`: MagCache with a doubled threshold (0.12, up to 3 skipped steps in a row) when calibrated (about half
  the calls); without a calibration **TaylorSeer** (a full step every 3rd step after 2 warm-up steps, a
  first-order Taylor prediction of every attention output in between), which needs no calibration and skips a
  fixed share.

MagCache's calibration is recorded for free during an uncached job of at least 8 steps (again when a later one has
more steps than the stored calibration) (`MagCalibrationRecorder`: the magnitude ratio
of the blocks' residual between consecutive steps, the conditional branch, the formula of diffusers'
`MagCacheConfig(calibrate=True)`), and kept in a small JSON file per model under the app's data folder
(`calibration_path`). Not in the model folder: those are often read-only or a Hugging Face cache whose files are
content-addressed, and one model folder can be shared by several users; the file name is a hash of the model's
path and its transformer weights' sizes and modification times, so replaced weights get a fresh calibration.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch
from diffusers.hooks.first_block_cache import _FBC_LEADER_BLOCK_HOOK, FBCHeadBlockHook
from torch import nn

from core.job.request import StepCache

logger = logging.getLogger(__name__)

FIRST_BLOCK_THRESHOLD = 0.05
MAG_SETTINGS = {StepCache.FAST: (0.06, 2), StepCache.FASTER: (0.12, 3)}  # (threshold, max skipped steps in a row)
MAG_RETENTION_RATIO = 0.2
TAYLOR_INTERVAL = 3
TAYLOR_WARMUP_STEPS = 2
CALIBRATION_VERSION = 1
MIN_CALIBRATION_STEPS = 8  # a shorter uncached job records nothing: too few ratios to interpolate from


@dataclass(frozen=True)
class CachePlan:
    """What a job's step cache does: the method's name (for the clip's metadata) and diffusers' config."""

    level: StepCache
    method: str  # "none", "first-block", "mag-cache" or "taylorseer"
    config: Any = None


def calibration_dir() -> Path:
    override = os.environ.get("CONTENTV_STUDIO_CALIBRATION_DIR")
    if override:
        return Path(override)
    from core.store.state_dirs import state_dir

    return state_dir("step-cache")


def _model_identity(model_dir: str | Path) -> str:
    root = Path(model_dir).expanduser().resolve()
    parts = [str(root)]
    for weights in sorted((root / "transformer").glob("*.safetensors")):
        stat = weights.stat()
        parts.append(f"{weights.name}:{stat.st_size}:{int(stat.st_mtime)}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def calibration_path(model_dir: str | Path) -> Path:
    return calibration_dir() / f"{_model_identity(model_dir)}.json"


def load_calibration(model_dir: str | Path) -> list[float] | None:
    """The stored MagCache ratios for this model, or None (missing or unreadable: a new one is recorded)."""
    path = calibration_path(model_dir)
    try:
        data = json.loads(path.read_text())
        ratios = [float(r) for r in data["mag_ratios"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if data.get("version") != CALIBRATION_VERSION or len(ratios) < 2:
        return None
    return ratios


def save_calibration(model_dir: str | Path, ratios: list[float], steps: int) -> Path | None:
    path = calibration_path(model_dir)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        payload = {"version": CALIBRATION_VERSION, "model": str(model_dir), "steps": steps, "mag_ratios": ratios}
        tmp.write_text(json.dumps(payload, indent=1))
        tmp.replace(path)
    except OSError as exc:  # a calibration is an optimisation: never fail the job for it
        logger.warning("Could not store the MagCache calibration at %s: %s", path, exc)
        return None
    return path


def plan_step_cache(level: StepCache, steps: int, mag_ratios: list[float] | None) -> CachePlan:
    from diffusers.hooks import FirstBlockCacheConfig, MagCacheConfig, TaylorSeerCacheConfig

    if level is StepCache.OFF:
        return CachePlan(level, "none")
    if mag_ratios is not None:
        threshold, max_skips = MAG_SETTINGS[level]
        config = MagCacheConfig(
            threshold=threshold,
            max_skip_steps=max_skips,
            retention_ratio=MAG_RETENTION_RATIO,
            num_inference_steps=steps,
            mag_ratios=list(mag_ratios),  # interpolated by diffusers to this job's step count
        )
        return CachePlan(level, "mag-cache", config)
    if level is StepCache.FAST:
        return CachePlan(level, "first-block", FirstBlockCacheConfig(threshold=FIRST_BLOCK_THRESHOLD))
    config = TaylorSeerCacheConfig(
        cache_interval=TAYLOR_INTERVAL,
        disable_cache_before_step=TAYLOR_WARMUP_STEPS,
        max_order=1,
        taylor_factors_dtype=torch.float32,
    )
    return CachePlan(level, "taylorseer", config)


def apply_step_cache(transformer: Any, plan: CachePlan, agree_over: Any = None) -> None:
    """Install this job's cache on the transformer (any previous one is removed first, so state never leaks
    from one job into the next).

    `agree_over`: the process group of a sequence split (each rank holds a share of the tokens). The First-Block
    cache decides from the change of the first block's output, which each rank would measure on its own share: a
    different decision per rank, and the ranks' collectives then wait on each other for ever. With the group given,
    the change is measured over every rank's share (`_AgreedFirstBlockHook`), so all decide alike, as one process
    would. MagCache and TaylorSeer need nothing: MagCache decides from its calibration ratios and a step counter,
    TaylorSeer from a fixed step schedule, the same numbers on every rank. The First-Block cache keeps the calls it
    skipped (`first_block_skips`), so a job can say which steps it reused."""
    remove_step_cache(transformer)
    if plan.config is None:
        return
    transformer.enable_cache(plan.config)
    if plan.method == "first-block":
        _replace_first_block_head(transformer, agree_over)


def _replace_first_block_head(transformer: Any, group: Any) -> None:
    """diffusers' First-Block head hook → ours: the same decision, kept (`RecordedFirstBlockHook`), and with a
    group, measured over the whole group (`AgreedFirstBlockHook`)."""
    for module in transformer.modules():
        registry = getattr(module, "_diffusers_hook", None)
        stock = registry.get_hook(_FBC_LEADER_BLOCK_HOOK) if registry is not None else None
        if registry is None or stock is None:
            continue
        # The same name, so CacheMixin.disable_cache removes it; the same state, shared with the other blocks' hooks.
        registry.remove_hook(_FBC_LEADER_BLOCK_HOOK, recurse=False)
        if group is None:
            head: RecordedFirstBlockHook = RecordedFirstBlockHook(stock.state_manager, stock.threshold)
        else:
            head = AgreedFirstBlockHook(stock.state_manager, stock.threshold, group)
        registry.register_hook(head, _FBC_LEADER_BLOCK_HOOK)


def first_block_skips(transformer: Any) -> dict[str, list[int]]:
    """The calls the installed First-Block cache skipped so far, per cache context (guidance branch); empty for
    another method or none."""
    for module in transformer.modules():
        registry = getattr(module, "_diffusers_hook", None)
        head = registry.get_hook(_FBC_LEADER_BLOCK_HOOK) if registry is not None else None
        if isinstance(head, RecordedFirstBlockHook):
            return {context: list(calls) for context, calls in head.skipped.items()}
    return {}


class RecordedFirstBlockHook(FBCHeadBlockHook):
    """diffusers' First-Block head hook, keeping what it decided: `skipped[context]` lists the calls in that cache
    context (a guidance branch: one call per step) that reused the cached blocks, 1 being the context's first call
    since the cache was installed. The decision itself is diffusers' (`_decide`)."""

    def __init__(self, state_manager: Any, threshold: float) -> None:
        super().__init__(state_manager, threshold)
        self.calls: dict[str, int] = {}
        self.skipped: dict[str, list[int]] = {}

    @torch.compiler.disable
    def _should_compute_remaining_blocks(self, hidden_states_residual: torch.Tensor) -> bool:
        compute = self._decide(hidden_states_residual)
        context = self.state_manager.context.name
        self.calls[context] = call = self.calls.get(context, 0) + 1
        if not compute:
            self.skipped.setdefault(context, []).append(call)
        return compute

    def _decide(self, hidden_states_residual: torch.Tensor) -> bool:
        stock = cast(Any, super())  # (type checkers lose the method behind torch.compiler.disable)
        return bool(stock._should_compute_remaining_blocks(hidden_states_residual))

    def reset_state(self, module: Any) -> Any:
        self.calls, self.skipped = {}, {}
        return super().reset_state(module)


class AgreedFirstBlockHook(RecordedFirstBlockHook):
    """diffusers' First-Block head hook, deciding from the change measured over the whole process group.

    diffusers compares mean|r − r_prev| / mean|r_prev| with the threshold, r being the first block's output
    residual. Both means run over the same elements, so the ratio is Σ|r − r_prev| / Σ|r_prev|: summing the two sums
    over the ranks (one all-reduce) gives every rank the ratio of the whole tensor. The element counts cancel, so
    uneven shares need no weighting. `local_change` (this rank's own share's ratio) and `change` (the agreed one)
    are kept for tests and logs."""

    def __init__(self, state_manager: Any, threshold: float, group: Any) -> None:
        super().__init__(state_manager, threshold)
        self.group = group
        self.local_change: float | None = None
        self.change: float | None = None

    def _decide(self, hidden_states_residual: torch.Tensor) -> bool:
        import torch.distributed as dist

        previous = self.state_manager.get_state().head_block_residual
        if previous is None:
            return True  # the first call in this context, on every rank alike
        sums = torch.stack(
            [
                (hidden_states_residual - previous).abs().sum(dtype=torch.float64),
                previous.abs().sum(dtype=torch.float64),
            ]
        )
        self.local_change = float(sums[0] / sums[1])
        dist.all_reduce(sums, op=dist.ReduceOp.SUM, group=self.group)
        self.change = float(sums[0] / sums[1])
        return self.change > self.threshold


def remove_step_cache(transformer: Any) -> None:
    if getattr(transformer, "is_cache_enabled", False):
        transformer.disable_cache()


class MagCalibrationRecorder:
    """Records MagCache's magnitude ratios during an uncached run, without changing any number.

    A pre-hook on the first block keeps its video input, a hook on the last block takes the residual
    (last output − first input) and its per-token-norm ratio to the previous step's, as diffusers' calibration
    mode does. Only calls in the conditional branch count (`current_branch()` names the branch the pipeline
    is running; "cond" also when guidance is off), so the guidance branches do not mix."""

    def __init__(self, transformer: nn.Module, current_branch: Callable[[], str]) -> None:
        blocks = cast(nn.ModuleList, transformer.transformer_blocks)
        self.ratios: list[float] = []
        self._branch = current_branch
        self._input: torch.Tensor | None = None
        self._previous: torch.Tensor | None = None
        self._handles = [
            blocks[0].register_forward_pre_hook(self._keep_input, with_kwargs=True),
            blocks[-1].register_forward_hook(self._take_residual),
        ]

    def _keep_input(self, _module: nn.Module, args: tuple, kwargs: dict) -> None:
        if self._branch() == "cond":
            self._input = kwargs.get("hidden_states", args[0] if args else None)

    def _take_residual(self, _module: nn.Module, _args: tuple, output: Any) -> None:
        if self._branch() != "cond" or self._input is None:
            return
        residual = (output[1] - self._input).float()
        if self._previous is None:
            ratio = 1.0
        else:
            ratio = float((residual.norm(dim=-1) / (self._previous.norm(dim=-1) + 1e-8)).mean())
        self.ratios.append(ratio)
        self._previous, self._input = residual, None

    def close(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._previous = self._input = None
