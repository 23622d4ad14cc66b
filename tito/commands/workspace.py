"""``tito init DIR``: make a workspace with the student edition, its tests and progress."""

from __future__ import annotations

import argparse
from pathlib import Path

from tito.commands.common import OK, fail
from tito.course.manifest import load_manifest
from tito.course.progress import STATE_DIR
from tito.course.workspace import create_workspace


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
    backup = create_workspace(target, manifest=manifest)
    print(f"Workspace ready at {target.resolve()}")
    if backup:
        print(f"Replaced files were backed up to {backup}")
    first = manifest.modules[0]
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
    parser.set_defaults(run=init)
