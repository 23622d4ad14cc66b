"""The older name of ``tinytorch.ao.quantization``, kept as PyTorch keeps ``torch.quantization``."""

from tinytorch.ao.quantization import *  # noqa: F403
from tinytorch.ao.quantization import __all__  # noqa: F401
