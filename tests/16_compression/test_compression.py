"""tinytorch.compression: channel removal, distillation loss, low rank, sparse files (module 16).

The TinyDigits tests train small models for a few epochs (seconds): pruning then fine-tuning
stays near the dense accuracy, and the physically pruned model equals the masked one.
"""

import copy
import os

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tests.helpers import assert_close, torch_or_skip
from tinytorch.compression import (
    distillation_loss,
    factorize_linear,
    factorize_linears,
    from_bitmask,
    load_sparse,
    prune_channels,
    save_sparse,
    to_bitmask,
    truncated_svd,
)
from tinytorch.datasets import TinyDigits
from tinytorch.models import lenet5, mlp_classifier
from tinytorch.nn.utils import prune

pytestmark = pytest.mark.module16


# ---------------------------------------------------------------------- TinyDigits helpers
def digits(train: bool) -> tuple[tinytorch.Tensor, tinytorch.Tensor]:
    data = TinyDigits(train=train)
    return (data.data.float() / 255).reshape(len(data), 1, 8, 8), data.targets


def fit(model: nn.Module, images, labels, epochs: int, seed: int = 0, lr: float = 3e-3) -> None:
    tinytorch.manual_seed(seed)
    order_rng = np.random.default_rng(seed)
    optimizer = tinytorch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        order = order_rng.permutation(len(labels))
        for start in range(0, len(order), 64):
            batch = tinytorch.tensor(order[start : start + 64])
            loss = F.cross_entropy(model(images[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def accuracy(model: nn.Module, images, labels) -> float:
    with tinytorch.no_grad():
        return (model(images).argmax(1) == labels).float().mean().item()


@pytest.fixture(scope="module")
def trained_mlp():
    images, labels = digits(True)
    tinytorch.manual_seed(0)
    model = mlp_classifier(64, 128)
    fit(model, images.reshape(len(labels), -1), labels, epochs=10)
    return model


# ---------------------------------------------------------------------- channel removal
def mask_channels_like(model: nn.Sequential, amount: float) -> None:
    """Prune, with masks, the channels ``prune_channels`` removes (weights and biases)."""
    layers = [layer for layer in model if isinstance(layer, (nn.Linear, nn.Conv2d))]
    for layer in layers[:-1]:
        prune.ln_structured(layer, "weight", amount=amount, n=1, dim=0)
        kept = layer.weight_mask.detach().numpy().reshape(layer.weight.shape[0], -1).any(axis=1)
        prune.custom_from_mask(layer, "bias", mask=tinytorch.tensor(kept.astype(np.float32)))


@pytest.mark.parametrize("amount", [0.25, 0.5, 0.7])
def test_removed_channels_compute_what_the_masked_lenet_computes(amount: float) -> None:
    tinytorch.manual_seed(1)
    model = lenet5(28)
    small = prune_channels(model, amount)
    mask_channels_like(model, amount)
    x = tinytorch.randn(4, 1, 28, 28)
    assert_close(small(x), model(x), atol=1e-5)
    big = sum(p.numel() for p in model.parameters())
    assert sum(p.numel() for p in small.parameters()) < big * (1 - amount) ** 1.5


def test_removed_neurons_of_an_mlp_compute_what_the_masked_mlp_computes() -> None:
    tinytorch.manual_seed(2)
    model = mlp_classifier(20, 16)
    small = prune_channels(model, 0.5)
    assert [layer.out_features for layer in small if isinstance(layer, nn.Linear)] == [8, 4, 10]
    mask_channels_like(model, 0.5)
    x = tinytorch.randn(3, 20)
    assert_close(small(x), model(x), atol=1e-6)


def test_channel_pruning_goes_through_batch_norm() -> None:
    tinytorch.manual_seed(3)
    model = nn.Sequential(
        nn.Conv2d(2, 6, 3), nn.BatchNorm2d(6), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 4 * 4, 3)
    )
    with tinytorch.no_grad():
        model[1].running_mean.copy_(tinytorch.randn(6))
        model[1].weight.copy_(tinytorch.randn(6))
    model.eval()
    small = prune_channels(model, 0.5).eval()
    assert small[1].num_features == 3 and tuple(small[1].running_mean.shape) == (3,)
    mask_channels_like(model, 0.5)
    # a masked channel's batch norm output is its shift, so compare on the kept channels only
    x = tinytorch.randn(2, 2, 6, 6)
    kept = np.flatnonzero(model[0].bias_mask.detach().numpy())
    assert_close(small[:2](x), model[:2](x)[:, tinytorch.tensor(kept)], atol=1e-5)


def test_channel_pruning_refuses_what_it_cannot_do() -> None:
    with pytest.raises(ValueError, match=r"amount must be in \[0, 1\)"):
        prune_channels(lenet5(8), 1.0)
    with pytest.raises(TypeError, match="nn.Sequential"):
        prune_channels(nn.Linear(3, 3), 0.5)
    model = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    with pytest.raises(TypeError, match="cannot prune through layer 1 \\(LayerNorm\\)"):
        prune_channels(model, 0.5)


def test_channel_pruned_mlp_fine_tunes_near_its_dense_accuracy_on_tinydigits(trained_mlp):
    images, labels = digits(True)
    test_images, test_labels = digits(False)
    flat, test_flat = images.reshape(len(labels), -1), test_images.reshape(len(test_labels), -1)
    dense = accuracy(trained_mlp, test_flat, test_labels)
    small = prune_channels(trained_mlp, 0.5)
    assert sum(p.numel() for p in small.parameters()) < 0.45 * sum(
        p.numel() for p in trained_mlp.parameters()
    )
    fit(small, flat, labels, epochs=4, lr=1e-3)
    assert dense > 0.9
    assert accuracy(small, test_flat, test_labels) > dense - 0.04


# ---------------------------------------------------------------------- masked pruning
def test_global_pruning_to_90_percent_and_fine_tuning_stays_near_dense(trained_mlp) -> None:
    images, labels = digits(True)
    test_images, test_labels = digits(False)
    flat, test_flat = images.reshape(len(labels), -1), test_images.reshape(len(test_labels), -1)
    dense = accuracy(trained_mlp, test_flat, test_labels)
    model = copy.deepcopy(trained_mlp)
    linears = [(layer, "weight") for layer in model if isinstance(layer, nn.Linear)]
    prune.global_unstructured(linears, prune.L1Unstructured, amount=0.9)
    total = sum(layer.weight_mask.numel() for layer, _ in linears)
    kept = sum(layer.weight_mask.sum().item() for layer, _ in linears)
    assert kept == total - round(0.9 * total)
    fit(model, flat, labels, epochs=5)
    for layer, _ in linears:  # pruned weights stayed zero while fine-tuning
        assert np.all(layer.weight.detach().numpy()[layer.weight_mask.detach().numpy() == 0] == 0)
    assert dense > 0.9
    assert accuracy(model, test_flat, test_labels) > dense - 0.04


# ---------------------------------------------------------------------- distillation loss
@pytest.mark.parametrize("temperature, alpha", [(1.0, 0.5), (4.0, 0.9), (2.5, 1.0), (3.0, 0.0)])
def test_distillation_loss_matches_its_definition_in_pytorch(temperature, alpha) -> None:
    torch = torch_or_skip()
    rng = np.random.default_rng(0)
    student = rng.standard_normal((5, 7)).astype(np.float32)
    teacher = (3 * rng.standard_normal((5, 7))).astype(np.float32)
    target = rng.integers(0, 7, 5)
    ours = tinytorch.tensor(student, requires_grad=True)
    loss = distillation_loss(
        ours, tinytorch.tensor(teacher), tinytorch.tensor(target), temperature, alpha
    )
    theirs = torch.tensor(student, requires_grad=True)
    soft = torch.nn.functional.kl_div(
        torch.log_softmax(theirs / temperature, 1),
        torch.softmax(torch.tensor(teacher) / temperature, 1),
        reduction="batchmean",
    )
    hard = torch.nn.functional.cross_entropy(theirs, torch.tensor(target))
    expected = alpha * temperature**2 * soft + (1 - alpha) * hard
    assert_close(loss, expected, atol=1e-5)
    loss.backward()
    expected.backward()
    assert_close(ours.grad, theirs.grad, atol=1e-6)


def test_distillation_soft_gradient_is_the_probability_gap_over_t() -> None:
    rng = np.random.default_rng(1)
    student = tinytorch.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    teacher = tinytorch.tensor(rng.standard_normal((3, 4)))
    temperature = 2.0
    distillation_loss(student, teacher, tinytorch.tensor([0, 1, 2]), temperature, 1.0).backward()
    gap = F.softmax(student.detach() / temperature, 1) - F.softmax(teacher / temperature, 1)
    expected = temperature**2 * gap.detach().numpy() / temperature / 3  # T^2 (q - p) / T, batchmean
    np.testing.assert_allclose(student.grad.detach().numpy(), expected, atol=1e-12)


def test_the_teacher_gets_no_gradient_and_bad_settings_are_refused() -> None:
    teacher = tinytorch.randn(2, 3, requires_grad=True)
    student = tinytorch.randn(2, 3, requires_grad=True)
    distillation_loss(student, teacher, tinytorch.tensor([0, 1])).backward()
    assert teacher.grad is None and student.grad is not None
    with pytest.raises(ValueError, match="temperature must be > 0"):
        distillation_loss(student, teacher, tinytorch.tensor([0, 1]), temperature=0)
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
        distillation_loss(student, teacher, tinytorch.tensor([0, 1]), alpha=1.5)
    with pytest.raises(ValueError, match="same shape"):
        distillation_loss(student, tinytorch.randn(2, 4), tinytorch.tensor([0, 1]))


# ---------------------------------------------------------------------- low rank
def test_truncated_svd_is_the_best_rank_r_approximation() -> None:
    weight = np.random.default_rng(0).standard_normal((12, 8))
    singular = np.linalg.svd(weight, compute_uv=False)
    for rank in (1, 3, 8):
        outer, inner = truncated_svd(weight, rank)
        assert outer.shape == (12, rank) and inner.shape == (rank, 8)
        error = np.linalg.norm(weight - outer @ inner)
        np.testing.assert_allclose(error, np.sqrt((singular[rank:] ** 2).sum()), atol=1e-10)


def test_factorized_linear_computes_the_truncated_weight() -> None:
    tinytorch.manual_seed(0)
    layer = nn.Linear(10, 6)
    x = tinytorch.randn(4, 10)
    full = factorize_linear(layer, rank=6)
    assert_close(full(x), layer(x), atol=1e-5)
    low = factorize_linear(layer, rank=2)
    outer, inner = truncated_svd(layer.weight.detach().numpy(), 2)
    expected = x.detach().numpy() @ (outer @ inner).T + layer.bias.detach().numpy()
    np.testing.assert_allclose(low(x).detach().numpy(), expected, atol=1e-5)
    assert sum(p.numel() for p in low.parameters()) == 2 * 10 + 6 * 2 + 6
    with pytest.raises(ValueError, match="rank must be between 1 and 6"):
        factorize_linear(layer, rank=7)


def test_factorize_linears_replaces_only_layers_that_shrink(trained_mlp) -> None:
    model = factorize_linears(copy.deepcopy(trained_mlp), rank=16)
    assert isinstance(model[0], nn.Sequential)  # 64 -> 128: 16 * 192 < 64 * 128
    assert isinstance(model[4], nn.Linear)  # 64 -> 10: 16 * 74 > 640, kept
    test_images, test_labels = digits(False)
    flat = test_images.reshape(len(test_labels), -1)
    full = factorize_linears(copy.deepcopy(trained_mlp), rank=1.0)
    assert_close(full(flat), trained_mlp(flat), atol=1e-4)


# ---------------------------------------------------------------------- sparse files
def test_bitmask_round_trip() -> None:
    array = np.random.default_rng(0).standard_normal((5, 7)).astype(np.float32)
    array[array < 0.8] = 0
    bits, values = to_bitmask(array)
    assert bits.dtype == np.uint8 and bits.size == 5 and values.size == np.count_nonzero(array)
    np.testing.assert_array_equal(from_bitmask(bits, values, (5, 7)), array)


def test_sparse_file_of_a_pruned_model_is_smaller_and_loads_densely(tmp_path) -> None:
    tinytorch.manual_seed(0)
    model = mlp_classifier(64, 64)
    linears = [(layer, "weight") for layer in model if isinstance(layer, nn.Linear)]
    prune.global_unstructured(linears, prune.L1Unstructured, amount=0.9)
    sparse_path, dense_path = tmp_path / "sparse.tt", tmp_path / "dense.tt"
    save_sparse(model, sparse_path)
    for layer, name in linears:
        prune.remove(layer, name)
    tinytorch.save(model.state_dict(), dense_path)
    assert os.path.getsize(sparse_path) < os.path.getsize(dense_path) / 3
    fresh = mlp_classifier(64, 64)
    fresh.load_state_dict(load_sparse(sparse_path))
    x = tinytorch.randn(3, 64)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), model(x).detach().numpy())
    with pytest.raises(RuntimeError, match="not written by save_sparse"):
        load_sparse(dense_path)
