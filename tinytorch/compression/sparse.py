"""Sparse checkpoints: store a pruned model's zeros as bits, not as float32 numbers.

A weight matrix pruned to 90% is still 4 bytes per entry when saved dense. The bitmask format
stores, per tensor, one bit per entry (1 = nonzero; ``np.packbits``, 8 entries per byte) and
the nonzero values in order:

    bytes = n / 8 + nnz * 4      (float32)   against   n * 4 dense

so at 90% sparsity a tensor takes 0.125 + 0.4 = 0.525 bytes per entry, 7.6x less. (CSR, with a
4-byte column index per nonzero, would take 0.8 bytes per entry; it wins only beyond ~97%.)
A tensor is stored as a bitmask only where that is smaller; the rest stay dense.

The file is an ordinary ``tinytorch.save`` archive, so it holds data and never code;
``load_sparse`` returns a dense state_dict for ``model.load_state_dict``::

    >>> save_sparse(pruned_model, "model.sparse.tt")
    >>> dense_model.load_state_dict(load_sparse("model.sparse.tt"))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinytorch import nn
from tinytorch.serialization import FileLike, load, save
from tinytorch.tensor import Tensor

FORMAT = "tinytorch-sparse"
VERSION = 1


def to_bitmask(array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bits, values): the nonzero pattern of ``array`` packed 8 entries per uint8 byte, and
    its nonzero values in row-major order."""
    # BEGIN SOLUTION 16
    flat = array.reshape(-1)
    nonzero = flat != 0
    return np.packbits(nonzero), flat[nonzero]
    # END SOLUTION


def from_bitmask(bits: np.ndarray, values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The dense array of ``shape`` that ``to_bitmask`` encoded as ``bits`` and ``values``."""
    # BEGIN SOLUTION 16
    size = int(np.prod(shape))
    nonzero = np.unpackbits(bits, count=size).astype(bool)
    dense = np.zeros(size, values.dtype)
    dense[nonzero] = values
    return dense.reshape(shape)
    # END SOLUTION


def effective_state_dict(model: nn.Module) -> dict[str, Tensor]:
    """``model.state_dict()`` with each pruned pair ``name_orig``/``name_mask`` replaced by
    ``name`` = orig * mask: the keys of the same model unpruned."""
    state = model.state_dict()
    merged: dict[str, Tensor] = {}
    for key, tensor in state.items():
        if key.endswith("_mask") and key[: -len("_mask")] + "_orig" in state:
            continue
        if key.endswith("_orig") and key[: -len("_orig")] + "_mask" in state:
            base = key[: -len("_orig")]
            tensor = tensor * state[base + "_mask"]
            key = base
        merged[key] = tensor
    return merged


def _encode(tensor: Tensor) -> Any:
    """A bitmask entry when that is smaller than the dense tensor, else the tensor itself."""
    array = tensor.detach().numpy()
    nonzero = int(np.count_nonzero(array))
    if array.size / 8 + nonzero * array.itemsize >= array.nbytes:
        return tensor
    bits, values = to_bitmask(array)
    return {
        "shape": list(array.shape),
        "bits": Tensor._from_array(bits),
        "values": Tensor._from_array(values),
    }


def save_sparse(model_or_state: nn.Module | dict[str, Tensor], f: FileLike) -> None:
    """Save a (pruned) model or a state_dict with its sparse tensors as bitmask + values."""
    if isinstance(model_or_state, nn.Module):
        state = effective_state_dict(model_or_state)
    else:
        state = dict(model_or_state)
    entries = {key: _encode(tensor.detach()) for key, tensor in state.items()}
    save({"format": FORMAT, "version": VERSION, "tensors": entries}, f)


def load_sparse(f: FileLike) -> dict[str, Tensor]:
    """The dense state_dict saved by ``save_sparse`` (keys in their saved order)."""
    archive = load(f)
    if not isinstance(archive, dict) or archive.get("format") != FORMAT:
        raise RuntimeError(f"load_sparse: {f} was not written by save_sparse; use tinytorch.load")
    state: dict[str, Tensor] = {}
    for key, entry in archive["tensors"].items():
        if isinstance(entry, Tensor):
            state[key] = entry
        else:
            dense = from_bitmask(
                entry["bits"].detach().numpy(), entry["values"].detach().numpy(), entry["shape"]
            )
            state[key] = Tensor._from_array(dense)
    return state
