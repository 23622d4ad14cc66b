"""``tito nbgrader generate | autograde | grades``: the course as NBGrader assignments.

``generate COURSE_DIR`` writes an NBGrader course, one assignment per module
(``tito.course.nbgrader``); ``autograde`` runs NBGrader's autograder on every submission and
reports the ones without a notebook (graded zero) instead of stopping; ``grades`` prints the
gradebook. ``autograde`` and ``grades`` need the ``nbgrader`` extra.
"""

from __future__ import annotations

import argparse
import json
import shutil
from datetime import datetime
from pathlib import Path

from tito.commands.common import FAILED, OK, USAGE, fail, show_help
from tito.commands.workspace import chosen_scope
from tito.course.manifest import load_manifest
from tito.course.nbgrader import (
    INSTALL,
    SOURCE,
    NbgraderMissingError,
    assignable,
    autograde,
    grades,
    write_course,
)
from tito.course.scope import RANGE_HELP

BACKUPS = "backups"


def _set_aside(course: Path, names: list[str]) -> Path:
    """Move the assignments ``names`` of ``course/source`` into a new backup folder."""
    backup = course / BACKUPS / datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    backup.mkdir(parents=True)
    for name in names:
        shutil.move(course / SOURCE / name, backup / name)
    return backup


def generate(args: argparse.Namespace) -> int:
    """Write the NBGrader course: source notebooks, packages and tests, one per module."""
    course, manifest = Path(args.course), load_manifest()
    scope = chosen_scope(args.modules, manifest)
    if scope is None:
        return USAGE
    modules = assignable(manifest, scope.offered)
    if not modules:
        return fail(f"no module of {scope.label} has exercises and tests yet", "tito module list")
    existing = [m.name for m in modules if (course / SOURCE / m.name).exists()]
    if existing and not args.force:
        return fail(
            f"{course / SOURCE} already has {', '.join(existing)}; refusing to replace them",
            f"tito nbgrader generate {course} --force  (moves them to {course / BACKUPS}/)",
        )
    backup = _set_aside(course, existing) if existing else None
    notebooks = write_course(course, manifest, tuple(m.number for m in modules))
    for path in notebooks:
        print(f"  {path.relative_to(course)}")
    if backup:
        print(f"The assignments it replaced are in {backup}")
    first = modules[0].name
    print(
        f"NBGrader course written to {course.resolve()} ({len(notebooks)} assignments).\n"
        f"Next:\n  cd {course}\n  nbgrader generate_assignment {first}   (the student version, "
        "in release/)\n  ...collect submissions into submitted/STUDENT/" + first + "/, then\n"
        f"  tito nbgrader autograde {course} --modules {modules[0].tag}"
    )
    return OK


def autograde_command(args: argparse.Namespace) -> int:
    """Autograde every submission of the modules; report those without their notebook."""
    course, manifest = Path(args.course), load_manifest()
    scope = chosen_scope(args.modules, manifest)
    if scope is None:
        return USAGE
    names = [
        m.name for m in assignable(manifest, scope.offered) if (course / SOURCE / m.name).is_dir()
    ]
    if not names:
        return fail(
            f"no assignment of {scope.label} in {course / SOURCE}", "tito nbgrader generate"
        )
    try:
        problems = autograde(course, names)
    except NbgraderMissingError as error:
        return fail(str(error), INSTALL)
    for problem in problems:
        print(f"warning: {problem}")
    print(f"Autograded {', '.join(names)}. Next: tito nbgrader grades {course}")
    return FAILED if any("autograde failed" in problem for problem in problems) else OK


def grades_command(args: argparse.Namespace) -> int:
    """Print every student's score per module from the NBGrader gradebook."""
    course = Path(args.course)
    if not (course / "gradebook.db").is_file():
        return fail(f"no gradebook in {course}", f"tito nbgrader autograde {course}")
    try:
        outcomes = grades(course)
    except NbgraderMissingError as error:
        return fail(str(error), INSTALL)
    if args.json:
        print(json.dumps([outcome.__dict__ for outcome in outcomes], indent=2))
        return OK
    for outcome in outcomes:
        score = f"{outcome.score:g} / {outcome.possible:g}"
        print(f"  {outcome.student:<20} {outcome.module:<20} {score:>12}  {outcome.status}")
    return OK


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``tito nbgrader`` and its commands."""
    group = commands.add_parser("nbgrader", help="(instructors) the course as NBGrader assignments")
    group.set_defaults(run=show_help(group))
    sub = group.add_subparsers(metavar="COMMAND")
    making = sub.add_parser("generate", help=generate.__doc__, description=generate.__doc__)
    making.add_argument("course", metavar="COURSE_DIR", help="the NBGrader course folder")
    making.add_argument("--modules", metavar="RANGE", help=f"only these modules: {RANGE_HELP}")
    making.add_argument(
        "--force", action="store_true", help="replace existing assignments (moved to backups/)"
    )
    making.set_defaults(run=generate)
    grading = sub.add_parser(
        "autograde", help=autograde_command.__doc__, description=autograde_command.__doc__
    )
    grading.add_argument("course", metavar="COURSE_DIR", help="the NBGrader course folder")
    grading.add_argument("--modules", metavar="RANGE", help=f"only these modules: {RANGE_HELP}")
    grading.set_defaults(run=autograde_command)
    book = sub.add_parser("grades", help=grades_command.__doc__, description=grades_command.__doc__)
    book.add_argument("course", metavar="COURSE_DIR", help="the NBGrader course folder")
    book.add_argument("--json", action="store_true", help="print the grades as JSON")
    book.set_defaults(run=grades_command)
