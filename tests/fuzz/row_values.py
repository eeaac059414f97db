"""Python values for row_fuzz, made from fuzzer bytes, with what conveyor must make of them.

``build(data)`` reads ``data`` (any bytes) and returns ``(value, expected, arrays)``:

* ``value``: what a ``__getitem__`` could return: a tuple of columns or a single column. A
  column is a NumPy array of any dtype (native or swapped byte order, unsupported kinds among
  them), shape and strides (negative, gaps, unaligned to the item size, a view of another
  array), possibly over 64 KB (the path that holds the array instead of copying it), or bytes,
  a str (possibly not encodable as UTF-8), a Python number, a nested or ragged list, a
  bytearray, None.
* ``expected``: one entry per column: ``(dtype name, shape, C-order bytes)`` that the tensor
  must hold, or ``None`` when conveyor must refuse the value with std::invalid_argument.
* ``arrays``: weak references to the arrays ``value`` holds, which must all be dead once the
  value and the row converted from it are dropped (a dead one proves no reference leaked).

Deterministic: the same bytes give the same value.
"""
import weakref

import numpy as np

# Byte orders both ways, every kind conveyor takes and several it must refuse.
DTYPES = ["|b1", "|u1", "|i1", "<u2", ">u2", "<i2", ">i2", "<u4", "<i4", ">i4", "<u8", "<i8", ">u8",
          "<f2", ">f2", "<f4", ">f4", "<f8", ">f8", "<c8", "<U2", "|S3", "|V3", "<M8[s]", "<m8[ms]",
          np.dtype(np.longdouble).str]
SUPPORTED = {("b", 1), ("i", 1), ("i", 2), ("i", 4), ("i", 8), ("u", 1), ("u", 2), ("u", 4), ("u", 8),
             ("f", 2), ("f", 4), ("f", 8)}
BIG = 64 * 1024 + 1  # above conveyor's copy limit: such arrays are held, not copied


class Reader:
    """Hands out the bytes of ``data`` in order; zeros once they run out."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def byte(self):
        if self.pos >= len(self.data):
            return 0
        self.pos += 1
        return self.data[self.pos - 1]

    def take(self, n):
        chunk = self.data[self.pos:self.pos + n]
        self.pos += len(chunk)
        return chunk


def strided_array(r, arrays):
    dtype = np.dtype(DTYPES[r.byte() % len(DTYPES)])
    payload = r.take(r.byte() % 64)
    big = r.byte() % 8 == 0
    if big:  # repeat the payload past the copy limit; a 1-D view of all of it
        payload = (payload or b"\x01") * (BIG // max(len(payload), 1) + 1)
    buffer = bytearray(payload)
    a = None
    if not big:
        ndim = r.byte() % 4
        shape = tuple(r.byte() % 5 for _ in range(ndim))
        strides = tuple((r.byte() % 24) - 8 for _ in range(ndim))
        offset = r.byte() % 16
        try:
            a = np.ndarray(shape, dtype, buffer, offset, strides)
        except (ValueError, TypeError):  # out of the buffer's bounds, or a dtype that cannot view bytes
            pass
    if a is None:
        count = len(buffer) // dtype.itemsize if dtype.itemsize else 0
        try:
            a = np.frombuffer(buffer, dtype, count)
        except (ValueError, TypeError):
            a = np.zeros(3, dtype)
        if a.size > 1 and r.byte() % 2:
            a = a[::-1]
        if a.size > 2 and r.byte() % 2:
            a = a[1::2]
    if a.ndim >= 2 and r.byte() % 2:
        a = a.T
    arrays.append(weakref.ref(a))
    return a


def column(r, arrays, depth=0):
    kind = r.byte() % 10
    if kind <= 2:
        return strided_array(r, arrays)
    if kind == 3:
        return bytes(r.take(r.byte() % 32))
    if kind == 4:
        return bytes(r.take(r.byte() % 32)).decode("utf-8", "surrogateescape")
    if kind == 5:
        return int.from_bytes(r.take(1 + r.byte() % 10), "little", signed=bool(r.byte() % 2))
    if kind == 6:
        return [r.byte() / 7.0, r.byte(), True][: r.byte() % 4]
    if kind == 7:
        if depth > 2:
            return None
        return [column(r, arrays, depth + 1) for _ in range(r.byte() % 3)]
    if kind == 8:
        return bytearray(r.take(r.byte() % 16))
    return None


def expectation(value):
    """What the tensor converted from ``value`` must hold, or None for a required refusal."""
    if isinstance(value, bytes):
        return "bytes", (len(value),), value
    if isinstance(value, str):
        try:
            encoded = value.encode("utf-8")
        except UnicodeEncodeError:
            return None
        return "bytes", (len(encoded),), encoded
    try:
        a = np.asarray(value)
    except (ValueError, TypeError, OverflowError):
        return None
    if (a.dtype.kind, a.dtype.itemsize) not in SUPPORTED:
        return None
    a = a.astype(a.dtype.newbyteorder("="))
    return a.dtype.name, tuple(a.shape), np.ascontiguousarray(a).tobytes()


def build(data):
    r = Reader(data)
    arrays = []
    if r.byte() % 4 == 0:
        value = column(r, arrays)
        expected = [expectation(value)]
    else:
        value = tuple(column(r, arrays) for _ in range(r.byte() % 5))
        expected = [expectation(v) for v in value]
    return value, expected, arrays
