"""The window functions of spectral analysis (hann, hamming, blackman, bartlett, kaiser), periodic and
symmetric, against torch's."""
import numpy as np
import pytest

import autograd as ag


@pytest.mark.parametrize("name, kwargs", [("hann_window", {}), ("hamming_window", {}), ("blackman_window", {}),
                                          ("bartlett_window", {}), ("kaiser_window", {}),
                                          ("kaiser_window", dict(beta=5.0)), ("hamming_window", dict(alpha=0.5,
                                                                                                     beta=0.5))])
@pytest.mark.parametrize("length", [0, 1, 2, 7, 16])
@pytest.mark.parametrize("periodic", [True, False])
def test_window_functions_match_torch(name, kwargs, length, periodic):
    torch = pytest.importorskip("torch")
    ours = getattr(ag, name)(length, periodic, **kwargs)
    theirs = getattr(torch, name)(length, periodic, **kwargs)
    assert ours.dtype == np.float32 and ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-6)
    assert getattr(ag, name)(4, dtype=ag.float64).dtype == np.float64
