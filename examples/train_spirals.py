"""Train a small MLP to separate two interleaved spirals: PyTorch code, tinytorch underneath.

This is an ordinary PyTorch training script. The only change is its import line
(``import tinytorch as torch``); ``--backend torch`` runs the very same code on PyTorch, for
comparison. Run it with::

    python examples/train_spirals.py            # tinytorch
    python examples/train_spirals.py --backend torch
"""

from __future__ import annotations

import argparse
import importlib
import time

import numpy as np


def make_spirals(points_per_class: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two spirals in the plane, one per class: x (2N, 2) float32, y (2N,) int64."""
    rng = np.random.default_rng(seed)
    radius = np.linspace(0.05, 1.0, points_per_class)
    features, labels = [], []
    for label in (0, 1):
        angle = 3 * np.pi * radius + label * np.pi + rng.normal(0, noise, points_per_class)
        features.append(np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1))
        labels.append(np.full(points_per_class, label))
    return np.concatenate(features).astype(np.float32), np.concatenate(labels).astype(np.int64)


def train(torch, epochs: int, seed: int, verbose: bool = True) -> float:
    """Train an MLP on the spirals with ``torch`` (tinytorch or PyTorch); return the accuracy."""
    nn, data = torch.nn, torch.utils.data

    torch.manual_seed(seed)
    x, y = make_spirals(points_per_class=500, noise=0.1, seed=seed)
    dataset = data.TensorDataset(torch.tensor(x), torch.tensor(y))
    loader = data.DataLoader(dataset, batch_size=64, shuffle=True)
    model = nn.Sequential(
        nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2)
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)

    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for inputs, targets in loader:
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(inputs), targets)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(targets)
        scheduler.step()
        if verbose and (epoch + 1) % 10 == 0:
            print(f"epoch {epoch + 1:3d}  loss {total / len(y):.4f}")
    model.eval()
    with torch.no_grad():
        predictions = model(torch.tensor(x)).argmax(dim=1)
        accuracy = (predictions == torch.tensor(y)).float().mean().item()
    if verbose:
        print(f"{torch.__name__}: accuracy {accuracy:.1%} in {time.perf_counter() - start:.1f} s")
    return accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["tinytorch", "torch"], default="tinytorch")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    train(importlib.import_module(args.backend), args.epochs, args.seed)


if __name__ == "__main__":
    main()
