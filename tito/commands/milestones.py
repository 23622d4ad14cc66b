"""``tito milestones``: list, status and run the historical milestones, or tour them all.

A milestone unlocks once modules 01..``after_module`` of the manifest are complete. Inside a
workspace that is read from its progress and a milestone runs on the workspace's own
``tinytorch``; outside one, milestones run on the installed reference and all are unlocked.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from tito.commands.common import (
    OK,
    USAGE,
    fail,
    module_number,
    show_help,
    workspace_progress,
)
from tito.course.manifest import REPOSITORY, Manifest, Milestone, load_manifest
from tito.course.scope import workspace_scope
from tito.course.workspace import MILESTONES, find_workspace, workspace_env

RUN = """
import sys
from tinytorch.milestones import run_milestone
number, fast, data_dir = int(sys.argv[1]), sys.argv[2] == "fast", sys.argv[3] or None
sys.exit(0 if run_milestone(number, fast=fast, data_dir=data_dir)["passed"] else 1)
"""


def _completed(root: Path | None) -> set[int] | None:
    """The modules of the workspace at ``root`` that are done: completed, or filled from the
    reference by its course (``tito init --modules``); ``None`` outside a workspace."""
    if root is None:
        return None
    filled = workspace_scope(root, load_manifest()).filled
    return set(workspace_progress(root).completed) | set(filled)


def _missing(milestone: Milestone, completed: set[int] | None) -> list[int]:
    """The modules still to complete before ``milestone`` runs (none outside a workspace)."""
    return [] if completed is None else sorted(set(milestone.modules) - completed)


def _result(root: Path, milestone: Milestone) -> dict | None:
    """The last result written by a run from ``root``, if any and readable."""
    path = root / ".tinytorch" / "results" / f"{milestone.id}.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _records(manifest: Manifest, root: Path | None) -> list[dict]:
    """One JSON-ready record per milestone: requirement, unlock state, last result."""
    completed = _completed(root)
    records = []
    for milestone in manifest.milestones:
        missing = _missing(milestone, completed)
        result = _result(root or Path.cwd(), milestone)
        records.append(
            {
                "number": milestone.number,
                "id": milestone.id,
                "year": milestone.year,
                "title": milestone.title,
                "after_module": milestone.after_module,
                "available": (REPOSITORY / MILESTONES / milestone.id).is_dir(),
                "unlocked": not missing,
                "missing_modules": missing,
                "passed": result["passed"] if result else None,
            }
        )
    return records


def _state(record: dict) -> str:
    """How ``list`` shows a milestone's state."""
    if not record["available"]:
        return "coming soon"
    if not record["unlocked"]:
        return "locked"
    return {None: "unlocked", True: "achieved", False: "not yet achieved"}[record["passed"]]


def list_milestones(args: argparse.Namespace) -> int:
    """Print every milestone with the module that unlocks it and its state."""
    root = find_workspace(Path.cwd())
    records = _records(load_manifest(), root)
    where = f"workspace {root}" if root else "the reference tinytorch (not in a workspace)"
    print(f"Milestones, for {where}:")
    for record in records:
        print(
            f"  {record['number']:02d} {record['year']} {record['title']:<50} "
            f"after module {record['after_module']:02d}: {_state(record)}"
        )
    print("\nNext: tito milestones run NN --fast")
    return OK


def status(args: argparse.Namespace) -> int:
    """Print which milestones are unlocked, what each still needs, and past results."""
    root = find_workspace(Path.cwd())
    records = _records(load_manifest(), root)
    if args.json:
        print(json.dumps({"workspace": str(root) if root else None, "milestones": records}))
        return OK
    for record in records:
        needs = ", ".join(f"{n:02d}" for n in record["missing_modules"])
        detail = f" (complete module(s) {needs})" if needs else ""
        print(f"{record['number']:02d} {record['id']:<24} {_state(record)}{detail}")
    ready = [r for r in records if r["unlocked"] and r["available"]]
    next_step = f"tito milestones run {ready[-1]['number']:02d}" if ready else "tito module status"
    print(f"\nNext: {next_step}")
    return OK


def _command(milestone: Milestone, args: argparse.Namespace) -> list[str]:
    """The subprocess that runs ``milestone`` on whichever tinytorch its environment imports."""
    fast = "fast" if args.fast else "full"
    data_dir = str(Path(args.data_dir).resolve()) if args.data_dir else ""
    return [sys.executable, "-c", RUN, str(milestone.number), fast, data_dir]


def run(args: argparse.Namespace) -> int:
    """Run one milestone; refuse, naming the modules to finish, while it is locked."""
    manifest = load_manifest()
    try:
        milestone = manifest.milestone(args.number)
    except KeyError as error:
        return fail(str(error.args[0]), "tito milestones list", USAGE)
    root = find_workspace(Path.cwd())
    missing = _missing(milestone, _completed(root))
    if missing:
        needs = ", ".join(f"{n:02d}" for n in missing)
        return fail(
            f"milestone {milestone.id} is locked: complete module(s) {needs} first",
            f"tito module start {missing[0]:02d}",
        )
    home = root or Path.cwd()
    if root and not (root / MILESTONES / milestone.id).is_dir():
        return fail(
            f"this workspace has no {MILESTONES}/{milestone.id}/ (made by an older tito)",
            f"copy {REPOSITORY / MILESTONES / milestone.id} into {root / MILESTONES}",
        )
    if not (REPOSITORY / MILESTONES / milestone.id).is_dir():
        return fail(f"milestone {milestone.id} is not written yet", "tito milestones list")
    env = workspace_env(root) if root else dict(os.environ)
    print(f"Running milestone {milestone.id} on {home / 'tinytorch' if root else 'the reference'}")
    code = subprocess.run(_command(milestone, args), cwd=home, env=env, check=False).returncode
    if code != OK:
        return fail(
            f"milestone {milestone.id} did not reach its targets (exit code {code})",
            "read the results above, fix your modules, run it again",
        )
    print(f"\nResult saved in {home / '.tinytorch' / 'results' / (milestone.id + '.json')}")
    print("Next: tito milestones status")
    return OK


