"""Time one training step of an MLP on tinytorch, on PyTorch (eager, CPU) and on plain NumPy.

The same step runs on each: forward, cross-entropy loss, backward, optimizer update, zero the
gradients. NumPy is the floor: hand-written forward and backward with no framework at all.
Each configuration is timed as the median over repeated blocks of steps, after a warm-up.

    python benchmarks/train_step.py              # both configurations
    python benchmarks/train_step.py --steps 200  # longer timing blocks
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass
class Config:
    name: str
    sizes: tuple[int, ...]
    batch: int
    optimizer: str  # "adam" or "sgd" (SGD with momentum 0.9)
    lr: float
    model: str = "mlp"  # "mlp" (layer widths ``sizes``) or "lenet5" (1x28x28 images, 10 classes)


CONFIGS = [
    Config("MLP 64-128-10, batch 32, Adam", (64, 128, 10), 32, "adam", 1e-3),
    Config("MLP 784-512-512-10, batch 128, SGD+momentum", (784, 512, 512, 10), 128, "sgd", 0.01),
    Config("LeNet-5 1x28x28, batch 64, SGD+momentum", (784, 10), 64, "sgd", 0.01, "lenet5"),
]


def make_data(config: Config) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    features = (1, 28, 28) if config.model == "lenet5" else (config.sizes[0],)
    x = rng.standard_normal((config.batch, *features)).astype(np.float32)
    y = rng.integers(0, config.sizes[-1], config.batch).astype(np.int64)
    return x, y


def lenet5(nn):
    """LeNet-5 (LeCun et al. 1998) for 28x28 digits, with ReLU and max pooling."""
    return nn.Sequential(
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


def framework_step(library_name: str, config: Config) -> Callable[[], float]:
    """A training step written once against PyTorch's API, run on tinytorch or torch."""
    torch = importlib.import_module(library_name)
    nn = torch.nn
    layers: list = []
    for fan_in, fan_out in zip(config.sizes[:-1], config.sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    model = lenet5(nn) if config.model == "lenet5" else nn.Sequential(*layers[:-1])
    if config.optimizer == "adam":
        optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    else:
        optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=0.9)
    x_array, y_array = make_data(config)
    x, y = torch.tensor(x_array), torch.tensor(y_array)
    loss_fn = nn.CrossEntropyLoss()

    def step() -> float:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    return step


GPT_NAME = "GPT 4x128, 4 heads, T 64, batch 16, AdamW"


def gpt_step(library_name: str) -> Callable[[], float]:
    """A decoder-only GPT step (vocab 65) built from the library's own modules, so the same
    code runs on tinytorch and torch: token and position embeddings, four pre-norm causal
    encoder layers with GELU, a final layer norm and a linear head."""
    torch = importlib.import_module(library_name)
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

    def step() -> float:
        optimizer.zero_grad()
        hidden = blocks(embed(x) + position(positions), mask=causal, is_causal=True)
        loss = torch.nn.functional.cross_entropy(head(hidden).reshape(-1, vocab), y)
        loss.backward()
        optimizer.step()
        return loss

    return step


def numpy_step(config: Config) -> Callable[[], float]:
    """The same step by hand in NumPy: the speed floor any NumPy framework is measured against."""
    rng = np.random.default_rng(0)
    weights = [
        (rng.uniform(-1, 1, (fan_out, fan_in)) / np.sqrt(fan_in)).astype(np.float32)
        for fan_in, fan_out in zip(config.sizes[:-1], config.sizes[1:])
    ]
    biases = [np.zeros(w.shape[0], np.float32) for w in weights]
    params = weights + biases
    slots = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
    x, y = make_data(config)
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
            if config.optimizer == "adam":
                first *= 0.9
                first += 0.1 * g
                second *= 0.999
                second += 0.001 * g * g
                corrected = np.sqrt(second / (1 - 0.999 ** count[0])) + 1e-8
                p -= config.lr / (1 - 0.9 ** count[0]) * first / corrected
            else:
                first *= 0.9
                first += g
                p -= config.lr * first
        return float(loss)

    return step


def time_step(step: Callable[[], float], steps: int, repeats: int) -> float:
    """Median milliseconds per step over ``repeats`` blocks of ``steps`` steps."""
    for _ in range(max(steps // 5, 5)):
        step()
    blocks = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        blocks.append((time.perf_counter() - start) / steps * 1000)
    return statistics.median(blocks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="steps per timing block")
    parser.add_argument("--repeats", type=int, default=5, help="timing blocks per backend")
    args = parser.parse_args()

    try:
        import torch

        have_torch = True
        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads")
    except ImportError:
        have_torch = False
        print("PyTorch not installed: timing tinytorch and NumPy only")
    print(f"NumPy {np.__version__}\n")
    header = f"{'configuration':46} {'tinytorch':>10} {'PyTorch':>10} {'NumPy':>10} "
    print(header + f"{'tt/PyTorch':>11} {'tt/NumPy':>9}")
    for config in CONFIGS:
        ours = time_step(framework_step("tinytorch", config), args.steps, args.repeats)
        has_floor = config.model == "mlp"  # no hand-written NumPy LeNet-5
        floor = time_step(numpy_step(config), args.steps, args.repeats) if has_floor else np.nan
        theirs = (
            time_step(framework_step("torch", config), args.steps, args.repeats)
            if have_torch
            else float("nan")
        )
        floor_text = f"{floor:8.3f}ms" if has_floor else f"{'-':>10}"
        ratio_text = f"{ours / floor:8.2f}x" if has_floor else f"{'-':>9}"
        print(
            f"{config.name:46} {ours:8.3f}ms {theirs:8.3f}ms {floor_text} "
            f"{ours / theirs:10.2f}x {ratio_text}"
        )
    ours = time_step(gpt_step("tinytorch"), args.steps // 5, args.repeats)
    theirs = (
        time_step(gpt_step("torch"), args.steps // 5, args.repeats) if have_torch else float("nan")
    )
    print(f"{GPT_NAME:46} {ours:8.3f}ms {theirs:8.3f}ms {'-':>10} {ours / theirs:10.2f}x")


if __name__ == "__main__":
    main()
