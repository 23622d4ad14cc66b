"""Every exercise is tested: stubbing any one region of module k makes module k's tests fail.

The reference package with a single region put back to its stub (raising or harmless) must
fail ``tito module test k``'s selection of tests. To stay fast this runs a sample of the
regions; ``TINYTORCH_COURSE_FULL=1`` runs every region of every module that has tests.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tito.course.edition import render
from tito.course.manifest import REPOSITORY, load_manifest
from tito.course.regions import Region, package_regions
from tito.course.workspace import create_workspace, pytest_command, workspace_env

pytestmark = pytest.mark.course

MANIFEST = load_manifest()
TESTED = {m.number for m in MANIFEST.modules if (REPOSITORY / m.tests_dir).is_dir()}
REGIONS = [
    region
    for regions in package_regions(REPOSITORY).values()
    for region in regions
    if region.module in TESTED
]
SAMPLE = REGIONS if os.environ.get("TINYTORCH_COURSE_FULL") == "1" else REGIONS[::40]


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace whose package is the reference: every region filled."""
    root = tmp_path_factory.mktemp("solved") / "ws"
    create_workspace(root, filled=TESTED, manifest=MANIFEST)
    return root


@pytest.mark.parametrize("region", SAMPLE, ids=lambda region: f"{region.location}")
def test_stubbing_one_region_fails_its_modules_tests(solved: Path, region: Region) -> None:
    module = MANIFEST.module(region.module)
    path = solved / region.path
    reference = path.read_text(encoding="utf-8")
    path.write_text(render(reference, [region], set(), MANIFEST), encoding="utf-8")
    try:
        command = pytest_command(solved, [module], module.number, MANIFEST) + ["-x", "-q"]
        env = dict(workspace_env(solved), PYTHONDONTWRITEBYTECODE="1")  # no stale .pyc
        run = subprocess.run(command, cwd=solved, env=env, capture_output=True, text=True)
    finally:
        path.write_text(reference, encoding="utf-8")
    assert run.returncode == 1, (
        f"{module.label}'s tests pass with {region.symbol} ({region.location}) stubbed: "
        f"add a test that checks it\n{run.stdout[-1500:]}"
    )
