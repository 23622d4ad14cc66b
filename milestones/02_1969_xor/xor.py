"""Milestone 02 (1969): one layer cannot learn XOR; two layers can.

    python milestones/02_1969_xor/xor.py [--fast] [--output result.json]

The same data, the same training loop, two models: ``Linear(2, 2)`` and
``Linear(2, 8) -> Tanh -> Linear(8, 2)``.
"""

from __future__ import annotations

import sys
import time

import tinytorch as torch
from tinytorch import nn
from tinytorch.milestones.harness import Check, main, progress_bar, report, tell_story

SLUG = "02_1969_xor"
STORY = """
    In 1969 Marvin Minsky and Seymour Papert published "Perceptrons", a careful study of what
    a single layer of threshold units can and cannot compute. The simplest thing it cannot
    compute is XOR: "one or the other, but not both". No straight line separates the two
    classes.

    A hidden layer solves XOR easily, but in 1969 nobody had a practical way to train hidden
    layers, and interest in neural networks faded for more than a decade. Here both models
    train on noisy XOR points: watch the single layer get stuck.
"""


def make_xor(count: int, noise: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """``count // 4`` noisy copies of each XOR corner: x (N, 2) float32, y (N,) int64."""
    corners = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1]]).repeat(count // 4, 1)  # (N, 2)
    labels = (corners[:, 0] != corners[:, 1]).long()  # (N,): x0 XOR x1
    return corners.float() + noise * torch.randn(len(corners), 2), labels


def train(model: nn.Module, x: torch.Tensor, y: torch.Tensor, epochs: int, label: str) -> float:
    """Full-batch Adam on cross-entropy; returns the final training accuracy."""
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    bar = progress_bar(epochs, label)
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        bar.record("loss", loss.item())
    bar.close(f"loss {loss.item():.4f}")
    return accuracy(model, x, y)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()


def run(fast: bool = False, data_dir: str | None = None) -> dict:
    """Train a single layer and an MLP on XOR; targets: single <= 75%, MLP 100% (test)."""
    tell_story("1969", "The XOR problem", STORY)
    torch.manual_seed(1969)
    start = time.perf_counter()
    x_train, y_train = make_xor(200 if fast else 800)
    x_test, y_test = make_xor(200 if fast else 800)
    epochs = 150 if fast else 400
    single_layer = nn.Linear(2, 2)
    mlp = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    train(single_layer, x_train, y_train, epochs, "single layer")
    train(mlp, x_train, y_train, epochs, "two layers  ")
    checks = [
        Check("single layer, test accuracy", accuracy(single_layer, x_test, y_test), 0.75, True),
        Check("two-layer MLP, test accuracy", accuracy(mlp, x_test, y_test), target=1.0),
    ]
    return report(SLUG, checks, time.perf_counter() - start, fast)


if __name__ == "__main__":
    sys.exit(main(run, SLUG, __doc__))
