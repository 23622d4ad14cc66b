"""Small reference models written against tinytorch's PyTorch-shaped API."""

from tinytorch.models.gpt import GPT, GPTConfig
from tinytorch.models.lenet import lenet5
from tinytorch.models.mlp import mlp_classifier

__all__ = ["GPT", "GPTConfig", "lenet5", "mlp_classifier"]
