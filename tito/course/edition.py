"""The student edition: the package with every exercise region replaced by its stub.

A stub raises ``NotImplementedError`` naming the module, the symbol and the lesson, keeping
the region's indentation and everything around it (signature, docstring, markers), unless the
region declares a harmless stub (``# BEGIN SOLUTION 05 | stub: return output``). Regions of the
modules in ``filled`` keep the reference code::

    build_edition(Path("/tmp/student"), filled=range(1, 4))   # modules 01-03 solved
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path

from tito.course.manifest import REPOSITORY, Manifest, load_manifest
from tito.course.regions import Region, package_regions

PACKAGE = "tinytorch"
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc")


def stub_line(region: Region, manifest: Manifest) -> str:
    """The line that replaces the body of ``region`` in the student edition."""
    if region.stub is not None:
        return f"{region.indent}{region.stub}"
    module = manifest.module(region.module)
    message = f"{module.label}: implement {region.symbol} — see the lesson in {module.lesson_dir}"
    return f"{region.indent}raise NotImplementedError({json.dumps(message, ensure_ascii=False)})"


def render(source: str, regions: list[Region], filled: set[int], manifest: Manifest) -> str:
    """``source`` with the body of every region outside ``filled`` replaced by its stub.

    ``regions`` must be the regions of ``source`` (their line numbers index into it).
    """
    lines = source.splitlines(keepends=True)
    for region in sorted(regions, key=lambda region: region.begin, reverse=True):
        if region.module not in filled:
            lines[region.begin : region.end - 1] = [stub_line(region, manifest) + "\n"]
    return "".join(lines)


def build_edition(
    target: Path,
    filled: Iterable[int] = (),
    source_root: Path = REPOSITORY,
    manifest: Manifest | None = None,
) -> dict[str, list[Region]]:
    """Write the student edition of ``source_root/tinytorch`` to ``target/tinytorch``.

    Regions of the modules in ``filled`` keep their reference code. Returns the regions of
    the reference package by file. ``target/tinytorch`` must not exist yet.
    """
    manifest = manifest or load_manifest()
    regions = package_regions(source_root, PACKAGE)
    shutil.copytree(source_root / PACKAGE, target / PACKAGE, ignore=SKIPPED)
    wanted = set(filled)
    for path, file_regions in regions.items():
        source = (source_root / path).read_text(encoding="utf-8")
        text = render(source, file_regions, wanted, manifest)
        (target / path).write_text(text, encoding="utf-8")
    return regions
