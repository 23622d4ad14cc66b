"""Weight initialisation: fill a tensor in place with values drawn for good training.

A layer's weights start random so that its units differ, with a scale chosen so that signals
neither vanish nor explode through many layers. Xavier (Glorot) keeps the variance of
activations equal forwards and backwards: Var(W) = 2 / (fan_in + fan_out). Kaiming (He)
compensates for ReLU zeroing half its inputs: Var(W) = gain^2 / fan. For a weight of shape
(out, in, k1, k2, ...), fan_in = in * k1 * k2 * ... and fan_out = out * k1 * k2 * ...

Every function changes the tensor in place, records nothing for autograd, draws from
``generator`` (default: the generator that ``tinytorch.manual_seed`` seeds) and returns the
tensor::

    >>> import tinytorch as torch
    >>> w = torch.empty(3, 5)
    >>> torch.nn.init.kaiming_uniform_(w, nonlinearity="relu").shape
    (3, 5)
"""

from __future__ import annotations

import math
import warnings

from tinytorch.autograd.grad_mode import no_grad
from tinytorch.random import Generator, rng
from tinytorch.tensor import Tensor

LINEAR_GAINS = {
    "linear": 1.0,
    "conv1d": 1.0,
    "conv2d": 1.0,
    "conv3d": 1.0,
    "conv_transpose1d": 1.0,
    "conv_transpose2d": 1.0,
    "conv_transpose3d": 1.0,
    "sigmoid": 1.0,
    "tanh": 5.0 / 3,
    "relu": math.sqrt(2.0),
    "selu": 3.0 / 4,
}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor by which to scale weights for ``nonlinearity`` (``'relu'`` -> sqrt(2)).

    ``'leaky_relu'`` takes its negative slope as ``param`` (default 0.01):
    gain = sqrt(2 / (1 + slope^2)).
    """
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"negative_slope {slope!r} is not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity not in LINEAR_GAINS:
        names = ", ".join(sorted([*LINEAR_GAINS, "leaky_relu"]))
        raise ValueError(f"Unsupported nonlinearity {nonlinearity!r}; choose one of: {names}")
    return LINEAR_GAINS[nonlinearity]


def calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel): in and out times the kernel."""
    if tensor.ndim < 2:
        raise ValueError(
            f"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions "
            f"(got shape {tuple(tensor.shape)}); use uniform_ or normal_ for biases"
        )
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def fan(tensor: Tensor, mode: str) -> int:
    """fan_in or fan_out of ``tensor``, as ``mode`` says."""
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode!r} not supported, please use one of 'fan_in', 'fan_out'")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(
    tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: Generator | None = None
) -> Tensor:
    """Fill ``tensor`` with values drawn uniformly from [a, b)."""
    # BEGIN SOLUTION 03
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)
    # END SOLUTION


def normal_(
    tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: Generator | None = None
) -> Tensor:
    """Fill ``tensor`` with values drawn from the normal distribution N(mean, std^2)."""
    # BEGIN SOLUTION 03
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)
    # END SOLUTION


def trunc_normal_(
    tensor: Tensor,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: Generator | None = None,
) -> Tensor:
    """Fill ``tensor`` from N(mean, std^2) restricted to [a, b]: values outside are redrawn.

    Each round redraws all the values still outside at once (no loop over elements).
    """
    # BEGIN SOLUTION 03
    source = rng(generator)
    values = source.normal(mean, std, tensor.shape)
    outside = (values < a) | (values > b)
    while outside.any():
        values[outside] = source.normal(mean, std, int(outside.sum()))
        outside = (values < a) | (values > b)
    with no_grad():
        return tensor.copy_(Tensor._from_array(values))
    # END SOLUTION


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill ``tensor`` with ``val``."""
    with no_grad():
        return tensor.fill_(val)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with 0."""
    return constant_(tensor, 0.0)


def ones_(tensor: Tensor) -> Tensor:
    """Fill ``tensor`` with 1."""
    return constant_(tensor, 1.0)


def xavier_uniform_(
    tensor: Tensor, gain: float = 1.0, generator: Generator | None = None
) -> Tensor:
    """Uniform on [-bound, bound], bound = gain * sqrt(6 / (fan_in + fan_out)) (Glorot 2010).

    A uniform distribution on [-bound, bound] has standard deviation bound / sqrt(3).
    """
    # BEGIN SOLUTION 03
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)
    # END SOLUTION


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: Generator | None = None) -> Tensor:
    """Normal with std = gain * sqrt(2 / (fan_in + fan_out)) (Glorot 2010)."""
    # BEGIN SOLUTION 03
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)
    # END SOLUTION


def kaiming_uniform_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:
    """Uniform on [-bound, bound], bound = gain * sqrt(3 / fan) (He 2015).

    ``a`` is the negative slope of the leaky_relu that follows (0: a plain ReLU).
    """
    if tensor.numel() == 0:  # a layer with 0 inputs or outputs: nothing to draw, no fan
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    # BEGIN SOLUTION 03
    gain = calculate_gain(nonlinearity, a)
    bound = gain * math.sqrt(3.0 / fan(tensor, mode))
    return uniform_(tensor, -bound, bound, generator)
    # END SOLUTION


def kaiming_normal_(
    tensor: Tensor,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Generator | None = None,
) -> Tensor:
    """Normal with std = gain / sqrt(fan) (He 2015); ``a`` as in ``kaiming_uniform_``."""
    if tensor.numel() == 0:  # a layer with 0 inputs or outputs: nothing to draw, no fan
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    # BEGIN SOLUTION 03
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)
    # END SOLUTION


# PyTorch's (private) name for calculate_fan_in_and_fan_out; scripts call it.
_calculate_fan_in_and_fan_out = calculate_fan_in_and_fan_out
