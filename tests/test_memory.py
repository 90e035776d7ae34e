"""Memory policy: importing autograd has glibc's malloc keep freed blocks, so that the arrays a train
step frees are reused by the next step instead of being faulted in again page by page."""
import os
import subprocess
import sys
import textwrap

import pytest

from autograd.ops.workspace import keep_freed_memory

# A train step's pattern: arrays of 128 KiB - 2 MiB allocated, some freed, others allocated again.
# Prints the page faults per repetition once warm.
_CHURN = textwrap.dedent("""
    import resource
    import numpy as np
    import autograd  # noqa: F401
    sizes = [int(n) for n in np.random.default_rng(0).integers(1 << 15, 1 << 19, 24)]
    def step():
        kept = [np.ones(n, np.float32) for n in sizes]
        del kept[::2]
        return kept, [np.ones(n, np.float32) for n in sizes[::3]]
    for _ in range(3):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        step()
    print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
""")


def _faults_per_step(keep):
    env = dict(os.environ, NDGRAD_KEEP_FREED_MEMORY="1" if keep else "0")
    done = subprocess.run([sys.executable, "-c", _CHURN], env=env, capture_output=True, text=True, check=True,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return float(done.stdout)


@pytest.mark.skipif(not keep_freed_memory(), reason="malloc is not glibc's: nothing to set")
def test_arrays_freed_by_one_step_are_reused_by_the_next_without_page_faults():
    assert _faults_per_step(keep=False) > 1000   # glibc's defaults: unmapped on free, faulted in again
    assert _faults_per_step(keep=True) < 10


def test_keep_freed_memory_can_be_turned_off_by_the_environment(monkeypatch):
    monkeypatch.setenv("NDGRAD_KEEP_FREED_MEMORY", "0")
    assert keep_freed_memory() is False


@pytest.mark.parametrize("offset_floats", [0, 1, 17, 1024])
@pytest.mark.parametrize("shape, dtype", [((32, 9, 3072), "float32"), ((5, 7), "float64"), ((300, 301), "float32")])
def test_an_array_placed_apart_sits_half_a_page_from_the_other_and_is_reused_only_when_free(offset_floats, shape, dtype):
    import numpy as np
    from autograd.ops.workspace import workspace
    other = np.zeros(1 << 20, np.float32)[offset_floats:]
    first = workspace.empty_apart(shape, dtype, other)
    assert first.shape == shape and first.dtype == np.dtype(dtype) and first.flags.c_contiguous
    distance = (first.ctypes.data - other.ctypes.data) % 4096
    assert 2048 - 64 < distance <= 2048 and first.ctypes.data % 64 == 0   # half a page, whole cache lines
    first[...] = 7
    second = workspace.empty_apart(shape, dtype, other)
    assert not np.shares_memory(first, second)   # `first` is alive: its buffer is not handed out again
    assert (first == 7).all()
    address = first.ctypes.data
    del first
    third = workspace.empty_apart(shape, dtype, other)
    assert not np.shares_memory(third, second)   # `second` is still alive
    assert third.ctypes.data == address or third.nbytes + 4096 < workspace.min_bytes   # first's, or never pooled
    workspace.clear()
