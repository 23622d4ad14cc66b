"""Shape and indexing: reshape, permute, expand, repeat, cat, indexing, gather; after the
exercises, flip, roll, diagonal, scatter and scatter_reduce.

These move elements without changing them, so each backward moves the gradient back to where
its element came from. Reshape, permute, expand and basic slicing return NumPy views: no copy.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from tinytorch.autograd.function import Context, Function


class Reshape(Function):
    """out = a with a new shape (same elements, same order);  the gradient is reshaped back."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        # BEGIN SOLUTION 01
        ctx.input_shape = a.shape
        return np.reshape(a, shape)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        return np.reshape(grad, ctx.input_shape), None
        # END SOLUTION


class Clone(Function):
    """out = a copy of a in its own memory;  the gradient passes through unchanged."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 01
        return np.array(a, copy=True, order="C")
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 05
        return grad
        # END SOLUTION


class Permute(Function):
    """out = a with its axes reordered by ``dims``;  the gradient gets the inverse order."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
        # BEGIN SOLUTION 01
        ctx.dims = dims
        return np.transpose(a, dims)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        return np.transpose(grad, np.argsort(ctx.dims)), None
        # END SOLUTION


class Expand(Function):
    """out = a broadcast to ``shape`` (a view);  the engine sums the gradient back."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
        # BEGIN SOLUTION 01
        return np.broadcast_to(a, shape)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        return grad, None
        # END SOLUTION


class Repeat(Function):
    """out = a tiled ``repeats[i]`` times along each axis i (PyTorch's ``Tensor.repeat``).

    Backward: view the gradient as (r0, s0, r1, s1, ...), with r the repeats and s the input
    sizes, and sum over the r axes: each input element collects the gradient of its copies.
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, repeats: tuple[int, ...]) -> np.ndarray:
        # BEGIN SOLUTION 01
        ctx.input_shape, ctx.repeats = a.shape, repeats
        return np.tile(a, repeats)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        sizes = (1,) * (len(ctx.repeats) - len(ctx.input_shape)) + ctx.input_shape
        interleaved = [n for pair in zip(ctx.repeats, sizes, strict=True) for n in pair]
        grad = grad.reshape(interleaved).sum(axis=tuple(range(0, len(interleaved), 2)))
        return grad.reshape(ctx.input_shape), None
        # END SOLUTION


class Cat(Function):
    """out = the inputs joined along axis ``dim``;  each input gets its slice of the gradient.

    Called as ``Cat.apply(dim, *tensors)``.
    """

    @staticmethod
    def forward(ctx: Context, dim: int, *arrays: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 01
        ctx.dim = dim
        ctx.boundaries = list(itertools.accumulate(array.shape[dim] for array in arrays))[:-1]
        return np.concatenate(arrays, axis=dim)
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        return (None, *np.split(grad, ctx.boundaries, axis=ctx.dim))
        # END SOLUTION


def is_basic_index(index: Any) -> bool:
    """Whether an index uses only ints, slices, None and Ellipsis (NumPy "basic" indexing).

    Basic indexing selects each element at most once and returns a view; advanced indexing
    (integer or bool arrays) may select an element several times and copies.
    """
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        part is None or part is Ellipsis or isinstance(part, (int, np.integer, slice))
        for part in parts
    )


