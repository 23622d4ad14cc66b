"""Entry point of the ``tito`` command: one sub-command group per file as the CLI grows.

For now: ``tito version`` and ``tito system doctor`` (is this environment ready for the course?).
"""

from __future__ import annotations

import argparse
import platform
import sys
from collections.abc import Sequence


def _doctor(args: argparse.Namespace) -> int:
    """Check Python, NumPy and tinytorch; print a fix for each problem. Exit 1 on problems."""
    problems = 0
    python_ok = sys.version_info >= (3, 10)
    problems += not python_ok
    print(
        f"{'ok ' if python_ok else 'FAIL'} Python {platform.python_version()}"
        + ("" if python_ok else "  -> install Python 3.10 or newer")
    )
    try:
        import numpy

        print(f"ok   NumPy {numpy.__version__}")
    except ImportError:
        problems += 1
        print("FAIL NumPy missing  -> pip install numpy")
    try:
        import tinytorch

        print(f"ok   tinytorch {tinytorch.__version__} ({tinytorch.__file__})")
    except Exception as error:  # noqa: BLE001 - any import failure is a finding to report
        problems += 1
        print(f"FAIL tinytorch does not import: {error}  -> pip install -e . in the repository")
    return 1 if problems else 0


def _version(args: argparse.Namespace) -> int:
    import tinytorch

    print(f"tinytorch {tinytorch.__version__}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tito", description="TinyTorch: build a deep-learning framework from scratch."
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("version", help="print the tinytorch version").set_defaults(run=_version)
    system = commands.add_parser("system", help="check this environment")
    system_commands = system.add_subparsers(dest="system_command", metavar="COMMAND")
    doctor = system_commands.add_parser("doctor", help="check Python, NumPy and tinytorch")
    doctor.set_defaults(run=_doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 0
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
