"""Small reference models written against tinytorch's PyTorch-shaped API."""

from tinytorch.models.gpt import GPT, GPTConfig

__all__ = ["GPT", "GPTConfig"]
