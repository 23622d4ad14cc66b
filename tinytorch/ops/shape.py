"""Shape and indexing: reshape, permute, expand, repeat, cat, indexing, gather.

These move elements without changing them, so each backward moves the gradient back to where
its element came from. Reshape, permute, expand and basic slicing return NumPy views: no copy.
"""

from __future__ import annotations

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
        ctx.boundaries = np.cumsum([array.shape[dim] for array in arrays])[:-1]
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
