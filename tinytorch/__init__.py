"""TinyTorch: a deep-learning framework built from scratch on NumPy, with PyTorch's API.

``import tinytorch as torch`` and a PyTorch training script that uses the features covered by
the course runs unchanged.
"""

import warnings

from tinytorch import allocator, autograd
from tinytorch.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from tinytorch.creation import (
    BoolTensor,
    ByteTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
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
from tinytorch.devices import device
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
    qint8,
    quint8,
    short,
    uint8,
)
from tinytorch.functions import *  # noqa: F403 - PyTorch's top-level functions
from tinytorch.qtensor import (
    per_channel_affine,
    per_channel_symmetric,
    per_tensor_affine,
    per_tensor_symmetric,
    qscheme,
    quantize_per_channel,
    quantize_per_tensor,
)
from tinytorch.random import Generator, initial_seed, manual_seed, seed
from tinytorch.tensor import Tensor
from tinytorch.threads import get_num_threads, set_num_threads

__version__ = "0.1.0"

# The sub-packages PyTorch makes available after a bare ``import torch``.
from tinytorch import amp, cuda, nn, onnx, optim, profiler, text, utils  # noqa: E402
from tinytorch.amp import autocast, get_autocast_dtype, is_autocast_enabled  # noqa: E402
from tinytorch.serialization import load, save  # noqa: E402

# Keep freed memory for the next step instead of returning it to the system (see the module).
allocator.retain_freed_memory()

# Like PyTorch, tensor arithmetic gives inf and nan without warnings (log(0) is -inf). This
# filter silences NumPy's floating-point warnings raised from tinytorch's own code only; one
# filter instead of np.errstate around every operation, which would cost more than a small op.
warnings.filterwarnings(
    "ignore",
    message=r"(divide by zero|invalid value|overflow|underflow) encountered",
    category=RuntimeWarning,
    module=r"tinytorch(\.|$)",
)
