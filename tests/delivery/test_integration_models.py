"""The instructor's integration models end to end: ``tito init|release|grade --modules``.

Each model (full course, half semester 01-09, optimization focus 14-19, self-paced) is
checked on what it changes: the modules offered, the regions filled from the reference, and
one quick test run on the resulting package.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import tito
from tito.course.manifest import REPOSITORY, load_manifest
from tito.course.regions import package_regions
from tito.course.scope import ScopeError, course_scope, parse_modules

pytestmark = pytest.mark.cli

MANIFEST = load_manifest()
STUB = "raise NotImplementedError("


def _init(folder: Path, *options: str) -> Path:
    """``tito init folder/ws OPTIONS``; the workspace."""
    result = tito("init", str(folder / "ws"), *options, cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / "ws"


def _stubbed_modules(root: Path) -> set[int]:
    """The modules with at least one region that raises its stub in ``root/tinytorch``."""
    stubbed = set()
    for path, regions in package_regions(root).items():
        lines = (root / path).read_text(encoding="utf-8").splitlines()
        for region in regions:
            if any(STUB in line for line in lines[region.begin : region.end - 1]):
                stubbed.add(region.module)
    return stubbed


def _lessons(root: Path) -> list[int]:
    return sorted(int(path.parent.name[:2]) for path in root.glob("modules/*/lesson.py"))


def _json(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def optimization(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace of the optimization focus: modules 14-19."""
    return _init(tmp_path_factory.mktemp("optimization"), "--modules", "14-19")


def test_ranges_and_lists_parse_and_bad_ones_say_what_is_allowed() -> None:
    assert parse_modules("14-19", MANIFEST) == (14, 15, 16, 17, 18, 19)
    assert parse_modules("1-3, 7", MANIFEST) == (1, 2, 3, 7)
    assert course_scope((1, 2, 5), MANIFEST).filled == (3, 4)
    for text, words in [("5-3", "backwards"), ("25", "modules 1-20"), ("0", "modules 1-20"),
                        ("a-b", "a range (1-9")]:  # fmt: skip
        with pytest.raises(ScopeError, match=words.replace("(", r"\(")):
            parse_modules(text, MANIFEST)


@pytest.mark.parametrize("text", ["5-3", "25", "0"])
def test_init_refuses_a_bad_range_and_writes_nothing(text: str, tmp_path: Path) -> None:
    result = tito("init", str(tmp_path / "ws"), "--modules", text, cwd=tmp_path)
    assert result.returncode == 2
    assert "1-9, 14-19" in result.stderr and "error:" in result.stderr
    assert not (tmp_path / "ws").exists()


def test_full_course_offers_every_module(tmp_path: Path) -> None:
    root = _init(tmp_path)
    status = _json(tito("module", "status", "--json", cwd=root))
    assert status["offered"] == list(range(1, 21)) and status["filled"] == []
    with_regions = {n for regions in package_regions(REPOSITORY).values() for n in
                    (r.module for r in regions)}  # fmt: skip
    assert _stubbed_modules(root) == with_regions


def test_half_semester_offers_modules_1_to_9_only(tmp_path: Path) -> None:
    root = _init(tmp_path, "--modules", "1-9")
    assert _lessons(root) == list(range(1, 10))
    assert not (root / MANIFEST.module(10).tests_dir).exists()
    refused = tito("module", "start", "10", cwd=root)
    assert refused.returncode == 1 and "not part of this course" in refused.stderr
    assert "01-09" in refused.stderr
    listing = tito("module", "list", cwd=root).stdout
    assert "[-] 10 Tokenization" in listing and "[ ] 09 Spatial" in listing
    assert {1, 9} <= _stubbed_modules(root)


