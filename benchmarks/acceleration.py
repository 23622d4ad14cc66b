"""Module 18's before/after figures, each measured on the framework's own code.

    python benchmarks/acceleration.py            # every section
    python benchmarks/acceleration.py --fast     # smaller sizes

Sections: loops to broadcasting (convolution), fused against unfused kernels (GELU, layer
norm, cross-entropy: time and what backward keeps), ``out=`` and in-place ufuncs (an Adam
update), cache blocking (a tiled matrix product against whole-matrix updates and BLAS),
memory layout (rows against columns), BLAS threads (1 against all cores), gradient
checkpointing on a GPT (peak memory against time) and float16 storage (memory, time, error).
Every time is the median of interleaved repeats (before, after, before, after, ...), so a
loaded machine slows both alike; ratios are the figures to read. BLAS runs on one thread
except in the threads section.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np

import tinytorch
import tinytorch.nn.functional as F
from tinytorch import nn
from tinytorch.acceleration import (
    Checkpointed,
    count_nodes,
    kernels,
    peak_memory,
    saved_bytes,
    unfused,
)
from tinytorch.models import GPT, GPTConfig
from tinytorch.threads import blas_thread_control, num_threads_limited


def interleaved(functions: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median seconds of each function, timed in turn ``repeats`` times (after one warm-up)."""
    times: dict[str, list[float]] = {name: [] for name in functions}
    for function in functions.values():
        function()
    for _ in range(repeats):
        for name, function in functions.items():
            start = time.perf_counter()
            function()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def report(title: str, medians: dict[str, float], baseline: str) -> None:
    print(f"\n{title}")
    for name, seconds in medians.items():
        ratio = medians[baseline] / seconds
        print(f"  {name:<42} {seconds * 1e3:10.2f} ms   {ratio:6.2f}x vs {baseline}")


def vectorization(fast: bool) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3, 32, 32)).astype(np.float32)
    w = rng.standard_normal((16, 3, 3, 3)).astype(np.float32)
    tx, tw = tinytorch.tensor(x), tinytorch.tensor(w)
    medians = interleaved(
        {
            "loop over output pixels": lambda: kernels.conv2d_loops(x, w),
            "loop over kernel offsets (shifted slices)": lambda: kernels.conv2d_shifted(x, w),
            "F.conv2d (im2col + one matmul)": lambda: F.conv2d(tx, tw),
        },
        3 if fast else 7,
    )
    report(
        "Vectorization: conv2d of (8, 3, 32, 32) by (16, 3, 3, 3)",
        medians,
        "loop over output pixels",
    )


def forward_backward(function: Callable[..., tinytorch.Tensor], *inputs: np.ndarray) -> Callable:
    def run() -> None:
        leaves = [tinytorch.tensor(a, requires_grad=True) for a in inputs]
        function(*leaves).sum().backward()

    return run


def graph_figures(function: Callable[..., tinytorch.Tensor], *inputs: np.ndarray) -> str:
    out = function(*[tinytorch.tensor(a, requires_grad=True) for a in inputs])
    return f"{count_nodes(out)} ops, {saved_bytes(out) / 2**20:.2f} MiB kept for backward"


def fusion(fast: bool) -> None:
    rng = np.random.default_rng(1)
    rows = 2048 if fast else 8192
    x = rng.standard_normal((rows, 256)).astype(np.float32)
    w, b = np.ones(256, np.float32), np.zeros(256, np.float32)
    target = tinytorch.tensor(rng.integers(0, 256, rows))
    pairs = {
        "GELU (tanh)": (lambda t: F.gelu(t, approximate="tanh"), unfused.gelu_tanh, (x,)),
        "layer norm": (
            lambda t, w, b: F.layer_norm(t, (256,), w, b),
            unfused.layer_norm,
            (x, w, b),
        ),
        "cross-entropy": (
            lambda t: F.cross_entropy(t, target),
            lambda t: unfused.cross_entropy(t, target),
            (x,),
        ),
    }
    for name, (fused_fn, unfused_fn, inputs) in pairs.items():
        medians = interleaved(
            {
                "unfused (primitive ops)": forward_backward(unfused_fn, *inputs),
                "fused Function": forward_backward(fused_fn, *inputs),
            },
            3 if fast else 7,
        )
        report(f"Fusion: {name} on ({rows}, 256), forward + backward", medians,
               "unfused (primitive ops)")  # fmt: skip
        print(f"  unfused graph: {graph_figures(unfused_fn, *inputs)}")
        print(f"  fused graph:   {graph_figures(fused_fn, *inputs)}")