class GetItem(Function):
    """out = a[index] for ints, slices, None, ``...``, bool masks and integer arrays.

    Backward scatters the gradient into zeros at the selected positions; an element selected
    several times (``a[[0, 0]]``) adds up all of its gradients (``np.add.at``).
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, index: Any) -> np.ndarray:
        # BEGIN SOLUTION 01
        ctx.input_shape, ctx.input_dtype, ctx.index = a.shape, a.dtype, index
        return a[index]
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        grad_a = np.zeros(ctx.input_shape, dtype=ctx.input_dtype)
        if is_basic_index(ctx.index):
            grad_a[ctx.index] = grad
        else:
            np.add.at(grad_a, ctx.index, grad)
        return grad_a, None
        # END SOLUTION


def along_axis_index(index: np.ndarray, dim: int) -> tuple[np.ndarray, ...]:
    """The full NumPy index that picks ``index[i...]`` along ``dim`` at every other position.

    For a 2-D ``index`` and ``dim=1`` this is ``(rows, index)`` with rows[i, j] = i, so that
    ``a[along_axis_index(index, 1)][i, j] == a[i, index[i, j]]`` (PyTorch's ``gather``).
    """
    grids = np.indices(index.shape, sparse=True)
    return tuple(index if axis == dim else grid for axis, grid in enumerate(grids))


class Gather(Function):
    """out[i][j] = a[i][index[i][j]] for dim=1 (and likewise for any dim).

    Backward adds each gradient element back at the position it was gathered from; repeated
    indices accumulate.
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, dim: int, index: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION 01
        ctx.input_shape, ctx.input_dtype = a.shape, a.dtype
        ctx.positions = along_axis_index(index, dim)
        return a[ctx.positions]
        # END SOLUTION

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        # BEGIN SOLUTION 05
        grad_a = np.zeros(ctx.input_shape, dtype=ctx.input_dtype)
        np.add.at(grad_a, ctx.positions, grad)
        return grad_a, None, None
        # END SOLUTION


class IndexPut(Function):
    """out = a copy of a with ``out[index] = value``: indexing assignment, out of place.

    In-place writes (``x[index] = value``, and in-place changes of a view ``x[index]``) are
    recorded as this operation. Backward: the written positions of ``a`` get no gradient
    (their old values were overwritten); ``value`` gets the gradient at those positions (the
    engine sums it back to ``value``'s shape where ``value`` was broadcast).
    """

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, index: Any, value: np.ndarray) -> np.ndarray:
        ctx.index = index
        out = a.copy()
        out[index] = value
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        grad_a = None
        if ctx.needs_input_grad[0]:
            grad_a = grad.copy()
            grad_a[ctx.index] = 0
        grad_value = grad[ctx.index] if ctx.needs_input_grad[2] else None
        return grad_a, None, grad_value


# ---------------------------------------------------------------------------- more moves
# Flipping, rolling, diagonals and scattering. Not exercises: each moves elements, and its
# backward moves the gradient back, like the ops above.


class Flip(Function):
    """out = a reversed along ``axes`` (a copy, as in PyTorch);  the gradient is flipped back."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
        ctx.axes = axes
        return np.flip(a, axes).copy()

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        return np.flip(grad, ctx.axes), None


class Roll(Function):
    """out = a shifted by ``shifts`` along ``axes``, wrapping around (all elements, flattened,
    when ``axes`` is None);  the gradient is rolled back by -shifts."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, shifts: tuple[int, ...], axes: Any) -> np.ndarray:
        ctx.shifts, ctx.axes = shifts, axes
        return np.roll(a, shifts, axes)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        return np.roll(grad, tuple(-shift for shift in ctx.shifts), ctx.axes), None, None


class Diagonal(Function):
    """out[..., i] = a[..., i, i + offset] over the axes ``axis1``, ``axis2`` (PyTorch's
    ``diagonal``: those two axes are removed and the diagonal becomes the last axis);
    the gradient is written back onto the same diagonal of zeros."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, offset: int, axis1: int, axis2: int) -> np.ndarray:
        ctx.input_shape, ctx.offset, ctx.axes = a.shape, offset, (axis1, axis2)
        return np.diagonal(a, offset, axis1, axis2).copy()

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        grad_a = np.zeros(ctx.input_shape, grad.dtype)
        steps = np.arange(grad.shape[-1])
        rows, columns = steps + max(-ctx.offset, 0), steps + max(ctx.offset, 0)
        np.moveaxis(grad_a, ctx.axes, (-2, -1))[..., rows, columns] = grad
        return grad_a, None, None, None


class Scatter(Function):
    """out = a copy of a with out[index[i][j]][j] = src[i][j] for dim 0 (likewise for any
    dim); ``src`` may be a plain number. The gradient of a is zero where something was written;
    src[i][j] gets the gradient of the place it went to."""

    @staticmethod
    def forward(ctx: Context, a: np.ndarray, dim: int, index: np.ndarray, src: Any) -> np.ndarray:
        ctx.positions = along_axis_index(index, dim)
        ctx.src_shape = np.shape(src)
        out = a.copy()
        out[ctx.positions] = source_part(src, index.shape)
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        grad_a = grad.copy()
        grad_a[ctx.positions] = 0
        grad_src = pad_to(grad[ctx.positions], ctx.src_shape) if ctx.needs_input_grad[3] else None
        return grad_a, None, None, grad_src


def source_part(src: Any, index_shape: tuple[int, ...]) -> Any:
    """The part of ``src`` that ``scatter`` reads: its leading block of ``index_shape``."""
    if np.ndim(src) == 0:
        return src
    return src[tuple(slice(0, size) for size in index_shape)]


def pad_to(part: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``part`` in the leading block of zeros of ``shape`` (the inverse of ``source_part``)."""
    if part.shape == shape:
        return part
    full = np.zeros(shape, part.dtype)
    full[tuple(slice(0, size) for size in part.shape)] = part
    return full


