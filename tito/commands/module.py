"""``tito module``: list, status, start, test, complete and reset the modules of the course.

Every command but ``list`` works inside a workspace (``tito init DIR`` makes one) and tests
the workspace's own ``tinytorch``, never the installed reference.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
from pathlib import Path

from tito.commands.common import (
    FAILED,
    OK,
    USAGE,
    Command,
    fail,
    lookup_module,
    module_number,
    show_help,
    workspace_progress,
    workspace_root,
)
from tito.course.edition import render
from tito.course.manifest import REPOSITORY, Manifest, Module, load_manifest
from tito.course.notebook import how_to_open, write_notebook
from tito.course.progress import (
    Progress,
    new_backup_dir,
    now,
    save_progress,
    write_atomic,
)
from tito.course.regions import Region, package_regions, parse_regions
from tito.course.workspace import LESSON, find_workspace, run_module_tests

NOTEBOOK = "lesson.ipynb"


def _next_module(manifest: Manifest, progress: Progress) -> Module | None:
    """The first module not yet complete."""
    return next((m for m in manifest.modules if m.number not in progress.completed), None)


def _regions_of(root: Path, module: Module) -> list[Region]:
    """The regions of ``module`` in the package under ``root``, in file and line order."""
    found = package_regions(root)
    return [
        region for regions in found.values() for region in regions if region.module == module.number
    ]


def list_modules(args: argparse.Namespace) -> int:
    """Print every module by tier, marking completed ones when inside a workspace."""
    manifest = load_manifest()
    root = find_workspace(Path.cwd())
    completed = workspace_progress(root).completed if root else {}
    print(f"{manifest.title}: {len(manifest.modules)} modules")
    print(f"Textbook: {manifest.textbook}, {manifest.textbook_url}")
    for tier, description in manifest.tiers.items():
        print(f"\n{description}")
        for module in (m for m in manifest.modules if m.tier == tier):
            mark = "[x]" if module.number in completed else "[ ]"
            print(f"  {mark} {module.tag} {module.title:<34} chapter: {module.chapter}")
    print("\nNext: tito module start NN" if root else "\nNext: tito init DIR")
    return OK


def _status_record(manifest: Manifest, progress: Progress, root: Path) -> dict:
    """Everything ``status`` reports, as a JSON-ready dict."""
    following = _next_module(manifest, progress)
    done = set(progress.completed)
    return {
        "workspace": str(root),
        "completed": sorted(done),
        "next": following.number if following else None,
        "modules": [
            {
                "number": module.number,
                "slug": module.slug,
                "title": module.title,
                "started": progress.started.get(module.number),
                "completed": progress.completed.get(module.number),
            }
            for module in manifest.modules
        ],
        "milestones": [
            {
                "id": milestone.id,
                "title": milestone.title,
                "unlocked": done.issuperset(milestone.modules),
            }
            for milestone in manifest.milestones
        ],
    }


def status(args: argparse.Namespace) -> int:
    """Print progress: modules complete, the next one, milestones unlocked (``--json``)."""
    root = workspace_root()
    if root is None:
        return USAGE
    manifest = load_manifest()
    record = _status_record(manifest, workspace_progress(root), root)
    if args.json:
        print(json.dumps(record, indent=2))
        return OK
    print(f"Workspace {root}")
    print(f"Completed {len(record['completed'])} of {len(manifest.modules)} modules")
    for milestone in record["milestones"]:
        if milestone["unlocked"]:
            print(f"  unlocked milestone {milestone['id']}: {milestone['title']}")
    if record["next"] is None:
        print("Every module is complete.")
    else:
        print(f"Next: tito module start {record['next']:02d}")
    return OK


def _lesson_notebook(root: Path, module: Module) -> str:
    """Build the module's notebook in the workspace unless it exists; say where the lesson is.

    The source is the workspace's ``lesson.py``, else the course's (a lesson published after
    ``tito init``). An existing notebook is the learner's and is never touched.
    """
    notebook = root / module.lesson_dir / NOTEBOOK
    relative = notebook.relative_to(root)
    if notebook.exists():
        return f"Lesson: {relative} (yours, unchanged). {how_to_open(relative)}"
    sources = [folder / module.lesson_dir / LESSON for folder in (root, REPOSITORY)]
    source = next((path for path in sources if path.is_file()), None)
    if source is None:
        return f"Lesson: not written yet; see {module.lesson_dir} in the TinyTorch repository"
    write_notebook(source, notebook)
    return f"Lesson: {relative} (new). {how_to_open(relative)}"


def start(args: argparse.Namespace) -> int:
    """Name the functions to write for a module, where they are, and the lesson."""
    root, manifest = workspace_root(), load_manifest()
    module = lookup_module(manifest, args.number)
    if root is None or module is None:
        return USAGE
    progress = workspace_progress(root)
    missing = [f"{n:02d}" for n in module.prerequisites if n not in progress.completed]
    if missing:
        print(f"note: complete module(s) {', '.join(missing)} first; their tests come first.")
    regions = _regions_of(root, module)
    print(f"{module.label}, textbook chapter: {module.chapter} ({manifest.textbook_url})")
    print(_lesson_notebook(root, module) + "\n")
    if not regions:
        print("This module has no exercises in this workspace yet.")
        return OK
    print(f"Write these {len(regions)} pieces, each between `# BEGIN SOLUTION {module.tag}`")
    print("and `# END SOLUTION` in your workspace:")
    for region in regions:
        print(f"  {region.location:<42} {region.symbol}")
    progress.started.setdefault(module.number, now())
    save_progress(root, progress)
    print(f"\nNext: tito module test {module.tag}   (runs {module.tests_dir})")
    return OK


def _run_tests(root: Path, module: Module, manifest: Manifest, extra: list[str]) -> int | None:
    """Run the module's tests; ``None`` (after saying so) where the module has none."""
    if not (root / module.tests_dir).is_dir():
        fail(f"{module.label} has no tests in this workspace ({module.tests_dir})")
        return None
    print(f"Testing {module.label} against {root / 'tinytorch'}", flush=True)
    return run_module_tests(root, module, manifest, extra)


