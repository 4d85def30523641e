"""Joint attention for the MMDiT blocks: one processor that calls the fastest available kernel, optionally a slice
of queries at a time.

Attention is about 79 % of a block's time at ContentV-8B's size, so the kernel is the main lever. The processor
computes exactly what SD3's `JointAttnProcessor2_0` computes (video and text tokens attend to each other) and
hands the (batch, heads, tokens, dim) tensors to one of these kernels:

- `sdpa`: `F.scaled_dot_product_attention` with PyTorch's own choice, as the stock processor (the CPU default);
- `math`, `efficient`, `flash`, `cudnn`: that PyTorch SDPA kernel only (`torch.nn.attention.sdpa_kernel`);
- `flash-attn`: the `flash-attn` package (FlashAttention-3 on Hopper when `flash_attn_interface` is installed),
  through diffusers' attention dispatcher;
- `sage`: SageAttention from the optional `sageattention` package (int8 QK, faster, a small approximation),
  through diffusers' attention dispatcher.

`auto` picks per GPU generation (`choose_attention_backend`). A kernel asked for by name that cannot run here is
refused before the model loads (`resolve_attention_backend`). Slicing (`query_chunk`) runs each slice's softmax
over all keys, so the result equals the unsliced one while the score buffer of a non-fused kernel shrinks from
(heads × N × N) to (heads × chunk × N).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from diffusers.models.attention_processor import Attention
from torch import nn

from core.errors import DeviceUnavailableError
from core.i18n import _t

DEFAULT_QUERY_CHUNK = 2048

TORCH_KERNELS = ("math", "efficient", "flash", "cudnn")
HALF_DTYPES = ("bfloat16", "float16")

# auto's preference on CUDA, fastest first, by GPU generation. Hopper and newer: cuDNN's fused attention beats
# FlashAttention-2 (PyTorch's "flash") there; FA3 beats both. Ampere/Ada: PyTorch's flash (FA2) is the fastest
# exact kernel. SageAttention, when installed, is faster still on sm80+ (an optional extra the user chose).
_PREFERENCE_SM90 = ("sage", "flash-attn", "cudnn", "flash", "efficient", "math")
_PREFERENCE_SM80 = ("sage", "flash", "flash-attn", "efficient", "math")
_PREFERENCE_OLDER = ("efficient", "math")
_PREFERENCE_FLOAT32 = ("efficient", "math")


@dataclass(frozen=True)
class AttentionEnvironment:
    """What decides which kernels can run: the device, compute dtype, GPU generation and installed packages."""

    device: str  # "cuda", "mps" or "cpu"
    dtype_name: str
    capability: tuple[int, int] = (0, 0)  # CUDA compute capability; (0, 0) off CUDA
    has_flash_attn: bool = False
    has_flash_attn_3: bool = False
    has_sage: bool = False
    # The installed distributions' versions ("" when unreadable); None: not looked up (an environment made up by
    # hand), taken as one diffusers accepts.
    flash_attn_version: str | None = None
    sage_version: str | None = None


def _minimum_versions() -> tuple[str, str]:
    """(flash-attn, sageattention): the oldest versions diffusers' dispatcher calls; older ones it leaves unbound,
    and a call then fails with "'NoneType' object is not callable"."""
    try:
        from diffusers.models import attention_dispatch

        return attention_dispatch._REQUIRED_FLASH_VERSION, attention_dispatch._REQUIRED_SAGE_VERSION
    except (ImportError, AttributeError):  # a diffusers that renamed them: the values of 0.42
        return "2.6.3", "2.1.1"


def _installed_version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return ""


def _older_than(installed: str | None, minimum: str) -> bool:
    """Whether a looked-up version is one diffusers refuses (an unreadable one too: diffusers reads the same
    metadata, so it does not bind that package either)."""
    if installed is None:
        return False
    from packaging.version import InvalidVersion, Version

    try:
        return Version(installed) < Version(minimum)
    except InvalidVersion:
        return True


def detect_attention_environment(device: str, dtype_name: str) -> AttentionEnvironment:
    capability = (0, 0)
    if device == "cuda" and torch.cuda.is_available():
        capability = torch.cuda.get_device_capability()
    has_flash_attn = importlib.util.find_spec("flash_attn") is not None
    has_sage = importlib.util.find_spec("sageattention") is not None
    return AttentionEnvironment(
        device=device,
        dtype_name=dtype_name,
        capability=capability,
        has_flash_attn=has_flash_attn,
        has_flash_attn_3=importlib.util.find_spec("flash_attn_interface") is not None,
        has_sage=has_sage,
        flash_attn_version=_installed_version("flash-attn") if has_flash_attn else None,
        sage_version=_installed_version("sageattention") if has_sage else None,
    )


def _too_old(package: str, installed: str | None, minimum: str) -> str:
    return _t(
        "{package} {version} is installed, but diffusers needs {minimum} or newer (pip install -U {package})"
    ).format(package=package, version=installed or "?", minimum=minimum)


def unavailable_reason(backend: str, env: AttentionEnvironment) -> str | None:
    """Why `backend` cannot run in `env`, or None when it can."""
    if backend in ("sdpa", "math"):
        return None
    if env.device != "cuda":
        return _t("the '{kernel}' attention kernel needs a CUDA GPU").format(kernel=backend)
    half = env.dtype_name in HALF_DTYPES
    sm = env.capability
    if backend == "efficient":
        return (
            None if sm >= (5, 0) else _t("the memory-efficient kernel needs a GPU of compute capability 5.0 or newer")
        )
    if backend == "flash":
        if sm < (8, 0):
            return _t("PyTorch's flash kernel needs an Ampere GPU or newer (this one is {arch})").format(
                arch=f"sm{sm[0]}{sm[1]}"
            )
        return None if half else _t("PyTorch's flash kernel needs bfloat16 or float16")
    if backend == "cudnn":
        if sm < (8, 0):
            return _t("cuDNN attention needs an Ampere GPU or newer (this one is {arch})").format(
                arch=f"sm{sm[0]}{sm[1]}"
            )
        return None if half else _t("cuDNN attention needs bfloat16 or float16")
    if backend == "flash-attn":
        if not (env.has_flash_attn or env.has_flash_attn_3):
            return _t("the flash-attn package is not installed (pip install flash-attn)")
        minimum = _minimum_versions()[0]
        if not env.has_flash_attn_3 and _older_than(env.flash_attn_version, minimum):  # FA3 has no minimum
            return _too_old("flash-attn", env.flash_attn_version, minimum)
        if sm < (8, 0):
            return _t("flash-attn needs an Ampere GPU or newer")
        return None if half else _t("flash-attn needs bfloat16 or float16")
    if backend == "sage":
        if not env.has_sage:
            return _t("the sageattention package is not installed (pip install sageattention)")
        minimum = _minimum_versions()[1]
        if _older_than(env.sage_version, minimum):
            return _too_old("sageattention", env.sage_version, minimum)
        if sm < (8, 0):
            return _t("SageAttention needs an Ampere GPU or newer")
        return None if half else _t("SageAttention needs bfloat16 or float16")
    return _t("'{kernel}' is not an attention kernel this app knows").format(kernel=backend)


def choose_attention_backend(env: AttentionEnvironment) -> str:
    """auto: the fastest kernel that can run in `env`."""
    if env.device != "cuda":
        return "sdpa"  # PyTorch's own choice on the CPU and MPS (the stock processor's numerics)
    if env.dtype_name not in HALF_DTYPES:
        order = _PREFERENCE_FLOAT32
    elif env.capability >= (9, 0):
        order = _PREFERENCE_SM90
    elif env.capability >= (8, 0):
        order = _PREFERENCE_SM80
    else:
        order = _PREFERENCE_OLDER
    return next(name for name in order if unavailable_reason(name, env) is None)


def auto_attention_notes(env: AttentionEnvironment) -> list[str]:
    """One line per optional kernel that is installed but that `auto` passed over because diffusers cannot use the
    installed version (for the job's notes)."""
    if env.device != "cuda" or env.dtype_name not in HALF_DTYPES or env.capability < (8, 0):
        return []  # auto would not pick these here whatever the version
    chosen = choose_attention_backend(env)
    notes = []
    for name, installed in (("sage", env.has_sage), ("flash-attn", env.has_flash_attn or env.has_flash_attn_3)):
        reason = unavailable_reason(name, env) if installed else None
        if reason is not None:
            notes.append(
                _t("The '{kernel}' attention kernel was not used: {reason}; using '{chosen}' instead.").format(
                    kernel=name, reason=reason, chosen=chosen
                )
            )
    return notes


def resolve_attention_backend(requested: str, env: AttentionEnvironment) -> str:
    """The kernel a job will use; a forced kernel that cannot run here is a clear error (before any loading)."""
    if requested == "auto":
        return choose_attention_backend(env)
    reason = unavailable_reason(requested, env)
    if reason is not None:
        raise DeviceUnavailableError(
            _t("The attention kernel '{kernel}' cannot run here: {reason}.").format(kernel=requested, reason=reason),
            "Choose --attention auto to use the fastest one available.",
        )
    return requested


def _flash_attn_name(env_has_fa3: bool) -> str:
    return "_flash_3" if env_has_fa3 else "flash"


def torch_kernel_choice(backend: str, strict: bool = True) -> Any:
    """A context in which PyTorch's SDPA runs the named kernel ("math", "efficient", "flash", "cudnn"): only that
    one when `strict`, else that one first (see `attend`)."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    kernels = {
        "cudnn": SDPBackend.CUDNN_ATTENTION,
        "flash": SDPBackend.FLASH_ATTENTION,
        "efficient": SDPBackend.EFFICIENT_ATTENTION,
        "math": SDPBackend.MATH,
    }
    chosen = kernels[backend]
    if strict:
        return sdpa_kernel(chosen)
    return sdpa_kernel([chosen, *(k for k in kernels.values() if k != chosen)], set_priority=True)


def attend(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, backend: str, strict: bool = True
) -> torch.Tensor:
    """Attention of (batch, heads, tokens, dim) tensors with the named kernel; the same layout comes back.

    `strict=False` (the kernel `auto` chose) makes a PyTorch kernel the first choice rather than the only one, so
    an input it turns down at run time (a head size, a driver's cuDNN) falls back to the next one instead of
    failing the job; a kernel the user forced stays the only one."""
    if backend == "sdpa":
        return F.scaled_dot_product_attention(query, key, value, dropout_p=0.0, is_causal=False)
    if backend in TORCH_KERNELS:
        with torch_kernel_choice(backend, strict):
            return F.scaled_dot_product_attention(query, key, value, dropout_p=0.0, is_causal=False)
    from diffusers.models.attention_dispatch import dispatch_attention_fn

    if backend == "flash-attn":
        name = _flash_attn_name(importlib.util.find_spec("flash_attn_interface") is not None)
    elif backend == "sage":
        name = "sage"
    else:
        raise ValueError(f"unknown attention kernel {backend!r}")
    # diffusers' dispatcher takes (batch, tokens, heads, dim).
    out = dispatch_attention_fn(
        query.transpose(1, 2),
        key.transpose(1, 2),
        value.transpose(1, 2),
        backend=name,  # pyright: ignore[reportArgumentType]
    )
    return out.transpose(1, 2)


def _heads(x: torch.Tensor, batch: int, heads: int, head_dim: int) -> torch.Tensor:
    return x.view(batch, -1, heads, head_dim).transpose(1, 2)


class JointAttentionProcessor:
    """SD3's joint attention with a chosen kernel and optional query slicing (`query_chunk=None`: unsliced)."""

    def __init__(self, backend: str = "sdpa", query_chunk: int | None = None, strict: bool = True) -> None:
        if query_chunk is not None and query_chunk < 1:
            raise ValueError("query_chunk must be at least 1")
        self.backend = backend
        self.query_chunk = query_chunk
        self.strict = strict  # False: `auto` chose the kernel; PyTorch may fall back (see `attend`)

    def with_kernel(self, backend: str, strict: bool) -> JointAttentionProcessor:
        """This processor with another kernel, slicing kept."""
        if self.query_chunk is None:
            return JointAttentionProcessor(backend, None, strict)
        return ChunkedJointAttnProcessor(self.query_chunk, backend, strict)

    def with_slicing(self, query_chunk: int) -> JointAttentionProcessor:
        """This processor slicing its queries `query_chunk` at a time, kernel kept."""
        return ChunkedJointAttnProcessor(query_chunk, self.backend, self.strict)

    def _attend_joint(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
        """Attention of the joint (batch, heads, tokens, dim) tensors; returns (batch, tokens, heads × dim)."""
        batch, heads, total, head_dim = query.shape
        if self.query_chunk is None or self.query_chunk >= total:
            return attend(query, key, value, self.backend, self.strict).transpose(1, 2).reshape(batch, total, -1)
        # Written slice by slice into one buffer (batch, tokens, heads*dim), so no list of slices is kept alive.
        out = query.new_empty(batch, total, heads * head_dim)
        for start in range(0, total, self.query_chunk):
            stop = min(start + self.query_chunk, total)
            part = attend(query[:, :, start:stop], key, value, self.backend, self.strict)
            out[:, start:stop] = part.transpose(1, 2).reshape(batch, stop - start, -1)
            del part
        return out

    def __call__(
        self,
        attn: Any,  # diffusers' Attention, whose projections are typed Optional although a joint block has them all
        hidden_states: torch.Tensor,
        encoder_hidden_states: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        *args: object,
        **kwargs: object,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        batch, video_tokens = hidden_states.shape[0], hidden_states.shape[1]
        query = attn.to_q(hidden_states)
        key = attn.to_k(hidden_states)
        value = attn.to_v(hidden_states)
        head_dim = key.shape[-1] // attn.heads
        query, key, value = (_heads(t, batch, attn.heads, head_dim) for t in (query, key, value))
        if attn.norm_q is not None:
            query = attn.norm_q(query)
        if attn.norm_k is not None:
            key = attn.norm_k(key)

        if encoder_hidden_states is not None:
            ctx_q = _heads(attn.add_q_proj(encoder_hidden_states), batch, attn.heads, head_dim)
            ctx_k = _heads(attn.add_k_proj(encoder_hidden_states), batch, attn.heads, head_dim)
            ctx_v = _heads(attn.add_v_proj(encoder_hidden_states), batch, attn.heads, head_dim)
            if attn.norm_added_q is not None:
                ctx_q = attn.norm_added_q(ctx_q)
            if attn.norm_added_k is not None:
                ctx_k = attn.norm_added_k(ctx_k)
            query = torch.cat([query, ctx_q], dim=2)
            key = torch.cat([key, ctx_k], dim=2)
            value = torch.cat([value, ctx_v], dim=2)

        out = self._attend_joint(query, key, value)
        del query, key, value
        out = out.to(hidden_states.dtype)

        if encoder_hidden_states is not None:
            hidden_out, context_out = out[:, :video_tokens], out[:, video_tokens:]
            if not attn.context_pre_only:
                context_out = attn.to_add_out(context_out)
        else:
            hidden_out, context_out = out, None

        hidden_out = attn.to_out[0](hidden_out)
        hidden_out = attn.to_out[1](hidden_out)
        if context_out is not None:
            return hidden_out, context_out
        return hidden_out


class ChunkedJointAttnProcessor(JointAttentionProcessor):
    """The sliced variant (attention slicing), on top of whichever kernel is in use."""

    def __init__(self, query_chunk: int = DEFAULT_QUERY_CHUNK, backend: str = "sdpa", strict: bool = True) -> None:
        super().__init__(backend=backend, query_chunk=query_chunk, strict=strict)


def _attention_modules(model: nn.Module) -> list[Attention]:
    return [m for m in model.modules() if isinstance(m, Attention)]


def _current_backend(module: Attention) -> tuple[str, bool]:
    return getattr(module.processor, "backend", "sdpa"), getattr(module.processor, "strict", True)


def set_attention_backend(model: nn.Module, backend: str, strict: bool = True) -> int:
    """Route every joint attention of `model` to `backend`, keeping slicing as it is; returns how many.
    `strict=False` for a kernel `auto` chose (PyTorch may fall back from it, see `attend`). A processor of this
    module's family rebuilds itself (`with_kernel`), so a sequence-split one stays split."""
    modules = _attention_modules(model)
    for module in modules:
        current = module.processor
        if isinstance(current, JointAttentionProcessor):
            processor = current.with_kernel(backend, strict)
        else:
            processor = JointAttentionProcessor(backend, None, strict)
        module.set_processor(processor)  # pyright: ignore[reportArgumentType]
    return len(modules)


def attention_backend_in_use(model: nn.Module) -> str:
    """The kernel the model's attention calls ("mixed" if they differ, "" if it has none)."""
    names = {_current_backend(m)[0] for m in _attention_modules(model)}
    if not names:
        return ""
    return names.pop() if len(names) == 1 else "mixed"


def enable_attention_slicing(model: nn.Module, query_chunk: int = DEFAULT_QUERY_CHUNK) -> int:
    """Switch every joint attention of `model` to the chunked processor; returns how many were switched (none
    under a sequence split, whose processors refuse slicing: the split already divides the tokens)."""
    switched = 0
    for module in _attention_modules(model):
        current = module.processor
        if isinstance(current, JointAttentionProcessor):
            processor = current.with_slicing(query_chunk)
        else:
            processor = ChunkedJointAttnProcessor(query_chunk, *_current_backend(module))
        if processor is not current:
            module.set_processor(processor)  # pyright: ignore[reportArgumentType]
            switched += 1
    return switched


def disable_attention_slicing(model: nn.Module) -> None:
    for module in _attention_modules(model):
        if isinstance(module.processor, ChunkedJointAttnProcessor):
            backend, strict = _current_backend(module)
            module.set_processor(JointAttentionProcessor(backend, None, strict))  # pyright: ignore[reportArgumentType]


def attention_slicing_enabled(model: nn.Module) -> bool:
    modules = _attention_modules(model)
    return bool(modules) and all(isinstance(m.processor, ChunkedJointAttnProcessor) for m in modules)
