"""ag.get_num_threads / set_num_threads: the BLAS library's thread count, as torch's."""
import pytest
from threadpoolctl import threadpool_info

import autograd as ag


def _blas_threads():
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


@pytest.fixture
def restore_threads():
    before = ag.get_num_threads()
    yield
    ag.set_num_threads(before)


def test_get_num_threads_reports_the_blas_thread_count():
    assert ag.get_num_threads() == max(_blas_threads(), default=1)


def test_set_num_threads_changes_the_blas_thread_count(restore_threads):
    ag.set_num_threads(1)
    assert ag.get_num_threads() == 1
    assert set(_blas_threads()) <= {1}


@pytest.mark.parametrize("bad, error, words", [(0, ValueError, "positive integer"), (-2, ValueError, "positive"),
                                               (1.5, TypeError, "float"), ("2", TypeError, "str"),
                                               (True, TypeError, "bool")])
def test_set_num_threads_refuses_what_torch_refuses(bad, error, words, restore_threads):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):
        torch.set_num_threads(bad)
    with pytest.raises(error, match=words) as raised:
        ag.set_num_threads(bad)
    assert isinstance(raised.value, RuntimeError)  # torch's class catches ours too


def test_interop_threads_are_one_since_ops_run_on_the_calling_thread():
    assert ag.get_num_interop_threads() == 1
    ag.set_num_interop_threads(1)
    with pytest.raises(ValueError, match="set_num_interop_threads.*got 4"):
        ag.set_num_interop_threads(4)
