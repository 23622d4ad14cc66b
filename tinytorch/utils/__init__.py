"""Utilities, laid out as in ``torch.utils``: data loading lives in ``tinytorch.utils.data``,
the handles that module hooks return in ``tinytorch.utils.hooks``."""

from tinytorch.utils import data, hooks

__all__ = ["data", "hooks"]
