"""Differentiable operations: each a ``Function`` with its forward and its backward.

Grouped by family, one file each: ``arithmetic`` (+ - * / ** @), ``pointwise`` (exp, log,
clamp, where, ...), ``reduction`` (sum, mean, max, logsumexp, ...), ``shape`` (reshape,
permute, cat, indexing, ...). Forward passes belong to module 01 (tensor), backward passes to
module 05 (autograd).
"""
