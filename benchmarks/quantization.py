"""Quantization targets, measured: accuracy, bytes on disk and speed of int8 models.

    python benchmarks/quantization.py --data-dir /work/shared/data    # MNIST
    python benchmarks/quantization.py --fast                           # TinyDigits only

1. The integer GEMM: int8 x int8 -> int32 of (256, 1024) @ (1024, 512) as NumPy's integer
   matmul, as one float32 BLAS call (fast, exact only while sums stay below 2^24) and as
   ``int_matmul`` (float32 BLAS on chunks of K, always exact). Interleaved, median of runs.
2. Dynamic quantization: the digit MLP (``mlp_classifier(784, 256)``) trained, then
   ``quantize_dynamic(model, {nn.Linear}, dtype=qint8)``. Targets: within 0.5 points,
   file >= 3.5x smaller.
3. Static post-training quantization: LeNet-5 trained, ReLUs fused, ``get_default_qconfig
   ("x86")``, calibrated on 2,048 training images, converted. Same targets.
4. The prepacked kernels that quantized modules run (``linear_packed``, ``conv2d_packed``)
   against the plain ``linear`` and ``conv2d`` on LeNet-5's second convolution and first
   Linear, batch 1 (one query) and 64: microseconds per call, and the largest difference of
   their integers (at most one step: the packed kernels fold the requantization).

Sizes are bytes of files written by ``tinytorch.save(model.state_dict(), path)``;
accuracies come from the full test split. Falls back to TinyDigits (8x8) when the MNIST
files are missing (``DATA_DIR/mnist/``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np

import tinytorch as torch
from tinytorch import nn
from tinytorch.ao import quantization as tq
from tinytorch.ao.nn.quantized import functional as qF
from tinytorch.ao.nn.quantized.functional import int_matmul
from tinytorch.datasets import MNIST, DatasetNotFoundError, ImageDataset, TinyDigits
from tinytorch.models import lenet5, mlp_classifier
from tinytorch.threads import num_threads_limited
from tinytorch.utils.data import DataLoader, TensorDataset

FUSED_LENET = [["1", "2"], ["4", "5"], ["8", "9"], ["10", "11"]]  # after a QuantStub at 0


def time_gemm(repeats: int) -> dict[str, float]:
    """Median milliseconds of the three int8 products, taking turns."""
    rng = np.random.default_rng(0)
    a = rng.integers(-128, 128, (256, 1024)).astype(np.int8)
    b = rng.integers(-128, 128, (1024, 512)).astype(np.int8)
    exact = a.astype(np.int64) @ b.astype(np.int64)
    ways = {
        "NumPy int32 matmul": lambda: a.astype(np.int32) @ b.astype(np.int32),
        "one float32 matmul": lambda: a.astype(np.float32) @ b.astype(np.float32),
        "int_matmul (chunked float32)": lambda: int_matmul(a, b),
    }
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(repeats):
        for name, way in ways.items():
            start = time.perf_counter()
            result = way()
            times[name].append(1e3 * (time.perf_counter() - start))
            assert np.array_equal(result.astype(np.int64), exact) or name.startswith("one")
    return {name: statistics.median(values) for name, values in times.items()}


def per_call_us(call, repeats: int, number: int = 200) -> float:
    """Median microseconds per call of ``call`` over ``repeats`` runs of ``number`` calls."""
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            call()
        runs.append(1e6 * (time.perf_counter() - start) / number)
    return statistics.median(runs)


def packed_kernel_calls(batch: int) -> dict:
    """The plain and prepacked int8 kernels on LeNet-5 (8x8) shapes for ``batch`` inputs:
    its second convolution (6 -> 16 channels, 3x3, 4x4 maps) and first Linear (64 -> 120)."""
    rng = np.random.default_rng(0)

    def quantized(shape: tuple[int, ...]) -> qF.QuantizedTensor:
        x = torch.tensor(rng.random(shape).astype(np.float32))
        return torch.quantize_per_tensor(x, 1 / 255, 0, torch.quint8)

    def weight(shape: tuple[int, ...]) -> qF.QuantizedTensor:
        scales, zero_points = torch.full((shape[0],), 1e-3), torch.zeros(shape[0]).long()
        return torch.quantize_per_channel(torch.randn(*shape) * 0.1, scales, zero_points, 0,
                                          torch.qint8)  # fmt: skip

    x_conv, w_conv, conv_bias = quantized((batch, 6, 4, 4)), weight((16, 6, 3, 3)), None
    x_linear, w_linear, linear_bias = quantized((batch, 64)), weight((120, 64)), None
    index = qF.indirection((6, 4, 4), (3, 3), (1, 1), (1, 1), (1, 1))
    conv_pack = qF.pack_layer(w_conv, conv_bias, 0.05, 0)
    linear_pack = qF.pack_layer(w_linear, linear_bias, 0.05, 0)
    one = (1, 1)
    return {
        "conv2d": lambda: qF.conv2d(x_conv, w_conv, conv_bias, one, one, one, 0.05, 0),
        "conv2d_packed": lambda: qF.conv2d_packed(x_conv, conv_pack, index, (4, 4)),
        "linear": lambda: qF.linear(x_linear, w_linear, linear_bias, 0.05, 0),
        "linear_packed": lambda: qF.linear_packed(x_linear, linear_pack),
    }


def time_packed_kernels(repeats: int) -> None:
    """Microseconds per call of the plain and the prepacked kernels, and the largest
    difference of their integers."""
    print("\nint8 kernels, LeNet-5 8x8 shapes, one BLAS thread: microseconds per call (median)")
    for batch in (1, 64):
        calls = packed_kernel_calls(batch)
        for plain, packed in (("conv2d", "conv2d_packed"), ("linear", "linear_packed")):
            steps = np.abs(calls[plain]().int_repr().numpy().astype(np.int64)
                           - calls[packed]().int_repr().numpy()).max()  # fmt: skip
            slow, fast = per_call_us(calls[plain], repeats), per_call_us(calls[packed], repeats)
            print(f"  batch {batch:2d} {plain:7} {slow:8.1f}  {packed:14} {fast:8.1f}  "
                  f"{slow / fast:4.1f}x  integers differ by at most {steps}")  # fmt: skip


def image_tensors(dataset: ImageDataset) -> TensorDataset:
    return TensorDataset((dataset.data.float() / 255).unsqueeze(1), dataset.targets)


def train(model: nn.Module, data: TensorDataset, epochs: int, lr: float) -> nn.Module:
    loader = DataLoader(data, batch_size=64, shuffle=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=epochs * len(loader)
    )
    for _ in range(epochs):
        for images, labels in loader:
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(images), labels).backward()
            optimizer.step()
            scheduler.step()
    return model.eval()


def evaluate(model: nn.Module, data: TensorDataset) -> tuple[float, float]:
    """(accuracy in %, seconds for the whole test split in batches of 1,000)."""
    correct, start = 0, time.perf_counter()
    with torch.no_grad():
        for images, labels in DataLoader(data, batch_size=1000):
            correct += int((model(images).argmax(1) == labels).sum())
    return 100 * correct / len(data), time.perf_counter() - start


def file_size(model: nn.Module) -> int:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.tt")
        torch.save(model.state_dict(), path)
        return os.path.getsize(path)


def static_quantize(lenet: nn.Module, calibration: torch.Tensor) -> nn.Module:
    model = nn.Sequential(tq.QuantStub(), *lenet, tq.DeQuantStub()).eval()
    model = tq.fuse_modules(model, FUSED_LENET)
    model.qconfig = tq.get_default_qconfig("x86")
    prepared = tq.prepare(model)
    with torch.no_grad():
        for start in range(0, len(calibration), 256):
            prepared(calibration[start : start + 256])
    return tq.convert(prepared)


def compare(name: str, float_model: nn.Module, int8_model: nn.Module, test: TensorDataset) -> bool:
    float_accuracy, float_time = evaluate(float_model, test)
    int8_accuracy, int8_time = evaluate(int8_model, test)
    float_bytes, int8_bytes = file_size(float_model), file_size(int8_model)
    drop, ratio = float_accuracy - int8_accuracy, float_bytes / int8_bytes
    passed = drop <= 0.5 and ratio >= 3.5
    print(f"\n{name}")
    print(f"  {'':10} {'accuracy':>9} {'file bytes':>11} {'test-set forward':>17}")
    print(f"  {'float32':10} {float_accuracy:8.2f}% {float_bytes:11,d} {float_time:16.3f}s")
    print(f"  {'int8':10} {int8_accuracy:8.2f}% {int8_bytes:11,d} {int8_time:16.3f}s")
    verdict = "PASS" if passed else "MISS"
    print(f"  drop {drop:+.2f} points (target <= 0.5), {ratio:.2f}x smaller (target >= 3.5): "
          f"{verdict}")  # fmt: skip
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=None, help="folder holding mnist/")
    parser.add_argument("--fast", action="store_true", help="TinyDigits only, fewer epochs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)

    print("int8 (256, 1024) @ (1024, 512) -> int32, median ms (machine may be loaded)")
    for name, ms in time_gemm(repeats=5 if args.fast else 15).items():
        print(f"  {name:30} {ms:9.2f} ms")
    with num_threads_limited(1):
        time_packed_kernels(repeats=5 if args.fast else 15)

    try:
        if args.fast or args.data_dir is None:
            raise DatasetNotFoundError("fast mode or no --data-dir")
        train_set, test_set = MNIST(args.data_dir, train=True), MNIST(args.data_dir, train=False)
        side, mlp_epochs, lenet_epochs = 28, 8, 3
    except DatasetNotFoundError as missing:
        print(f"\nMNIST not used ({missing}); TinyDigits 8x8 instead")
        train_set, test_set = TinyDigits(train=True), TinyDigits(train=False)
        side, mlp_epochs, lenet_epochs = 8, 10, 10
    train_data, test_data = image_tensors(train_set), image_tensors(test_set)

    start = time.perf_counter()
    mlp = train(nn.Sequential(nn.Flatten(), *mlp_classifier(side * side, 256)), train_data,
                mlp_epochs, 2e-3)  # fmt: skip
    print(f"\n(MLP trained in {time.perf_counter() - start:.0f} s)")
    dynamic = tq.quantize_dynamic(mlp, {nn.Linear}, dtype=torch.qint8)
    results = [compare("MLP, quantize_dynamic (qint8 weights)", mlp, dynamic, test_data)]

    start = time.perf_counter()
    lenet = train(lenet5(side), train_data, lenet_epochs, 3e-3)
    print(f"\n(LeNet-5 trained in {time.perf_counter() - start:.0f} s)")
    calibration = train_data[:2048][0]
    static = static_quantize(lenet, calibration)
    results.append(compare("LeNet-5, static int8 (x86 qconfig, fused ReLU)", lenet, static,
                           test_data))  # fmt: skip
    print(f"\n{sum(results)} of {len(results)} targets met")


if __name__ == "__main__":
    main()
