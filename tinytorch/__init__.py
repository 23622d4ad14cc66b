"""TinyTorch: a deep-learning framework built from scratch on NumPy, with PyTorch's API.

``import tinytorch as torch`` and a PyTorch training script that uses the features covered by
the course runs unchanged.
"""

from tinytorch import allocator, autograd
from tinytorch.autograd.grad_mode import (
    enable_grad,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from tinytorch.creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from tinytorch.dtypes import (
    bool,
    double,
    dtype,
    float,
    float16,
    float32,
    float64,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    short,
    uint8,
)
from tinytorch.functions import *  # noqa: F403 - PyTorch's top-level functions
from tinytorch.random import Generator, initial_seed, manual_seed, seed
from tinytorch.tensor import Tensor

__version__ = "0.1.0"

# The sub-packages PyTorch makes available after a bare ``import torch``.
from tinytorch import cuda, nn, optim, text, utils  # noqa: E402
from tinytorch import profiler as profiler  # noqa: E402 - loads utils.flop_counter too
from tinytorch.serialization import load, save  # noqa: E402

# Keep freed memory for the next step instead of returning it to the system (see the module).
allocator.retain_freed_memory()
