"""Measure module 16's targets: pruning, distillation, channel pruning, low rank, sparse files.

    python benchmarks/compression.py --data-dir /work/shared/data     # MNIST (28x28)
    python benchmarks/compression.py --fast                           # TinyDigits (8x8)

Falls back to TinyDigits when the MNIST files are not in DIR/mnist/. Prints one table per
target; every accuracy is on the real test split, every size is the bytes of a saved file,
every latency a measured median (dense and pruned forward passes interleaved, so that a
loaded machine slows both alike). Targets (issue "Optimization tier I"):

1. the MNIST MLP pruned to 90% global sparsity and fine-tuned: within 1 point of dense;
2. a distilled student with >= 4x fewer parameters beats the same student trained without
   the teacher (same epochs, same seeds, averaged over 3 seeds);
3. channel pruning of LeNet-5: forward latency >= 1.5x lower at <= 1 point accuracy loss.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import tempfile
import time
from collections.abc import Callable

import numpy as np

import tinytorch
import tinytorch.nn.functional as F
from tinytorch import nn
from tinytorch.compression import (
    distillation_loss,
    factorize_linears,
    prune_channels,
    save_sparse,
)
from tinytorch.datasets import MNIST, DatasetNotFoundError, TinyDigits
from tinytorch.models import lenet5, mlp_classifier
from tinytorch.nn.utils import prune

Arrays = tuple[np.ndarray, np.ndarray]
LossFor = Callable[[tinytorch.Tensor, np.ndarray], tinytorch.Tensor]


def load_digits(data_dir: str | None, fast: bool) -> tuple[Arrays, Arrays, str]:
    """(train images, labels), (test images, labels) as float32 (N, 1, S, S) in [0, 1]."""
    sets = None
    if not fast:
        try:
            sets = MNIST(data_dir, train=True), MNIST(data_dir, train=False), "MNIST"
        except DatasetNotFoundError as missing:
            print(f"MNIST not found ({missing}); using TinyDigits")
    if sets is None:
        sets = TinyDigits(train=True), TinyDigits(train=False), "TinyDigits"
    train, test, name = sets

    def arrays(data) -> Arrays:
        images = data.data.numpy().astype(np.float32)[:, None] / 255
        return images, data.targets.numpy()

    return arrays(train), arrays(test), name


def train(
    model: nn.Module,
    data: Arrays,
    epochs: int,
    lr: float,
    seed: int,
    loss_for: LossFor | None = None,
    batch_size: int = 64,
) -> None:
    """Adam with a one-cycle learning rate; ``loss_for(scores, batch_indices)`` replaces
    cross-entropy (distillation needs the teacher's scores of the same examples)."""
    images, labels = data
    tinytorch.manual_seed(seed)
    order_rng = np.random.default_rng(seed)
    steps = epochs * -(-len(labels) // batch_size)
    optimizer = tinytorch.optim.Adam(model.parameters(), lr=lr)
    scheduler = tinytorch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    model.train()
    for _ in range(epochs):
        order = order_rng.permutation(len(labels))
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            scores = model(tinytorch.tensor(images[batch]))
            if loss_for is None:
                loss = F.cross_entropy(scores, tinytorch.tensor(labels[batch]))
            else:
                loss = loss_for(scores, batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
    model.eval()


def scores_of(model: nn.Module, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    with tinytorch.no_grad():
        return np.concatenate(
            [
                model(tinytorch.tensor(images[i : i + batch_size])).numpy()
                for i in range(0, len(images), batch_size)
            ]
        )


def accuracy(model: nn.Module, data: Arrays) -> float:
    return float((scores_of(model, data[0]).argmax(1) == data[1]).mean())


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def file_bytes(save: Callable[[str], None]) -> int:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.tt")
        save(path)
        return os.path.getsize(path)


class Flat(nn.Module):
    """(N, 1, S, S) images -> the MLP's (N, S*S) inputs."""

    def __init__(self, mlp: nn.Module) -> None:
        super().__init__()
        self.mlp = mlp

    def forward(self, x: tinytorch.Tensor) -> tinytorch.Tensor:
        return self.mlp(x.flatten(1))


def table(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n{title}", flush=True)
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name:<{width}}  {value}", flush=True)


# ---------------------------------------------------------------------- 1. global pruning
def pruning(train_set: Arrays, test_set: Arrays, epochs: int, hidden: int) -> nn.Module:
    """Train the MLP, prune 90% of its weights globally, fine-tune; returns the dense MLP."""
    inputs = train_set[0][0].size
    teacher = Flat(mlp_classifier(inputs, hidden))
    start = time.perf_counter()
    train(teacher, train_set, epochs, 2e-3, seed=0)
    seconds = time.perf_counter() - start
    dense = accuracy(teacher, test_set)
    pruned = copy.deepcopy(teacher)
    linears = [(m, "weight") for m in pruned.modules() if isinstance(m, nn.Linear)]
    prune.global_unstructured(linears, prune.L1Unstructured, amount=0.9)
    before = accuracy(pruned, test_set)
    train(pruned, train_set, max(1, epochs // 2), 1e-3, seed=1)
    after = accuracy(pruned, test_set)
    zeros = sum(int((m.weight_mask.numpy() == 0).sum()) for m, _ in linears)
    total = sum(m.weight_mask.numel() for m, _ in linears)
    dense_bytes = file_bytes(lambda p: tinytorch.save(teacher.state_dict(), p))
    sparse_bytes = file_bytes(lambda p: save_sparse(pruned, p))
    table(
        f"1. MLP {inputs}-{hidden}-{hidden // 2}-10, global L1 pruning to 90% + fine-tuning",
        [
            ("dense test accuracy", f"{dense:.2%}  (trained {epochs} epochs, {seconds:.0f} s)"),
            ("weights pruned", f"{zeros / total:.1%} of {total}"),
            ("pruned, before fine-tuning", f"{before:.2%}"),
            ("pruned + fine-tuned", f"{after:.2%}  ({max(1, epochs // 2)} epochs)"),
            ("difference to dense", f"{(after - dense) * 100:+.2f} points (target >= -1)"),
            ("dense file", f"{dense_bytes:,} bytes"),
            (
                "sparse file (bitmask)",
                f"{sparse_bytes:,} bytes ({dense_bytes / sparse_bytes:.1f}x)",
            ),
        ],
    )
    return teacher


# ---------------------------------------------------------------------- 2. distillation
def distillation(
    teacher: nn.Module,
    train_set: Arrays,
    test_set: Arrays,
    epochs: int,
    hidden: int,
    temperature: float,
    alpha: float,
) -> None:
    """Students with and without the teacher, same seeds and epochs; mean test accuracy."""
    inputs = train_set[0][0].size
    teacher_scores = scores_of(teacher, train_set[0])
    labels = train_set[1]

    def distilled(scores: tinytorch.Tensor, batch: np.ndarray) -> tinytorch.Tensor:
        return distillation_loss(
            scores,
            tinytorch.tensor(teacher_scores[batch]),
            tinytorch.tensor(labels[batch]),
            temperature=temperature,
            alpha=alpha,
        )

    results: dict[str, list[float]] = {"alone": [], "distilled": []}
    student_size = 0
    for seed in (0, 1, 2):
        for mode, loss_for in (("alone", None), ("distilled", distilled)):
            tinytorch.manual_seed(100 + seed)
            student = Flat(mlp_classifier(inputs, hidden))
            student_size = parameter_count(student)
            train(student, train_set, epochs, 2e-3, seed=100 + seed, loss_for=loss_for)
            results[mode].append(accuracy(student, test_set))
    alone, distilled_mean = (statistics.mean(results[m]) for m in ("alone", "distilled"))
    table(
        f"2. Distillation (T = {temperature}, alpha = {alpha}), "
        f"student MLP {inputs}-{hidden}-{hidden // 2}-10",
        [
            (
                "teacher",
                f"{parameter_count(teacher):,} parameters, {accuracy(teacher, test_set):.2%}",
            ),  # fmt: skip
            (
                "student",
                f"{student_size:,} parameters "
                f"({parameter_count(teacher) / student_size:.1f}x fewer), {epochs} epochs",
            ),  # fmt: skip
            ("student alone, seeds 0-2", "  ".join(f"{a:.2%}" for a in results["alone"])),
            ("student distilled, seeds 0-2", "  ".join(f"{a:.2%}" for a in results["distilled"])),
            (
                "mean alone -> distilled",
                f"{alone:.2%} -> {distilled_mean:.2%} "
                f"({(distilled_mean - alone) * 100:+.2f} points, target > 0)",
            ),  # fmt: skip
        ],
    )


# ---------------------------------------------------------------------- 3. channel pruning
def interleaved_latency(models: list[nn.Module], x: tinytorch.Tensor, rounds: int) -> list[float]:
    """Median seconds per forward of each model, the models taking turns every round."""
    times: list[list[float]] = [[] for _ in models]
    with tinytorch.no_grad():
        for model in models:
            model(x)  # warm-up
        for _ in range(rounds):
            for model, record in zip(models, times, strict=True):
                start = time.perf_counter()
                model(x)
                record.append(time.perf_counter() - start)
    return [statistics.median(record) for record in times]


def channel_pruning(
    train_set: Arrays, test_set: Arrays, epochs: int, tune_epochs: int, amount: float, rounds: int
) -> None:
    size = train_set[0].shape[-1]
    model = lenet5(size)
    train(model, train_set, epochs, 3e-3, seed=0, batch_size=128)
    dense = accuracy(model, test_set)
    small = prune_channels(model, amount)
    before = accuracy(small, test_set)
    train(small, train_set, tune_epochs, 1e-3, seed=1, batch_size=128)
    after = accuracy(small, test_set)
    rows = [
        ("dense test accuracy", f"{dense:.2%}  ({parameter_count(model):,} parameters)"),
        ("pruned, before fine-tuning", f"{before:.2%}"),
        (
            f"pruned + {tune_epochs} epochs fine-tuning",
            f"{after:.2%}  ({parameter_count(small):,} parameters)",
        ),
        ("difference to dense", f"{(after - dense) * 100:+.2f} points (target >= -1)"),
    ]
    for batch in (1, 64, 256):
        x = tinytorch.tensor(test_set[0][:batch])
        dense_s, small_s = interleaved_latency([model, small], x, rounds)
        rows.append(
            (
                f"forward latency, batch {batch}",
                f"{dense_s * 1e3:.3f} ms -> {small_s * 1e3:.3f} ms "
                f"({dense_s / small_s:.2f}x faster, target >= 1.5x)",
            )
        )
    table(f"3. LeNet-5 channel pruning: {amount:.0%} of the channels of each layer", rows)


# ---------------------------------------------------------------------- 4. low rank
def low_rank(teacher: nn.Module, test_set: Arrays) -> None:
    """Accuracy of the trained MLP with its Linears factorised at several ranks (no tuning)."""
    rows = [("full (dense)", f"{accuracy(teacher, test_set):.2%}, "
             f"{parameter_count(teacher):,} parameters")]  # fmt: skip
    for rank in (4, 8, 16, 32, 64):
        model = factorize_linears(copy.deepcopy(teacher), rank)
        rows.append(
            (
                f"rank {rank}",
                f"{accuracy(model, test_set):.2%}, {parameter_count(model):,} parameters",
            )  # fmt: skip
        )
    table("4. Low-rank MLP (truncated SVD of every Linear that shrinks, no fine-tuning)", rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="folder holding mnist/")
    parser.add_argument("--fast", action="store_true", help="TinyDigits only, fewer epochs")
    parser.add_argument("--rounds", type=int, default=50, help="timed forward passes per model")
    parser.add_argument("--amount", type=float, default=0.5, help="channel-pruning amount")
    parser.add_argument("--temperature", type=float, default=2.0, help="distillation T")
    parser.add_argument("--alpha", type=float, default=0.5, help="weight of the soft term")
    args = parser.parse_args()
    train_set, test_set, name = load_digits(args.data_dir, args.fast)
    small = name == "TinyDigits"
    print(f"{name}: {len(train_set[1])} training and {len(test_set[1])} test images")
    print("timings on a shared machine: compare ratios, not absolute times")
    teacher = pruning(train_set, test_set, epochs=30 if small else 8, hidden=128 if small else 256)
    hidden = 128 if small else 256
    distillation(
        teacher,
        train_set,
        test_set,
        epochs=10 if small else 3,
        hidden=hidden // 4,
        temperature=args.temperature,
        alpha=args.alpha,
    )
    epochs, tune_epochs = (20, 10) if small else (3, 1)
    channel_pruning(train_set, test_set, epochs, tune_epochs, args.amount, args.rounds)
    low_rank(teacher, test_set)


if __name__ == "__main__":
    main()
