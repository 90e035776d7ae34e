"""The number of threads intra-op work runs on: `torch.get_num_threads`/`set_num_threads`.

ndgrad's ops run on NumPy, whose only multithreaded work is in its BLAS library (OpenBLAS, MKL,
...: matmul, conv through im2col, linalg). threadpoolctl is the maintained way to ask that library
how many threads it uses and to change it at run time, whichever BLAS NumPy was built with.
"""
from __future__ import annotations

import numbers

import numpy as np  # noqa: F401  (loads the BLAS library, so threadpoolctl finds it)
from threadpoolctl import ThreadpoolController

from .errors import ArgumentError, DTypeError

_controller = None


def _blas():
    """The BLAS thread pools NumPy loaded (found once: the search walks the loaded libraries)."""
    global _controller
    if _controller is None:
        _controller = ThreadpoolController().select(user_api="blas")
    return _controller


def get_num_threads() -> int:
    """The number of threads NumPy's BLAS library uses (1 if it is single-threaded or none was found):
    `torch.get_num_threads`."""
    return max((pool.num_threads for pool in _blas().lib_controllers), default=1)


def set_num_threads(n: int) -> None:
    """Make NumPy's BLAS library use `n` threads, for the whole process: `torch.set_num_threads`."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise DTypeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise ArgumentError(f"set_num_threads expects a positive integer, got {n}")
    _blas().limit(limits=int(n))


def get_num_interop_threads() -> int:
    """The number of threads for running independent ops in parallel: `torch.get_num_interop_threads`.
    ndgrad runs ops one after the other on the calling thread, so this is 1."""
    return 1


def set_num_interop_threads(n: int) -> None:
    """As `torch.set_num_interop_threads`, but ndgrad has no inter-op pool: it runs ops one after the
    other on the calling thread, so only 1 can be honoured and any other count is an error."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise DTypeError(f"set_num_interop_threads expects an int, but got {type(n).__name__}")
    if n != 1:
        raise ArgumentError(f"set_num_interop_threads: ndgrad runs ops one after the other on the calling thread "
                         f"(no inter-op pool), so only 1 thread can be set, got {n}")
