"""Differentiable operations: each a ``Function`` with its forward and its backward.

Grouped by family, one file each, in course order:

- module 01 (tensor): ``arithmetic`` (+ - * / ** @), ``pointwise`` (exp, log, clamp, where,
  ...), ``reduction`` (sum, mean, max, logsumexp, ...), ``shape`` (reshape, permute, cat,
  indexing, ...);
- module 02 ``activation``, module 03 ``linear``, module 04 ``loss``;
- module 09 ``conv``, ``pooling``, ``padding``, ``normalization`` (batch norm; layer norm is
  module 13), module 11 ``embedding``, module 12 ``attention``, module 13 ``selection`` (the
  positions behind ``topk`` and ``multinomial``, for text generation).

The backward passes of the ops of modules 01-04 belong to module 05 (autograd); from module 09
on, an op's backward belongs to the op's own module.
"""
