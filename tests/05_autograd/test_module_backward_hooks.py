"""Module backward hooks (``register_full_backward_hook``, ``register_full_backward_pre_hook``)
against PyTorch: what the hooks see, what their return values change, and removal."""

import numpy as np
import pytest

import tinytorch
from tests.helpers import as_numpy, torch_or_skip

pytestmark = pytest.mark.module05


def two_outputs(lib):
    """A module with a tensor, a tensor that needs no grad and a number as inputs, and two
    outputs of which only the first is used."""

    class TwoOutputs(lib.nn.Module):
        def forward(self, x, y, scale):
            return x * y * scale, x + 1

    return TwoOutputs()


def shapes_and_values(grads):
    return [None if grad is None else as_numpy(grad).tolist() for grad in grads]


def run_two_outputs(lib):
    seen = []
    module = two_outputs(lib)
    module.register_full_backward_hook(
        lambda m, grad_input, grad_output: seen.append(
            (m is module, shapes_and_values(grad_input), shapes_and_values(grad_output))
        )
    )
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    used, _ = module(x, lib.tensor([3.0, 4.0]), 5.0)
    (used * lib.tensor([1.0, -1.0])).sum().backward()
    return seen, as_numpy(x.grad).tolist()


def test_hook_sees_grad_input_and_grad_output_as_pytorch() -> None:
    torch = torch_or_skip()
    expected = run_two_outputs(torch)
    assert run_two_outputs(tinytorch) == expected
    seen, _ = expected
    # zeros for the tensor that needs no gradient, None for the number and the unused output
    assert seen == [(True, [[15.0, -20.0], [0.0, 0.0], None], [[1.0, -1.0], None])]


def run_unused_input(lib):
    seen = []
    module = two_outputs(lib)
    module.register_full_backward_hook(lambda m, gi, go: seen.append(shapes_and_values(gi)))
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    _, plus_one = module(x, x * 3, 2.0)  # x * 3 requires grad but plus_one does not use it
    plus_one.sum().backward()
    return seen, as_numpy(x.grad).tolist()


def test_an_input_without_gradient_gets_zeros_as_in_pytorch() -> None:
    torch = torch_or_skip()
    assert run_unused_input(tinytorch) == run_unused_input(torch)


def run_replacement(lib, returned):
    """Linear -> Tanh -> Linear with a hook on the Tanh that returns ``returned(grad_input)``."""
    lib.manual_seed(0)
    first, second = lib.nn.Linear(3, 4), lib.nn.Linear(4, 2)
    with lib.no_grad():
        for layer, weights in ((first, np.arange(12.0).reshape(4, 3)), (second, np.ones((2, 4)))):
            layer.weight.copy_(lib.tensor(weights / 10, dtype=lib.float32))
            layer.bias.zero_()
    middle = lib.nn.Tanh()
    middle.register_full_backward_hook(lambda m, grad_input, grad_output: returned(grad_input))
    x = lib.tensor([[1.0, -1.0, 0.5]], requires_grad=True)
    second(middle(first(x))).sum().backward()
    return [as_numpy(t.grad) for t in (x, first.weight, first.bias)]


@pytest.mark.parametrize(
    "returned",
    [lambda grad_input: None, lambda grad_input: (grad_input[0] * 3,)],
    ids=["none", "tripled"],
)
def test_returned_grad_input_replaces_the_gradient_as_in_pytorch(returned) -> None:
    torch = torch_or_skip()
    for ours, theirs in zip(run_replacement(tinytorch, returned), run_replacement(torch, returned)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def run_pre_hook_and_order(lib):
    log = []
    layer = lib.nn.Linear(2, 2)
    layer.register_full_backward_pre_hook(
        lambda m, grad_output: (
            log.append(("pre", shapes_and_values(grad_output))) or (grad_output[0] * 2,)
        )
    )
    layer.register_full_backward_hook(
        lambda m, grad_input, grad_output: log.append(("hook", shapes_and_values(grad_output)))
    )
    x = lib.ones(1, 2, requires_grad=True)
    layer(x).sum().backward()
    return log, as_numpy(layer.bias.grad).tolist()


def test_pre_hook_replaces_grad_output_before_the_module_backward() -> None:
    torch = torch_or_skip()
    expected = run_pre_hook_and_order(torch)
    assert run_pre_hook_and_order(tinytorch) == expected
    assert expected[1] == [2.0, 2.0]  # the doubled grad_output reached the bias


def run_without_input_grad(lib):
    seen = []
    layer = lib.nn.Linear(2, 2)
    handle = layer.register_full_backward_hook(
        lambda m, grad_input, grad_output: seen.append((grad_input, len(grad_output)))
    )
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        layer(lib.ones(1, 2)).sum().backward()  # the input needs no gradient
    handle.remove()
    layer(lib.ones(1, 2)).sum().backward()
    with lib.no_grad():
        layer.register_full_backward_hook(lambda *args: seen.append("under no_grad"))
        layer(lib.ones(1, 2))
    return seen


def test_hook_without_input_gradient_and_after_remove_as_pytorch() -> None:
    torch = torch_or_skip()
    assert run_without_input_grad(tinytorch) == run_without_input_grad(torch) == [((None,), 1)]


def test_a_hook_returning_the_wrong_number_of_gradients_is_an_error() -> None:
    layer = tinytorch.nn.Linear(2, 2)
    layer.register_full_backward_hook(lambda m, grad_input, grad_output: (grad_input[0],) * 2)
    with pytest.raises(RuntimeError, match="invalid number of grad_input, got 2, but expected 1"):
        layer(tinytorch.ones(1, 2, requires_grad=True)).sum().backward()
    shaped = tinytorch.nn.Linear(2, 2)
    shaped.register_full_backward_hook(lambda m, gi, go: (tinytorch.ones(3),))
    with pytest.raises(RuntimeError, match=r"returned \(3,\) for grad_input\[0\]"):
        shaped(tinytorch.ones(1, 2, requires_grad=True)).sum().backward()


def test_hooks_fire_once_per_call_inside_a_model_and_keep_the_gradients() -> None:
    tinytorch.manual_seed(0)
    model = tinytorch.nn.Sequential(
        tinytorch.nn.Linear(3, 4), tinytorch.nn.ReLU(), tinytorch.nn.Linear(4, 1)
    )
    x = tinytorch.randn(5, 3, requires_grad=True)
    model(x).sum().backward()
    plain = [x.grad.numpy().copy()] + [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    x.grad = None
    calls = []
    for layer in model:
        layer.register_full_backward_hook(lambda m, gi, go: calls.append(type(m).__name__))
    model(x).sum().backward()
    hooked = [x.grad.numpy()] + [p.grad.numpy() for p in model.parameters()]
    assert calls == ["Linear", "ReLU", "Linear"]
    for ours, theirs in zip(hooked, plain, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
