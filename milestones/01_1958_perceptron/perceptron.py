"""Milestone 01 (1958): Rosenblatt's perceptron learns to separate two classes of points.

    python milestones/01_1958_perceptron/perceptron.py [--fast] [--output result.json]

The perceptron computes ``y_hat = step(w . x + b)`` and learns by Rosenblatt's rule: for each
example it gets wrong, move the weights toward it, ``w += lr * (y - y_hat) * x``.
"""

from __future__ import annotations

import sys
import time

import tinytorch as torch
from tinytorch.milestones.harness import Check, main, progress_bar, report, tell_story

SLUG = "01_1958_perceptron"
STORY = """
    In 1958 Frank Rosenblatt described a machine that could learn from examples: the
    perceptron. It added up weighted inputs and fired if the sum passed a threshold. When it
    answered wrongly, it nudged its weights toward the right answer.

    Rosenblatt proved that if a straight line can separate the two classes, this rule finds
    one in a finite number of steps. Here it learns to tell apart two groups of points.
"""


def make_points(count: int, margin: float = 0.15) -> tuple[torch.Tensor, torch.Tensor]:
    """Points in [-1, 1]^2 on either side of a fixed line, none closer to it than ``margin``.

    Returns x (N, 2) float32 and labels y (N,) in {0., 1.}.
    """
    true_weight, true_bias = torch.tensor([0.8, -0.6]), 0.1  # a unit normal: score = distance
    points = torch.rand(count * 2, 2) * 2 - 1  # (2N, 2), extra to replace those in the margin
    distance = points @ true_weight + true_bias  # (2N,)
    keep = distance.abs() > margin
    x, distance = points[keep][:count], distance[keep][:count]
    return x, (distance > 0).float()


def predict(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """The perceptron's answer: 1 where ``x . weight + bias > 0``, else 0."""
    return (x @ weight + bias > 0).float()


def train(x: torch.Tensor, y: torch.Tensor, epochs: int, lr: float = 0.1) -> tuple:
    """Rosenblatt's rule, one example at a time; stops after an epoch without mistakes."""
    weight, bias = torch.zeros(2), torch.zeros(())
    bar = progress_bar(epochs, "learning")
    for _ in range(epochs):
        mistakes = 0
        for point, label in zip(x, y):
            error = label - predict(point, weight, bias)  # -1, 0 or +1
            weight += lr * error * point
            bias += lr * error
            mistakes += int(error.item() != 0)
        bar.record("mistakes", mistakes)
        if mistakes == 0:
            break
    bar.close(f"converged after {bar.done} epochs" if mistakes == 0 else "stopped")
    return weight, bias


def accuracy(x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> float:
    return (predict(x, weight, bias) == y).float().mean().item()


def run(fast: bool = False, data_dir: str | None = None) -> dict:
    """Train a perceptron on separable points; the target is 98% test accuracy."""
    tell_story("1958", "Rosenblatt's perceptron", STORY)
    torch.manual_seed(1958)
    start = time.perf_counter()
    x_train, y_train = make_points(200 if fast else 500)
    x_test, y_test = make_points(500 if fast else 2000)
    weight, bias = train(x_train, y_train, epochs=20 if fast else 100)
    checks = [
        Check("training accuracy", accuracy(x_train, y_train, weight, bias), target=0.98),
        Check("test accuracy", accuracy(x_test, y_test, weight, bias), target=0.98),
    ]
    seconds = time.perf_counter() - start
    return report(SLUG, checks, seconds, fast, weight=weight.tolist(), bias=bias.item())


if __name__ == "__main__":
    sys.exit(main(run, SLUG, __doc__))