def _written(milestone: Milestone, root: Path | None) -> bool:
    """Whether ``milestone`` has its folder in the repository (and in the workspace, if any)."""
    homes = (REPOSITORY, root) if root else (REPOSITORY,)
    return all((home / MILESTONES / milestone.id).is_dir() for home in homes)


def _fresh_result(home: Path, milestone: Milestone, since: float) -> dict | None:
    """The result that a run started at time ``since`` wrote in ``home``, if it wrote one."""
    path = home / ".tinytorch" / "results" / f"{milestone.id}.json"
    fresh = path.exists() and path.stat().st_mtime >= since
    return _result(home, milestone) if fresh else None


def _formatted(value: float, unit: str) -> str:
    """A check's number as the milestone printed it: a fraction as a percentage (unit "%"), a
    ratio as "4.2x" (unit "x"). tito reads results as JSON and never imports tinytorch."""
    return f"{value:.1%}" if unit == "%" else f"{value:.1f}x"


def _tour_rows(milestone: Milestone, result: dict, seconds: float) -> list[tuple[str, ...]]:
    """The summary rows of one milestone's result, one per check."""
    rows = []
    for check in result["checks"]:
        sign = "<=" if check["at_most"] else ">="
        verdict = "ok" if check["passed"] else "MISS"
        unit = check.get("unit", "%")  # results written before units existed are fractions
        target = f"{sign} {_formatted(check['target'], unit)}"
        rows.append(("", check["name"], target, _formatted(check["value"], unit), verdict, ""))
    first = rows[0]
    rows[0] = (milestone.id, *first[1:5], f"{seconds:.1f} s")
    return rows


def _print_summary(rows: list[tuple[str, ...]], seconds: float, passed: bool) -> None:
    """The tour's table: milestone, check, target, result, verdict, time; then the verdict."""
    print(f"\n{'milestone':<22}{'check':<32}{'target':>10}{'result':>9}  {'verdict':<8}{'time':>8}")
    print("-" * 91)
    for name, check, target, value, verdict, took in rows:
        print(f"{name:<22}{check:<32}{target:>10}{value:>9}  {verdict:<8}{took:>8}")
    verdict = "every milestone reached its targets" if passed else "a target was missed"
    print(f"\nTour done in {seconds:.1f} s: {verdict}.")


def tour(args: argparse.Namespace) -> int:
    """Run every written milestone in order (or only those numbered), then print a summary
    table.

    On the reference outside a workspace; inside one, on the workspace's tinytorch and only
    the unlocked milestones. Fails if any milestone that ran missed a target.
    """
    manifest = load_manifest()
    try:
        chosen = [manifest.milestone(number).id for number in args.numbers]
    except KeyError as error:
        return fail(str(error.args[0]), "tito milestones list", USAGE)
    root = find_workspace(Path.cwd())
    completed, home = _completed(root), root or Path.cwd()
    env = workspace_env(root) if root else dict(os.environ)
    rows, passed, start = [], True, time.time()
    for milestone in manifest.milestones:
        if not _written(milestone, root) or (chosen and milestone.id not in chosen):
            continue
        missing = _missing(milestone, completed)
        if missing:
            needs = ", ".join(f"{n:02d}" for n in missing)
            rows.append((milestone.id, f"locked: complete module(s) {needs}", "", "", "-", ""))
            continue
        print(f"\nTour: milestone {milestone.id}", flush=True)
        began = time.time()
        code = subprocess.run(_command(milestone, args), cwd=home, env=env).returncode
        result = _fresh_result(home, milestone, began)
        if result is None:
            rows.append((milestone.id, f"error: exit code {code}, no result", "", "", "MISS", ""))
        else:
            rows += _tour_rows(milestone, result, time.time() - began)
        passed = passed and code == OK and result is not None and result["passed"]
    _print_summary(rows, time.time() - start, passed)
    if not passed:
        return fail("the tour missed a target", "read the table above; tito milestones run NN")
    print("Next: tito milestones status")
    return OK


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``tito milestones`` and its commands."""
    group = commands.add_parser("milestones", help="run the historical milestones")
    group.set_defaults(run=show_help(group))
    sub = group.add_subparsers(metavar="COMMAND")
    listing = "list the milestones and the module after which each unlocks"
    sub.add_parser("list", help=listing, description=listing).set_defaults(run=list_milestones)
    state = sub.add_parser("status", help="show unlocked milestones and past results")
    state.add_argument("--json", action="store_true", help="print the status as JSON")
    state.set_defaults(run=status)
    runner = sub.add_parser(
        "run", help="run a milestone on your tinytorch", description=run.__doc__
    )
    runner.add_argument("number", metavar="NN", type=module_number, help="milestone number: 01")
    runner.add_argument("--fast", action="store_true", help="a short run (minutes to seconds)")
    runner.add_argument("--data-dir", metavar="DIR", help="where datasets are kept or fetched")
    runner.set_defaults(run=run)
    touring = sub.add_parser(
        "tour", help="run every milestone in order and summarise", description=tour.__doc__
    )
    touring.add_argument("numbers", metavar="NN", type=module_number, nargs="*",
                         help="only these milestones (default: every one)")  # fmt: skip
    touring.add_argument("--fast", action="store_true", help="short runs (seconds each)")
    touring.add_argument("--data-dir", metavar="DIR", help="where datasets are kept or fetched")
    touring.set_defaults(run=tour)
