"""The backward engine: graph recording, reuse, accumulation, freeing, deep graphs, grad modes."""

import numpy as np
import pytest

import tinytorch
from tests.helpers import assert_close, check_op, random_array
from tinytorch.autograd import Function

pytestmark = pytest.mark.module05


def test_reuse_b_equals_a_plus_a_then_c_equals_b_plus_b():
    a = tinytorch.tensor(3.0, requires_grad=True)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad.item() == 4.0


def test_input_used_in_several_branches():
    check_op(
        lambda lib, x: (x * 2).sum() + (x.exp() * x).mean() + x[0] * x[1] + (x @ x),
        random_array((4,)),
    )


def test_diamond_graph_runs_each_node_once():
    calls = []

    class Counted(tinytorch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, grad):
            calls.append(1)
            return grad

    x = tinytorch.ones(3, requires_grad=True)
    shared = Counted.apply(x)
    (shared * 2 + shared.exp() + shared.sum()).sum().backward()
    assert len(calls) == 1
    assert_close(x.grad, np.full(3, 2 + np.e + 3, np.float32))


def test_chain_of_100000_ops():
    x = tinytorch.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1e-5
    y.backward()
    assert x.grad.item() == 1.0 and y.item() == pytest.approx(2.0, rel=1e-3)


def test_deep_graph_can_be_dropped_without_backward():
    y = tinytorch.tensor(1.0, requires_grad=True)
    for _ in range(100_000):
        y = y * 1.0
    del y  # freeing a 100,000-node chain must not overflow the C stack


def test_leaf_grad_accumulates_across_backward_calls():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3).sum().backward()
    assert_close(x.grad, np.array([5.0, 7.0], np.float32))
    x.grad = None
    (x * 3).sum().backward()
    assert_close(x.grad, np.array([3.0, 3.0], np.float32))


def test_backward_twice_needs_retain_graph():
    x = tinytorch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert_close(x.grad, np.array([4.0, 8.0], np.float32))
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_graph_is_freed_after_backward():
    x = tinytorch.ones(3, requires_grad=True)
    y = x.exp()
    y.sum().backward()
    assert y.grad_fn.released and not hasattr(y.grad_fn, "saved_tensors")


def test_shared_subgraph_is_freed_by_the_first_backward():
    x = tinytorch.ones(2, requires_grad=True)
    y = x * 2
    y.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        (y * 3).sum().backward()


def test_backward_on_non_scalar_needs_gradient():
    y = tinytorch.ones(3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="scalar outputs"):
        y.backward()
    with pytest.raises(RuntimeError, match="shape"):
        y.backward(tinytorch.ones(2))


def test_backward_with_explicit_gradient():
    check_op(lambda lib, x: x * x, random_array((2, 3)))
    x = tinytorch.ones(2, 2, requires_grad=True)
    (x * 2).backward(gradient=tinytorch.tensor([[1.0, 0.0], [0.0, 3.0]]))
    assert x.grad.tolist() == [[2.0, 0.0], [0.0, 6.0]]


def test_backward_on_a_leaf_adds_the_gradient():
    x = tinytorch.ones(2, requires_grad=True)
    x.backward(tinytorch.tensor([1.0, 2.0]))
    assert x.grad.tolist() == [1.0, 2.0]


def test_gradient_seed_is_not_aliased_by_grad():
    seed = tinytorch.tensor([1.0, 1.0])
    x = tinytorch.ones(2, requires_grad=True)
    (x + 0).backward(seed)
    (x + 0).backward(seed)
    assert seed.tolist() == [1.0, 1.0] and x.grad.tolist() == [2.0, 2.0]


def test_is_leaf_requires_grad_and_grad_fn():
    x = tinytorch.ones(2, requires_grad=True)
    constant = tinytorch.ones(2)
    y = x * constant
    assert x.is_leaf and constant.is_leaf and not y.is_leaf
    assert y.requires_grad and y.grad_fn is not None and x.grad_fn is None
    assert not (constant * 2).requires_grad
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False


def test_requires_grad_underscore_switches_tracking():
    x = tinytorch.ones(2)
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not (x * 2).requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        tinytorch.ones(2, dtype=tinytorch.int64).requires_grad_()


def test_integer_results_do_not_require_grad():
    x = tinytorch.ones(3, requires_grad=True)
    assert not x.long().requires_grad and not (x > 0).requires_grad
    assert not x.argmax().requires_grad and not x.max(0).indices.requires_grad


def test_detach_leaves_the_graph():
    x = tinytorch.ones(2, requires_grad=True)
    y = (x * 2).detach() * x
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_retain_grad_keeps_a_non_leaf_gradient():
    check_op(lambda lib, x: _retained(x), random_array((3,)))
    x = tinytorch.ones(3, requires_grad=True)
    hidden = x * 2
    hidden.retain_grad()
    loss = (hidden * hidden).sum()
    loss.backward(retain_graph=True)
    assert hidden.grad.tolist() == [4.0, 4.0, 4.0]
    loss.backward()
    assert hidden.grad.tolist() == [8.0, 8.0, 8.0]  # accumulates, as on leaves
    assert (x * 2).grad is None


