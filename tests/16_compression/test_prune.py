"""tinytorch.nn.utils.prune against torch.nn.utils.prune (module 16)."""

import copy
import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinytorch
import tinytorch.nn as nn
from tests.helpers import assert_close, torch_or_skip
from tinytorch.nn.utils import prune

pytestmark = pytest.mark.module16


def torch_with_prune():
    """PyTorch with ``torch.nn.utils.prune`` imported (it is not imported by ``torch``)."""
    torch = torch_or_skip()
    importlib.import_module("torch.nn.utils.prune")
    return torch


def twin_linears(in_features: int = 6, out_features: int = 4, seed: int = 0):
    """A tinytorch Linear and a PyTorch Linear with the same (tie-free) weights."""
    torch = torch_with_prune()
    ours = nn.Linear(in_features, out_features)
    theirs = torch.nn.Linear(in_features, out_features)
    weights = np.random.default_rng(seed).permutation(in_features * out_features) + 1.0
    weights *= np.random.default_rng(seed + 1).choice([-1.0, 1.0], weights.size) / weights.size
    weights = weights.reshape(out_features, in_features).astype(np.float32)
    with tinytorch.no_grad():
        ours.weight.copy_(tinytorch.tensor(weights))
    theirs.weight.data = torch.tensor(weights)
    theirs.bias.data = torch.tensor(ours.bias.detach().numpy())
    return ours, theirs


def twin_convs(seed: int = 0):
    torch = torch_with_prune()
    ours, theirs = nn.Conv2d(3, 8, 3), torch.nn.Conv2d(3, 8, 3)
    weights = np.random.default_rng(seed).standard_normal((8, 3, 3, 3)).astype(np.float32)
    with tinytorch.no_grad():
        ours.weight.copy_(tinytorch.tensor(weights))
    theirs.weight.data = torch.tensor(weights)
    theirs.bias.data = torch.tensor(ours.bias.detach().numpy())
    return ours, theirs


# ---------------------------------------------------------------------- reparametrisation
def test_pruning_reparametrises_like_pytorch() -> None:
    torch = torch_with_prune()
    ours, theirs = twin_linears()
    prune.l1_unstructured(ours, "weight", amount=0.5)
    torch.nn.utils.prune.l1_unstructured(theirs, "weight", amount=0.5)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_buffers()] == ["weight_mask"]
    hooks = list(ours._forward_pre_hooks.values())
    assert len(hooks) == 1 and isinstance(hooks[0], prune.L1Unstructured)
    assert "weight" not in ours._parameters
    assert_close(ours.weight_mask, theirs.weight_mask)
    assert_close(ours.weight, theirs.weight)


@pytest.mark.parametrize("amount", [0.0, 0.3, 0.5, 1.0, 7, 24])
def test_l1_unstructured_matches_pytorch(amount: float) -> None:
    torch = torch_with_prune()
    ours, theirs = twin_linears()
    prune.l1_unstructured(ours, "weight", amount=amount)
    torch.nn.utils.prune.l1_unstructured(theirs, "weight", amount=amount)
    assert_close(ours.weight_mask, theirs.weight_mask)


def test_amount_rounds_like_python_round() -> None:
    torch = torch_with_prune()
    ours, theirs = nn.Linear(5, 1), torch.nn.Linear(5, 1)
    prune.l1_unstructured(ours, "weight", amount=0.5)  # round(2.5) == 2
    torch.nn.utils.prune.l1_unstructured(theirs, "weight", amount=0.5)
    assert ours.weight_mask.sum().item() == theirs.weight_mask.sum().item() == 3


@pytest.mark.parametrize("n", [1, 2, 3, float("inf"), float("-inf")])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_ln_structured_matches_pytorch(n, dim: int) -> None:
    torch = torch_with_prune()
    ours, theirs = twin_convs()
    prune.ln_structured(ours, "weight", amount=0.4, n=n, dim=dim)
    torch.nn.utils.prune.ln_structured(theirs, "weight", amount=0.4, n=n, dim=dim)
    assert_close(ours.weight_mask, theirs.weight_mask)
    assert_close(ours.weight, theirs.weight)


