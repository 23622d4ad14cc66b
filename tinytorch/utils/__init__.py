"""Utilities, laid out as in ``torch.utils``: data loading lives in ``tinytorch.utils.data``,
the handles that module hooks return in ``tinytorch.utils.hooks``, gradient checkpointing in
``tinytorch.utils.checkpoint``."""

from tinytorch.utils import checkpoint, data, hooks

__all__ = ["checkpoint", "data", "hooks"]
