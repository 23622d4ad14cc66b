"""``tito release`` and ``tito grade``: the instructor's commands.

``release OUT`` writes the student edition as a standalone repository, with no solution and
no hidden test in it. ``grade SUBMISSION`` runs every test of the course, hidden ones
included, against a learner's workspace in a sealed process (``tito.course.grading``) and
writes a gradebook (CSV and JSON). Both take ``--modules RANGE``, the integration model of
``tito init --modules`` (``tito.course.scope``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from tito.commands.common import OK, USAGE, fail, lookup_module, module_number
from tito.commands.workspace import chosen_scope, describe_scope
from tito.course.edition import PACKAGE
from tito.course.grading import (
    GradingError,
    Limits,
    completed_modules,
    grade_submission,
    gradebook,
    write_gradebook,
)
from tito.course.manifest import load_manifest
from tito.course.release import build_release
from tito.course.scope import RANGE_HELP, Scope, workspace_scope

GITHUB_REPOSITORY = re.compile(r"[A-Za-z0-9-]+/[A-Za-z0-9._-]+")


def release(args: argparse.Namespace) -> int:
    """Build the release; refuse a non-empty OUT unless ``--force`` (which sets it aside)."""
    target = Path(args.out)
    if target.exists() and not target.is_dir():
        return fail(f"{target} exists and is not a folder", "choose another OUT")
    if target.exists() and any(target.iterdir()) and not args.force:
        return fail(
            f"{target} is not empty; refusing to replace it",
            f"choose another OUT, or `tito release {target} --force` (keeps the old one as "
            f"{target}.backup-TIME)",
        )
    manifest = load_manifest()
    scope = chosen_scope(args.modules, manifest)
    if scope is None:
        return USAGE
    if args.github is not None and not GITHUB_REPOSITORY.fullmatch(args.github):
        return fail(
            f"--github {args.github!r} is not a GitHub repository",
            "write it as OWNER/REPO, e.g. --github my-university/tinytorch",
            USAGE,
        )
    backup = build_release(target, manifest, scope=scope, github=args.github)
    print(f"Student release written to {target.resolve()}")
    print(describe_scope(scope, manifest))
    if backup:
        print(f"The previous {target} was moved to {backup}")
    print(
        f"\nNext: publish it (cd {target} && git init -b main && git add -A && git commit) "
        f"on github.com/{args.github or manifest.github}, where its lessons' Colab and Binder "
        "links point; then learners open a lesson there, or run:\n  pip install -e .\n"
        "  tito init my-course"
    )
    return OK


def _course(args: argparse.Namespace, submission: Path) -> Scope | None:
    """The course the gradebook covers: ``--modules RANGE``, else the submission's own."""
    manifest = load_manifest()
    if args.modules is not None:
        return chosen_scope(args.modules, manifest)
    return workspace_scope(submission, manifest)


def _selected(args: argparse.Namespace, submission: Path, course: Scope) -> list[int] | None:
    """The modules to grade: ``--module`` ones, else every module of ``--modules``, else the
    modules of the course that the submission completed."""
    manifest = load_manifest()
    if args.module:
        modules = [lookup_module(manifest, number) for number in args.module]
        return None if None in modules else sorted(set(args.module))
    if args.modules is not None:
        return list(course.offered)
    completed, warning = completed_modules(submission)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    return sorted(completed & set(course.offered))


def grade(args: argparse.Namespace) -> int:
    """Grade a submission and write its gradebook; print it as JSON with ``--json``."""
    submission = Path(args.submission).resolve()
    if not (submission / PACKAGE).is_dir():
        return fail(
            f"{submission} has no {PACKAGE}/ folder: not a learner's workspace",
            "pass the folder a learner made with tito init",
            USAGE,
        )
    course = _course(args, submission)
    selected = None if course is None else _selected(args, submission, course)
    if course is None or selected is None:
        return USAGE
    names = ", ".join(f"{number:02d}" for number in selected) or "none"
    print(f"Grading module(s) {names} of {submission} (hidden tests included)", file=sys.stderr)
    limits = Limits(test_seconds=args.time_limit, memory_mb=args.memory_limit)
    try:
        grades = grade_submission(submission, selected, limits=limits, course=course.offered)
    except GradingError as error:
        return fail(str(error), "check that this Python can run the course's tests: pytest")
    for grade in grades:
        if grade.tampering:
            print(f"warning: module {grade.number:02d}: {grade.status}: "
                  + ", ".join(grade.tampering[:5]), file=sys.stderr)  # fmt: skip
    isolation = next((grade.isolation for grade in grades if grade.isolation), None)
    if isolation:
        print("Isolation: " + "; ".join(f"{k}: {v}" for k, v in isolation.items()), file=sys.stderr)
    out = Path(args.out) if args.out else Path("grades") / submission.name
    csv_path, json_path = write_gradebook(out, submission, grades)
    record = gradebook(submission, grades)
    if args.json:
        print(json.dumps(record, indent=2))
        return OK
    for entry in record["modules"]:
        score = f"{entry['points']:>5} / {entry['possible']:<5}"
        print(f"  {entry['number']:02d} {entry['title'][:36]:<36} {score} {entry['status']}")
    print(f"Total: {record['points']} / {record['possible']}")
    print(f"Gradebook: {csv_path} and {json_path}")
    return OK


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``tito release`` and ``tito grade``."""
    releasing = commands.add_parser(
        "release",
        help="(instructors) write the student edition as a standalone repository",
        description=release.__doc__,
    )
    releasing.add_argument("out", metavar="OUT", help="folder to write (must be empty)")
    releasing.add_argument(
        "--force", action="store_true", help="replace a non-empty OUT, keeping it as a backup"
    )
    releasing.add_argument(
        "--modules",
        metavar="RANGE",
        help=f"release only these modules: {RANGE_HELP}; the earlier modules they need keep "
        "the reference code (default: the whole course)",
    )
    releasing.add_argument(
        "--github",
        metavar="OWNER/REPO",
        help="where you will publish the release on GitHub, for the lessons' Colab and Binder "
        "links (default: the manifest's [course] github)",
    )
    releasing.set_defaults(run=release)
    grading = commands.add_parser(
        "grade",
        help="(instructors) grade a learner's workspace, hidden tests included",
        description=grade.__doc__,
    )
    grading.add_argument("submission", metavar="SUBMISSION", help="a learner's workspace")
    grading.add_argument(
        "--module",
        metavar="NN",
        type=module_number,
        action="append",
        help="grade this module (repeatable); default: the modules the learner completed",
    )
    grading.add_argument(
        "--modules",
        metavar="RANGE",
        help=f"the course's modules ({RANGE_HELP}): grade all of them and list only them in "
        "the gradebook (default: the range the submission was made with)",
    )
    grading.add_argument("--json", action="store_true", help="print the gradebook as JSON")
    grading.add_argument(
        "--time-limit",
        metavar="S",
        type=float,
        default=Limits.test_seconds,
        help=f"seconds a test's setup, call or teardown may run (default {Limits.test_seconds:g})",
    )
    grading.add_argument(
        "--memory-limit",
        metavar="MB",
        type=int,
        default=Limits.memory_mb,
        help=f"address space of the graded process in MiB (default {Limits.memory_mb})",
    )
    grading.add_argument(
        "--out", metavar="DIR", help="where to write gradebook.csv/.json (default grades/NAME)"
    )
    grading.set_defaults(run=grade)
