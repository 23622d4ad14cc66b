"""tinytorch.save / tinytorch.load: round trips, atomic writes, refusal of unsafe files (07)."""

import io
import json
import pickle
import zipfile

import numpy as np
import pytest

import tinytorch
from tinytorch import optim
from tinytorch.serialization import load, save

pytestmark = pytest.mark.module07


def test_nested_structure_round_trips(tmp_path) -> None:
    weight = tinytorch.randn(3, 2)
    obj = {
        "tensors": [weight, tinytorch.arange(5), tinytorch.tensor(2.5, dtype=tinytorch.float64)],
        "numbers": (1, 2.5, float("inf"), True, None),
        "by_int": {0: "zero", 1: {"deep": [None, "x"]}},
        "tuple_key": {(1, "a"): np.float32(0.5)},
        "text": "héllo",
    }
    save(obj, tmp_path / "obj.tt")
    loaded = load(tmp_path / "obj.tt")
    assert loaded.keys() == obj.keys()
    for mine, original in zip(loaded["tensors"], obj["tensors"], strict=True):
        assert isinstance(mine, tinytorch.Tensor)
        assert mine.dtype == original.dtype
        np.testing.assert_array_equal(mine.detach().numpy(), original.detach().numpy())
    assert loaded["numbers"] == (1, 2.5, float("inf"), True, None)
    assert type(loaded["numbers"][0]) is int and type(loaded["numbers"][3]) is bool
    assert loaded["by_int"] == {0: "zero", 1: {"deep": [None, "x"]}}
    assert loaded["tuple_key"] == {(1, "a"): 0.5}
    assert loaded["text"] == "héllo"


def test_loaded_tensors_are_writable_and_keep_requires_grad() -> None:
    buffer = io.BytesIO()
    save([tinytorch.ones(2, requires_grad=True), tinytorch.ones(2)], buffer)
    buffer.seek(0)
    trainable, plain = load(buffer)
    assert trainable.requires_grad and not plain.requires_grad
    plain._data += 1
    assert plain.tolist() == [2.0, 2.0]


def test_a_tensor_saved_twice_loads_as_one_tensor() -> None:
    shared = tinytorch.randn(4)
    buffer = io.BytesIO()
    save({"embedding": shared, "head": shared}, buffer)
    buffer.seek(0)
    loaded = load(buffer)
    assert loaded["embedding"] is loaded["head"]
    assert len([n for n in zipfile.ZipFile(buffer).namelist() if n.endswith(".npy")]) == 1


def test_optimizer_state_dict_round_trips(tmp_path) -> None:
    param = tinytorch.ones(3, requires_grad=True)
    optimizer = optim.Adam([param], lr=0.01, betas=(0.8, 0.9))
    (param * 2).sum().backward()
    optimizer.step()
    save(optimizer.state_dict(), tmp_path / "opt.tt")
    restored = optim.Adam([tinytorch.ones(3, requires_grad=True)])
    restored.load_state_dict(load(tmp_path / "opt.tt"))
    assert restored.param_groups[0]["betas"] == (0.8, 0.9)
    assert restored.state_dict()["state"][0]["step"] == 1
    np.testing.assert_array_equal(
        restored.state_dict()["state"][0]["exp_avg"].detach().numpy(),
        optimizer.state_dict()["state"][0]["exp_avg"].detach().numpy(),
    )


def test_unsupported_objects_raise_before_writing(tmp_path) -> None:
    path = tmp_path / "model.tt"
    save({"kept": 1}, path)
    with pytest.raises(TypeError, match="not function.*state_dict"):
        save({"fn": lambda: 0}, path)
    assert load(path) == {"kept": 1}


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch) -> None:
    path = tmp_path / "checkpoint.tt"
    save({"epoch": 1}, path)

    def broken_write(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", broken_write)
    with pytest.raises(OSError, match="disk full"):
        save({"epoch": 2, "weights": tinytorch.ones(2)}, path)
    assert load(path) == {"epoch": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.tt"]


class Exploit:
    """Unpickling this would call ``exec``: a file must never get that far."""

    def __reduce__(self):
        return (exec, ("import builtins; builtins.TINYTORCH_PWNED = True",))


def archive_bytes(files: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def header(**fields) -> bytes:
    base = {"format": "tinytorch", "version": 1, "tensors": [], "object": None}
    return json.dumps({**base, **fields}).encode()


def object_array_npy() -> bytes:
    """A .npy file of dtype object: its payload is a pickle of ``Exploit``."""
    buffer = io.BytesIO()
    array = np.empty(1, dtype=object)
    array[0] = Exploit()
    np.save(buffer, array, allow_pickle=True)
    return buffer.getvalue()


MALICIOUS = {
    "raw pickle": (io.BytesIO(pickle.dumps(Exploit())), "not a tinytorch checkpoint"),
    "torch-style zip of a pickle": (
        archive_bytes({"archive/data.pkl": pickle.dumps(Exploit())}),
        "no data.json",
    ),
    "pickled npy": (
        archive_bytes(
            {
                "data.json": header(
                    tensors=[{"file": "tensors/0.npy", "requires_grad": False}],
                    object={"tensor": 0},
                ),
                "tensors/0.npy": object_array_npy(),
            }
        ),
        "corrupt",
    ),
}


@pytest.mark.parametrize("name", MALICIOUS)
def test_files_that_would_run_code_are_refused(name) -> None:
    file, message = MALICIOUS[name]
    with pytest.raises(RuntimeError, match=message):
        load(file)
    import builtins

    assert not hasattr(builtins, "TINYTORCH_PWNED")


CORRUPT = {
    "garbage": (io.BytesIO(b"\x00not a zip at all"), "not a tinytorch checkpoint"),
    "other format": (archive_bytes({"data.json": header(format="npz")}), "format"),
    "newer version": (archive_bytes({"data.json": header(version=99)}), "version 99"),
    "bad json": (archive_bytes({"data.json": b"{oops"}), "corrupt"),
    "missing array": (
        archive_bytes(
            {"data.json": header(tensors=[{"file": "tensors/0.npy", "requires_grad": False}])}
        ),
        "corrupt",
    ),
    "dangling reference": (archive_bytes({"data.json": header(object={"tensor": 3})}), "corrupt"),
    "unknown node": (archive_bytes({"data.json": header(object={"eval": "1+1"})}), "corrupt"),
}


@pytest.mark.parametrize("name", CORRUPT)
def test_unknown_or_corrupt_files_give_a_clear_error(name) -> None:
    file, message = CORRUPT[name]
    with pytest.raises(RuntimeError, match=message):
        load(file)


def test_truncated_file_gives_a_clear_error(tmp_path) -> None:
    path = tmp_path / "cut.tt"
    save({"w": tinytorch.randn(100)}, path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(RuntimeError, match="cut.tt"):
        load(path)
