"""matmul_array and the workspace's buffers placed apart, probed where raw pointers and leading
dimensions can go wrong: every stride a NumPy view can have (negative, zero, odd ones on size-1 axes),
every kind of `out`, products from other threads and forked processes, the library shared with or
missing from the process; and convolution, unfolding and pooling against PyTorch with the products
on the private copy and the im2col/col2im buffers from the pool."""
import itertools
import multiprocessing
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import autograd as ag
import nn.functional as F
from autograd.ops import gemm
from autograd.ops.workspace import workspace

needs_private_copy = pytest.mark.skipif(gemm._sgemm is None, reason="no private OpenBLAS copy on this machine")


# Every test here runs with every float32 product sent to the private copy (see conftest.py).
pytestmark = pytest.mark.usefixtures("every_float32_product_on_the_private_copy")


def _strided_views(matrix):
    """Views holding `matrix`'s values with every kind of strides: C and Fortran order, rows and
    columns further apart than their length, negative steps, and (where the values allow) zero steps
    of broadcasting; on a size-1 axis, any step at all. Each is cut from a NaN-filled base, so a read
    outside the view shows in the product."""
    rows, cols = matrix.shape

    def inside(step_rows, step_cols):
        base = np.full((abs(step_rows) * rows + 2, abs(step_cols) * cols + 2), np.nan, np.float32)
        view = base[1:1 + abs(step_rows) * rows:abs(step_rows), 1:1 + abs(step_cols) * cols:abs(step_cols)]
        view = view[::-1] if step_rows < 0 else view
        view = view[:, ::-1] if step_cols < 0 else view
        view[...] = matrix
        return view

    views = {f"steps {steps}": inside(*steps) for steps in [(1, 1), (2, 1), (1, 3), (2, 3), (-1, 1), (1, -1), (-2, -3)]}
    views["Fortran"] = np.asfortranarray(matrix)
    views["transposed, negative"] = inside(-1, 1).T.copy().T[::-1][::-1]
    views["Fortran, reversed rows"] = np.asfortranarray(matrix[::-1])[::-1]
    odd_steps = (0, 4, -4, 12, 6, 1 << 20)
    if rows == 1:
        views.update({f"row step {step}": np.lib.stride_tricks.as_strided(matrix.copy(), strides=(step, 4))
                      for step in odd_steps})
    if cols == 1:
        views.update({f"column step {step}": np.lib.stride_tricks.as_strided(matrix.copy(), strides=(4, step))
                      for step in odd_steps})
    if (matrix == matrix[:1]).all():
        views["broadcast rows"] = np.broadcast_to(matrix[:1], matrix.shape)
    if (matrix == matrix[:, :1]).all():
        views["broadcast columns"] = np.broadcast_to(matrix[:, :1], matrix.shape)
    return views


def _writable_outs(rows, cols):
    """(out, its NaN-filled base) for every writable layout of an (rows, cols) float32 out."""
    outs = {}
    for name, view in _strided_views(np.zeros((rows, cols), np.float32)).items():
        if view.flags.writeable and not name.startswith(("row step", "column step")):
            base = view.base if view.base is not None else view
            base[...] = np.nan
            outs[name] = view, base
    return outs


@pytest.mark.parametrize("m, k, n", [(1, 1, 1), (1, 6, 1), (5, 1, 7), (1, 7, 6), (6, 7, 1), (1, 1, 9), (9, 1, 1),
                                     (17, 33, 9)])
