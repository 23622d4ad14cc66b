"""BatchNorm1d/2d (module 09) and LayerNorm (module 13) against PyTorch."""

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
from tests.helpers import assert_both_raise, assert_close, check_op, random_array
from tinytorch.autograd import gradcheck

pytestmark = pytest.mark.module05
batch_norm_module = pytest.mark.module09
layer_norm_module = pytest.mark.module13


def twins(name: str, *args, **kwargs):
    """The same layer in tinytorch and in PyTorch, with PyTorch holding our parameters."""
    torch = pytest.importorskip("torch")
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    for param in ours.parameters():
        param.data = tinytorch.randn(*param.shape)
    state = {key: torch.tensor(value.detach().numpy()) for key, value in ours.state_dict().items()}
    theirs.load_state_dict(state)
    return ours, theirs


# ---------------------------------------------------------------------- batch norm
@batch_norm_module
@pytest.mark.parametrize(
    "name, shape",
    [("BatchNorm1d", (6, 4)), ("BatchNorm1d", (5, 4, 3)), ("BatchNorm2d", (3, 4, 5, 2))],
)
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_training_steps_and_eval_match_pytorch(name, shape, momentum) -> None:
    ours, theirs = twins(name, 4, momentum=momentum)
    for _ in range(3):  # running statistics after several steps
        check_op(lambda lib, x: (ours if lib is tinytorch else theirs)(x), random_array(shape))
    for key in ("running_mean", "running_var", "num_batches_tracked"):
        assert_close(getattr(ours, key), getattr(theirs, key))
    ours.eval(), theirs.eval()
    check_op(lambda lib, x: (ours if lib is tinytorch else theirs)(x), random_array(shape))
    assert repr(ours) == repr(theirs)


@batch_norm_module
@pytest.mark.parametrize(
    "kwargs", [dict(affine=False), dict(track_running_stats=False), dict(bias=False)], ids=str
)
def test_batch_norm_options_match_pytorch(kwargs: dict) -> None:
    ours, theirs = twins("BatchNorm2d", 3, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for training in (True, False):
        ours.train(training), theirs.train(training)
        check_op(
            lambda lib, x: (ours if lib is tinytorch else theirs)(x), random_array((4, 3, 2, 2))
        )


@batch_norm_module
def test_batch_norm_functional_and_gradcheck() -> None:
    check_op(
        lambda lib, x, w, b: lib.nn.functional.batch_norm(
            x, None, None, w, b, training=True, eps=1e-3
        ),
        random_array((5, 3, 2)),
        random_array((3,)),
        random_array((3,)),
    )
    f64 = dict(dtype=tinytorch.float64, requires_grad=True)
    x, w, b = (
        tinytorch.randn(4, 3, 2, 2, **f64),
        tinytorch.randn(3, **f64),
        tinytorch.randn(3, **f64),
    )
    batch_norm = tinytorch.nn.functional.batch_norm
    assert gradcheck(lambda x, w, b: batch_norm(x, None, None, w, b, True), (x, w, b))
    mean, var = (
        tinytorch.randn(3, dtype=tinytorch.float64),
        tinytorch.rand(3, dtype=tinytorch.float64),
    )
    assert gradcheck(lambda x, w, b: batch_norm(x, mean, var, w, b, False), (x, w, b))


@batch_norm_module
def test_batch_norm_errors_match_pytorch() -> None:
    def batch_norm(lib, x, mean, var):
        return lib.nn.functional.batch_norm(x, mean, var, training=True)

    ones, zeros = np.ones(3, np.float32), np.zeros(3, np.float32)
    assert_both_raise(batch_norm, random_array((1, 3)), zeros, ones)  # one value per channel
    assert_both_raise(batch_norm, random_array((4, 2)), zeros, ones)  # wrong channel count
    torch = pytest.importorskip("torch")
    for name, shape in (("BatchNorm2d", (4, 3)), ("BatchNorm1d", (4, 3, 2, 2))):
        with pytest.raises(ValueError):
            getattr(torch.nn, name)(3)(torch.zeros(shape))
        with pytest.raises(ValueError, match="expected"):
            getattr(nn, name)(3)(tinytorch.zeros(*shape))


# ---------------------------------------------------------------------- layer norm
@layer_norm_module
@pytest.mark.parametrize("shape, normalized", [((4, 6), 6), ((2, 3, 4), (3, 4)), ((5,), (5,))])
@pytest.mark.parametrize("kwargs", [{}, dict(elementwise_affine=False), dict(bias=False)], ids=str)
def test_layer_norm_module_matches_pytorch(shape, normalized, kwargs) -> None:
    ours, theirs = twins("LayerNorm", normalized, **kwargs)
    check_op(lambda lib, x: (ours if lib is tinytorch else theirs)(x), random_array(shape))
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())


@layer_norm_module
def test_layer_norm_functional_and_gradcheck() -> None:
    check_op(
        lambda lib, x, w, b: lib.nn.functional.layer_norm(x, (3, 2), w, b, eps=1e-3),
        random_array((4, 3, 2)),
        random_array((3, 2)),
        random_array((3, 2)),
    )
    f64 = dict(dtype=tinytorch.float64, requires_grad=True)
    x, w, b = tinytorch.randn(3, 2, 4, **f64), tinytorch.randn(4, **f64), tinytorch.randn(4, **f64)
    layer_norm = tinytorch.nn.functional.layer_norm
    assert gradcheck(lambda x, w, b: layer_norm(x, (4,), w, b), (x, w, b))


@layer_norm_module
def test_layer_norm_errors_match_pytorch() -> None:
    assert_both_raise(lambda lib, x: lib.nn.functional.layer_norm(x, (4,)), random_array((4, 3)))
    assert_both_raise(
        lambda lib, x, w: lib.nn.functional.layer_norm(x, (3,), w),
        random_array((4, 3)),
        random_array((4,)),
    )
