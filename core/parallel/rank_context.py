"""What one rank of a split job knows about the others: its place in the job's layout and the process groups it
talks to them over.

A job on N GPUs (on the CPU: N processes) is laid out as a 2-D mesh, guidance × sequence:

- along "guidance" (size 1 or 2) the two classifier-free-guidance branches run on different ranks (index 0 the
  unconditional branch, index 1 the conditional one) and exchange their noise predictions once per step;
- along "sequence" the video and text tokens are split, through diffusers' context parallelism (Ulysses or ring).

Every collective runs under the process group's timeout, so a rank that died makes the others raise instead of
waiting for ever.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch
    from torch.distributed.device_mesh import DeviceMesh

GUIDANCE_DIM = "guidance"
SEQUENCE_DIM = "sequence"
DEFAULT_COLLECTIVE_TIMEOUT = timedelta(minutes=5)  # a step of the 8B model on a slow card takes well under this
JOIN_TIMEOUT_FLOOR = timedelta(minutes=2)  # every rank starting up (torch imported, its GPU initialised)


@dataclass(frozen=True)
class SplitLayout:
    """How a job is divided: `guidance` ranks (1 or 2) × `sequence` ranks, tokens split the `sequence_kind` way."""

    guidance: int = 1
    sequence: int = 1
    sequence_kind: str = "ulysses"  # "ulysses" or "ring"; meaningless when sequence == 1

    @property
    def world(self) -> int:
        return self.guidance * self.sequence

    @property
    def splits_guidance(self) -> bool:
        return self.guidance > 1

    @property
    def splits_sequence(self) -> bool:
        return self.sequence > 1

    def describe(self) -> str:
        """`guidance`, `ulysses ×2`, `guidance × ring ×2`: for logs and the clip's metadata."""
        parts = []
        if self.splits_guidance:
            parts.append("guidance")
        if self.splits_sequence:
            parts.append(f"{self.sequence_kind} ×{self.sequence}")
        return " × ".join(parts) or "none"


@dataclass
class RankContext:
    """One rank's view of its split job (built by `join_ranks`)."""

    rank: int
    layout: SplitLayout
    device: torch.device
    mesh: DeviceMesh  # 2-D, dims (GUIDANCE_DIM, SEQUENCE_DIM)
    timeout: timedelta = DEFAULT_COLLECTIVE_TIMEOUT

    @property
    def world(self) -> int:
        return self.layout.world

    @property
    def is_leader(self) -> bool:
        """Rank 0 reports progress, keeps the journal and publishes the clip."""
        return self.rank == 0

    @property
    def guidance_index(self) -> int:
        """0: this rank computes the unconditional branch; 1: the conditional one (always 0 without that split)."""
        return self.mesh.get_local_rank(GUIDANCE_DIM)

    @property
    def guidance_group(self) -> Any:
        return self.mesh.get_group(GUIDANCE_DIM)

    @property
    def sequence_mesh(self) -> DeviceMesh:
        """The 1-D mesh this rank splits tokens over (diffusers' context parallelism takes it)."""
        return self.mesh[SEQUENCE_DIM]

    @property
    def sequence_group(self) -> Any:
        return self.mesh.get_group(SEQUENCE_DIM)

    def any_rank(self, flag: bool) -> bool:
        """True on every rank when it is True on any (a cancel, an error): all ranks take the same branch."""
        import torch
        import torch.distributed as dist

        value = torch.tensor([1.0 if flag else 0.0], device=self.device)
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item() > 0)


def launched_by_torchrun() -> bool:
    """This process is one rank that torchrun started (its environment names the rank and the rendezvous)."""
    return all(name in os.environ for name in ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"))


def ranks_on_this_machine(world: int) -> int:
    """How many of a job's `world` ranks run on this computer, each on a GPU of its own: all of them when the app
    starts them; under torchrun the ones it started here (a job over several computers needs only these GPUs)."""
    if launched_by_torchrun():
        return int(os.environ.get("LOCAL_WORLD_SIZE", world))
    return world


def distributed_backend(device_type: str) -> str:
    return "nccl" if device_type == "cuda" else "gloo"


def join_ranks(
    layout: SplitLayout,
    rank: int,
    device_type: str,
    init_method: str | None = None,
    timeout: timedelta = DEFAULT_COLLECTIVE_TIMEOUT,
) -> RankContext:
    """Join the job's process group as `rank` and build its mesh. `init_method` is a `tcp://host:port` or
    `file://` address; None reads torchrun's environment (MASTER_ADDR, MASTER_PORT). On CUDA each rank takes the
    GPU of its LOCAL_RANK (torchrun) or its rank (one machine)."""
    import torch
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh

    if device_type == "cuda":
        local = int(os.environ.get("LOCAL_RANK", rank))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = torch.device(device_type)
    if not dist.is_initialized():
        # Joining waits for every rank to start (import torch, initialise its GPU), which may take longer than one
        # exchange is allowed to: a floor for the rendezvous, then the job's own timeout for every exchange.
        dist.init_process_group(
            backend=distributed_backend(device_type),
            init_method=init_method or "env://",
            rank=rank,
            world_size=layout.world,
            timeout=max(timeout, JOIN_TIMEOUT_FLOOR),
        )
        _time_out_after(timeout)
    mesh = init_device_mesh(
        device_type, (layout.guidance, layout.sequence), mesh_dim_names=(GUIDANCE_DIM, SEQUENCE_DIM)
    )
    return RankContext(rank=rank, layout=layout, device=device, mesh=mesh, timeout=timeout)


def _time_out_after(timeout: timedelta) -> None:
    """Make the world group, and every process group created from here on (the mesh's dimensions, and the ones
    diffusers' context parallelism builds), time out after `timeout`. torch gives a subgroup created without an
    explicit timeout its backend's default (30 minutes for gloo, 10 for NCCL), not the world group's, and neither
    the device mesh nor diffusers passes one: a rank that hangs in the guidance exchange or in attention would hold
    the others that long. The defaults are module constants torch reads when a group is created; a rank process is
    the job's alone, so setting them here changes nothing else."""
    from torch.distributed import distributed_c10d

    distributed_c10d._set_pg_timeout(timeout)  # the world group (joined with the rendezvous floor)
    distributed_c10d.default_pg_timeout = timeout
    if isinstance(getattr(distributed_c10d, "default_pg_nccl_timeout", None), timedelta):
        distributed_c10d.default_pg_nccl_timeout = timeout


def leave_ranks() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()
