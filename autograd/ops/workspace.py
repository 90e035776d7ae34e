"""Memory: reusable scratch arrays for the big, short-lived buffers of conv, pooling, normalisation and
relu, and freed memory kept by malloc for the next step (`keep_freed_memory`)."""
import ctypes
import math
import os
import sys
import threading
from collections import OrderedDict

import numpy as np

# glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_FROM = 32 << 20   # glibc's own ceiling for its moving threshold
_TRIM_FROM = 512 << 20


def keep_freed_memory():
    """Have glibc's malloc keep freed blocks for reuse instead of handing them back to the OS: arrays
    under 32 MiB come from the heap, whose top is given back only beyond 512 MiB of free space.

    By default glibc maps blocks over a moving threshold (128 KiB at first) straight from the OS and
    unmaps them when they are freed, and trims the heap's free top; the next array of that size then
    costs a page fault per 4 KiB on first touch. A train step frees and allocates the same sizes
    again every step, so with the defaults the small GPT's step took 2,800-3,200 page faults and 18%
    longer (34.4 against 28.1 ms). Kept memory is reused, so the peak does not grow; what it costs
    is that memory freed after the peak stays with the process (more, if the heap fragments), as in
    PyTorch's caching allocator.
    Called when autograd is imported; a no-op where malloc is not glibc's, or when the environment
    sets NDGRAD_KEEP_FREED_MEMORY=0. Returns whether both settings took effect."""
    if os.environ.get("NDGRAD_KEEP_FREED_MEMORY", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt   # the process's own symbols: glibc's malloc, if it is glibc
    except (OSError, AttributeError):   # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_FROM)) & bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_FROM))


def _unused_refcount():
    """sys.getrefcount of an array that only a pool list refers to, seen from the loop in
    Workspace.empty (measured rather than assumed, as interpreters count differently)."""
    arrays = [np.empty(0)]
    for array in arrays:
        return sys.getrefcount(array)


_UNUSED_REFCOUNT = _unused_refcount()


class Workspace:
    """Reusable scratch arrays for the big, short-lived buffers of conv, pooling, normalisation and
    relu (column matrices, outputs, gradients), as PyTorch's caching allocator keeps freed blocks.

    Allocating a fresh multi-megabyte array every step costs a page fault per 4 KiB page on first
    touch (malloc hands large blocks back to the OS when they are freed), which in a small CNN's
    step is as much time as the arithmetic. An array here is handed out again only once nothing
    but the pool refers to it (no Tensor, view or saved graph value), so reuse is never visible.
    Per thread; at most `per_shape` arrays per (shape, dtype) (a CNN block keeps several of one
    shape alive at once: conv output, batch norm's centered input and output, relu's output), and
    `max_bytes` in all (least recently used shapes are dropped first).
    """
    min_bytes = 1 << 18
    per_shape = 8
    max_bytes = 256 << 20

    def __init__(self):
        self._local = threading.local()

    def _pool(self):
        pool = getattr(self._local, "pool", None)
        if pool is None:
            pool = self._local.pool = OrderedDict()
            self._local.bytes = 0
        return pool

    def empty(self, shape, dtype):
        """An uninitialised array of `shape` and `dtype`: a pooled one no one else refers to when there is
        one (arrays under min_bytes are always new)."""
        dtype = np.dtype(dtype)
        shape = tuple(shape)
        size = math.prod(shape) * dtype.itemsize   # math.prod: np.prod costs microseconds on a tuple
        if size < self.min_bytes:
            return np.empty(shape, dtype)
        pool = self._pool()
        key = (shape, dtype)
        arrays = pool.get(key)
        if arrays is None:
            arrays = pool[key] = []
        pool.move_to_end(key)
        for array in arrays:
            if sys.getrefcount(array) == _UNUSED_REFCOUNT:   # only the pool refers to it
                return array
        array = np.empty(shape, dtype)
        if len(arrays) < self.per_shape:
            arrays.append(array)
            self._local.bytes += size
            while self._local.bytes > self.max_bytes and len(pool) > 1:
                (old_shape, old_dtype), dropped = pool.popitem(last=False)
                self._local.bytes -= len(dropped) * math.prod(old_shape) * old_dtype.itemsize
        return array

    def empty_apart(self, shape, dtype, other):
        """As `empty`, but placed half a page (2 KiB modulo 4 KiB, rounded down to a 64-byte cache line)
        away from the array `other` in memory, for a buffer that a shifted copy fills from `other` or
        adds into it (im2col, col2im). Large arrays tend to start at the same offset within a page;
        then each store of such a copy lies a few bytes ahead of a load modulo 4 KiB, and the CPU
        stalls the loads on a dependence that is not there ("4K aliasing"): half the speed, for the
        im2col copies of a 32-channel 32x32 batch slice 206 against 98-102 us at any other offset."""
        dtype = np.dtype(dtype)
        nbytes = math.prod(shape) * dtype.itemsize
        raw = self.empty((nbytes + 4096,), np.uint8)
        page_offset = (other.ctypes.data + 2048) % 4096 // 64 * 64   # where it should start: a cache line
        start = (page_offset - raw.ctypes.data) % 4096
        return raw[start:start + nbytes].view(dtype).reshape(shape)

    def empty_like(self, x):
        """As `empty`, for an array of x's shape and dtype laid out in memory in x's axis order (a
        channel-major (N, C, H, W) view gets a channel-major one), as np.empty_like does."""
        if x.nbytes < self.min_bytes:
            return np.empty_like(x)
        order = sorted(range(x.ndim), key=lambda axis: -abs(x.strides[axis]))
        if order == list(range(x.ndim)):
            return self.empty(x.shape, x.dtype)
        return self.empty([x.shape[axis] for axis in order], x.dtype).transpose(np.argsort(order))

    def zeros(self, shape, dtype):
        """As `empty`, filled with zeros."""
        array = self.empty(shape, dtype)
        array.fill(0)
        return array

    def clear(self):
        """Drop this thread's pooled arrays."""
        self._pool().clear()
        self._local.bytes = 0


workspace = Workspace()
keep_freed_memory()
