"""Milestone 06 (MLPerf): one fast run through ``tito milestones tour``, its result checked.

The run is shared by the module's tests (it trains two models and benchmarks them). Its
targets are speed-ups measured on whatever machine runs the tests, so the tests check that
the result is real and consistent (file sizes are the files' sizes, the ratios are the
ratios of the figures, the verdict follows the numbers), never that a speed target is met.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tinytorch
from tests.cli.helpers import tito
from tinytorch.milestones import load_script
from tinytorch.milestones.harness import main

pytestmark = pytest.mark.milestone

SLUG = "06_2018_mlperf"
CHECKS = [
    ("LeNet-5 on disk, times smaller", "x", False, 4.0),
    ("LeNet-5 p90 latency, times lower", "x", False, 2.0),
    ("LeNet-5 accuracy lost", "%", True, 0.01),
    ("GPT tokens/s with KV cache, times", "x", False, 5.0),
    ("GPT cached tokens identical", "%", False, 1.0),
]


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    """``tito milestones tour 06 --fast`` in an empty folder: (process, result, folder)."""
    folder = tmp_path_factory.mktemp("mlperf")
    completed = tito("milestones", "tour", "06", "--fast", "--data-dir", str(folder),
                     cwd=folder)  # fmt: skip
    path = folder / ".tinytorch" / "results" / f"{SLUG}.json"
    assert path.exists(), completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed, json.loads(path.read_text()), folder


@pytest.fixture(scope="module")
def result(tour):
    return tour[1]


def checks(result) -> dict:
    return {check["name"]: check for check in result["checks"]}


def test_the_result_has_every_check_with_its_target(result):
    assert result["milestone"] == SLUG and result["fast"] is True
    found = [(c["name"], c["unit"], c["at_most"], c["target"]) for c in result["checks"]]
    assert found == CHECKS


def test_the_verdict_follows_the_numbers(tour):
    completed, result, _ = tour
    for check in result["checks"]:
        value, target = check["value"], check["target"]
        assert check["passed"] == (value <= target if check["at_most"] else value >= target)
    assert result["passed"] == all(check["passed"] for check in result["checks"])
    assert completed.returncode == (0 if result["passed"] else 1)
    verdict = "MILESTONE ACHIEVED" if result["passed"] else "NOT YET: a target was missed"
    assert verdict in completed.stdout
    summary = completed.stdout.split("Tour done in")[0].rsplit("\nmilestone", 1)[1]
    assert SLUG in summary
    for check in result["checks"]:
        row = next(line for line in summary.splitlines() if check["name"] in line)
        assert ("ok" if check["passed"] else "MISS") in row.split()


def test_sizes_are_the_bytes_of_the_saved_files(result):
    lenet = result["lenet"]
    before, after = lenet["baseline"], lenet["optimized"]
    for model in (before, after):
        assert Path(model["file"]).stat().st_size == model["file_bytes"]
    ratio = checks(result)["LeNet-5 on disk, times smaller"]["value"]
    assert ratio == pytest.approx(before["file_bytes"] / after["file_bytes"])
    assert ratio > 1.0  # pruned and int8: smaller, whatever the machine


def test_the_optimized_file_stores_int8_weights(result):
    saved = tinytorch.load(result["lenet"]["optimized"]["file"])
    weights = {name: tensor for name, tensor in saved.items() if name.endswith("weight_int")}
    assert len(weights) == 5  # two convolutions, three linear layers
    assert all(tensor.dtype == tinytorch.int8 for tensor in weights.values())
    floats = [name for name, t in saved.items() if t.dtype == tinytorch.float32 and t.numel() > 200]
    assert not floats, f"large float32 tensors in the int8 model: {floats}"


def test_latency_and_accuracy_checks_are_computed_from_the_harness_figures(result):
    lenet = result["lenet"]
    before, after = lenet["baseline"], lenet["optimized"]
    found = checks(result)
    p90 = found["LeNet-5 p90 latency, times lower"]["value"]
    assert p90 == pytest.approx(before["p90_ms"] / after["p90_ms"])
    lost = found["LeNet-5 accuracy lost"]["value"]
    assert lost == pytest.approx(before["accuracy"] - after["accuracy"])
    report = lenet["mlperf"]
    assert report["schema"] == "tinytorch.mlperf/1" and len(report["results"]) == 2
    for entry, figures in zip(report["results"], (before, after)):
        assert entry["single_stream"]["p90_ms"] == pytest.approx(figures["p90_ms"])
        assert entry["single_stream"]["queries"] >= 1 and entry["system"]["cpu"]
        assert entry["verdict"] == ("VALID" if entry["accuracy"] >= entry["quality_target"]
                                    else "INVALID")  # fmt: skip
    assert report["results"][1]["division"] == "open"
    assert lenet["dataset"] == "TinyDigits"
    assert lenet["hot_op"] in {"Conv2d", "MaxPool2d", "Linear", "ReLU", "Reshape"}


def test_cached_generation_writes_the_same_tokens(result):
    gpt = result["gpt"]
    assert gpt["tokens_identical"] is True
    assert checks(result)["GPT cached tokens identical"]["value"] == 1.0
    speedup = checks(result)["GPT tokens/s with KV cache, times"]["value"]
    assert speedup == pytest.approx(gpt["tokens_per_s_cache"] / gpt["tokens_per_s_no_cache"])
    assert gpt["new_tokens"] == 256 and gpt["block_size"] >= 256


def test_a_missing_course_module_is_refused_before_any_result(tmp_path, monkeypatch, capsys):
    """A learner who has not written module 16 yet gets exit code 2 and the stub's message."""
    from tinytorch.compression import channels

    def stub(weight: np.ndarray, amount: float) -> np.ndarray:
        raise NotImplementedError("module 16: channels_to_keep is not written yet")

    monkeypatch.setattr(channels, "channels_to_keep", stub)
    monkeypatch.chdir(tmp_path)
    output = tmp_path / "result.json"
    assert main(load_script(6).run, SLUG, None, ["--fast", "--output", str(output)]) == 2
    assert "module 16: channels_to_keep" in capsys.readouterr().err
    assert not output.exists()


def test_the_milestone_is_locked_until_module_19_is_complete(tmp_path):
    root = tmp_path / "ws"
    assert tito("init", str(root), cwd=tmp_path).returncode == 0
    refused = tito("milestones", "run", "06", "--fast", cwd=root)
    assert refused.returncode != 0
    assert "06_2018_mlperf is locked" in refused.stderr and "19" in refused.stderr
