"""ag.testing.assert_close against torch.testing.assert_close (defaults per dtype, containers, the messages'
first words), and ag.compile (torch.compile) giving the model back."""
import numpy as np
import pytest

import autograd as ag
import nn

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("actual, expected", [
    (lambda lib: lib.ones(3), lambda lib: lib.ones(3) + 5e-6),                 # within float32's atol 1e-5
    (lambda lib: lib.ones(3), lambda lib: lib.ones(3) * 1.01),
    (lambda lib: lib.ones(3), lambda lib: lib.ones(3, dtype=lib.float64)),
    (lambda lib: lib.ones(2, dtype=lib.float64), lambda lib: lib.ones(2, dtype=lib.float64) + 2e-7),
    (lambda lib: lib.tensor([1, 2]), lambda lib: lib.tensor([1, 3])),
    (lambda lib: lib.tensor([float("nan")]), lambda lib: lib.tensor([float("nan")])),
    (lambda lib: [lib.ones(2), {"a": lib.zeros(1)}], lambda lib: [lib.ones(2), {"a": lib.zeros(1)}]),
    (lambda lib: lib.ones(2, 3), lambda lib: lib.ones(3, 2)),
])
def test_assert_close_passes_and_fails_where_torchs_does(actual, expected):
    outcomes = []
    for lib, module in ((torch, torch.testing), (ag, ag.testing)):
        try:
            module.assert_close(actual(lib), expected(lib))
            outcomes.append("close")
        except AssertionError as error:
            outcomes.append(str(error).split("\n")[0].split(":")[0])   # the kind of mismatch
    assert outcomes[0] == outcomes[1]


def test_compile_returns_the_model_or_function_unchanged():
    model = nn.Linear(2, 2)
    assert ag.compile(model) is model and ag.compile(mode="max-autotune")(model) is model

    @ag.compile
    def double(x):
        return x * 2

    assert double(ag.ones(2)).tolist() == [2.0, 2.0]


def test_checkpointed_segments_give_torchs_values_and_gradients():
    import torch.utils.checkpoint
    from autograd.utils.checkpoint import checkpoint, checkpoint_sequential
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    torch.manual_seed(0)   # the same weights every run: an unseeded run could land an output near 0
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    ours = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 2))
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    tx, mx = torch.tensor(x, requires_grad=True), ag.tensor(x, requires_grad=True)
    expected = torch.utils.checkpoint.checkpoint(theirs, tx, use_reentrant=False) \
        + torch.utils.checkpoint.checkpoint_sequential(theirs, 2, tx, use_reentrant=False)
    out = checkpoint(ours, mx, use_reentrant=False) + checkpoint_sequential(ours, 2, mx, use_reentrant=False)
    expected.sum().backward()
    out.sum().backward()
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_torchscript_mentions_run_eagerly_as_model_code_expects():
    import typing
    import nn

    @ag.jit.script
    def fused_gelu(x):
        return x * 0.5 * (1.0 + ag.erf(x / 1.41421))

    class Attention(nn.Module):
        fused_attn: ag.jit.Final[bool]  # timm's annotation, read at class creation

        def __init__(self):
            super().__init__()
            self.fused_attn = True
            self.proj = nn.Linear(2, 2)

        @ag.jit.ignore(drop=True)
        def helper(self):
            return "eager"

        @ag.jit.unused
        def unused(self):
            return 1

        def forward(self, x):
            if not ag.jit.is_scripting() and not ag.jit.is_tracing():
                ag._assert(x.dim() == 2, f"Expected (batch, dim), got {x.shape}")
            return fused_gelu(self.proj(x))

    model = ag.jit.script(Attention())
    traced = ag.jit.trace(model, ag.ones(1, 2))
    x = ag.randn(3, 2)
    assert traced is model and ag.equal(model(x), fused_gelu(model.proj(x)))
    assert model.helper() == "eager" and model.unused() == 1 and ag.jit.Final is typing.Final
    assert ag.jit.annotate(list, []) == []
    with pytest.raises(AssertionError, match="Expected \\(batch, dim\\), got \\(3,\\)"):
        model(ag.ones(3))


def test_distributed_is_unavailable_so_single_process_paths_run():
    assert not ag.distributed.is_available() and not ag.distributed.is_initialized()