def test_ln_structured_fro_is_the_two_norm() -> None:
    torch = torch_with_prune()
    ours, theirs = twin_linears(seed=4)
    prune.ln_structured(ours, "weight", amount=2, n="fro", dim=0)
    torch.nn.utils.prune.ln_structured(theirs, "weight", amount=2, n="fro", dim=0)
    assert_close(ours.weight_mask, theirs.weight_mask)


def test_importance_scores_rank_the_weights() -> None:
    torch = torch_with_prune()
    ours, theirs = twin_linears()
    scores = np.random.default_rng(5).random((4, 6)).astype(np.float32)
    prune.l1_unstructured(ours, "weight", 0.5, importance_scores=tinytorch.tensor(scores))
    torch.nn.utils.prune.l1_unstructured(
        theirs, "weight", 0.5, importance_scores=torch.tensor(scores)
    )
    assert_close(ours.weight_mask, theirs.weight_mask)


def test_forward_uses_the_mask_and_gradients_reach_kept_weights_only() -> None:
    torch = torch_with_prune()
    ours, theirs = twin_linears()
    prune.l1_unstructured(ours, "weight", amount=0.6)
    torch.nn.utils.prune.l1_unstructured(theirs, "weight", amount=0.6)
    x = np.random.default_rng(2).standard_normal((5, 6)).astype(np.float32)
    ours_out, theirs_out = ours(tinytorch.tensor(x)), theirs(torch.tensor(x))
    assert_close(ours_out, theirs_out)
    (ours_out**2).sum().backward()
    (theirs_out**2).sum().backward()
    assert_close(ours.weight_orig.grad, theirs.weight_orig.grad)
    assert np.all(
        ours.weight_orig.grad.detach().numpy()[ours.weight_mask.detach().numpy() == 0] == 0
    )


def test_the_hook_recomputes_the_weight_after_orig_changes() -> None:
    layer = nn.Linear(3, 2)
    prune.random_unstructured(layer, "weight", amount=2)
    with tinytorch.no_grad():
        layer.weight_orig.add_(1.0)
    layer(tinytorch.zeros(1, 3))
    expected = layer.weight_orig.detach().numpy() * layer.weight_mask.detach().numpy()
    np.testing.assert_array_equal(layer.weight.detach().numpy(), expected)


# ---------------------------------------------------------------------- composing masks
@pytest.mark.parametrize(
    "first, second",
    [
        (("l1_unstructured", {"amount": 0.5}), ("l1_unstructured", {"amount": 0.5})),
        (("l1_unstructured", {"amount": 3}), ("l1_unstructured", {"amount": 0.25})),
        (("ln_structured", {"amount": 0.25, "n": 2, "dim": 0}), ("l1_unstructured", {"amount": 5})),
        (("l1_unstructured", {"amount": 0.3}), ("ln_structured", {"amount": 1, "n": 1, "dim": 1})),
        (
            ("ln_structured", {"amount": 1, "n": 1, "dim": 0}),
            ("ln_structured", {"amount": 0.5, "n": 2, "dim": 0}),
        ),
    ],
)
def test_pruning_twice_composes_like_pytorch(first, second) -> None:
    torch = torch_with_prune()
    ours, theirs = twin_linears(seed=3)
    for name, kwargs in (first, second):
        getattr(prune, name)(ours, "weight", **kwargs)
        getattr(torch.nn.utils.prune, name)(theirs, "weight", **kwargs)
    assert_close(ours.weight_mask, theirs.weight_mask)
    container = next(iter(ours._forward_pre_hooks.values()))
    assert isinstance(container, prune.PruningContainer) and len(container) == 2
    assert list(ours.state_dict()) == list(theirs.state_dict())


def test_second_fraction_applies_to_the_remaining_weights() -> None:
    layer = nn.Linear(10, 10)
    prune.l1_unstructured(layer, "weight", amount=0.5)
    prune.l1_unstructured(layer, "weight", amount=0.5)
    prune.l1_unstructured(layer, "weight", amount=0.5)
    assert layer.weight_mask.sum().item() == 13  # 100 -> 50 -> 25 -> 25 - round(12.5) = 13
    assert len(next(iter(layer._forward_pre_hooks.values()))) == 3