def in_place(fast: bool) -> None:
    rng = np.random.default_rng(2)
    size = 1_000_000 if fast else 4_000_000
    g = rng.standard_normal(size).astype(np.float32)
    b1, b2, lr, eps = 0.9, 0.999, 1e-3, 1e-8
    p, m, v = g.copy(), np.zeros_like(g), np.ones_like(g)  # the out-of-place run's state
    p2, m2, v2, scratch = g.copy(), np.zeros_like(g), np.ones_like(g), np.empty_like(g)

    def out_of_place() -> None:
        nonlocal p, m, v
        m = b1 * m + (1 - b1) * g  # each operator makes a new array
        v = b2 * v + (1 - b2) * g * g
        p = p - lr * m / (np.sqrt(v) + eps)

    def with_out() -> None:
        np.multiply(m2, b1, out=m2)  # m = b1 m + (1 - b1) g, in m's own memory
        np.multiply(g, 1 - b1, out=scratch)
        np.add(m2, scratch, out=m2)
        np.multiply(g, g, out=scratch)  # v = b2 v + (1 - b2) g^2
        np.multiply(scratch, 1 - b2, out=scratch)
        np.multiply(v2, b2, out=v2)
        np.add(v2, scratch, out=v2)
        np.sqrt(v2, out=scratch)  # p -= lr m / (sqrt(v) + eps)
        np.add(scratch, eps, out=scratch)
        np.divide(m2, scratch, out=scratch)
        np.multiply(scratch, lr, out=scratch)
        np.subtract(p2, scratch, out=p2)

    medians = interleaved({"out of place": out_of_place, "out= and in-place": with_out}, 5)
    report(f"out= and in-place ufuncs: an Adam update of {size:,} parameters", medians,
           "out of place")  # fmt: skip
    _, peak_before = peak_memory(out_of_place)
    _, peak_after = peak_memory(with_out)
    print(f"  peak new memory: {peak_before / 2**20:.1f} MiB -> {peak_after / 2**20:.1f} MiB")
    print(f"  same parameters: {np.allclose(p, p2)}")


def cache_blocking(fast: bool) -> None:
    rng = np.random.default_rng(3)
    n = 256 if fast else 512
    a = rng.standard_normal((n, n)).astype(np.float32)
    b = rng.standard_normal((n, n)).astype(np.float32)
    medians = interleaved(
        {
            "rank-1 updates of the whole C": lambda: kernels.matmul_outer_products(a, b),
            "tiled, tile 64": lambda: kernels.tiled_matmul(a, b, 64),
            "tiled, tile 256": lambda: kernels.tiled_matmul(a, b, 256),
            "BLAS (a @ b)": lambda: a @ b,
        },
        1 if fast else 3,
    )
    report(
        f"Cache blocking: ({n}, {n}) @ ({n}, {n}) float32", medians, "rank-1 updates of the whole C"
    )


def memory_layout(fast: bool) -> None:
    n = 1024 if fast else 2048
    x = np.random.default_rng(4).standard_normal((n, n)).astype(np.float32)

    def by_rows() -> float:
        return sum(float(x[i].sum()) for i in range(n))

    def by_columns() -> float:
        return sum(float(x[:, j].sum()) for j in range(n))

    transposed = tinytorch.tensor(x).transpose(0, 1)
    medians = interleaved(
        {
            "columns (stride n * 4 bytes)": by_columns,
            "rows (contiguous)": by_rows,
            "transpose(0, 1).contiguous() copy": lambda: transposed.contiguous(),
        },
        3,
    )
    report(f"Memory layout: summing a ({n}, {n}) float32 array slice by slice", medians,
           "columns (stride n * 4 bytes)")  # fmt: skip