@pytest.mark.parametrize("constant", [False, True], ids=["random", "constant"])
def test_every_stride_of_operands_and_out_gives_numpys_product_and_writes_only_out(
        m, k, n, constant, every_float32_product_on_the_private_copy):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    a, b = rng.standard_normal((m, k)).astype(np.float32), rng.standard_normal((k, n)).astype(np.float32)
    if constant:   # equal rows and columns: broadcast views hold the same values
        a[...], b[...] = a[0, 0], b[0, 0]
    expected = a.astype(np.float64) @ b.astype(np.float64)
    for (name_a, left), (name_b, right) in itertools.product(_strided_views(a).items(), _strided_views(b).items()):
        assert (left == a).all() and (right == b).all()
        np.testing.assert_allclose(gemm.matmul_array(left, right), expected, rtol=1e-5, atol=1e-5,
                                   err_msg=f"a {name_a} {left.strides}, b {name_b} {right.strides}")
        for name_out, (out, base) in _writable_outs(m, n).items():
            assert gemm.matmul_array(left, right, out=out) is out
            np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5,
                                       err_msg=f"a {name_a}, b {name_b}, out {name_out} {out.strides}")
            outside = np.ones(base.shape, bool)
            outside[np.unravel_index(
                (out.ctypes.data - base.ctypes.data + np.indices(out.shape).reshape(2, -1).T @ out.strides) // 4,
                base.shape)] = False
            assert np.isnan(base[outside]).all(), f"written outside out {name_out}"
    assert every_float32_product_on_the_private_copy or gemm._sgemm is None


def _unaligned(shape):
    raw = np.zeros(np.prod(shape) * 4 + 1, np.uint8)
    return raw[1:].view(np.float32).reshape(shape)


