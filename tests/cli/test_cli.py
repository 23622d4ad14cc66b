"""``tito`` end to end, by subprocess, in temporary workspaces."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.helpers import tito
from tito.course.edition import build_edition
from tito.course.workspace import workspace_env

pytestmark = pytest.mark.cli

COMMANDS = [
    [],
    ["version"],
    ["init"],
    ["module"],
    ["module", "list"],
    ["module", "status"],
    ["module", "start"],
    ["module", "test"],
    ["module", "complete"],
    ["module", "reset"],
    ["system"],
    ["system", "doctor"],
    ["milestones"],
    ["milestones", "list"],
    ["milestones", "status"],
    ["milestones", "run"],
    ["milestones", "tour"],
    ["release"],
    ["grade"],
    ["nbgrader"],
    ["nbgrader", "generate"],
    ["nbgrader", "autograde"],
    ["nbgrader", "grades"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(command: list[str], tmp_path: Path) -> None:
    result = tito(*command, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "usage: tito" in result.stdout


def test_init_makes_a_workspace_and_refuses_a_non_empty_folder(workspace: Path) -> None:
    assert (workspace / "tinytorch" / "__init__.py").is_file()
    assert (workspace / "tests" / "01_tensor").is_dir()
    assert json.loads((workspace / ".tito" / "progress.json").read_text())["version"] == 1
    again = tito("init", str(workspace), cwd=workspace.parent)
    assert again.returncode == 1 and "--force" in again.stderr
    forced = tito("init", str(workspace), "--force", cwd=workspace.parent)
    assert forced.returncode == 0, forced.stderr
    assert list((workspace / ".tito" / "backups").glob("*/tinytorch/__init__.py"))


def test_a_stub_names_its_module_symbol_and_lesson(workspace: Path) -> None:
    code = "import tinytorch; tinytorch.tensor([1.0])"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=workspace,
        env=workspace_env(workspace),
        capture_output=True,
        text=True,
        check=False,
    )
    assert "NotImplementedError: Module 01 (Tensor): implement tensor" in result.stderr
    assert "modules/01_tensor/" in result.stderr


def test_commands_outside_a_workspace_say_how_to_make_one(tmp_path: Path) -> None:
    result = tito("module", "status", cwd=tmp_path)
    assert result.returncode == 2 and "tito init DIR" in result.stderr


def test_start_names_the_functions_to_write(workspace: Path) -> None:
    result = tito("module", "start", "02", cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert "tinytorch/ops/activation.py" in result.stdout and "ReLU.forward" in result.stdout
    assert tito("module", "start", "99", cwd=workspace).returncode == 2


def test_complete_fails_on_stubs_and_passes_once_filled(workspace: Path, tmp_path: Path) -> None:
    stubbed = tito("module", "complete", "01", cwd=workspace)
    assert stubbed.returncode == 1 and "not complete" in stubbed.stderr
    build_edition(tmp_path / "filled", filled=[1])
    shutil.copytree(tmp_path / "filled" / "tinytorch", workspace / "tinytorch", dirs_exist_ok=True)
    filled = tito("module", "complete", "01", cwd=workspace)
    assert filled.returncode == 0, filled.stdout[-2000:]
    assert "Module 01 (Tensor) complete" in filled.stdout
    status = json.loads(tito("module", "status", "--json", cwd=workspace).stdout)
    assert status["completed"] == [1] and status["next"] == 2
    assert tito("module", "list", cwd=workspace).stdout.count("[x]") == 1


def test_status_json_describes_every_module_and_milestone(workspace: Path) -> None:
    result = tito("module", "status", "--json", cwd=workspace)
    status = json.loads(result.stdout)
    assert status["completed"] == [] and status["next"] == 1
    assert [module["number"] for module in status["modules"]] == list(range(1, 21))
    assert not any(milestone["unlocked"] for milestone in status["milestones"])


def test_reset_asks_then_restores_stubs_and_keeps_a_backup(workspace: Path) -> None:
    path = workspace / "tinytorch" / "ops" / "activation.py"
    original = path.read_text(encoding="utf-8")
    lines = original.splitlines(keepends=True)
    stub = next(i for i, line in enumerate(lines) if "implement ReLU.forward" in line)
    lines[stub] = "        return a  # my relu\n"
    path.write_text("".join(lines), encoding="utf-8")
    refused = tito("module", "reset", "02", cwd=workspace)
    assert refused.returncode == 1 and "my relu" in path.read_text(encoding="utf-8")
    reset = tito("module", "reset", "02", "--force", cwd=workspace)
    assert reset.returncode == 0, reset.stderr
    assert path.read_text(encoding="utf-8") == original
    backups = list((workspace / ".tito" / "backups").glob("*/tinytorch/ops/activation.py"))
    assert len(backups) == 1 and "my relu" in backups[0].read_text(encoding="utf-8")


@pytest.mark.parametrize("content", ["{not json", '{"version": 0, "completed": []}'])
def test_a_corrupt_or_old_progress_file_is_backed_up_and_rebuilt(
    workspace: Path, content: str
) -> None:
    (workspace / ".tito" / "progress.json").write_text(content, encoding="utf-8")
    result = tito("module", "status", "--json", cwd=workspace)
    assert result.returncode == 0, result.stderr
    assert "was not a progress file tito can read" in result.stderr
    assert json.loads(result.stdout)["completed"] == []
    saved = list((workspace / ".tito" / "backups").glob("*/progress.json"))
    assert [path.read_text(encoding="utf-8") for path in saved] == [content]
    assert json.loads((workspace / ".tito" / "progress.json").read_text())["version"] == 1


def test_doctor_checks_the_environment_and_the_workspace(workspace: Path) -> None:
    result = tito("system", "doctor", cwd=workspace)
    assert result.returncode == 0, result.stdout
    assert "course: 20 modules" in result.stdout and f"workspace {workspace}" in result.stdout
