"""The course website: a Jupyter Book 1 built from the manifest, the executed lessons, the
milestones, the docs and the package's docstrings.

``site/`` holds the pages nobody generates (home, getting started, ``_config.yml``).
``build_site`` copies them into ``OUT/source``, generates every other page beside them and
builds the HTML into ``OUT/html`` with warnings as errors::

    build_site(Path("site/_build"))                       # the whole course (minutes)
    build_site(Path("/tmp/site"), modules=[1, 2], milestones=[1],
               api=["tinytorch.optim"], figures="quick")    # a small site, for tests

Nothing on the site is typed in by hand: each lesson is executed against the reference
package (its outputs are the page), milestones run in fast mode unless saved results of a
run are given, and the plots are drawn from numbers measured during the build
(``tito.course.site_figures``). Needs the ``site`` extra (``pip install -e ".[site]"``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import posixpath
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tito.course.manifest import REPOSITORY, Manifest, Milestone, Module, load_manifest
from tito.course.notebook import to_notebook

SITE_SOURCES = REPOSITORY / "site"
DEFAULT_OUT = SITE_SOURCES / "_build"
STATIC_PAGES = ("intro", "learners", "instructors")
API_MODULES = (
    "tinytorch",
    "tinytorch.autograd",
    "tinytorch.nn",
    "tinytorch.nn.functional",
    "tinytorch.nn.init",
    "tinytorch.nn.utils.prune",
    "tinytorch.optim",
    "tinytorch.optim.lr_scheduler",
    "tinytorch.utils.data",
    "tinytorch.datasets",
    "tinytorch.text",
    "tinytorch.models",
    "tinytorch.profiler",
    "tinytorch.ao.quantization",
    "tinytorch.compression",
    "tinytorch.generation",
    "tinytorch.utils.checkpoint",
    "tinytorch.amp",
    "tinytorch.utils.benchmark",
    "tinytorch.milestones",
)
CELL_TIMEOUT_S = 600
SETUP = 'python -m pip install -e ".[site]"'
JUPYTER_BOOK = "from jupyter_book.cli.main import main; main()"
RUN_MILESTONE = """
import sys
from tinytorch.milestones import run_milestone
run_milestone(int(sys.argv[1]), fast=sys.argv[2] == "fast", output=sys.argv[3])
"""
LINK = re.compile(r"(?<!!)\[(?P<text>[^\]\n]+)\]\((?P<target>[^)\s]+)\)")
URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


class SiteError(RuntimeError):
    """The site cannot be built; the message names the lesson and cell, milestone or page."""


@dataclass
class Book:
    """The pages of the book being written: the table of contents, part by part."""

    source: Path
    parts: list[tuple[str, list[str]]] = field(default_factory=list)

    @property
    def pages(self) -> set[str]:
        """Every page, as its path in the source folder without suffix (``docs/course``)."""
        return {"intro", *(page for _, pages in self.parts for page in pages)}

    def add(self, caption: str, pages: list[str]) -> None:
        if pages:
            self.parts.append((caption, pages))

    def write_toc(self) -> None:
        """``_toc.yml`` (written as JSON, which is YAML too)."""
        parts = [
            {"caption": caption, "chapters": [{"file": page} for page in pages]}
            for caption, pages in self.parts
        ]
        toc = {"format": "jb-book", "root": "intro", "parts": parts}
        (self.source / "_toc.yml").write_text(json.dumps(toc, indent=1) + "\n", encoding="utf-8")


# Links -------------------------------------------------------------------------------------


def unlink_missing(markdown: str, page: str, pages: set[str]) -> str:
    """``markdown`` of ``page`` (``docs/course``) with each relative link to something that is
    not a page of the site replaced by its text, so that no page links outside the site.

    Links inside fenced code blocks, absolute URLs and in-page anchors are left alone.
    """

    def replace(match: re.Match) -> str:
        target = match["target"]
        if URL.match(target) or target.startswith("#"):
            return match[0]
        path = posixpath.normpath(posixpath.join(posixpath.dirname(page), target.split("#")[0]))
        return match[0] if posixpath.splitext(path)[0] in pages else match["text"]

    lines, fenced = [], False
    for line in markdown.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        lines.append(line if fenced else LINK.sub(replace, line))
    return "\n".join(lines)


def relative_link(page: str, target: str) -> str:
    """The link from ``page`` to the page ``target`` (both without suffix): module pages
    are executed notebooks (``.ipynb``), the others Markdown."""
    suffix = ".ipynb" if target.startswith("modules/") else ".md"
    return posixpath.relpath(target, posixpath.dirname(page) or ".") + suffix


# Lessons -----------------------------------------------------------------------------------


def kernel_env(root: Path) -> dict[str, str]:
    """The environment of a lesson's kernel: ``root`` first on the path, plots to files."""
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "PYTHONIOENCODING": "utf-8", "MPLBACKEND": "Agg"}


