"""Module 04's losses against NumPy: these tests need no PyTorch.

With log-probabilities ``log p = log_softmax(x)`` over the class dim, class weights ``w``
and label smoothing ``e`` over C classes, cross-entropy of a row with class t is
    (1 - e) w_t (-log p_t) + (e / C) sum_c w_c (-log p_c),
rows whose target is ``ignore_index`` count 0, and 'mean' divides by sum of w_t over the
counted rows. Binary cross-entropy clamps both logarithms to at least -100.
"""

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tests.helpers import random_array

pytestmark = pytest.mark.module04


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.logaddexp.reduce(shifted, axis=axis, keepdims=True)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    return {"mean": loss.mean(), "sum": loss.sum(), "none": loss}[reduction]


def tensors(*arrays: np.ndarray) -> list[tinytorch.Tensor]:
    return [tinytorch.tensor(array) for array in arrays]


def assert_values(out: tinytorch.Tensor, expected: np.ndarray) -> None:
    assert tuple(out.shape) == np.shape(expected), f"shape {tuple(out.shape)}"
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-5)


REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_and_l1(reduction: str) -> None:
    x, y = random_array((4, 3)), random_array((4, 3))
    assert_values(F.mse_loss(*tensors(x, y), reduction=reduction), reduce((x - y) ** 2, reduction))
    assert_values(F.l1_loss(*tensors(x, y), reduction=reduction), reduce(np.abs(x - y), reduction))


def cross_entropy_rows(x, target, weight, ignore_index, smoothing):
    """Per-row loss and the weight each row adds to the 'mean' divisor, for x (M, C)."""
    log_p = log_softmax(x, axis=1)
    w = np.ones(x.shape[1], x.dtype) if weight is None else weight
    kept = target != ignore_index
    safe = np.where(kept, target, 0)
    rows = np.arange(len(x))
    hard = -w[safe] * log_p[rows, safe]
    smooth = -(w * log_p).sum(axis=1) / x.shape[1]
    loss = ((1 - smoothing) * hard + smoothing * smooth) * kept
    return loss, w[safe] * kept


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    ("weighted", "ignore_index", "smoothing"),
    [(False, -100, 0.0), (True, -100, 0.0), (True, 2, 0.0), (False, 1, 0.2), (True, 3, 0.3)],
)
def test_cross_entropy_with_class_indices(reduction, weighted, ignore_index, smoothing) -> None:
    x, target = random_array((8, 5)) * 3, np.random.randint(0, 5, 8)
    weight = np.random.uniform(0.5, 1.5, 5).astype(np.float32) if weighted else None
    loss, divisor = cross_entropy_rows(x, target, weight, ignore_index, smoothing)
    expected = loss.sum() / divisor.sum() if reduction == "mean" else reduce(loss, reduction)
    out = F.cross_entropy(
        *tensors(x, target),
        weight=None if weight is None else tinytorch.tensor(weight),
        ignore_index=ignore_index,
        label_smoothing=smoothing,
        reduction=reduction,
    )
    assert_values(out, expected)


def test_cross_entropy_of_spatial_scores_takes_classes_from_dim_1() -> None:
    x, target = random_array((2, 4, 3, 2)), np.random.randint(0, 4, (2, 3, 2))
    rows = np.moveaxis(x, 1, -1).reshape(-1, 4)
    loss, _ = cross_entropy_rows(rows, target.reshape(-1), None, -100, 0.0)
    out = F.cross_entropy(*tensors(x, target), reduction="none")
    assert_values(out, loss.reshape(2, 3, 2))


def test_cross_entropy_of_one_unbatched_row_and_of_huge_scores() -> None:
    x, target = random_array((5,)), np.array(3)
    assert_values(F.cross_entropy(*tensors(x, target)), -log_softmax(x, 0)[3])
    big = np.array([[1e4, 0.0, -1e4]], np.float32)
    assert_values(F.cross_entropy(*tensors(big, np.array([1]))), np.float32(1e4))


@pytest.mark.parametrize("smoothing", [0.0, 0.25])
def test_cross_entropy_with_class_probabilities(smoothing: float) -> None:
    x = random_array((4, 5))
    p = np.random.dirichlet(np.ones(5), 4).astype(np.float32)
    weight = np.random.uniform(0.5, 1.5, 5).astype(np.float32)
    q = ((1 - smoothing) * p + smoothing / 5) * weight
    expected = -(q * log_softmax(x, 1)).sum(axis=1).mean()
    out = F.cross_entropy(
        *tensors(x, p), weight=tinytorch.tensor(weight), label_smoothing=smoothing
    )
    assert_values(out, expected)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_picks_the_weighted_target_log_probability(reduction: str) -> None:
    log_p = log_softmax(random_array((7, 5)), 1)
    target, weight = np.array([0, 1, 2, 3, 4, 0, 3]), np.linspace(0.5, 1.5, 5, dtype=np.float32)
    counted = target != 3
    loss = -weight[target] * log_p[np.arange(7), target] * counted
    divisor = (weight[target] * counted).sum()
    expected = loss.sum() / divisor if reduction == "mean" else reduce(loss, reduction)
    out = F.nll_loss(
        *tensors(log_p, target), tinytorch.tensor(weight), ignore_index=3, reduction=reduction
    )
    assert_values(out, expected)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_clamps_its_logs(reduction: str) -> None:
    x = np.array([[0.0, 0.2, 0.5], [0.9, 1.0, 0.7]], np.float32)
    y = np.array([[0.3, 1.0, 0.0], [1.0, 0.0, 0.6]], np.float32)
    weight = np.array([0.5, 1.0, 2.0], np.float32)
    with np.errstate(divide="ignore"):
        log_x, log_not_x = np.maximum(np.log(x), -100), np.maximum(np.log(1 - x), -100)
    loss = -weight * (y * log_x + (1 - y) * log_not_x)
    out = F.binary_cross_entropy(*tensors(x, y), tinytorch.tensor(weight), reduction=reduction)
    assert_values(out, reduce(loss, reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits_and_pos_weight(reduction: str) -> None:
    x, y = random_array((3, 4)) * 3, np.random.uniform(0, 1, (3, 4)).astype(np.float32)
    weight, pos_weight = np.float32([0.5, 1, 1.5, 2]), np.float32([1, 2, 3, 0.5])
    loss = -weight * (pos_weight * y * np.log(sigmoid(x)) + (1 - y) * np.log(1 - sigmoid(x)))
    out = F.binary_cross_entropy_with_logits(
        *tensors(x, y),
        tinytorch.tensor(weight),
        pos_weight=tinytorch.tensor(pos_weight),
        reduction=reduction,
    )
    np.testing.assert_allclose(out.numpy(), reduce(loss, reduction), rtol=1e-4, atol=1e-5)
    plain = F.binary_cross_entropy_with_logits(*tensors(x, y), reduction=reduction)
    expected = -(y * np.log(sigmoid(x)) + (1 - y) * np.log(1 - sigmoid(x)))
    np.testing.assert_allclose(plain.numpy(), reduce(expected, reduction), rtol=1e-4, atol=1e-5)


def test_loss_layers_give_their_functions_values() -> None:
    x, target = random_array((4, 5)), np.random.randint(0, 5, 4)
    loss, _ = cross_entropy_rows(x, target, None, -100, 0.1)
    assert_values(nn.CrossEntropyLoss(label_smoothing=0.1)(*tensors(x, target)), loss.mean())
    y = random_array((4, 5))
    assert_values(nn.MSELoss(reduction="sum")(*tensors(x, y)), ((x - y) ** 2).sum())
