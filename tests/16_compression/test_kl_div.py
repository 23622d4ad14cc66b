"""F.kl_div and nn.KLDivLoss against PyTorch, forward and backward (module 16)."""

import warnings

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tests.helpers import assert_close, check_op, torch_or_skip
from tinytorch.autograd import gradcheck

pytestmark = pytest.mark.module16

rng = np.random.default_rng(0)


def log_probabilities(*shape: int) -> np.ndarray:
    scores = rng.standard_normal(shape)
    return scores - np.log(np.exp(scores).sum(axis=-1, keepdims=True))


def probabilities(*shape: int) -> np.ndarray:
    return np.exp(log_probabilities(*shape))


@pytest.fixture(autouse=True)
def quiet_mean_warning():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*'mean' divides the total loss")
        yield


@pytest.mark.parametrize("reduction", ["mean", "batchmean", "sum", "none"])
@pytest.mark.parametrize("log_target", [False, True])
@pytest.mark.parametrize("shape", [(4, 5), (3,), (2, 3, 4)])
def test_kl_div_matches_pytorch(reduction: str, log_target: bool, shape) -> None:
    input_ = log_probabilities(*shape).astype(np.float32)
    target = probabilities(*shape).astype(np.float32)
    if log_target:
        target = np.log(target)

    def loss(lib, x, t):
        return lib.nn.functional.kl_div(x, t, reduction=reduction, log_target=log_target)

    check_op(loss, input_, target)


def test_zero_target_probabilities_count_zero_like_pytorch() -> None:
    target = np.array([[0.0, 0.25, 0.75], [1.0, 0.0, 0.0]], np.float32)
    input_ = log_probabilities(2, 3).astype(np.float32)
    check_op(
        lambda lib, x, t: lib.nn.functional.kl_div(x, t, reduction="sum"),
        input_,
        target,
        grad=False,
    )
    torch = torch_or_skip()
    ours = tinytorch.tensor(input_, requires_grad=True)
    theirs = torch.tensor(input_, requires_grad=True)
    F.kl_div(ours, tinytorch.tensor(target), reduction="batchmean").backward()
    torch.nn.functional.kl_div(theirs, torch.tensor(target), reduction="batchmean").backward()
    assert_close(ours.grad, theirs.grad)
    assert np.isfinite(ours.grad.numpy()).all()


def test_kl_div_is_zero_for_equal_distributions_and_positive_otherwise() -> None:
    p = tinytorch.tensor(probabilities(4, 6))
    assert abs(F.kl_div(p.log(), p, reduction="batchmean").item()) < 1e-12
    q = tinytorch.tensor(probabilities(4, 6))
    assert F.kl_div(q.log(), p, reduction="batchmean").item() > 0


@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_gradcheck(log_target: bool) -> None:
    x = tinytorch.tensor(log_probabilities(3, 4), requires_grad=True)
    target = probabilities(3, 4)
    t = tinytorch.tensor(np.log(target) if log_target else target, requires_grad=True)
    assert gradcheck(
        lambda a, b: F.kl_div(a, b, reduction="batchmean", log_target=log_target), (x, t)
    )


def test_kl_div_loss_module_matches_the_function() -> None:
    x = tinytorch.tensor(log_probabilities(3, 4))
    t = tinytorch.tensor(probabilities(3, 4))
    module = nn.KLDivLoss(reduction="batchmean", log_target=False)
    assert module(x, t).item() == F.kl_div(x, t, reduction="batchmean").item()
    torch = torch_or_skip()
    reference = torch.nn.KLDivLoss(reduction="batchmean")
    assert_close(module(x, t), reference(torch.tensor(x.numpy()), torch.tensor(t.numpy())))


def test_mean_reduction_warns_like_pytorch() -> None:
    x = tinytorch.tensor(log_probabilities(2, 3))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        F.kl_div(x, x.exp())
    assert any("batchmean" in str(w.message) for w in caught)


def test_bad_arguments_are_refused() -> None:
    x = tinytorch.tensor(log_probabilities(2, 3))
    with pytest.raises(ValueError, match="kl_div: 'average' is not a valid value"):
        F.kl_div(x, x.exp(), reduction="average")
    with pytest.raises(ValueError, match="KLDivLoss: 'average'"):
        nn.KLDivLoss(reduction="average")
    with pytest.raises(TypeError, match="floating point"):
        F.kl_div(x, tinytorch.tensor([[0, 1, 0], [1, 0, 0]]), reduction="sum")
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        F.kl_div(x, tinytorch.ones(4), reduction="sum")
