"""Entry point of the ``tito`` command: one command group per file in ``tito/commands/``.

``tito init DIR`` (workspace.py), ``tito module list|status|start|test|complete|reset``
(module.py), ``tito milestones list|status|run|tour`` (milestones.py), ``tito system doctor``
(system.py), ``tito olympics list|rules|run|submit|leaderboard|serve|admin`` (olympics.py),
``tito release`` and ``tito grade`` for instructors (instructor.py), ``tito nbgrader
generate|autograde|grades`` (nbgrader.py), ``tito site build|serve`` for the course website
(site.py) and ``tito version``.
Exit codes: 0 success, 1 failed or refused, 2 wrong usage (or not inside a workspace).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tito.commands import (
    instructor,
    milestones,
    module,
    nbgrader,
    olympics,
    site,
    system,
    workspace,
)
from tito.commands.common import FAILED, OK, fail
from tito.course.manifest import ManifestError
from tito.course.regions import RegionError
from tito.course.scope import WORKSPACE_SCOPE, ScopeError


def _version(args: argparse.Namespace) -> int:
    """Print the version of the installed tinytorch."""
    import tinytorch

    print(f"tinytorch {tinytorch.__version__}")
    return OK


def build_parser() -> argparse.ArgumentParser:
    """The ``tito`` parser with every command group."""
    parser = argparse.ArgumentParser(
        prog="tito",
        description="TinyTorch: build a deep-learning framework from scratch.",
        epilog="Start with: tito init DIR, then cd DIR and tito module start 01.",
    )
    commands = parser.add_subparsers(metavar="COMMAND")
    commands.add_parser("version", help="print the tinytorch version").set_defaults(run=_version)
    for group in (workspace, module, milestones, olympics, system, instructor, nbgrader, site):
        group.register(commands)
    return parser


def _split_at_dashes(words: list[str]) -> tuple[list[str], list[str]]:
    """The words for tito, and those after ``--`` (``tito module test`` passes them to pytest)."""
    if "--" not in words:
        return words, []
    cut = words.index("--")
    return words[:cut], words[cut + 1 :]


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``tito`` command; its exit code."""
    parser = build_parser()
    ours, passed_on = _split_at_dashes(list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(ours)
    if passed_on and not hasattr(args, "pytest_args"):
        parser.error(f"this command takes no arguments after --: {' '.join(passed_on)}")
    if passed_on:
        args.pytest_args = passed_on
    if not hasattr(args, "run"):
        parser.print_help()
        return OK
    try:
        return args.run(args)
    except (ManifestError, RegionError) as error:
        return fail(
            str(error), "fix the file and line named above (region markers must stay as they were)"
        )
    except ScopeError as error:
        return fail(
            str(error), f"repair {WORKSPACE_SCOPE} from a backup, or make the workspace again"
        )
    except BrokenPipeError:  # the reader stopped early (tito ... | head): not an error
        sys.stderr.close()
        return OK
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return FAILED


if __name__ == "__main__":
    sys.exit(main())
