"""What watching costs: the same work with no profiler, under ``profile`` and under
``FlopCounterMode``.

Each workload runs in every mode, the modes taking turns block by block after a warm-up;
the table gives each mode's median time per call and its ratio to running unwatched.
Workloads: a loop of 1,000 small additions (per-op overhead at its worst), a training step
of the MNIST MLP (784-256-128-10, batch 64), a LeNet-5 step on 28x28 images (batch 32) and a
step of a small GPT (2 layers, width 64, 32 tokens, batch 8). Inputs are random: only time
is measured.

    python benchmarks/profiler_overhead.py
    python benchmarks/profiler_overhead.py --only MLP --repeats 3
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Callable

import numpy as np

import tinytorch
import tinytorch.nn.functional as F
from tinytorch.models import GPT, GPTConfig, lenet5, mlp_classifier
from tinytorch.profiler import profile
from tinytorch.utils.flop_counter import FlopCounterMode

MODES: dict[str, Callable[[], contextlib.AbstractContextManager]] = {
    "off": contextlib.nullcontext,
    "profile()": profile,
    "profile(all)": lambda: profile(record_shapes=True, profile_memory=True, with_flops=True),
    "FlopCounterMode": lambda: FlopCounterMode(display=False),
}


def small_ops() -> Callable[[], None]:
    a, b = tinytorch.ones(4), tinytorch.ones(4)

    def run() -> None:
        for _ in range(1000):
            a + b

    return run


def classifier_step(model: tinytorch.nn.Module, shape: tuple[int, ...]) -> Callable[[], None]:
    rng = np.random.default_rng(0)
    x = tinytorch.tensor(rng.standard_normal(shape).astype(np.float32))
    y = tinytorch.tensor(rng.integers(0, 10, shape[0]))
    optimizer = tinytorch.optim.SGD(model.parameters(), lr=0.01)

    def run() -> None:
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    return run


def gpt_step() -> Callable[[], None]:
    model = GPT(GPTConfig(vocab_size=65, block_size=32, n_layer=2, n_head=4, n_embd=64))
    rng = np.random.default_rng(0)
    idx, targets = (tinytorch.tensor(rng.integers(0, 65, (8, 32))) for _ in range(2))
    optimizer = tinytorch.optim.AdamW(model.parameters(), lr=1e-3)

    def run() -> None:
        optimizer.zero_grad()
        _, loss = model(idx, targets)
        loss.backward()
        optimizer.step()

    return run


WORKLOADS: dict[str, Callable[[], Callable[[], None]]] = {
    "1000 small adds": small_ops,
    "MLP step": lambda: classifier_step(mlp_classifier(784, 256), (64, 784)),
    "LeNet-5 step": lambda: classifier_step(lenet5(28), (32, 1, 28, 28)),
    "GPT step": gpt_step,
}


def time_modes(run: Callable[[], None], calls: int, repeats: int) -> dict[str, list[float]]:
    """Seconds per call of ``run`` in each mode: ``repeats`` blocks of ``calls``, in turns."""
    times: dict[str, list[float]] = {mode: [] for mode in MODES}
    for make in MODES.values():  # warm-up, once per mode
        with make():
            run()
    for _ in range(repeats):
        for mode, make in MODES.items():
            with make():
                start = time.perf_counter()
                for _ in range(calls):
                    run()
                times[mode].append((time.perf_counter() - start) / calls)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10, help="calls per timing block")
    parser.add_argument("--repeats", type=int, default=5, help="timing blocks per mode")
    parser.add_argument("--only", default="", help="run the workloads whose name has this")
    args = parser.parse_args()
    print(f"{'workload':<18}" + "".join(f"{mode:>22}" for mode in MODES))
    for name, make in WORKLOADS.items():
        if args.only not in name:
            continue
        times = time_modes(make(), args.calls, args.repeats)
        base = statistics.median(times["off"])
        cells = [f"{statistics.median(t) * 1e3:9.3f} ms ({statistics.median(t) / base:4.2f}x)"
                 for t in times.values()]  # fmt: skip
        print(f"{name:<18}" + "".join(f"{cell:>22}" for cell in cells))


if __name__ == "__main__":
    main()