def _retained(x):
    hidden = x.exp()
    hidden.retain_grad()
    return hidden * 3


def test_no_grad_records_nothing():
    x = tinytorch.ones(2, requires_grad=True)
    with tinytorch.no_grad():
        y = x * 2
        assert not tinytorch.is_grad_enabled()
    assert tinytorch.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None


def test_enable_grad_inside_no_grad():
    x = tinytorch.ones(2, requires_grad=True)
    with tinytorch.no_grad():
        with tinytorch.enable_grad():
            y = x * 2
        z = x * 2
    assert y.requires_grad and not z.requires_grad


def test_set_grad_enabled_as_call_and_context_manager():
    x = tinytorch.ones(2, requires_grad=True)
    with tinytorch.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    tinytorch.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        tinytorch.set_grad_enabled(True)
    assert tinytorch.is_grad_enabled()


def test_grad_modes_as_decorators():
    x = tinytorch.ones(2, requires_grad=True)

    @tinytorch.no_grad()
    def evaluate(t):
        return t * 2

    @tinytorch.enable_grad()
    def train(t):
        return t * 2

    @tinytorch.set_grad_enabled(False)
    def frozen(t):
        return t * 2

    assert tinytorch.is_grad_enabled()  # decorating changes nothing by itself
    assert not evaluate(x).requires_grad and not frozen(x).requires_grad
    with tinytorch.no_grad():
        assert train(x).requires_grad
    assert evaluate.__name__ == "evaluate"


def test_grad_mode_restored_after_an_exception():
    with pytest.raises(ValueError):
        with tinytorch.no_grad():
            raise ValueError
    assert tinytorch.is_grad_enabled()


@pytest.mark.parametrize(
    "update",
    [
        lambda x: x.add_(1.0),
        lambda x: x.mul_(2.0),
        lambda x: x.zero_(),
        lambda x: x.fill_(1.0),
        lambda x: x.copy_(tinytorch.zeros(2)),
        lambda x: x.__setitem__(0, 5.0),
    ],
)
def test_in_place_on_a_leaf_that_requires_grad_raises(update):
    x = tinytorch.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        update(x)
    with tinytorch.no_grad():
        update(x)  # allowed where nothing is recorded (optimizer updates)


def test_backward_must_return_one_gradient_per_argument():
    class Forgetful(tinytorch.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, grad):
            return grad

    y = Forgetful.apply(tinytorch.ones(2, requires_grad=True), tinytorch.ones(2))
    with pytest.raises(RuntimeError, match="Forgetful.backward returned 1 gradients"):
        y.sum().backward()


def test_custom_function_with_non_tensor_arguments():
    class Scale(tinytorch.autograd.Function):
        @staticmethod
        def forward(ctx, x, factor):
            ctx.factor = factor
            return x * factor

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.factor, None

    x = tinytorch.ones(3, requires_grad=True)
    Scale.apply(x, 4.0).sum().backward()
    assert x.grad.tolist() == [4.0, 4.0, 4.0]


def test_no_grad_decorates_without_parentheses():
    weight = tinytorch.ones(2, requires_grad=True)

    @tinytorch.no_grad
    def doubled(x):
        return x * 2

    assert not doubled(weight).requires_grad
    assert tinytorch.is_grad_enabled()


def test_inference_mode_as_context_manager_and_decorator():
    w = tinytorch.ones(2, requires_grad=True)
    with tinytorch.inference_mode():
        assert not (w * 2).requires_grad and not tinytorch.is_grad_enabled()
    assert (w * 2).requires_grad

    @tinytorch.inference_mode
    def bare(x):
        return x * 2

    @tinytorch.inference_mode()
    def called(x):
        return x * 2

    assert not bare(w).requires_grad and not called(w).requires_grad
    assert tinytorch.is_grad_enabled() and (w * 2).requires_grad


def test_inference_mode_false_keeps_the_current_mode():
    w = tinytorch.ones(2, requires_grad=True)
    with tinytorch.inference_mode(False):
        assert (w * 2).requires_grad
    with tinytorch.no_grad(), tinytorch.inference_mode(False):
        assert not (w * 2).requires_grad
    with tinytorch.inference_mode(), tinytorch.enable_grad():
        assert (w * 2).requires_grad


def test_forward_reads_needs_input_grad_before_it_runs() -> None:
    # As in PyTorch, forward can skip work that only backward needs
    seen = []

    class Probe(Function):
        @staticmethod
        def forward(ctx, a, b, scale):
            seen.append(ctx.needs_input_grad)
            return a * b * scale

        @staticmethod
        def backward(ctx, grad):
            return grad, grad, None

    a, b = tinytorch.ones(2, requires_grad=True), tinytorch.ones(2)
    Probe.apply(a, b, 2.0)
    with tinytorch.no_grad():
        Probe.apply(a, b, 2.0)
    assert seen == [(True, False, False), (False, False, False)]
