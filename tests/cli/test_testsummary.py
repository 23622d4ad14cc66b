"""``tito module test``'s summary by exercise, from per-test records (no pytest run)."""

from __future__ import annotations

import pytest

from tito.course.manifest import load_manifest
from tito.course.regions import Region
from tito.course.testsummary import missing_package_skips, summary

pytestmark = pytest.mark.cli

MANIFEST = load_manifest()
MODULE = MANIFEST.module(2)
REGIONS = [
    Region("tinytorch/ops/activation.py", 2, 10, 12, "    ", None, "ReLU.forward"),
    Region("tinytorch/ops/activation.py", 2, 20, 22, "    ", None, "Tanh.forward"),
    Region("tinytorch/ops/activation.py", 2, 30, 32, "    ", None, "GELU.forward"),
    Region("tinytorch/creation.py", 1, 5, 7, "    ", None, "tensor"),
]


def record(test: str, outcome: str, reached: list[int], **more) -> dict:
    base = {"test": test, "file": test.split("::")[0], "outcome": outcome, "reached": reached}
    return base | more


RECORDS = [
    record("tests/a.py::relu", "failed", [1], failed_in=1, message="NotImplementedError: x"),
    record("tests/a.py::tanh", "passed", [2]),
    record("tests/a.py::tanh_gelu", "failed", [2, 3], failed_in=None, message="AssertionError"),
    record("tests/b.py::needs_01", "failed", [4], failed_in=4, message="NotImplementedError"),
    record("tests/b.py::torch", "skipped", [], skip="Skipped: could not import 'torch'"),
]


def test_each_exercise_gets_a_verdict_and_other_modules_are_named() -> None:
    lines, passes = summary(RECORDS, MODULE, MANIFEST, REGIONS)
    text = "\n".join(lines)
    assert not passes
    assert "ReLU.forward" in text and "not written yet (1 test)" in text
    assert "Tanh.forward" in text and "FAILS (1 test)" in text
    assert "1 test fail in Module 01 (Tensor): tinytorch/creation.py:5 tensor" in text
    assert "tests/a.py" in text and "First failure: tests/a.py::relu" in text
    assert "GELU.forward" in text


def test_one_exercise_is_judged_on_the_tests_that_reach_it() -> None:
    _, passes = summary(RECORDS[:2], MODULE, MANIFEST, REGIONS, exercise=2)
    assert passes
    lines, passes = summary(RECORDS, MODULE, MANIFEST, REGIONS, exercise=3)
    assert not passes and "1 failed" in lines[0]


def test_skips_for_a_missing_package_are_counted() -> None:
    assert missing_package_skips(RECORDS) == 1
