"""``tito system``: is this environment ready for the course?"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import platform
import subprocess
import sys
from pathlib import Path

from tito.commands.common import FAILED, OK, show_help
from tito.course.manifest import REPOSITORY, ManifestError, load_manifest
from tito.course.progress import load_progress
from tito.course.regions import RegionError, package_regions
from tito.course.testsummary import TEST_TOOLS
from tito.course.workspace import find_workspace, workspace_env


def _report(ok: bool, text: str, fix: str = "") -> bool:
    print(f"{'ok  ' if ok else 'FAIL'} {text}" + ("" if ok or not fix else f"  -> {fix}"))
    return ok


def _check_import(name: str, fix: str) -> bool:
    try:
        module = importlib.import_module(name)
    except Exception as error:  # noqa: BLE001 - any import failure is a finding to report
        return _report(False, f"{name} does not import: {error}", fix)
    version = getattr(module, "__version__", "")
    return _report(True, f"{name} {version} ({Path(module.__file__ or '').parent})")


def _check_course() -> bool:
    try:
        manifest = load_manifest()
        regions = package_regions(REPOSITORY)
    except (ManifestError, RegionError) as error:
        return _report(False, str(error), "fix the file named above")
    count = sum(len(found) for found in regions.values())
    return _report(True, f"course: {len(manifest.modules)} modules, {count} exercise regions")


def _check_jupyter() -> bool:
    """Jupyter is optional (lessons also run as scripts), so a missing one is only a note."""
    if importlib.util.find_spec("jupyterlab") or importlib.util.find_spec("notebook"):
        return _report(True, "Jupyter, for the lesson notebooks")
    print(
        "note Jupyter not found: lessons still run as `python modules/NN_slug/lesson.py`;"
        "  -> pip install jupyterlab  to open them as notebooks"
    )
    return True


def _last_error(stderr: str) -> str:
    """The error of a failed import: its last line, and the file and line it names."""
    lines = stderr.strip().splitlines()
    where = [line.strip() for line in lines if line.strip().startswith('File "')]
    return f"{lines[-1] if lines else 'unknown error'}" + (f" ({where[-1]})" if where else "")


def _check_workspace() -> bool:
    """Inside a workspace: its progress file, and that ``import tinytorch`` finds its package."""
    root = find_workspace(Path.cwd())
    if root is None:
        return _report(True, "not inside a workspace (tito init DIR makes one)")
    _, warning = load_progress(root)
    if warning:
        print(f"note {warning}")
    found = subprocess.run(
        [sys.executable, "-c", "import tinytorch; print(tinytorch.__file__)"],
        cwd=root,
        env=workspace_env(root),
        capture_output=True,
        text=True,
        check=False,
    )
    package = Path(found.stdout.strip()).parent if found.returncode == 0 else None
    if found.returncode != 0 and (root / "tinytorch").is_dir():
        return _report(
            False,
            f"workspace {root}: your tinytorch/ does not import: {_last_error(found.stderr)}",
            "fix that line of your code (your work stays where it is), then run this again",
        )
    if package != root / "tinytorch":
        return _report(
            False,
            f"workspace {root}: `import tinytorch` loads {package}, not {root / 'tinytorch'}",
            f"check that {root / 'tinytorch'} exists; `tito init` a new workspace if it does not",
        )
    return _report(True, f"workspace {root}, whose tinytorch/ your code and tests use")


def doctor(args: argparse.Namespace) -> int:
    """Check Python, NumPy, the test tools (pytest, hypothesis, PyTorch), tinytorch, Jupyter,
    the course files and the workspace."""
    checks = [
        _report(
            sys.version_info >= (3, 10),
            f"Python {platform.python_version()}",
            "install Python 3.10 or newer",
        ),
        _check_import("numpy", "pip install numpy"),
        _check_import("pytest", TEST_TOOLS),
        _check_import("hypothesis", TEST_TOOLS),
        _check_import("torch", f"{TEST_TOOLS} (the tests compare with PyTorch)"),
        _check_import("tinytorch", "pip install -e . in the repository"),
        _check_jupyter(),
        _check_course(),
        _check_workspace(),
    ]
    if all(checks):
        print("\nAll good. Next: tito module list")
        return OK
    print(f"\n{checks.count(False)} problem(s); fix them as shown above, then run this again.")
    return FAILED


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``tito system`` and its commands."""
    system = commands.add_parser("system", help="check this environment")
    system.set_defaults(run=show_help(system))
    system_commands = system.add_subparsers(metavar="COMMAND")
    check = system_commands.add_parser(
        "doctor", help="check Python, NumPy, the test tools, tinytorch and the course files"
    )
    check.set_defaults(run=doctor)
