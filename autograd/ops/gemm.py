"""BLAS kernels called directly. The matrix product kernel of matmul, linear and convolution:
`matmul_array`, NumPy's matmul on arrays, except that a large float32 product of two matrices may run
on a second copy of OpenBLAS whose kernels suit the CPU better than the ones NumPy's copy picked. And
`add_scaled_`, y += a x in one pass (BLAS axpy on NumPy's own copy), which NumPy has no ufunc for.

Why a second copy. OpenBLAS picks its kernels once, when it loads, by CPU model. On AMD CPUs with
AVX-512 (Zen 4 and later) it picks the ones written for Intel's AVX-512 cores (SkylakeX), whose
float32 products with a small side, the shapes of convolutions at 16-128 channels, run far below
its AVX2 (Haswell) kernels there: on a Zen 4 core, one thread, GFLOP/s SkylakeX -> Haswell
(32, 288) @ (288, 4096) 64 -> 93, (288, 32) @ (32, 4096) 60 -> 97, (64, 576) @ (576, 1024)
81 -> 103, (128, 784) @ (784, 256) 99 -> 104 (with the weight transposed, as a linear layer reads it,
577 -> 502 us), 2048^3 103 -> 110; at 2 threads alike. float64 runs as fast either way, and the
AVX-512 copy's small-matrix path wins on small products ((10, 128) @ (128, 128): 77 against 42).
The choice can only be made through OPENBLAS_CORETYPE before the library loads, which is too late
for NumPy's copy, loaded before ndgrad. So on those CPUs (unless the user chose a core type
himself) ndgrad loads OpenBLAS again, its 32-bit-integer build from the scipy-openblas32 package,
for itself only, with the Haswell kernels, and calls its cblas_sgemm for float32 products of two
matrices of at least _MIN_MULTIPLY_ADDS. (If something imported scipy_openblas32 before ndgrad,
that library is loaded already, with its default kernels, for the whole process: then there is no
private copy.)
Everywhere else, and for every other product, matmul_array is np.matmul.

Threads. The second copy runs products only while its BLAS is set to one thread. With more, each
OpenBLAS copy keeps worker threads that spin for a while after every call, and two copies in turn
spin against each other's work: at 2 threads the MLP step took 8-34 ms against 1.3 (2^24 threshold,
python -m benchmarks), the small GPT 46 against 20. So at 2 or more threads every product is
NumPy's (it was so before this module). The copy is a BLAS library like NumPy's: threadpoolctl
finds it, so `set_num_threads` and threadpool_limits set its thread count with NumPy's; it starts
with the count NumPy's copy has when ndgrad loads it.
"""
import ctypes
import importlib.util
import os
import sys

import numpy as np

# Products with fewer multiply-adds stay on NumPy's copy. Alone, the Haswell kernels win from about
# 10^6, but in a train step that moves between the two copies, each call to the second one costs
# cache misses (its code and packing buffers) that its kernels win back only on larger products:
# MLP step at batch 16 / 32, 0.588 / 0.797 ms with a threshold of 2^20, 0.559 / 0.756 with 2^24;
# at batch 128, on the small GPT and the CIFAR-size CNN, the same either way.
_MIN_MULTIPLY_ADDS = 1 << 24
_INT_MAX = 2**31 - 1   # scipy-openblas32 takes 32-bit sizes
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
_FLOAT32 = np.dtype(np.float32)


