"""Embedding lookup (F.embedding, nn.Embedding) and positional encodings (module 11).

Tests that run backward need module 05 (autograd) as well and carry its marker.
"""

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
import tinytorch.nn.functional as F
from tests.helpers import assert_both_raise, check_op, torch_or_skip
from tinytorch.autograd import gradcheck
from tinytorch.ops.embedding import sum_rows_by_index

pytestmark = pytest.mark.module11
needs_autograd = pytest.mark.module05

REPEATED = np.array([[1, 3, 1], [0, 3, 3]])  # index 3 three times, 1 twice, 2 never


@needs_autograd
@pytest.mark.parametrize("padding_idx", [None, 3, -2])
def test_embedding_matches_pytorch_with_repeated_indices(padding_idx) -> None:
    weight = np.random.standard_normal((5, 4)).astype(np.float32)
    check_op(
        lambda lib, w, i: lib.nn.functional.embedding(i, w, padding_idx=padding_idx),
        weight,
        REPEATED,
    )


@needs_autograd
def test_embedding_scale_grad_by_freq_matches_pytorch() -> None:
    weight = np.random.standard_normal((5, 4)).astype(np.float32)
    check_op(
        lambda lib, w, i: lib.nn.functional.embedding(i, w, scale_grad_by_freq=True),
        weight,
        REPEATED,
    )


def test_embedding_max_norm_renormalises_looked_up_rows_like_pytorch() -> None:
    torch = torch_or_skip()
    weight = (3 * np.random.standard_normal((5, 4))).astype(np.float32)
    ours, theirs = tinytorch.tensor(weight), torch.tensor(weight)
    out = F.embedding(tinytorch.tensor(REPEATED), ours, max_norm=1.0)
    expected = torch.nn.functional.embedding(torch.tensor(REPEATED), theirs, max_norm=1.0)
    np.testing.assert_allclose(
        out.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert np.array_equal(ours.detach().numpy()[2], weight[2])  # not looked up: unchanged


@needs_autograd
def test_embedding_gradcheck() -> None:
    weight = tinytorch.randn(6, 3, dtype=tinytorch.float64, requires_grad=True)
    indices = tinytorch.tensor([[0, 5, 0], [2, 2, 2]])
    assert gradcheck(lambda w: F.embedding(indices, w), (weight,))  # padding_idx: no true grad


def test_sum_rows_by_index_equals_add_at() -> None:
    indices = np.random.randint(0, 7, 50)
    rows = np.random.standard_normal((50, 3))
    expected = np.zeros((9, 3))
    np.add.at(expected, indices, rows)
    np.testing.assert_allclose(sum_rows_by_index(indices, rows, 9, False), expected)


@needs_autograd
def test_embedding_module_padding_row_is_zero_and_gets_no_gradient() -> None:
    layer = nn.Embedding(10, 3, padding_idx=0)
    assert (
        np.all(layer.weight.detach().numpy()[0] == 0)
        and layer.weight.detach().numpy()[1:].std() > 0.5
    )
    layer(tinytorch.tensor([[0, 0, 4], [4, 9, 0]])).sum().backward()
    grad = layer.weight.grad.numpy()
    assert np.all(grad[0] == 0) and np.all(grad[4] == 2) and np.all(grad[9] == 1)


def test_embedding_module_state_dict_and_repr_match_pytorch() -> None:
    torch = torch_or_skip()
    ours, theirs = nn.Embedding(7, 4, padding_idx=2), torch.nn.Embedding(7, 4, padding_idx=2)
    theirs.load_state_dict({"weight": torch.tensor(ours.weight.detach().numpy())})
    ids = np.array([[6, 2, 0]])
    np.testing.assert_array_equal(
        ours(tinytorch.tensor(ids)).detach().numpy(), theirs(torch.tensor(ids)).detach().numpy()
    )
    assert repr(ours) == repr(theirs)


def test_embedding_from_pretrained_is_frozen_by_default() -> None:
    table = tinytorch.eye(3)
    layer = nn.Embedding.from_pretrained(table)
    assert not layer.weight.requires_grad
    assert layer(tinytorch.tensor([2])).tolist() == [[0.0, 0.0, 1.0]]
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad


def test_embedding_rejects_out_of_range_and_float_indices() -> None:
    weight = np.ones((4, 2), np.float32)
    assert_both_raise(lambda lib, w, i: lib.nn.functional.embedding(i, w), weight, np.array([4]))
    assert_both_raise(lambda lib, w, i: lib.nn.functional.embedding(i, w), weight, np.array([-1]))
    assert_both_raise(lambda lib, w, i: lib.nn.functional.embedding(i, w), weight, np.array([1.0]))
    with pytest.raises(IndexError, match=r"index 7 is out of range .* \[0, 3\]"):
        F.embedding(tinytorch.tensor([0, 7]), tinytorch.tensor(weight))
    with pytest.raises(AssertionError, match="padding_idx"):
        nn.Embedding(4, 2, padding_idx=4)


# ---------------------------------------------------------------------- positional encodings
def test_sinusoidal_encoding_adds_the_paper_table() -> None:
    encoding = nn.SinusoidalPositionalEncoding(d_model=6, max_len=20)
    out = encoding(tinytorch.zeros(2, 5, 6)).detach().numpy()
    position, i = 3, 1  # P[t, 2i] = sin(t / 10000^(2i/d)), P[t, 2i+1] = cos(...)
    angle = position / 10000 ** (2 * i / 6)
    np.testing.assert_allclose(
        out[1, position, 2 * i : 2 * i + 2], [np.sin(angle), np.cos(angle)], rtol=1e-6
    )
    assert list(encoding.parameters()) == [] and "pe" not in encoding.state_dict()
    assert nn.SinusoidalPositionalEncoding(5, 4)(tinytorch.zeros(4, 5)).shape == (4, 5)  # odd d


@needs_autograd
def test_learned_positional_embedding_learns_one_vector_per_position() -> None:
    encoding = nn.LearnedPositionalEmbedding(max_len=8, d_model=4)
    assert encoding.weight.shape == (8, 4) and encoding.weight.detach().numpy().std() < 0.05
    encoding(tinytorch.ones(3, 5, 4)).sum().backward()
    grad = encoding.weight.grad.numpy()
    assert np.all(grad[:5] == 3) and np.all(grad[5:] == 0)


def test_positional_encodings_reject_sequences_longer_than_max_len() -> None:
    for encoding in (nn.SinusoidalPositionalEncoding(4, 3), nn.LearnedPositionalEmbedding(3, 4)):
        with pytest.raises(ValueError, match="max_len=3"):
            encoding(tinytorch.zeros(1, 4, 4))
