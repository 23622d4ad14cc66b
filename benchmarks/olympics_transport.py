"""What the Olympics' pipe between the measuring process and the model process costs.

    python benchmarks/olympics_transport.py               # speed track rules: 1,024 queries
    python benchmarks/olympics_transport.py --repeats 3 --queries 256

A linear classifier of TinyDigits is trained for a few seconds and written as a speed
submission. Each repeat measures, on the same test digits and single-stream rules:

- **in process**: module 19's ``single_stream`` calling the model directly, as the
  evaluation did while the model ran in the measuring process;
- **evaluate**: ``tinytorch.olympics.evaluate.evaluate``, the model in its own process,
  each query timed over the pipe; and its ``details["transport_ms"]``, the p90 of the
  model process's echo phase, where it answers zeros before loading the model (the pipe
  alone).

Medians over the repeats are printed, in milliseconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
from pathlib import Path

import tinytorch
from tinytorch import nn
from tinytorch.olympics.data import load_images
from tinytorch.olympics.evaluate import evaluate
from tinytorch.olympics.submission import write_submission
from tinytorch.olympics.tracks import get_track
from tinytorch.threads import num_threads_limited
from tinytorch.utils.benchmark.mlperf import single_stream

MODEL_CODE = """from tinytorch import nn


def build_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
"""


def trained_model(images: tinytorch.Tensor, labels: tinytorch.Tensor) -> nn.Module:
    """The model of ``MODEL_CODE``, trained with Adam: about 96% TinyDigits test accuracy."""
    tinytorch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    optimizer = tinytorch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(30):
        loss = nn.functional.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--queries", type=int, default=get_track("speed").latency_queries)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        no_mnist = Path(folder) / "data"  # the speed track falls back to TinyDigits
        track = dataclasses.replace(get_track("speed"), latency_queries=args.queries)
        train = load_images(track, train=True, data_dir=no_mnist)
        model = trained_model(train.images, train.labels)
        submission = Path(folder) / "linear"
        write_submission(submission, model, MODEL_CODE, track="speed", division="open",
                         name="linear", techniques=["architecture_change"])  # fmt: skip
        test = load_images(track, train=False, data_dir=no_mnist).images
        samples = [test[index : index + 1] for index in range(len(test))]
        figures: dict[str, list[float]] = {"in process": [], "evaluate": [], "transport": []}
        for _ in range(args.repeats):
            with tinytorch.no_grad(), num_threads_limited(1):
                stream = single_stream(model, samples, min_query_count=args.queries)
            figures["in process"].append(stream.p90 * 1e3)
            evaluation = evaluate(submission, data_dir=no_mnist, track=track)
            figures["evaluate"].append(evaluation.p90_ms)
            figures["transport"].append(evaluation.details["transport_ms"])
    print(f"single-stream p90 over {args.queries} queries, median of {args.repeats} repeats")
    for name, values in figures.items():
        print(f"{name:<12} {statistics.median(values):8.4f} ms")


if __name__ == "__main__":
    main()
