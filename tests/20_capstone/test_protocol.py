"""The pipe protocol between the measuring process and the model process (module 20)."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest

from tinytorch.olympics.model_process import logits_shape
from tinytorch.olympics.protocol import (
    HEADER,
    ProtocolError,
    is_end,
    read_array,
    read_header,
    write_array,
    write_end,
)

pytestmark = pytest.mark.module20


@pytest.mark.parametrize(
    "array",
    [
        np.arange(24, dtype=np.float32).reshape(2, 3, 4),
        np.array([[3, 1, 4]], dtype=np.int64),
        np.zeros((0, 10), dtype=np.float64),
        np.array(7, dtype=np.uint8),
        np.arange(12, dtype=np.float32).reshape(3, 4).T,  # not contiguous
    ],
    ids=["float32-3d", "int64-ids", "empty", "scalar", "transposed"],
)
def test_an_array_comes_back_as_it_was_sent(array: np.ndarray) -> None:
    stream = io.BytesIO()
    write_array(stream, array)
    assert len(stream.getvalue()) == HEADER.size + 8 * array.ndim + array.nbytes
    stream.seek(0)
    received = read_array(stream)
    assert received.dtype == array.dtype and received.shape == array.shape
    np.testing.assert_array_equal(received, array)
    received += 1  # a writable array, not a view of the pipe's bytes


def test_messages_follow_each_other_on_one_stream() -> None:
    stream = io.BytesIO()
    for value in range(3):
        write_array(stream, np.full((1, 2), value, dtype=np.float32))
    write_end(stream)
    stream.seek(0)
    assert [read_array(stream)[0, 0] for _ in range(3)] == [0, 1, 2]
    assert is_end(read_array(stream))
    assert not is_end(np.zeros(0, dtype=np.float32))  # an empty batch is not the end
    with pytest.raises(ProtocolError, match="ended after 0 of 7 bytes"):
        read_array(stream)


def test_a_truncated_or_malformed_message_is_a_protocol_error() -> None:
    stream = io.BytesIO()
    write_array(stream, np.zeros((4, 10), dtype=np.float32))
    with pytest.raises(ProtocolError, match="ended after 80 of 160 bytes"):
        read_array(io.BytesIO(stream.getvalue()[:-80]))
    with pytest.raises(ProtocolError, match="claims 99 dimensions"):
        read_header(io.BytesIO(HEADER.pack(b"<f4", 99)))
    object_header = HEADER.pack(b"|O8", 1) + struct.pack("<Q", 1)
    with pytest.raises(ProtocolError, match="holds objects"):
        read_array(io.BytesIO(object_header + bytes(8)))


def test_the_logits_shape_a_track_asks_for() -> None:
    assert logits_shape((64, 1, 28, 28), 10) == (64, 10)  # images: one row per image
    assert logits_shape((1, 17), 73) == (1, 17, 73)  # token ids: one row per position
