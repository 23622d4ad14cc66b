"""Every exercise is tested: stubbing any one region of module k makes module k's tests fail.

The reference package with a single region put back to its stub (raising or harmless) must
fail ``tito module test k``'s selection of tests, with PyTorch and without it (hidden with
``TINYTORCH_TESTS_WITHOUT_TORCH=1``, where the differential tests skip and the NumPy-reference
tests must catch the stub). To stay fast this runs two disjoint samples of the regions, one
each way; ``TINYTORCH_COURSE_FULL=1`` runs every region of every module that has tests, both
ways, or only without PyTorch when this session itself hides it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import WITHOUT_TORCH
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
FULL = os.environ.get("TINYTORCH_COURSE_FULL") == "1"
if os.environ.get(WITHOUT_TORCH) == "1":  # this session hides PyTorch: every run is without
    WITH_TORCH = []
else:
    WITH_TORCH = REGIONS if FULL else REGIONS[::40]
WITHOUT_TORCH_SAMPLE = REGIONS if FULL else REGIONS[10::20]  # disjoint from REGIONS[::40]
CASES = [pytest.param(region, False, id=region.location) for region in WITH_TORCH] + [
    pytest.param(region, True, id=f"{region.location}-without-torch")
    for region in WITHOUT_TORCH_SAMPLE
]


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace whose package is the reference: every region filled."""
    root = tmp_path_factory.mktemp("solved") / "ws"
    create_workspace(root, filled=TESTED, manifest=MANIFEST)
    return root


@pytest.mark.parametrize(("region", "hide_torch"), CASES)
def test_stubbing_one_region_fails_its_modules_tests(
    solved: Path, region: Region, hide_torch: bool
) -> None:
    module = MANIFEST.module(region.module)
    path = solved / region.path
    reference = path.read_text(encoding="utf-8")
    path.write_text(render(reference, [region], set(), MANIFEST), encoding="utf-8")
    try:
        command = pytest_command(solved, [module], module.number, MANIFEST) + ["-x", "-q"]
        env = dict(workspace_env(solved), PYTHONDONTWRITEBYTECODE="1")  # no stale .pyc
        if hide_torch:
            env[WITHOUT_TORCH] = "1"
        run = subprocess.run(command, cwd=solved, env=env, capture_output=True, text=True)
    finally:
        path.write_text(reference, encoding="utf-8")
    assert run.returncode == 1, (
        f"{module.label}'s tests pass with {region.symbol} ({region.location}) stubbed"
        f"{' and PyTorch hidden' if hide_torch else ''}: add a test that checks it"
        f"{' against NumPy' if hide_torch else ''}\n{run.stdout[-1500:]}"
    )
