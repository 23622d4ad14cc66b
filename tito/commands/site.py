"""``tito site build | serve``: the course website (Jupyter Book 1, the ``site`` extra).

``tito site build`` executes every lesson against the reference package, runs the milestones
in fast mode, measures the plots and builds the HTML with warnings as errors
(``tito.course.site``); ``--modules 1-2 --milestones 1`` builds a smaller site.
``tito site serve`` serves the built pages on http://127.0.0.1:PORT.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import time
from pathlib import Path

from tito.commands.common import OK, USAGE, fail, show_help
from tito.course.site import API_MODULES, DEFAULT_OUT, SETUP, SiteError, build_site


def number_range(text: str) -> list[int]:
    """argparse type for ``3``, ``1-3`` or ``1,4-5``: the numbers, in order."""
    numbers: list[int] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        if not first.isdigit() or (last and not last.isdigit()):
            raise argparse.ArgumentTypeError(f"not a number or range: {part!r} (try 1-3 or 1,4)")
        low, high = int(first), int(last or first)
        if low > high:
            raise argparse.ArgumentTypeError(f"range {part!r} runs backwards (try {high}-{low})")
        numbers += range(low, high + 1)
    return numbers


def build(args: argparse.Namespace) -> int:
    """Build the website into OUT/html (default: every lesson, milestone and API page)."""
    start = time.perf_counter()
    try:
        html = build_site(
            Path(args.out),
            modules=args.modules,
            milestones=args.milestones,
            api=[] if args.no_api else None,
            figures=None if args.figures == "none" else args.figures,
            results=Path(args.results) if args.results else None,
        )
    except SiteError as error:
        return fail(str(error), "fix what is named above, then run tito site build again")
    except ImportError as missing:
        return fail(f"the site build needs the site extra ({missing.name})", SETUP)
    print(f"\nSite built in {time.perf_counter() - start:.0f} s: {html / 'index.html'}")
    print(f"Next: tito site serve --out {args.out}")
    return OK


def serve(args: argparse.Namespace) -> int:
    """Serve OUT/html on http://127.0.0.1:PORT until interrupted (Ctrl-C)."""
    html = Path(args.out) / "html"
    if not (html / "index.html").is_file():
        return fail(f"no built site in {html}", f"tito site build --out {args.out}", USAGE)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(html))
    with http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler) as server:
        print(f"Serving {html} on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("stopped")
    return OK


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``tito site`` and its commands."""
    group = commands.add_parser("site", help="build and serve the course website")
    group.set_defaults(run=show_help(group))
    sub = group.add_subparsers(metavar="COMMAND")
    builder = sub.add_parser("build", help="build the website", description=build.__doc__)
    builder.add_argument("--out", default=str(DEFAULT_OUT), help=f"build folder ({DEFAULT_OUT})")
    builder.add_argument("--modules", type=number_range, metavar="RANGE",
                         help="modules whose lessons to execute: 1-3 (default: all)")  # fmt: skip
    builder.add_argument("--milestones", type=number_range, metavar="RANGE",
                         help="milestones to run and show: 1,3 (default: all)")  # fmt: skip
    builder.add_argument("--results", metavar="DIR",
                         help="saved milestone results to show instead of fast runs "
                         "(tito milestones run writes them to .tinytorch/results)")  # fmt: skip
    api_help = f"leave out the API reference ({len(API_MODULES)} pages)"
    builder.add_argument("--no-api", action="store_true", help=api_help)
    figures_help = "the measurements page (im2col, KV cache, quantization): full sizes, "
    figures_help += "quick small ones, or none (default: full)"
    builder.add_argument("--figures", choices=("full", "quick", "none"), default="full",
                         help=figures_help)  # fmt: skip
    builder.set_defaults(run=build)
    server = sub.add_parser("serve", help="serve the built website", description=serve.__doc__)
    server.add_argument("--out", default=str(DEFAULT_OUT), help=f"build folder ({DEFAULT_OUT})")
    server.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (8000)")
    server.set_defaults(run=serve)
