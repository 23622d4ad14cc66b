"""What every command group shares: exit codes, messages, the workspace and module lookups."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from tito.course.manifest import Manifest, Module
from tito.course.progress import Progress, edit_progress, load_progress
from tito.course.workspace import find_workspace

OK, FAILED, USAGE = 0, 1, 2

Command = Callable[[argparse.Namespace], int]


def fail(message: str, next_step: str | None = None, code: int = FAILED) -> int:
    """Print ``message`` (and what to do next) to stderr; return the exit code ``code``."""
    print(f"error: {message}", file=sys.stderr)
    if next_step:
        print(f"next:  {next_step}", file=sys.stderr)
    return code


def show_help(parser: argparse.ArgumentParser) -> Command:
    """A command that prints ``parser``'s help: what a bare command group does."""

    def run(args: argparse.Namespace) -> int:
        parser.print_help()
        return OK

    return run


def module_number(text: str) -> int:
    """argparse type for a module number written ``5`` or ``05``."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"not a module number: {text!r} (try 01)")
    return int(text)


def lookup_module(manifest: Manifest, number: int) -> Module | None:
    """The module ``number``, or ``None`` after printing the valid range."""
    try:
        return manifest.module(number)
    except KeyError as error:
        fail(str(error.args[0]), "tito module list")
        return None


def workspace_root() -> Path | None:
    """The workspace around the current folder, or ``None`` after explaining how to make one."""
    root = find_workspace(Path.cwd())
    if root is None:
        fail(
            "not inside a TinyTorch workspace (no .tito folder here or above)",
            "tito init DIR, then cd DIR",
            USAGE,
        )
    return root


def workspace_progress(root: Path) -> Progress:
    """The workspace's progress, telling the learner if the file had to be recovered."""
    progress, warning = load_progress(root)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    return progress


@contextmanager
def changing_progress(root: Path) -> Iterator[Progress]:
    """The workspace's progress, locked while the caller changes it, then saved."""
    with edit_progress(root) as (progress, warning):
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
        yield progress
