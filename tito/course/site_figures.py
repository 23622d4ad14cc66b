"""The website's measurements and plots: every number is measured when the site is built.

Each ``measure_*`` function runs the reference package and returns rows of numbers; each
``plot_*`` function draws rows (or a milestone's learning curves) into a PNG with matplotlib
(the ``site`` extra; ``tinytorch`` never imports it)::

    rows = measure_im2col_memory(FULL.images)
    plot_im2col_memory(rows, Path("im2col.png"))

The sizes are small so that a full site build stays within minutes on a laptop; the
benchmarks in ``benchmarks/`` measure the same effects at the sizes the modules target.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import tinytorch
from tinytorch import nn
from tinytorch.ao.quantization import quantize_dynamic
from tinytorch.datasets import TinyDigits
from tinytorch.models import GPT, GPTConfig, mlp_classifier
from tinytorch.ops.conv import im2col
from tinytorch.utils.data import DataLoader, TensorDataset

KIB = 1024


@dataclass(frozen=True)
class Sizes:
    """How much the measurements page measures: ``FULL`` for the site, ``QUICK`` for tests."""

    images: tuple[int, ...]  # im2col: square 3-channel images of these sides
    tokens: tuple[int, ...]  # KV cache: generate this many tokens
    rounds: int  # KV cache: the fastest of this many runs
    widths: tuple[int, ...]  # quantization: MLPs with these hidden widths
    epochs: int  # quantization: training epochs on TinyDigits


FULL = Sizes(images=(8, 16, 32, 64), tokens=(16, 32, 64, 128), rounds=3, widths=(32, 128, 512),
             epochs=10)  # fmt: skip
QUICK = Sizes(images=(8, 16), tokens=(8, 16), rounds=1, widths=(16, 64), epochs=2)


def _pyplot():
    """matplotlib's pyplot on the file-only Agg backend; a clear error where it is missing."""
    try:
        import matplotlib
    except ImportError as missing:
        raise ImportError(
            'the site\'s plots need matplotlib: python -m pip install -e ".[site]"'
        ) from missing
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path: Path) -> None:
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    _pyplot().close(figure)


def plot_curves(curves: list[dict], title: str, path: Path) -> None:
    """A milestone's learning curves (``{"label", "measure", "values"}``), one line each."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 3.6))
    for curve in curves:
        steps = range(1, len(curve["values"]) + 1)
        axes.plot(steps, curve["values"], label=f"{curve['label']} ({curve['measure']})")
    axes.set_xlabel("epoch or step")
    axes.set_ylabel(", ".join(sorted({curve["measure"] for curve in curves})))
    axes.set_title(title)
    axes.legend()
    _save(figure, path)


def measure_im2col_memory(sizes: tuple[int, ...]) -> list[dict]:
    """Bytes of a (1, 3, S, S) float32 image and of its im2col matrix for a 3x3 kernel.

    im2col copies every 3x3 window into a column, so the matrix holds about 9 copies of
    each pixel: C * 9 * OH * OW numbers against C * H * W.
    """
    rows = []
    for size in sizes:
        image = np.zeros((1, 3, size, size), dtype=np.float32)  # (N, C, H, W)
        columns = im2col(image, (3, 3), (1, 1), (1, 1))  # (N, C, 9, OH, OW)
        rows.append({"size": size, "image_bytes": image.nbytes, "im2col_bytes": columns.nbytes})
    return rows


def plot_im2col_memory(rows: list[dict], path: Path) -> None:
    """Image bytes against im2col bytes, per image size."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 3.6))
    labels = [f"{row['size']}x{row['size']}" for row in rows]
    where = np.arange(len(rows))
    axes.bar(where - 0.2, [row["image_bytes"] / KIB for row in rows], 0.4, label="image")
    axes.bar(where + 0.2, [row["im2col_bytes"] / KIB for row in rows], 0.4, label="im2col")
    axes.set_xticks(where, labels)
    axes.set_yscale("log")
    axes.set_xlabel("3-channel image, 3x3 kernel")
    axes.set_ylabel("KiB (log scale)")
    axes.set_title("im2col copies each pixel into up to 9 columns")
    axes.legend()
    _save(figure, path)


def _small_gpt(block_size: int) -> GPT:
    """An untrained 2-block GPT (64 channels, 4 heads): speed does not depend on weights."""
    tinytorch.manual_seed(0)
    config = GPTConfig(vocab_size=64, block_size=block_size, n_layer=2, n_head=4, n_embd=64)
    return GPT(config).eval()


