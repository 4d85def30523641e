"""The GPUs choice: shown only with more than one GPU, its values in the form's request, a choice kept while the
machine cannot honour it, and the estimator's figures in its hint."""

from __future__ import annotations

from core.job.request import GenerationRequest, ParallelOptions, Split
from gui.form.form_model import FormModel, bind_parallel_panel
from gui.form.gpus_panel import GpuFigures, GpusPanel


def test_hidden_without_a_second_gpu(qtbot) -> None:
    panel = GpusPanel()
    qtbot.addWidget(panel)
    for devices in (0, 1):
        panel.set_device_count(devices)
        assert not panel.available
        assert panel.options() == ParallelOptions()


def test_choices_are_one_to_all(qtbot) -> None:
    panel = GpusPanel()
    qtbot.addWidget(panel)
    panel.set_device_count(4)
    assert panel.available
    combo = panel.gpus_combo
    assert [combo.itemData(i) for i in range(combo.count())] == [1, 2, 3, 4]
    assert "4" in combo.itemText(3)
    assert not panel.split_combo.isEnabled()  # one GPU: nothing to split
    combo.setCurrentIndex(1)
    assert panel.split_combo.isEnabled()
    panel.split_combo.setCurrentIndex(panel.split_combo.findData("ring"))
    assert panel.options() == ParallelOptions(2, Split.RING)


def test_form_request_carries_the_choice(qtbot) -> None:
    form = FormModel(GenerationRequest(prompt="a cat"))
    panel = GpusPanel()
    qtbot.addWidget(panel)
    panel.set_device_count(2)
    bind_parallel_panel(form, panel)
    panel.gpus_combo.setCurrentIndex(1)
    assert form.request().parallel == ParallelOptions(2, Split.AUTO)
    assert form.request().to_dict()["parallel"] == {"gpus": 2, "split": "auto"}
    # A one-GPU job from the history sets the form back to one GPU.
    form.apply_request(GenerationRequest(prompt="a dog"))
    assert panel.options() == ParallelOptions()


def test_a_saved_choice_waits_for_the_gpus(qtbot) -> None:
    """Settings saved with 4 GPUs load before the machine check ends: the choice comes back once 4 are known."""
    form = FormModel(GenerationRequest(prompt="a cat", parallel=ParallelOptions(4, Split.ULYSSES)))
    panel = GpusPanel()
    qtbot.addWidget(panel)
    bind_parallel_panel(form, panel)
    assert form.parallel().gpus == 1  # no GPUs known yet: one
    panel.set_device_count(4)
    assert form.parallel() == ParallelOptions(4, Split.ULYSSES)
    panel.set_device_count(2)  # a machine with fewer: all it has
    assert form.parallel() == ParallelOptions(2, Split.ULYSSES)


def test_hint_shows_the_estimate_and_autos_reason(qtbot) -> None:
    panel = GpusPanel()
    qtbot.addWidget(panel)
    panel.set_device_count(2)
    panel.gpus_combo.setCurrentIndex(1)
    panel.set_estimates(
        [GpuFigures(2, "guidance", 1.9, 8.5, 20 * 2**30), GpuFigures(2, "ulysses", 1.7, 9.4, 18 * 2**30)]
    )
    panel.set_auto_choice("guidance", "two GPUs and a guided job")
    text = panel.hint_text()
    assert "1.9×" in text and "8.5 s" in text and "20.0 GB" in text
    assert "two GPUs and a guided job" in text
    panel.split_combo.setCurrentIndex(panel.split_combo.findData("ulysses"))
    assert "1.7×" in panel.hint_text() and "Automatic" not in panel.hint_text()


def test_the_window_offers_the_gpus_of_a_two_gpu_machine(qtbot, open_window, monkeypatch) -> None:
    """A machine with two 4090s: the GPUs group appears, and choosing 2 shows the estimator's speed-up and why
    Automatic splits the guidance branches; the request carries it."""
    from PySide6.QtWidgets import QGroupBox

    import core.engine.devices

    two_4090s = core.engine.devices.Capabilities(
        cuda=True,
        mps=False,
        cuda_name="NVIDIA GeForce RTX 4090",
        cuda_total_bytes=24 * 2**30,
        bf16=True,
        cuda_devices=2,
        link=core.engine.devices.Link.PCIE,
    )
    monkeypatch.setattr(core.engine.devices, "detect_capabilities", lambda: two_4090s)
    window = open_window()
    group = window.findChild(QGroupBox, "gpusGroup")
    qtbot.waitUntil(group.isVisible, timeout=90_000)  # the machine check runs on the engine's thread
    panel = window.form_column.gpus_panel
    panel.gpus_combo.setCurrentIndex(panel.gpus_combo.findData(2))
    text = panel.hint_text()
    assert "× as fast as one GPU" in text and "GB per GPU" in text
    assert "Automatic:" in text and "guidance" in text
    assert window.current_request().parallel == ParallelOptions(2, Split.AUTO)


def test_a_split_that_cannot_run_is_listed_before_generate() -> None:
    """Model offload does not combine with a split: the form says so (core's one line) before anything is queued."""
    from core.engine.devices import Capabilities, Link
    from core.job.request import MemoryOptions, Placement
    from gui.form.readiness import request_problems

    two_gpus = Capabilities(
        cuda=True, mps=False, cuda_name="RTX 4090", cuda_total_bytes=24 * 2**30, bf16=True, cuda_devices=2,
        link=Link.PCIE,
    )  # fmt: skip
    split = GenerationRequest(prompt="a cat", parallel=ParallelOptions(2, Split.AUTO))
    assert request_problems(split, two_gpus) == []
    offloaded = GenerationRequest(
        prompt="a cat", parallel=ParallelOptions(2), memory=MemoryOptions(placement=Placement.MODEL)
    )
    problems = request_problems(offloaded, two_gpus)
    assert len(problems) == 1 and "offload" in problems[0].lower()
    too_many = GenerationRequest(prompt="a cat", parallel=ParallelOptions(4))
    assert len(request_problems(too_many, two_gpus)) == 1
