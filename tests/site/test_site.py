"""The course website: built with warnings as errors, then opened in headless Chromium.

A small selection is built once for the file (lessons 01 and 02, milestone 01, one API page,
the measurements page at its quick sizes): executing all lessons and milestones is
``tito site build``'s job, not CI's. The pages are served on 127.0.0.1 and opened in
Debian's chromium (``/usr/bin/chromium``) through playwright, without playwright's own
browser download.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urldefrag, urljoin

import pytest

from tito.course.manifest import REPOSITORY, load_manifest
from tito.course.site import (
    SiteError,
    build_site,
    milestone_result,
    results_table,
    unlink_missing,
)
from tito.course.site_api import docstring_block, signature_block
from tito.main import main

pytestmark = pytest.mark.site

INSTALL = 'python -m pip install -e ".[site]"'
CHROMIUM = Path("/usr/bin/chromium")
MODULES = ["01_tensor", "02_activations"]
MILESTONE = "01_1958_perceptron"


def needs_site_extra() -> None:
    for module in ("jupyter_book", "matplotlib", "nbclient", "ipykernel"):
        pytest.importorskip(module, reason=f"the site build needs {module}: {INSTALL}")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build folder of a small site (its ``html/`` and ``source/``)."""
    needs_site_extra()
    out = tmp_path_factory.mktemp("site")
    build_site(out, modules=[1, 2], milestones=[1], api=["tinytorch.optim"], figures="quick")
    return out


@pytest.fixture(scope="module")
def server(built: Path) -> Iterator[str]:
    """The base URL of the built pages, served on 127.0.0.1."""
    handler = functools.partial(QuietHandler, directory=str(built / "html"))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as httpd:
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
        httpd.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib's name
        pass


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason=f"the browser tests need playwright: {INSTALL}"
    )
    if not CHROMIUM.is_file():
        pytest.skip(f"the browser tests need {CHROMIUM}: apt-get install chromium")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    page = browser.new_page()
    yield page
    page.close()


def test_the_build_has_every_selected_page_and_no_other(built: Path) -> None:
    html = built / "html"
    expected = [
        "intro.html",
        "learners.html",
        "instructors.html",
        *(f"modules/{name}.html" for name in MODULES),
        f"milestones/{MILESTONE}.html",
        "measurements.html",
        "api/tinytorch.optim.html",
        *(f"docs/{path.stem}.html" for path in (REPOSITORY / "docs").glob("*.md")),
    ]
    assert [name for name in expected if not (html / name).is_file()] == []
    assert sorted(path.name for path in (html / "modules").glob("*.html")) == [
        f"{name}.html" for name in MODULES
    ]


def test_a_warning_fails_the_build(tmp_path: Path) -> None:
    needs_site_extra()
    root = tmp_path / "repo"
    (root / "modules").mkdir(parents=True)
    shutil.copy(REPOSITORY / "modules" / "manifest.toml", root / "modules")
    (root / "docs").mkdir()
    (root / "docs" / "notes.md").write_text("# Notes\n\n### A heading two levels down\n")
    with pytest.raises(SiteError, match=r"Jupyter Book failed(.|\n)*notes.md.*WARNING"):
        build_site(tmp_path / "out", modules=[], milestones=[], api=[], figures=None, root=root)


def test_a_failing_lesson_is_named_with_its_cell(tmp_path: Path) -> None:
    needs_site_extra()
    root = tmp_path / "repo"
    (root / "modules" / "01_tensor").mkdir(parents=True)
    shutil.copy(REPOSITORY / "modules" / "manifest.toml", root / "modules")
    lesson = "# %% [markdown]\n# # A lesson\n\n# %%\nsize = 3\n\n# %%\nprint(size / 0)\n"
    (root / "modules" / "01_tensor" / "lesson.py").write_text(lesson)
    with pytest.raises(SiteError) as failure:
        build_site(tmp_path / "out", modules=[1], milestones=[], api=[], figures=None, root=root)
    message = str(failure.value)
    assert "modules/01_tensor/lesson.py, cell 3 (line 8)" in message
    assert "ZeroDivisionError" in message


def test_links_outside_the_site_become_text() -> None:
    pages = {"docs/course", "docs/developing", "modules/01_tensor"}
    markdown = (
        "[guide](course.md) [dev](developing.md#tests) [tensor](../modules/01_tensor.ipynb)\n"
        "[code](../tinytorch/tensor.py) [web](https://mlsysbook.ai) [here](#top)\n"
        "```\n[kept](in/a/code/block.md)\n```"
    )
    assert unlink_missing(markdown, "docs/developing", pages) == (
        "[guide](course.md) [dev](developing.md#tests) [tensor](../modules/01_tensor.ipynb)\n"
        "code [web](https://mlsysbook.ai) [here](#top)\n"
        "```\n[kept](in/a/code/block.md)\n```"
    )


