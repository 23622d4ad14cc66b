"""Loss functions and loss layers (module 04).

Tests that run backward need module 05 (autograd) as well and carry its marker.
"""

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tests.helpers import check_op
from tinytorch.autograd import gradcheck

pytestmark = pytest.mark.module04
needs_autograd = pytest.mark.module05

rng = np.random.default_rng(0)
WEIGHT = rng.random(5).astype(np.float32) + 0.5
POS_WEIGHT = rng.random(5).astype(np.float32) * 3


def scores(*shape: int, scale: float = 3.0) -> np.ndarray:
    return np.asarray(rng.standard_normal(shape) * scale, dtype=np.float32)


def probabilities(*shape: int, axis: int = -1) -> np.ndarray:
    values = rng.random(shape).astype(np.float32)
    return values / values.sum(axis=axis, keepdims=True)


def classes(*shape: int) -> np.ndarray:
    return rng.integers(0, 5, shape)


# id -> (call with the library and its input tensors, input arrays)
CASES = {
    "mse": (lambda lib, x, y: lib.nn.functional.mse_loss(x, y), scores(4, 5), scores(4, 5)),
    "mse_sum_scalar": (
        lambda lib, x, y: lib.nn.functional.mse_loss(x, y, reduction="sum"),
        scores(),
        scores(),
    ),
    "mse_none": (
        lambda lib, x, y: lib.nn.functional.mse_loss(x, y, reduction="none"),
        scores(2, 1, 3),
        scores(2, 1, 3),
    ),
    "l1": (lambda lib, x, y: lib.nn.functional.l1_loss(x, y), scores(3, 4), scores(3, 4)),
    "l1_none": (
        lambda lib, x, y: lib.nn.functional.l1_loss(x, y, reduction="none"),
        scores(6),
        scores(6),
    ),
    "ce": (lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), scores(4, 5), classes(4)),
    "ce_one_row": (
        lambda lib, x, t: lib.nn.functional.cross_entropy(x, t),
        scores(1, 5),
        classes(1),
    ),
    "ce_unbatched": (lambda lib, x, t: lib.nn.functional.cross_entropy(x, t), scores(5), classes()),
    "ce_large_logits": (
        lambda lib, x, t: lib.nn.functional.cross_entropy(x, t),
        scores(4, 5, scale=1e4),
        classes(4),
    ),
    "ce_spatial_sum": (
        lambda lib, x, t: lib.nn.functional.cross_entropy(x, t, reduction="sum"),
        scores(2, 5, 3, 2),
        classes(2, 3, 2),
    ),
    "ce_none": (
        lambda lib, x, t: lib.nn.functional.cross_entropy(x, t, reduction="none"),
        scores(2, 5, 3),
        classes(2, 3),
    ),
    "ce_weight_ignore_smoothing": (
        lambda lib, x, t: lib.nn.functional.cross_entropy(
            x, t, lib.tensor(WEIGHT), ignore_index=2, label_smoothing=0.2
        ),
        scores(8, 5),
        classes(8),
    ),
    "ce_smoothing_none": (
        lambda lib, x, t: lib.nn.functional.cross_entropy(
            x, t, reduction="none", label_smoothing=0.3, ignore_index=1
        ),
        scores(6, 5),
        classes(6),
    ),
    "ce_probabilities": (
        lambda lib, x, p: lib.nn.functional.cross_entropy(x, p),
        scores(4, 5),
        probabilities(4, 5),
    ),
    "ce_probabilities_weight_smoothing": (
        lambda lib, x, p: lib.nn.functional.cross_entropy(
            x, p, lib.tensor(WEIGHT), label_smoothing=0.1, reduction="none"
        ),
        scores(3, 5, 2),
        probabilities(3, 5, 2, axis=1),
    ),
    "nll": (lambda lib, x, t: lib.nn.functional.nll_loss(x, t), scores(4, 5), classes(4)),
    "nll_weight_ignore": (
        lambda lib, x, t: lib.nn.functional.nll_loss(x, t, lib.tensor(WEIGHT), ignore_index=0),
        scores(7, 5),
        classes(7),
    ),
    "nll_spatial_none": (
        lambda lib, x, t: lib.nn.functional.nll_loss(x, t, reduction="none"),
        scores(2, 5, 3),
        classes(2, 3),
    ),
    "bce": (
        lambda lib, x, y: lib.nn.functional.binary_cross_entropy(x, y),
        probabilities(4, 3) * 0.98 + 0.01,
        probabilities(4, 3),
    ),
    "bce_weight_none": (
        lambda lib, x, y: lib.nn.functional.binary_cross_entropy(
            x, y, lib.tensor(WEIGHT), reduction="none"
        ),
        probabilities(2, 5) * 0.98 + 0.01,
        probabilities(2, 5),
    ),
    "bce_logits": (
        lambda lib, x, y: lib.nn.functional.binary_cross_entropy_with_logits(x, y),
        scores(4, 3),
        probabilities(4, 3),
    ),
    "bce_logits_large_pos_weight": (
        lambda lib, x, y: lib.nn.functional.binary_cross_entropy_with_logits(
            x, y, lib.tensor(WEIGHT), pos_weight=lib.tensor(POS_WEIGHT), reduction="sum"
        ),
        scores(3, 5, scale=100.0),
        probabilities(3, 5),
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_forward_matches_pytorch(case: str) -> None:
    call, *arrays = CASES[case]
    check_op(call, *arrays, grad=False)


def test_binary_cross_entropy_clamps_its_logs_like_pytorch() -> None:
    x = np.array([0.0, 1.0, 0.0, 1.0], np.float32)
    y = np.array([0.0, 1.0, 1.0, 0.0], np.float32)
    check_op(
        lambda lib, x, y: lib.nn.functional.binary_cross_entropy(x, y, reduction="none"),
        x,
        y,
        grad=False,
    )
    assert F.binary_cross_entropy(tinytorch.tensor(x), tinytorch.tensor(y)).item() == pytest.approx(
        50.0
    )


def test_cross_entropy_of_uniform_scores_is_log_classes() -> None:
    loss = F.cross_entropy(tinytorch.zeros(2, 4), tinytorch.tensor([0, 3]))
    assert loss.item() == pytest.approx(np.log(4))
    assert loss.shape == () and loss.dtype == tinytorch.float32


def test_cross_entropy_equals_log_softmax_then_nll() -> None:
    x, t = tinytorch.tensor(scores(6, 5)), tinytorch.tensor(classes(6))
    expected = F.nll_loss(F.log_softmax(x, dim=1), t)
    assert F.cross_entropy(x, t).item() == pytest.approx(expected.item(), rel=1e-6)


def test_float64_losses_stay_float64() -> None:
    x = tinytorch.randn(3, 5, dtype=tinytorch.float64)
    assert F.cross_entropy(x, tinytorch.tensor([0, 1, 2])).dtype == tinytorch.float64
    assert F.mse_loss(x, x * 2).dtype == tinytorch.float64


# (a builder of the loss layer, given tinytorch or torch; the case of its inputs)
MODULES = [
    (lambda lib: lib.nn.MSELoss(reduction="sum"), "mse"),
    (lambda lib: lib.nn.L1Loss(), "l1"),
    (
        lambda lib: lib.nn.CrossEntropyLoss(
            lib.tensor(WEIGHT), ignore_index=2, label_smoothing=0.2
        ),
        "ce_weight_ignore_smoothing",
    ),
    (lambda lib: lib.nn.NLLLoss(reduction="none"), "nll"),
    (lambda lib: lib.nn.BCELoss(), "bce"),
    (
        lambda lib: lib.nn.BCEWithLogitsLoss(pos_weight=lib.tensor(POS_WEIGHT[:3])),
        "bce_logits",
    ),
]


@needs_autograd  # check_op compares gradients too
@pytest.mark.parametrize(("build", "case"), MODULES, ids=[case for _, case in MODULES])
def test_loss_modules_match_pytorch(build, case: str) -> None:
    torch = pytest.importorskip("torch")
    ours, theirs = build(tinytorch), build(torch)
    _, *arrays = CASES[case]
    check_op(lambda lib, *tensors: (ours if lib is tinytorch else theirs)(*tensors), *arrays)
    assert repr(ours) == repr(theirs)


def test_loss_weights_are_buffers_in_the_state_dict() -> None:
    criterion = nn.CrossEntropyLoss(tinytorch.ones(3))
    assert list(criterion.state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []


# ---------------------------------------------------------------------- errors
def test_cross_entropy_rejects_target_of_wrong_shape() -> None:
    with pytest.raises(
        RuntimeError,
        match=r"target of shape \(4, 1\) does not fit input of shape \(4, 3\).*shape \(4,\)",
    ):
        F.cross_entropy(tinytorch.zeros(4, 3), tinytorch.zeros(4, 1, dtype=tinytorch.int64))


def test_cross_entropy_rejects_out_of_range_class() -> None:
    with pytest.raises(IndexError, match=r"cross_entropy: target 3 is out of bounds: .*\[0, 2\]"):
        F.cross_entropy(tinytorch.zeros(2, 3), tinytorch.tensor([0, 3]))
    with pytest.raises(IndexError, match="target -1 is out of bounds"):
        F.cross_entropy(tinytorch.zeros(2, 3), tinytorch.tensor([0, -1]))


def test_cross_entropy_rejects_probabilities_of_wrong_shape() -> None:
    with pytest.raises(
        RuntimeError,
        match=r"class probabilities of shape \(4,\) must have the input's shape \(4, 3\)",
    ):
        F.cross_entropy(tinytorch.zeros(4, 3), tinytorch.zeros(4))


def test_nll_loss_rejects_probabilities() -> None:
    with pytest.raises(
        TypeError,
        match="nll_loss: target must hold int64 class indices, got dtype tinytorch.float32",
    ):
        F.nll_loss(tinytorch.zeros(2, 3), tinytorch.zeros(2, 3))


def test_class_losses_reject_0d_input_and_wrong_weight() -> None:
    with pytest.raises(ValueError, match="cross_entropy: input must have a class dimension"):
        F.cross_entropy(tinytorch.tensor(1.0), tinytorch.tensor(0))
    with pytest.raises(
        RuntimeError,
        match=r"nll_loss: weight of shape \(2,\) must have one entry per class, shape \(3,\)",
    ):
        F.nll_loss(tinytorch.zeros(2, 3), tinytorch.tensor([0, 1]), tinytorch.ones(2))


def test_cross_entropy_rejects_bad_label_smoothing() -> None:
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0, got 1.5"):
        F.cross_entropy(tinytorch.zeros(2, 3), tinytorch.tensor([0, 1]), label_smoothing=1.5)


def test_unknown_reduction_is_rejected_by_functions_and_modules() -> None:
    with pytest.raises(ValueError, match="mse_loss: 'avg' is not a valid value for reduction"):
        F.mse_loss(tinytorch.zeros(2), tinytorch.zeros(2), reduction="avg")
    with pytest.raises(ValueError, match="CrossEntropyLoss: 'elementwise_mean' is not a valid"):
        nn.CrossEntropyLoss(reduction="elementwise_mean")


def test_mse_loss_warns_when_it_broadcasts_and_rejects_incompatible_shapes() -> None:
    with pytest.warns(
        UserWarning, match=r"target size \(4, 1\) that is different to the input size \(4,\)"
    ):
        F.mse_loss(tinytorch.zeros(4), tinytorch.zeros(4, 1))
    with pytest.raises(
        RuntimeError,
        match=r"l1_loss: input of shape \(4,\) and target of shape \(3,\) cannot be broadcast",
    ):
        F.l1_loss(tinytorch.zeros(4), tinytorch.zeros(3))


def test_binary_losses_reject_shape_mismatch_and_integer_targets() -> None:
    with pytest.raises(
        ValueError,
        match=r"binary_cross_entropy: target of shape \(4, 1\) must have the same shape",
    ):
        F.binary_cross_entropy(tinytorch.zeros(4), tinytorch.zeros(4, 1))
    with pytest.raises(
        TypeError, match="binary_cross_entropy_with_logits: target must be floating point"
    ):
        F.binary_cross_entropy_with_logits(tinytorch.zeros(2), tinytorch.tensor([0, 1]))


def test_binary_cross_entropy_rejects_values_outside_zero_one() -> None:
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(tinytorch.tensor([1.5]), tinytorch.tensor([1.0]))


# ---------------------------------------------------------------------- backward (module 05)
@needs_autograd
@pytest.mark.parametrize("case", CASES)
def test_backward_matches_pytorch(case: str) -> None:
    call, *arrays = CASES[case]
    check_op(call, *arrays)


@needs_autograd
@pytest.mark.parametrize("case", CASES)
def test_gradient_matches_finite_differences_in_float64(case: str) -> None:
    call, *arrays = CASES[case]
    if "large" in case:
        pytest.skip("finite differences need moderate inputs")
    inputs = [
        tinytorch.tensor(a, dtype=tinytorch.float64, requires_grad=True)
        if a.dtype.kind == "f"
        else tinytorch.tensor(a)
        for a in arrays
    ]
    assert gradcheck(lambda *tensors: call(tinytorch, *tensors), inputs)


@needs_autograd
def test_cross_entropy_with_all_rows_ignored_gives_no_gradient_nan_free_sum() -> None:
    x = tinytorch.zeros(2, 3, requires_grad=True)
    F.cross_entropy(x, tinytorch.tensor([-100, -100]), reduction="sum").backward()
    assert x.grad.numpy().tolist() == [[0.0] * 3] * 2
