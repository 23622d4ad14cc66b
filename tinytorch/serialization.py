"""``save`` and ``load``: checkpoints that cannot run code (module 07).

``tinytorch.save(obj, f)`` writes a zip archive::

    data.json        {"format": "tinytorch", "version": 1, "tensors": [...], "object": ...}
    tensors/0.npy    one NumPy .npy file per distinct tensor
    tensors/1.npy    ...

``object`` is ``obj`` in JSON. Numbers, strings, booleans, ``None`` and lists are written as
they are; a tuple is ``{"tuple": [...]}``, a dict ``{"dict": [[key, value], ...]}`` (so keys
keep their type: optimizer state is keyed by ints) and a tensor ``{"tensor": i}``, the i-th
entry of ``tensors`` (``{"file": "tensors/i.npy", "requires_grad": false}``). A tensor that
appears twice (tied weights) is stored once and loads as one tensor.

``torch.save`` pickles, and unpickling a file can run any code in it. ``load`` reads only JSON
and .npy arrays (``allow_pickle=False``), so a file can hold data but never code.

Example::

    >>> tinytorch.save({"model": model.state_dict(), "epoch": 3}, "checkpoint.tt")
    >>> checkpoint = tinytorch.load("checkpoint.tt")
    >>> model.load_state_dict(checkpoint["model"])
"""

from __future__ import annotations

import contextlib
import json
import os
import zipfile
from typing import IO, Any

import numpy as np

from tinytorch.tensor import Tensor

FileLike = str | os.PathLike | IO[bytes]

FORMAT = "tinytorch"
VERSION = 1
_HEADER = "data.json"


def save(obj: Any, f: FileLike) -> None:
    """Write ``obj`` (tensors, numbers, strings, None, and lists, tuples, dicts of them).

    ``f`` is a path or a binary file object. A path is written atomically: to a temporary
    file first, renamed over ``f`` only once complete, so a crash never leaves half a file.
    Raises ``TypeError`` for any other kind of object, before writing anything.
    """
    tensors: list[Tensor] = []
    encoded = _encode(obj, tensors, {})
    header = {
        "format": FORMAT,
        "version": VERSION,
        "tensors": [
            {"file": f"tensors/{i}.npy", "requires_grad": tensor.requires_grad}
            for i, tensor in enumerate(tensors)
        ],
        "object": encoded,
    }
    if not isinstance(f, (str, os.PathLike)):
        _write_archive(f, header, tensors)
        return
    temporary = f"{os.fspath(f)}.tmp-{os.getpid()}"
    try:
        with open(temporary, "wb") as file:
            _write_archive(file, header, tensors)
        os.replace(temporary, f)  # atomic: readers see the old file or the new, never half
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def load(f: FileLike, map_location: Any = None, weights_only: bool = True) -> Any:
    """Read an object written by ``save`` from a path or a binary file object.

    ``map_location`` and ``weights_only`` are accepted for PyTorch compatibility and change
    nothing: tensors live in CPU memory, and loading never runs code. Raises ``RuntimeError``
    naming the file when it is not a tinytorch checkpoint or is corrupt.
    """
    name = os.fspath(f) if isinstance(f, (str, os.PathLike)) else getattr(f, "name", "the file")
    try:
        with zipfile.ZipFile(f) as archive:
            return _read_archive(archive)
    except _ForeignFileError as error:
        raise RuntimeError(f"{name} is not a tinytorch checkpoint: {error}") from None
    except (zipfile.BadZipFile, EOFError) as error:
        raise RuntimeError(
            f"{name} is not a tinytorch checkpoint (not a zip archive written by "
            f"tinytorch.save): {error}"
        ) from None
    except (KeyError, ValueError, TypeError, IndexError, RecursionError) as error:
        raise RuntimeError(f"{name} is a corrupt tinytorch checkpoint: {error!r}") from None


class _ForeignFileError(Exception):
    """A readable archive that tinytorch did not write (or a newer version of the format)."""


def _encode(obj: Any, tensors: list[Tensor], index_of: dict[int, int]) -> Any:
    """``obj`` as JSON values; each new tensor is appended to ``tensors``."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.generic) and isinstance(obj.item(), (bool, int, float)):
        return obj.item()
    if isinstance(obj, Tensor):
        if id(obj) not in index_of:
            index_of[id(obj)] = len(tensors)
            tensors.append(obj)
        return {"tensor": index_of[id(obj)]}
    if isinstance(obj, list):
        return [_encode(item, tensors, index_of) for item in obj]
    if isinstance(obj, tuple):
        return {"tuple": [_encode(item, tensors, index_of) for item in obj]}
    if isinstance(obj, dict):
        return {
            "dict": [
                [_encode(key, tensors, index_of), _encode(value, tensors, index_of)]
                for key, value in obj.items()
            ]
        }
    raise TypeError(
        f"tinytorch.save can store tensors, numbers, strings, None, and lists, tuples and "
        f"dicts of them, not {type(obj).__name__}; to save a model, save model.state_dict()"
    )


def _decode(node: Any, tensors: list[Tensor]) -> Any:
    """The inverse of ``_encode``."""
    if isinstance(node, list):
        return [_decode(item, tensors) for item in node]
    if not isinstance(node, dict):
        return node
    if node.keys() == {"tensor"}:
        return tensors[node["tensor"]]
    if node.keys() == {"tuple"}:
        return tuple(_decode(item, tensors) for item in node["tuple"])
    if node.keys() == {"dict"}:
        return {_decode(key, tensors): _decode(value, tensors) for key, value in node["dict"]}
    raise ValueError(f"unknown entry with keys {sorted(node)}")


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
    if header.get("version") != VERSION:
        raise _ForeignFileError(
            f"format version {header.get('version')!r}; this tinytorch reads version {VERSION}"
        )
    tensors = [_read_tensor(archive, entry) for entry in header["tensors"]]
    return _decode(header["object"], tensors)


def _read_tensor(archive: zipfile.ZipFile, entry: dict[str, Any]) -> Tensor:
    with archive.open(entry["file"]) as stream:
        array = np.lib.format.read_array(stream, allow_pickle=False)
    return Tensor._from_array(array, requires_grad=bool(entry["requires_grad"]))
