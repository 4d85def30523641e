"""What this machine can run, and the checks that turn an impossible memory mode into a clear message
before anything is loaded."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from core.errors import DeviceUnavailableError
from core.i18n import _t
from core.job.request import MemoryOptions, Placement

logger = logging.getLogger(__name__)


class Link(str, Enum):
    """How the machine's CUDA GPUs reach each other, fastest first (what a split job's traffic crosses)."""

    NVLINK = "nvlink"  # an NVLink bridge or switch
    P2P = "p2p"  # PCIe with peer access: one GPU copies straight into the other's memory
    PCIE = "pcie"  # PCIe without peer access (GeForce 40-series and later): NCCL stages through host memory
    NONE = "none"  # fewer than two GPUs

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Capabilities:
    cuda: bool
    mps: bool
    cuda_name: str = ""
    cuda_total_bytes: int = 0
    bf16: bool = False
    cuda_devices: int = 0  # CUDA GPUs this process sees (CUDA_VISIBLE_DEVICES applies)
    link: Link = Link.NONE  # between GPU 0 and GPU 1 (taken as the link between every pair)

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
    devices = torch.cuda.device_count()
    return Capabilities(
        cuda=True,
        mps=mps,
        cuda_name=props.name,
        cuda_total_bytes=int(props.total_memory),
        bf16=torch.cuda.is_bf16_supported(),
        cuda_devices=devices,
        link=detect_link(devices),
    )


def detect_link(devices: int) -> Link:
    """The link between GPU 0 and GPU 1: peer access from CUDA, NVLink from NVML when pynvml is installed and
    reports an active NVLink on GPU 0 (without pynvml NVLink is never claimed: peer access over NVLink then
    reads as `p2p`, the slower assumption). Only the first pair is looked at, so mixed machines read as their
    first two cards."""
    if devices < 2:
        return Link.NONE
    import torch

    try:
        peer = bool(torch.cuda.can_device_access_peer(0, 1))
    except (RuntimeError, AssertionError):  # a driver that refuses the question answers no
        peer = False
    if not peer:
        return Link.PCIE
    return Link.NVLINK if _nvlink_active(0) else Link.P2P


def _nvlink_active(device: int) -> bool:
    try:
        import pynvml  # type: ignore[import-not-found]
    except ImportError:
        return False
    import torch

    try:
        pynvml.nvmlInit()
    except Exception:  # no NVML library or driver: nothing to claim
        return False
    try:
        props = torch.cuda.get_device_properties(device)
        # NVML numbers GPUs its own way (CUDA_VISIBLE_DEVICES does not apply to it): find GPU 0 by its PCI address.
        bus_id = f"{props.pci_domain_id:08x}:{props.pci_bus_id:02x}:{props.pci_device_id:02x}.0"
        handle = pynvml.nvmlDeviceGetHandleByPciBusId(bus_id)
        for link in range(pynvml.NVML_NVLINK_MAX_LINKS):
            try:
                if pynvml.nvmlDeviceGetNvLinkState(handle, link) == pynvml.NVML_FEATURE_ENABLED:
                    return True
            except pynvml.NVMLError:  # this link does not exist on the card (or no NVLink at all)
                continue
        return False
    except Exception as exc:  # NVML's errors vary by driver; an unreadable answer claims nothing
        logger.debug("NVLink state not readable: %s", exc)
        return False
    finally:
        try:
            pynvml.nvmlShutdown()
        except Exception:
            pass


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