def _first_line(source: str, cell_text: str) -> int:
    """The line of ``source`` where ``cell_text`` starts (1-based; 1 if not found)."""
    found = source.find(cell_text.split("\n", 1)[0])
    return source.count("\n", 0, found) + 1 if found >= 0 else 1


def execute_lesson(lesson: Path, root: Path) -> tuple[dict, float]:
    """Run every cell of the percent script ``lesson`` in a fresh kernel started in the
    lesson's folder; the executed notebook and the seconds it took.

    A failing cell raises ``SiteError`` naming the lesson, the cell and its first line.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    source = lesson.read_text(encoding="utf-8")
    notebook = nbformat.reads(json.dumps(to_notebook(source)), as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(lesson.parent)}},
    )
    start = time.perf_counter()
    with client.setup_kernel(env=kernel_env(root)):
        for index, cell in enumerate(notebook.cells):
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as error:
                where = f"{lesson.relative_to(root)}, cell {index + 1}"
                line = _first_line(source, cell.source)
                raise SiteError(
                    f"lesson {where} (line {line}) failed: {error.ename}: {error.evalue}\n"
                    f"run it alone to see the whole traceback: python {lesson.relative_to(root)}"
                ) from None
    return notebook, time.perf_counter() - start


def module_header(manifest: Manifest, module: Module, page: str, book_pages: set[str],
                  seconds: float) -> str:  # fmt: skip
    """The Markdown shown under a module page's title: chapter, tier, prerequisites, unlocks."""
    earlier = [manifest.module(number) for number in module.prerequisites]
    needs = ", ".join(f"[{m.label}]({relative_link(page, f'modules/{m.name}')})" for m in earlier)
    unlocks = ", ".join(
        f"[{m.year}: {m.title}]({relative_link(page, f'milestones/{m.id}')})"
        for m in manifest.unlocked_by(module.number)
    )
    lines = [
        f"**Textbook chapter:** [{module.chapter}]({manifest.textbook_url}) in "
        f"*{manifest.textbook}*  ",
        f"**Tier:** {manifest.tiers[module.tier]}  ",
        f"**Builds on:** {needs or 'no earlier module'}  ",
    ]
    if unlocks:
        lines.append(f"**Unlocks:** {unlocks}  ")
    lines.append(
        f"\n*This page is `{module.lesson_dir}lesson.py` executed against the reference "
        f"package when the site was built ({seconds:.1f} s). In your workspace, "
        f"`tito module start {module.tag}` opens the same lesson on your own code.*"
    )
    return unlink_missing("\n".join(lines), page, book_pages)


def hide_root(cell: dict, root: Path) -> None:
    """Write ``<repository>`` for the build machine's path to ``root`` in a cell's text
    outputs (the lesson prints which tinytorch it tests): readers have their own path."""
    for output in cell.get("outputs", []):
        if "text" in output:
            output["text"] = output["text"].replace(str(root), "<repository>")
        if "text/plain" in output.get("data", {}):
            plain = output["data"]["text/plain"]
            output["data"]["text/plain"] = plain.replace(str(root), "<repository>")


def write_module_page(manifest: Manifest, module: Module, root: Path, book: Book) -> None:
    """``modules/NN_slug.ipynb``: the executed lesson with the module's header after its title."""
    import nbformat

    page = f"modules/{module.name}"
    notebook, seconds = execute_lesson(root / module.lesson_dir / "lesson.py", root)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = unlink_missing(cell.source, page, book.pages)
        hide_root(cell, root)
    header = module_header(manifest, module, page, book.pages, seconds)
    notebook.cells.insert(1, nbformat.v4.new_markdown_cell(header, id="site-header"))
    path = book.source / f"{page}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


