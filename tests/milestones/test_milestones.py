"""Each milestone, in fast mode, reaches its targets on the reference framework."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.cli.helpers import tito
from tinytorch.milestones import list_milestones, milestones_dir, run_milestone
from tinytorch.milestones.harness import main

pytestmark = pytest.mark.milestone


MEASURED = 6
"""Milestone 06's targets are speed-ups measured on the machine that runs it, which tests do
not assert: test_mlperf.py runs it once and checks that its result is consistent."""
TARGETED = [milestone.number for milestone in list_milestones() if milestone.number != MEASURED]


@pytest.mark.parametrize("number", TARGETED)
def test_fast_mode_reaches_every_target(number, tmp_path):
    output = tmp_path / "result.json"
    returned = run_milestone(number, fast=True, data_dir=tmp_path, output=output)
    written = json.loads(output.read_text())
    assert written == returned
    assert written["fast"] is True
    for check in written["checks"]:
        value, target = check["value"], check["target"]
        assert value <= target if check["at_most"] else value >= target, check
    assert written["passed"] is True


def test_every_milestone_has_a_readme_and_its_script():
    for milestone in list_milestones():
        folder = milestones_dir() / milestone.slug
        assert (folder / "README.md").is_file()
        assert (folder / milestone.script).is_file()


def test_script_runs_from_the_command_line_and_writes_its_result(tmp_path):
    milestone = list_milestones()[0]
    output = tmp_path / "perceptron.json"
    script = milestones_dir() / milestone.slug / milestone.script
    completed = subprocess.run(
        [sys.executable, str(script), "--fast", "--output", str(output)],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert "MILESTONE ACHIEVED" in completed.stdout
    assert json.loads(output.read_text())["passed"] is True
    assert completed.returncode == 0


def test_unknown_milestone_is_refused():
    with pytest.raises(ValueError, match="no milestone 99"):
        run_milestone(99, fast=True)


def test_a_missing_course_module_is_reported_not_a_crash(tmp_path, capsys):
    def run(fast: bool, data_dir: str | None) -> dict:
        raise NotImplementedError("module 05: Tensor.backward is not written yet")

    output = tmp_path / "result.json"
    assert main(run, "99_test", None, ["--fast", "--output", str(output)]) == 2
    assert "module 05: Tensor.backward" in capsys.readouterr().err
    assert not output.exists()


def test_the_tour_runs_the_milestones_asked_for_and_summarises(tmp_path):
    numbers = [f"{number:02d}" for number in TARGETED]  # 06 tours once, in test_mlperf.py
    completed = tito("milestones", "tour", *numbers, "--fast", "--data-dir", str(tmp_path),
                     cwd=tmp_path)  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr
    summary = completed.stdout.split("Tour done in")[0].rsplit("\nmilestone", 1)[1]
    for milestone in list_milestones():
        path = tmp_path / f".tinytorch/results/{milestone.slug}.json"
        if milestone.number == MEASURED:
            assert not path.exists() and milestone.slug not in summary
            continue
        result = json.loads(path.read_text())
        assert result["passed"] is True and result["fast"] is True
        assert milestone.slug in summary
    assert "MISS" not in summary


def test_the_tour_refuses_an_unknown_milestone(tmp_path):
    completed = tito("milestones", "tour", "42", "--fast", cwd=tmp_path)
    assert completed.returncode != 0 and "no milestone 42" in completed.stderr
