"""``tinytorch.device``, the CUDA stand-ins, ``tinytorch.onnx`` and PyTorch's legacy typed
constructors (``LongTensor``, ...), compared with PyTorch where it has the same behaviour."""

import numpy as np
import pytest

import tinytorch
from tests.helpers import assert_close, torch_or_skip

pytestmark = pytest.mark.module01


@pytest.mark.parametrize("args", [("cpu",), ("cuda",), ("cuda:1",), ("cuda", 0), ("mps",)], ids=str)
def test_device_like_pytorch(args):
    torch = torch_or_skip()
    ours, theirs = tinytorch.device(*args), torch.device(*args)
    assert (ours.type, ours.index) == (theirs.type, theirs.index)
    assert str(ours) == str(theirs) and repr(ours) == repr(theirs)
    assert tinytorch.device(ours) == ours and hash(tinytorch.device(ours)) == hash(ours)


def test_device_equality():
    assert tinytorch.device("cpu") == tinytorch.device("cpu")
    assert tinytorch.device("cuda:0") != tinytorch.device("cuda")
    assert tinytorch.device("cpu") == "cpu" and tinytorch.device("cuda:0") == "cuda:0"
    assert tinytorch.device("cpu") != "cuda"
    assert {tinytorch.device("cpu"): 1}[tinytorch.device("cpu")] == 1


@pytest.mark.parametrize("name", ["gpu", "cuda:x", "cuda:0:1", "", 0])
def test_bad_device_strings_raise_like_pytorch(name):
    torch = torch_or_skip()
    with pytest.raises(RuntimeError):
        torch.device(name)
    with pytest.raises(RuntimeError):
        tinytorch.device(name)


def test_tensors_live_on_the_cpu():
    x = tinytorch.ones(2)
    assert isinstance(x.device, tinytorch.device) and x.device.type == "cpu"
    assert x.device == tinytorch.device("cpu") and x.device.index is None
    assert x.to(tinytorch.device("cpu")) is x and x.to(x.device) is x and x.cpu() is x
    assert tinytorch.zeros(2, device=tinytorch.device("cpu")).device == "cpu"


@pytest.mark.parametrize(
    "make",
    [
        lambda torch, cuda: torch.zeros(2, device=cuda),
        lambda torch, cuda: torch.tensor([1.0], device=cuda),
        lambda torch, cuda: torch.randn(2, device=cuda),
        lambda torch, cuda: torch.arange(3, device=cuda),
        lambda torch, cuda: torch.randint(0, 5, (2,), device=cuda),
        lambda torch, cuda: torch.ones_like(torch.ones(1), device=cuda),
        lambda torch, cuda: torch.ones(2).to(cuda),
        lambda torch, cuda: torch.ones(2).to(device=cuda),
        lambda torch, cuda: torch.ones(2).cuda(),
    ],
)
@pytest.mark.parametrize("cuda", ["cuda", "cuda:0", tinytorch.device("cuda")], ids=str)
def test_tensors_on_a_gpu_are_refused_with_a_clear_error(make, cuda):
    with pytest.raises(RuntimeError, match="CPU only.*torch.cuda.is_available"):
        make(tinytorch, cuda)


def test_cuda_stand_ins_do_nothing():
    assert tinytorch.cuda.manual_seed_all(0) is None and tinytorch.cuda.manual_seed(0) is None
    assert tinytorch.cuda.synchronize() is None and tinytorch.cuda.empty_cache() is None


def test_cuda_seeding_does_not_touch_the_cpu_stream():
    tinytorch.manual_seed(3)
    expected = tinytorch.rand(3)
    tinytorch.manual_seed(3)
    tinytorch.cuda.manual_seed_all(99)
    assert tinytorch.rand(3).equal(expected)


def test_onnx_export_says_it_is_not_supported_and_what_to_do():
    from tinytorch import onnx

    model = object()  # any model: export refuses before looking at it
    with pytest.raises(NotImplementedError, match="not supported.*state_dict.*torch.onnx"):
        onnx.export(model, tinytorch.ones(1, 2), "model.onnx")
    assert tinytorch.onnx.is_in_onnx_export() is False


CONSTRUCTORS = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor",
                "ShortTensor", "ByteTensor", "BoolTensor"]  # fmt: skip


@pytest.mark.parametrize(
    "data", [[1.7, -2.0, 0.0], [[1, 2], [3, 4]], [True, False], np.array([0.5, 3.0]), 3.5]
)
@pytest.mark.parametrize("name", CONSTRUCTORS)
def test_legacy_constructors_from_data(name, data):
    torch = torch_or_skip()
    if name in ("ByteTensor",) and np.any(np.asarray(data) < 0):
        pytest.skip("negative values wrap around in uint8")
    if np.ndim(data) == 0:
        data = [data]
    assert_close(getattr(tinytorch, name)(data), getattr(torch, name)(data))


@pytest.mark.parametrize("sizes", [(), (0,), (3,), (2, 3)], ids=str)
@pytest.mark.parametrize("name", CONSTRUCTORS)
def test_legacy_constructors_from_sizes(name, sizes):
    torch = torch_or_skip()
    ours, theirs = getattr(tinytorch, name)(*sizes), getattr(torch, name)(*sizes)
    assert ours.shape == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]


def test_legacy_constructor_of_a_tensor_keeps_or_refuses_its_dtype():
    x = tinytorch.tensor([1.0, 2.0])
    assert tinytorch.FloatTensor(x).tolist() == [1.0, 2.0]
    with pytest.raises(TypeError, match="LongTensor"):
        tinytorch.LongTensor(x)
    with pytest.raises(TypeError):
        tinytorch.FloatTensor("abc")


def test_to_accepts_non_blocking_and_copy_flags():
    x = tinytorch.ones(2)
    assert x.to("cpu", tinytorch.float64, True).dtype == tinytorch.float64
    assert x.to(tinytorch.device("cpu"), non_blocking=True) is x
