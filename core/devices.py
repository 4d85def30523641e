"""What this machine can run, and the checks that turn an impossible memory mode into a clear message
before anything is loaded."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from core.errors import DeviceUnavailableError
from core.i18n import _t
from core.request import MemoryOptions, Placement


@dataclass(frozen=True)
class Capabilities:
    cuda: bool
    mps: bool
    cuda_name: str = ""
    cuda_total_bytes: int = 0
    bf16: bool = False

    @property
    def accelerator(self) -> str | None:
        if self.cuda:
            return "cuda"
        if self.mps:
            return "mps"
        return None


@lru_cache(maxsize=1)
def detect_capabilities() -> Capabilities:
    import torch

    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None)) and torch.backends.mps.is_available()
    if not cuda:
        return Capabilities(cuda=False, mps=mps)
    props = torch.cuda.get_device_properties(0)
    return Capabilities(
        cuda=True,
        mps=mps,
        cuda_name=props.name,
        cuda_total_bytes=int(props.total_memory),
        bf16=torch.cuda.is_bf16_supported(),
    )


@dataclass(frozen=True)
class ResolvedDevice:
    device: str  # "cuda", "mps" or "cpu"
    dtype_name: str  # compute dtype of the transformer and text encoders
    vae_dtype_name: str = "float32"  # the Wan VAE runs in float32, as the official demo does


def resolve_device(options: MemoryOptions, caps: Capabilities | None = None) -> ResolvedDevice:
    """Turn 'auto' into a concrete device and dtype, or explain why the request cannot run here."""
    caps = caps or detect_capabilities()
    device = options.device
    if device == "auto":
        device = caps.accelerator or "cpu"
    if device == "cuda" and not caps.cuda:
        raise DeviceUnavailableError(
            "A CUDA GPU was asked for, but PyTorch sees none on this machine.",
            "Check the NVIDIA driver, or choose --device cpu (slow).",
        )
    if device == "mps" and not caps.mps:
        raise DeviceUnavailableError("Apple's MPS device was asked for, but this machine has none.")

    if options.placement is not Placement.GPU and device == "cpu":
        raise DeviceUnavailableError(
            _t(
                "The '{mode}' offload mode moves weights between system memory and a GPU, and this machine has no GPU."
            ).format(mode=options.placement.value),
            "Use --offload none on the CPU.",
        )
    if options.placement is Placement.STREAMED and device != "cuda":
        raise DeviceUnavailableError(
            "Streamed block offload needs a CUDA GPU (it prefetches blocks on a side CUDA stream).",
            "Choose model or sequential offload instead.",
        )

    dtype = options.dtype
    if dtype == "auto":
        if device == "cuda":
            dtype = "bfloat16" if caps.bf16 else "float16"
        elif device == "mps":
            dtype = "float16"
        else:
            dtype = "float32"
    if dtype == "bfloat16" and device == "cuda" and not caps.bf16:
        raise DeviceUnavailableError(
            _t("This GPU ({gpu}) does not support bfloat16.").format(gpu=caps.cuda_name), "Choose --dtype float16."
        )
    return ResolvedDevice(device=device, dtype_name=dtype)


def unavailable_reasons(caps: Capabilities) -> dict[str, str]:
    """Options a GUI should grey out on this machine, with the reason to show."""
    reasons: dict[str, str] = {}
    if caps.accelerator is None:
        no_gpu = _t("Needs a GPU; this machine has none.")
        reasons[Placement.MODEL.value] = no_gpu
        reasons[Placement.SEQUENTIAL.value] = no_gpu
    if not caps.cuda:
        reasons[Placement.STREAMED.value] = _t("Needs a CUDA GPU (side-stream prefetch).")
    return reasons