# ---------------------------------------------------------------------- random methods
def test_random_unstructured_prunes_the_count_and_repeats_with_the_seed() -> None:
    masks = []
    for _ in range(2):
        tinytorch.manual_seed(7)
        layer = nn.Linear(8, 5)
        prune.random_unstructured(layer, "weight", amount=0.35)
        masks.append(layer.weight_mask.detach().numpy())
    assert masks[0].sum() == 40 - 14
    assert set(np.unique(masks[0])) == {0.0, 1.0}
    np.testing.assert_array_equal(masks[0], masks[1])


@pytest.mark.parametrize("dim", [0, 1])
def test_random_structured_prunes_whole_slices(dim: int) -> None:
    conv = nn.Conv2d(4, 6, 3)
    prune.random_structured(conv, "weight", amount=0.5, dim=dim)
    mask = np.moveaxis(conv.weight_mask.detach().numpy(), dim, 0).reshape(
        conv.weight.shape[dim], -1
    )
    per_slice = mask.sum(axis=1)
    assert set(per_slice) <= {0.0, mask.shape[1]}
    assert (per_slice == 0).sum() == round(0.5 * conv.weight.shape[dim])


def test_identity_keeps_everything() -> None:
    layer = nn.Linear(3, 2)
    before = layer.weight.detach().numpy().copy()
    prune.identity(layer, "weight")
    assert layer.weight_mask.detach().numpy().all()
    np.testing.assert_array_equal(layer.weight.detach().numpy(), before)


# ---------------------------------------------------------------------- global pruning
def test_global_unstructured_matches_pytorch() -> None:
    torch = torch_with_prune()
    ours_a, theirs_a = twin_linears(6, 4, seed=0)
    ours_b, theirs_b = twin_linears(4, 3, seed=1)
    with tinytorch.no_grad():
        ours_b.weight.mul_(3.1)  # the second layer has larger weights: it loses fewer
    theirs_b.weight.data *= 3.1
    prune.global_unstructured(
        [(ours_a, "weight"), (ours_b, "weight")], prune.L1Unstructured, amount=0.6
    )
    torch.nn.utils.prune.global_unstructured(
        [(theirs_a, "weight"), (theirs_b, "weight")],
        torch.nn.utils.prune.L1Unstructured,
        amount=0.6,
    )
    assert_close(ours_a.weight_mask, theirs_a.weight_mask)
    assert_close(ours_b.weight_mask, theirs_b.weight_mask)
    kept = ours_a.weight_mask.sum().item() + ours_b.weight_mask.sum().item()
    assert kept == 36 - round(0.6 * 36)
    # and once more: the second amount applies to the weights still kept
    for module_pair, library in (((ours_a, ours_b), prune), ((theirs_a, theirs_b), None)):
        if library is None:
            torch.nn.utils.prune.global_unstructured(
                [(m, "weight") for m in module_pair], torch.nn.utils.prune.L1Unstructured, amount=5
            )
        else:
            prune.global_unstructured(
                [(m, "weight") for m in module_pair], prune.L1Unstructured, amount=5
            )
    assert_close(ours_a.weight_mask, theirs_a.weight_mask)
    assert_close(ours_b.weight_mask, theirs_b.weight_mask)


def test_global_unstructured_refuses_structured_methods() -> None:
    with pytest.raises(TypeError, match="unstructured"):
        prune.global_unstructured(
            [(nn.Linear(2, 2), "weight")], prune.LnStructured, amount=1, n=1, dim=0
        )
    with pytest.raises(TypeError, match="Iterable"):
        prune.global_unstructured(5, prune.L1Unstructured, amount=0.5)


# ---------------------------------------------------------------------- remove, is_pruned
def test_remove_makes_pruning_permanent_like_pytorch() -> None:
    torch = torch_with_prune()
    ours, theirs = twin_linears()
    prune.l1_unstructured(ours, "weight", amount=0.5)
    prune.l1_unstructured(ours, "weight", amount=0.5)
    torch.nn.utils.prune.l1_unstructured(theirs, "weight", amount=0.5)
    torch.nn.utils.prune.l1_unstructured(theirs, "weight", amount=0.5)
    assert prune.is_pruned(nn.Sequential(ours))
    prune.remove(ours, "weight")
    torch.nn.utils.prune.remove(theirs, "weight")
    assert not prune.is_pruned(ours)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert isinstance(ours.weight, nn.Parameter) and not ours._forward_pre_hooks
    assert_close(ours.weight, theirs.weight)