def measure_kv_cache(lengths: tuple[int, ...], rounds: int) -> list[dict]:
    """Tokens/s of greedy generation with and without the key/value cache, per length (the
    fastest of ``rounds`` runs of each).

    Without the cache every step runs the whole sequence through the model (quadratic work);
    with it each step runs one token against the cached keys and values.
    """
    model = _small_gpt(max(lengths) + 1)
    prompt = tinytorch.zeros((1, 1), dtype=tinytorch.int64)  # (B, T)
    rows = []
    for length in lengths:
        best = {False: float("inf"), True: float("inf")}
        for _ in range(rounds):  # the paths take turns, so a busy machine slows both alike
            for cached in best:
                start = time.perf_counter()
                model.generate(prompt, length, top_k=1, use_cache=cached)
                best[cached] = min(best[cached], time.perf_counter() - start)
        rows.append(
            {
                "tokens": length,
                "uncached_per_s": length / best[False],
                "cached_per_s": length / best[True],
            }
        )
    return rows


def plot_kv_cache(rows: list[dict], path: Path) -> None:
    """Tokens/s against the number of generated tokens, with and without the cache."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 3.6))
    tokens = [row["tokens"] for row in rows]
    axes.plot(tokens, [row["uncached_per_s"] for row in rows], "o-", label="without cache")
    axes.plot(tokens, [row["cached_per_s"] for row in rows], "o-", label="with KV cache")
    axes.set_xscale("log", base=2)
    axes.set_xlabel("tokens generated")
    axes.set_ylabel("tokens per second")
    axes.set_title("Greedy generation, small GPT")
    axes.legend()
    _save(figure, path)


def _digits(train: bool) -> TensorDataset:
    """TinyDigits as (N, 64) float32 in [0, 1] with labels (N,)."""
    dataset = TinyDigits(train=train)
    images = dataset.data.float() / 255  # (N, 8, 8)
    return TensorDataset(images.reshape(len(dataset), -1), dataset.targets)


def _train(model: nn.Module, data: TensorDataset, epochs: int) -> nn.Module:
    """Mini-batch Adam on cross-entropy; the model in eval mode."""
    optimizer = tinytorch.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(epochs):
        for inputs, labels in DataLoader(data, batch_size=64, shuffle=True):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(inputs), labels).backward()
            optimizer.step()
    return model.eval()


def _accuracy(model: nn.Module, data: TensorDataset) -> float:
    inputs, labels = data[:]
    with tinytorch.no_grad():
        return (model(inputs).argmax(dim=1) == labels).float().mean().item()


def _file_bytes(model: nn.Module) -> int:
    """Size of the model's saved ``state_dict``."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.tt")
        tinytorch.save(model.state_dict(), path)
        return os.path.getsize(path)


def measure_quantization(hidden: tuple[int, ...], epochs: int) -> list[dict]:
    """Test accuracy and file size of TinyDigits MLPs in float32 and after
    ``quantize_dynamic`` (int8 weights of every ``nn.Linear``), one row per width."""
    train, test = _digits(train=True), _digits(train=False)
    rows = []
    for width in hidden:
        tinytorch.manual_seed(width)
        model = _train(mlp_classifier(64, width), train, epochs)
        int8 = quantize_dynamic(model, {nn.Linear}, dtype=tinytorch.qint8)
        rows.append(
            {
                "hidden": width,
                "float32_bytes": _file_bytes(model),
                "float32_accuracy": _accuracy(model, test),
                "int8_bytes": _file_bytes(int8),
                "int8_accuracy": _accuracy(int8, test),
            }
        )
    return rows


def plot_quantization(rows: list[dict], path: Path) -> None:
    """Accuracy against file size, float32 and int8, one point per MLP width."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(6.4, 3.6))
    for kind, marker in (("float32", "o-"), ("int8", "s-")):
        sizes = [row[f"{kind}_bytes"] / KIB for row in rows]
        axes.plot(sizes, [100 * row[f"{kind}_accuracy"] for row in rows], marker, label=kind)
    for row in rows:
        axes.annotate(
            f"h={row['hidden']}", (row["float32_bytes"] / KIB, 100 * row["float32_accuracy"])
        )
    axes.set_xscale("log")
    axes.set_xlabel("saved file, KiB (log scale)")
    axes.set_ylabel("TinyDigits test accuracy, %")
    axes.set_title("Dynamic int8 quantization of MLPs")
    axes.legend()
    _save(figure, path)
