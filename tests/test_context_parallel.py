"""The sequence split (core/parallel/sequence_split.py) on 2 CPU ranks over gloo: Ulysses and ring give the one-process
transformer output for a head count that does not divide by 2 (3 heads), an odd text length (77 + 256 = 333) and
an odd number of video tokens; the First-Block step cache takes the same skip decisions on both ranks, the ones a
single process takes on the whole tensor, also where each rank's own share alone would decide otherwise.

Each rank builds the same seeded tiny transformer twice: one copy stays whole (the one-process reference), the
other is split. Rank functions live at module level (the ranks are spawned and import them by name)."""

from __future__ import annotations

import pytest
import torch

from core.parallel.rank_context import SplitLayout
from core.parallel.sequence_split import Route, sequence_split_route
from tests.ranks_harness import run_on_ranks

HEADS, HEAD_DIM = 3, 16
TEXT_DIM, POOLED_DIM = 32, 16
TEXT_TOKENS = 77 + 256  # odd
FRAMES, HEIGHT, WIDTH = 3, 6, 10  # 3 × 3 × 5 = 45 video tokens (odd)
FBC_STEP = 1.0  # how far the second call's latents move, in the rank-1 share only (see _first_block_decisions)


def _tiny_transformer(seed: int = 0):
    from core.engine.transformer import ContentVTransformer3DModel

    torch.manual_seed(seed)
    model = ContentVTransformer3DModel(
        num_layers=2,
        attention_head_dim=HEAD_DIM,
        num_attention_heads=HEADS,
        joint_attention_dim=TEXT_DIM,
        caption_projection_dim=HEADS * HEAD_DIM,
        pooled_projection_dim=POOLED_DIM,
    )
    return model.eval()


def _inputs(seed: int = 1) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {
        "hidden_states": torch.randn(1, 16, FRAMES, HEIGHT, WIDTH, generator=g),
        "encoder_hidden_states": torch.randn(1, TEXT_TOKENS, TEXT_DIM, generator=g),
        "pooled_projections": torch.randn(1, POOLED_DIM, generator=g),
        "timestep": torch.tensor([500.0]),
    }


