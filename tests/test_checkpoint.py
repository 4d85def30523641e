"""Model folder validation: every problem named, in one message, before anything heavy is loaded."""

from __future__ import annotations

import json

import pytest

from core.errors import ModelFolderError
from core.model.checkpoint import check_model_folder, inspect_model_folder


def test_reference_and_demo_models_are_complete(reference_model, tiny_model):
    for folder in (reference_model, tiny_model):
        report = inspect_model_folder(folder)
        assert report.ok, report.problems
        assert set(report.weight_bytes) == {"transformer", "vae", "text_encoder", "text_encoder_2", "text_encoder_3"}


def test_every_problem_is_listed_in_one_message(broken_model):
    import shutil

    shutil.rmtree(broken_model / "text_encoder_2")
    (broken_model / "tokenizer_3" / "spiece.model").unlink()
    (broken_model / "tokenizer_3" / "tokenizer.json").unlink()
    (broken_model / "scheduler" / "scheduler_config.json").write_text("{not json")
    (broken_model / "model_index.json").unlink()
    report = inspect_model_folder(broken_model)
    assert not report.ok
    assert report.problems == (
        "model_index.json is missing",
        "text_encoder_2 (CLIP-G) is missing",
        "scheduler's scheduler_config.json is unreadable",
        "tokenizer_3 (T5) has no spiece.model or tokenizer.json",
    )
    with pytest.raises(ModelFolderError) as info:
        check_model_folder(broken_model)
    assert all(p in info.value.message for p in report.problems)
    assert info.value.advice


def test_sharded_weights_with_a_missing_shard(broken_model):
    folder = broken_model / "text_encoder_3"
    (folder / "model.safetensors").rename(folder / "model-00001-of-00002.safetensors")
    index = {"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    report = inspect_model_folder(broken_model)
    assert report.problems == ("text_encoder_3 (T5-XXL) weight shards are missing (model-00002-of-00002.safetensors)",)


def test_a_file_or_nothing(tmp_path):
    (tmp_path / "f").write_text("x")
    assert inspect_model_folder(tmp_path / "f").problems == ("it is a file, not a folder",)
    assert inspect_model_folder(tmp_path / "none").problems == ("the folder does not exist",)
    assert "transformer (3D MMDiT) is missing" in inspect_model_folder(tmp_path).problems
