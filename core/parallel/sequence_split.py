"""The sequence split: one clip's video and text tokens divided across the ranks of a split job, through diffusers'
own context parallelism (Ulysses or ring attention).

- The plan (`contentv_cp_plan`): the outputs of `pos_embed` (the 3D position embedding is already added inside
  it, so no rank needs positions of its own) and of `context_embedder` are split along the tokens; every block then
  works on its rank's share; `proj_out`'s output is gathered, so every rank holds the whole prediction and the
  scheduler step is the same everywhere.
- Attention is the one place a token needs the others: the joint processor here hands its (batch, tokens, heads,
  dim) tensors to diffusers' `dispatch_attention_fn` with the `parallel_config` diffusers gave the processor, so
  the Ulysses all-to-all or the ring's key/value passes happen inside the dispatcher.
- Uneven shares: the split is always diffusers' "anything" mode (`ulysses_anything` / `ring_anything`), so any
  head count (3 heads on 2 ranks) and any token count (77 + 256 text tokens, odd video token counts) work.
- Which kernel computes each rank's attention (`sequence_split_route`): the per-GPU choice of core/engine/attention.py
  where diffusers' dispatcher has that kernel with context-parallel support (flash-attn, sage, cuDNN, PyTorch's
  flash), else the dispatcher's native backend (PyTorch SDPA, kept to the math or efficient kernel that was
  chosen). Ring attention needs each partial result's log-sum-exp, which the native backend does not return; for
  ring without a fused kernel the processor runs diffusers' ring template with a small forward op that returns it
  (`_sdpa_with_lse`: PyTorch's CPU flash kernel on the CPU, the memory-efficient kernel on CUDA).
- Query slicing is off under a split (the split already divides the tokens).

All ranks of the job call `enable_sequence_split` together: it builds process groups, which is collective.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from diffusers.hooks.context_parallel import ContextParallelGatherHook
from diffusers.models._modeling_parallel import ContextParallelInput, ContextParallelOutput, gather_size_by_comm

from core.engine.attention import HALF_DTYPES, JointAttentionProcessor, _attention_modules, torch_kernel_choice

if TYPE_CHECKING:
    from core.parallel.rank_context import RankContext

SEQUENCE_KINDS = ("ulysses", "ring")


GATHER_MODULE = "proj_out"


def contentv_cp_plan() -> dict[str, Any]:
    """The `_cp_plan` of ContentVTransformer3DModel (diffusers' ContextParallelModelPlan)."""
    split_tokens = {0: ContextParallelInput(split_dim=1, expected_dims=3, split_output=True)}
    return {
        "pos_embed": split_tokens,  # (batch, video tokens, dim), position embedding included
        "context_embedder": split_tokens,  # (batch, text tokens, dim)
        GATHER_MODULE: ContextParallelOutput(gather_dim=1, expected_dims=3),  # every rank gets every video token
    }


class PaddedGatherHook(ContextParallelGatherHook):
    """diffusers' gather hook, gathering uneven shares by padding them to the largest.

    diffusers gathers the uneven shares of its "anything" modes with `dist.all_gather` of tensors of different
    sizes, which NCCL accepts and gloo (the CPU backend) refuses ("invalid tensor size"). Padding every share to
    the largest (at most one token here), gathering equal sizes and trimming gives the same tensor everywhere."""

    def __init__(self, output_plan: ContextParallelOutput, cp_config: Any) -> None:
        super().__init__([output_plan], cp_config)  # pyright: ignore[reportArgumentType]  (diffusers' own form)
        self.gather_dim = output_plan.gather_dim

    def post_forward(self, module: torch.nn.Module, output: Any) -> torch.Tensor:
        import torch.distributed as dist

        if not isinstance(output, torch.Tensor):
            raise ValueError(f"the split's gather expects one tensor, not {type(output)}")
        dim = self.gather_dim
        group = self.parallel_config._flattened_mesh.get_group()
        sizes = gather_size_by_comm(output.shape[dim], group)
        padding = [0, 0] * (output.dim() - 1 - dim) + [0, max(sizes) - output.shape[dim]]
        share = torch.nn.functional.pad(output, padding).contiguous()
        shares = [torch.empty_like(share) for _ in sizes]
        dist.all_gather(shares, share, group=group)
        return torch.cat([s.narrow(dim, 0, size) for s, size in zip(shares, sizes, strict=True)], dim=dim)


@dataclass(frozen=True)
class Route:
    """How a rank computes its attention under a sequence split.

    `dispatcher`: the diffusers backend `dispatch_attention_fn` is called with (None: diffusers' ring template with
    the log-sum-exp op here); `torch_kernel`: the PyTorch SDPA kernel the native backend is held to (None: PyTorch
    chooses); `kernel`: the app's name of what runs (what `attention_backend_in_use` reports)."""

    dispatcher: str | None
    torch_kernel: str | None
    kernel: str


def _diffusers_can_use(package: str) -> bool:
    from diffusers.models import attention_dispatch

    flag = {"flash-attn": "_CAN_USE_FLASH_ATTN", "sage": "_CAN_USE_SAGE_ATTN"}[package]
    return bool(getattr(attention_dispatch, flag, False))


def sequence_split_route(
    kernel: str, kind: str, device_type: str, dtype: torch.dtype, capability: tuple[int, int] = (0, 0)
) -> Route:
    """The route for the kernel core/engine/attention.py chose (`kernel`), a split of `kind` and the job's device."""
    half = str(dtype).removeprefix("torch.") in HALF_DTYPES
    if device_type == "cuda" and half and capability >= (8, 0):
        # diffusers registers these with context-parallel support; each returns the log-sum-exp ring needs.
        if kernel == "flash-attn" and _diffusers_can_use("flash-attn"):
            return Route("flash", None, "flash-attn")
        if kernel == "sage" and _diffusers_can_use("sage"):
            return Route("sage", None, "sage")
        if kernel == "cudnn":
            return Route("_native_cudnn", None, "cudnn")
        if kernel == "flash":
            return Route("_native_flash", None, "flash")
    if kind == "ulysses":
        # After the all-to-all each rank attends over every token for its heads: the native backend is PyTorch's
        # SDPA, and the math or efficient kernel that was chosen is kept by holding SDPA to it.
        if kernel == "math" or (kernel == "efficient" and device_type == "cuda"):
            return Route("native", kernel, kernel)
        return Route("native", None, "sdpa")
    if device_type == "cpu":
        return Route(None, None, "sdpa")  # PyTorch's CPU flash kernel: the one SDPA itself runs on the CPU
    if device_type == "cuda":
        return Route(None, None, "efficient")
    return Route(None, None, "math")


def _sdpa_with_lse(
    ctx: Any,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attn_mask: torch.Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
    return_lse: bool = False,
    _save_ctx: bool = True,
    _parallel_config: Any = None,
) -> Any:
    """A forward op for diffusers' ring template: attention of (batch, tokens, heads, dim) tensors and its
    log-sum-exp (batch, tokens, heads), which each ring step needs to merge its partial result and which the native
    backend does not return. Inference only (no state is saved for a backward pass)."""
    if attn_mask is not None or dropout_p or is_causal or enable_gqa:
        raise ValueError("the sequence split's attention takes no mask, dropout, causal or grouped heads")
    q, k, v = (t.transpose(1, 2) for t in (query, key, value))  # (batch, heads, tokens, dim)
    if q.device.type == "cpu":
        out, lse = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(q, k, v, 0.0, False, scale=scale)
    elif q.device.type == "cuda":
        q, k, v = (t.contiguous() for t in (q, k, v))
        efficient = torch.ops.aten._scaled_dot_product_efficient_attention
        out, lse = efficient(q, k, v, None, True, 0.0, False, scale=scale)[:2]
        lse = lse[..., : q.shape[2]]  # the kernel pads it to a multiple of 32 queries
    else:
        scores = (q.float() @ k.float().transpose(-1, -2)) * (scale or q.shape[-1] ** -0.5)
        lse = scores.logsumexp(dim=-1)
        out = (torch.softmax(scores, dim=-1) @ v.float()).to(q.dtype)
    out = out.transpose(1, 2)
    lse = lse.transpose(1, 2)
    return (out, lse) if return_lse else out


def _no_backward(*_args: Any, **_kwargs: Any) -> Any:
    raise NotImplementedError("the sequence split runs inference only")


class SequenceSplitJointAttnProcessor(JointAttentionProcessor):
    """The joint attention under a sequence split: each rank's video and text tokens (its shares) attend to every
    rank's tokens through diffusers' context-parallel attention.

    `backend` is the kernel that actually runs (see `sequence_split_route`), `requested` the one
    core/engine/attention.py
    chose. diffusers' `enable_parallelism` sets `_parallel_config`; `_attention_backend` is the dispatcher backend it
    checks for context-parallel support (None: the native one)."""

    def __init__(
        self,
        requested: str,
        strict: bool,
        kind: str,
        device: torch.device,
        dtype: torch.dtype,
        parallel_config: Any = None,
    ) -> None:
        if kind not in SEQUENCE_KINDS:
            raise ValueError(f"unknown sequence split {kind!r}")
        super().__init__(requested, None, strict)
        self.requested = requested
        self.kind = kind
        self._parallel_config = parallel_config
        self._device, self._dtype = device, dtype  # the model's, until a call shows its tensors'
        self._routes: dict[tuple[str, torch.dtype], Route] = {}
        self.route = self._route_for(device, dtype)

    def _route_for(self, device: torch.device, dtype: torch.dtype) -> Route:
        key = (device.type, dtype)
        route = self._routes.get(key)
        if route is None:
            capability = torch.cuda.get_device_capability(device) if device.type == "cuda" else (0, 0)
            route = sequence_split_route(self.requested, self.kind, device.type, dtype, capability)
            self._routes[key] = route
        self._device, self._dtype = device, dtype
        self.route, self.backend = route, route.kernel
        self._attention_backend = route.dispatcher
        return route

    def with_kernel(self, backend: str, strict: bool) -> JointAttentionProcessor:
        return SequenceSplitJointAttnProcessor(
            backend, strict, self.kind, self._device, self._dtype, self._parallel_config
        )

    def with_slicing(self, query_chunk: int) -> JointAttentionProcessor:
        return self  # the split already divides the tokens; slicing stays off

    def _attend_joint(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        if self._parallel_config is None:  # not split (yet): the plain processor's kernel
            return super()._attend_joint(query, key, value)
        from diffusers.models.attention_dispatch import (
            AttentionBackendName,
            _templated_context_parallel_attention,
            dispatch_attention_fn,
        )

        batch, _, tokens, _ = query.shape
        route = self._route_for(query.device, query.dtype)
        q, k, v = (t.transpose(1, 2) for t in (query, key, value))  # diffusers' layout: (batch, tokens, heads, dim)
        if route.dispatcher is None:
            out = _templated_context_parallel_attention(
                q, k, v, forward_op=_sdpa_with_lse, backward_op=_no_backward, _parallel_config=self._parallel_config
            )
        else:
            held = torch_kernel_choice(route.torch_kernel, self.strict) if route.torch_kernel else nullcontext()
            with held:
                out = dispatch_attention_fn(
                    q, k, v, backend=AttentionBackendName(route.dispatcher), parallel_config=self._parallel_config
                )
        return torch.as_tensor(out).reshape(batch, tokens, -1)


def _context_parallel_config(ctx: RankContext) -> Any:
    """diffusers' config for this rank's sequence group: its mesh must name a "ring" and a "ulysses" dimension, so
    the job's (guidance, sequence) mesh is re-laid out as (guidance, ring, ulysses) over the same ranks."""
    from diffusers.models._modeling_parallel import ContextParallelConfig
    from torch.distributed.device_mesh import DeviceMesh

    kind = ctx.layout.sequence_kind
    if kind not in SEQUENCE_KINDS:
        raise ValueError(f"unknown sequence split {kind!r}")
    size = ctx.layout.sequence
    ring, ulysses = (size, 1) if kind == "ring" else (1, size)
    ranks = ctx.mesh.mesh.reshape(ctx.layout.guidance, ring, ulysses)
    mesh = DeviceMesh(ctx.mesh.device_type, ranks, mesh_dim_names=("guidance", "ring", "ulysses"))
    return ContextParallelConfig(
        ring_degree=ring,
        ulysses_degree=ulysses,
        ulysses_anything=kind == "ulysses",
        ring_anything=kind == "ring",
        mesh=mesh["ring", "ulysses"],
    )


def resolve_parallel_config_on_mesh(model: Any, config: Any) -> Any:
    """What diffusers' `ModelMixin._resolve_parallel_config` does, with the rank's device taken from the mesh.

    diffusers derives the device as `rank % torch.accelerator.device_count()`, which divides by zero on the CPU
    (no accelerator) and takes the global rank for a GPU index; a split's rank already sits on its device
    (`join_ranks` set it), and the mesh is always given here, so none is built."""
    import torch.distributed as dist
    from diffusers.models._modeling_parallel import ContextParallelConfig, ParallelConfig

    if isinstance(config, ContextParallelConfig):
        config = ParallelConfig(context_parallel_config=config)
    cp_config = config.context_parallel_config
    if cp_config is None or cp_config.mesh is None:
        raise ValueError("the sequence split gives diffusers a context-parallel config with its mesh")
    mesh = cp_config.mesh
    if mesh.device_type == "cuda":
        device = torch.device("cuda", torch.cuda.current_device())
    else:
        device = torch.device(mesh.device_type)
    config.setup(dist.get_rank(), dist.get_world_size(), device, mesh=mesh)
    model._parallel_config = config
    return config


def enable_sequence_split(transformer: Any, ctx: RankContext) -> None:
    """Split `transformer`'s tokens over `ctx`'s sequence group, the `ctx.layout.sequence_kind` way. Call it on
    every rank after loading, before the first job; a second call on the same transformer does nothing. A layout
    without a sequence split leaves the transformer as it is."""
    if sequence_split_enabled(transformer) or not ctx.layout.splits_sequence:
        return
    dtype = transformer.dtype
    for module in _attention_modules(transformer):
        current = module.processor
        requested = getattr(current, "backend", "sdpa")
        strict = getattr(current, "strict", True)
        processor = SequenceSplitJointAttnProcessor(requested, strict, ctx.layout.sequence_kind, ctx.device, dtype)
        module.set_processor(processor)  # pyright: ignore[reportArgumentType]
    from diffusers.hooks import HookRegistry
    from diffusers.hooks.context_parallel import _CONTEXT_PARALLEL_OUTPUT_HOOK_TEMPLATE

    plan = contentv_cp_plan()
    gather = plan.pop(GATHER_MODULE)
    assert isinstance(gather, ContextParallelOutput)
    transformer.enable_parallelism(config=_context_parallel_config(ctx), cp_plan=plan)
    # The gather goes in by hand, under diffusers' own hook name, to gather uneven shares over gloo too.
    hook = PaddedGatherHook(gather, transformer._parallel_config.context_parallel_config)
    registry = HookRegistry.check_if_exists_or_initialize(getattr(transformer, GATHER_MODULE))
    registry.register_hook(hook, _CONTEXT_PARALLEL_OUTPUT_HOOK_TEMPLATE.format(GATHER_MODULE))


def sequence_split_enabled(transformer: Any) -> bool:
    config = getattr(transformer, "_parallel_config", None)
    return config is not None and config.context_parallel_config is not None
