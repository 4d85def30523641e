"""The finishing networks, built from a local weights file through cccv's architecture classes, never through
cccv's own model loader (which downloads by name from its model zoo).

- Upscalers: Real-ESRGAN's compact SRVGGNetCompact (realesr-animevideov3, realesr-general-x4v3, the community
  "Compact" models) and the RRDB net of ESRGAN / Real-ESRGAN (RealESRGAN_x4plus, _x2plus, the anime 6B). The
  family and its sizes are read from the state dict's keys and shapes, as cccv's configs and spandrel do.
- The interpolator: RIFE 4.25/4.26's IFNet (cccv's `IFNet`), from a `flownet.pkl`/`.pth` as RIFE releases it
  (a state dict saved from a DataParallel wrapper: every key starts with `module.`) or without the prefix.

Weights files: `.pth`/`.pkl` (torch.load with weights_only, so a file cannot run code) or `.safetensors`;
Real-ESRGAN's releases wrap the state dict in {"params_ema": …} or {"params": …}.

cccv 0.1.0 imports torchvision when it is imported (for a deformable convolution of its video-SR nets and an
image-to-tensor helper of its own loaders, neither used here), and torchvision does not import beside every torch
build (not beside this project's CPU torch 2.13). `import_cccv` lends it a stand-in module for the length of that
import only when the real one cannot be imported, and takes it away again so no other library sees it.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import InvalidRequestError, ModelFolderError
from core.i18n import _t

WEIGHT_SUFFIXES = (".pth", ".pt", ".pkl", ".safetensors")


class FinishModelError(ModelFolderError):
    """A weights file that is not a network this app can run (exit status 3, as a model that fails to load)."""


@contextlib.contextmanager
def _torchvision_stand_in() -> Iterator[None]:
    """A placeholder `torchvision` for the length of cccv's import, only where the real one cannot be imported."""
    try:
        importlib.import_module("torchvision")
        yield
        return
    except Exception:  # missing, or built for another torch (it fails on its C++ operators)
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]

    def unavailable(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("torchvision is not available; this cccv network needs it")

    stand_in = types.ModuleType("torchvision")
    ops = types.ModuleType("torchvision.ops")
    transforms = types.ModuleType("torchvision.transforms")
    ops.deform_conv2d = unavailable  # type: ignore[attr-defined]
    transforms.ToTensor = unavailable  # type: ignore[attr-defined]
    stand_in.ops = ops  # type: ignore[attr-defined]
    stand_in.transforms = transforms  # type: ignore[attr-defined]
    added = {"torchvision": stand_in, "torchvision.ops": ops, "torchvision.transforms": transforms}
    sys.modules.update(added)
    try:
        yield
    finally:
        for name, module in added.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]


def import_cccv() -> types.ModuleType:
    """cccv's architecture package (its arch classes), imported once."""
    if "cccv.arch" in sys.modules:
        return sys.modules["cccv.arch"]
    with _torchvision_stand_in():
        import cccv.arch

    return cccv.arch


# ---- reading a weights file ------------------------------------------------------------------------------------
def read_state_dict(path: Path) -> dict[str, Any]:
    """The tensors of a weights file, unwrapped from Real-ESRGAN's {"params_ema"|"params": …} and friends."""
    import torch

    path = Path(path)
    if not path.is_file():
        raise InvalidRequestError(_t("The model file {path} does not exist.").format(path=path))
    if path.suffix.lower() not in WEIGHT_SUFFIXES:
        raise InvalidRequestError(
            _t("{path} is not a weights file (.pth, .pt, .pkl or .safetensors).").format(path=path)
        )
    try:
        if path.suffix.lower() == ".safetensors":
            from safetensors.torch import load_file

            loaded: Any = load_file(str(path), device="cpu")
        else:
            loaded = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, not a torch file, a pickle that is not plain tensors
        raise FinishModelError(
            _t("{path} could not be read as network weights ({error}).").format(
                path=path, error=" ".join(str(exc).split())[:200]
            )
        ) from None
    for wrapper in ("params_ema", "params", "model_state_dict", "state_dict"):
        if isinstance(loaded, dict) and isinstance(loaded.get(wrapper), dict):
            loaded = loaded[wrapper]
            break
    if not isinstance(loaded, dict) or not loaded or not all(torch.is_tensor(v) for v in loaded.values()):
        raise FinishModelError(_t("{path} holds no network weights (no state dict of tensors).").format(path=path))
    return dict(loaded)


# ---- upscalers -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UpscalerSpec:
    """What the state dict says about an upscaling network."""

    family: str  # "SRVGGNetCompact" or "RRDBNet"
    scale: int  # the network's own factor
    in_channels: int
    features: int  # widest feature count, for sizing tiles
    options: dict[str, Any]  # the arch class's constructor arguments

    def to_dict(self) -> dict[str, Any]:
        return {"family": self.family, "scale": self.scale, **self.options}


