"""Choosing a job's split over several GPUs (core/parallel/plan.py) on faked machines: what `auto` picks and says,
what a named split means, and the one-line refusals of what cannot run, before anything is loaded."""

from __future__ import annotations

import dataclasses

import pytest

from core.engine.devices import Capabilities, Link
from core.errors import DeviceUnavailableError, InvalidRequestError
from core.job.request import (
    GenerationRequest,
    GuidanceBatching,
    MemoryOptions,
    ParallelOptions,
    Placement,
    Quantization,
    SpeedOptions,
    Split,
)
from core.parallel.plan import resolve_split
from core.parallel.rank_context import SplitLayout

GiB = 2**30


def gpus(count: int, link: Link = Link.P2P) -> Capabilities:
    return Capabilities(
        cuda=True,
        mps=False,
        cuda_name="NVIDIA GeForce RTX 4090",
        cuda_total_bytes=24 * GiB,
        bf16=True,
        cuda_devices=count,
        link=link,
    )


def job(count: int, split: Split = Split.AUTO, **fields: object) -> GenerationRequest:
    return GenerationRequest("a kite", parallel=ParallelOptions(count, split), **fields)  # type: ignore[arg-type]


CPU = Capabilities(cuda=False, mps=False)


def test_one_gpu_is_not_split() -> None:
    plan = resolve_split(job(1), gpus(2))
    assert plan.layout == SplitLayout() and not plan.enabled and plan.reason


@pytest.mark.parametrize(
    ("count", "guidance", "layout"),
    [
        (2, 6.0, SplitLayout(2, 1)),  # a guided job: one branch per GPU
        (2, 1.0, SplitLayout(1, 2, "ulysses")),  # nothing to split but the tokens
        (4, 6.0, SplitLayout(2, 2, "ulysses")),  # each branch over 2 GPUs
        (8, 6.0, SplitLayout(2, 4, "ulysses")),
        (4, 1.0, SplitLayout(1, 4, "ulysses")),
        (3, 6.0, SplitLayout(1, 3, "ulysses")),  # odd: the branches cannot share 3 GPUs evenly
    ],
)
def test_auto_picks_from_the_gpus_and_the_job(count: int, guidance: float, layout: SplitLayout) -> None:
    plan = resolve_split(job(count, guidance=guidance), gpus(8))
    assert plan.layout == layout and plan.enabled and plan.device == "cuda"
    assert "\n" not in plan.reason and plan.reason.startswith(layout.describe())


def test_the_reason_states_the_traffic_over_the_detected_link() -> None:
    guidance = resolve_split(job(2), gpus(2, Link.PCIE))
    assert "5.3 MB" in guidance.reason and "PCIe without peer access" in guidance.reason and "guided" in guidance.reason
    unguided = resolve_split(job(2, guidance=1.0), gpus(2, Link.NVLINK))
    assert "7.7 GB" in unguided.reason and "NVLink" in unguided.reason and "ring" in unguided.reason
    # The link can be given (another machine's estimate); an undetected one is taken as the slowest GPU link.
    assert "peer to peer" in resolve_split(job(2), gpus(2, Link.PCIE), link="p2p").reason
    assert resolve_split(job(2), gpus(2, Link.NONE)).link == "pcie"


def test_a_named_guidance_split_needs_guidance_and_an_even_count() -> None:
    assert resolve_split(job(2, Split.GUIDANCE), gpus(4)).layout == SplitLayout(2, 1)
    # 4 GPUs: the branches on 2 each, their tokens split between those.
    assert resolve_split(job(4, Split.GUIDANCE), gpus(4)).layout == SplitLayout(2, 2, "ulysses")
    with pytest.raises(InvalidRequestError, match=r"guidance 1\.0 runs no unconditional branch") as unguided:
        resolve_split(job(2, Split.GUIDANCE, guidance=1.0), gpus(2))
    assert "ulysses or ring" in unguided.value.advice
    with pytest.raises(InvalidRequestError, match=r"even number of GPUs.*got 3"):
        resolve_split(job(3, Split.GUIDANCE), gpus(4))


@pytest.mark.parametrize(("split", "kind"), [(Split.ULYSSES, "ulysses"), (Split.RING, "ring")])
def test_named_sequence_splits_put_every_gpu_on_the_tokens(split: Split, kind: str) -> None:
    plan = resolve_split(job(4, split), gpus(4))
    assert plan.layout == SplitLayout(1, 4, kind) and "as asked" in plan.reason


