"""``set_num_threads`` / ``get_num_threads``: through threadpoolctl, through OpenBLAS's own
call, and without either."""

import pytest

import tinytorch
from tinytorch import threads

pytestmark = pytest.mark.module18


@pytest.fixture(autouse=True)
def restore_threads():
    previous = tinytorch.get_num_threads()
    yield
    tinytorch.set_num_threads(previous)


@pytest.mark.parametrize("count", [1, 2])
def test_set_then_get_returns_the_number(count):
    tinytorch.set_num_threads(count)
    assert tinytorch.get_num_threads() == count


def test_openblas_call_without_threadpoolctl(monkeypatch):
    if threads._openblas_function("set") is None:
        pytest.skip("NumPy's BLAS here is not an OpenBLAS found in /proc/self/maps")
    monkeypatch.setattr(threads, "_threadpoolctl_blas", lambda: None)
    assert threads.blas_thread_control() == "openblas"
    tinytorch.set_num_threads(1)
    assert tinytorch.get_num_threads() == 1
    tinytorch.set_num_threads(2)
    assert tinytorch.get_num_threads() == 2


def test_both_routes_see_the_same_pool(monkeypatch):
    if threads._threadpoolctl_blas() is None or threads._openblas_function("set") is None:
        pytest.skip("needs threadpoolctl and OpenBLAS")
    threads._openblas_function("set")(1)
    assert tinytorch.get_num_threads() == 1  # read through threadpoolctl


def test_without_any_control_warns_and_remembers(monkeypatch):
    monkeypatch.setattr(threads, "_threadpoolctl_blas", lambda: None)
    monkeypatch.setattr(threads, "_openblas_function", lambda action: None)
    assert threads.blas_thread_control() == "none"
    with pytest.warns(RuntimeWarning, match="cannot reach"):
        tinytorch.set_num_threads(3)
    assert tinytorch.get_num_threads() == 3


@pytest.mark.parametrize("bad", [0, -1])
def test_non_positive_count_raises_like_pytorch(bad):
    with pytest.raises(RuntimeError, match="positive integer"):
        tinytorch.set_num_threads(bad)


@pytest.mark.parametrize("bad", [2.5, "2", True])
def test_non_int_raises_like_pytorch(bad):
    with pytest.raises(RuntimeError, match="expects an int"):
        tinytorch.set_num_threads(bad)


def test_limited_block_restores_previous_count():
    tinytorch.set_num_threads(2)
    with threads.num_threads_limited(1):
        assert tinytorch.get_num_threads() == 1
    assert tinytorch.get_num_threads() == 2
