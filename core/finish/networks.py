"""The finishing networks, built from a local weights file through cccv's architecture classes, never through
cccv's own model loader (which downloads by name from its model zoo).

- Upscalers: Real-ESRGAN's compact SRVGGNetCompact (realesr-animevideov3, realesr-general-x4v3, the community
  "Compact" models), the RRDB net of ESRGAN / Real-ESRGAN (RealESRGAN_x4plus, _x2plus, the anime 6B), and the
  window-attention transformers SwinIR (classical, lightweight and real-world SR) and HAT (HAT-S, HAT, HAT-L, the
  Real_HAT_GAN models). The family and its sizes are read from the state dict's keys and shapes, as cccv's configs
  and spandrel do. What no shape shows is assumed from the released models: img_range 1.0 (every SwinIR and HAT
  release), and HAT's conv_scale 0.01.
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

    family: str  # "SRVGGNetCompact", "RRDBNet", "SwinIR" or "HAT"
    scale: int  # the network's own factor
    in_channels: int
    features: int  # widest feature count (for the transformers, with their attention maps), for sizing tiles
    options: dict[str, Any]  # the arch class's constructor arguments
    size_multiple: int = 1  # a tile's sides must divide by this (the window of SwinIR/HAT, RRDB's pixel-unshuffle)

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
    if "conv_first.weight" in state and "layers.0.residual_group.overlap_attn.relative_position_bias_table" in state:
        return _checked_colour(_hat_spec(state, path), path)
    if "conv_first.weight" in state and "layers.0.residual_group.blocks.0.attn.relative_position_bias_table" in state:
        return _checked_colour(_swinir_spec(state), path)
    raise FinishModelError(
        _t(
            "{path} is not an upscaling network this app runs (Real-ESRGAN's compact SRVGGNet, ESRGAN's RRDB net, "
            "SwinIR or HAT)."
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
    # The 2× and 1× nets pixel-unshuffle by 2 or 4: a tile's sides must divide by that.
    multiple = {1: 4, 2: 2}.get(scale, 1)
    return UpscalerSpec("RRDBNet", scale, out_ch, feat + 4 * grow, options, multiple)


# ---- SwinIR and HAT: window-attention transformers -------------------------------------------------------------
_BLOCKS = "layers.{layer}.residual_group.blocks.{block}."


def _checked_colour(spec: UpscalerSpec, path: Path) -> UpscalerSpec:
    # SwinIR's grayscale denoisers take one channel; the frames here are RGB.
    if spec.in_channels != 3:
        raise FinishModelError(
            _t("{path} is a {family} network for {channels}-channel images; video frames need 3 (RGB).").format(
                path=path, family=spec.family, channels=spec.in_channels
            )
        )
    return spec


def _window_layers(state: dict[str, Any]) -> tuple[list[int], list[int], int]:
    """(blocks per layer, heads per layer, window side) of SwinIR's RSTBs or HAT's RHAGs."""
    layers = sorted({int(k.split(".")[1]) for k in state if k.startswith("layers.") and ".residual_group." in k})
    depths, heads = [], []
    for layer in layers:
        prefix = f"layers.{layer}.residual_group.blocks."
        depths.append(len({k[len(prefix) :].split(".")[0] for k in state if k.startswith(prefix)}))
        table = state[_BLOCKS.format(layer=layer, block=0) + "attn.relative_position_bias_table"]
        heads.append(int(table.shape[1]))
    # The bias table has a row for each relative offset in a w×w window: (2w − 1)².
    table = state[_BLOCKS.format(layer=layers[0], block=0) + "attn.relative_position_bias_table"]
    window = (math.isqrt(int(table.shape[0])) + 1) // 2
    return depths, heads, window


def _pixelshuffle_scale(state: dict[str, Any], feat: int) -> int:
    """The factor of an `Upsample` stack: conv to 4·feat + PixelShuffle(2) per doubling, or 9·feat for 3×."""
    scale = 1
    for key in sorted(k for k in state if k.startswith("upsample.") and k.endswith(".weight")):
        scale *= math.isqrt(int(state[key].shape[0]) // feat)
    return scale


def _transformer_common(state: dict[str, Any]) -> dict[str, Any]:
    """The constructor arguments SwinIR and HAT share, from their shapes."""
    first = state["conv_first.weight"]
    embed, in_ch = int(first.shape[0]), int(first.shape[1])
    fc1 = state[_BLOCKS.format(layer=0, block=0) + "mlp.fc1.weight"]
    options: dict[str, Any] = {
        "in_chans": in_ch,
        "embed_dim": embed,
        "mlp_ratio": int(fc1.shape[0]) / embed,
        "qkv_bias": _BLOCKS.format(layer=0, block=0) + "attn.qkv.bias" in state,
        "ape": "absolute_pos_embed" in state,
        "patch_norm": "patch_embed.norm.weight" in state,
        "img_range": 1.0,  # not in any shape; every released SwinIR and HAT model uses 1.0
    }
    if options["ape"]:  # (1, img_size², embed_dim): the training patch
        options["img_size"] = math.isqrt(int(state["absolute_pos_embed"].shape[1]))
    return options


def _training_size(window: int, fallback: int = 64) -> int:
    # img_size only sizes the precomputed masks; a window as large as it would be shrunk to fit, so exceed it.
    return fallback if fallback > window else 2 * window


def _swinir_spec(state: dict[str, Any]) -> UpscalerSpec:
    options = _transformer_common(state)
    embed, in_ch = options["embed_dim"], options["in_chans"]
    depths, heads, window = _window_layers(state)
    if "img_size" not in options:
        # A shifted block keeps its mask for the training patch, (img_size/w)² windows of w² × w².
        masks = [v for k, v in state.items() if k.endswith(".attn_mask")]
        size = window * math.isqrt(int(masks[0].shape[0])) if masks else _training_size(window)
        options["img_size"] = size
    if "conv_up1.weight" in state:
        upsampler, scale = "nearest+conv", 4 if "conv_up2.weight" in state else 2
    elif "conv_before_upsample.0.weight" in state:
        upsampler = "pixelshuffle"
        scale = _pixelshuffle_scale(state, int(state["conv_before_upsample.0.weight"].shape[0]))
    elif "upsample.0.weight" in state:
        upsampler = "pixelshuffledirect"
        scale = math.isqrt(int(state["upsample.0.weight"].shape[0]) // in_ch)
    else:  # denoising / JPEG artefact removal: the same size out
        upsampler, scale = "", 1
    options |= {
        "depths": depths,
        "num_heads": heads,
        "window_size": window,
        "scale": scale,
        "upsampler": upsampler,
        "resi_connection": "3conv" if "layers.0.conv.0.weight" in state else "1conv",
    }
    # Attention maps of heads × w² per pixel dominate the activations.
    features = int(embed * max(options["mlp_ratio"], 3)) + max(heads) * window**2
    return UpscalerSpec("SwinIR", scale, in_ch, features, options, window)


def _hat_spec(state: dict[str, Any], path: Path) -> UpscalerSpec:
    options = _transformer_common(state)
    embed, in_ch = options["embed_dim"], options["in_chans"]
    depths, heads, window = _window_layers(state)
    options.setdefault("img_size", _training_size(window))
    if "conv_before_upsample.0.weight" not in state:  # cccv's HAT has only the pixel-shuffle reconstruction
        raise FinishModelError(
            _t("{path} is a HAT network without an upsampler; it does not upscale.").format(path=path)
        )
    feat = int(state["conv_before_upsample.0.weight"].shape[0])
    scale = _pixelshuffle_scale(state, feat)
    block = _BLOCKS.format(layer=0, block=0)
    # The overlapping cross-attention's key window is ow = w + int(overlap_ratio·w) wide: (w + ow − 1)² offsets.
    overlap_table = state["layers.0.residual_group.overlap_attn.relative_position_bias_table"]
    overlap_window = math.isqrt(int(overlap_table.shape[0])) - window + 1
    overlap_ratio = (overlap_window - window) / window
    if int(window * overlap_ratio) != overlap_window - window:  # float rounding below the integer
        overlap_ratio += 1e-9
    options |= {
        "depth": depths,
        "num_heads": heads,
        "window_size": window,
        # CAB's first conv narrows to dim // compress_ratio, its channel attention to dim // squeeze_factor.
        "compress_ratio": embed // int(state[block + "conv_block.cab.0.weight"].shape[0]),
        "squeeze_factor": embed // int(state[block + "conv_block.cab.3.attention.1.weight"].shape[0]),
        "overlap_ratio": overlap_ratio,
        "conv_scale": 0.01,  # not in any shape; HAT's releases use 0.01
        "scale": scale,
        "upsampler": "pixelshuffle",
        "resi_connection": "1conv" if "layers.0.conv.weight" in state else "identity",
    }
    features = int(embed * max(options["mlp_ratio"], 3)) + max(heads) * overlap_window**2
    return UpscalerSpec("HAT", scale, in_ch, features, options, window)


def build_upscaler(path: Path) -> tuple[Any, UpscalerSpec]:
    """The network (float32, on the CPU, in eval mode) and what it is."""
    state = _renamed_old_rrdb(read_state_dict(path))
    spec = detect_upscaler(state, path)
    arch = import_cccv()
    net = getattr(arch, spec.family)(**spec.options)
    _load_weights(net, _with_computed_buffers(net, state), path, strict=True)
    return net.eval(), spec


def _with_computed_buffers(net: Any, state: dict[str, Any]) -> dict[str, Any]:
    """The state dict with the buffers a transformer computes from its sizes alone (relative position indices,
    shifted-window masks) taken from the built net where the file leaves them out, as some conversions do."""
    computed = ("relative_position_index", "relative_position_index_SA", "relative_position_index_OCA", "attn_mask")
    own = net.state_dict()
    missing = {k: v for k, v in own.items() if k not in state and k.rsplit(".", 1)[-1] in computed}
    return state | missing if missing else state


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
