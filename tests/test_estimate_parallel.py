"""The estimator's figures for a job split over several GPUs (core/estimate.py): the bytes each split exchanges,
checked against the issue's figures on paper and against the tensor sizes, one GPU's memory and time under each
split, and the list the window shows beside its "GPUs" choice."""

from __future__ import annotations

import dataclasses

import pytest

from core.engine.devices import Capabilities, Link
from core.estimate import (
    LINK_TABLE,
    Architecture,
    EstimateOptions,
    GiB,
    JobShape,
    communication_seconds,
    estimate,
    estimate_request,
    link_assumption,
    parallel_speedups,
    split_traffic,
)
from core.job.request import GenerationRequest, MemoryOptions, ParallelOptions, Placement, Quantization, Split
from core.parallel.rank_context import SplitLayout

DEFAULT = JobShape()  # 768×432, 125 frames, guidance 6: 41,472 video + 333 text tokens
TOKENS = 41_805
HIDDEN = 38 * 64
BLOCKS = 38


def rtx_4090s(count: int, link: Link = Link.PCIE, memory_gib: int = 24) -> Capabilities:
    return Capabilities(
        cuda=True,
        mps=False,
        cuda_name="NVIDIA GeForce RTX 4090",
        cuda_total_bytes=memory_gib * GiB,
        bf16=True,
        cuda_devices=count,
        link=link,
    )


def test_default_job_has_the_issues_token_count() -> None:
    assert DEFAULT.video_tokens(2) + DEFAULT.text_tokens == TOKENS


def test_ulysses_on_two_gpus_moves_the_issues_bytes() -> None:
    """The issue: about 400 MB per block and step with guidance, about 15 GB per step, 0.6 s at PCIe 4.0 x16."""
    traffic = split_traffic(DEFAULT, SplitLayout(1, 2, "ulysses"))
    per_block = traffic.sequence_bytes / BLOCKS
    assert per_block == pytest.approx(400e6, rel=0.03)
    assert traffic.per_gpu_bytes == pytest.approx(15e9, rel=0.04)
    assert communication_seconds(traffic, "p2p") == pytest.approx(0.6, rel=0.05)
    # The sum over both GPUs is the brief's formula: tokens × hidden × bytes × (n-1)/n × 4 × blocks × branches,
    # plus the output gathered at proj_out.
    formula = TOKENS * HIDDEN * 2 * (1 / 2) * 4 * BLOCKS * 2
    gather = 2 * 2 * (41_472 * 64 * 2 / 2)  # branches × GPUs × a half of the patch-space output
    assert traffic.total_bytes == pytest.approx(formula + gather, rel=1e-6)
    assert traffic.collectives == 2 * (BLOCKS * 4 + 1)


def test_the_guidance_split_sends_one_noise_prediction_per_step() -> None:
    traffic = split_traffic(DEFAULT, SplitLayout(2, 1))
    assert traffic.per_gpu_bytes == traffic.guidance_bytes == 16 * 32 * 54 * 96 * 2  # latents, bf16: ~5.3 MB
    assert traffic.sequence_bytes == 0 and traffic.collectives == 1
    assert split_traffic(DEFAULT, SplitLayout(2, 1), dtype="float32").per_gpu_bytes == 2 * traffic.per_gpu_bytes


def test_ring_sends_as_much_as_ulysses_on_two_gpus_and_more_on_more() -> None:
    for n in (2, 4, 8):
        ulysses = split_traffic(DEFAULT, SplitLayout(1, n, "ulysses")).sequence_bytes
        ring = split_traffic(DEFAULT, SplitLayout(1, n, "ring")).sequence_bytes
        assert ring == pytest.approx(ulysses * n / 2, rel=0.01)


def test_splitting_each_branch_exchanges_less_than_splitting_both_over_all() -> None:
    combined = split_traffic(DEFAULT, SplitLayout(2, 2, "ulysses"))
    ulysses = split_traffic(DEFAULT, SplitLayout(1, 4, "ulysses"))
    assert combined.per_gpu_bytes < ulysses.per_gpu_bytes
    assert combined.total_bytes == combined.per_gpu_bytes * 4


