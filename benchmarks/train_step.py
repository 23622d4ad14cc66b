"""Time one training step on tinytorch, on PyTorch (eager, CPU) and on plain NumPy.

The same step runs on each library: forward, loss, backward, optimizer update, zero the
gradients. Each model is written once against PyTorch's API and given the library module.
NumPy is the floor for the MLPs: hand-written forward and backward with no framework at all.
The libraries take turns, block of steps by block, after a warm-up; the table gives each
library's median time per step and the median of tinytorch's per-block ratios.

    python benchmarks/train_step.py                # every model
    python benchmarks/train_step.py --only MLP     # the models whose name contains "MLP"
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from types import ModuleType
from typing import Any

import numpy as np

Step = Callable[[], Any]
SETTLE_SECONDS = 0.3  # idle time before each timed block (see ``time_blocks``)


@dataclass
class Benchmark:
    name: str
    framework_step: Callable[[ModuleType], Step]  # given tinytorch or torch, returns a step
    numpy_step: Callable[[], Step] | None = None  # the hand-written floor, where there is one
    block_fraction: float = 1.0  # heavy models time shorter blocks (a fraction of --steps)


def classification_data(
    torch: ModuleType, batch: int, features: tuple[int, ...], classes: int
) -> tuple[Any, Any]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, *features)).astype(np.float32)
    y = rng.integers(0, classes, batch).astype(np.int64)
    return torch.tensor(x), torch.tensor(y)


def training_step(torch: ModuleType, model: Any, optimizer: Any, x: Any, y: Any) -> Step:
    """One classification step: zero grads, cross-entropy of model(x), backward, update."""

    def step() -> Any:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return step


def make_optimizer(torch: ModuleType, model: Any, name: str, lr: float) -> Any:
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr)
    return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)


def mlp_step(
    torch: ModuleType, sizes: tuple[int, ...], batch: int, optimizer: str, lr: float
) -> Step:
    """An MLP with ReLU between its Linear layers of widths ``sizes``."""
    nn = torch.nn
    layers: list = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    x, y = classification_data(torch, batch, (sizes[0],), sizes[-1])
    return training_step(torch, model, make_optimizer(torch, model, optimizer, lr), x, y)


def lenet5_step(torch: ModuleType, batch: int = 64) -> Step:
    """LeNet-5 (LeCun et al. 1998) on 1x28x28 images, ReLU and max pooling, SGD+momentum."""
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2),  # (N, 6, 28, 28)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 6, 14, 14)
        nn.Conv2d(6, 16, 5),  # (N, 16, 10, 10)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 16, 5, 5)
        nn.Flatten(),  # (N, 400)
        nn.Linear(400, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )
    x, y = classification_data(torch, batch, (1, 28, 28), 10)
    return training_step(torch, model, make_optimizer(torch, model, "sgd", 0.01), x, y)


def gpt_step(torch: ModuleType) -> Step:
    """A decoder-only GPT step (vocab 65, 4 layers of width 128, 4 heads, T 64, batch 16,
    AdamW) built from the library's own modules: token and position embeddings, four pre-norm
    causal encoder layers with GELU, a final layer norm and a linear head."""
    nn = torch.nn
    vocab, width, length, batch = 65, 128, 64, 16
    layer = nn.TransformerEncoderLayer(
        width, 4, 4 * width, 0.0, "gelu", batch_first=True, norm_first=True
    )
    blocks = nn.TransformerEncoder(layer, 4, enable_nested_tensor=False)
    embed, position = nn.Embedding(vocab, width), nn.Embedding(length, width)
    head = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, vocab))
    model = nn.ModuleList([embed, position, blocks, head])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    tokens = np.random.default_rng(0).integers(0, vocab, (batch, length + 1))
    x, y = torch.tensor(tokens[:, :-1].copy()), torch.tensor(tokens[:, 1:].reshape(-1))
    positions = torch.arange(length)
    causal = torch.tensor(np.triu(np.ones((length, length), dtype=bool), 1))

    def step() -> Any:
        optimizer.zero_grad()
        hidden = blocks(embed(x) + position(positions), mask=causal, is_causal=True)
        loss = torch.nn.functional.cross_entropy(head(hidden).reshape(-1, vocab), y)
        loss.backward()
        optimizer.step()
        return loss

    return step


def numpy_mlp_step(sizes: tuple[int, ...], batch: int, optimizer: str, lr: float) -> Step:
    """The MLP step by hand in NumPy: the speed floor any NumPy framework is measured against."""
    rng = np.random.default_rng(0)
    weights = [
        (rng.uniform(-1, 1, (fan_out, fan_in)) / np.sqrt(fan_in)).astype(np.float32)
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:])
    ]
    biases = [np.zeros(w.shape[0], np.float32) for w in weights]
    params = weights + biases
    slots = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch)
    count = [0]

    def step() -> float:
        activations = [x]
        for i, (w, b) in enumerate(zip(weights, biases)):
            out = activations[-1] @ w.T + b
            activations.append(np.maximum(out, 0) if i < len(weights) - 1 else out)
        logits = activations[-1]
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_probs[np.arange(len(y)), y].mean()
        grad = np.exp(log_probs)
        grad[np.arange(len(y)), y] -= 1
        grad /= len(y)
        grads_w, grads_b = [None] * len(weights), [None] * len(weights)
        for i in reversed(range(len(weights))):
            grads_w[i] = grad.T @ activations[i]
            grads_b[i] = grad.sum(axis=0)
            if i:
                grad = (grad @ weights[i]) * (activations[i] > 0)
        count[0] += 1
        for p, g, (first, second) in zip(params, grads_w + grads_b, slots):
            if optimizer == "adam":
                first *= 0.9
                first += 0.1 * g
                second *= 0.999
                second += 0.001 * g * g
                corrected = np.sqrt(second / (1 - 0.999 ** count[0])) + 1e-8
                p -= lr / (1 - 0.9 ** count[0]) * first / corrected
            else:
                first *= 0.9
                first += g
                p -= lr * first
        return float(loss)

    return step


def time_blocks(steps: dict[str, Step], block: int, repeats: int) -> dict[str, list[float]]:
    """Milliseconds per step of each library in ``repeats`` blocks of ``block`` steps.

    The libraries take turns block by block, so a shared machine that slows down for a while
    slows them all down alike and the per-block ratios stay fair. Before each block the
    machine idles for ``SETTLE_SECONDS``: a BLAS thread pool keeps its threads spinning for a
    while after its last call (OpenBLAS's, about 0.1 s), and those spinning threads would take
    a core from the next library's first steps. Then a few untimed steps warm the caches
    back up.
    """
    blocks: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            time.sleep(SETTLE_SECONDS)
            for _ in range(max(block // 5, 5)):  # warm-up: caches, allocations, BLAS threads
                step()
            start = time.perf_counter()
            for _ in range(block):
                step()
            blocks[name].append((time.perf_counter() - start) / block * 1000)
    return blocks


def mlp_benchmark(sizes: tuple[int, ...], batch: int, optimizer: str, lr: float) -> Benchmark:
    widths = "-".join(map(str, sizes))
    label = "Adam" if optimizer == "adam" else "SGD+momentum"
    return Benchmark(
        f"MLP {widths}, batch {batch}, {label}",
        partial(mlp_step, sizes=sizes, batch=batch, optimizer=optimizer, lr=lr),
        partial(numpy_mlp_step, sizes, batch, optimizer, lr),
    )


BENCHMARKS = [
    mlp_benchmark((64, 128, 10), 32, "adam", 1e-3),
    mlp_benchmark((784, 512, 512, 10), 128, "sgd", 0.01),
    Benchmark("LeNet-5 1x28x28, batch 64, SGD+momentum", lenet5_step, block_fraction=0.3),
    Benchmark("GPT 4x128, 4 heads, T 64, batch 16, AdamW", gpt_step, block_fraction=0.2),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="steps per timing block")
    parser.add_argument("--repeats", type=int, default=5, help="timing blocks per library")
    parser.add_argument("--only", default="", help="run the models whose name contains this")
    args = parser.parse_args()

    libraries = {"tinytorch": importlib.import_module("tinytorch")}
    try:
        libraries["torch"] = importlib.import_module("torch")
        print(
            f"PyTorch {libraries['torch'].__version__}, "
            f"{libraries['torch'].get_num_threads()} threads"
        )
    except ImportError:
        print("PyTorch not installed: timing tinytorch and NumPy only")
    print(f"NumPy {np.__version__}\n")
    print(
        f"{'model':46} {'tinytorch':>10} {'PyTorch':>10} {'NumPy':>10} "
        f"{'tt/PyTorch':>11} {'tt/NumPy':>9}"
    )
    for benchmark in BENCHMARKS:
        if args.only not in benchmark.name:
            continue
        block = max(int(args.steps * benchmark.block_fraction), 5)
        steps = {name: benchmark.framework_step(library) for name, library in libraries.items()}
        if benchmark.numpy_step is not None:
            steps["numpy"] = benchmark.numpy_step()
        print(report_line(benchmark.name, time_blocks(steps, block, args.repeats)))


def report_line(name: str, blocks: dict[str, list[float]]) -> str:
    """Median ms per step of each library, and the median over blocks of tinytorch's ratio."""
    ours = blocks["tinytorch"]
    times, ratios = [], []
    for other in ("torch", "numpy"):
        if other not in blocks:
            times.append(f"{'-':>10}")
            ratios.append("-")
            continue
        times.append(f"{statistics.median(blocks[other]):8.3f}ms")
        ratio = statistics.median(a / b for a, b in zip(ours, blocks[other]))
        ratios.append(f"{ratio:.2f}x")
    return (
        f"{name:46} {statistics.median(ours):8.3f}ms {times[0]} {times[1]} "
        f"{ratios[0]:>11} {ratios[1]:>9}"
    )


if __name__ == "__main__":
    main()
