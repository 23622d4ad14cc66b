"""Module: registration, traversal, modes, state_dict, printing (module 03)."""

import copy

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn

pytestmark = pytest.mark.module03


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.scale = nn.Parameter(tinytorch.ones(4))
        self.register_buffer("running_mean", tinytorch.zeros(4))
        self.register_buffer("scratch", tinytorch.zeros(2), persistent=False)
        self.note = "plain attribute"

    def forward(self, x: tinytorch.Tensor) -> tinytorch.Tensor:
        return self.fc(x) * self.scale


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block = Block()
        self.head = nn.Sequential(nn.ReLU(), nn.Linear(4, 2))

    def forward(self, x: tinytorch.Tensor) -> tinytorch.Tensor:
        return self.head(self.block(x))


def test_named_parameters_have_dotted_prefixes_in_registration_order() -> None:
    names = [name for name, _ in Net().named_parameters()]
    assert names == [
        "block.scale",
        "block.fc.weight",
        "block.fc.bias",
        "head.1.weight",
        "head.1.bias",
    ]


def test_parameters_without_recursion_are_the_modules_own() -> None:
    assert [p.shape for p in Block().parameters(recurse=False)] == [(4,)]


def test_plain_attributes_and_tensors_are_not_registered() -> None:
    block = Block()
    block.cache = tinytorch.ones(2)
    assert block.note == "plain attribute"
    assert len(list(block.parameters())) == 3
    assert "cache" not in block.state_dict()


def test_buffers_and_named_buffers() -> None:
    net = Net()
    assert [name for name, _ in net.named_buffers()] == ["block.running_mean", "block.scratch"]
    assert len(list(net.buffers())) == 2


def test_children_and_modules() -> None:
    net = Net()
    assert [name for name, _ in net.named_children()] == ["block", "head"]
    assert [type(m).__name__ for m in net.children()] == ["Block", "Sequential"]
    names = [name for name, _ in net.named_modules()]
    assert names == ["", "block", "block.fc", "head", "head.0", "head.1"]
    assert len(list(net.modules())) == 6


def test_tied_weight_is_yielded_once() -> None:
    model = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3))
    model[1].weight = model[0].weight
    params = list(model.parameters())
    assert len(params) == 3
    assert sum(p is model[0].weight for p in params) == 1
    assert "1.weight" in model.state_dict()


def test_shared_module_is_visited_once() -> None:
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert len(list(model.modules())) == 3


def test_reassigning_replaces_the_registration() -> None:
    block = Block()
    block.fc = nn.Identity()
    assert [name for name, _ in block.named_parameters()] == ["scale"]
    block.scale = None
    assert block.scale is None
    assert list(block.parameters()) == []
    del block.fc
    assert not hasattr(block, "fc")


def test_train_and_eval_reach_every_submodule() -> None:
    net = Net()
    assert net.training and net.head[1].training
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_zero_grad_sets_to_none_or_zero() -> None:
    layer = nn.Linear(2, 2)
    for p in layer.parameters():
        p.grad = tinytorch.ones(p.shape)
    layer.zero_grad(set_to_none=False)
    assert all(p.grad.numpy().sum() == 0 for p in layer.parameters())
    layer.zero_grad()
    assert all(p.grad is None for p in layer.parameters())


def test_apply_visits_children_then_self() -> None:
    visited = []
    Net().apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "Block", "ReLU", "Linear", "Sequential", "Net"]


def test_requires_grad_freezes_parameters() -> None:
    net = Net().requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_to_and_cpu_return_self_and_convert_dtype() -> None:
    net = Net()
    assert net.cpu() is net and net.to("cpu") is net
    weight = net.block.fc.weight
    assert net.to(tinytorch.float64) is net
    assert net.block.fc.weight is weight and weight.dtype == tinytorch.float64
    assert net.block.running_mean.dtype == tinytorch.float64
    assert net.float().block.fc.weight.dtype == tinytorch.float32


def test_call_runs_forward() -> None:
    assert Net()(tinytorch.randn(5, 3)).shape == (5, 2)


def test_state_dict_holds_parameters_and_persistent_buffers() -> None:
    state = Net().state_dict()
    assert list(state) == [
        "block.scale",
        "block.running_mean",
        "block.fc.weight",
        "block.fc.bias",
        "head.1.weight",
        "head.1.bias",
    ]
    assert not any(value.requires_grad for value in state.values())


def test_state_dict_round_trip_copies_values_into_the_same_parameters() -> None:
    source, target = Net(), Net()
    weight = target.block.fc.weight
    result = target.load_state_dict(copy.deepcopy(source.state_dict()))
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert target.block.fc.weight is weight
    for (name, mine), (_, theirs) in zip(
        target.state_dict().items(), source.state_dict().items(), strict=True
    ):
        np.testing.assert_array_equal(mine.detach().numpy(), theirs.detach().numpy(), err_msg=name)
    x = tinytorch.randn(2, 3)
    np.testing.assert_array_equal(source(x).detach().numpy(), target(x).detach().numpy())


