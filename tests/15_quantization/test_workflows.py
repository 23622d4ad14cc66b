"""Dynamic quantization, static PTQ, QAT and saving, on TinyDigits (module 15).

The targets of the course, on the data that ships with the package: quantized accuracy
within 0.5 points of float32, and a saved file at least 3.5x smaller (the MLP) or 2.5x
(LeNet-5 on 8x8 images: its 20k weights are so few that the ~250 bytes of headers of each
of the 22 saved tensors weigh; on MNIST's 28x28 LeNet-5 the file is 3.5x smaller, see
benchmarks/quantization.py).
"""

import os

import numpy as np
import pytest

import tinytorch
from tinytorch import nn
from tinytorch.ao import quantization as tq
from tinytorch.ao.nn import quantized as nnq
from tinytorch.datasets import TinyDigits
from tinytorch.models import lenet5, mlp_classifier
from tinytorch.qtensor import QuantizedTensor

pytestmark = pytest.mark.module15
FUSED_LENET = [["1", "2"], ["4", "5"], ["8", "9"], ["10", "11"]]  # after a QuantStub at 0


def digits(train: bool) -> tuple[tinytorch.Tensor, tinytorch.Tensor]:
    dataset = TinyDigits(train=train)
    return (dataset.data.float() / 255).unsqueeze(1), dataset.targets  # (N, 1, 8, 8), (N,)


def fit(model: nn.Module, images, labels, epochs: int) -> nn.Module:
    optimizer = tinytorch.optim.Adam(model.parameters(), lr=5e-3)
    for _ in range(epochs):
        order = np.random.permutation(len(labels))
        for start in range(0, len(labels), 32):
            batch = tinytorch.tensor(order[start : start + 32])
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(images[batch]), labels[batch])
            loss.backward()
            optimizer.step()
    return model.eval()


def accuracy(model: nn.Module, images, labels) -> float:
    with tinytorch.no_grad():
        return 100 * float((model(images).argmax(1) == labels).float().mean())


def saved_size(module: nn.Module, path) -> int:
    tinytorch.save(module.state_dict(), path)
    return os.path.getsize(path)


@pytest.fixture(scope="module")
def data():
    return digits(True), digits(False)


@pytest.fixture(scope="module")
def trained_lenet(data):
    np.random.seed(15)
    tinytorch.manual_seed(15)
    (images, labels), _ = data
    return fit(lenet5(8), images, labels, epochs=8)


@pytest.fixture(scope="module")
def trained_mlp(data):
    np.random.seed(15)
    tinytorch.manual_seed(15)
    (images, labels), _ = data
    return fit(nn.Sequential(nn.Flatten(), *mlp_classifier(64, 256)), images, labels, epochs=4)


def static_lenet(lenet: nn.Module, calibration) -> nn.Module:
    model = nn.Sequential(tq.QuantStub(), *lenet, tq.DeQuantStub()).eval()
    model = tq.fuse_modules(model, FUSED_LENET)
    model.qconfig = tq.get_default_qconfig("x86")
    prepared = tq.prepare(model)
    with tinytorch.no_grad():
        for start in range(0, len(calibration), 256):
            prepared(calibration[start : start + 256])
    return tq.convert(prepared)


def test_static_lenet_keeps_accuracy_and_shrinks_the_file(data, trained_lenet, tmp_path) -> None:
    (train_images, _), (test_images, test_labels) = data
    quantized = static_lenet(trained_lenet, train_images[:512])
    assert isinstance(quantized[1], nnq.ConvReLU2d) and isinstance(quantized[12], nnq.Linear)
    float_accuracy = accuracy(trained_lenet, test_images, test_labels)
    int8_accuracy = accuracy(quantized, test_images, test_labels)
    assert float_accuracy > 90
    assert int8_accuracy >= float_accuracy - 0.5, (float_accuracy, int8_accuracy)
    ratio = saved_size(trained_lenet, tmp_path / "f.tt") / saved_size(quantized, tmp_path / "q.tt")
    assert ratio >= 2.5, ratio


def test_quantized_layers_compute_on_int8(data, trained_lenet) -> None:
    (train_images, _), _ = data
    quantized = static_lenet(trained_lenet, train_images[:256])
    conv = quantized[1]
    assert conv.weight_int.numpy().dtype == np.int8
    assert conv.weight().qscheme() is tinytorch.per_channel_affine  # one scale per channel
    assert conv.weight_scale.shape == (6,)
    hidden = quantized[:3](train_images[:4])  # Quantize, ConvReLU2d, Identity
    assert isinstance(hidden, QuantizedTensor) and hidden.dtype is tinytorch.quint8


