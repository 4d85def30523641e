"""A rank's groups: the guidance × sequence mesh, the agreement every rank reaches, and the collective timeout,
which must hold in the mesh's subgroups too (torch gives those its 30-minute default unless told otherwise)."""

from __future__ import annotations

import time

from core.parallel.rank_context import SplitLayout
from tests.ranks_harness import run_on_ranks


def _layout_and_agreement(ctx) -> tuple[int, int, bool, bool]:
    import torch
    import torch.distributed as dist

    total = torch.tensor([float(ctx.rank)])
    dist.all_reduce(total, group=ctx.sequence_group)
    return ctx.guidance_index, int(total.item()), ctx.any_rank(ctx.rank == 3), ctx.any_rank(False)


def test_mesh_places_the_guidance_branches_and_the_sequence_shares() -> None:
    results = run_on_ranks(SplitLayout(guidance=2, sequence=2), _layout_and_agreement)
    # ranks 0, 1 share the unconditional branch's tokens, ranks 2, 3 the conditional one's
    assert [r[0] for r in results] == [0, 0, 1, 1]
    assert [r[1] for r in results] == [1, 1, 5, 5]
    assert all(r[2] for r in results)  # one rank said yes: every rank hears it
    assert not any(r[3] for r in results)


def _one_rank_stays_away(ctx) -> str:
    import torch
    import torch.distributed as dist

    if ctx.rank == 1:
        time.sleep(20)  # never joins the exchange below
        return "away"
    try:
        dist.all_reduce(torch.ones(1), group=ctx.sequence_group)
    except Exception as exc:  # gloo's timeout
        return f"raised {type(exc).__name__}"
    return "returned"


def test_a_subgroup_exchange_times_out_with_the_jobs_timeout() -> None:
    """With a 3 s timeout, rank 0 waiting in the sequence group for a rank that never comes raises, instead of
    waiting the 30 minutes torch would give a subgroup by default (the harness would give up long before)."""
    # (joining still waits up to 2 minutes for both ranks to start)
    results = run_on_ranks(SplitLayout(sequence=2), _one_rank_stays_away, timeout_s=3.0)
    assert results[0].startswith("raised"), results
    assert results[1] == "away"
