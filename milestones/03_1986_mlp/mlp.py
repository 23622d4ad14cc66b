"""Milestone 03 (1986): a multi-layer perceptron trained by backpropagation reads digits.

    python milestones/03_1986_mlp/mlp.py [--fast] [--data-dir DIR] [--output result.json]

Trains on TinyDigits (8x8, ships with TinyTorch); in full mode also on MNIST (28x28) if its
files are in the data directory (``DIR/mnist/``, see ``tinytorch.datasets.MNIST``).
"""

from __future__ import annotations

import sys
import time

import tinytorch as torch
from tinytorch import nn
from tinytorch.datasets import MNIST, DatasetNotFoundError, ImageDataset, TinyDigits
from tinytorch.milestones.harness import Check, accuracy, main, progress_bar, report, tell_story
from tinytorch.models import mlp_classifier
from tinytorch.utils.data import DataLoader, TensorDataset

SLUG = "03_1986_mlp"
STORY = """
    In 1986 David Rumelhart, Geoffrey Hinton and Ronald Williams showed in Nature that
    backpropagation, the chain rule applied from the loss back through every layer, trains
    networks with hidden layers. The idea had been found before (Linnainmaa in 1970, Werbos
    in 1974), but their experiments showed that hidden units learn useful features by
    themselves.

    Three years later Yann LeCun's team used backpropagation to read handwritten ZIP codes.
    Here an MLP learns handwritten digits with the autograd, layers and optimizer you built.
"""


def as_tensors(dataset: ImageDataset) -> TensorDataset:
    """All images flattened to (N, H*W) float32 in [0, 1], with their labels (N,)."""
    images = dataset.data.float() / 255  # (N, H, W)
    return TensorDataset(images.reshape(len(dataset), -1), dataset.targets)


def train(model: nn.Module, data: TensorDataset, epochs: int, label: str) -> None:
    """Mini-batch Adam on cross-entropy, one progress-bar step per epoch."""
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    loader = DataLoader(data, batch_size=64, shuffle=True)
    bar = progress_bar(epochs, label)
    for _ in range(epochs):
        total = 0.0
        for images, labels in loader:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
        bar.record("loss", total / len(data))
    bar.close(f"loss {total / len(data):.4f}")


def learn(train_set: ImageDataset, test_set: ImageDataset, hidden: int, epochs: int,
          label: str) -> float:  # fmt: skip
    """Train a fresh MLP on ``train_set``; return its accuracy on ``test_set``."""
    train_data, test_data = as_tensors(train_set), as_tensors(test_set)
    model = mlp_classifier(train_data[0][0].shape[0], hidden)
    train(model, train_data, epochs, label)
    model.eval()
    return accuracy(model, test_data)


def run(fast: bool = False, data_dir: str | None = None) -> dict:
    """TinyDigits: >= 95% test accuracy; MNIST (full mode, if present): >= 97%."""
    tell_story("1986", "Backpropagation learns digits", STORY)
    torch.manual_seed(1986)
    start = time.perf_counter()
    digits = learn(TinyDigits(train=True), TinyDigits(train=False), 128, 20 if fast else 40,
                   "TinyDigits")  # fmt: skip
    checks = [Check("TinyDigits, test accuracy", digits, target=0.95)]
    if not fast:
        try:
            mnist_train, mnist_test = MNIST(data_dir, train=True), MNIST(data_dir, train=False)
        except DatasetNotFoundError as missing:
            print(f" MNIST skipped: {missing}")
        else:
            mnist = learn(mnist_train, mnist_test, 256, 8, "MNIST")
            checks.append(Check("MNIST, test accuracy", mnist, target=0.97))
    return report(SLUG, checks, time.perf_counter() - start, fast)


if __name__ == "__main__":
    sys.exit(main(run, SLUG, __doc__))