def test_tito_site_refuses_bad_ranges_and_a_missing_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as usage:
        main(["site", "build", "--modules", "5-3"])
    assert usage.value.code == 2
    assert "runs backwards (try 3-5)" in capsys.readouterr().err
    assert main(["site", "serve", "--out", str(tmp_path)]) == 2
    assert "tito site build --out" in capsys.readouterr().err


def test_no_internal_link_is_broken(server: str, page: object) -> None:
    """Open every page reachable from the home page (index.html redirects to intro.html) in
    the browser; every link and image inside the site loads (HTTP 200)."""
    seen, queue, broken = set(), [server + "index.html", server + "intro.html"], []
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        if not url.endswith(".html") or url == server + "index.html":
            # a download (notebook source), an image, or Jupyter Book's redirect page
            with urllib.request.urlopen(url) as response:
                assert response.status == 200
            continue
        response = page.goto(url)
        if response is None or response.status != 200:
            broken.append(url)
            continue
        links = page.eval_on_selector_all("a[href]", "nodes => nodes.map(n => n.href)")
        images = page.eval_on_selector_all("img[src]", "nodes => nodes.map(n => n.src)")
        for link in [*links, *images]:
            target = urldefrag(urljoin(url, link))[0]
            if target.startswith(server) and target not in seen:
                queue.append(target)
    assert broken == []
    assert {server + f"modules/{name}.html" for name in MODULES} <= seen


@pytest.mark.parametrize("name", MODULES)
def test_a_lesson_page_shows_its_executed_output(server: str, page: object, name: str) -> None:
    page.goto(f"{server}modules/{name}.html")
    outputs = page.locator(".cell_output").all_inner_texts()
    assert any("✓" in output for output in outputs), "no passed check printed on the page"
    assert "executed against the reference" in page.inner_text("main")


def test_the_milestone_page_shows_the_measured_result(
    built: Path, server: str, page: object
) -> None:
    result = json.loads((built / "source" / "milestones" / f"{MILESTONE}.json").read_text())
    page.goto(f"{server}milestones/{MILESTONE}.html")
    text = page.inner_text("main")
    for check in result["checks"]:
        assert f"{check['value']:.1%}" in text
    assert page.eval_on_selector("main img", "image => image.naturalWidth") > 0


def test_the_measurements_page_shows_its_plots(server: str, page: object) -> None:
    page.goto(f"{server}measurements.html")
    widths = page.eval_on_selector_all("main img", "images => images.map(i => i.naturalWidth)")
    assert len(widths) == 3 and min(widths) > 0


def test_search_finds_autograd(server: str, page: object) -> None:
    """Type into the search box (opened with Ctrl+K, as a reader would) and press Enter."""
    page.goto(f"{server}intro.html")
    page.keyboard.press("Control+k")
    box = page.locator("input[name=q]:visible").first
    box.fill("autograd")
    box.press("Enter")
    page.wait_for_url("**/search.html?q=autograd*")
    results = page.locator("#search-results ul.search li")
    results.first.wait_for(timeout=15_000)
    assert "autograd" in results.first.inner_text().lower()


def test_saved_milestone_results_are_shown_instead_of_a_fast_run(tmp_path: Path) -> None:
    """``tito site build --results DIR`` shows what ``tito milestones run`` saved."""
    milestone = load_manifest().milestone(1)
    saved = {
        "milestone": milestone.id,
        "passed": True,
        "fast": False,
        "seconds": 12.5,
        "checks": [
            {
                "name": "test accuracy",
                "value": 0.99,
                "target": 0.98,
                "at_most": False,
                "passed": True,
            }
        ],  # fmt: skip
    }
    (tmp_path / f"{milestone.id}.json").write_text(json.dumps(saved))
    result = milestone_result(milestone, REPOSITORY, tmp_path, tmp_path / "work")
    assert result == saved
    assert results_table(result).endswith("Milestone achieved, in 12.5 s (full run).")
    assert "| test accuracy | 99.0% | >= 98.0% | reached |" in results_table(result)


def test_a_docstring_that_is_not_clean_rst_is_shown_verbatim() -> None:
    needs_site_extra()

    def clean() -> None:
        """Adds one to ``x``::

            y = x + 1

        Returns nothing.
        """

    def loose() -> None:
        """Multiplies *args by two."""

    assert docstring_block(clean).startswith("```{eval-rst}\n")
    assert docstring_block(loose) == "````text\nMultiplies *args by two.\n````"
    assert signature_block("f", lambda x, /, y=2, *, z: 0) == "```python\nf(x, /, y=2, *, z)\n```"
