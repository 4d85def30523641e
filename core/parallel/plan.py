"""Choosing how one job is split over several GPUs (on the CPU: processes), before anything is loaded.

`resolve_split(request, caps)` turns `request.parallel` (a GPU count and a split, AUTO or named) into a
`SplitPlan`: the layout the ranks join (core/parallel/rank_context.py), one line saying why, and notes on what the split
turns off. A combination that cannot run is refused with one line, like any other bad option.

What `auto` picks, and why (the bytes from core/estimate.py's `split_traffic`, default job, bf16):

- a guided job (guidance > 1: the engine then runs an unconditional branch beside the conditional one, from the
  negative prompt, empty or not) on an even number of GPUs: the guidance split, each branch on half of them
  (2 GPUs: `guidance`; 4, 6, 8: `guidance × ulysses ×N/2`). The branches exchange one latents-sized noise
  prediction per step (about 5 MB), and splitting each branch's tokens over N/2 GPUs exchanges less than splitting
  both branches' tokens over N (4 GPUs: 7.7 GB against 11.6 GB per GPU and step);
- otherwise (no guidance, or an odd count): Ulysses over all of them. Never ring: diffusers' ring attention
  gathers every GPU's keys and values before computing, as many bytes as Ulysses on 2 GPUs and (N/2)× as many on
  N, and it holds them all at once. The link (NVLink, PCIe with or without peer access) does not change the
  choice (the guidance split is the cheapest everywhere); it changes the time the exchange costs, which the
  reason states.

Named splits: `guidance` needs a guided job and an even count (4+ GPUs: guidance × ulysses, the rest of the GPUs
splitting each branch's tokens); `ulysses` and `ring` put all N on the tokens.

Which memory modes combine with a split (every rank holds the whole model, see the README's "Several GPUs"):

- all on the GPU (offload none), with no quantization, int8 or fp8: yes;
- VAE tiling and slicing: yes (rank 0 alone decodes);
- text encoders off the GPU after encoding: yes (each rank moves its own);
- attention slicing: off under a sequence split (the split already divides the tokens), with a note;
- compiling: yes under the guidance split (each rank runs whole blocks as one process does); off under a
  sequence split, with a note: the blocks then hold the split's collectives, not checked here to compile;
- model, sequential and streamed offload: refused. Each rank would move the whole model through its own PCIe
  link every step (N copies of the offload traffic competing for the host), and the offload hooks move modules
  on and off the GPU around each call while the split's hooks expect them where they are.

No torch here: the window calls it on every change of a field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from core.engine.devices import Capabilities, Link, resolve_device
from core.errors import DeviceUnavailableError, InvalidRequestError
from core.estimate import (
    UNKNOWN_LINK,
    JobShape,
    communication_seconds,
    link_assumption,
    split_traffic,
)
from core.i18n import _t
from core.job.request import GenerationRequest, GuidanceBatching, Placement, Split
from core.parallel.rank_context import SplitLayout, ranks_on_this_machine

SEQUENCE_KINDS = {Split.ULYSSES: "ulysses", Split.RING: "ring"}
# Placements a split cannot run with (see the module docstring).
OFFLOAD_PLACEMENTS = (Placement.MODEL, Placement.SEQUENTIAL, Placement.STREAMED)


@dataclass(frozen=True)
class SplitPlan:
    """How a job runs over several GPUs: the ranks' layout, why, and what the split turned off."""

    layout: SplitLayout
    reason: str  # one line for the user (translatable template, filled in)
    notes: tuple[str, ...] = ()  # what was turned off or does nothing under the split
    link: str = "none"  # what the traffic crosses: core.engine.devices.Link's value, or "cpu" for processes on the CPU
    device: str = ""  # "cuda" or "cpu" ("" for one GPU: not split, nothing resolved)

    @property
    def enabled(self) -> bool:
        return self.layout.world > 1

    def applied_to(self, request: GenerationRequest) -> GenerationRequest:
        """The request as the ranks run it: under a sequence split, attention slicing and compiling off (each is
        a note of this plan). The request the user asked for is what the history keeps."""
        if not self.layout.splits_sequence:
            return request
        memory = dataclasses.replace(request.memory, attention_slicing=False)
        speed = dataclasses.replace(request.speed, compile=False)
        return dataclasses.replace(request, memory=memory, speed=speed)


def guided(request: GenerationRequest) -> bool:
    """Whether the job runs two guidance branches (core/engine/runner.py: `do_cfg = request.guidance > 1`; the negative
    prompt, even an empty one, is then encoded as the unconditional branch)."""
    return request.guidance > 1


