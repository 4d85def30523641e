"""The benchmark (bench/): the scaled-down run end to end on the tiny model, its report, and the model builder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import full_bench


def test_scaled_down_benchmark_runs_end_to_end(tiny_model: Path, tmp_path: Path) -> None:
    """The base configuration (with the official baseline) and a step-cache level, through the real Engine."""
    configs = "all on CPU,all on CPU + faster cache"
    args = ["--model", str(tiny_model), "--scale", "tiny", "--configs", configs, "--out", str(tmp_path)]
    # 8 steps: the uncached base run records the MagCache calibration the cache level then uses.
    code = full_bench.main([*args, "--name", "run", "--steps", "8", "--timeout", "600"])
    assert code == 0

    report = json.loads((tmp_path / "run.json").read_text(encoding="utf-8"))
    assert report["device"] == "cpu" and report["device_name"]
    base, cached = report["results"]
    assert "error" not in base and "error" not in cached, report["results"]
    assert base["name"] == "all on CPU"
    assert set(base["stage_peak_bytes"]) >= {"loading", "encoding", "denoising", "decoding"}
    assert all(v > 0 for k, v in base["stage_peak_bytes"].items() if k != "saving")
    assert base["s_per_step"] > 0 and base["load_s"] > 0
    assert base["peak_host_ram_bytes"] > base["host_ram_before_bytes"] > 0
    assert base["frames"] == 5
    assert base["estimate"]["peak_bytes"] > 0 and base["estimate"]["s_per_step"] > 0
    # The official algorithm ran on the same weights, step by step.
    assert len(base["official"]["step_s"]) == 8 and base["official"]["s_per_step"] > 0
    # Uncached, sequential guidance: every step calls the whole transformer once per guidance branch.
    assert base["transformer_calls"] == 16 and base["speed"]["guidance_batching"] == "sequential"
    # The cache level used the calibration the base run recorded, skipped calls, and its frames were compared.
    assert cached["speed"]["step_cache_method"] == "mag-cache"
    assert cached["transformer_calls"] < base["transformer_calls"]
    assert 0 < cached["psnr_db"] < float("inf") and 0 < cached["ssim"] <= 1
    assert report["ratios"]["faster cache: transformer calls ÷ all on CPU's"] < 1

    markdown = (tmp_path / "run.md").read_text(encoding="utf-8")
    assert report["device_name"] in markdown
    assert "| all on CPU |" in markdown and "| configuration |" in markdown and "(mag-cache)" in markdown


def test_report_ratios_against_the_official_algorithm_and_all_on_gpu() -> None:
    results = [
        {"name": "all on GPU", "s_per_step": 3.0, "official": {"s_per_step": 4.5}, "stage_peak_bytes": {}},
        {"name": "streamed", "s_per_step": 3.1, "stage_peak_bytes": {}},
        {"name": "sequential + int8 + tiling", "error": "timed out after 240 s"},
    ]
    ratios = full_bench.attach_ratios(results)
    assert ratios["official s/step ÷ engine s/step (speed-up)"] == pytest.approx(1.5)
    assert ratios["streamed s/step ÷ all on GPU"] == pytest.approx(3.1 / 3.0)
    assert results[1]["s_per_step_vs_base"] == pytest.approx(3.1 / 3.0)


def test_report_ratios_for_the_speed_options_and_int8_host_ram() -> None:
    results = [
        {
            "name": "all on CPU",
            "s_per_step": 4.0,
            "official": {"s_per_step": 5.0},
            "transformer_calls": 16.0,
            "extra_host_ram_bytes": 1000,
        },
        {"name": "all on CPU (bf16)", "s_per_step": 6.0, "extra_host_ram_bytes": 600},
        {"name": "int8 + tiling (bf16)", "s_per_step": 6.5, "extra_host_ram_bytes": 300},
        {"name": "all on CPU + fast cache", "s_per_step": 2.0, "transformer_calls": 8.0},
    ]
    ratios = full_bench.attach_ratios(results)
    assert ratios["fast cache: all on CPU s/step ÷ its s/step (speed-up)"] == pytest.approx(2.0)
    assert ratios["fast cache: official s/step ÷ its s/step (speed-up)"] == pytest.approx(2.5)
    assert ratios["fast cache: transformer calls ÷ all on CPU's"] == pytest.approx(0.5)
    assert ratios["host RAM added by the job: int8 + tiling (bf16) ÷ all on CPU (bf16)"] == pytest.approx(0.5)


def test_a_configuration_past_the_budget_is_reported_skipped(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(full_bench, "build_or_use_model", lambda args, workdir: (tmp_path, 0.0, "none"))
    ran: list[str] = []
    monkeypatch.setattr(full_bench, "run_one", lambda name, *a: ran.append(name) or {"name": name, "error": "x"})
    code = full_bench.main(
        ["--configs", "all on CPU", "--budget", "10", "--min-config-s", "60", "--out", str(tmp_path)]
    )
    report = json.loads((tmp_path / "engine-cpu-small.json").read_text(encoding="utf-8"))
    assert code == 1 and ran == []
    assert report["results"][0]["error"].startswith("skipped")


def test_model_builder_writes_a_sharded_folder_the_engine_checks(tmp_path: Path, monkeypatch) -> None:
    from bench import model_builder
    from core.estimate import Architecture
    from core.model.checkpoint import check_model_folder

    scale = model_builder.ModelScale(
        name="micro",
        transformer={
            "num_layers": 1,
            "num_attention_heads": 2,
            "attention_head_dim": 16,
            "joint_attention_dim": 64,
            "caption_projection_dim": 32,
            "pooled_projection_dim": 48,
        },
        t5={"d_model": 64, "d_ff": 64, "d_kv": 16, "num_heads": 2, "num_layers": 1, "vocab_size": 512},
        clip_l=model_builder._clip(16, 32, 1, 2, 16),
        clip_g=model_builder._clip(32, 64, 1, 2, 32),
        vae={"base_dim": 8, "num_res_blocks": 1},
    )
    monkeypatch.setattr(model_builder, "SHARD_BYTES", 64 * 1024)  # several shards even at this size
    target = tmp_path / "model"
    model_builder.build_model(target, scale, "cpu", "float32")
    check_model_folder(target)
    assert len(list((target / "text_encoder_3").glob("model-*.safetensors"))) > 1
    assert (target / "transformer" / "diffusion_pytorch_model.safetensors.index.json").exists()

    from transformers import T5EncoderModel

    t5 = T5EncoderModel.from_pretrained(target / "text_encoder_3")
    arch = Architecture.from_model_dir(target)
    assert arch.t5.params == sum(p.numel() for p in t5.parameters())
    assert arch.transformer.num_layers == 1 and arch.transformer.hidden == 32


def test_soak_runs_jobs_in_a_row_and_reports_memory_after_each(tiny_model: Path) -> None:
    """The soak configuration (bench/run_config.py's run_soak) on the CPU: RSS after each job and its peak, the
    jobs varied (a re-run, a cancel midway, previews), and the growth figures the report shows."""
    import argparse

    from bench import run_config

    config = {"memory": {"offload": "none"}, "jobs": 6}
    args = argparse.Namespace(model=str(tiny_model), device="cpu", dtype="auto", size="64x48", frames=5, steps=2)
    result = run_config.run_soak(args, config)
    jobs = result["soak"]
    assert [j["job"] for j in jobs] == [1, 2, 3, 4, 5, 6]
    assert jobs[2]["kind"].startswith("re-run") and jobs[2]["seed"] == jobs[1]["seed"]
    assert jobs[2]["prompt"] == jobs[1]["prompt"]
    assert jobs[3]["outcome"] == "cancelled after step 1"
    assert [j["outcome"] for j in jobs if j["job"] != 4] == ["finished"] * 5
    assert jobs[1]["previews"] == 1 and jobs[4]["previews"] == 0  # every step but the last
    assert all(j["rss_peak_bytes"] >= j["rss_after_bytes"] > 0 for j in jobs)
    assert "cuda_allocated_after_bytes" not in jobs[0]
    growth = result["soak_growth"]
    assert growth["compared_jobs"] == [2, 6] and growth["rss_peak_ratio"] > 0

    result["name"] = "soak: 6 jobs, all on CPU"
    report = {"device": "cpu", "device_name": "x", "results": [result], "model_description": "m", "size": "64x48"}
    report |= {"frames": 5, "steps": 2, "dtype": "auto", "torch": "t", "build_s": 0.0, "ratios": {}}
    text = full_bench.markdown(report)
    assert text.startswith("# Soak: x (cpu)") and "| configuration |" not in text
    assert "| 4 | cancelled midway, previews | cancelled after step 1 |" in text
    assert "peak RSS of job 6 ÷ job 2" in text


def test_the_soak_set_leaves_the_default_gpu_set_as_it_was(tmp_path: Path, monkeypatch) -> None:
    """bench/run_full.sh runs the memory set within a time budget: the soaks are their own set (or part of all)."""
    monkeypatch.setattr(full_bench, "build_or_use_model", lambda args, workdir: (tmp_path, 0.0, "none"))
    ran: list[str] = []
    monkeypatch.setattr(full_bench, "run_one", lambda name, *a: ran.append(name) or {"name": name, "error": "x"})

    def names(*extra: str) -> list[str]:
        ran.clear()
        full_bench.main(["--device", "cuda", "--scale", "full", "--out", str(tmp_path), *extra])
        return list(ran)

    assert names() == list(full_bench.GPU_CONFIGS)
    assert names("--set", "soak") == list(full_bench.GPU_SOAK_CONFIGS)
    assert set(full_bench.GPU_SOAK_CONFIGS) <= set(names("--set", "all"))
    ran.clear()
    full_bench.main(["--set", "soak", "--scale", "tiny", "--out", str(tmp_path)])
    assert ran == list(full_bench.CPU_SOAK_CONFIGS)
    assert (tmp_path / "soak-cpu-tiny.md").exists()


def test_parallel_paper_reports_the_traffic_and_speed_ups_with_their_assumptions(tmp_path: Path, capsys) -> None:
    """bench/parallel_paper.py's paper mode: no GPU, nothing measured, and it says so."""
    from bench import parallel_paper

    out_json, out_md = tmp_path / "paper.json", tmp_path / "paper.md"
    assert parallel_paper.main(["--json", str(out_json), "--md", str(out_md)]) == 0
    report = json.loads(out_json.read_text(encoding="utf-8"))
    assert report["job"]["tokens"] == 41_805 and report["measured"] is None
    splits = {s["split"]: s for s in report["splits"]}
    assert set(splits) >= {"guidance", "ulysses ×2", "ring ×2", "guidance × ulysses ×2"}
    assert splits["guidance"]["bytes_per_gpu"] < 10e6 < 10e9 < splits["ulysses ×2"]["bytes_per_gpu"]
    for split in splits.values():
        speedups = [split["per_link"][link]["speedup"] for link in ("pcie", "p2p", "nvlink")]
        assert speedups == sorted(speedups) and 1 < speedups[0] <= split["gpus"]
    issue = report["against_the_issue"]["ulysses ×2 bytes per step"]
    assert issue["ours"] == pytest.approx(issue["issue"], rel=0.05)
    markdown = out_md.read_text(encoding="utf-8")
    printed = capsys.readouterr().out
    assert markdown == printed
    assert "| p2p (PCIe peer to peer) | 25 |" in markdown and "none has been measured yet" in markdown
