"""Shared fixtures: every test starts from the same random seed."""

import numpy as np
import pytest

import tinytorch


@pytest.fixture(autouse=True)
def _seed() -> None:
    np.random.seed(0)
    tinytorch.manual_seed(0)
