"""An MLPerf-style run of LeNet-5 on TinyDigits with the module-19 harness.

    python benchmarks/mlperf_lenet.py                       # 1,024+ queries, 5 offline repeats
    python benchmarks/mlperf_lenet.py --json report.json --threads 2

Trains LeNet-5 (8x8) on TinyDigits, then benchmarks four submissions under the same rules:
the float model and its dynamic int8 version (closed division: post-training), and the model
with half its channels pruned, with and without fine-tuning (open division). The quality
target is 99% of the float model's test accuracy, as in MLPerf. Prints Timer's overhead per
run, a Compare table, the report (verdict, rank, accuracy, size on disk, p90 latency and
throughput with bootstrap 95% intervals) and the system; writes the JSON report if asked.
"""

from __future__ import annotations

import argparse

import tinytorch
from tinytorch import nn
from tinytorch.ao.quantization import quantize_dynamic
from tinytorch.compression import prune_channels
from tinytorch.datasets import TinyDigits
from tinytorch.models import lenet5
from tinytorch.utils.benchmark import Compare, Timer
from tinytorch.utils.benchmark.mlperf import Division, Harness, Report
from tinytorch.utils.data import DataLoader, TensorDataset


def as_images(dataset: TinyDigits) -> tuple[tinytorch.Tensor, tinytorch.Tensor]:
    return dataset.data.float().unsqueeze(1) / 255, dataset.targets  # (N, 1, 8, 8), (N,)


def train(model: nn.Module, images, labels, epochs: int) -> nn.Module:
    optimizer = tinytorch.optim.Adam(model.parameters(), lr=5e-3)
    loader = DataLoader(TensorDataset(images, labels), batch_size=32, shuffle=True)
    model.train()
    for _ in range(epochs):
        for batch, targets in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(batch), targets).backward()
            optimizer.step()
    return model.eval()


def timer_overhead() -> None:
    """Seconds per run of an empty statement: what Timer adds to every run it measures."""
    for stmt in ("pass", lambda: None):
        measured = Timer(stmt).blocked_autorange(min_run_time=0.2)
        print(f"Timer overhead, stmt {measured.stmt!r}: {measured.median * 1e9:.0f} ns per run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads during the runs")
    parser.add_argument("--max-duration", type=float, default=30.0, help="single-stream bound")
    parser.add_argument("--json", help="write the JSON report to this file")
    args = parser.parse_args()

    tinytorch.manual_seed(0)
    train_images, train_labels = as_images(TinyDigits(train=True))
    test_images, test_labels = as_images(TinyDigits(train=False))
    model = train(lenet5(8), train_images, train_labels, args.epochs)
    pruned = prune_channels(model, 0.5)
    submissions = {
        "float32": (model, Division.CLOSED, []),
        "int8 dynamic": (
            quantize_dynamic(model, {nn.Linear}),
            Division.CLOSED,
            ["post_training_quantization"],
        ),
        "pruned 50%": (pruned, Division.OPEN, ["channel_pruning"]),
        "pruned 50% + tuned": (
            train(prune_channels(model, 0.5), train_images, train_labels, 2),
            Division.OPEN,
            ["channel_pruning", "retraining"],
        ),
    }

    timer_overhead()
    measurements = []
    with tinytorch.no_grad():
        for name, (net, _, _) in submissions.items():
            for batch in (1, 64):
                measurements.append(
                    Timer(
                        "net(x)",
                        globals={"net": net, "x": test_images[:batch]},
                        num_threads=args.threads,
                        label="LeNet-5 forward (TinyDigits)",
                        sub_label=name,
                        description=f"batch {batch}",
                    ).blocked_autorange(min_run_time=0.5)
                )
    Compare(measurements).print()

    float_accuracy = Harness(test_images, test_labels, 0.0).accuracy(model)
    harness = Harness(
        test_images,
        test_labels,
        quality_target=0.99 * float_accuracy,
        max_duration=args.max_duration,
        num_threads=args.threads,
    )
    report = Report([harness.run(name, *entry) for name, entry in submissions.items()])
    report.print()
    if args.json:
        report.save(args.json)
        print(f"JSON report written to {args.json}")


if __name__ == "__main__":
    main()
