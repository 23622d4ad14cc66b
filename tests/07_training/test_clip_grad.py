"""clip_grad_norm_ and clip_grad_value_ against PyTorch (module 07)."""

import math

import numpy as np
import pytest

import tinytorch
from tests.helpers import assert_close, torch_or_skip
from tinytorch.nn.utils import clip_grad_norm_, clip_grad_value_

pytestmark = pytest.mark.module07


def params_with_grads(lib, scale=1.0):
    """Three parameters whose gradients are fixed random arrays times ``scale``."""
    rng = np.random.default_rng(7)
    params = []
    for shape in [(3, 4), (4,), (2, 2, 2)]:
        param = lib.zeros(shape, requires_grad=True)
        param.grad = lib.tensor((rng.standard_normal(shape) * scale).astype(np.float32))
        params.append(param)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.0, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_pytorch(norm_type, max_norm) -> None:
    torch = torch_or_skip()
    ours, theirs = params_with_grads(tinytorch), params_with_grads(torch)
    our_total = clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    their_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert_close(our_total, their_total)
    for mine, reference in zip(ours, theirs, strict=True):
        assert_close(mine.grad, reference.grad)


def test_clip_grad_norm_keeps_direction_and_reaches_max_norm() -> None:
    params = params_with_grads(tinytorch, scale=10.0)
    before = [param.grad.numpy().copy() for param in params]
    total = clip_grad_norm_(params, max_norm=1.0)
    after = np.concatenate([param.grad.numpy().ravel() for param in params])
    assert total.item() > 1.0
    assert np.linalg.norm(after) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(
        after, np.concatenate([b.ravel() for b in before]) / total.item(), rtol=1e-5
    )


def test_clip_grad_norm_accepts_a_single_tensor_and_skips_missing_grads() -> None:
    param = tinytorch.zeros(2, requires_grad=True)
    assert clip_grad_norm_(param, 1.0).item() == 0.0
    param.grad = tinytorch.tensor([3.0, 4.0])
    total = clip_grad_norm_([param, tinytorch.zeros(1, requires_grad=True)], 1.0)
    assert total.item() == pytest.approx(5.0)
    assert param.grad.tolist() == pytest.approx([0.6, 0.8], rel=1e-5)


def test_nonfinite_norm_raises_when_asked() -> None:
    param = tinytorch.zeros(2, requires_grad=True)
    param.grad = tinytorch.tensor([1.0, float("nan")])
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_([param], 1.0, error_if_nonfinite=True)
    assert math.isnan(clip_grad_norm_([param], 1.0).item())


def test_clip_grad_value_matches_pytorch() -> None:
    torch = torch_or_skip()
    ours, theirs = params_with_grads(tinytorch), params_with_grads(torch)
    assert clip_grad_value_(ours, 0.5) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.5)
    for mine, reference in zip(ours, theirs, strict=True):
        assert_close(mine.grad, reference.grad)