# Milestones --------------------------------------------------------------------------------


def milestone_result(milestone: Milestone, root: Path, results: Path | None, work: Path) -> dict:
    """The saved result of a run in ``results`` (``tito milestones run`` writes them to
    ``.tinytorch/results/``), else the result of a fast run now."""
    saved = results / f"{milestone.id}.json" if results else None
    if saved and saved.is_file():
        return json.loads(saved.read_text(encoding="utf-8"))
    output = work / f"{milestone.id}.json"
    command = [sys.executable, "-c", RUN_MILESTONE, str(milestone.number), "fast", str(output)]
    done = subprocess.run(
        command, cwd=root, env=kernel_env(root), capture_output=True, text=True, check=False
    )
    if done.returncode != 0 or not output.is_file():
        raise SiteError(
            f"milestone {milestone.id} failed (exit code {done.returncode}):\n"
            f"{(done.stdout + done.stderr)[-3000:]}\n"
            f"run it alone: tito milestones run {milestone.number:02d} --fast"
        )
    return json.loads(output.read_text(encoding="utf-8"))


def results_table(result: dict) -> str:
    """The checks of a milestone result as a Markdown table, then how and when it ran."""
    rows = ["| check | result | target | verdict |", "|---|---|---|---|"]
    for check in result["checks"]:
        sign = "<=" if check["at_most"] else ">="
        verdict = "reached" if check["passed"] else "missed"
        rows.append(
            f"| {check['name']} | {check['value']:.1%} | {sign} {check['target']:.1%} | {verdict} |"
        )
    mode = "fast mode" if result["fast"] else "full run"
    verdict = "achieved" if result["passed"] else "not achieved: a target was missed"
    return "\n".join(rows) + f"\n\nMilestone {verdict}, in {result['seconds']:.1f} s ({mode})."


def write_milestone_page(milestone: Milestone, root: Path, results: Path | None,
                         book: Book) -> None:  # fmt: skip
    """``milestones/<id>.md``: its README (the story), then the measured results and curves."""
    from tito.course.site_figures import plot_curves

    page = f"milestones/{milestone.id}"
    folder = book.source / "milestones"
    folder.mkdir(parents=True, exist_ok=True)
    result = milestone_result(milestone, root, results, folder)
    readme = (root / "milestones" / milestone.id / "README.md").read_text(encoding="utf-8")
    parts = [unlink_missing(readme.rstrip(), page, book.pages), "## Measured for this site"]
    parts.append(results_table(result))
    if result.get("curves"):
        plot_curves(result["curves"], f"{milestone.year}: {milestone.title}",
                    folder / f"{milestone.id}.png")  # fmt: skip
        parts.append(f"![Learning curves of milestone {milestone.id}]({milestone.id}.png)")
    (book.source / f"{page}.md").write_text("\n\n".join(parts) + "\n", encoding="utf-8")


# API reference -----------------------------------------------------------------------------


def write_api_page(module_name: str, book: Book) -> str:
    """``api/<module>.md``: the module's docstring and one entry per public object."""
    from tito.course.site_api import api_page

    page = f"api/{module_name}"
    path = book.source / f"{page}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(api_page(module_name), encoding="utf-8")
    return page


# Measurements ------------------------------------------------------------------------------


