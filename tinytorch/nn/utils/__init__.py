"""Utilities for training modules: gradient clipping, pruning (``prune``)."""

from tinytorch.nn.utils import prune
from tinytorch.nn.utils.clip_grad import clip_grad_norm_, clip_grad_value_

__all__ = ["clip_grad_norm_", "clip_grad_value_", "prune"]