def test_an_unaligned_read_only_overlapping_or_other_dtype_out_behaves_as_in_numpy():
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((8, 6)).astype(np.float32), rng.standard_normal((6, 5)).astype(np.float32)
    expected = a.astype(np.float64) @ b
    for out in [_unaligned((8, 5)), np.zeros((8, 5)), np.zeros((8, 5), ">f4"), np.zeros((8, 5), np.float16)]:
        assert not out.flags.aligned or out.dtype != np.float32
        gemm.matmul_array(a, b, out=out)
        np.testing.assert_allclose(out, expected, rtol=1e-2 if out.dtype == np.float16 else 1e-5, atol=1e-2)
    unaligned_a = _unaligned((8, 6))
    unaligned_a[...] = a
    np.testing.assert_allclose(gemm.matmul_array(unaligned_a, b), expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gemm.matmul_array(a.astype(">f4"), b), expected, rtol=1e-5, atol=1e-5)

    read_only = np.zeros((8, 5), np.float32)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        gemm.matmul_array(a, b, out=read_only)
    with pytest.raises(ValueError, match="read-only"):
        gemm.matmul_array(a, b, out=np.broadcast_to(np.zeros((1, 5), np.float32), (8, 5)))
    with pytest.raises(ValueError):
        gemm.matmul_array(a, b, out=np.zeros((8, 6), np.float32))
    assert (read_only == 0).all()

    square = rng.standard_normal((6, 6)).astype(np.float32)
    product = square.astype(np.float64) @ square
    interleaved = np.zeros((6, 12), np.float32)
    interleaved[:, ::2] = square
    gemm.matmul_array(interleaved[:, ::2], square, out=interleaved[:, 1::2])   # out between a's columns
    np.testing.assert_allclose(interleaved[:, 1::2], product, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(interleaved[:, ::2], square)
    stacked = np.zeros((12, 6), np.float32)
    stacked[:6] = square
    gemm.matmul_array(stacked[:6], stacked[:6], out=stacked[6:])   # out just after both operands
    np.testing.assert_allclose(stacked[6:], product, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("a_shape, b_shape", [((0, 5), (5, 3)), ((3, 0), (0, 4)), ((3, 5), (5, 0))])
def test_products_with_an_empty_side_are_numpys(a_shape, b_shape):
    a, b = np.ones(a_shape, np.float32), np.ones(b_shape, np.float32)
    product = gemm.matmul_array(a, b)
    assert product.shape == np.matmul(a, b).shape and product.dtype == np.float32
    np.testing.assert_array_equal(product, np.matmul(a, b))


@pytest.mark.parametrize("other", [np.float64, np.float16, np.int32, np.complex64, np.bool_])
def test_float32_times_another_dtype_promotes_as_numpy_does(other):
    rng = np.random.default_rng(8)
    a, b = rng.standard_normal((9, 7)).astype(np.float32), (rng.standard_normal((7, 4)) * 3).astype(other)
    product = gemm.matmul_array(a, b)
    assert product.dtype == np.matmul(a, b).dtype
    np.testing.assert_allclose(product, np.matmul(a, b), rtol=1e-5, atol=1e-5)


@needs_private_copy
@pytest.mark.parametrize("strides", [(4 << 31, 4), (4, 4 << 31)], ids=["row-major", "column-major"])
def test_a_leading_dimension_beyond_32_bits_is_never_passed_to_the_32_bit_library(strides):
    """cblas_sgemm takes int leading dimensions, and ctypes would wrap 2^31 to a negative one. The
    view is never read: the private copy must decline it before calling the library."""
    far_apart = np.lib.stride_tricks.as_strided(np.zeros(4, np.float32), shape=(2, 2), strides=strides)
    assert gemm._layout(far_apart)[1] > gemm._INT_MAX
    assert gemm._private_product(far_apart, np.ones((2, 3), np.float32), None) is None
    assert gemm._private_product(np.ones((3, 2), np.float32), far_apart, None) is None
    assert gemm._private_product(np.ones((2, 1), np.float32), np.ones((1, 2), np.float32), far_apart) is None


@needs_private_copy
def test_products_from_several_python_threads_at_once_are_right(every_float32_product_on_the_private_copy):
    """The private copy's sgemm is called through ctypes, which lets go of the GIL: products of
    several threads run on it at the same time."""
    wrong = []

    def products(seed):
        rng = np.random.default_rng(seed)
        for _ in range(30):
            a = rng.standard_normal((int(rng.integers(1, 150)), 120)).astype(np.float32)
            b = rng.standard_normal((120, int(rng.integers(1, 150)))).astype(np.float32)
            if not np.allclose(gemm.matmul_array(a, b), a.astype(np.float64) @ b, rtol=1e-4, atol=1e-4):
                wrong.append(seed)

    threads = [threading.Thread(target=products, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == [] and len(every_float32_product_on_the_private_copy) == 120


def _product_in_child(queue):
    a = np.arange(300 * 200, dtype=np.float32).reshape(300, 200) % 7
    queue.put((gemm.matmul_array(a, a.T), gemm._private_threads()))


@needs_private_copy
def test_a_forked_process_computes_on_the_private_copy_after_the_parent_used_it():
    a = np.arange(300 * 200, dtype=np.float32).reshape(300, 200) % 7
    ag.set_num_threads(2)   # the private copy's worker threads started, then stopped for the fork
    np.testing.assert_array_equal(gemm.matmul_array(a, a.T), a.astype(np.float64) @ a.T)
    ag.set_num_threads(1)
    parents = gemm.matmul_array(a, a.T)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_product_in_child, args=(queue,))
    child.start()
    childs, child_threads = queue.get(timeout=120)
    child.join(timeout=120)
    assert child.exitcode == 0 and child_threads == 1
    np.testing.assert_array_equal(childs, parents)
    np.testing.assert_array_equal(childs, a.astype(np.float64) @ a.T)


def _run(code, **env):
    completed = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, **env), capture_output=True,
                               text=True, timeout=300, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.split()


_CONV_AND_LINEAR = ("x = ag.tensor(np.ones((2, 8, 12, 12), np.float32), requires_grad=True); "
                    "w = ag.tensor(np.ones((16, 8, 3, 3), np.float32), requires_grad=True); "
                    "F.conv2d(x, w, padding=1).sum().backward(); "
                    "print(float(x.grad.numpy().sum()), "
                    "float(F.linear(ag.ones(300, 300), ag.ones(200, 300)).numpy().max()))")
# Each of the 16 * 8 * 2 (out channel, in channel, image) pairs sums, over the 12 x 12 pixels, how many
# of the 3 x 3 windows (padding 1) cover each pixel: 9 inside, 6 on an edge, 4 in a corner.
_CONV_AND_LINEAR_RESULTS = [str(16 * 8 * 2 * (10 * 10 * 9 + 4 * 10 * 6 + 4 * 4) + 0.0), "300.0"]


@pytest.mark.slow
def test_without_scipy_openblas32_every_product_is_numpys():
    hide = ("import importlib.util; find_spec = importlib.util.find_spec; "
            "importlib.util.find_spec = lambda name, *args: "
            "None if name == 'scipy_openblas32' else find_spec(name, *args); ")
    code = hide + ("import numpy as np, autograd as ag, nn.functional as F; from autograd.ops import gemm; "
                   "ag.set_num_threads(1); print(gemm._sgemm is None); " + _CONV_AND_LINEAR)
    assert _run(code) == ["True"] + _CONV_AND_LINEAR_RESULTS


@needs_private_copy
@pytest.mark.slow
def test_a_scipy_openblas32_imported_before_ndgrad_is_not_taken_for_the_private_copy():
    """Importing scipy_openblas32 loads its library for the whole process with the default kernels;
    loading the same file again hands back that copy. It is neither private nor on the Haswell kernels,
    so products stay on NumPy's copy, and its thread count is not ndgrad's to change."""
    code = ("import ctypes, os, numpy, scipy_openblas32, threadpoolctl; threadpoolctl.threadpool_limits(1); "
            "shared = ctypes.CDLL(os.path.join(scipy_openblas32.get_lib_dir(), scipy_openblas32.get_library(True))); "
            "shared.scipy_openblas_set_num_threads(3); "
            "import autograd as ag, nn.functional as F, numpy as np; from autograd.ops import gemm; "
            "print(gemm._sgemm is None, shared.scipy_openblas_get_num_threads()); " + _CONV_AND_LINEAR)
    assert _run(code) == ["True", "3"] + _CONV_AND_LINEAR_RESULTS


# -- convolution, unfolding and pooling on the private copy, with pooled buffers placed apart ------

torch_cases = [
    # (name, ours, PyTorch's, input shapes, keyword arguments): the column buffers of each exceed
    # Workspace.min_bytes, so they come from the pool.
    ("conv1d", F.conv1d, "conv1d", [(8, 16, 601), (12, 8, 5)], dict(stride=2, padding=3, dilation=2, groups=2)),
    ("conv2d", F.conv2d, "conv2d", [(3, 8, 33, 31), (12, 4, 3, 5)],
     dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)),
    ("conv2d same", F.conv2d, "conv2d", [(2, 16, 40, 40), (16, 16, 3, 3)], dict(padding=1)),
    ("conv2d depthwise", F.conv2d, "conv2d", [(4, 16, 37, 35), (16, 1, 3, 3)], dict(padding=2, dilation=2, groups=16)),
    ("conv2d 1x1 strided", F.conv2d, "conv2d", [(4, 24, 35, 33), (20, 24, 1, 1)], dict(stride=2)),
    ("conv3d", F.conv3d, "conv3d", [(2, 4, 13, 14, 15), (6, 4, 3, 2, 3)], dict(padding=1, dilation=(2, 1, 1))),
    ("conv_transpose1d", F.conv_transpose1d, "conv_transpose1d", [(8, 12, 301), (12, 5, 4)],
     dict(stride=2, padding=1, output_padding=1, groups=1, dilation=2)),
    ("conv_transpose2d", F.conv_transpose2d, "conv_transpose2d", [(2, 8, 21, 19), (8, 3, 3, 4)],
     dict(stride=2, padding=1, output_padding=1, groups=2)),
    ("conv_transpose3d", F.conv_transpose3d, "conv_transpose3d", [(2, 6, 9, 8, 7), (6, 4, 3, 3, 2)],
     dict(stride=(1, 2, 2), padding=(0, 1, 1), dilation=(2, 1, 1))),
    ("unfold", F.unfold, "unfold", [(3, 5, 62, 59)],
     dict(kernel_size=(3, 4), dilation=(2, 1), padding=1, stride=(2, 3))),
    ("fold", F.fold, "fold", [(3, 5 * 12, 30 * 20)],
     dict(output_size=(62, 59), kernel_size=(3, 4), dilation=(2, 1), padding=1, stride=(2, 3))),
    ("max_pool2d", F.max_pool2d, "max_pool2d", [(4, 16, 67, 65)], dict(kernel_size=3, stride=2, padding=1, dilation=2)),
    ("avg_pool2d", F.avg_pool2d, "avg_pool2d", [(4, 16, 67, 65)], dict(kernel_size=(3, 2), stride=(2, 1), padding=1)),
    ("max_pool3d", F.max_pool3d, "max_pool3d", [(2, 8, 19, 18, 17)], dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool1d", F.avg_pool1d, "avg_pool1d", [(8, 32, 1025)], dict(kernel_size=5, stride=3, padding=2)),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, ours, theirs_name, shapes, kwargs", torch_cases, ids=[case[0] for case in torch_cases])
def test_convolutions_unfolding_and_pooling_match_torch_twice_over_with_pooled_buffers(
        name, ours, theirs_name, shapes, kwargs, dtype):
    """Two rounds on different inputs: the second reuses the first's pooled buffers once they are free,
    and must leave the first round's results (still referenced) alone."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(abs(hash(name)) % 1000)
    tolerance = 2e-4 if dtype == np.float32 else 1e-10
    rounds = []
    for _ in range(2):
        inputs = [rng.standard_normal(shape).astype(dtype) for shape in shapes]
        mine = [ag.tensor(array, requires_grad=True) for array in inputs]
        theirs = [torch.tensor(array, requires_grad=True) for array in inputs]
        out = ours(*mine, **kwargs)
        reference = getattr(torch.nn.functional, theirs_name)(*theirs, **kwargs)
        upstream = rng.standard_normal(tuple(reference.shape)).astype(dtype)
        out.backward(ag.tensor(upstream))
        reference.backward(torch.tensor(upstream))
        results = [out.numpy()] + [tensor.grad.numpy() for tensor in mine]
        expected = [reference.detach().numpy()] + [tensor.grad.numpy() for tensor in theirs]
        rounds.append((results, [array.copy() for array in expected]))
    for results, expected in rounds:
        for index, (result, wanted) in enumerate(zip(results, expected)):
            assert result.dtype == dtype
            scale = max(1.0, float(np.abs(wanted).max()))
            np.testing.assert_allclose(result, wanted, rtol=tolerance, atol=tolerance * scale,
                                       err_msg=f"{name} {'output' if index == 0 else f'grad {index - 1}'}")


def test_linear_matmul_and_conv_double_backward_in_float32_match_torch(every_float32_product_on_the_private_copy):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    cases = [
        (lambda x, w: F.linear(x, w).tanh(), lambda x, w: torch.nn.functional.linear(x, w).tanh(),
         [(33, 40), (30, 40)]),
        (lambda x, w: (x @ w).tanh(), lambda x, w: (x @ w).tanh(), [(3, 17, 40), (40, 30)]),
        (lambda x, w: (x.mT @ w).sin(), lambda x, w: (x.mT @ w).sin(), [(40, 17), (40, 30)]),
        (lambda x, w: F.conv2d(x, w, padding=1, groups=2).tanh(),
         lambda x, w: torch.nn.functional.conv2d(x, w, padding=1, groups=2).tanh(), [(2, 6, 11, 9), (8, 3, 3, 3)]),
    ]
    for ours, theirs, shapes in cases:
        arrays = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
        mine = [ag.tensor(array, requires_grad=True) for array in arrays]
        reference = [torch.tensor(array, requires_grad=True) for array in arrays]
        first = ag.grad(ours(*mine).square().sum(), mine, create_graph=True)
        first_reference = torch.autograd.grad(theirs(*reference).square().sum(), reference, create_graph=True)
        second = ag.grad(sum((g * g).sum() for g in first), mine)
        second_reference = torch.autograd.grad(sum((g * g).sum() for g in first_reference), reference)
        for got, wanted in zip(list(first) + list(second), list(first_reference) + list(second_reference)):
            wanted = wanted.detach().numpy()
            scale = max(1.0, float(np.abs(wanted).max()))
            np.testing.assert_allclose(got.numpy(), wanted, rtol=1e-3, atol=1e-3 * scale)
        with ag.no_grad():
            np.testing.assert_allclose(ours(*mine).numpy(), theirs(*reference).detach().numpy(), rtol=1e-4, atol=1e-4)
    assert every_float32_product_on_the_private_copy or gemm._sgemm is None


@pytest.mark.parametrize("shape", [(0,), (0, 5), (), (3, 0, 2), (1,), (70000,), (300, 301)])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.complex64, np.complex128, np.int8, np.bool_])
def test_a_buffer_placed_apart_has_its_shape_and_dtype_aligned_for_any_size(shape, dtype):
    other = np.zeros(100, np.float32)[1:]
    array = workspace.empty_apart(shape, dtype, other)
    assert array.shape == shape and array.dtype == dtype and array.flags.c_contiguous and array.flags.writeable
    assert array.flags.aligned and (array.size == 0 or array.ctypes.data % 64 == 0)


def test_a_view_of_a_buffer_placed_apart_keeps_it_from_being_handed_out_again():
    other = np.zeros(100, np.float32)
    first = workspace.empty_apart((300, 301), np.float32, other)
    first[...] = 3
    column_view = first[::2].T   # all that is left of it
    del first
    for _ in range(workspace.per_shape):   # each buffer handed out is free again at once
        workspace.empty_apart((300, 301), np.float32, other)[...] = -1
        np.testing.assert_array_equal(column_view, 3)
    workspace.clear()


@needs_private_copy
def test_threadpool_limits_sends_products_to_the_private_copy_only_inside_it(every_float32_product_on_the_private_copy):
    from threadpoolctl import threadpool_limits
    calls = every_float32_product_on_the_private_copy
    a = np.arange(120 * 80, dtype=np.float32).reshape(120, 80) % 5
    expected = a.astype(np.float64) @ a.T
    ag.set_num_threads(2)
    np.testing.assert_array_equal(gemm.matmul_array(a, a.T), expected)
    assert calls == []
    with threadpool_limits(1):
        np.testing.assert_array_equal(gemm.matmul_array(a, a.T), expected)
        assert calls == [(120, 120, 80)]
    assert ag.get_num_threads() == 2 and gemm._private_threads() == 2
    np.testing.assert_array_equal(gemm.matmul_array(a, a.T), expected)
    assert len(calls) == 1


@needs_private_copy
@pytest.mark.slow
def test_with_openblas_num_threads_1_in_the_environment_large_products_run_on_the_private_copy():
    code = ("import numpy as np, autograd as ag; from autograd.ops import gemm; a = np.ones((512, 256), np.float32); "
            "calls = []; real = gemm._sgemm; gemm._sgemm = lambda *args: calls.append(args[3:6]) or real(*args); "
            "print(ag.get_num_threads(), gemm._private_threads(), (gemm.matmul_array(a, a.T) == 256).all(), calls)")
    assert _run(code, OPENBLAS_NUM_THREADS="1") == ["1", "1", "True", "[(512,", "512,", "256)]"]
