"""In-place operations under autograd: recorded as in PyTorch, checked by version counters.

Also: ``.numpy()`` on a tensor that requires grad, ``.grad`` arrays never shared between two
tensors, and no NumPy warnings for inf and nan results.
"""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import tinytorch
from tests.helpers import assert_close, torch_or_skip

pytestmark = pytest.mark.module05


def run_both(torch, program, *arrays):
    """Run ``program(lib, *leaves)`` on tinytorch and on PyTorch; return both results."""
    results = []
    for lib in (tinytorch, torch):
        leaves = [lib.tensor(array, requires_grad=True) for array in arrays]
        results.append((program(lib, *leaves), leaves))
    return results


def check_gradients_match(program, *arrays):
    """``program`` gives the same output and the same leaf gradients in both libraries."""
    torch = torch_or_skip()
    (mine, my_leaves), (theirs, their_leaves) = run_both(torch, program, *arrays)
    assert_close(mine, theirs)
    for my_leaf, their_leaf in zip(my_leaves, their_leaves, strict=True):
        if their_leaf.grad is None:
            assert my_leaf.grad is None
        else:
            assert_close(my_leaf.grad, their_leaf.grad)


def modified_message(torch, program, *arrays):
    """The error each library raises for ``program`` (None where it does not raise)."""
    messages = []
    for lib in (tinytorch, torch):
        leaves = [lib.tensor(array, requires_grad=True) for array in arrays]
        try:
            program(lib, *leaves)
            messages.append(None)
        except RuntimeError as error:
            messages.append(str(error))
    return messages


ROWS = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=np.float32)
ROW = np.array([0.3, -0.2, 1.1], dtype=np.float32)


# ------------------------------------------------------------------ parameters and leaves
def test_minus_equals_under_no_grad_updates_the_parameter_of_a_layer():
    layer = tinytorch.nn.Linear(3, 2)
    weight = layer.weight
    before = weight.detach().numpy().copy()
    layer(tinytorch.ones(4, 3)).sum().backward()
    with tinytorch.no_grad():
        for param in layer.parameters():
            param -= 0.1 * param.grad
    assert layer.weight is weight and isinstance(weight, tinytorch.nn.Parameter)
    np.testing.assert_allclose(weight.detach().numpy(), before - 0.1 * weight.grad.numpy())


@pytest.mark.parametrize("operator", ["+=", "-=", "*=", "/="])
def test_augmented_assignment_changes_the_tensor_in_place(operator):
    x = tinytorch.tensor([1.0, 2.0, 4.0])
    alias, view = x, x[1:]
    exec(f"x {operator} 2.0")
    expected = {"+=": [3, 4, 6], "-=": [-1, 0, 2], "*=": [2, 4, 8], "/=": [0.5, 1, 2]}
    assert x is alias and x.tolist() == expected[operator]
    assert view.tolist() == expected[operator][1:] and x._version == 1


@pytest.mark.parametrize(
    "update",
    [
        lambda x: x.__iadd__(1.0),
        lambda x: x.__isub__(1.0),
        lambda x: x.__imul__(2.0),
        lambda x: x.__itruediv__(2.0),
    ],
)
def test_augmented_assignment_on_a_leaf_that_requires_grad_raises_pytorchs_error(update):
    x = tinytorch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used"):
        update(x)


def test_in_place_on_a_view_of_a_leaf_that_requires_grad_raises_pytorchs_error():
    w = tinytorch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        w[0] -= 1


def test_in_place_errors_match_pytorch_for_bad_shapes_and_dtypes():
    with pytest.raises(RuntimeError, match="shape"):
        x = tinytorch.ones(3)
        x += tinytorch.ones(2, 3)
    with pytest.raises(RuntimeError):
        counts = tinytorch.ones(3, dtype=tinytorch.int64)
        counts += 1.5
    with pytest.raises(RuntimeError, match="single memory location"):
        tinytorch.ones(1, 3).expand(2, 3).add_(1)


# ------------------------------------------------------------------ recorded in-place writes
def test_minus_equals_at_an_index_of_a_non_leaf_is_recorded():
    def program(lib, x, w):
        h = x * w
        h[0] -= 1
        h[:, 1] *= 3
        return (h * h).sum()

    def run(lib, x, w):
        loss = program(lib, x, w)
        loss.backward()
        return loss

    check_gradients_match(run, ROWS, ROWS[::-1].copy())