REDUCERS = {"sum": np.add, "prod": np.multiply, "mean": np.add, "amax": np.maximum,
            "amin": np.minimum}  # fmt: skip


def reduction_start(reduce: str, dtype: np.dtype) -> Any:
    """The value a reduction starts from (0 for sums, 1 for products, the lowest or highest
    value of ``dtype`` for amax and amin)."""
    if reduce in ("amax", "amin") and dtype.kind == "f":
        return -np.inf if reduce == "amax" else np.inf
    if reduce in ("amax", "amin"):
        return np.iinfo(dtype).min if reduce == "amax" else np.iinfo(dtype).max
    return 1 if reduce == "prod" else 0


class ScatterReduce(Function):
    """out = a with each src[i][j] combined into out[index[i][j]][j] (dim 0) by ``reduce``:
    'sum', 'prod', 'mean', 'amax' or 'amin'. With ``include_self=False`` the places written to
    start from the src values alone. Places not written to keep a.

    Backward, with g the gradient of out and t the place each src element went to:
    sum: a gets g (0 where not included), src gets g[t]; mean: both get g / count;
    prod: each factor gets g times the product of the other factors of its place;
    amax/amin: the gradient is shared evenly by the elements equal to the result.
    """

    @staticmethod
    def forward(
        ctx: Context,
        a: np.ndarray,
        dim: int,
        index: np.ndarray,
        src: np.ndarray,
        reduce: str,
        include_self: bool,
    ) -> np.ndarray:
        positions = along_axis_index(index, dim)
        ctx.src_shape = src.shape
        src = source_part(src, index.shape)
        kept = np.ones(a.shape, bool)  # the elements of a that take part
        if not include_self:
            kept[positions] = False
        out = np.where(kept, a, reduction_start(reduce, a.dtype)).astype(a.dtype)
        REDUCERS[reduce].at(out, positions, src)
        count = kept.astype(a.dtype)
        np.add.at(count, positions, 1)
        if reduce == "mean":
            divide = np.true_divide if a.dtype.kind == "f" else np.floor_divide
            out = divide(out, np.maximum(count, 1)).astype(a.dtype)
        ctx.save_for_backward(a, src, out, count, kept)
        ctx.positions, ctx.reduce = positions, reduce
        return out

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        a, src, out, count, kept = ctx.saved_tensors
        positions = ctx.positions
        if ctx.reduce in ("sum", "mean"):
            share = grad / count if ctx.reduce == "mean" else grad
            grad_a, grad_src = share * kept, share[positions]
        elif ctx.reduce == "prod":
            others_a, others_src = product_of_others(a, src, out, kept, positions)
            grad_a, grad_src = grad * others_a, grad[positions] * others_src
        else:
            src_ties, a_ties = src == out[positions], a == out
            ties = a_ties.astype(grad.dtype)  # as in PyTorch, left-out elements count too
            np.add.at(ties, positions, src_ties)
            share = grad / np.maximum(ties, 1)
            grad_a, grad_src = share * a_ties * kept, share[positions] * src_ties
        return grad_a, None, None, pad_to(grad_src, ctx.src_shape), None, None


def product_of_others(
    a: np.ndarray, src: np.ndarray, out: np.ndarray, kept: np.ndarray, positions: tuple
) -> tuple[np.ndarray, np.ndarray]:
    """For ``scatter_reduce(..., 'prod')``: for each factor of each place, the product of the
    place's other factors. Without zeros that is out / factor; a place with one zero factor
    gives that factor the product of the non-zero ones and the others 0; with two zeros, 0."""
    nonzero_product = np.where(kept & (a != 0), a, 1).astype(out.dtype)
    np.multiply.at(nonzero_product, positions, np.where(src != 0, src, 1))
    zeros = (kept & (a == 0)).astype(np.int64)
    np.add.at(zeros, positions, src == 0)

    def others(factor: np.ndarray, place: Any) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            without_zero = np.where(zeros[place] == 0, out[place] / factor, 0)
        alone = np.where(zeros[place] == 1, nonzero_product[place], 0)
        return np.where(factor == 0, alone, without_zero)

    return others(a, ...) * kept, others(src, positions)
