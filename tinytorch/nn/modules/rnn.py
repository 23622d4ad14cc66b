"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and their single-step ``*Cell`` forms.

A recurrent layer reads a sequence one step at a time and carries a hidden state h from
step to step. With x_t the input at step t and W_ih, W_hh (b_ih, b_hh) the input and
hidden weights (biases), the gates of all kinds are computed together in one matrix product
of each kind per step, in PyTorch's gate order:

    RNN:   h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)                (or relu)
    LSTM:  i, f, g, o = split(x W_ih^T + b_ih + h W_hh^T + b_hh, 4)
           c' = sigmoid(f) c + sigmoid(i) tanh(g);   h' = sigmoid(o) tanh(c')
           (with proj_size > 0: h' = (sigmoid(o) tanh(c')) W_hr^T)
    GRU:   r, z, n from x W_ih^T + b_ih (a) and h W_hh^T + b_hh (b), each split in 3:
           r = sigmoid(a_r + b_r);  z = sigmoid(a_z + b_z);  n = tanh(a_n + r * b_n)
           h' = (1 - z) n + z h

The time loop is Python; each step is a few tensor operations on the whole batch, and
backpropagation through time is the ordinary autograd engine walking the recorded steps.
Parameter names are PyTorch's (``weight_ih_l0``, ``bias_hh_l1_reverse``, ``weight_hr_l0``),
so a ``state_dict`` loads from one library into the other. Packed sequences are not
supported: pad the batch and, if needed, mask the outputs.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from tinytorch import dtypes
from tinytorch.creation import empty, zeros
from tinytorch.functions import cat, stack
from tinytorch.nn import functional as F
from tinytorch.nn import init
from tinytorch.nn.modules.module import Module
from tinytorch.nn.parameter import Parameter
from tinytorch.tensor import Tensor

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
"""How many gate blocks of ``hidden_size`` rows each weight matrix stacks, per mode."""

State = Tensor | tuple[Tensor, Tensor]
"""A hidden state h (N, H_out), or (h, c) for an LSTM."""


# ---------------------------------------------------------------------- one step of each kind
def rnn_step(
    projected: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, nonlinearity: str
) -> Tensor:
    """h' = act(projected + h W_hh^T + b_hh), projected = x W_ih^T + b_ih. (N, H)."""
    total = projected + F.linear(h, w_hh, b_hh)
    return F.tanh(total) if nonlinearity == "tanh" else F.relu(total)