def test_cross_entropy_gradient_by_hand_matches_pytorch():
    """The textbook trick ``grad = softmax(z); grad[range(n), y] -= 1`` on a copy."""

    def run(lib, z):
        probabilities = z.softmax(dim=1).clone()
        probabilities[lib.arange(2), lib.tensor([2, 0])] -= 1
        loss = (probabilities * probabilities).sum()
        loss.backward()
        return loss

    check_gradients_match(run, ROWS)


@pytest.mark.parametrize(
    "update",
    [
        lambda lib, h, w: h.add_(w),
        lambda lib, h, w: h.sub_(w, alpha=2),
        lambda lib, h, w: h.mul_(w),
        lambda lib, h, w: h.div_(w + 3),
        lambda lib, h, w: h.clamp_(-0.5, 0.5),
        lambda lib, h, w: h.masked_fill_(w > 0, 0.0),
        lambda lib, h, w: h.copy_(w * 2),
        lambda lib, h, w: h.fill_(w[1]),
        lambda lib, h, w: h.zero_(),
        lambda lib, h, w: h.__setitem__((slice(None), 0), w[:2]),
        lambda lib, h, w: h.__setitem__(h > 0, w.sum()),
        lambda lib, h, w: h[1].mul_(w),
        lambda lib, h, w: h.T[0].add_(w[:2]),
        lambda lib, h, w: h.reshape(6)[1:4].mul_(w),
        lambda lib, h, w: h.view(3, 2).mul_(w[:2]),
    ],
    ids=[
        "add_",
        "sub_alpha",
        "mul_",
        "div_",
        "clamp_",
        "masked_fill_",
        "copy_",
        "fill_tensor",
        "zero_",
        "setitem",
        "setitem_mask",
        "view_mul_",
        "transposed_view_add_",
        "view_of_view_mul_",
        "reshaped_view_mul_",
    ],
)
def test_in_place_op_on_a_non_leaf_is_recorded_like_pytorch(update):
    def run(lib, x, w):
        h = x * 2
        update(lib, h, w)
        loss = (h * h).sum()
        loss.backward()
        return loss

    check_gradients_match(run, ROWS, ROW)


def test_in_place_op_with_a_grad_input_makes_the_tensor_require_grad():
    w = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    x = tinytorch.zeros(3)
    x[:2] = w
    assert x.requires_grad and not x.is_leaf
    x.sum().backward()
    assert w.grad.tolist() == [1.0, 1.0]


def test_in_place_op_takes_the_grad_fn_of_the_operation():
    x = tinytorch.ones(3, requires_grad=True)
    h = x * 2
    h += 1
    assert repr(h.grad_fn) == "<AddBackward>"
    h[0] = 5.0
    assert repr(h.grad_fn) == "<IndexPutBackward>"


# ------------------------------------------------------------------ version counters
def test_every_in_place_write_bumps_the_version_shared_with_views():
    x = tinytorch.zeros(3)
    view, detached, data = x[:2], x.detach(), x.data
    x[0] = 1.0
    x += 1
    x.mul_(2)
    view.zero_()
    assert (x._version, view._version, detached._version) == (4, 4, 4)
    assert data._version == 0  # as in PyTorch, .data does not share the counter
    copy = x[[0, 1]]  # advanced indexing copies: a new counter
    x.add_(1)
    assert copy._version == 0 and x._version == 5


def test_versions_match_pytorch():
    torch = torch_or_skip()
    versions = []
    for lib in (tinytorch, torch):
        x = lib.zeros(4)
        x[1:3] += 1
        x.reshape(2, 2)[0].mul_(2)
        x.detach().fill_(3.0)
        versions.append(x._version)
    assert versions[0] == versions[1]


@pytest.mark.parametrize(
    "program",
    [
        lambda lib, x: x.exp().add_(1).sum().backward(),
        lambda lib, x: x.softmax(dim=1).__setitem__(0, 0.0) or None,
        lambda lib, x: _sub_at_index_of_softmax(x),
        lambda lib, x: _change_saved_input_under_no_grad(lib, x),
        lambda lib, x: _change_saved_input_through_a_view(lib, x),
        lambda lib, x: _change_the_input_of_a_linear_layer(lib, x),
    ],
    ids=[
        "exp_add_",
        "setitem_no_backward",
        "softmax_sub",
        "no_grad_change",
        "view_change",
        "linear_input",
    ],
)
def test_modified_saved_tensor_raises_like_pytorch(program):
    torch = torch_or_skip()
    mine, theirs = modified_message(torch, program, ROWS)
    assert (mine is None) == (theirs is None), (mine, theirs)
    if theirs is not None:
        expected = theirs.split("[")[0]
        assert mine.startswith(expected), mine
        assert theirs.split("]")[1].split(",")[-1] in mine  # "is at version N; expected M"