def test_more_gpus_than_the_machine_has_is_refused_with_one_line() -> None:
    with pytest.raises(DeviceUnavailableError, match="4 GPUs were asked for, but this machine has 2") as error:
        resolve_split(job(4), gpus(2))
    assert "\n" not in str(error.value) and "at most 2" in error.value.advice
    with pytest.raises(DeviceUnavailableError, match="MPS cannot be split"):
        resolve_split(job(2), Capabilities(cuda=False, mps=True))
    with pytest.raises(InvalidRequestError, match="between 1 and 8"):
        resolve_split(job(9), gpus(8))


def test_under_torchrun_only_this_machines_share_needs_its_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    """4 GPUs over two computers with 2 each (torchrun --nnodes 2 --nproc-per-node 2): each computer needs only
    the 2 ranks it runs; 3 there are more than it has."""
    for name, value in (("RANK", "0"), ("WORLD_SIZE", "4"), ("MASTER_ADDR", "10.0.0.1"), ("MASTER_PORT", "29500")):
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    assert resolve_split(job(4), gpus(2)).layout.world == 4
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "3")
    with pytest.raises(DeviceUnavailableError, match="3 GPUs were asked for, but this machine has 2"):
        resolve_split(job(4), gpus(2))


def test_on_the_cpu_any_count_runs_as_processes_with_a_note() -> None:
    plan = resolve_split(job(3, memory=MemoryOptions(device="cpu")), CPU)
    assert plan.layout == SplitLayout(1, 3) and plan.device == "cpu" and plan.link == "cpu"
    assert "gloo" in plan.reason and any("share its cores" in note for note in plan.notes)
    # A machine with GPUs splits on the CPU only when asked to.
    assert resolve_split(job(2, memory=MemoryOptions(device="cpu")), gpus(2)).device == "cpu"


@pytest.mark.parametrize("placement", [Placement.MODEL, Placement.SEQUENTIAL, Placement.STREAMED])
def test_offload_modes_are_refused_under_a_split(placement: Placement) -> None:
    request = job(2, memory=MemoryOptions(placement=placement))
    with pytest.raises(InvalidRequestError, match=f"'{placement.value}' offload mode cannot be combined") as error:
        resolve_split(request, gpus(2))
    assert "\n" not in str(error.value) and "offload none" in error.value.advice
    assert resolve_split(dataclasses.replace(request, parallel=ParallelOptions()), gpus(2)).layout.world == 1


@pytest.mark.parametrize(
    "memory",
    [
        MemoryOptions(quantization=Quantization.INT8),
        MemoryOptions(quantization=Quantization.FP8),
        MemoryOptions(vae_tiling=True, vae_slicing=True, text_encoders_off_gpu=True),
    ],
)
def test_all_on_gpu_modes_combine_with_a_split(memory: MemoryOptions) -> None:
    for split in Split:
        plan = resolve_split(job(2, split, memory=memory), gpus(2))
        assert plan.enabled and plan.notes == ()
        assert plan.applied_to(job(2, split, memory=memory)).memory == memory


def test_attention_slicing_and_compiling_are_off_under_a_sequence_split_only() -> None:
    request = job(2, memory=MemoryOptions(attention_slicing=True), speed=SpeedOptions(compile=True))
    guidance = resolve_split(request, gpus(2))
    assert guidance.notes == () and guidance.applied_to(request) == request
    ulysses_request = dataclasses.replace(request, parallel=ParallelOptions(2, Split.ULYSSES))
    ulysses = resolve_split(ulysses_request, gpus(2))
    assert [n.split(":")[0] for n in ulysses.notes] == [
        "Attention slicing is off under a sequence split",
        "Compiling is off under a sequence split",
    ]
    runs = ulysses.applied_to(ulysses_request)
    assert not runs.memory.attention_slicing and not runs.speed.compile
    assert runs.parallel == ulysses_request.parallel and runs.prompt == request.prompt


def test_batched_guidance_does_nothing_under_the_guidance_split() -> None:
    request = job(2, speed=SpeedOptions(guidance_batching=GuidanceBatching.BATCHED))
    assert resolve_split(request, gpus(2)).notes == (
        "Guidance batching does nothing under the guidance split: each GPU runs one branch.",
    )


def test_resolve_split_imports_no_torch() -> None:
    import subprocess
    import sys
    from pathlib import Path

    code = "import sys, core.parallel.plan, core.estimate; sys.exit('torch' in sys.modules)"
    root = Path(__file__).resolve().parents[1]
    assert subprocess.run([sys.executable, "-c", code], cwd=root, check=False).returncode == 0
