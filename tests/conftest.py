"""Shared fixtures: every test starts from the same random seed.

``TINYTORCH_TESTS_WITHOUT_TORCH=1`` runs the tests as on a machine without PyTorch: importing
``torch`` (or any ``torch.*`` module) raises ``ModuleNotFoundError``, so
``pytest.importorskip("torch")`` skips. The finder that hides it is installed when pytest
loads this file, before any test file is collected. The pytest runs that tests start (in a
workspace, whose tests/ holds a copy of this file) inherit the variable and hide it too.
"""

import os
import sys

import numpy as np
import pytest

import tinytorch
from tests.helpers import WITHOUT_TORCH, HideTorch

if os.environ.get(WITHOUT_TORCH) == "1":
    if "torch" in sys.modules:
        raise RuntimeError(f"{WITHOUT_TORCH}=1, but torch was imported before the tests")
    sys.meta_path.insert(0, HideTorch())


@pytest.fixture(autouse=True)
def _seed() -> None:
    np.random.seed(0)
    tinytorch.manual_seed(0)