# ESRGAN's original key names (RRDB_ESRGAN_x4.pth) as Real-ESRGAN's RRDBNet names them.
_OLD_RRDB_NAMES = (
    ("RRDB_trunk.", "body."),
    (".RDB1.", ".rdb1."),
    (".RDB2.", ".rdb2."),
    (".RDB3.", ".rdb3."),
    ("trunk_conv.", "conv_body."),
    ("upconv1.", "conv_up1."),
    ("upconv2.", "conv_up2."),
    ("HRconv.", "conv_hr."),
)


def _renamed_old_rrdb(state: dict[str, Any]) -> dict[str, Any]:
    if not any(k.startswith("RRDB_trunk.") for k in state):
        return state
    renamed = {}
    for key, value in state.items():
        for old, new in _OLD_RRDB_NAMES:
            key = key.replace(old, new) if old.startswith(".") or key.startswith(old) else key
        renamed[key] = value
    return renamed


def detect_upscaler(state: dict[str, Any], path: Path) -> UpscalerSpec:
    """The family and sizes of an upscaler from its keys and shapes; FinishModelError for anything else."""
    if "body.0.weight" in state and "conv_first.weight" not in state:
        return _srvgg_spec(state)
    if "conv_first.weight" in state and "body.0.rdb1.conv1.weight" in state:
        return _rrdb_spec(state)
    raise FinishModelError(
        _t(
            "{path} is not an upscaling network this app runs (Real-ESRGAN's compact SRVGGNet or ESRGAN's RRDB net)."
        ).format(path=path)
    )


def _srvgg_spec(state: dict[str, Any]) -> UpscalerSpec:
    convs = sorted(
        int(k.split(".")[1])
        for k, v in state.items()
        if k.startswith("body.") and k.endswith(".weight") and v.ndim == 4
    )
    first, last = state[f"body.{convs[0]}.weight"], state[f"body.{convs[-1]}.weight"]
    in_ch, feat = int(first.shape[1]), int(first.shape[0])
    scale = math.isqrt(int(last.shape[0]) // in_ch)
    # PReLU layers carry a weight per channel; ReLU/LeakyReLU none (Real-ESRGAN's compact models use PReLU).
    act = "prelu" if "body.1.weight" in state else "leakyrelu"
    options = {
        "num_in_ch": in_ch,
        "num_out_ch": in_ch,
        "num_feat": feat,
        "num_conv": len(convs) - 2,
        "scale": scale,
        "act_type": act,
    }
    return UpscalerSpec("SRVGGNetCompact", scale, in_ch, feat, options)


def _rrdb_spec(state: dict[str, Any]) -> UpscalerSpec:
    first = state["conv_first.weight"]
    feat, in_ch = int(first.shape[0]), int(first.shape[1])
    out_ch = int(state["conv_last.weight"].shape[0])
    # Real-ESRGAN's x2 and x1 nets pixel-unshuffle their input first: 4× or 16× the input channels.
    scale = {out_ch: 4, out_ch * 4: 2, out_ch * 16: 1}.get(in_ch, 4)
    blocks = len({k.split(".")[1] for k in state if k.startswith("body.") and ".rdb1.conv1.weight" in k})
    grow = int(state["body.0.rdb1.conv1.weight"].shape[0])
    options = {
        "num_in_ch": out_ch,
        "num_out_ch": out_ch,
        "scale": scale,
        "num_feat": feat,
        "num_block": blocks,
        "num_grow_ch": grow,
    }
    return UpscalerSpec("RRDBNet", scale, out_ch, feat + 4 * grow, options)


def build_upscaler(path: Path) -> tuple[Any, UpscalerSpec]:
    """The network (float32, on the CPU, in eval mode) and what it is."""
    state = _renamed_old_rrdb(read_state_dict(path))
    spec = detect_upscaler(state, path)
    arch = import_cccv()
    net = getattr(arch, spec.family)(**spec.options)
    _load_weights(net, state, path, strict=True)
    return net.eval(), spec


# ---- RIFE --------------------------------------------------------------------------------------------------------
def build_rife(path: Path) -> Any:
    """RIFE 4.25/4.26's IFNet (float32, on the CPU, in eval mode) from a released flownet file."""
    state = read_state_dict(path)
    if any(k.startswith("module.") for k in state):
        # As RIFE's own loader does: the DataParallel copy's keys, without the prefix; anything else is dropped.
        state = {k.removeprefix("module."): v for k, v in state.items() if k.startswith("module.")}
    net = import_cccv().IFNet()
    expected = net.state_dict().keys()
    if not any(k in state for k in expected):
        raise FinishModelError(_t("{path} is not a RIFE interpolation network.").format(path=path))
    # Released flownet files may carry training leftovers; every tensor of the net itself must be there.
    _load_weights(net, {k: v for k, v in state.items() if k in expected}, path, strict=True)
    return net.eval()


def _load_weights(net: Any, state: dict[str, Any], path: Path, strict: bool) -> None:
    try:
        net.load_state_dict(state, strict=strict)
    except RuntimeError as exc:
        detail = " ".join(str(exc).split())
        raise FinishModelError(
            _t("{path} does not fit the network it looks like ({detail}).").format(path=path, detail=detail[:240])
        ) from None