def _sub_at_index_of_softmax(x):
    probabilities = x.softmax(dim=1)
    probabilities[0] -= 1
    probabilities.sum().backward()


def _change_saved_input_under_no_grad(lib, x):
    h = x + 0
    y = h * h
    with lib.no_grad():
        h += 1
    y.sum().backward()


def _change_saved_input_through_a_view(lib, x):
    h = x + 0
    y = h.exp() * h
    h.detach()[0].zero_()
    y.sum().backward()


def _change_the_input_of_a_linear_layer(lib, x):
    inputs = lib.ones(4, 3)  # saved as rows, a reshaped view of its memory
    y = lib.nn.functional.linear(inputs, x)
    inputs.add_(1)
    y.sum().backward()


def test_modified_message_names_the_versions():
    x = tinytorch.tensor(ROWS, requires_grad=True)
    y = x.exp()
    y.add_(1)
    message = (
        r"one of the variables needed for gradient computation has been modified by an "
        r"inplace operation: \[tinytorch.float32 \[2, 3\]\], which is output 0 of ExpBackward, "
        r"is at version 1; expected version 0 instead"
    )
    with pytest.raises(RuntimeError, match=message):
        y.sum().backward()


def test_in_place_change_of_an_unsaved_input_is_allowed():
    x = tinytorch.tensor(ROWS, requires_grad=True)
    h = x * 1
    y = h + 1  # Add saves nothing
    with tinytorch.no_grad():
        h.zero_()
    y.sum().backward()
    assert x.grad.tolist() == np.ones_like(ROWS).tolist()


# ------------------------------------------------------------------ numpy() and .grad
def test_numpy_of_a_tensor_that_requires_grad_raises_pytorchs_error():
    w = tinytorch.ones(2, requires_grad=True)
    message = "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy()"
    with pytest.raises(RuntimeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        w.numpy()
    with pytest.raises(RuntimeError, match="requires grad"):
        (w * 2).numpy()
    assert np.shares_memory(w.detach().numpy(), w._data)


class SameArrayTwice(tinytorch.autograd.Function):
    """Backward returns one new array for both inputs (allowed: the engine copies)."""

    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        shared = grad * 1.0
        return shared, shared


def test_one_array_returned_for_two_leaves_is_not_shared_by_their_grads():
    a = tinytorch.ones(3, requires_grad=True)
    b = tinytorch.ones(3, requires_grad=True)
    SameArrayTwice.apply(a, b).sum().backward()
    assert not np.shares_memory(a.grad._data, b.grad._data)
    a.grad._data += 1
    assert b.grad.tolist() == [1.0, 1.0, 1.0]


def test_add_gives_two_leaves_their_own_grad_arrays():
    a = tinytorch.ones(3, requires_grad=True)
    b = tinytorch.ones(3, requires_grad=True)
    gradient = tinytorch.ones(3)
    (a + b).backward(gradient)
    grads = [a.grad._data, b.grad._data, gradient._data]
    assert not any(np.shares_memory(x, y) for i, x in enumerate(grads) for y in grads[i + 1 :])


# ------------------------------------------------------------------ no NumPy warnings
INF_AND_NAN = """
import tinytorch
tinytorch.log(tinytorch.tensor(0.0))
tinytorch.tensor(-1.0).log()
tinytorch.tensor([1.0, 0.0]) / 0
tinytorch.tensor(-4.0).sqrt()
tinytorch.tensor(1000.0).exp()
tinytorch.tensor(3e38) * 10
tinytorch.tensor(0.0) ** -1
tinytorch.tensor([0.0, -1.0], requires_grad=True).sqrt().sum().backward()
tinytorch.tensor([0.0], requires_grad=True).log().sum().backward()
"""


def test_inf_and_nan_results_give_no_warning():
    """In a fresh interpreter where every warning is an error (pytest imported tinytorch
    inside ``warnings.catch_warnings``, which drops the filter tinytorch adds on import)."""
    root = pathlib.Path(tinytorch.__file__).parent.parent
    environment = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", INF_AND_NAN],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_log_of_zero_is_minus_infinity_like_pytorch():
    torch = torch_or_skip()
    for value in (0.0, -1.0):
        mine, theirs = tinytorch.log(tinytorch.tensor(value)), torch.log(torch.tensor(value))
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
