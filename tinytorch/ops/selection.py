"""Choosing elements: ``topk`` (the k largest or smallest), ``sort`` and ``multinomial``
(random draws).

Both are what text generation needs: keep the k most likely tokens, then sample one of them.
These helpers work on arrays and pick *positions*; ``Tensor.topk`` gathers the values at
them (so gradients flow back to the picked positions) and ``Tensor.multinomial`` wraps the
samples. Example::

    >>> import tinytorch as torch
    >>> torch.topk(torch.tensor([1.0, 5.0, 3.0]), 2)
    ValuesIndices(values=tensor([5., 3.]), indices=tensor([1, 2]))
"""

from __future__ import annotations

import numpy as np


def topk_indices(a: np.ndarray, k: int, axis: int, largest: bool) -> np.ndarray:
    """Positions of the k largest (or smallest) entries of ``a`` along ``axis``, best first.

    ``np.argpartition`` finds the k best in linear time; only those k are then sorted. The
    single best (k = 1, greedy decoding) is one ``argmax`` (``argmin``): the first of equals.
    """
    if k == 1 and a.shape[axis] > 0:
        best = np.argmax(a, axis=axis) if largest else np.argmin(a, axis=axis)
        return np.expand_dims(best, axis).astype(np.int64)
    keys = -a if largest else a
    if k < a.shape[axis]:
        best = np.argpartition(keys, k - 1, axis=axis)
        best = np.take(best, np.arange(k), axis=axis)
    else:
        best = np.broadcast_to(
            np.arange(k).reshape([-1 if i == axis else 1 for i in range(a.ndim)]), a.shape
        )
    order = np.argsort(np.take_along_axis(keys, best, axis=axis), axis=axis, kind="stable")
    return np.take_along_axis(best, order, axis=axis).astype(np.int64)


def sort_indices(a: np.ndarray, axis: int, descending: bool) -> np.ndarray:
    """The positions that sort ``a`` along ``axis`` (largest first if ``descending``); equal
    elements keep their order (a stable sort)."""
    keys = a.astype(np.int64) if a.dtype.kind in "ub" else a
    return np.argsort(-keys if descending else keys, axis=axis, kind="stable").astype(np.int64)


def sample_categories(
    weights: np.ndarray, num_samples: int, replacement: bool, draw: np.random.Generator
) -> np.ndarray:
    """Draw category indices with probability proportional to each row of ``weights``.

    Shapes: weights (C,) or (B, C) of non-negative numbers (they need not sum to 1) ->
    int64 (num_samples,) or (B, num_samples). With replacement a category can be drawn
    again: each draw inverts the cumulative distribution at a uniform random number.
    Without, the draws are the ``num_samples`` categories whose exponential waiting times
    E_c / w_c come first (E_c ~ Exp(1)), which gives the same distribution as drawing one
    category at a time and removing it.
    """
    check_weights(weights, num_samples, replacement)
    rows = weights.reshape(-1, weights.shape[-1]).astype(np.float64)  # (B, C)
    if replacement:
        samples = _inverse_cdf_draws(rows, draw.random((len(rows), num_samples)))
    else:
        with np.errstate(divide="ignore"):
            waiting = draw.exponential(size=rows.shape) / rows  # weight 0 never comes first
        samples = np.argsort(waiting, axis=1, kind="stable")[:, :num_samples]
    shape = (num_samples,) if weights.ndim == 1 else (len(rows), num_samples)
    return samples.astype(np.int64).reshape(shape)


def _inverse_cdf_draws(rows: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """For each row of weights (B, C) and uniforms (B, n): the first c with cdf[c] > u.

    Row b's normalised cdf is shifted to [b, b + 1], so one ``searchsorted`` over all rows
    answers every draw at once.
    """
    cdf = np.cumsum(rows, axis=1)
    cdf /= cdf[:, -1:]
    offsets = np.arange(len(rows))[:, None]
    flat = np.searchsorted((cdf + offsets).ravel(), (uniform + offsets).ravel(), side="right")
    return flat.reshape(uniform.shape) - offsets * rows.shape[1]


def check_weights(weights: np.ndarray, num_samples: int, replacement: bool) -> None:
    """Raise ``RuntimeError`` unless ``weights`` can give ``num_samples`` draws."""
    if weights.ndim not in (1, 2) or weights.dtype.kind != "f":
        raise RuntimeError(
            f"multinomial: expected a 1-d or 2-d floating-point tensor of weights, got shape "
            f"{weights.shape} and dtype {weights.dtype}"
        )
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: num_samples must be positive, got {num_samples}")
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise RuntimeError(
            "multinomial: probability tensor contains either inf, nan or element < 0"
        )
    fewest = np.count_nonzero(weights, axis=-1).min()  # non-zero weights in the poorest row
    if fewest == 0:
        raise RuntimeError("multinomial: invalid distribution (sum of probabilities <= 0)")
    if not replacement and num_samples > fewest:
        raise RuntimeError(
            f"multinomial: cannot draw {num_samples} samples without replacement from a row "
            f"with {fewest} non-zero weights; pass replacement=True or fewer samples"
        )
