"""Run a function on N CPU processes joined over gloo, the way a split job's ranks are, and collect what each
returned. The function must be importable (a module-level function): the processes are spawned, not forked, as
the engine's are, so they start without this process's threads and CUDA state."""

from __future__ import annotations

import multiprocessing as mp
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from core.parallel.rank_context import RankContext, SplitLayout, join_ranks, leave_ranks
from core.parallel.ranks import free_port


def _rank_main(
    rank: int, layout: SplitLayout, address: str, fn: Callable[..., Any], args: tuple, results: Any, timeout_s: float
) -> None:
    import torch

    torch.set_num_threads(1)  # N ranks on a 2-core machine: one thread each keeps them from starving each other
    try:
        ctx = join_ranks(layout, rank, "cpu", address, timedelta(seconds=timeout_s))
        try:
            results.put((rank, True, fn(ctx, *args)))
        finally:
            leave_ranks()
    except BaseException:
        results.put((rank, False, traceback.format_exc()))


def run_on_ranks(layout: SplitLayout, fn: Callable[..., Any], *args: Any, timeout_s: float = 120.0) -> list[Any]:
    """`fn(ctx: RankContext, *args)` on every rank of `layout`; returns each rank's result in rank order, or
    raises with the first failing rank's traceback."""
    context = mp.get_context("spawn")
    results = context.Queue()
    address = f"tcp://127.0.0.1:{free_port()}"
    processes = [
        context.Process(target=_rank_main, args=(rank, layout, address, fn, args, results, timeout_s), daemon=True)
        for rank in range(layout.world)
    ]
    for process in processes:
        process.start()
    collected: dict[int, Any] = {}
    failures: list[str] = []
    try:
        for _ in processes:
            rank, ok, value = results.get(timeout=timeout_s + 60)
            if ok:
                collected[rank] = value
            else:
                failures.append(f"rank {rank}:\n{value}")
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    if failures:
        raise AssertionError("\n".join(failures))
    return [collected[rank] for rank in range(layout.world)]


__all__ = ["RankContext", "SplitLayout", "free_port", "run_on_ranks"]
