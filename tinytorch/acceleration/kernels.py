"""The same computation written slow and fast, for module 18's measurements.

Each pair computes the same array; ``benchmarks/acceleration.py`` and the lesson time them.

* Vectorization: ``conv2d_loops`` runs one small dot product per output pixel (a Python loop
  over ``H_out * W_out`` positions); ``conv2d_shifted`` loops over the ``KH * KW`` kernel
  offsets only, each one multiply of a whole shifted slice of the input.
* Cache blocking: ``matmul_outer_products`` builds ``C = A @ B`` from ``K`` rank-1 updates of
  the whole ``C``; ``tiled_matmul`` does the same updates one cache-sized tile of ``C`` at a
  time, so the tile stays in cache across its ``K`` updates.
* Mixed precision: ``matmul_float16_storage`` keeps its operands in float16 (half the
  memory) and multiplies them in float32, as mixed-precision training does.
"""

from __future__ import annotations

import numpy as np


def conv2d_loops(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Convolution (cross-correlation, stride 1, no padding) with a loop over output pixels.

    Shapes: x (N, C, H, W), weight (F, C, KH, KW) -> (N, F, H - KH + 1, W - KW + 1).
    ``out[n, f, i, j] = sum_{c, p, q} x[n, c, i + p, j + q] * weight[f, c, p, q]``.
    """
    n, _, h, w = x.shape
    filters, _, kh, kw = weight.shape
    out = np.empty((n, filters, h - kh + 1, w - kw + 1), dtype=np.result_type(x, weight))
    flat_weight = weight.reshape(filters, -1)  # (F, C*KH*KW)
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            patch = x[:, :, i : i + kh, j : j + kw].reshape(n, -1)  # (N, C*KH*KW)
            out[:, :, i, j] = patch @ flat_weight.T  # (N, F)
    return out


def conv2d_shifted(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``conv2d_loops`` with a loop over the KH * KW kernel offsets instead of the pixels.

    For each offset (p, q) the slice ``x[:, :, p : p + H_out, q : q + W_out]`` holds, at
    every output pixel, the input value that kernel tap multiplies; one contraction over
    the channels adds that tap's contribution to every output at once:
    ``out += einsum("nchw,fc->nfhw", slice, weight[:, :, p, q])``. No im2col matrix is built.
    """
    # BEGIN SOLUTION 18
    n, _, h, w = x.shape
    filters, _, kh, kw = weight.shape
    h_out, w_out = h - kh + 1, w - kw + 1
    out = np.zeros((n, filters, h_out, w_out), dtype=np.result_type(x, weight))
    for p in range(kh):
        for q in range(kw):
            window = x[:, :, p : p + h_out, q : q + w_out]  # (N, C, H_out, W_out), a view
            out += np.einsum("nchw,fc->nfhw", window, weight[:, :, p, q], optimize=True)
    return out
    # END SOLUTION


def matmul_outer_products(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` as ``K`` rank-1 updates: ``C += outer(a[:, k], b[k, :])`` for each k.

    Every update reads and writes the whole (M, N) result: once C is larger than the cache,
    each of the K passes streams it from main memory.
    """
    c = np.zeros((a.shape[0], b.shape[1]), dtype=np.result_type(a, b))
    product = np.empty_like(c)
    for k in range(a.shape[1]):
        np.multiply(a[:, k : k + 1], b[k : k + 1, :], out=product)  # (M, 1) * (1, N)
        c += product
    return c


def tiled_matmul(a: np.ndarray, b: np.ndarray, tile: int = 64) -> np.ndarray:
    """``a @ b`` by the rank-1 updates of ``matmul_outer_products``, one tile of C at a time.

    Shapes: a (M, K), b (K, N) -> (M, N). For each (tile x tile) block ``C[i:i+t, j:j+t]``,
    all K updates ``C_block += outer(a[i:i+t, k], b[k, j:j+t])`` run while the block (and
    its scratch product) stay in the CPU's cache: each element of C is fetched from memory
    once instead of K times. Same arithmetic, same result up to rounding order.
    """
    # BEGIN SOLUTION 18
    m, n = a.shape[0], b.shape[1]
    c = np.zeros((m, n), dtype=np.result_type(a, b))
    for i in range(0, m, tile):
        for j in range(0, n, tile):
            block = c[i : i + tile, j : j + tile]  # a view: updates land in c
            product = np.empty_like(block)
            for k in range(a.shape[1]):
                np.multiply(a[i : i + tile, k : k + 1], b[k : k + 1, j : j + tile], out=product)
                block += product
    return c
    # END SOLUTION


def matmul_float16_storage(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` for float16 ``a`` and ``b``, accumulated in float32, returned in float16.

    Storage in float16 halves the bytes kept and moved; the sums of ``K`` products run in
    float32 (via BLAS), because a float16 sum loses digits once it exceeds 2048 times the
    terms added (10 mantissa bits). The casts cost time that a float32 product does not pay.
    """
    if a.dtype != np.float16 or b.dtype != np.float16:
        raise TypeError(
            f"matmul_float16_storage: expected float16 operands, got {a.dtype} and {b.dtype}"
        )
    return (a.astype(np.float32) @ b.astype(np.float32)).astype(np.float16)
