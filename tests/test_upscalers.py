"""SwinIR and HAT upscalers (core/finish/networks.py): tiny random-weight nets built with cccv's classes and saved
as their projects release them; the family and every constructor argument are read back from the tensors, and a
clip whose sides are no multiple of the attention window is upscaled through tiles padded to that window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from core.finish.clip import FinishRequest, UpscaleStep, finish_clip
from core.finish.networks import FinishModelError, build_upscaler, import_cccv
from core.finish.upscale import load_upscaler, upscale_frames
from core.output.video import read_mp4_comment, read_mp4_frames
from tests.test_finish import _clip, _smooth_frames, _state_dir  # noqa: F401  (the autouse data-folder fixture)

# The arguments each tiny net is built with: what detection must find again.
NETS: dict[str, tuple[str, dict[str, Any]]] = {
    # Classical SR: two blocks, so the second is shifted and keeps its mask for a 32-pixel training patch.
    "swinir-classical": ("SwinIR", dict(img_size=32, embed_dim=12, depths=[2], num_heads=[2], window_size=4,
                                        mlp_ratio=2.0, scale=2, upsampler="pixelshuffle", resi_connection="1conv")),
    # Lightweight SR: one conv + pixel shuffle straight from the features, 3-conv residual, 1.5 MLP.
    "swinir-light": ("SwinIR", dict(embed_dim=12, depths=[1, 1], num_heads=[3, 2], window_size=8, mlp_ratio=1.5,
                                    scale=2, upsampler="pixelshuffledirect", resi_connection="3conv")),
    # Real-world SR: nearest-neighbour upsampling and convs, 4× (shown 2× by resampling).
    "swinir-real": ("SwinIR", dict(img_size=16, embed_dim=16, depths=[2], num_heads=[2], window_size=4,
                                   mlp_ratio=2.0, scale=4, upsampler="nearest+conv", resi_connection="1conv")),
    "hat": ("HAT", dict(embed_dim=12, depth=[2], num_heads=[2], window_size=4, compress_ratio=3, squeeze_factor=6,
                        overlap_ratio=0.5, mlp_ratio=2.0, scale=2, upsampler="pixelshuffle",
                        resi_connection="1conv")),
    "hat-wide-overlap": ("HAT", dict(embed_dim=16, depth=[1, 1], num_heads=[2, 4], window_size=8, compress_ratio=4,
                                     squeeze_factor=8, overlap_ratio=0.25, mlp_ratio=1.5, scale=2,
                                     upsampler="pixelshuffle", resi_connection="identity")),
}  # fmt: skip


@pytest.fixture(scope="module")
def nets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, Path, Path]]:
    """Each net, its `{"params": …}` .pth and its .safetensors."""
    from safetensors.torch import save_file

    arch = import_cccv()
    folder = tmp_path_factory.mktemp("transformers")
    built = {}
    for name, (family, options) in NETS.items():
        torch.manual_seed(len(name))
        net = getattr(arch, family)(**options).eval()
        state = {k: v.contiguous() for k, v in net.state_dict().items()}
        torch.save({"params": state}, folder / f"{name}.pth")
        save_file(state, str(folder / f"{name}.safetensors"))
        built[name] = (net, folder / f"{name}.pth", folder / f"{name}.safetensors")
    return built


@pytest.mark.parametrize("name", list(NETS))
def test_family_and_arguments_are_read_from_the_weights(nets, name: str) -> None:
    family, options = NETS[name]
    original, pth, safetensors = nets[name]
    sample = torch.rand(1, 3, 16, 24)  # a multiple of every window here: the nets run as they are
    with torch.inference_mode():
        expected = original(sample)
    for path in (pth, safetensors):
        net, spec = build_upscaler(path)
        assert spec.family == family and spec.scale == options["scale"]
        assert {k: spec.options[k] for k in options if k != "img_size"} == {
            k: v for k, v in options.items() if k != "img_size"
        }
        assert spec.options["img_range"] == 1.0 and spec.size_multiple == options["window_size"]
        # The arguments no test names (qkv bias, patch norm, conv scale…) are right too: the same output.
        with torch.inference_mode():
            assert torch.allclose(net(sample), expected, atol=1e-5)


def test_swinir_training_patch_comes_from_its_shifted_window_mask(nets) -> None:
    _net, spec = build_upscaler(nets["swinir-classical"][1])
    assert spec.options["img_size"] == 32


def test_a_file_without_the_computed_buffers_still_loads(nets, tmp_path: Path) -> None:
    original, pth, _ = nets["swinir-classical"]
    state = torch.load(pth, weights_only=True)["params"]
    trimmed = {k: v for k, v in state.items() if not k.endswith(("attn_mask", "relative_position_index"))}
    assert len(trimmed) < len(state)
    torch.save(trimmed, tmp_path / "trimmed.pth")
    net, _spec = build_upscaler(tmp_path / "trimmed.pth")
    sample = torch.rand(1, 3, 16, 16)
    with torch.inference_mode():
        assert torch.allclose(net(sample), original(sample), atol=1e-5)


@pytest.mark.parametrize("name", ["hat", "swinir-light"])
def test_odd_sizes_are_padded_to_the_window(nets, name: str) -> None:
    """HAT does not pad for itself: a 37×29 frame (whole, and in 16-pixel tiles) runs only through the padding."""
    upscaler = load_upscaler(nets[name][1], "cpu")
    frames = np.random.default_rng(1).integers(0, 256, (1, 29, 37, 3), dtype=np.uint8)
    for tile in (37, 16):
        assert upscale_frames(frames, upscaler, 2.0, tile=tile).shape == (1, 58, 74, 3)


@pytest.mark.parametrize("name", ["swinir-classical", "swinir-light", "hat"])
def test_a_clip_is_upscaled_2x_in_tiles(nets, tmp_path: Path, name: str) -> None:
    height, width = 46, 62  # no multiple of 4 or 8: every tile is padded
    clip = _clip(tmp_path / "clip.mp4", _smooth_frames(2)[:, :height, :width])
    out = tmp_path / "big.mp4"
    model = nets[name][2 if name == "hat" else 1]
    result = finish_clip(FinishRequest(clip, out, upscale=UpscaleStep(str(model), 2.0, tile=17)))
    assert read_mp4_frames(out).shape == (2, 2 * height, 2 * width, 3)
    assert (result.width, result.height) == (2 * width, 2 * height)
    network = read_mp4_comment(out)["finish"]["upscale"]["network"]  # type: ignore[index]
    assert network["family"] == NETS[name][0] and network["window_size"] == NETS[name][1]["window_size"]


def test_a_grayscale_swinir_is_refused_in_one_line(tmp_path: Path) -> None:
    net = import_cccv().SwinIR(in_chans=1, embed_dim=8, depths=[1], num_heads=[2], window_size=4, upsampler="")
    torch.save({"params": net.state_dict()}, tmp_path / "gray.pth")
    with pytest.raises(FinishModelError, match="1-channel") as caught:
        build_upscaler(tmp_path / "gray.pth")
    assert "\n" not in str(caught.value)