def test_an_unguided_job_has_one_branch_to_exchange() -> None:
    unguided = JobShape(guidance=1.0)
    guided = split_traffic(DEFAULT, SplitLayout(1, 2)).sequence_bytes
    assert split_traffic(unguided, SplitLayout(1, 2)).sequence_bytes == pytest.approx(guided / 2)


def test_faster_links_cost_less_time() -> None:
    traffic = split_traffic(DEFAULT, SplitLayout(1, 2))
    times = [communication_seconds(traffic, link) for link in ("pcie", "p2p", "nvlink")]
    assert times == sorted(times, reverse=True) and times[-1] > 0
    assert link_assumption("something else") == LINK_TABLE["pcie"]
    assert {"nvlink", "p2p", "pcie"} <= set(LINK_TABLE) and all(v.source for v in LINK_TABLE.values())


def test_every_gpu_holds_the_weights_and_its_share_of_the_activations() -> None:
    one = estimate(DEFAULT, EstimateOptions())
    for layout in (SplitLayout(2, 1), SplitLayout(1, 2), SplitLayout(1, 2, "ring"), SplitLayout(2, 2)):
        split = estimate(DEFAULT, EstimateOptions(layout=layout, link="p2p"))
        assert split.weights_bytes == one.weights_bytes  # replicated
        assert split.encoding_bytes == one.encoding_bytes  # every rank encodes the prompts
        assert split.decoding_bytes == one.decoding_bytes  # rank 0 decodes the whole clip
    ulysses = estimate(DEFAULT, EstimateOptions(layout=SplitLayout(1, 2)))
    ulysses4 = estimate(DEFAULT, EstimateOptions(layout=SplitLayout(1, 4)))
    ring = estimate(DEFAULT, EstimateOptions(layout=SplitLayout(1, 2, "ring")))
    assert ulysses4.denoising_bytes < ulysses.denoising_bytes < one.denoising_bytes
    assert ring.denoising_bytes > ulysses.denoising_bytes  # every GPU's keys and values at once
    # Guidance batched: one GPU alone runs a batch of two; under the guidance split each GPU runs one branch.
    batched = estimate(DEFAULT, EstimateOptions(guidance_batched=True))
    guidance = estimate(DEFAULT, EstimateOptions(guidance_batched=True, layout=SplitLayout(2, 1)))
    assert guidance.denoising_bytes == one.denoising_bytes < batched.denoising_bytes


def test_seconds_per_step_divide_by_the_gpus_plus_the_exchange() -> None:
    options = EstimateOptions(gpu_name="NVIDIA GeForce RTX 4090")
    one = estimate(DEFAULT, options).s_per_step
    guidance = estimate(DEFAULT, dataclasses.replace(options, layout=SplitLayout(2, 1), link="p2p")).s_per_step
    assert guidance == pytest.approx(one / 2, rel=0.001)
    for link in ("nvlink", "p2p", "pcie"):
        layout = SplitLayout(1, 2)
        ulysses = estimate(DEFAULT, dataclasses.replace(options, layout=layout, link=link)).s_per_step
        exchange = communication_seconds(split_traffic(DEFAULT, layout), link)
        assert ulysses == pytest.approx(one / 2 + exchange, rel=0.001)
    # 38 heads over 4 GPUs: the busiest holds 10, so the attention part takes 10/9.5 of a quarter.
    four = estimate(DEFAULT, dataclasses.replace(options, layout=SplitLayout(1, 4), link="nvlink")).s_per_step
    assert one / 4 < four - communication_seconds(split_traffic(DEFAULT, SplitLayout(1, 4)), "nvlink")


def test_processes_on_the_cpu_share_its_cores() -> None:
    options = EstimateOptions(device="cpu", dtype="float32", gpu_name="")
    one = estimate(DEFAULT, options).s_per_step
    two = estimate(DEFAULT, dataclasses.replace(options, layout=SplitLayout(1, 2), link="cpu")).s_per_step
    assert two > one  # no faster: the same cores, plus the exchange


