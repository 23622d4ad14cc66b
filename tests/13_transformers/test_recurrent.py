"""RNN, LSTM, GRU and their cells against PyTorch, with PyTorch's weights loaded.

Sequence models sit with the transformers of module 13. Each case builds the same layer in
both libraries, loads PyTorch's ``state_dict`` into tinytorch's (so names, shapes and gate
order must match), and compares outputs, final states and every gradient in float64.
"""

from typing import Any

import numpy as np
import pytest

import tinytorch
import tinytorch.nn as nn
from tests.helpers import assert_close, torch_or_skip
from tinytorch.autograd import gradcheck

pytestmark = pytest.mark.module13

rng = np.random.default_rng(0)
TOL = {"atol": 1e-10, "rtol": 1e-10}


def values(*shape: int) -> np.ndarray:
    return rng.standard_normal(shape)


def twin_layers(kind: str, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    """The same layer in tinytorch and PyTorch (float64), PyTorch's weights in both."""
    torch = torch_or_skip()
    theirs = getattr(torch.nn, kind)(*args, **kwargs).double()
    ours = getattr(nn, kind)(*args, **kwargs).double()
    state = {
        name: tinytorch.tensor(value.detach().numpy())
        for name, value in theirs.state_dict().items()
    }
    ours.load_state_dict(state)  # strict: every name must exist on both sides
    assert [name for name, _ in ours.named_parameters()] == [
        name for name, _ in theirs.named_parameters()
    ]
    return ours, theirs


def as_pair(array: np.ndarray) -> tuple[Any, Any]:
    torch = torch_or_skip()
    return (
        tinytorch.tensor(array, requires_grad=True),
        torch.tensor(array, requires_grad=True),
    )


def compare_gradients(ours: Any, theirs: Any, pairs: list[tuple[Any, Any]]) -> None:
    for (name, mine), (_, reference) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert mine.grad is not None, name
        assert_close(mine.grad, reference.grad, **TOL)
    for mine, reference in pairs:
        assert_close(mine.grad, reference.grad, **TOL)


def backward_both(our_outputs: list[Any], their_outputs: list[Any]) -> None:
    """Backpropagate the same random weights of every output in both libraries."""
    torch = torch_or_skip()
    our_total, their_total = 0, 0
    for mine, reference in zip(our_outputs, their_outputs):
        assert_close(mine, reference, **TOL)
        weights = values(*reference.shape)
        our_total = our_total + (mine * tinytorch.tensor(weights)).sum()
        their_total = their_total + (reference * torch.tensor(weights)).sum()
    our_total.backward()
    their_total.backward()


# id -> (class, constructor keyword arguments)
NETWORKS = {
    "rnn": ("RNN", {}),
    "rnn_relu_2_layers": ("RNN", {"num_layers": 2, "nonlinearity": "relu"}),
    "rnn_bidirectional_batch_first": ("RNN", {"bidirectional": True, "batch_first": True}),
    "lstm": ("LSTM", {}),
    "lstm_deep_bidirectional": ("LSTM", {"num_layers": 3, "bidirectional": True}),
    "lstm_no_bias_batch_first": ("LSTM", {"bias": False, "batch_first": True}),
    "lstm_projection": ("LSTM", {"proj_size": 3, "num_layers": 2, "bidirectional": True}),
    "gru": ("GRU", {}),
    "gru_2_layers_bidirectional": ("GRU", {"num_layers": 2, "bidirectional": True}),
    "gru_batch_first_no_bias": ("GRU", {"batch_first": True, "bias": False}),
}


@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("case", NETWORKS)
def test_recurrent_network_against_pytorch(case: str, with_state: bool) -> None:
    kind, options = NETWORKS[case]
    ours, theirs = twin_layers(kind, 4, 5, **options)
    length, batch = 6, 3
    shape = (batch, length, 4) if options.get("batch_first") else (length, batch, 4)
    pairs = [as_pair(values(*shape))]
    args_ours, args_theirs = [pairs[0][0]], [pairs[0][1]]
    if with_state:
        layers = options.get("num_layers", 1) * (2 if options.get("bidirectional") else 1)
        pairs.append(as_pair(values(layers, batch, options.get("proj_size") or 5)))
        if kind == "LSTM":
            pairs.append(as_pair(values(layers, batch, 5)))
            args_ours.append((pairs[1][0], pairs[2][0]))
            args_theirs.append((pairs[1][1], pairs[2][1]))
        else:
            args_ours.append(pairs[1][0])
            args_theirs.append(pairs[1][1])
    our_out, our_state = ours(*args_ours)
    their_out, their_state = theirs(*args_theirs)
    our_states = list(our_state) if kind == "LSTM" else [our_state]
    their_states = list(their_state) if kind == "LSTM" else [their_state]
    backward_both([our_out, *our_states], [their_out, *their_states])
    compare_gradients(ours, theirs, pairs)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_unbatched_sequence(kind: str) -> None:
    ours, theirs = twin_layers(kind, 3, 4, num_layers=2)
    our_x, their_x = as_pair(values(5, 3))
    our_out, our_state = ours(our_x)
    their_out, their_state = theirs(their_x)
    our_h = our_state[0] if kind == "LSTM" else our_state
    their_h = their_state[0] if kind == "LSTM" else their_state
    assert tuple(our_h.shape) == (2, 4)
    backward_both([our_out, our_h], [their_out, their_h])
    compare_gradients(ours, theirs, [(our_x, their_x)])


def test_dropout_between_layers() -> None:
    """Training drops some outputs of the first layer; eval mode is deterministic."""
    lstm = nn.LSTM(3, 8, num_layers=2, dropout=0.5).double()
    x = tinytorch.tensor(values(4, 2, 3))
    lstm.eval()
    first, _ = lstm(x)
    again, _ = lstm(x)
    assert_close(first, again)
    lstm.train()
    dropped, _ = lstm(x)
    assert not np.allclose(dropped.detach().numpy(), first.detach().numpy())
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.GRU(3, 4, dropout=0.2)


CELLS = {
    "RNNCell": {},
    "RNNCell_relu": {"nonlinearity": "relu"},
    "LSTMCell": {},
    "LSTMCell_no_bias": {"bias": False},
    "GRUCell": {},
}


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("case", CELLS)
def test_cell_against_pytorch(case: str, with_state: bool, batched: bool) -> None:
    kind = case.split("_")[0]
    ours, theirs = twin_layers(kind, 4, 5, **CELLS[case])
    batch = (3,) if batched else ()
    pairs = [as_pair(values(*batch, 4))]
    if with_state:
        pairs += [as_pair(values(*batch, 5)) for _ in range(2 if kind == "LSTMCell" else 1)]
    our_args = [pairs[0][0]]
    their_args = [pairs[0][1]]
    if with_state:
        our_state = [p[0] for p in pairs[1:]]
        their_state = [p[1] for p in pairs[1:]]
        our_args.append(tuple(our_state) if kind == "LSTMCell" else our_state[0])
        their_args.append(tuple(their_state) if kind == "LSTMCell" else their_state[0])
    mine, reference = ours(*our_args), theirs(*their_args)
    mine = list(mine) if kind == "LSTMCell" else [mine]
    reference = list(reference) if kind == "LSTMCell" else [reference]
    backward_both(mine, reference)
    compare_gradients(ours, theirs, pairs)


def test_gru_gradcheck() -> None:
    """Backpropagation through time, checked by finite differences."""
    gru = nn.GRU(2, 3, bidirectional=True).double()
    x = tinytorch.tensor(values(4, 2, 2), requires_grad=True)
    h = tinytorch.tensor(values(2, 2, 3), requires_grad=True)
    assert gradcheck(lambda a, b: gru(a, b)[0], [x, h])


def test_default_initialisation_bounds() -> None:
    lstm = nn.LSTM(3, 16)
    for parameter in lstm.parameters():
        assert np.abs(parameter.detach().numpy()).max() <= 0.25  # 1 / sqrt(16)
    assert lstm.weight_ih_l0.shape == (64, 3)


def test_errors_and_repr() -> None:
    torch = torch_or_skip()
    for make in (
        lambda lib: lib.nn.RNN(3, 4, nonlinearity="foo"),
        lambda lib: lib.nn.GRU(3, 0),
        lambda lib: lib.nn.GRU(3, 4, dropout=2),
        lambda lib: lib.nn.RNN(3, 4, num_layers=0),
        lambda lib: lib.nn.LSTM(3, 4, proj_size=4),
    ):
        with pytest.raises(ValueError) as theirs:
            make(torch)
        with pytest.raises(type(theirs.value)):
            make(tinytorch)
    gru = nn.GRU(3, 4)
    with pytest.raises(RuntimeError, match="input_size"):
        gru(tinytorch.zeros(5, 2, 4))
    with pytest.raises(RuntimeError, match="hidden size"):
        gru(tinytorch.zeros(5, 2, 3), tinytorch.zeros(2, 2, 4))
    with pytest.raises(ValueError, match="2D or 3D"):
        gru(tinytorch.zeros(2, 5, 2, 3))
    with pytest.raises(TypeError, match="h_0, c_0"):
        nn.LSTM(3, 4)(tinytorch.zeros(5, 2, 3), tinytorch.zeros(1, 2, 4))
    with pytest.raises(RuntimeError, match="2-D"):
        nn.LSTM(3, 4)(tinytorch.zeros(5, 3), (tinytorch.zeros(1, 2, 4), tinytorch.zeros(1, 2, 4)))
    with pytest.raises(RuntimeError, match="does not fit"):
        nn.GRUCell(3, 4)(tinytorch.zeros(2, 3), tinytorch.zeros(3, 4))
    for make in (
        lambda lib: lib.nn.LSTM(3, 4, 2, bidirectional=True, proj_size=2, batch_first=True),
        lambda lib: lib.nn.GRU(3, 4, bias=False, dropout=0.5, num_layers=2),
        lambda lib: lib.nn.GRUCell(3, 4),
        lambda lib: lib.nn.RNNCell(3, 4, nonlinearity="relu"),
    ):
        assert repr(make(tinytorch)) == repr(make(torch))


@pytest.mark.parametrize("kind", ["GRU", "LSTM"])
def test_recurrent_classifier_learns(kind: str) -> None:
    """Whether a sequence of +-1 sums to more than 0: the network must count over time."""
    data = np.random.default_rng(1).choice([-1.0, 1.0], (128, 7, 1)).astype(np.float32)
    labels = tinytorch.tensor((data.sum(axis=(1, 2)) > 0).astype(np.int64))
    recurrent = getattr(nn, kind)(1, 8, batch_first=True)
    head = nn.Linear(8, 2)
    optimizer = tinytorch.optim.Adam([*recurrent.parameters(), *head.parameters()], lr=0.05)

    def scores() -> tinytorch.Tensor:
        _, state = recurrent(tinytorch.tensor(data))
        last_hidden = state[0] if kind == "LSTM" else state
        return head(last_hidden[-1])  # (N, 2) from the last layer's final h

    for _ in range(40):
        optimizer.zero_grad()
        nn.functional.cross_entropy(scores(), labels).backward()
        optimizer.step()
    accuracy = (scores().argmax(1).detach().numpy() == labels.detach().numpy()).mean()
    assert accuracy >= 0.95
