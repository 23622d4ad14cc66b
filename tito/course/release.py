"""The student release: the course as a standalone repository with no solution in it.

``build_release(target)`` writes::

    target/tinytorch/      the student edition (every exercise region a stub; the regions of
                           modules filled by a ``--modules`` range keep the reference)
    target/tito/           the command line, so learners run ``tito init`` from the release
    target/modules/        the manifest, the lesson sources, their notebooks (with "Open in
                           Colab" links, ``tito.course.hosted``) and scope.json (the modules
                           the release offers, when not the whole course)
    target/binder/         the Binder configuration: installs the release and a workspace
    target/milestones/     the milestone scripts
    target/datasets/       the datasheets of the data that ships with the package
    target/tests/          the module tests a learner may see (no ``hidden/`` folder)
    target/README.md       how to take the course; pyproject.toml, LICENSE

The release is built in a temporary folder beside ``target`` and moved into place at the end,
so a failed build leaves nothing half-written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from tito.course.edition import SKIPPED, build_edition
from tito.course.hosted import header, install_cell
from tito.course.manifest import MANIFEST_PATH, REPOSITORY, Manifest
from tito.course.notebook import Cell, write_notebook
from tito.course.scope import RELEASE_SCOPE, Scope, default_scope, format_modules, save_scope
from tito.course.workspace import LESSON, copy_course_files, copy_tests

COPIED_FILES = ("pyproject.toml", "LICENSE")
COPIED_FOLDERS = ("tito", "datasets", "binder")

README = """# {title}: the student edition

Build a deep-learning framework from scratch, with PyTorch's API on NumPy, one module at a
time. Companion textbook: *{textbook}* ({textbook_url}).

## Set up

```bash
pip install -e .          # the `tito` command and your (still empty) tinytorch
tito init my-course       # your workspace: the package to fill in, the tests, the lessons
cd my-course
tito module start 01      # what to write, where, and the lesson notebook
```

## Work through a module

```bash
tito module test 01       # run the module's tests against your code
tito module complete 01   # mark it done once they pass; see what it unlocked
tito module status        # your progress
tito milestones list      # the historical milestones your framework can run
```

Each exercise sits between `# BEGIN SOLUTION NN` and `# END SOLUTION` in your workspace's
`tinytorch/`: replace the `raise NotImplementedError(...)` with your code and keep the two
marker lines. `tito module reset NN` puts the stubs back (your code is backed up first).

## The modules

{modules}
"""
FILLED_NOTE = """
Modules {filled} come filled with working code, so that you start with a framework that runs.
"""


def readme(manifest: Manifest, scope: Scope) -> str:
    """The README of the release: how to set up and work, then the modules it offers."""
    offered = [manifest.module(number) for number in scope.offered]
    modules = "\n".join(f"{m.tag}. {m.title} ({m.chapter})" for m in offered)
    if scope.filled:
        modules += "\n" + FILLED_NOTE.format(filled=format_modules(scope.filled))
    return README.format(
        title=manifest.title,
        textbook=manifest.textbook,
        textbook_url=manifest.textbook_url,
        modules=modules,
    )


def write_lesson_notebooks(target: Path, manifest: Manifest, scope: Scope, github: str) -> None:
    """Write ``lesson.ipynb`` beside each lesson of the release: the Colab and Binder header,
    the install cell (it clones ``github``), then the lesson."""
    for number in scope.offered:
        module = manifest.module(number)
        lesson = target / module.lesson_dir / LESSON
        if lesson.is_file():
            prelude = (
                Cell("markdown", header(manifest, module, github)),
                Cell("code", install_cell(module, f"https://github.com/{github}")),
            )
            write_notebook(lesson, lesson.with_suffix(".ipynb"), prelude)


def _fill(target: Path, manifest: Manifest, source_root: Path, scope: Scope, github: str) -> None:
    """Write every part of the release into the empty folder ``target``."""
    build_edition(target, scope.filled, source_root=source_root, manifest=manifest)
    copy_tests(target, manifest, source_root, up_to=max(scope.offered))
    copy_course_files(target, manifest, source_root, offered=scope.offered)
    manifest_file = MANIFEST_PATH.relative_to(REPOSITORY)
    shutil.copy2(source_root / manifest_file, target / manifest_file)
    if len(scope.offered) < len(manifest.modules):
        save_scope(target / RELEASE_SCOPE, scope)
    write_lesson_notebooks(target, manifest, scope, github)
    for name in COPIED_FOLDERS:
        if (source_root / name).is_dir():
            shutil.copytree(source_root / name, target / name, ignore=SKIPPED)
    for name in COPIED_FILES:
        shutil.copy2(source_root / name, target / name)
    (target / "README.md").write_text(readme(manifest, scope), encoding="utf-8")


def set_aside(target: Path) -> Path:
    """Rename the existing ``target`` to ``<target>.backup-<time>``; return the new path."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    backup = target.with_name(f"{target.name}.backup-{stamp}")
    target.rename(backup)
    return backup


def build_release(
    target: Path,
    manifest: Manifest,
    source_root: Path = REPOSITORY,
    scope: Scope | None = None,
    github: str | None = None,
) -> Path | None:
    """Build the release at ``target``; return where an existing ``target`` was set aside.

    ``scope`` (default: the course's own) names the modules the release offers; their
    prerequisites outside it keep the reference code. ``github`` (default: the manifest's) is
    the OWNER/REPO the release will be published at, for its Colab and Binder links. An
    existing empty ``target`` is replaced; a non-empty one is renamed to a backup first (the
    caller decides whether that is allowed).
    """
    scope = scope or default_scope(manifest, source_root)
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    building.chmod(0o755)
    try:
        _fill(building, manifest, source_root, scope, github or manifest.github)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    backup = None
    if target.exists():
        if any(target.iterdir()):
            backup = set_aside(target)
        else:
            target.rmdir()
    os.replace(building, target)
    return backup