def _cpu_prefers_haswell_kernels():
    """An AMD CPU with AVX-512, where OpenBLAS picks its Intel AVX-512 kernels (see above)."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            head = cpuinfo.read(1 << 14)
    except OSError:
        return False
    flags = next((line.split(":", 1)[1].split() for line in head.splitlines() if line.startswith("flags")), [])
    return "AuthenticAMD" in head and "avx512f" in flags


def _numpy_uses_openblas():
    try:
        return np.__config__.CONFIG["Build Dependencies"]["blas"]["name"] in ("openblas", "scipy-openblas")
    except (AttributeError, KeyError, TypeError):
        return False


def _load_sgemm(core_type="Haswell"):
    """cblas_sgemm of a private copy of OpenBLAS loaded with `core_type`'s kernels, or None when that
    copy is not installed or cannot be kept apart from NumPy's. The library is found without importing
    its package, which would load it at once, for the whole process (RTLD_GLOBAL) and with the default
    kernels; if something imported it before, loading it again gives that shared copy, so there is
    none. RTLD_DEEPBIND makes it bind its own symbols first: else it can find a copy loaded before
    (SciPy's has the same names), already set up, and keep that one's kernels."""
    spec = importlib.util.find_spec("scipy_openblas32")
    deepbind = getattr(os, "RTLD_DEEPBIND", None)
    if spec is None or not spec.submodule_search_locations or deepbind is None:
        return None
    lib_dir = os.path.join(spec.submodule_search_locations[0], "lib")
    names = sorted(name for name in os.listdir(lib_dir) if name.startswith("libscipy_openblas") and ".so" in name) \
        if os.path.isdir(lib_dir) else []
    if not names:
        return None
    path = os.path.join(lib_dir, names[0])
    try:   # already loaded (`import scipy_openblas32` loads it for the whole process, with the default
        ctypes.CDLL(path, mode=os.RTLD_NOLOAD)   # kernels): dlopen would hand back that shared copy
        return None
    except OSError:
        pass
    threads = _numpy_blas_threads()
    saved = os.environ.get("OPENBLAS_CORETYPE")
    os.environ["OPENBLAS_CORETYPE"] = core_type   # read once, by the library's constructor
    try:
        library = ctypes.CDLL(path, mode=os.RTLD_LOCAL | deepbind)
    except OSError:
        return None
    finally:
        if saved is None:
            del os.environ["OPENBLAS_CORETYPE"]
        else:
            os.environ["OPENBLAS_CORETYPE"] = saved
    if threads is not None:
        library.scipy_openblas_set_num_threads(ctypes.c_int(threads))
    sgemm = library.scipy_cblas_sgemm
    c_int, c_float, pointer = ctypes.c_int, ctypes.c_float, ctypes.c_void_p
    sgemm.argtypes = [c_int] * 6 + [c_float, pointer, c_int, pointer, c_int, c_float, pointer, c_int]
    sgemm.restype = None
    sgemm.library = library   # kept alive with the function
    sgemm.threads = library.scipy_openblas_get_num_threads
    sgemm.threads.argtypes, sgemm.threads.restype = [], ctypes.c_int
    return sgemm


def _numpy_blas_pool():
    """threadpoolctl's record of NumPy's own BLAS library (None if it does not find it)."""
    from threadpoolctl import threadpool_info
    numpy_dir = os.path.dirname(np.__file__)   # its vendored library lies in numpy.libs, beside it
    return next((pool for pool in threadpool_info()
                 if pool["user_api"] == "blas" and pool["filepath"].startswith(numpy_dir)), None)


def _numpy_blas_threads():
    """The thread count of NumPy's own BLAS library now (None if threadpoolctl does not find it)."""
    pool = _numpy_blas_pool()
    return None if pool is None else pool["num_threads"]


_sgemm = (_load_sgemm() if sys.platform.startswith("linux") and "OPENBLAS_CORETYPE" not in os.environ
          and _numpy_uses_openblas() and _cpu_prefers_haswell_kernels() else None)
_private_threads = None if _sgemm is None else _sgemm.threads


def _layout(matrix):
    """How cblas reads a float32 matrix in place: (transposed, leading dimension), or None when its
    strides fit neither a row-major nor a column-major matrix (rows, or columns, may be padded)."""
    rows, cols = matrix.shape
    row_step, col_step = matrix.strides
    if cols == 1:
        col_step = 4
    if rows == 1:
        row_step = max(cols, 1) * 4
    if col_step == 4 and row_step % 4 == 0 and row_step >= 4 * cols:
        return False, row_step // 4
    if row_step == 4 and col_step % 4 == 0 and col_step >= 4 * rows:
        return True, col_step // 4
    return None


def _private_product(a, b, out):
    """a @ b on the private copy for two float32 matrices, into out (a new array when None); None
    when the operands or out are not laid out for it."""
    m, k = a.shape
    n = b.shape[1]
    layout_a, layout_b = _layout(a), _layout(b)
    if (layout_a is None or layout_b is None or not (a.flags.aligned and b.flags.aligned)
            or max(layout_a[1], layout_b[1]) > _INT_MAX):
        return None   # before `out` is made: NumPy's matmul will make its own
    if out is None:
        out = np.empty((m, n), np.float32)
    elif (out.dtype != np.float32 or out.shape != (m, n) or not out.flags.writeable or not out.flags.aligned
          or np.may_share_memory(out, a) or np.may_share_memory(out, b)):
        return None
    layout_out = _layout(out)
    if layout_out is None or layout_out[0] or layout_out[1] > _INT_MAX:
        return None
    _sgemm(_ROW_MAJOR, _TRANS if layout_a[0] else _NO_TRANS, _TRANS if layout_b[0] else _NO_TRANS, m, n, k,
           1.0, a.ctypes.data, layout_a[1], b.ctypes.data, layout_b[1], 0.0, out.ctypes.data, layout_out[1])
    return out


def matmul_array(a, b, out=None):
    """np.matmul(a, b, out=out), on the private OpenBLAS copy where there is one and the product is
    two float32 matrices of at least _MIN_MULTIPLY_ADDS, while BLAS runs on one thread."""
    # The cheapest tests first: this runs before every product of matmul, linear and convolution.
    if (_sgemm is not None and a.ndim == 2 and b.ndim == 2 and a.size * b.shape[1] >= _MIN_MULTIPLY_ADDS
            and a.dtype == _FLOAT32 and b.dtype == _FLOAT32 and a.shape[1] == b.shape[0]
            and max(a.shape + b.shape) <= _INT_MAX and _private_threads() == 1):
        product = _private_product(a, b, out)
        if product is not None:
            return product
    return np.matmul(a, b, out=out)


# -- axpy on NumPy's own OpenBLAS --------------------------------------------------------------------

def _load_axpy():
    """{dtype: cblas ?axpy} of the OpenBLAS NumPy itself runs on (no second copy, so no second pool of
    threads), for the builds whose integer width the symbol names tell: scipy-openblas64 (NumPy's
    wheels: `scipy_cblas_saxpy64_`, 64-bit sizes) and scipy-openblas32 (`scipy_cblas_saxpy`); {} for
    any other BLAS. The library is only looked up, never loaded (RTLD_NOLOAD)."""
    pool = _numpy_blas_pool() if _numpy_uses_openblas() else None
    noload = getattr(os, "RTLD_NOLOAD", None)
    if pool is None or noload is None:
        return {}
    try:
        library = ctypes.CDLL(pool["filepath"], mode=noload)
    except OSError:
        return {}
    kernels = {}
    for dtype, real, letter in ((np.float32, ctypes.c_float, "s"), (np.float64, ctypes.c_double, "d")):
        names = ((f"scipy_cblas_{letter}axpy64_", ctypes.c_int64), (f"scipy_cblas_{letter}axpy", ctypes.c_int))
        for name, size in names:
            axpy = getattr(library, name, None)
            if axpy is not None:
                axpy.argtypes = [size, real, ctypes.c_void_p, size, ctypes.c_void_p, size]
                axpy.restype = None
                axpy.library = library   # kept alive with the function
                axpy.max_size = 2**63 - 1 if size is ctypes.c_int64 else _INT_MAX
                kernels[np.dtype(dtype)] = axpy
                break
    return kernels


_axpy = _load_axpy()


def add_scaled_(y, alpha, x):
    """y += alpha * x, in place, for arrays of one shape (an optimizer's update of a parameter). As
    BLAS axpy, in one pass over memory, on NumPy's own OpenBLAS where there is one and both are
    C-contiguous float32/float64 arrays of one dtype, apart in memory, of at least _AXPY_FROM elements;
    else as NumPy's `y += alpha * x`, whose temporary costs a second pass: the MLP step's SGD update
    took 72 us of 1.75 ms that way, about 40 this way. Like torch's add_(x, alpha=...), the axpy does
    not round the product before the add (a fused multiply-add; NumPy's expression does, so small
    arrays may differ from torch's by an ulp); an alpha of 0 still adds 0 * x, so inf or NaN in x
    spread, as there. Returns y."""
    axpy = _axpy.get(y.dtype) if y.size >= _AXPY_FROM else None
    if axpy is not None and alpha != 0 and x.dtype == y.dtype and x.shape == y.shape and y.size <= axpy.max_size:
        y_flags, x_flags = y.flags, x.flags
        if y_flags.c_contiguous and x_flags.c_contiguous and y_flags.writeable and y_flags.aligned and x_flags.aligned:
            y_start, x_start = y.ctypes.data, x.ctypes.data
            if x_start + x.nbytes <= y_start or y_start + y.nbytes <= x_start:   # apart in memory
                axpy(y.size, alpha, x_start, 1, y_start, 1)
                return y
    y += alpha * x
    return y


# Below this many elements NumPy's two passes cost less than the call through ctypes (3.6 us against 0.9
# for 256 float32; even at 32,768: 6.2 against 5.9 us; 200,704: 28.5 against 38.7).
_AXPY_FROM = 1 << 15
