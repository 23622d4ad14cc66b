"""Module hooks: forward pre-hooks and forward hooks with removable handles, as in PyTorch."""

import copy

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
from tests.helpers import torch_or_skip

pytestmark = pytest.mark.module03


def test_hooks_run_around_forward_in_registration_order() -> None:
    layer = nn.Linear(3, 2)
    calls = []
    layer.register_forward_pre_hook(lambda module, args: calls.append(("pre", module, args)))
    layer.register_forward_hook(lambda module, args, out: calls.append(("post", args, out)))
    x = tinytorch.ones(4, 3)
    output = layer(x)
    assert [call[0] for call in calls] == ["pre", "post"]
    assert calls[0][1] is layer and calls[0][2][0] is x
    assert calls[1][1][0] is x and calls[1][2] is output


def test_pre_hook_replaces_the_input_and_forward_hook_the_output() -> None:
    layer = nn.Identity()
    layer.register_forward_pre_hook(lambda module, args: args[0] * 2)  # a single value
    layer.register_forward_hook(lambda module, args, out: out + 1)
    np.testing.assert_array_equal(layer(tinytorch.tensor([1.0, 2.0])).numpy(), [3.0, 5.0])


def test_hooks_with_kwargs_see_and_replace_keyword_arguments() -> None:
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    module = Scale()
    seen = []
    module.register_forward_pre_hook(
        lambda m, args, kwargs: (args, {**kwargs, "factor": 10.0}), with_kwargs=True
    )
    module.register_forward_hook(
        lambda m, args, kwargs, out: seen.append(kwargs["factor"]), with_kwargs=True
    )
    assert module(tinytorch.tensor([2.0]), factor=3.0).item() == 20.0
    assert seen == [10.0]


def test_a_with_kwargs_pre_hook_must_return_args_and_kwargs() -> None:
    module = nn.Identity()
    module.register_forward_pre_hook(lambda m, args, kwargs: args, with_kwargs=True)
    with pytest.raises(RuntimeError, match="tuple of \\(new_args, new_kwargs\\)"):
        module(tinytorch.ones(1))


def test_remove_prepend_and_context_manager() -> None:
    layer = nn.Identity()
    order = []
    first = layer.register_forward_hook(lambda *a: order.append("first"))
    layer.register_forward_hook(lambda *a: order.append("front"), prepend=True)
    layer(tinytorch.ones(1))
    assert order == ["front", "first"]
    first.remove()
    first.remove()  # removing twice does nothing
    order.clear()
    with layer.register_forward_pre_hook(lambda *a: order.append("pre")):
        layer(tinytorch.ones(1))
    layer(tinytorch.ones(1))
    assert order == ["pre", "front", "front"]
    assert len(layer._forward_pre_hooks) == 0 and len(layer._forward_hooks) == 1


def test_hooks_on_submodules_fire_inside_a_container() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    shapes = {}
    for name, module in model.named_modules():
        module.register_forward_hook(
            lambda m, args, out, name=name: shapes.update({name: tuple(out.shape)})
        )
    model(tinytorch.ones(5, 2))
    assert shapes == {"0": (5, 3), "1": (5, 3), "2": (5, 1), "": (5, 1)}


def test_a_hook_must_be_callable() -> None:
    with pytest.raises(TypeError, match="callable"):
        nn.Identity().register_forward_hook("not a function")


def test_a_deep_copy_keeps_its_own_hooks() -> None:
    layer = nn.Identity()
    layer.register_forward_hook(lambda m, args, out: out * 0)
    clone = copy.deepcopy(layer)
    assert clone(tinytorch.ones(2)).sum().item() == 0.0
    clone._forward_hooks.clear()
    assert layer(tinytorch.ones(2)).sum().item() == 0.0


def test_hook_semantics_match_pytorch() -> None:
    torch = torch_or_skip()
    results = {}
    for lib in (torch, tinytorch):
        layer = lib.nn.Linear(2, 2)
        log = []
        layer.register_forward_pre_hook(lambda m, args, log=log: log.append("a") or (args[0] + 1,))
        handle = layer.register_forward_hook(lambda m, args, out, log=log: log.append("b"))
        layer.register_forward_hook(lambda m, args, out, log=log: log.append("c"), prepend=True)
        layer(lib.zeros(1, 2))
        handle.remove()
        layer(lib.zeros(1, 2))
        results[lib.__name__] = log
    assert results["tinytorch"] == results["torch"]
