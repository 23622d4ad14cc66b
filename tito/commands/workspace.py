"""``tito init DIR [--modules RANGE]``: make a workspace with the student edition, its tests
and progress; ``--modules`` picks the modules the course offers (``tito.course.scope``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tito.commands.common import OK, USAGE, fail
from tito.course.manifest import Manifest, load_manifest
from tito.course.progress import STATE_DIR
from tito.course.scope import (
    RANGE_HELP,
    Scope,
    ScopeError,
    course_scope,
    default_scope,
    format_modules,
    parse_modules,
)
from tito.course.workspace import create_workspace


def chosen_scope(text: str | None, manifest: Manifest) -> Scope | None:
    """The scope of ``--modules TEXT`` (the course's own without it), or ``None`` after
    saying what is wrong and what is allowed."""
    if text is None:
        return default_scope(manifest)
    try:
        return course_scope(parse_modules(text, manifest), manifest)
    except ScopeError as error:
        fail(str(error), f"--modules takes {RANGE_HELP}", USAGE)
        return None


def describe_scope(scope: Scope, manifest: Manifest) -> str:
    """What a scope means for the learner, in one or two sentences."""
    if len(scope.offered) == len(manifest.modules):
        return "The full course: every module is yours to write."
    text = f"This course offers module(s) {scope.label}."
    if scope.filled:
        text += (
            f" Module(s) {format_modules(scope.filled)} come filled from the reference, "
            "so you start with a working framework."
        )
    return text


def init(args: argparse.Namespace) -> int:
    """Create the workspace; refuse a non-empty folder unless ``--force`` (which backs up)."""
    target = Path(args.directory)
    if target.exists() and not target.is_dir():
        return fail(f"{target} exists and is not a folder", "choose another DIR")
    if target.exists() and any(target.iterdir()) and not args.force:
        return fail(
            f"{target} is not empty; refusing to write into it",
            f"choose an empty DIR, or `tito init {target} --force` (backs up what it replaces "
            f"into {target / STATE_DIR / 'backups'})",
        )
    manifest = load_manifest()
    scope = chosen_scope(args.modules, manifest)
    if scope is None:
        return USAGE
    backup = create_workspace(target, manifest=manifest, scope=scope)
    print(f"Workspace ready at {target.resolve()}")
    print(describe_scope(scope, manifest))
    if backup:
        print(f"Replaced files were backed up to {backup}")
    first = manifest.module(scope.offered[0])
    print(
        f"\nYou write the framework in {target / 'tinytorch'}; the tests are in "
        f"{target / 'tests'}.\nNext:\n  cd {target}\n  tito module start {first.tag}"
    )
    return OK


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``tito init``."""
    parser = commands.add_parser(
        "init",
        help="create a workspace with the student edition",
        description="Create a workspace: the student edition of tinytorch (every exercise "
        "a stub), the module tests and .tito/progress.json.",
    )
    parser.add_argument("directory", metavar="DIR", help="folder to create (must be empty)")
    parser.add_argument(
        "--force", action="store_true", help="write into a non-empty DIR, backing up first"
    )
    parser.add_argument(
        "--modules",
        metavar="RANGE",
        help=f"offer only these modules: {RANGE_HELP}; the earlier modules they need come "
        "filled from the reference (default: the whole course)",
    )
    parser.set_defaults(run=init)
