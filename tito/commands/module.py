"""``tito module``: list, status, start, test, complete and reset the modules of the course.

Every command but ``list`` works inside a workspace (``tito init DIR`` makes one) and tests
the workspace's own ``tinytorch``, never the installed reference.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tito.commands.common import (
    FAILED,
    OK,
    USAGE,
    Command,
    changing_progress,
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
from tito.course.progress import BACKUP_DIR, Progress, new_backup_dir, now, write_atomic
from tito.course.regions import Region, module_regions, package_regions, parse_regions
from tito.course.scope import Scope, default_scope, workspace_scope
from tito.course.testsummary import TEST_TOOLS, missing_package_skips, read_records, summary
from tito.course.workspace import LESSON, find_workspace, pytest_command, workspace_env

NOTEBOOK = "lesson.ipynb"
REPORT_PLUGIN = "tito.course.testreport"
NO_TESTS = 5  # pytest's exit code when no test was collected


def _next_module(manifest: Manifest, progress: Progress, scope: Scope) -> Module | None:
    """The first module of the course (``scope``) not yet complete."""
    return next(
        (manifest.module(number) for number in scope.offered if number not in progress.completed),
        None,
    )


def _regions_of(root: Path, module: Module) -> list[Region]:
    """The regions of ``module`` in the package under ``root``, in file and line order."""
    return module_regions(root, module.number)


def _with_regions(root: Path) -> set[int]:
    """The modules that have regions in the package under ``root``."""
    return {region.module for regions in package_regions(root).values() for region in regions}


def available(root: Path, module: Module, with_regions: set[int] | None = None) -> bool:
    """Whether the course under ``root`` has ``module``'s exercises and tests yet."""
    numbers = _with_regions(root) if with_regions is None else with_regions
    return module.number in numbers and (root / module.tests_dir).is_dir()


def _not_available(module: Module) -> int:
    return fail(
        f"{module.label} is not available yet: the course has no exercises and tests for it so far",
        "tito module list  (marks the modules you can take)",
    )


def _not_offered(module: Module, scope: Scope) -> int:
    """Say that this workspace's course does not offer ``module``; return ``FAILED``."""
    how = "it came filled from the reference" if module.number in scope.filled else "it is left out"
    return fail(
        f"{module.label} is not part of this course, which offers module(s) {scope.label}: {how}",
        "tito module list  (marks the modules of this course)",
    )


def _unavailable(root: Path, module: Module, manifest: Manifest) -> int | None:
    """The exit code of refusing ``module`` in the workspace ``root``, or ``None`` if the
    course offers it and has its exercises and tests."""
    scope = workspace_scope(root, manifest)
    if module.number not in scope.offered:
        return _not_offered(module, scope)
    return None if available(root, module) else _not_available(module)


def _mark(module: Module, progress: Progress | None, scope: Scope) -> str:
    """``[x]`` complete, ``[~]`` started, ``[ ]`` not yet, ``[=]`` filled from the reference,
    ``[-]`` not in this course."""
    if module.number in scope.filled:
        return "[=]"
    if module.number not in scope.offered:
        return "[-]"
    if progress and module.number in progress.completed:
        return "[x]"
    return "[~]" if progress and module.number in progress.started else "[ ]"


def list_modules(args: argparse.Namespace) -> int:
    """Print every module by tier, marking completed, started and unavailable ones."""
    manifest = load_manifest()
    root = find_workspace(Path.cwd())
    progress = workspace_progress(root) if root else None
    scope = workspace_scope(root, manifest) if root else default_scope(manifest)
    course = root or REPOSITORY
    numbers = _with_regions(course)
    print(f"{manifest.title}: {len(manifest.modules)} modules")
    print(f"Textbook: {manifest.textbook}, {manifest.textbook_url}")
    for tier, description in manifest.tiers.items():
        print(f"\n{description}")
        for module in (m for m in manifest.modules if m.tier == tier):
            mark = _mark(module, progress, scope)
            waiting = module.number in scope.offered and not available(course, module, numbers)
            later = "  (not available yet)" if waiting else ""
            print(f"  {mark} {module.tag} {module.title:<34} chapter: {module.chapter}{later}")
    legend = "x: complete, ~: started"
    if len(scope.offered) < len(manifest.modules):
        legend += ", =: filled from the reference, -: not in this course"
    print(f"\n({legend})")
    print("Next: tito module start NN" if root else "Next: tito init DIR")
    return OK


