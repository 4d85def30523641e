"""How many CUDA GPUs the machine has and what links them (core/engine/devices.py), with CUDA and NVML faked: this
machine has no GPU."""

from __future__ import annotations

import sys
import types

import pytest
import torch

import core.engine.devices as devices
from core.engine.devices import Capabilities, Link, detect_capabilities, detect_link


def test_old_call_sites_keep_their_defaults() -> None:
    caps = Capabilities(cuda=True, mps=False)
    assert caps.cuda_devices == 0 and caps.link is Link.NONE and str(Link.P2P) == "p2p"


def test_a_machine_without_cuda_reports_no_devices_and_no_link() -> None:
    if torch.cuda.is_available():  # pragma: no cover - this suite runs on CPU machines
        pytest.skip("a CUDA machine")
    caps = detect_capabilities()
    assert caps.cuda_devices == 0 and caps.link is Link.NONE
    assert detect_capabilities() is caps  # cached: detected once


def test_fewer_than_two_gpus_have_no_link(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "can_device_access_peer", lambda a, b: pytest.fail("not asked for one GPU"))
    assert detect_link(0) is Link.NONE and detect_link(1) is Link.NONE


def test_no_peer_access_is_plain_pcie(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "can_device_access_peer", lambda a, b: False)
    assert detect_link(2) is Link.PCIE

    def refuses(a: int, b: int) -> bool:
        raise RuntimeError("driver says no")

    monkeypatch.setattr(torch.cuda, "can_device_access_peer", refuses)
    assert detect_link(2) is Link.PCIE


def test_peer_access_is_p2p_unless_nvml_reports_an_active_nvlink(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "can_device_access_peer", lambda a, b: (a, b) == (0, 1))
    monkeypatch.setitem(sys.modules, "pynvml", None)  # not installed: NVLink is never claimed
    assert detect_link(2) is Link.P2P

    asked: list[str] = []
    fake = _fake_nvml(active_links={3}, asked=asked)
    monkeypatch.setitem(sys.modules, "pynvml", fake)
    props = types.SimpleNamespace(pci_domain_id=0, pci_bus_id=0x41, pci_device_id=0)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device: props)
    assert detect_link(4) is Link.NVLINK
    assert asked == ["00000000:41:00.0"] and fake.shut_down

    monkeypatch.setitem(sys.modules, "pynvml", _fake_nvml(active_links=set(), asked=[]))
    assert detect_link(2) is Link.P2P
    broken = _fake_nvml(active_links={0}, asked=[])
    broken.nvmlInit = lambda: (_ for _ in ()).throw(broken.NVMLError("no driver"))
    monkeypatch.setitem(sys.modules, "pynvml", broken)
    assert detect_link(2) is Link.P2P


def test_detect_capabilities_counts_the_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    props = types.SimpleNamespace(name="NVIDIA GeForce RTX 3090", total_memory=24 * 2**30)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda device: props)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    monkeypatch.setattr(devices, "detect_link", lambda count: Link.P2P if count == 2 else Link.NONE)
    detect_capabilities.cache_clear()
    try:
        caps = detect_capabilities()
        assert (caps.cuda, caps.cuda_devices, caps.link, caps.cuda_name) == (True, 2, Link.P2P, props.name)
    finally:
        detect_capabilities.cache_clear()  # the next caller detects this machine again


def _fake_nvml(active_links: set[int], asked: list[str]) -> types.SimpleNamespace:
    class NVMLError(Exception):
        pass

    fake = types.SimpleNamespace(NVMLError=NVMLError, NVML_NVLINK_MAX_LINKS=6, NVML_FEATURE_ENABLED=1, shut_down=False)

    def state(handle: object, link: int) -> int:
        if link == 5:
            raise NVMLError("no such link")
        return 1 if link in active_links else 0

    def shutdown() -> None:
        fake.shut_down = True

    fake.nvmlInit = lambda: None
    fake.nvmlShutdown = shutdown
    fake.nvmlDeviceGetHandleByPciBusId = lambda bus_id: asked.append(bus_id) or "handle"
    fake.nvmlDeviceGetNvLinkState = state
    return fake