def _forward(model, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
    with torch.no_grad():
        return model(**inputs, return_dict=False)[0]


def _split_matches_one_process(ctx) -> dict:
    """The split transformer's output against the whole one, also after a job switches the kernel and asks for
    query slicing (both must keep the split)."""
    from core.engine.attention import (
        attention_backend_in_use,
        attention_slicing_enabled,
        enable_attention_slicing,
        set_attention_backend,
    )
    from core.parallel.sequence_split import (
        SequenceSplitJointAttnProcessor,
        enable_sequence_split,
        sequence_split_enabled,
    )

    whole, split = _tiny_transformer(), _tiny_transformer()
    inputs = _inputs()
    expected = _forward(whole, inputs)
    assert not sequence_split_enabled(split)
    enable_sequence_split(split, ctx)
    enable_sequence_split(split, ctx)  # a second call does nothing
    first = (_forward(split, inputs) - expected).abs().max().item()

    set_attention_backend(split, "math", strict=True)  # what every job does before denoising
    switched = enable_attention_slicing(split, query_chunk=7)
    processors = [b.attn.processor for b in split.transformer_blocks]
    assert all(isinstance(p, SequenceSplitJointAttnProcessor) for p in processors)
    after_switch = (_forward(split, inputs) - expected).abs().max().item()
    return {
        "max_difference": max(first, after_switch),
        "enabled": sequence_split_enabled(split),
        "kernel": attention_backend_in_use(split),
        "sliced": switched or attention_slicing_enabled(split),
    }


def _first_block_decisions(ctx) -> dict:
    """Two calls in one cache context (the second one's latents moved only where rank 1's share of the video tokens
    comes from), at a threshold just under and just over the change the whole tensor shows. Returns, per threshold,
    the one-process decision, this rank's agreed decision, and the change this rank's share alone shows."""
    from diffusers.hooks import FirstBlockCacheConfig
    from diffusers.hooks.first_block_cache import _FBC_LEADER_BLOCK_HOOK

    from core.engine.step_cache import AgreedFirstBlockHook, CachePlan, apply_step_cache, remove_step_cache
    from core.job.request import StepCache
    from core.parallel.sequence_split import enable_sequence_split

    whole, split = _tiny_transformer(), _tiny_transformer()
    enable_sequence_split(split, ctx)
    first = _inputs()
    second = dict(first)
    moved = first["hidden_states"].clone()
    moved[:, :, -1] += FBC_STEP * torch.randn(moved[:, :, -1].shape, generator=torch.Generator().manual_seed(5))
    second["hidden_states"] = moved  # the last frame: the last 15 of 45 tokens, all in rank 1's 22

    def head_hook(model):
        return model.transformer_blocks[0]._diffusers_hook.get_hook(_FBC_LEADER_BLOCK_HOOK)

    def run(threshold: float) -> dict:
        plan = CachePlan(StepCache.FAST, "first-block", FirstBlockCacheConfig(threshold=threshold))
        apply_step_cache(whole, plan)
        apply_step_cache(split, plan, agree_over=ctx.sequence_group)
        hook = head_hook(split)
        assert isinstance(hook, AgreedFirstBlockHook)
        decisions: dict[str, list] = {"one_process": [], "agreed": [], "local_change": [], "change": [], "diff": []}
        try:
            with whole.cache_context("cond"), split.cache_context("cond"):
                for inputs in (first, second):
                    expected = _forward(whole, inputs)
                    got = _forward(split, inputs)
                    decisions["diff"].append((got - expected).abs().max().item())
                    decisions["one_process"].append(head_hook(whole).state_manager.get_state().should_compute)
                    decisions["agreed"].append(hook.state_manager.get_state().should_compute)
                    decisions["local_change"].append(hook.local_change)
                    decisions["change"].append(hook.change)
        finally:
            remove_step_cache(whole)
            remove_step_cache(split)
        return decisions

    probe = run(1.0)  # measures the whole tensor's change of the second call
    change = probe["change"][1]
    return {"change": change, "under": run(change * 0.97), "over": run(change * 1.03)}


def _check_rank(ctx) -> dict:
    return {"output": _split_matches_one_process(ctx), "first_block": _first_block_decisions(ctx)}


@pytest.fixture(scope="module", params=["ulysses", "ring"])
def ranks(request) -> tuple[str, list[dict]]:
    return request.param, run_on_ranks(SplitLayout(1, 2, request.param), _check_rank, timeout_s=120)


def test_split_output_equals_one_process(ranks):
    kind, results = ranks
    for result in results:
        output = result["output"]
        print(f"{kind}: max difference against one process {output['max_difference']:.2e}")
        assert output["max_difference"] < 1e-5
        assert output["enabled"]
        assert not output["sliced"]  # query slicing is off under a sequence split
    # Ulysses keeps the math kernel that was asked for (native backend held to it); ring on the CPU needs the
    # log-sum-exp, which PyTorch's CPU flash kernel (what SDPA runs there) gives.
    assert results[0]["output"]["kernel"] == ("math" if kind == "ulysses" else "sdpa")


def test_first_block_cache_decides_alike_on_every_rank(ranks):
    _, results = ranks
    rank0, rank1 = (r["first_block"] for r in results)
    for case in ("under", "over"):
        a, b = rank0[case], rank1[case]
        assert a["agreed"] == b["agreed"] == a["one_process"] == b["one_process"]
        assert max(a["diff"] + b["diff"]) < 1e-5
    # Just under the threshold the second call computes, just over it reuses the cache.
    assert rank0["under"]["agreed"] == [True, True]
    assert rank0["over"]["agreed"] == [True, False]
    # Each share alone would have decided the other way on one rank: rank 0's share barely changed, rank 1's
    # (where the latents moved) changed more than the whole.
    threshold = rank0["change"] * 1.03
    assert rank0["over"]["local_change"][1] < threshold < rank1["over"]["local_change"][1]
    threshold = rank0["change"] * 0.97
    assert rank0["under"]["local_change"][1] < threshold < rank1["under"]["local_change"][1]


@pytest.mark.parametrize(
    ("kernel", "kind", "device", "dtype", "capability", "expected"),
    [
        ("sdpa", "ulysses", "cpu", torch.float32, (0, 0), Route("native", None, "sdpa")),
        ("math", "ulysses", "cpu", torch.float32, (0, 0), Route("native", "math", "math")),
        ("sdpa", "ring", "cpu", torch.float32, (0, 0), Route(None, None, "sdpa")),
        ("cudnn", "ring", "cuda", torch.bfloat16, (9, 0), Route("_native_cudnn", None, "cudnn")),
        ("flash", "ulysses", "cuda", torch.float16, (8, 6), Route("_native_flash", None, "flash")),
        ("efficient", "ulysses", "cuda", torch.float16, (7, 5), Route("native", "efficient", "efficient")),
        ("efficient", "ring", "cuda", torch.float32, (9, 0), Route(None, None, "efficient")),
        ("math", "ring", "mps", torch.float16, (0, 0), Route(None, None, "math")),
    ],
)
def test_route_keeps_the_kernel_where_diffusers_splits_it(kernel, kind, device, dtype, capability, expected):
    assert sequence_split_route(kernel, kind, device, dtype, capability) == expected


def test_log_sum_exp_op_matches_math():
    from core.parallel.sequence_split import _sdpa_with_lse

    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, 33, 3, 16, generator=g) for _ in range(3))  # (batch, tokens, heads, dim)
    out, lse = _sdpa_with_lse(None, q, k, v, return_lse=True)
    scores = torch.einsum("bqhd,bkhd->bhqk", q, k) / 4.0
    torch.testing.assert_close(lse, scores.logsumexp(-1).transpose(1, 2), atol=1e-5, rtol=1e-5)
    expected = torch.einsum("bhqk,bkhd->bqhd", scores.softmax(-1), v)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
