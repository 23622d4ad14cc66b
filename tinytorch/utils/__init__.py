"""Utilities, laid out as in ``torch.utils``: data loading lives in ``tinytorch.utils.data``."""

from tinytorch.utils import data

__all__ = ["data"]
