"""Observers, qparams and qconfigs against PyTorch's (module 15)."""

import warnings

import numpy as np
import pytest

import tinytorch
import tinytorch.quantization
from tests.helpers import torch_or_skip
from tinytorch.ao import quantization as tq

pytestmark = pytest.mark.module15

BATCHES = [
    np.random.default_rng(0).standard_normal((4, 50)).astype(np.float32) * 3 + 1,
    np.random.default_rng(1).uniform(-0.5, 7.0, (4, 50)).astype(np.float32),
]


def quantization(torch):
    warnings.filterwarnings("ignore", message=".*deprecated.*")
    return torch.ao.quantization


SETTINGS = [
    dict(),
    dict(reduce_range=True),
    dict(quant_min=0, quant_max=127),
    dict(quant_min=0, quant_max=255, reduce_range=True),
    dict(dtype="qint8"),
    dict(dtype="qint8", qscheme="per_tensor_symmetric"),
    dict(qscheme="per_tensor_symmetric"),
    dict(dtype="qint8", quant_min=-10, quant_max=20),
    dict(dtype="qint8", reduce_range=True, qscheme="per_tensor_symmetric"),
]


def resolve(lib, settings: dict) -> dict:
    names = ("dtype", "qscheme")
    return {k: getattr(lib, v) if k in names else v for k, v in settings.items()}


def compare_qparams(ours, theirs) -> None:
    (our_scale, our_zero), (their_scale, their_zero) = ours, theirs
    np.testing.assert_array_equal(our_scale.numpy(), their_scale.numpy())
    np.testing.assert_array_equal(our_zero.numpy(), their_zero.numpy())
    assert our_zero.numpy().dtype == their_zero.numpy().dtype


@pytest.mark.parametrize("settings", SETTINGS, ids=str)
def test_min_max_observer_matches_pytorch(settings) -> None:
    torch = torch_or_skip()
    ours = tq.MinMaxObserver(**resolve(tinytorch, settings))
    theirs = quantization(torch).MinMaxObserver(**resolve(torch, settings))
    assert (ours.quant_min, ours.quant_max) == (theirs.quant_min, theirs.quant_max)
    for batch in BATCHES:
        out = ours(tinytorch.tensor(batch))
        theirs(torch.from_numpy(batch))
        np.testing.assert_array_equal(out.numpy(), batch)  # observers pass values through
    compare_qparams(ours.calculate_qparams(), theirs.calculate_qparams())
    assert set(ours.state_dict()) == set(theirs.state_dict())


@pytest.mark.parametrize("qscheme", ["per_channel_affine", "per_channel_symmetric"])
@pytest.mark.parametrize("dtype", ["qint8", "quint8"])
@pytest.mark.parametrize("ch_axis", [0, 1])
def test_per_channel_min_max_observer_matches_pytorch(qscheme, dtype, ch_axis) -> None:
    torch = torch_or_skip()
    settings = dict(ch_axis=ch_axis, dtype=dtype, qscheme=qscheme)
    ours = tq.PerChannelMinMaxObserver(**resolve(tinytorch, settings))
    theirs = quantization(torch).PerChannelMinMaxObserver(**resolve(torch, settings))
    for batch in BATCHES:
        ours(tinytorch.tensor(batch))
        theirs(torch.from_numpy(batch))
    compare_qparams(ours.calculate_qparams(), theirs.calculate_qparams())


def test_constant_input_gets_the_smallest_scale_eps() -> None:
    observer = tq.MinMaxObserver()
    observer(tinytorch.zeros(5))
    scale, zero_point = observer.calculate_qparams()
    assert scale.item() == np.finfo(np.float32).eps and zero_point.item() == 0


@pytest.mark.parametrize("reduce_range", [False, True])
@pytest.mark.parametrize("kind", ["normal", "relu", "uniform", "outlier"])
def test_histogram_observer_is_close_to_pytorch(kind, reduce_range) -> None:
    torch = torch_or_skip()
    rng = np.random.default_rng(2)
    values = {
        "normal": rng.standard_normal(4000),
        "relu": np.maximum(rng.standard_normal(4000), 0) * 3,
        "uniform": rng.uniform(-1, 2, 3000),
        "outlier": np.concatenate([rng.standard_normal(4000), [40.0]]),
    }[kind].astype(np.float32)
    ours = tq.HistogramObserver(reduce_range=reduce_range)
    theirs = quantization(torch).HistogramObserver(reduce_range=reduce_range)
    ours(tinytorch.tensor(values))
    theirs(torch.from_numpy(values))
    (our_scale, our_zero), (their_scale, their_zero) = (
        ours.calculate_qparams(),
        theirs.calculate_qparams(),
    )
    np.testing.assert_allclose(our_scale.numpy(), their_scale.numpy(), rtol=1e-3)
    assert abs(int(our_zero.item()) - int(their_zero.item())) <= 1


def test_histogram_observer_keeps_counts_when_the_range_grows() -> None:
    observer = tq.HistogramObserver(bins=64)
    observer(tinytorch.tensor(np.linspace(0, 1, 100, dtype=np.float32)))
    observer(tinytorch.tensor(np.linspace(-2, 3, 50, dtype=np.float32)))
    assert observer.histogram.numpy().sum() == pytest.approx(150, rel=1e-5)
    assert (observer.min_val.item(), observer.max_val.item()) == (-2.0, 3.0)


def test_calculate_qparams_before_any_data_raises() -> None:
    for observer in (tq.MinMaxObserver(), tq.PerChannelMinMaxObserver(), tq.HistogramObserver()):
        with pytest.raises(RuntimeError, match="seen no data"):
            observer.calculate_qparams()


def test_qconfigs_name_pytorchs_observers() -> None:
    qconfig = tq.get_default_qconfig("x86")
    activation, weight = qconfig.activation(), qconfig.weight()
    assert isinstance(activation, tq.HistogramObserver) and activation.reduce_range
    assert isinstance(weight, tq.PerChannelMinMaxObserver)
    assert weight.dtype is tinytorch.qint8 and weight.qscheme is tinytorch.per_channel_symmetric
    assert tq.get_default_qconfig("fbgemm").weight is qconfig.weight
    default = tq.default_qconfig
    assert (default.activation().quant_min, default.activation().quant_max) == (0, 127)
    assert default.weight().qscheme is tinytorch.per_tensor_symmetric
    with pytest.raises(ValueError, match="unknown backend"):
        tq.get_default_qconfig("tpu")
    assert tinytorch.quantization.get_default_qconfig is tq.get_default_qconfig


def test_bad_observer_settings_raise() -> None:
    with pytest.raises(ValueError, match="PerChannelMinMaxObserver"):
        tq.MinMaxObserver(qscheme=tinytorch.per_channel_affine)
    with pytest.raises(ValueError, match="quant_min"):
        tq.MinMaxObserver(quant_min=5, quant_max=100)
    with pytest.raises(TypeError, match="qint8"):
        tq.MinMaxObserver(dtype=tinytorch.int8)