def test_optimization_focus_starts_at_profiling_on_a_filled_framework(optimization: Path) -> None:
    assert _lessons(optimization) == list(range(14, 20))
    stubbed = _stubbed_modules(optimization)
    assert not stubbed & set(range(1, 14)), f"modules {sorted(stubbed)} still hold stubs"
    assert {14, 19} <= stubbed
    status = _json(tito("module", "status", "--json", cwd=optimization))
    assert status["next"] == 14 and status["filled"] == list(range(1, 14))
    unlocked = {m["id"][:2] for m in status["milestones"] if m["unlocked"]}
    assert unlocked == {"01", "02", "03", "04", "05"}
    refused = tito("module", "start", "05", cwd=optimization)
    assert "filled from the reference" in refused.stderr
    started = tito("module", "start", "14", cwd=optimization)
    assert started.returncode == 0, started.stderr
    assert "complete module(s)" not in started.stdout  # 13 is filled: nothing to do first


def test_optimization_focus_framework_trains_and_module_14_is_still_to_write(
    optimization: Path,
) -> None:
    """The quick module test: a training step runs on the filled modules 01-13; profiling (14)
    stops on the learner's stub."""
    code = (
        "import tinytorch as t\n"
        "model = t.nn.Sequential(t.nn.Linear(4, 8), t.nn.ReLU(), t.nn.Linear(8, 2))\n"
        "opt = t.optim.Adam(model.parameters())\n"
        "loss = t.nn.functional.cross_entropy(model(t.randn(5, 4)), t.tensor([0, 1, 0, 1, 1]))\n"
        "loss.backward(); opt.step(); print('trained', t.__file__)\n"
        "from tinytorch.utils.flop_counter import FlopCounterMode\n"
        "with FlopCounterMode(display=False) as counter:\n"
        "    model(t.randn(5, 4))\n"
        "print(counter.get_total_flops())\n"
    )
    env = dict(os.environ, PYTHONPATH=str(optimization))
    run = subprocess.run([sys.executable, "-c", code], cwd=optimization, env=env,
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert f"trained {optimization / 'tinytorch'}" in run.stdout, run.stderr
    assert run.returncode != 0 and "Module 14 (Profiling): implement" in run.stderr


def test_self_paced_fills_the_prerequisites_of_any_list(tmp_path: Path) -> None:
    root = _init(tmp_path, "--modules", "3,6")
    status = _json(tito("module", "status", "--json", cwd=root))
    assert status["offered"] == [3, 6] and status["filled"] == [1, 2, 4, 5]
    assert _stubbed_modules(root) & set(range(1, 7)) == {3, 6}


def test_release_of_a_range_makes_workspaces_of_that_range(tmp_path: Path) -> None:
    out = tmp_path / "release"
    result = tito("release", str(out), "--modules", "14-19", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert _lessons(out) == list(range(14, 20))
    assert json.loads((out / "modules" / "scope.json").read_text())["filled"] == list(range(1, 14))
    assert "Modules 01-13 come filled" in (out / "README.md").read_text(encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(out))
    init = subprocess.run([sys.executable, "-m", "tito.main", "init", str(tmp_path / "ws")],
                          cwd=tmp_path, env=env, capture_output=True, text=True)  # fmt: skip
    assert init.returncode == 0, init.stderr
    assert "offers module(s) 14-19" in init.stdout
    stubbed = _stubbed_modules(tmp_path / "ws")
    assert {14, 19} <= stubbed and not stubbed & set(range(1, 14))
    bad = tito("release", str(tmp_path / "other"), "--modules", "25", cwd=tmp_path)
    assert bad.returncode == 2 and "modules 1-20" in bad.stderr
    bad = tito("release", str(tmp_path / "other"), "--github", "not a repo", cwd=tmp_path)
    assert bad.returncode == 2 and "OWNER/REPO" in bad.stderr


def test_grade_of_a_range_grades_and_lists_only_that_range(tmp_path: Path) -> None:
    root = _init(tmp_path, "--modules", "1-2")
    out = tmp_path / "grades"
    result = tito("grade", str(root), "--out", str(out), "--json", cwd=tmp_path)
    record = _json(result)
    assert [m["number"] for m in record["modules"]] == [1, 2]
    assert {m["status"] for m in record["modules"]} == {"not graded"}
    bad = tito("grade", str(root), "--modules", "5-3", cwd=tmp_path)
    assert bad.returncode == 2 and "backwards" in bad.stderr
