"""``tinytorch.device``: where a tensor's memory lives. tinytorch computes with NumPy on the
CPU, so every tensor is on ``device('cpu')``; other devices can be named (scripts build them
before checking ``torch.cuda.is_available()``) but a tensor on them is refused::

    >>> import tinytorch as torch
    >>> torch.ones(2).device
    device(type='cpu')
    >>> torch.device("cuda:0").index
    0
"""

from __future__ import annotations

from typing import Any

DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu", "meta")


class device:  # noqa: N801 - PyTorch's name
    """A device type ('cpu', 'cuda', ...) and an optional index: ``device('cuda:1')``,
    ``device('cuda', 1)``. Compares equal to another device with the same type and index, and
    to its own string (``device('cpu') == 'cpu'``)."""

    __slots__ = ("type", "index")

    def __init__(self, type: str | device, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int):
            raise RuntimeError(
                f"device({type}): a bare number names an accelerator, and tinytorch has none; "
                f"use device('cpu')"
            )
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a string or a device, got {type!r}")
        name, colon, number = type.partition(":")
        if name not in DEVICE_TYPES:
            raise RuntimeError(
                f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device "
                f"string: {type}"
            )
        if colon:
            if not number.isdigit() or index is not None:
                raise RuntimeError(f"Invalid device string: {type!r}")
            index = int(number)
        self.type, self.index = name, index

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type={self.type!r}{index})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return str(self) == other
        if isinstance(other, device):
            return (self.type, self.index) == (other.type, other.index)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.type, self.index))


CPU = device("cpu")


def check_device(requested: Any) -> None:
    """Raise ``RuntimeError`` unless ``requested`` (None, a string or a device) is the CPU."""
    if requested is None:
        return
    if device(requested).type != "cpu":
        raise RuntimeError(
            f"tinytorch runs on the CPU only; got device {str(device(requested))!r}. Pick the "
            f"device with `device = 'cuda' if torch.cuda.is_available() else 'cpu'`, which "
            f"chooses 'cpu' here"
        )