def test_parallel_speedups_lists_one_entry_per_gpu_count() -> None:
    request = GenerationRequest("a kite", memory=MemoryOptions(quantization=Quantization.INT8))
    entries = parallel_speedups(request, rtx_4090s(4))
    assert [e.gpus for e in entries] == [1, 2, 3, 4]
    assert [e.split for e in entries] == ["none", "guidance", "ulysses ×3", "guidance × ulysses ×2"]
    first = entries[0]
    assert first.speedup == 1.0 and first.bytes_per_step == 0 and first.link == "none" and first.reason
    speedups = [e.speedup for e in entries]
    assert speedups == sorted(speedups) and entries[1].speedup == pytest.approx(2.0, rel=0.01)
    assert all(e.refused == "" and e.fits for e in entries)
    assert entries[3].bytes_per_step == entries[3].bytes_per_gpu * 4
    assert entries[1].link == "pcie" and "PCIe without peer access" in entries[1].reason
    # The same estimate for the default request, on the figures this module gives.
    direct = estimate_request(request, gpu_name=rtx_4090s(4).cuda_name, layout=SplitLayout(1, 3), link="pcie")
    assert entries[2].seconds_per_step == pytest.approx(direct.s_per_step)
    assert entries[2].per_gpu_peak_bytes == direct.peak_bytes


def test_parallel_speedups_follow_the_link_and_the_named_split() -> None:
    request = GenerationRequest("a kite", parallel=ParallelOptions(2, Split.ULYSSES))
    slow = parallel_speedups(request, rtx_4090s(2, Link.PCIE))[1]
    fast = parallel_speedups(request, rtx_4090s(2, Link.NVLINK))[1]
    assert slow.split == fast.split == "ulysses ×2"
    assert 1.5 < slow.speedup < fast.speedup < 2.0
    assert parallel_speedups(request, rtx_4090s(2, Link.PCIE), link="nvlink")[1].speedup == fast.speedup


def test_a_count_the_job_cannot_run_on_says_why_and_estimates_the_nearest() -> None:
    request = GenerationRequest("a kite", memory=MemoryOptions(placement=Placement.MODEL))
    one, two = parallel_speedups(request, rtx_4090s(2))
    assert one.refused == "" and two.refused.startswith("The 'model' offload mode cannot be combined")
    assert two.split == "guidance" and two.speedup == pytest.approx(2.0, rel=0.01)  # all on the GPU
    odd = parallel_speedups(GenerationRequest("a kite", parallel=ParallelOptions(1, Split.GUIDANCE)), rtx_4090s(3))
    assert [e.refused != "" for e in odd] == [False, False, True] and odd[2].split == "ulysses ×3"


def test_parallel_speedups_on_a_machine_without_two_gpus() -> None:
    assert [e.gpus for e in parallel_speedups(GenerationRequest("x"), Capabilities(cuda=False, mps=False))] == [1]
    [single] = parallel_speedups(GenerationRequest("x"), rtx_4090s(1))
    assert single.split == "none" and single.speedup == 1.0
    unknown = dataclasses.replace(rtx_4090s(2), cuda_total_bytes=0)
    assert all(e.fits is None for e in parallel_speedups(GenerationRequest("x"), unknown))
    small = parallel_speedups(GenerationRequest("x"), rtx_4090s(2, memory_gib=8))
    assert not any(e.fits for e in small)  # 8B weights on every GPU: splitting does not make them fit


def test_the_architecture_of_a_model_folder_is_used(tiny_model) -> None:  # type: ignore[no-untyped-def]
    arch = Architecture.from_model_dir(tiny_model)
    shape = JobShape(80, 48, 9)
    traffic = split_traffic(shape, SplitLayout(1, 2), arch, "float32")
    tokens = shape.video_tokens(arch.transformer.patch_size) + shape.text_tokens
    per_block = 2 * 4 * tokens * arch.transformer.hidden * 4 / 2 * (1 / 2)  # 2 branches, float32
    assert traffic.sequence_bytes >= arch.transformer.num_layers * per_block