def test(args: argparse.Namespace) -> int:
    """Run a module's tests against the workspace's tinytorch; pytest's exit code."""
    root, manifest = workspace_root(), load_manifest()
    module = lookup_module(manifest, args.number)
    if root is None or module is None:
        return USAGE
    extra = args.pytest_args[1:] if args.pytest_args[:1] == ["--"] else args.pytest_args
    code = _run_tests(root, module, manifest, extra)
    if code is None:
        return FAILED
    if code == OK:
        print(f"\nAll tests of {module.label} pass. Next: tito module complete {module.tag}")
    else:
        print(f"\nSome tests fail. Fix the code they name, then: tito module test {module.tag}")
    return code


def complete(args: argparse.Namespace) -> int:
    """Mark a module complete once its tests pass; say what that unlocked."""
    root, manifest = workspace_root(), load_manifest()
    module = lookup_module(manifest, args.number)
    if root is None or module is None:
        return USAGE
    code = _run_tests(root, module, manifest, ["-x", "-q"])
    if code != OK:
        return fail(
            f"{module.label} is not complete: its tests do not pass",
            f"fix the failures above, then: tito module complete {module.tag}",
        )
    progress = workspace_progress(root)
    progress.started.setdefault(module.number, now())
    progress.completed[module.number] = now()
    save_progress(root, progress)
    print(f"\n{module.label} complete ({len(progress.completed)} of {len(manifest.modules)}).")
    for milestone in manifest.unlocked_by(module.number):
        print(
            f"Unlocked milestone {milestone.year}: {milestone.title} (milestones/{milestone.id}/)"
        )
    following = _next_module(manifest, progress)
    print(f"Next: tito module start {following.tag}" if following else "The course is complete!")
    return OK


def _stubbed(source: str, path: str, module: Module, reference: list[Region]) -> str:
    """``source`` (a learner's file) with ``module``'s regions back to their stubs.

    The learner's markers must match the reference file's regions of ``module`` one to one.
    """
    mine = [r for r in parse_regions(source, path) if r.module == module.number]
    theirs = [r for r in reference if r.module == module.number]
    if len(mine) != len(theirs):
        raise ValueError(
            f"{path}: {len(mine)} regions of module {module.tag}, the course has {len(theirs)}"
        )
    restored = [
        dataclasses.replace(region, stub=original.stub, symbol=original.symbol)
        for region, original in zip(mine, theirs)
    ]
    return render(source, restored, set(), load_manifest())


def _confirmed(args: argparse.Namespace, module: Module) -> bool:
    """``--force``, or an interactive yes."""
    if args.force:
        return True
    if not sys.stdin.isatty():
        return False
    answer = input(f"Reset {module.label} to its stubs (your files are backed up)? [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def reset(args: argparse.Namespace) -> int:
    """Put a module's stubs back, after backing up the learner's files."""
    root, manifest = workspace_root(), load_manifest()
    module = lookup_module(manifest, args.number)
    if root is None or module is None:
        return USAGE
    reference = {
        path: regions
        for path, regions in package_regions(REPOSITORY).items()
        if any(region.module == module.number for region in regions)
    }
    try:
        restored = {
            path: _stubbed((root / path).read_text(encoding="utf-8"), path, module, regions)
            for path, regions in reference.items()
        }
    except (OSError, ValueError) as error:
        return fail(f"cannot reset: {error}", "restore that file's region markers first")
    if not _confirmed(args, module):
        return fail("not reset (nothing changed)", f"tito module reset {module.tag} --force")
    backup = new_backup_dir(root)
    for path, text in restored.items():
        (backup / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / path, backup / path)
        write_atomic(root / path, text)
    progress = workspace_progress(root)
    progress.completed.pop(module.number, None)
    save_progress(root, progress)
    print(f"{module.label}: {len(restored)} file(s) back to stubs; your code is in {backup}")
    print(f"Next: tito module start {module.tag}")
    return OK


def _add(
    commands: argparse._SubParsersAction, name: str, help_text: str, run: Command
) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(run=run)
    return parser


def _add_numbered(
    commands: argparse._SubParsersAction, name: str, help_text: str, run: Command
) -> argparse.ArgumentParser:
    parser = _add(commands, name, help_text, run)
    parser.add_argument("number", metavar="NN", type=module_number, help="module number, e.g. 01")
    return parser


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``tito module`` and its commands."""
    group = commands.add_parser("module", help="work through the modules of the course")
    group.set_defaults(run=show_help(group))
    sub = group.add_subparsers(metavar="COMMAND")
    _add(sub, "list", "list the modules by tier, with their textbook chapters", list_modules)
    _add(
        sub, "status", "show progress: completed modules, next module, milestones", status
    ).add_argument("--json", action="store_true", help="print the status as JSON")
    _add_numbered(
        sub,
        "start",
        "name the functions to write for a module and where, and build its lesson "
        "notebook (never overwriting yours)",
        start,
    )
    _add_numbered(sub, "test", "run a module's tests against your workspace", test).add_argument(
        "pytest_args", nargs=argparse.REMAINDER, metavar="-- PYTEST_ARGS", help="passed to pytest"
    )
    _add_numbered(sub, "complete", "mark a module complete once its tests pass", complete)
    _add_numbered(
        sub, "reset", "put a module's stubs back (backs up your code first)", reset
    ).add_argument("--force", action="store_true", help="do not ask for confirmation")