def test_dynamic_mlp_keeps_accuracy_and_is_3_5x_smaller(data, trained_mlp, tmp_path) -> None:
    _, (test_images, test_labels) = data
    quantized = tq.quantize_dynamic(trained_mlp, {nn.Linear}, dtype=tinytorch.qint8)
    assert isinstance(quantized[1], nnq.dynamic.Linear)
    assert isinstance(trained_mlp[1], nn.Linear)  # the float model is left as it was
    float_accuracy = accuracy(trained_mlp, test_images, test_labels)
    int8_accuracy = accuracy(quantized, test_images, test_labels)
    assert int8_accuracy >= float_accuracy - 0.5, (float_accuracy, int8_accuracy)
    ratio = saved_size(trained_mlp, tmp_path / "f.tt") / saved_size(quantized, tmp_path / "q.tt")
    assert ratio >= 3.5, ratio


def test_dynamic_linear_is_close_to_pytorchs() -> None:
    from tests.helpers import torch_or_skip

    torch = torch_or_skip()
    ours_float = nn.Linear(32, 16)
    theirs_float = torch.nn.Linear(32, 16)
    theirs_float.load_state_dict(
        {k: torch.tensor(v.numpy()) for k, v in ours_float.state_dict().items()}
    )
    ours = tq.quantize_dynamic(nn.Sequential(ours_float), {nn.Linear})
    theirs = torch.ao.quantization.quantize_dynamic(
        torch.nn.Sequential(theirs_float), {torch.nn.Linear}
    )
    x = np.random.randn(8, 32).astype(np.float32)
    np.testing.assert_allclose(
        ours(tinytorch.tensor(x)).numpy(), theirs(torch.from_numpy(x)).detach().numpy(), atol=2e-3
    )
    np.testing.assert_array_equal(
        ours[0].weight().int_repr().numpy(), theirs[0].weight().int_repr().numpy()
    )


def test_saved_quantized_model_holds_int8_bytes_and_loads_back(
    data, trained_lenet, tmp_path
) -> None:
    (train_images, _), (test_images, _) = data
    quantized = static_lenet(trained_lenet, train_images[:256])
    tinytorch.save(quantized.state_dict(), tmp_path / "q.tt")
    state = tinytorch.load(tmp_path / "q.tt")
    weights = [key for key in state if key.endswith("weight_int")]
    assert len(weights) == 5 and all(state[key].dtype is tinytorch.int8 for key in weights)
    other = static_lenet(lenet5(8).eval(), train_images[256:512])  # different values
    other.load_state_dict(state)
    np.testing.assert_array_equal(other(test_images).numpy(), quantized(test_images).numpy())


def test_convert_before_calibration_raises_naming_the_layer(trained_lenet) -> None:
    model = nn.Sequential(tq.QuantStub(), *trained_lenet, tq.DeQuantStub()).eval()
    model.qconfig = tq.default_qconfig
    prepared = tq.prepare(model)
    with pytest.raises(RuntimeError, match="calibration") as error:
        tq.convert(prepared)
    assert "'0'" in str(error.value)


def test_prepare_without_qconfig_raises() -> None:
    with pytest.raises(ValueError, match="qconfig"):
        tq.prepare(nn.Sequential(nn.Linear(2, 2)))


def test_quantized_layer_refuses_a_float_input() -> None:
    model = nn.Sequential(nn.Linear(4, 2)).eval()
    model.qconfig = tq.default_qconfig
    prepared = tq.prepare(model)
    prepared(tinytorch.randn(3, 4))
    with pytest.raises(TypeError, match="QuantStub"):
        tq.convert(prepared)(tinytorch.randn(3, 4))


def test_qconfig_none_keeps_a_layer_in_float() -> None:
    model = nn.Sequential(tq.QuantStub(), nn.Linear(4, 3), tq.DeQuantStub(), nn.Linear(3, 2))
    model.qconfig = tq.default_qconfig
    model[3].qconfig = None
    prepared = tq.prepare(model.eval())
    prepared(tinytorch.randn(5, 4))
    quantized = tq.convert(prepared)
    assert isinstance(quantized[1], nnq.Linear) and type(quantized[3]) is nn.Linear
    assert quantized(tinytorch.randn(2, 4)).shape == (2, 2)


def test_quantization_aware_training_learns_and_converts(data) -> None:
    (images, labels), (test_images, test_labels) = data
    np.random.seed(3)
    tinytorch.manual_seed(3)
    model = nn.Sequential(tq.QuantStub(), nn.Flatten(), *mlp_classifier(64, 64), tq.DeQuantStub())
    model.qconfig = tq.get_default_qat_qconfig("x86")
    prepared = tq.prepare_qat(model.train())
    assert isinstance(prepared[2].weight_fake_quant, tq.FakeQuantize)
    fit(prepared, images, labels, epochs=3)
    qat_accuracy = accuracy(prepared, test_images, test_labels)
    quantized = tq.convert(prepared.eval())
    assert isinstance(quantized[2], nnq.Linear)
    assert qat_accuracy > 85
    assert accuracy(quantized, test_images, test_labels) >= qat_accuracy - 1.0


def test_fuse_modules_refuses_other_pairs() -> None:
    with pytest.raises(ValueError, match="cannot fuse"):
        tq.fuse_modules(nn.Sequential(nn.ReLU(), nn.Linear(2, 2)), [["0", "1"]])
