"""The pipe protocol between the measuring process and the model process: NumPy arrays.

The measuring process sends the model process one array per query (a batch of images
(N, C, H, W) float32, or token ids (1, T) int64) on the model's standard input, and reads one
array back (the logits) from its standard output. A message is a fixed header, the shape,
then the array's raw bytes, C order, little-endian::

    dtype  3 bytes   NumPy's code for the dtype: b"<f4" (float32), b"<i8" (int64), ...
    ndim   uint32    the number of dimensions
    shape  ndim x uint64
    data   prod(shape) x itemsize bytes

Nothing is pickled and nothing is parsed but the header, so one query costs one write and
one read on each side. Example (any binary streams do, here an in-memory one)::

    >>> stream = io.BytesIO()
    >>> write_array(stream, np.zeros((2, 10), dtype=np.float32))
    >>> _ = stream.seek(0)
    >>> read_array(stream).shape
    (2, 10)
"""

from __future__ import annotations

import struct
from typing import BinaryIO

import numpy as np

HEADER = struct.Struct("<3sI")  # dtype code, number of dimensions
DIMENSION = struct.Struct("<Q")
MAX_DIMENSIONS = 8
FLOAT_CODES = (b"<f2", b"<f4", b"<f8")  # the dtypes logits may have


class ProtocolError(Exception):
    """A message that breaks the protocol: the pipe closed early, or a malformed header."""


def write_array(stream: BinaryIO, array: np.ndarray) -> None:
    """Send ``array`` as one message and flush it."""
    code = array.dtype.str.encode("ascii")
    shape = b"".join(DIMENSION.pack(size) for size in array.shape)
    stream.write(HEADER.pack(code, array.ndim) + shape + array.tobytes())  # C order
    stream.flush()


def write_end(stream: BinaryIO) -> None:
    """Send the message that ends a phase of queries: an empty uint8 array, shape (0,)."""
    write_array(stream, np.zeros(0, dtype=np.uint8))


def is_end(array: np.ndarray) -> bool:
    """Whether ``array`` is the message of ``write_end``."""
    return array.dtype == np.uint8 and array.shape == (0,)


def read_header(stream: BinaryIO) -> tuple[bytes, tuple[int, ...]]:
    """The dtype code and shape of the next message; ``ProtocolError`` at the end of the
    stream or for a header no array could have."""
    code, ndim = HEADER.unpack(read_exactly(stream, HEADER.size))
    if ndim > MAX_DIMENSIONS:
        raise ProtocolError(f"a message claims {ndim} dimensions (at most {MAX_DIMENSIONS})")
    shape = tuple(DIMENSION.unpack(read_exactly(stream, DIMENSION.size))[0] for _ in range(ndim))
    return code, shape


def read_data(stream: BinaryIO, code: bytes, shape: tuple[int, ...]) -> np.ndarray:
    """The array of the message whose header ``read_header`` returned."""
    try:
        dtype = np.dtype(code.decode("ascii"))
    except (UnicodeDecodeError, TypeError, ValueError) as error:
        raise ProtocolError(f"a message names the unknown dtype {code!r}") from error
    if dtype.hasobject:
        raise ProtocolError(f"a message names the dtype {code!r}, which holds objects")
    array = np.empty(shape, dtype=dtype)
    buffer = array.reshape(-1).view(np.uint8)  # the array's bytes, filled in place
    received = stream.readinto(buffer)
    if received != buffer.size:
        raise ProtocolError(f"the stream ended after {received} of {buffer.size} bytes")
    return array


def read_array(stream: BinaryIO) -> np.ndarray:
    """The next message's array."""
    code, shape = read_header(stream)
    return read_data(stream, code, shape)


def read_exactly(stream: BinaryIO, size: int) -> bytes:
    """``size`` bytes from ``stream``; ``ProtocolError`` if it ends first."""
    data = stream.read(size)
    if len(data) != size:
        raise ProtocolError(f"the stream ended after {len(data)} of {size} bytes")
    return data