def resolve_split(request: GenerationRequest, caps: Capabilities, link: str | None = None) -> SplitPlan:
    """The plan for `request.parallel` on this machine, or InvalidRequestError / DeviceUnavailableError with one
    line. `link` overrides the detected `caps.link` (for estimates of another machine, and tests)."""
    options = request.parallel
    problems = options.problems()
    if problems:
        raise InvalidRequestError(" ".join(problems))
    gpus = options.gpus
    if gpus == 1:
        return SplitPlan(SplitLayout(), _t("One GPU: the job is not split."))

    resolved = resolve_device(request.memory, caps)
    device = resolved.device
    if device == "mps":
        raise DeviceUnavailableError(
            _t("A job split over several GPUs needs CUDA GPUs (or the CPU, one process each); MPS cannot be split."),
            "Choose one GPU.",
        )
    local = ranks_on_this_machine(gpus)  # under torchrun over several computers, only this one's share
    if device == "cuda" and local > caps.cuda_devices:
        raise DeviceUnavailableError(
            _t("{gpus} GPUs were asked for, but this machine has {present}.").format(
                gpus=local, present=caps.cuda_devices
            ),
            _t("Choose at most {present}.").format(present=max(1, caps.cuda_devices)),
        )
    if request.memory.placement in OFFLOAD_PLACEMENTS:
        raise InvalidRequestError(
            _t(
                "The '{mode}' offload mode cannot be combined with a split over several GPUs: every GPU would move "
                "the whole model through its own PCIe link each step, and the offload hooks move modules that the "
                "split expects in place."
            ).format(mode=request.memory.placement.value),
            _t("Keep everything on the GPU (offload none, with int8 or fp8 if it does not fit), or use one GPU."),
        )

    layout, template = _choose(request, gpus)
    link_key = "cpu" if device == "cpu" else _link_key(link if link is not None else caps.link)
    shape = JobShape(
        request.width, request.height, request.num_frames, request.steps, request.guidance, request.max_sequence_length
    )
    traffic = split_traffic(shape, layout, dtype=resolved.dtype_name)
    reason = template.format(
        gpus=gpus,
        sequence=layout.sequence,
        split=layout.describe(),
        traffic=format_bytes(traffic.per_gpu_bytes),
        link=link_assumption(link_key).name,
        seconds=format_seconds(communication_seconds(traffic, link_key)),
    )
    return SplitPlan(layout, reason, _notes(request, layout, device, gpus), link_key, device)


def _choose(request: GenerationRequest, gpus: int) -> tuple[SplitLayout, str]:
    """The layout, and the reason's template (fields: gpus, sequence, split, traffic, link, seconds)."""
    split = request.parallel.split
    if split is Split.GUIDANCE:
        if not guided(request):
            raise InvalidRequestError(
                _t(
                    "The guidance split runs the two guidance branches on different GPUs, but this job has one "
                    "(guidance {value} runs no unconditional branch)."
                ).format(value=request.guidance),
                _t("Choose the ulysses or ring split, or a guidance above 1."),
            )
        if gpus % 2:
            raise InvalidRequestError(
                _t("The guidance split needs an even number of GPUs, half for each branch (got {gpus}).").format(
                    gpus=gpus
                ),
                _t("Choose 2, 4, 6 or 8 GPUs, or the ulysses split."),
            )
        return SplitLayout(2, gpus // 2, "ulysses"), _t(
            "{split}, as asked: each GPU sends about {traffic} per step over {link} (about {seconds})."
        )
    if split in SEQUENCE_KINDS:
        return SplitLayout(1, gpus, SEQUENCE_KINDS[split]), _t(
            "{split}, as asked: each GPU sends about {traffic} per step over {link} (about {seconds})."
        )
    # AUTO
    if guided(request) and gpus == 2:
        return SplitLayout(2, 1), _t(
            "guidance: 2 GPUs and a guided job, so each GPU runs one of the two guidance branches; each sends only "
            "{traffic} per step over {link} (about {seconds})."
        )
    if guided(request) and gpus % 2 == 0:
        return SplitLayout(2, gpus // 2, "ulysses"), _t(
            "{split}: {gpus} GPUs and a guided job, so each guidance branch runs on {sequence} GPUs with its "
            "tokens split between them, which exchanges less than splitting them over all {gpus}; each GPU sends "
            "about {traffic} per step over {link} (about {seconds})."
        )
    if guided(request):
        why = _t(
            "{split}: {gpus} GPUs cannot be shared evenly by the two guidance branches, so the tokens are split "
            "across all of them; each GPU sends about {traffic} per step over {link} (about {seconds}). Ulysses "
            "rather than ring: ring attention sends as much on 2 GPUs and more on more."
        )
    else:
        why = _t(
            "{split}: the job runs one guidance branch, so its tokens are split across the {gpus} GPUs; each GPU "
            "sends about {traffic} per step over {link} (about {seconds}). Ulysses rather than ring: ring attention "
            "sends as much on 2 GPUs and more on more."
        )
    return SplitLayout(1, gpus, "ulysses"), why


def _link_key(link: str | Link) -> str:
    key = str(link.value if isinstance(link, Link) else link)
    return UNKNOWN_LINK if key == Link.NONE.value else key


def _notes(request: GenerationRequest, layout: SplitLayout, device: str, gpus: int) -> tuple[str, ...]:
    notes: list[str] = []
    if layout.splits_sequence and request.memory.attention_slicing:
        notes.append(_t("Attention slicing is off under a sequence split: the split already divides the tokens."))
    if layout.splits_sequence and request.speed.compile:
        notes.append(
            _t(
                "Compiling is off under a sequence split: the blocks then hold the split's exchanges between GPUs, "
                "which this version has not checked to compile."
            )
        )
    if layout.splits_guidance and request.speed.guidance_batching is GuidanceBatching.BATCHED:
        notes.append(_t("Guidance batching does nothing under the guidance split: each GPU runs one branch."))
    if device == "cpu":
        notes.append(
            _t(
                "On the CPU the {gpus} processes share its cores: the split shows that the frames match, "
                "it does not make the job faster."
            ).format(gpus=gpus)
        )
    return tuple(notes)


def format_bytes(count: float) -> str:
    """Decimal units, as link bandwidths are given: 5.3 MB, 15.5 GB."""
    if count >= 1e9:
        return f"{count / 1e9:.1f} GB"
    if count >= 1e6:
        return f"{count / 1e6:.1f} MB"
    return f"{count / 1e3:.0f} kB"


def format_seconds(seconds: float) -> str:
    if seconds >= 0.1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.1f} ms"