def lstm_step(
    projected: Tensor,
    state: tuple[Tensor, Tensor],
    w_hh: Tensor,
    b_hh: Tensor | None,
    w_hr: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """(h', c') from projected = x W_ih^T + b_ih (N, 4H), h (N, H_out) and c (N, H)."""
    h, c = state
    gates = projected + F.linear(h, w_hh, b_hh)  # (N, 4H): i, f, g, o side by side
    input_gate, forget_gate, candidate, output_gate = gates.chunk(4, -1)
    c = F.sigmoid(forget_gate) * c + F.sigmoid(input_gate) * F.tanh(candidate)
    h = F.sigmoid(output_gate) * F.tanh(c)
    if w_hr is not None:
        h = F.linear(h, w_hr)  # (N, H) -> (N, proj_size)
    return h, c


def gru_step(projected: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    """h' from projected = x W_ih^T + b_ih (N, 3H) and h (N, H)."""
    from_input = projected.chunk(3, -1)  # r, z, n parts of x W_ih^T + b_ih
    from_hidden = F.linear(h, w_hh, b_hh).chunk(3, -1)
    reset = F.sigmoid(from_input[0] + from_hidden[0])
    update = F.sigmoid(from_input[1] + from_hidden[1])
    candidate = F.tanh(from_input[2] + reset * from_hidden[2])
    return (1 - update) * candidate + update * h


def uniform_parameters(module: Module, hidden_size: int) -> None:
    """PyTorch's initialisation of recurrent layers: every weight and bias uniform on
    [-1/sqrt(hidden_size), 1/sqrt(hidden_size)]."""
    bound = 1 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for parameter in module.parameters():
        init.uniform_(parameter, -bound, bound)


def check_sizes(name: str, input_size: int, hidden_size: int) -> None:
    if input_size < 0 or hidden_size <= 0:
        raise ValueError(
            f"{name}: hidden_size must be greater than zero and input_size non-negative, got "
            f"input_size={input_size}, hidden_size={hidden_size}"
        )


def check_features(name: str, input: Tensor, input_size: int) -> None:  # noqa: A002
    if input.shape[-1] != input_size:
        raise RuntimeError(
            f"{name}: input.size(-1) must be equal to input_size. Expected {input_size}, got "
            f"{input.shape[-1]} (input of shape {tuple(input.shape)})"
        )


# ---------------------------------------------------------------------- multi-layer networks
class RNNBase(Module):
    """What RNN, LSTM and GRU share: parameters per layer and direction, the layer loop.

    Shapes (L = sequence length, N = batch, D = 2 if bidirectional else 1):
    input (L, N, H_in), or (N, L, H_in) with ``batch_first``, or unbatched (L, H_in);
    initial state h_0 (D * num_layers, N, H_out) (unbatched: (D * num_layers, H_out)),
    zeros when not given -> output (L, N, D * H_out) (batch first likewise) and the final
    state h_n of h_0's shape. H_out is ``proj_size`` if set (LSTM), else ``hidden_size``.
    ``dropout`` applies to the outputs of every layer but the last, in training mode.
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: dtypes.dtype | None = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        check_sizes(name, input_size, hidden_size)
        if num_layers <= 0:
            raise ValueError(f"{name}: num_layers must be greater than zero, got {num_layers}")
        if isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(
                f"{name}: dropout should be a number in range [0, 1] representing the "
                f"probability of an element being zeroed, got {dropout}"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                stacklevel=3,
            )
        if proj_size < 0 or (proj_size and mode != "LSTM"):
            raise ValueError(f"{name}: proj_size must be non-negative and is for LSTM only")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size has to be smaller than hidden_size")
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        self._register_parameters(dtype, device)
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def output_size(self) -> int:
        """H_out: the size of h (``proj_size`` when set, else ``hidden_size``)."""
        return self.proj_size or self.hidden_size

    def _register_parameters(self, dtype: dtypes.dtype | None, device: Any) -> None:
        """weight_ih_l{k}{suffix} (G H, H_in of layer k), weight_hh (G H, H_out), biases
        (G H,), weight_hr (H_out, H) with a projection; suffix '_reverse' for direction 2."""
        rows = GATES[self.mode] * self.hidden_size
        for layer in range(self.num_layers):
            layer_input = self.input_size if layer == 0 else self.output_size * self.num_directions
            for suffix in self._suffixes(layer):
                shapes = {"weight_ih": (rows, layer_input), "weight_hh": (rows, self.output_size)}
                if self.bias:
                    shapes.update({"bias_ih": (rows,), "bias_hh": (rows,)})
                if self.proj_size:
                    shapes["weight_hr"] = (self.proj_size, self.hidden_size)
                for kind, shape in shapes.items():
                    parameter = Parameter(empty(*shape, dtype=dtype, device=device))
                    self.register_parameter(f"{kind}{suffix}", parameter)

    def flatten_parameters(self) -> None:
        """Does nothing: PyTorch packs the weights into one block for cuDNN; tinytorch never
        needs to. Kept so that scripts calling it run unchanged."""

    def _suffixes(self, layer: int) -> list[str]:
        return [f"_l{layer}", f"_l{layer}_reverse"][: self.num_directions]

    def reset_parameters(self) -> None:
        """Draw fresh weights and biases (PyTorch's default initialisation)."""
        uniform_parameters(self, self.hidden_size)

    def _weights(self, suffix: str) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        """(W_ih, W_hh, b_ih, b_hh) of one layer and direction (biases None without bias)."""
        kinds = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        w_ih, w_hh, b_ih, b_hh = (getattr(self, f"{kind}{suffix}", None) for kind in kinds)
        return w_ih, w_hh, b_ih, b_hh

    def _step(self, projected: Tensor, state: State, suffix: str) -> State:
        """One time step of one layer and direction; each subclass says which kind."""
        raise NotImplementedError

    def forward(self, input: Tensor, hx: State | None = None) -> tuple[Tensor, State]:  # noqa: A002
        name = type(self).__name__
        if input.ndim not in (2, 3):
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D instead")
        check_features(name, input, self.input_size)
        batched = input.ndim == 3
        x = input if batched else input.unsqueeze(1)
        if batched and self.batch_first:
            x = x.transpose(0, 1)  # (L, N, H_in)
        states = self._initial_states(hx, x, batched)
        steps = list(x.unbind(0))  # L tensors (N, H_in)
        finals: list[State] = []
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                steps = [F.dropout(step, self.dropout) for step in steps]
            directions = []
            for direction, suffix in enumerate(self._suffixes(layer)):
                state = states[layer * self.num_directions + direction]
                outputs, state = self._run(steps, state, suffix, reverse=direction == 1)
                directions.append(outputs)
                finals.append(state)
            steps = (
                [cat(pair, -1) for pair in zip(*directions)]
                if self.bidirectional
                else directions[0]
            )
        output = stack(steps)  # (L, N, D * H_out)
        if not batched:
            output = output.squeeze(1)
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, self._final_state(finals, batched)

    def _run(
        self, steps: list[Tensor], state: State, suffix: str, reverse: bool
    ) -> tuple[list[Tensor], State]:
        """One layer in one direction over the sequence: the output at every step (in time
        order) and the last state. The input projection x_t W_ih^T + b_ih is one product per
        step for all gates; a projection of the whole sequence at once would be sliced step
        by step, and every slice's backward costs a full-size array."""
        w_ih, _, b_ih, _ = self._weights(suffix)
        outputs: list[Tensor] = [None] * len(steps)
        order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
        for t in order:
            state = self._step(F.linear(steps[t], w_ih, b_ih), state, suffix)
            outputs[t] = state[0] if isinstance(state, tuple) else state
        return outputs, state

    def _initial_states(self, hx: State | None, x: Tensor, batched: bool) -> list[State]:
        """h_0 (and c_0) split per layer and direction: a list of (N, H_out) tensors."""
        layers = self.num_layers * self.num_directions
        batch = x.shape[1]
        expected = (layers, batch, self.output_size) if batched else (layers, self.output_size)
        if hx is None:
            h = zeros(layers, batch, self.output_size, dtype=x.dtype)
            return self._split_states(h, zeros(layers, batch, self.hidden_size, dtype=x.dtype))
        parts = hx if isinstance(hx, tuple) else (hx,)
        self._check_state_kind(hx)
        if any(part.ndim != len(expected) for part in parts):
            raise RuntimeError(
                f"{type(self).__name__}: for {'batched 3-D' if batched else 'unbatched 2-D'} "
                f"input, hx{' and cx' if len(parts) == 2 else ''} should also be "
                f"{len(expected)}-D but got {tuple(f'{p.ndim}-D' for p in parts)} tensors"
            )
        if not batched:
            parts = tuple(part.unsqueeze(1) for part in parts)
        sizes = [(layers, batch, self.output_size), (layers, batch, self.hidden_size)]
        for part, size, label in zip(parts, sizes, ("hidden", "cell")):
            if tuple(part.shape) != size:
                raise RuntimeError(
                    f"{type(self).__name__}: Expected {label} size {size}, got {list(part.shape)}"
                )
        return self._split_states(*parts)

    def _check_state_kind(self, hx: State) -> None:
        if isinstance(hx, tuple) != (self.mode == "LSTM") or (
            isinstance(hx, tuple) and len(hx) != 2
        ):
            wanted = "a tuple (h_0, c_0)" if self.mode == "LSTM" else "one tensor h_0"
            raise TypeError(f"{type(self).__name__}: the initial state must be {wanted}")

    def _split_states(self, h: Tensor, c: Tensor | None = None) -> list[State]:
        if self.mode == "LSTM":
            return list(zip(h.unbind(0), c.unbind(0)))
        return list(h.unbind(0))

    def _final_state(self, finals: list[State], batched: bool) -> State:
        """The last states stacked to (D * num_layers, N, H_out) (unbatched: no N)."""

        def stacked(parts: list[Tensor]) -> Tensor:
            out = stack(parts)
            return out if batched else out.squeeze(1)

        if self.mode == "LSTM":
            return stacked([h for h, _ in finals]), stacked([c for _, c in finals])
        return stacked(finals)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text


class RNN(RNNBase):
    """Elman network: h_t = tanh(x_t W_ih^T + b_ih + h_(t-1) W_hh^T + b_hh) (or relu).

    Shapes as in ``RNNBase``. Example::

        rnn = nn.RNN(10, 20, num_layers=2, batch_first=True)
        output, h_n = rnn(torch.randn(3, 5, 10))     # (3, 5, 20), (2, 3, 20)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: dtypes.dtype | None = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        self.nonlinearity = nonlinearity
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(
            mode, input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, 0, device, dtype,
        )  # fmt: skip

    def _step(self, projected: Tensor, state: State, suffix: str) -> State:
        _, w_hh, _, b_hh = self._weights(suffix)
        return rnn_step(projected, state, w_hh, b_hh, self.nonlinearity)


class LSTM(RNNBase):
    """Long short-term memory (Hochreiter and Schmidhuber, 1997): a cell state c carried
    through gates, so gradients survive long sequences. See the module's notes for the gates.

    forward(input, (h_0, c_0)) -> output, (h_n, c_n); c has hidden_size features, h has
    proj_size (if set) or hidden_size. Example::

        lstm = nn.LSTM(10, 20, batch_first=True, bidirectional=True)
        output, (h_n, c_n) = lstm(torch.randn(3, 5, 10))   # (3, 5, 40), (2, 3, 20) each
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: Any = None,
        dtype: dtypes.dtype | None = None,
    ) -> None:
        super().__init__(
            "LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, proj_size, device, dtype,
        )  # fmt: skip

    def _step(self, projected: Tensor, state: State, suffix: str) -> State:
        _, w_hh, _, b_hh = self._weights(suffix)
        w_hr = getattr(self, f"weight_hr{suffix}") if self.proj_size else None
        return lstm_step(projected, state, w_hh, b_hh, w_hr)


class GRU(RNNBase):
    """Gated recurrent unit (Cho et al., 2014): reset and update gates, no cell state.
    See the module's notes for the gates. Example::

        gru = nn.GRU(10, 20, num_layers=2)
        output, h_n = gru(torch.randn(5, 3, 10))     # (5, 3, 20), (2, 3, 20)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device: Any = None,
        dtype: dtypes.dtype | None = None,
    ) -> None:
        super().__init__(
            "GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout,
            bidirectional, 0, device, dtype,
        )  # fmt: skip

    def _step(self, projected: Tensor, state: State, suffix: str) -> State:
        _, w_hh, _, b_hh = self._weights(suffix)
        return gru_step(projected, state, w_hh, b_hh)


# ---------------------------------------------------------------------- single steps
class RNNCellBase(Module):
    """One step of a recurrent layer: parameters weight_ih (G H, H_in), weight_hh (G H, H),
    bias_ih and bias_hh (G H,). input (N, H_in) or (H_in,); the state has the input's batch
    shape, zeros when not given."""

    gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: Any = None,
        dtype: dtypes.dtype | None = None,
    ) -> None:
        super().__init__()
        check_sizes(type(self).__name__, input_size, hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        rows = self.gates * hidden_size
        self.weight_ih = Parameter(empty(rows, input_size, dtype=dtype, device=device))
        self.weight_hh = Parameter(empty(rows, hidden_size, dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(empty(rows, dtype=dtype, device=device))
            self.bias_hh = Parameter(empty(rows, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw fresh weights and biases (PyTorch's default initialisation)."""
        uniform_parameters(self, self.hidden_size)

    def _prepare(self, input: Tensor, hx: Tensor | None) -> tuple[Tensor, Tensor, bool]:  # noqa: A002
        """(input as (N, H_in), hx as (N, H) (zeros if None), whether input was batched)."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        check_features(name, input, self.input_size)
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if hx is None:
            return x, zeros(x.shape[0], self.hidden_size, dtype=input.dtype), batched
        h = hx if batched else hx.unsqueeze(0)
        if tuple(h.shape) != (x.shape[0], self.hidden_size):
            expected = (x.shape[0], self.hidden_size) if batched else (self.hidden_size,)
            raise RuntimeError(
                f"{name}: hidden state of shape {tuple(hx.shape)} does not fit input of shape "
                f"{tuple(input.shape)}; expected {expected}"
            )
        return x, h, batched

    def _projected(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight_ih, self.bias_ih)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu). Example:
    ``nn.RNNCell(10, 20)(torch.randn(3, 10))`` has shape (3, 20)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: Any = None,
        dtype: dtypes.dtype | None = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, h, batched = self._prepare(input, hx)
        h = rnn_step(self._projected(x), h, self.weight_hh, self.bias_hh, self.nonlinearity)
        return h if batched else h.squeeze(0)

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text if self.nonlinearity == "tanh" else f"{text}, nonlinearity={self.nonlinearity}"


class LSTMCell(RNNCellBase):
    """One LSTM step: forward(input, (h, c)) -> (h', c'). Example:
    ``h, c = nn.LSTMCell(10, 20)(torch.randn(3, 10))``."""

    gates = 4

    def forward(
        self,
        input: Tensor,  # noqa: A002
        hx: tuple[Tensor, Tensor] | None = None,
    ) -> tuple[Tensor, Tensor]:
        x, h, batched = self._prepare(input, None if hx is None else hx[0])
        _, c, _ = self._prepare(input, None if hx is None else hx[1])
        h, c = lstm_step(self._projected(x), (h, c), self.weight_hh, self.bias_hh)
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step. Example: ``nn.GRUCell(10, 20)(torch.randn(3, 10))`` has shape (3, 20)."""

    gates = 3

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:  # noqa: A002
        x, h, batched = self._prepare(input, hx)
        h = gru_step(self._projected(x), h, self.weight_hh, self.bias_hh)
        return h if batched else h.squeeze(0)