def test_load_state_dict_non_strict_reports_keys() -> None:
    net = Net()
    state = net.state_dict()
    del state["head.1.bias"]
    state["extra"] = tinytorch.zeros(1)
    result = net.load_state_dict(state, strict=False)
    assert result.missing_keys == ["head.1.bias"]
    assert result.unexpected_keys == ["extra"]


def test_load_state_dict_missing_and_unexpected_keys_change_nothing() -> None:
    net = Net()
    before = net.block.fc.weight.detach().numpy().copy()
    state = {key: value + 1 for key, value in net.state_dict().items()}
    del state["head.1.bias"]
    state["head.2.weight"] = tinytorch.zeros(1)
    with pytest.raises(RuntimeError) as error:
        net.load_state_dict(state)
    assert "Missing key(s) in state_dict: 'head.1.bias'" in str(error.value)
    assert "Unexpected key(s) in state_dict: 'head.2.weight'" in str(error.value)
    np.testing.assert_array_equal(net.block.fc.weight.detach().numpy(), before)


def test_load_state_dict_shape_mismatch_changes_nothing() -> None:
    net = Net()
    before = net.block.scale.detach().numpy().copy()
    state = net.state_dict()
    state["block.scale"] = tinytorch.zeros(4) + 7
    state["head.1.weight"] = tinytorch.zeros(3, 4)
    with pytest.raises(
        RuntimeError, match=r"size mismatch for head.1.weight: .*\(3, 4\).*\(2, 4\)"
    ):
        net.load_state_dict(state, strict=False)
    np.testing.assert_array_equal(net.block.scale.detach().numpy(), before)


def test_load_state_dict_assign_puts_the_tensors_in_place() -> None:
    layer = nn.Linear(2, 2)
    new_weight = tinytorch.ones(2, 2)
    layer.load_state_dict({"weight": new_weight, "bias": tinytorch.zeros(2)}, assign=True)
    assert isinstance(layer.weight, nn.Parameter) and layer.weight.requires_grad
    assert layer.weight.detach().numpy() is new_weight.detach().numpy()


def test_repr_is_nested_like_pytorchs() -> None:
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Sequential(nn.Dropout(0.1), nn.Flatten()))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(2, 3),
        torch.nn.ReLU(),
        torch.nn.Sequential(torch.nn.Dropout(0.1), torch.nn.Flatten()),
    )
    assert repr(ours) == repr(theirs)


def test_deepcopy_gives_independent_parameters() -> None:
    net = Net()
    clone = copy.deepcopy(net)
    assert clone.block.fc.weight is not net.block.fc.weight
    np.testing.assert_array_equal(
        clone.block.fc.weight.detach().numpy(), net.block.fc.weight.detach().numpy()
    )


def test_register_parameter_buffer_and_module_by_name() -> None:
    module = nn.Module()
    module.register_parameter("w", nn.Parameter(tinytorch.ones(2)))
    module.register_buffer("b", None)
    module.add_module("child", nn.ReLU())
    assert [name for name, _ in module.named_parameters()] == ["w"]
    assert module.b is None and "b" not in module.state_dict()
    assert isinstance(module.child, nn.ReLU)


def test_forward_must_be_defined() -> None:
    with pytest.raises(
        NotImplementedError, match='Module \\[Module\\] is missing the required "forward"'
    ):
        nn.Module()(tinytorch.ones(1))


def test_assigning_a_parameter_before_init_is_an_error() -> None:
    class Broken(nn.Module):
        def __init__(self) -> None:
            self.w = nn.Parameter(tinytorch.ones(1))

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call"):
        Broken()


def test_assigning_a_tensor_to_a_parameter_name_is_an_error() -> None:
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'weight'"):
        layer.weight = tinytorch.ones(2, 2)


def test_register_names_are_checked() -> None:
    module = nn.Module()
    with pytest.raises(KeyError, match="empty or contain"):
        module.register_buffer("a.b", tinytorch.ones(1))
    with pytest.raises(TypeError, match="should be a string"):
        module.register_parameter(3, None)
    module.plain = 1
    with pytest.raises(KeyError, match="attribute 'plain' already exists"):
        module.register_buffer("plain", tinytorch.ones(1))


def test_unknown_attribute_error_names_the_module() -> None:
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'weights'"):
        _ = nn.Linear(2, 2).weights


def test_train_mode_must_be_bool() -> None:
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        nn.ReLU().train("eval")


def test_to_refuses_other_devices_and_integer_dtypes() -> None:
    with pytest.raises(RuntimeError, match="CPU only"):
        nn.Linear(2, 2).to("cuda")
    with pytest.raises(TypeError, match="only accepts floating point dtypes"):
        nn.Linear(2, 2).to(tinytorch.int64)