def blas_threads(fast: bool) -> None:
    n = 512 if fast else 1024
    a = np.random.default_rng(5).standard_normal((n, n)).astype(np.float32)
    cores = tinytorch.get_num_threads()

    def product_on(threads: int) -> Callable[[], object]:
        def run() -> object:
            tinytorch.set_num_threads(threads)
            return a @ a

        return run

    with num_threads_limited(cores):
        medians = interleaved({"1 thread": product_on(1), f"{cores} threads": product_on(cores)}, 5)
    report(f"BLAS threads ({blas_thread_control()}): ({n}, {n}) @ ({n}, {n})", medians, "1 thread")


def make_gpt(checkpointed: bool) -> GPT:
    tinytorch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=64, block_size=64, n_layer=6, n_head=4, n_embd=128))
    if checkpointed:
        model.blocks = nn.ModuleList(Checkpointed(block) for block in model.blocks)
    return model


def checkpointing(fast: bool) -> None:
    batch = 8 if fast else 16
    idx = tinytorch.randint(0, 64, (batch, 64))
    models = {"plain": make_gpt(False), "every block checkpointed": make_gpt(True)}

    def step(model: GPT) -> None:
        _, loss = model(idx, idx)
        loss.backward()
        model.zero_grad()  # set_to_none: the next step starts without gradients

    medians = interleaved({name: (lambda m=m: step(m)) for name, m in models.items()}, 3)
    report(f"Gradient checkpointing: GPT, 6 layers, C=128, batch ({batch}, 64), one step",
           medians, "plain")  # fmt: skip
    for name, model in models.items():
        _, peak = peak_memory(lambda m=model: step(m))
        kept = saved_bytes(model(idx, idx)[1])
        print(
            f"  {name:<26} peak {peak / 2**20:6.1f} MiB, kept for backward {kept / 2**20:5.1f} MiB"
        )


def float16_storage(fast: bool) -> None:
    n = 512 if fast else 1024
    rng = np.random.default_rng(6)
    a32 = rng.standard_normal((n, n)).astype(np.float32)
    b32 = rng.standard_normal((n, n)).astype(np.float32)
    a16, b16 = a32.astype(np.float16), b32.astype(np.float16)
    exact = a32.astype(np.float64) @ b32.astype(np.float64)
    medians = interleaved(
        {
            "float32 (BLAS)": lambda: a32 @ b32,
            "float16 storage, float32 accumulate": lambda: kernels.matmul_float16_storage(a16, b16),
        },
        3,
    )
    report(f"Mixed precision: ({n}, {n}) @ ({n}, {n})", medians, "float32 (BLAS)")
    for name, result in (
        ("float32", a32 @ b32),
        ("float16 storage", kernels.matmul_float16_storage(a16, b16)),
    ):
        error = np.abs(result.astype(np.float64) - exact).max() / np.abs(exact).max()
        print(f"  {name:<18} max relative error {error:.1e}")
    model = make_gpt(False)
    bytes32 = sum(p.detach().numpy().nbytes for p in model.parameters())
    print(f"  GPT parameters: {bytes32 / 2**20:.2f} MiB in float32, "
          f"{bytes32 / 2**21:.2f} MiB in float16")  # fmt: skip


SECTIONS = {
    "vectorization": vectorization,
    "fusion": fusion,
    "in-place": in_place,
    "cache-blocking": cache_blocking,
    "layout": memory_layout,
    "threads": blas_threads,
    "checkpointing": checkpointing,
    "float16": float16_storage,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="smaller sizes, fewer repeats")
    parser.add_argument("--only", choices=sorted(SECTIONS), nargs="*", help="run these sections")
    args = parser.parse_args()
    print(f"NumPy {np.__version__}, BLAS threads: {tinytorch.get_num_threads()} "
          f"({blas_thread_control()})")  # fmt: skip
    with num_threads_limited(1):
        for name in args.only or SECTIONS:
            if name == "threads":
                continue
            SECTIONS[name](args.fast)
    if not args.only or "threads" in args.only:
        blas_threads(args.fast)


if __name__ == "__main__":
    main()