def test_remove_of_an_unpruned_parameter_is_an_error() -> None:
    with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
        prune.remove(nn.Linear(2, 2), "weight")


def test_pruned_state_dict_loads_into_a_pytorch_model_pruned_the_same_way() -> None:
    torch = torch_with_prune()
    ours, theirs = twin_linears()
    prune.l1_unstructured(ours, "weight", amount=0.5)
    torch.nn.utils.prune.identity(theirs, "weight")
    theirs.load_state_dict(
        {k: torch.tensor(v.detach().numpy()) for k, v in ours.state_dict().items()}
    )
    x = np.ones((1, 6), np.float32)
    assert_close(ours(tinytorch.tensor(x)), theirs(torch.tensor(x)))


def test_a_pruned_model_deep_copies() -> None:
    model = nn.Sequential(nn.Linear(3, 3))
    prune.l1_unstructured(model[0], "weight", amount=4)
    twin = copy.deepcopy(model)
    with tinytorch.no_grad():
        twin[0].weight_orig.fill_(1.0)
    twin(tinytorch.zeros(1, 3))
    assert twin[0].weight.sum().item() == 5
    assert prune.is_pruned(twin)


# ---------------------------------------------------------------------- errors
def test_missing_parameter_name_is_a_clear_error() -> None:
    with pytest.raises(AttributeError, match="no parameter 'wieght'.*'bias', 'weight'"):
        prune.l1_unstructured(nn.Linear(2, 2), "wieght", amount=0.5)


@pytest.mark.parametrize(
    "amount, error, message",
    [
        (1.5, ValueError, r"amount=1.5 should either be a float in the range \[0, 1\]"),
        (-0.1, ValueError, r"float in the range \[0, 1\] or a non-negative integer"),
        (-1, ValueError, "non-negative integer"),
        (7, ValueError, "amount=7 should be smaller than the number of parameters to prune=6"),
        ("half", TypeError, "Invalid type for amount"),
    ],
)
def test_bad_amounts_are_refused_like_pytorch(amount, error, message) -> None:
    torch = torch_with_prune()
    layer, reference = nn.Linear(3, 2), torch.nn.Linear(3, 2)
    with pytest.raises(error, match=message):
        prune.l1_unstructured(layer, "weight", amount=amount)
    with pytest.raises(error, match=message):
        torch.nn.utils.prune.l1_unstructured(reference, "weight", amount=amount)
    assert "weight" in layer._parameters and not layer._forward_pre_hooks


def test_structured_pruning_of_a_vector_is_refused() -> None:
    with pytest.raises(ValueError, match="multidimensional"):
        prune.ln_structured(nn.Linear(3, 2), "bias", amount=1, n=1, dim=0)


def test_importance_scores_of_the_wrong_shape_are_refused() -> None:
    with pytest.raises(ValueError, match="same shape"):
        prune.l1_unstructured(nn.Linear(3, 2), "weight", 1, importance_scores=tinytorch.ones(3))


# ---------------------------------------------------------------------- properties
@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(1, 6),
    cols=st.integers(1, 6),
    first=st.floats(0.0, 1.0),
    second=st.floats(0.0, 1.0),
)
def test_composed_amounts_count_the_remaining_weights(rows, cols, first, second) -> None:
    layer = nn.Linear(cols, rows)
    prune.l1_unstructured(layer, "weight", amount=first)
    prune.random_unstructured(layer, "weight", amount=second)
    total = rows * cols
    after_first = total - round(first * total)
    expected = after_first - round(second * after_first)
    mask = layer.weight_mask.detach().numpy()
    assert mask.sum() == expected
    assert set(np.unique(mask)) <= {0.0, 1.0}
    np.testing.assert_array_equal(
        layer.weight.detach().numpy(), layer.weight_orig.detach().numpy() * mask
    )
