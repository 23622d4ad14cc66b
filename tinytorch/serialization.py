"""``save`` and ``load``: checkpoints that cannot run code (module 07).

``tinytorch.save(obj, f)`` writes a zip archive::

    data.json        {"format": "tinytorch", "version": 2, "tensors": [...], "object": ...}
    tensors/0.npy    one NumPy .npy file per distinct tensor
    tensors/1.npy    ...

``object`` is ``obj`` in JSON. Numbers, strings, booleans, ``None`` and lists are written as
they are; a tuple is ``{"tuple": [...]}``, a dict ``{"dict": [[key, value], ...]}`` (so keys
keep their type: optimizer state is keyed by ints) and a tensor ``{"tensor": i}``, the i-th
entry of ``tensors`` (``{"file": "tensors/i.npy", "requires_grad": false, "parameter":
false}``). A tensor that
appears twice (tied weights) is stored once and loads as one tensor.

Objects of named classes (a whole model: ``save(model, f)``) are ``{"object": "module:Class",
"id": k, "state": ...}`` with ``state`` their attributes (``vars(obj)``); a second mention of
the same object is ``{"ref": k}``. NumPy arrays are ``{"ndarray": i}``, sets ``{"set": [...]}``,
classes and functions ``{"global": "module:name"}``.

``torch.save`` pickles, and unpickling a file can run any code in it. ``load`` reads only JSON
and .npy arrays (``allow_pickle=False``), so a file can hold data but never code. An object is
rebuilt (``Class.__new__`` and its attributes set, no method called) only if its class is an
allowed global, as PyTorch's ``weights_only=True`` loading allows: tinytorch's own modules and
``nn.functional`` functions, and what ``add_safe_globals``/``safe_globals`` add.

Example::

    >>> tinytorch.save({"model": model.state_dict(), "epoch": 3}, "checkpoint.tt")
    >>> checkpoint = tinytorch.load("checkpoint.tt")
    >>> model.load_state_dict(checkpoint["model"])
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import types
import zipfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

import numpy as np

from tinytorch.nn import functional
from tinytorch.nn.modules.module import Module
from tinytorch.nn.parameter import Parameter
from tinytorch.tensor import Tensor

FileLike = str | os.PathLike | IO[bytes]

FORMAT = "tinytorch"
VERSION = 2
READABLE_VERSIONS = (1, 2)  # version 1 had no objects, arrays, sets or globals
_HEADER = "data.json"

# Classes and functions a file may name, added by add_safe_globals: "module:qualname" -> it.
_safe_globals: dict[str, Any] = {}


def add_safe_globals(safe_globals: Iterable[Any]) -> None:
    """Allow ``load`` to rebuild objects of these classes (and to return these functions).

    Only for classes you trust: their objects come back with whatever attributes the file
    gives them. Example: ``add_safe_globals([MyNet])`` before ``model = tinytorch.load(f)``.
    """
    for item in safe_globals:
        _safe_globals[_global_name(item)] = item


def get_safe_globals() -> list[Any]:
    """The classes and functions that ``add_safe_globals`` allowed."""
    return list(_safe_globals.values())


def clear_safe_globals() -> None:
    """Forget every class and function that ``add_safe_globals`` allowed."""
    _safe_globals.clear()


@contextlib.contextmanager
def safe_globals(safe_globals: Iterable[Any]) -> Iterator[None]:
    """Allow these classes and functions while the ``with`` block runs::

    with tinytorch.serialization.safe_globals([MyNet]):
        model = tinytorch.load("model.tt")
    """
    previous = dict(_safe_globals)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _safe_globals.clear()
        _safe_globals.update(previous)


def save(obj: Any, f: FileLike) -> None:
    """Write ``obj``: tensors, NumPy arrays, numbers, strings, None, lists, tuples, dicts and
    sets of them, and objects of named classes (a whole model) made of those.

    ``f`` is a path or a binary file object. A path is written atomically: to a temporary
    file first, renamed over ``f`` only once complete, so a crash never leaves half a file.
    Raises ``TypeError`` for any other kind of object, before writing anything.
    """
    writer = _Writer()
    encoded = writer.encode(obj)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "tensors": [
            {
                "file": f"tensors/{i}.npy",
                "requires_grad": tensor.requires_grad,
                "parameter": isinstance(tensor, Parameter),
            }
            for i, tensor in enumerate(writer.tensors)
        ],
        "object": encoded,
    }
    if not isinstance(f, (str, os.PathLike)):
        _write_archive(f, header, writer.tensors)
        return
    temporary = f"{os.fspath(f)}.tmp-{os.getpid()}"
    try:
        with open(temporary, "wb") as file:
            _write_archive(file, header, writer.tensors)
        os.replace(temporary, f)  # atomic: readers see the old file or the new, never half
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def load(f: FileLike, map_location: Any = None, weights_only: bool = True) -> Any:
    """Read an object written by ``save`` from a path or a binary file object.

    ``map_location`` is accepted for PyTorch compatibility and changes nothing: tensors live
    in CPU memory. Loading never runs code, whatever ``weights_only`` says: objects are
    rebuilt only for allowed classes (see ``add_safe_globals``). Raises ``RuntimeError``
    naming the file when it is not a tinytorch checkpoint, is corrupt, or names a class or
    function that is not allowed.
    """
    name = os.fspath(f) if isinstance(f, (str, os.PathLike)) else getattr(f, "name", "the file")
    try:
        with zipfile.ZipFile(f) as archive:
            return _read_archive(archive)
    except _ForeignFileError as error:
        raise RuntimeError(f"{name} is not a tinytorch checkpoint: {error}") from None
    except _UnsafeGlobalError as error:
        raise RuntimeError(f"Weights only load of {name} failed: {error}") from None
    except (zipfile.BadZipFile, EOFError) as error:
        raise RuntimeError(
            f"{name} is not a tinytorch checkpoint (not a zip archive written by "
            f"tinytorch.save): {error}"
        ) from None
    except (KeyError, ValueError, TypeError, IndexError, RecursionError) as error:
        raise RuntimeError(f"{name} is a corrupt tinytorch checkpoint: {error!r}") from None


class _ForeignFileError(Exception):
    """A readable archive that tinytorch did not write (or a newer version of the format)."""


class _UnsafeGlobalError(Exception):
    """The file names a class or function that is not allowed."""


def _global_name(item: Any) -> str:
    """``module:qualname`` of a class or function, the name a file stores it by."""
    qualname = getattr(item, "__qualname__", "")
    if not isinstance(item, (type, types.FunctionType)) or "<" in qualname:
        raise TypeError(
            f"tinytorch.save can store only classes and functions defined at the top level "
            f"of a module, by name; {item!r} has no such name"
        )
    return f"{item.__module__}:{qualname}"


def _resolve_global(name: str) -> Any:
    """The class or function called ``name`` in a file, if it is allowed; never imports."""
    if name in _safe_globals:
        return _safe_globals[name]
    module_name, _, qualname = name.partition(":")
    found: Any = sys.modules.get(module_name) if module_name.startswith("tinytorch.") else None
    for part in qualname.split("."):
        found = getattr(found, part, None)
    is_module_class = isinstance(found, type) and issubclass(found, Module)
    is_functional = (  # an activation or other function of nn.functional
        isinstance(found, types.FunctionType) and getattr(functional, found.__name__, None) is found
    )
    if (is_module_class or is_functional) and _global_name(found) == name:
        return found
    short = qualname.rsplit(".", 1)[-1]
    raise _UnsafeGlobalError(
        f"it names {module_name}.{qualname}, which is not an allowed global. If you trust it, "
        f"allow it with tinytorch.serialization.add_safe_globals([{short}]) or load inside "
        f"`with tinytorch.serialization.safe_globals([{short}]):` (tinytorch never unpickles, "
        f"so weights_only=False does not lift this)"
    )


class _Writer:
    """Turns an object into JSON values; collects the tensors and arrays it holds."""

    def __init__(self) -> None:
        self.tensors: list[Tensor] = []  # arrays are stored wrapped in tensors
        self.tensor_index: dict[int, int] = {}
        self.object_index: dict[int, int] = {}

    def encode(self, obj: Any) -> Any:
        if obj is None or isinstance(obj, (bool, int, float, str)):
            return obj
        if isinstance(obj, np.generic) and isinstance(obj.item(), (bool, int, float)):
            return obj.item()
        if isinstance(obj, Tensor):
            return {"tensor": self.store(obj, obj)}
        if isinstance(obj, np.ndarray) and obj.dtype.kind not in "OV":
            return {"ndarray": self.store(obj, Tensor._from_array(obj))}
        if isinstance(obj, list):
            return [self.encode(item) for item in obj]
        if isinstance(obj, tuple):
            return {"tuple": [self.encode(item) for item in obj]}
        if isinstance(obj, (set, frozenset)):
            return {"set": [self.encode(item) for item in obj]}
        if isinstance(obj, dict):
            return {"dict": [[self.encode(key), self.encode(value)] for key, value in obj.items()]}
        if isinstance(obj, (type, types.FunctionType)) and "<" not in obj.__qualname__:
            return {"global": _global_name(obj)}
        if hasattr(obj, "__dict__") and type(obj).__module__ != "builtins":
            return self.encode_object(obj)
        raise TypeError(
            f"tinytorch.save can store tensors, arrays, numbers, strings, None, lists, tuples, "
            f"dicts and sets of them and objects of named classes, not {type(obj).__name__}; "
            f"to save a model, save model.state_dict() (or the model itself)"
        )

    def store(self, key: Any, tensor: Tensor) -> int:
        """The position of ``key``'s data in the file's tensors (stored once per object)."""
        if id(key) not in self.tensor_index:
            self.tensor_index[id(key)] = len(self.tensors)
            self.tensors.append(tensor)
        return self.tensor_index[id(key)]

    def encode_object(self, obj: Any) -> dict[str, Any]:
        if id(obj) in self.object_index:
            return {"ref": self.object_index[id(obj)]}
        number = self.object_index[id(obj)] = len(self.object_index)
        name = _global_name(type(obj))
        return {"object": name, "id": number, "state": self.encode(vars(obj))}


class _Reader:
    """Turns the JSON values of a file back into objects (the inverse of ``_Writer``)."""

    def __init__(self, tensors: list[Tensor]) -> None:
        self.tensors = tensors
        self.objects: dict[int, Any] = {}

    def decode(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.decode(item) for item in node]
        if not isinstance(node, dict):
            return node
        kind = node.keys()
        if kind == {"tensor"}:
            return self.tensors[node["tensor"]]
        if kind == {"ndarray"}:
            return self.tensors[node["ndarray"]]._data
        if kind == {"tuple"}:
            return tuple(self.decode(item) for item in node["tuple"])
        if kind == {"set"}:
            return {self.decode(item) for item in node["set"]}
        if kind == {"dict"}:
            return {self.decode(key): self.decode(value) for key, value in node["dict"]}
        if kind == {"global"}:
            return _resolve_global(node["global"])
        if kind == {"ref"}:
            return self.objects[node["ref"]]
        if kind == {"object", "id", "state"}:
            return self.decode_object(node)
        raise ValueError(f"unknown entry with keys {sorted(node)}")

    def decode_object(self, node: dict[str, Any]) -> Any:
        cls = _resolve_global(node["object"])
        if not isinstance(cls, type):
            raise ValueError(f"{node['object']} is not a class")
        obj = cls.__new__(cls)
        self.objects[node["id"]] = obj  # before its attributes, which may refer back to it
        state = self.decode(node["state"])
        if not isinstance(state, dict) or not all(isinstance(key, str) for key in state):
            raise ValueError(f"the attributes of a {node['object']} are not a dict of names")
        obj.__dict__.update(state)
        return obj


def _write_archive(file: IO[bytes], header: dict[str, Any], tensors: list[Tensor]) -> None:
    with zipfile.ZipFile(file, "w") as archive:
        archive.writestr(_HEADER, json.dumps(header))
        for entry, tensor in zip(header["tensors"], tensors, strict=True):
            large = tensor._data.nbytes > 2**30
            with archive.open(entry["file"], "w", force_zip64=large) as stream:
                np.lib.format.write_array(stream, tensor._data, allow_pickle=False)


def _read_archive(archive: zipfile.ZipFile) -> Any:
    if _HEADER not in archive.namelist():
        raise _ForeignFileError(f"it has no {_HEADER} (a file from torch.save? those hold pickles)")
    header = json.loads(archive.read(_HEADER))
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _ForeignFileError(f"{_HEADER} does not say format {FORMAT!r}")
    if header.get("version") not in READABLE_VERSIONS:
        raise _ForeignFileError(
            f"format version {header.get('version')!r}; this tinytorch reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))}"
        )
    tensors = [_read_tensor(archive, entry) for entry in header["tensors"]]
    return _Reader(tensors).decode(header["object"])


def _read_tensor(archive: zipfile.ZipFile, entry: dict[str, Any]) -> Tensor:
    with archive.open(entry["file"]) as stream:
        array = np.lib.format.read_array(stream, allow_pickle=False)
    kind = Parameter if entry.get("parameter") else Tensor
    return kind._from_array(array, requires_grad=bool(entry["requires_grad"]))