def _table(rows: list[dict], columns: dict[str, Callable[[dict], str]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(show(row) for show in columns.values()) + " |" for row in rows]
    return "\n".join(lines)


def write_measurements_page(book: Book, quick: bool) -> str:
    """``measurements.md``: the im2col, KV-cache and quantization plots, measured now
    (``quick``: at the small sizes of ``site_figures.QUICK``)."""
    from tito.course import site_figures as figures

    sizes = figures.QUICK if quick else figures.FULL
    folder = book.source / "measurements"
    folder.mkdir(parents=True, exist_ok=True)
    memory = figures.measure_im2col_memory(sizes.images)
    figures.plot_im2col_memory(memory, folder / "im2col.png")
    speed = figures.measure_kv_cache(sizes.tokens, sizes.rounds)
    figures.plot_kv_cache(speed, folder / "kv_cache.png")
    quantized = figures.measure_quantization(sizes.widths, sizes.epochs)
    figures.plot_quantization(quantized, folder / "quantization.png")
    machine = f"{platform.machine()} {platform.system()}, Python {platform.python_version()}"
    text = MEASUREMENTS.format(
        machine=machine,
        when=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        im2col=_table(memory, IM2COL_COLUMNS),
        kv_cache=_table(speed, KV_COLUMNS),
        quantization=_table(quantized, QUANT_COLUMNS),
    )
    (book.source / "measurements.md").write_text(text, encoding="utf-8")
    return "measurements"


IM2COL_COLUMNS = {
    "image": lambda row: f"{row['size']}x{row['size']}",
    "image bytes": lambda row: f"{row['image_bytes']:,}",
    "im2col bytes": lambda row: f"{row['im2col_bytes']:,}",
    "ratio": lambda row: f"{row['im2col_bytes'] / row['image_bytes']:.1f}x",
}
KV_COLUMNS = {
    "tokens": lambda row: str(row["tokens"]),
    "without cache, tokens/s": lambda row: f"{row['uncached_per_s']:,.0f}",
    "with cache, tokens/s": lambda row: f"{row['cached_per_s']:,.0f}",
    "speed-up": lambda row: f"{row['cached_per_s'] / row['uncached_per_s']:.1f}x",
}
QUANT_COLUMNS = {
    "hidden": lambda row: str(row["hidden"]),
    "float32 file": lambda row: f"{row['float32_bytes']:,} B",
    "float32 accuracy": lambda row: f"{row['float32_accuracy']:.1%}",
    "int8 file": lambda row: f"{row['int8_bytes']:,} B",
    "int8 accuracy": lambda row: f"{row['int8_accuracy']:.1%}",
}
MEASUREMENTS = """# Measurements

Measured on the reference package when this site was built ({when}, {machine}). The sizes
are small so that the build stays short; the scripts in `benchmarks/` measure the same
effects at the sizes the modules target.

## im2col memory (module 09)

Convolution as one matrix multiply first copies every 3x3 window of the image into a column
(`tinytorch/ops/conv.py: im2col`). The price is memory: each pixel is copied into up to nine
columns.

![im2col memory](measurements/im2col.png)

{im2col}

## Generation with and without a key/value cache (module 17)

Without the cache each new token runs the whole sequence through the model again; with it,
the keys and values of earlier positions are kept and each step runs one token. Tokens per
second of greedy generation with an untrained two-block GPT (the fastest of three runs):

![tokens per second](measurements/kv_cache.png)

{kv_cache}

## Accuracy against size after quantization (module 15)

MLPs of three widths trained on TinyDigits, then `quantize_dynamic` (int8 weights for every
`nn.Linear`). Size is the saved `state_dict` file; accuracy is on the TinyDigits test split:

![accuracy against size](measurements/quantization.png)

{quantization}
"""


# Docs and the book -------------------------------------------------------------------------


def docs_pages(root: Path) -> list[str]:
    """Every ``docs/*.md`` of the repository, as pages of the site (``docs/course``)."""
    return [f"docs/{path.stem}" for path in sorted((root / "docs").glob("*.md"))]


def unlink_pages(book: Book, root: Path, markdown_pages: Iterable[str]) -> None:
    """Write the Markdown pages (``docs/`` ones from the repository, others from the site
    sources) with each link to something outside the site replaced by its text."""
    (book.source / "docs").mkdir(parents=True, exist_ok=True)
    for page in markdown_pages:
        origin = root / f"{page}.md" if page.startswith("docs/") else book.source / f"{page}.md"
        text = origin.read_text(encoding="utf-8")
        (book.source / f"{page}.md").write_text(unlink_missing(text, page, book.pages), "utf-8")


def run_jupyter_book(source: Path, html: Path) -> None:
    """Build ``source`` into ``html`` with Jupyter Book 1, warnings as errors."""
    build = source.parent / "jupyter-book"
    options = ["--path-output", str(build), "--warningiserror", "--nitpick", "--keep-going"]
    command = [sys.executable, "-c", JUPYTER_BOOK, "build", str(source), *options]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SiteError(f"Jupyter Book failed:\n{(done.stdout + done.stderr)[-6000:]}")
    if html.exists():
        shutil.rmtree(html)
    shutil.move(build / "_build" / "html", html)
    shutil.rmtree(build)


def check_extras() -> None:
    """Raise ``SiteError`` naming the install command when a tool of the build is missing."""
    for module in ("jupyter_book", "nbclient", "nbformat", "ipykernel", "matplotlib"):
        if importlib.util.find_spec(module) is None:
            raise SiteError(f"the site build needs {module}: {SETUP}")


def select(available: Sequence[int], wanted: Iterable[int] | None, what: str) -> list[int]:
    """``wanted`` (all ``available`` when ``None``), checked against ``available``."""
    if wanted is None:
        return list(available)
    chosen = sorted(set(wanted))
    unknown = [number for number in chosen if number not in available]
    if unknown:
        raise SiteError(f"no {what} {unknown}: the site can show {what}s {list(available)}")
    return chosen


def plan_book(source: Path, manifest: Manifest, modules: list[int], milestones: list[int],
              figures: str | None, api_pages: list[str]) -> Book:  # fmt: skip
    """The table of contents, before any page is written: getting started, the modules by
    tier, the milestones, the measurements and the API reference."""
    book = Book(source)
    book.add("Getting started", ["learners", "instructors"])
    for tier, caption in manifest.tiers.items():
        book.add(caption, [f"modules/{m.name}" for m in manifest.modules
                           if m.tier == tier and m.number in modules])  # fmt: skip
    book.add("Milestones", [f"milestones/{manifest.milestone(n).id}" for n in milestones])
    book.add("Measurements", [] if figures is None else ["measurements"])
    book.add("API reference", api_pages)
    return book


def build_site(
    out: Path = DEFAULT_OUT,
    modules: Iterable[int] | None = None,
    milestones: Iterable[int] | None = None,
    api: Iterable[str] | None = None,
    figures: str | None = "full",
    results: Path | None = None,
    root: Path = REPOSITORY,
    progress: Callable[[str], None] = print,
) -> Path:
    """Build the website into ``out/html`` and return that folder.

    ``modules`` and ``milestones`` pick numbers (default: every module with a lesson and
    every milestone with a folder); ``api`` the modules of the API reference (default
    ``API_MODULES``); ``figures`` the sizes of the measurements page: ``"full"``,
    ``"quick"`` (``site_figures.QUICK``), or ``None`` to leave it out; ``results`` a folder
    of saved milestone results to show instead of fast runs; ``root`` the repository whose
    lessons, milestones and docs are used.
    """
    check_extras()
    if figures not in ("full", "quick", None):
        raise SiteError(f"figures must be 'full', 'quick' or None, not {figures!r}")
    manifest = load_manifest(root / "modules" / "manifest.toml")
    with_lesson = [
        m.number for m in manifest.modules if (root / m.lesson_dir / "lesson.py").is_file()
    ]
    written = [m.number for m in manifest.milestones if (root / "milestones" / m.id).is_dir()]
    module_numbers = select(with_lesson, modules, "module")
    milestone_numbers = select(written, milestones, "milestone")

    source = Path(out) / "source"
    if source.exists():
        shutil.rmtree(source)
    shutil.copytree(SITE_SOURCES, source, ignore=shutil.ignore_patterns("_build"))
    api_pages = [f"api/{name}" for name in (API_MODULES if api is None else api)]
    book = plan_book(source, manifest, module_numbers, milestone_numbers, figures, api_pages)
    book.add("Reference", docs_pages(root))

    for number in module_numbers:
        module = manifest.module(number)
        progress(f"executing lesson {module.name}")
        write_module_page(manifest, module, root, book)
    for number in milestone_numbers:
        milestone = manifest.milestone(number)
        progress(f"milestone {milestone.id}")
        write_milestone_page(milestone, root, results, book)
    if figures is not None:
        progress("measuring for the measurements page")
        write_measurements_page(book, quick=figures == "quick")
    for page in api_pages:
        try:
            write_api_page(page.removeprefix("api/"), book)
        except ImportError as error:
            raise SiteError(f"API reference: cannot import {page[4:]}: {error}") from error
    unlink_pages(book, root, [*STATIC_PAGES, *(p for p in book.pages if p.startswith("docs/"))])
    book.write_toc()
    progress("building the HTML with Jupyter Book")
    html = Path(out) / "html"
    run_jupyter_book(source, html)
    return html