def _status_record(manifest: Manifest, progress: Progress, root: Path) -> dict:
    """Everything ``status`` reports, as a JSON-ready dict."""
    scope = workspace_scope(root, manifest)
    following = _next_module(manifest, progress, scope)
    done = set(progress.completed) | set(scope.filled)
    return {
        "workspace": str(root),
        "offered": list(scope.offered),
        "filled": list(scope.filled),
        "completed": sorted(progress.completed),
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
    print(f"Completed {len(record['completed'])} of {len(record['offered'])} modules")
    for module in record["modules"]:
        if module["started"] and not module["completed"]:
            print(f"  started {module['number']:02d} {module['title']} on {module['started']}")
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
    """Name the exercises of a module, in order, where they are, and the lesson."""
    root, manifest = workspace_root(), load_manifest()
    module = lookup_module(manifest, args.number)
    if root is None or module is None:
        return USAGE
    refused = _unavailable(root, module, manifest)
    if refused is not None:
        return refused
    done_by_course = set(workspace_scope(root, manifest).filled)
    with changing_progress(root) as progress:
        done = done_by_course | set(progress.completed)
        missing = [f"{n:02d}" for n in module.prerequisites if n not in done]
        progress.started.setdefault(module.number, now())
    if missing:
        print(f"note: complete module(s) {', '.join(missing)} first; their tests come first.")
    regions = _regions_of(root, module)
    print(f"{module.label}, textbook chapter: {module.chapter} ({manifest.textbook_url})")
    print(_lesson_notebook(root, module) + "\n")
    print(f"Write these {len(regions)} exercises, each between `# BEGIN SOLUTION {module.tag}`")
    print("and `# END SOLUTION` in your workspace (exercise N is the N-th in this list):")
    for number, region in enumerate(regions, start=1):
        print(f"  {number:>3}  {region.location:<42} {region.symbol}")
    print(f"\nNext: tito module test {module.tag}   (runs every test marked {module.marker})")
    print(f"      tito module test {module.tag} --exercise N   (judges exercise N alone)")
    return OK


def _workspace_regions(root: Path, module: Module) -> list[Region]:
    """Every region of the workspace, ``module``'s first: exercise N is the N-th."""
    found = [region for regions in package_regions(root).values() for region in regions]
    return sorted(found, key=lambda region: region.module != module.number)


def _run_tests(
    root: Path, module: Module, manifest: Manifest, options: list[str]
) -> tuple[int, list[dict[str, Any]], list[Region]]:
    """Run the tests that belong to ``module``: pytest's exit code, the per-test records
    (``tito.course.testreport``) and the regions they refer to."""
    from tito.course.testreport import write_pieces  # a pytest plugin: imports pytest

    regions = _workspace_regions(root, module)
    print(f"Testing {module.label} against {root / 'tinytorch'}", flush=True)
    with tempfile.TemporaryDirectory(prefix="tito-test-") as folder:
        pieces, report = Path(folder) / "pieces.json", Path(folder) / "report.jsonl"
        write_pieces(pieces, root, regions)
        command = pytest_command(root, [module], module.number, manifest)
        command += ["-p", REPORT_PLUGIN, f"--tito-pieces={pieces}", f"--tito-report={report}"]
        command += ["-q", "--tb=no", "-rN", "--disable-warnings", *options]
        run = subprocess.run(command, cwd=root, env=workspace_env(root), check=False)
        return run.returncode, read_records(report), regions


def _pytest_stopped(code: int, module: Module) -> int:
    """Say why pytest ran no test (exit codes 2-5); return ``FAILED``."""
    if code == NO_TESTS:
        return fail(f"no test of {module.label} in this workspace (none marked {module.marker})")
    return fail(
        f"pytest stopped before testing {module.label} (exit code {code}); its message is above",
        "fix the error it names (often a syntax error in your code, with its file and line)",
    )


def test(args: argparse.Namespace) -> int:
    """Run a module's tests against the workspace's tinytorch; summarise them by exercise."""
    root, manifest = workspace_root(), load_manifest()
    module = lookup_module(manifest, args.number)
    if root is None or module is None:
        return USAGE
    refused = _unavailable(root, module, manifest)
    if refused is not None:
        return refused
    count = len(_regions_of(root, module))
    if args.exercise is not None and not 1 <= args.exercise <= count:
        return fail(
            f"{module.label} has exercises 1-{count}, not {args.exercise}",
            f"tito module start {module.tag}  (lists them)",
            USAGE,
        )
    code, records, regions = _run_tests(root, module, manifest, args.pytest_args)
    if code not in (OK, FAILED):
        return _pytest_stopped(code, module)
    lines, passes = summary(records, module, manifest, regions, args.exercise)
    print("\n" + "\n".join(lines))
    what = module.label if args.exercise is None else f"exercise {args.exercise}"
    if passes:
        print(f"\nAll tests of {what} pass. Next: tito module complete {module.tag}")
        return OK
    if args.exercise is not None and not records:
        print(f"\nNo test reached {what} (is an earlier exercise failing first?).")
        return FAILED
    print(f"\nSome tests of {what} fail. Fix the exercise they name, then test again.")
    return FAILED


def _unfinished_before(scope: Scope, progress: Progress, module: Module) -> list[str]:
    """The modules of the course (``scope``) before ``module`` that are not complete yet."""
    return [
        f"{number:02d}"
        for number in scope.offered
        if number < module.number and number not in progress.completed
    ]


def complete(args: argparse.Namespace) -> int:
    """Mark a module complete once its tests pass, none skipped; say what that unlocked."""
    root, manifest = workspace_root(), load_manifest()
    module = lookup_module(manifest, args.number)
    if root is None or module is None:
        return USAGE
    refused = _unavailable(root, module, manifest)
    if refused is not None:
        return refused
    code, records, regions = _run_tests(root, module, manifest, ["-x"])
    if code not in (OK, FAILED):
        return _pytest_stopped(code, module)
    if code != OK:
        lines, _ = summary(records, module, manifest, regions, failing_only=True)
        print("\n" + "\n".join(lines))
        return fail(
            f"{module.label} is not complete: its tests do not pass",
            f"fix the exercise named above, then: tito module complete {module.tag}",
        )
    skipped = missing_package_skips(records)
    if skipped:
        return fail(
            f"{module.label} is not complete: {skipped} tests skipped because PyTorch or "
            "another test tool is not installed, so they did not check your code",
            f"install the test tools ({TEST_TOOLS} in the TinyTorch repository), then: "
            f"tito module complete {module.tag}",
        )
    scope = workspace_scope(root, manifest)
    with changing_progress(root) as progress:
        progress.started.setdefault(module.number, now())
        progress.completed[module.number] = now()
        unfinished = _unfinished_before(scope, progress, module)
        done = len(progress.completed)
    print(f"\n{module.label} complete ({done} of {len(scope.offered)}).")
    if unfinished:
        print(f"Not complete yet, before it: module(s) {', '.join(unfinished)} (the milestones")
        print(f"need them): tito module complete {unfinished[0]}")
    for milestone in manifest.unlocked_by(module.number):
        if not unfinished:
            where = f"milestones/{milestone.id}/"
            print(f"Unlocked milestone {milestone.year}: {milestone.title} ({where})")
    following = _next_module(manifest, progress, scope)
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
    with changing_progress(root) as progress:
        progress.completed.pop(module.number, None)
    print(f"{module.label}: {len(restored)} file(s) back to stubs; your code is in {backup}")
    print(f"(tito module restore {module.tag} brings it back)")
    print(f"Next: tito module start {module.tag}")
    return OK


def _spliced(current: str, saved: str, path: str, module: Module) -> str:
    """``current`` with the body of each of ``module``'s regions taken from ``saved``.

    Both files must hold the same number of ``module``'s regions; the code around them, and
    the regions of other modules, stay as they are in ``current``.
    """
    mine = [r for r in parse_regions(current, path) if r.module == module.number]
    kept = [r for r in parse_regions(saved, path) if r.module == module.number]
    if len(mine) != len(kept):
        raise ValueError(
            f"{path}: {len(mine)} regions of module {module.tag}, the backup {len(kept)}"
        )
    lines, old = current.splitlines(keepends=True), saved.splitlines(keepends=True)
    for region, backup in sorted(zip(mine, kept), key=lambda pair: -pair[0].begin):
        lines[region.begin : region.end - 1] = old[backup.begin : backup.end - 1]
    return "".join(lines)


def _latest_backup(root: Path, module: Module) -> Path | None:
    """The newest backup folder that holds one of ``module``'s files."""
    folders = sorted((root / BACKUP_DIR).glob("*/"), reverse=True)
    return next((f for f in folders if any((f / path).is_file() for path in module.files)), None)


def restore(args: argparse.Namespace) -> int:
    """Bring a module's code back from the newest backup (``reset`` and ``init`` make them)."""
    root, manifest = workspace_root(), load_manifest()
    module = lookup_module(manifest, args.number)
    if root is None or module is None:
        return USAGE
    backup = _latest_backup(root, module)
    if backup is None:
        return fail(f"no backup of {module.label}'s files in {root / BACKUP_DIR}")
    saved = [path for path in module.files if (backup / path).is_file()]
    try:
        restored = {
            path: _spliced(
                (root / path).read_text(encoding="utf-8"),
                (backup / path).read_text(encoding="utf-8"),
                path,
                module,
            )
            for path in saved
        }
    except (OSError, ValueError) as error:
        return fail(f"cannot restore: {error}", "restore that file's region markers first")
    keep = new_backup_dir(root)
    for path, text in restored.items():
        (keep / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / path, keep / path)
        write_atomic(root / path, text)
    print(f"{module.label}: your code in {len(restored)} file(s) is back from {backup}")
    print(f"What was there before is in {keep}.")
    print(f"Next: tito module test {module.tag}")
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
    tester = _add_numbered(sub, "test", "run a module's tests against your workspace", test)
    tester.add_argument(
        "--exercise",
        type=int,
        metavar="N",
        help="judge exercise N alone (numbered as `tito module start NN` lists them): the "
        "tests that reach its code",
    )
    tester.set_defaults(pytest_args=[])  # what follows `--` (tito.main passes it on)
    tester.epilog = "Arguments after -- go to pytest: tito module test 01 -- -x -k add"
    _add_numbered(sub, "complete", "mark a module complete once its tests pass", complete)
    _add_numbered(
        sub, "reset", "put a module's stubs back (backs up your code first)", reset
    ).add_argument("--force", action="store_true", help="do not ask for confirmation")
    _add_numbered(
        sub,
        "restore",
        "bring a module's code back from the newest backup (after reset); backs up first",
        restore,
    )
