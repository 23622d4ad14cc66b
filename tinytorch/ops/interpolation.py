"""Resizing signals and images (``F.interpolate``) as one small matrix per spatial dim.

Nearest and (bi/tri)linear interpolation are separable: each output pixel mixes input
pixels along one dim at a time with the same weights. Along a dim of ``n`` inputs and ``m``
outputs those weights form an (m, n) matrix R, so resizing is a product with R along that
dim, and its gradient the product with R^T:

    nearest:  R[i, floor(src(i))] = 1
    linear:   R[i, floor(s)] = 1 - (s - floor(s)),  R[i, floor(s) + 1] = s - floor(s)

with s the source coordinate of output i (``source_coordinates``). No Python loop over
pixels: one matrix product per spatial dim.
"""

from __future__ import annotations

import numpy as np

from tinytorch.autograd.function import Context, Function


def source_coordinates(
    in_size: int, out_size: int, scale: float, align_corners: bool, half_pixel: bool
) -> np.ndarray:
    """Where output pixel i (0 <= i < out_size) samples the input, as a float index.

    ``align_corners``: the first and last pixels' centres match, s = i (n - 1) / (m - 1).
    Otherwise pixels are squares of side ``scale`` (input pixels per output pixel):
    s = (i + 0.5) scale - 0.5 for ``half_pixel`` (linear modes), else s = i scale (nearest).
    """
    positions = np.arange(out_size, dtype=np.float64)
    if align_corners:
        return positions * ((in_size - 1) / (out_size - 1) if out_size > 1 else 0.0)
    if half_pixel:
        return np.maximum((positions + 0.5) * scale - 0.5, 0.0)
    return positions * scale


def resize_matrix(
    in_size: int, out_size: int, scale: float, mode: str, align_corners: bool
) -> np.ndarray:
    """The (out_size, in_size) matrix R of one dim (see the module's notes); float64."""
    matrix = np.zeros((out_size, in_size))
    rows = np.arange(out_size)
    if mode == "nearest":
        source = np.floor(source_coordinates(in_size, out_size, scale, False, False))
        matrix[rows, np.minimum(source.astype(np.int64), in_size - 1)] = 1.0
        return matrix
    if mode == "nearest-exact":
        source = np.floor(source_coordinates(in_size, out_size, scale, False, True) + 0.5)
        matrix[rows, np.minimum(source.astype(np.int64), in_size - 1)] = 1.0
        return matrix
    source = source_coordinates(in_size, out_size, scale, align_corners, True)
    low = np.minimum(np.floor(source).astype(np.int64), in_size - 1)
    high = np.minimum(low + 1, in_size - 1)
    fraction = source - low
    np.add.at(matrix, (rows, low), 1 - fraction)
    np.add.at(matrix, (rows, high), fraction)
    return matrix


def along(a: np.ndarray, matrix: np.ndarray, axis: int) -> np.ndarray:
    """The product of ``matrix`` (m, n) with ``a`` along ``axis`` (of size n -> m)."""
    moved = np.moveaxis(a, axis, -1)  # (..., n)
    return np.moveaxis(moved @ matrix.T, -1, axis)


class Resize(Function):
    """out = x resized along its trailing spatial dims by the ``matrices`` R_d (m_d, n_d):
    the product with each R_d along its dim; d loss / d x = the products with each R_d^T."""

    @staticmethod
    def forward(ctx: Context, x: np.ndarray, matrices: list[np.ndarray]) -> np.ndarray:
        first = x.ndim - len(matrices)
        matrices = [m.astype(x.dtype) for m in matrices]
        ctx.matrices, ctx.first = matrices, first
        out = x
        for offset, matrix in enumerate(matrices):
            out = along(out, matrix, first + offset)
        return np.ascontiguousarray(out)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray) -> tuple:
        for offset, matrix in enumerate(ctx.matrices):
            grad = along(grad, matrix.T, ctx.first + offset)
        return np.ascontiguousarray(grad), None
