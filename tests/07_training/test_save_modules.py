"""Saving whole models and NumPy arrays; loading them back only through the allow-list of
classes (``add_safe_globals`` / ``safe_globals``), never by unpickling (module 07)."""

import io
import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import tinytorch
from tinytorch import nn, serialization
from tinytorch.serialization import load, save

pytestmark = pytest.mark.module07


class Net(nn.Module):
    """A model class of the user's own, not allowed by default."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 3))
        self.scale = 0.5

    def forward(self, x):
        return self.body(x) * self.scale


def round_trip(obj):
    buffer = io.BytesIO()
    save(obj, buffer)
    buffer.seek(0)
    return load(buffer)


MODELS = {
    "sequential": lambda: nn.Sequential(
        nn.Linear(4, 5), nn.ReLU(), nn.Dropout(0.2), nn.Linear(5, 2), nn.Tanh()
    ),
    "module_list": lambda: nn.ModuleList([nn.Linear(4, 4), nn.Sigmoid()]),
    "own_class": Net,
}


def run(name, model):
    if name == "module_list":
        return model[1](model[0](tinytorch.ones(2, 4)))
    return model(tinytorch.ones(3, 4) * 0.25)


@pytest.mark.parametrize("name", MODELS)
def test_modules_round_trip_whole(name):
    tinytorch.manual_seed(0)
    model = MODELS[name]()
    model.eval()
    with serialization.safe_globals([Net]):
        restored = round_trip(model)
    assert type(restored) is type(model) and restored is not model
    assert not restored.training
    assert [n for n, _ in restored.named_parameters()] == [n for n, _ in model.named_parameters()]
    for parameter in restored.parameters():
        assert isinstance(parameter, nn.Parameter) and parameter.requires_grad
    for (key, mine), (_, theirs) in zip(
        restored.state_dict().items(), model.state_dict().items(), strict=True
    ):
        np.testing.assert_array_equal(mine.detach().numpy(), theirs.detach().numpy(), err_msg=key)
    np.testing.assert_allclose(
        run(name, restored).detach().numpy(), run(name, model).detach().numpy()
    )


def test_a_restored_model_trains():
    model = round_trip(MODELS["sequential"]())
    optimizer = tinytorch.optim.SGD(model.parameters(), lr=0.1)
    before = model[0].weight.clone()
    model(tinytorch.ones(3, 4)).pow(2).sum().backward()
    optimizer.step()
    assert not model[0].weight.equal(before)


def test_shared_submodules_stay_shared():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    restored = round_trip(model)
    assert restored[0] is restored[2]
    assert len(list(restored.parameters())) == 2


def test_own_classes_need_an_allow_list(tmp_path):
    path = tmp_path / "net.tt"
    save(Net(), path)
    with pytest.raises(
        RuntimeError, match=r"Net.*not an allowed global.*add_safe_globals\(\[Net\]"
    ):
        load(path)
    with serialization.safe_globals([Net]):
        restored = load(path)
        assert Net in serialization.get_safe_globals()
    assert isinstance(restored, Net) and restored.scale == 0.5
    x = tinytorch.ones(2, 4)
    assert restored(x).shape == (2, 3)
    with pytest.raises(RuntimeError, match="not an allowed global"):
        load(path)  # the context manager allowed it only inside the block
    serialization.add_safe_globals([Net])
    try:
        assert isinstance(load(path, weights_only=True), Net)
    finally:
        serialization.clear_safe_globals()
    assert serialization.get_safe_globals() == []


@pytest.mark.parametrize(
    "array",
    [
        np.arange(6, dtype=np.int32).reshape(2, 3),
        np.linspace(0, 1, 5),
        np.array([True, False]),
        np.float16(1.5) * np.ones((2, 1, 2), np.float16),
        np.zeros((0, 3)),
        np.arange(12.0).reshape(3, 4).T,
    ],
    ids=["int32", "float64", "bool", "float16", "empty", "transposed"],
)
def test_numpy_arrays_round_trip_as_arrays(array):
    restored = round_trip({"array": array, "twice": [array, array], "flags": {1, 2}})
    assert isinstance(restored["array"], np.ndarray) and restored["array"].dtype == array.dtype
    np.testing.assert_array_equal(restored["array"], array)
    assert restored["twice"][0] is restored["twice"][1]
    assert restored["flags"] == {1, 2}


def test_object_arrays_and_unnamed_things_are_refused_before_writing():
    for bad in (np.array([object()]), lambda x: x, nn.Linear(2, 2).forward, iter([1])):
        with pytest.raises(TypeError, match="tinytorch.save"):
            save({"bad": bad}, io.BytesIO())


def crafted(node):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        header = {"format": "tinytorch", "version": 2, "tensors": [], "object": node}
        archive.writestr("data.json", json.dumps(header))
    buffer.seek(0)
    return buffer


ATTACKS = {
    "os.system": {"global": "os:system"},
    "eval": {"global": "builtins:eval"},
    "popen object": {"object": "subprocess:Popen", "id": 0, "state": {"dict": []}},
    "unimported module": {"global": "antigravity:fly"},
    "tinytorch function outside nn.functional": {"global": "tinytorch.serialization:save"},
    "nn.functional function under a wrong name": {"global": "tinytorch.tensor:where"},
    "tinytorch class that is not a module": {
        "object": "tinytorch.random:Generator",
        "id": 0,
        "state": {"dict": []},
    },
    "allowed class with a forbidden attribute": {
        "object": "tinytorch.nn.modules.activation:ReLU",
        "id": 0,
        "state": {"dict": [["hook", {"global": "os:system"}]]},
    },
}


@pytest.mark.parametrize("name", ATTACKS)
def test_files_naming_other_globals_are_refused(name):
    modules_before = set(sys.modules)
    with pytest.raises(RuntimeError, match="not an allowed global"):
        load(crafted(ATTACKS[name]))
    assert set(sys.modules) == modules_before, "loading must never import a module"


def test_nn_functional_globals_are_allowed():
    relu = nn.functional.relu
    assert load(crafted({"global": f"{relu.__module__}:relu"})) is relu


def test_a_fresh_process_loads_a_saved_model(tmp_path):
    """A tinytorch module class is found by name after ``import tinytorch`` alone."""
    path = tmp_path / "model.tt"
    save(MODELS["sequential"](), path)
    script = f"import tinytorch; print(type(tinytorch.load({str(path)!r})).__name__)"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "Sequential"


def test_version_1_files_still_load():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        header = {"format": "tinytorch", "version": 1, "tensors": [], "object": {"tuple": [1]}}
        archive.writestr("data.json", json.dumps(header))
    buffer.seek(0)
    assert load(buffer) == (1,)
