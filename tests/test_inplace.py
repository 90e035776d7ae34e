"""In-place ops, version counters, views and `.data`, each checked against PyTorch on the same program.

Every program is written once against a module `t` (autograd or torch), so the two run the very
same code; gradients, values and version counts must agree, and where PyTorch refuses (a value
saved for backward was overwritten, a leaf that requires grad written in place) ndgrad must raise
too, with a message naming the op, the shape and the versions.
"""
import numpy as np
import pytest

import autograd as ag
import nn

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
X = RNG.uniform(0.5, 1.5, (3, 4))
W = RNG.uniform(-1.0, 1.0, (3, 4))
ROW = RNG.uniform(0.5, 1.5, (4,))


def run(program):
    """Run `program(t, x, w, row)` with autograd and torch on the same float64 leaves; return, for
    each, (the output's values, the gradients of the three leaves)."""
    results = []
    for t in (ag, torch):
        leaves = [t.tensor(a.copy(), requires_grad=True) for a in (X, W, ROW)]
        out = program(t, *leaves)
        (out * t.tensor(W[: out.shape[0]] if out.ndim == 2 else np.arange(out.numel(), dtype=np.float64)
                        .reshape(out.shape))).sum().backward()
        grads = [None if leaf.grad is None else np.asarray(leaf.grad.detach().numpy()) for leaf in leaves]
        results.append((np.asarray(out.detach().numpy()), grads))
    return results


def assert_same_as_torch(program):
    (ours, our_grads), (theirs, their_grads) = run(program)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    for mine, reference in zip(our_grads, their_grads):
        assert (mine is None) == (reference is None)
        if mine is not None:
            np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-12)


IN_PLACE_PROGRAMS = {
    "add_": lambda t, x, w, r: (x * 2).add_(w),
    "add_alpha": lambda t, x, w, r: (x * 2).add_(w, alpha=-0.5),
    "sub_": lambda t, x, w, r: (x * 2).sub_(r),
    "mul_ needs the old self": lambda t, x, w, r: (x * 2).mul_(w),
    "mul_ scalar": lambda t, x, w, r: (x + 1).mul_(3.0),
    "div_": lambda t, x, w, r: (x * w).div_(r),
    "pow_": lambda t, x, w, r: (x + 1).pow_(2.5),
    "pow_ tensor exponent": lambda t, x, w, r: (x + 1).pow_(w),
    "clamp_": lambda t, x, w, r: (x * w).clamp_(-0.3, 0.4),
    "clamp_min_": lambda t, x, w, r: (x * w).clamp_min_(0.1),
    "relu_": lambda t, x, w, r: (x * w).relu_(),
    "sigmoid_ saves its output": lambda t, x, w, r: (x * w).sigmoid_(),
    "tanh_": lambda t, x, w, r: (x * w).tanh_(),
    "exp_": lambda t, x, w, r: (x * w).exp_(),
    "log_": lambda t, x, w, r: (x * 2).log_(),
    "sqrt_": lambda t, x, w, r: (x * 2).sqrt_(),
    "neg_": lambda t, x, w, r: (x * w).neg_(),
    "abs_": lambda t, x, w, r: (x * w).abs_(),
    "zero_": lambda t, x, w, r: (x * w).zero_() + x,
    "fill_": lambda t, x, w, r: (x * w).fill_(2.0) * x,
    "copy_ broadcasts its source": lambda t, x, w, r: (x * 2).copy_(r * 3),
    "masked_fill_": lambda t, x, w, r: (x * w).masked_fill_(w > 0, 0.5),
    "addcmul_": lambda t, x, w, r: (x * 2).addcmul_(w, r, value=0.5),
    "addcdiv_": lambda t, x, w, r: (x * 2).addcdiv_(w, r, value=-2.0),
    "lerp_": lambda t, x, w, r: (x * 2).lerp_(w, 0.25),
    "chained": lambda t, x, w, r: (x * 2).add_(w).mul_(r).tanh_() * w,
    "elu_ (a composite op)": lambda t, x, w, r: _functional(t).elu_((x * w), 0.7),
    "+=": lambda t, x, w, r: _iadd(x * 2, w),
    "-= *= /=": lambda t, x, w, r: _ops_assign(x * 2, w, r),
    "in place on a leaf that does not require grad": lambda t, x, w, r: t.zeros(3, 4, dtype=t.float64).add_(x * w),
}


def _functional(t):
    return nn.functional if t is ag else torch.nn.functional


def _iadd(y, w):
    y += w
    return y


def _ops_assign(y, w, r):
    y -= w
    y *= r
    y /= 2.0
    return y


@pytest.mark.parametrize("name", IN_PLACE_PROGRAMS)
def test_in_place_op_inside_a_graph_gives_torchs_values_and_gradients(name):
    assert_same_as_torch(IN_PLACE_PROGRAMS[name])


def test_in_place_op_keeps_the_tensor_and_records_its_new_history():
    x = ag.tensor(X, requires_grad=True)
    y = x * 2
    same = y.add_(1)
    assert same is y and y.grad_fn.name() == "Add" and y._version == 1 and y.requires_grad


@pytest.mark.parametrize("index", [
    1, (slice(None), 2), (Ellipsis, slice(1, 3)), (0, slice(None, None, 2)), [0, 2], (np.array([0, 2, 0]), 1),
    "mask", "tensor index"], ids=str)
def test_setitem_sends_gradients_to_the_untouched_part_and_to_the_value(index):
    def program(t, x, w, r):
        i = index
        if isinstance(i, str):
            i = (w > 0) if i == "mask" else t.tensor([2, 1])
        y = x * 2
        picked = t.zeros_like(y)[i]
        y[i] = (r[: picked.shape[-1]] * 3) if picked.ndim and picked.shape[-1] <= 4 else r.sum()
        return y
    assert_same_as_torch(program)


def test_setitem_into_a_preallocated_buffer_builds_the_graph_of_a_loop():
    def program(t, x, w, r):
        out = t.zeros(3, 4, dtype=t.float64)
        h = r
        for step in range(3):
            h = t.tanh(h * w[step] + x[step])
            out[step] = h
        return out
    assert_same_as_torch(program)


VIEW_PROGRAMS = {
    "slice of rows": lambda t, x, w, r: _through_view((x * 2), lambda y: y[1:], lambda v: v.mul_(w[1:])),
    "one row, then its elements": lambda t, x, w, r: _through_view((x * 2), lambda y: y[0], lambda v: v.add_(r)),
    "transposed": lambda t, x, w, r: _through_view((x * 2), lambda y: y.t(), lambda v: v.mul_(w.t())),
    "reshaped": lambda t, x, w, r: _through_view((x * 2), lambda y: y.view(12), lambda v: v.exp_()),
    "view of a view": lambda t, x, w, r: _through_view((x * 2), lambda y: y[1:][:, 1:3],
                                                       lambda v: v.mul_(w[1:, 1:3])),
    "setitem on a view": lambda t, x, w, r: _through_view((x * 2), lambda y: y[2], lambda v: v.__setitem__(
        slice(1, 3), r[:2] * w[0, :2])),
    "base not requiring grad": lambda t, x, w, r: _through_view(t.ones(3, 4, dtype=t.float64), lambda y: y[1],
                                                                 lambda v: v.copy_(r * 2)),
}


def _through_view(base, make_view, change):
    view = make_view(base)
    change(view)
    return base * 1.0


@pytest.mark.parametrize("name", VIEW_PROGRAMS)
def test_a_write_through_a_view_reaches_the_base_and_its_gradient(name):
    assert_same_as_torch(VIEW_PROGRAMS[name])


def test_a_piece_of_split_cannot_be_written_in_place_inside_a_graph_as_in_torch():
    for t in (ag, torch):
        x = t.tensor(X, requires_grad=True)
        pieces = (x * 2).chunk(2, dim=1)
        with pytest.raises(RuntimeError, match="view"):
            pieces[1].mul_(2)
        with pytest.raises(RuntimeError, match="view"):
            t.ones(3, 4, dtype=t.float64).chunk(2, dim=1)[1].mul_(x[:, :2])
        piece = t.ones(3, 4).chunk(2, dim=1)[1]
        piece.mul_(2)                      # outside any graph it is allowed
        assert float(piece.sum()) == 12.0


def test_the_view_itself_continues_from_its_new_values():
    def program(t, x, w, r):
        y = x * 2
        row = y[1]
        row.mul_(r)
        return y + row  # the view's history is its base's new history
    assert_same_as_torch(program)


def test_version_counts_match_torch_and_views_share_them():
    counts = []
    for t in (ag, torch):
        y = t.ones(3, 4) * 2
        view = y[1]
        detached = y.detach()
        seen = [y._version]
        y.add_(1)
        seen.append((y._version, view._version, detached._version))
        view.mul_(2)
        seen.append((y._version, view._version))
        y[0, 0] = 5
        detached.zero_()
        seen.append((y._version, view._version))
        y.data.add_(1)   # .data is not tracked: no version change
        seen.append(y._version)
        counts.append(seen)
    assert counts[0] == counts[1]


UNSAFE_PROGRAMS = {
    "output saved by exp": (lambda t, x: _changed_after(t.exp(x * 1.0), lambda y: y.add_(1)), "Exp", "output"),
    "input saved by mul": (lambda t, x: _saved_input_changed(t, x), "Mul", "saved value"),
    "through a view": (lambda t, x: _changed_after(t.tanh(x * 1.0), lambda y: y[0].zero_()), "Tanh", "output"),
    "through detach": (lambda t, x: _changed_after(t.sigmoid(x * 1.0), lambda y: y.detach().mul_(2)),
                       "Sigmoid", "output"),
    "in place twice after relu_": (lambda t, x: _changed_after((x * 1.0).sigmoid_(), lambda y: y.mul_(2)),
                                   "Sigmoid", "version 2; expected version 1"),
}


def _changed_after(y, change):
    change(y)
    return y


def _saved_input_changed(t, x):
    a = x * 1.0
    out = a * x
    a.add_(1)
    return out


@pytest.mark.parametrize("name", UNSAFE_PROGRAMS)
def test_backward_refuses_a_saved_value_changed_in_place_as_torch_does(name):
    program, op, detail = UNSAFE_PROGRAMS[name]
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        program(torch, torch.tensor(X, requires_grad=True)).sum().backward()
    with pytest.raises(RuntimeError, match="modified by an inplace operation") as error:
        program(ag, ag.tensor(X, requires_grad=True)).sum().backward()
    message = str(error.value)
    assert op in message and "(3, 4)" in message and detail in message and "version" in message


def test_anomaly_mode_names_the_line_that_created_the_op_whose_value_was_changed():
    x = ag.tensor(X, requires_grad=True)
    with ag.detect_anomaly():
        y = ag.exp(x * 1.0)   # the creating line
        y.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation") as error:
            y.sum().backward()
    assert "the creating line" in str(error.value)


def test_in_place_on_a_leaf_that_requires_grad_raises_outside_no_grad_as_torch():
    for t in (ag, torch):
        w = t.tensor(X.copy(), requires_grad=True)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
            w.add_(1)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad is being used"):
            w[0].mul_(2)
        with t.no_grad():
            w -= 0.5
            w[0, 0] = 7.0
        assert w.requires_grad and w.is_leaf and float(w[0, 0]) == 7.0


def test_in_place_errors_name_the_op_and_the_shapes():
    y = ag.ones(3, 4)
    with pytest.raises(ag.ShapeError, match=r"add_.*\(2, 3, 4\).*\(3, 4\)"):
        y.add_(ag.ones(2, 3, 4))
    with pytest.raises(ag.DTypeError, match="float"):
        ag.ones(3, dtype=ag.int64).add_(0.5)
    with pytest.raises(RuntimeError, match="read-only"):
        ag.ones(4).expand(3, 4).add_(1)
    with pytest.raises(ag.ShapeError, match="__setitem__"):
        y[0] = ag.ones(3)
    with pytest.raises(IndexError, match=r"\(3, 4\)"):
        y[5] = 1.0


def test_a_view_made_under_no_grad_cannot_be_written_with_grad():
    y = ag.ones(3, 4) * 1.0
    with ag.no_grad():
        row = y[0]
    x = ag.tensor(ROW, requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        row.copy_(x)


def test_data_shares_memory_and_is_untracked():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    d = x.data
    assert isinstance(d, ag.Tensor) and not d.requires_grad and d.grad_fn is None
    d.add_(1.0)                              # allowed: outside the graph
    np.testing.assert_array_equal(x.numpy(), [2.0, 3.0])
    x.data.normal_(0, 0.02)
    assert np.abs(x.numpy()).max() < 1.0
    x.data = ag.tensor([5.0, 6.0, 7.0], dtype=ag.float64)  # replaces values, shape and dtype
    assert x.shape == (3,) and x.dtype == np.float64 and x.requires_grad
    assert np.shares_memory(np.asarray(x), x.numpy())


def test_a_lecture_style_training_loop_with_p_data_updates_matches_torch():
    inputs = RNG.normal(size=(16, 4))
    targets = RNG.normal(size=(16, 1))
    start = [RNG.normal(size=(4, 8)) * 0.5, np.zeros(8), RNG.normal(size=(8, 1)) * 0.5]
    losses = []
    for t in (ag, torch):
        params = [t.tensor(a.copy(), requires_grad=True) for a in start]
        history = []
        for _ in range(5):
            hidden = t.tanh(t.tensor(inputs) @ params[0] + params[1])
            loss = ((hidden @ params[2] - t.tensor(targets)) ** 2).mean()
            for p in params:
                p.grad = None
            loss.backward()
            for p in params:
                p.data += -0.1 * p.grad
            params[0].data.clamp_(-0.4, 0.4)
            history.append(loss.item())
        losses.append(history)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-10)


@pytest.mark.parametrize("make", [
    lambda: nn.ReLU(inplace=True), lambda: nn.LeakyReLU(0.2, inplace=True), lambda: nn.ELU(0.7, inplace=True),
    lambda: nn.SiLU(inplace=True)], ids=["ReLU", "LeakyReLU", "ELU", "SiLU"])
def test_inplace_activation_modules_write_into_their_input_with_the_same_gradients(make):
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), make(), nn.Linear(6, 2))
    x = ag.tensor(RNG.normal(size=(5, 4)).astype(np.float32))   # the model's dtype, as PyTorch requires
    model(x).sum().backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    model[1].inplace = False
    out = model(x)
    out.sum().backward()
    for p, g in zip(model.parameters(), grads):
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-6)
    hidden = model[0](x)
    assert model[1].__class__(**({"inplace": True})) is not None
    result = nn.functional.relu(hidden, inplace=True)
    assert result is hidden and hidden._version == 1


def test_inplace_dropout_scales_its_input_and_the_gradient_follows():
    x = ag.tensor(RNG.normal(size=(200,)), requires_grad=True)
    y = x * 1.0
    ag.manual_seed(3)
    out = nn.functional.dropout(y, 0.5, training=True, inplace=True)
    assert out is y
    out.sum().backward()
    kept = out.numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, 2.0, 0.0))


def test_apply_inplace_makes_an_in_place_op_of_any_function():
    def program(t, x, w, r):
        y = x * 2
        if t is ag:
            ag.apply_inplace(y, "softplus_", lambda old, beta: nn.functional.softplus(old, beta), 2.0)
        else:
            y.copy_(torch.nn.functional.softplus(y.clone(), 2.0))
        return y
    assert_same_as_torch(program)


def test_second_derivatives_through_in_place_ops_match_torch():
    results = []
    for t in (ag, torch):
        x = t.tensor(X.copy(), requires_grad=True)
        y = x * 1.0
        y.mul_(x).sin_()
        (g,) = t.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = t.autograd.grad(g.sum(), x)
        results.append(gg.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-10)


def test_views_made_before_a_write_into_their_base_follow_its_new_history():
    def program(t, x, w, r):
        y = x * 2
        row, column = y[1], y[:, 2]
        y.mul_(w)                 # both views now hold the new values...
        row.add_(r)               # ...and a write through one view reaches the other
        return row * column[1] + y
    assert_same_as_torch(program)


def test_scatter_from_a_larger_source_uses_its_leading_block_and_is_differentiable():
    # PyTorch's own backward refuses a src larger than index, so this is checked by finite differences.
    index = ag.tensor([[2, 0], [1, 2]])
    x, src = ag.tensor(X[:2, :3], requires_grad=True), ag.tensor(W, requires_grad=True)
    assert ag.gradcheck(lambda a, s: a.scatter(1, index, s), (x, src))
    assert ag.gradcheck(lambda a, s: a.scatter_add(1, index, s), (x, src))
    np.testing.assert_array_equal(x.scatter(1, index, src).detach().numpy(),
                                  torch.tensor(X[:2, :3]).scatter(1, torch.tensor([[2, 0], [1, 2]]),
                                                                  torch.tensor(W)).numpy())


def test_scatter_and_index_ops_name_the_op_and_the_shapes_at_fault():
    x = ag.zeros(2, 3)
    with pytest.raises(ag.ShapeError, match="scatter"):
        x.scatter(1, ag.tensor([0, 1]), 1.0)
    with pytest.raises(IndexError, match=r"scatter_add.*index 3"):
        x.scatter_add(1, ag.tensor([[3]]), ag.ones(1, 1))
    with pytest.raises(ag.ShapeError, match="index_add"):
        x.index_add(0, ag.tensor([0]), ag.ones(2, 3))
    with pytest.raises(ag.DTypeError, match="index_fill"):
        x.index_fill(0, ag.tensor([0.5]), 1.0)
    one_hot = ag.zeros(3, 4).scatter_(1, ag.tensor([[2], [0], [3]]), 1.0)
    np.testing.assert_array_equal(one_hot.numpy(), np.eye(4)[[2, 0, 3]])


# -- random programs of in-place writes, views and ordinary ops, run on both --------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

STEPS = {
    "add_ w": lambda t, y, w: y.add_(w),
    "mul_ w": lambda t, y, w: y.mul_(w),
    "tanh_": lambda t, y, w: y.tanh_(),
    "sigmoid_": lambda t, y, w: y.sigmoid_(),
    "out of place": lambda t, y, w: y * w + 1,
    "row setitem": lambda t, y, w: _set(y, (1,), w[0] * 2),
    "column setitem": lambda t, y, w: _set(y, (slice(None), 2), w[:, 1]),
    "mask setitem": lambda t, y, w: _set(y, (w > 0.5,), 0.25),
    "through a row view": lambda t, y, w: (y[0].mul_(w[2]), y)[1],
    "through a transposed view": lambda t, y, w: (y.t()[1:].add_(w.t()[1:]), y)[1],
    "clamp_": lambda t, y, w: y.clamp_(-0.5, 0.7),
}


def _set(y, index, value):
    y[index] = value
    return y


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(sorted(STEPS)), min_size=1, max_size=6))
def test_random_programs_of_in_place_ops_and_views_match_torch(steps):
    """Either both give the same values and gradients, or both refuse (a value saved for backward
    was overwritten: tanh_ then mul_, say)."""
    def program(t, x, w, r):
        y = x * 1.0
        for name in steps:
            y = STEPS[name](t, y, w)
        return y
    x, w = torch.tensor(X, requires_grad=True), torch.tensor(W, requires_grad=True)
    try:
        program(torch, x, w, None).sum().backward()
    except RuntimeError as refusal:
        assert "modified by an inplace operation" in str(refusal)
        x, w = ag.tensor(X, requires_grad=True), ag.tensor(W, requires_grad=True)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            program(ag, x, w, None).sum().backward()
        return
    assert_same_as_torch(program)


@pytest.mark.parametrize("name, args", [
    ("asin_", ()), ("atan_", ()), ("sinh_", ()), ("log2_", ()), ("exp2_", ()), ("erf_", ()), ("deg2rad_", ()),
    ("fmod_", (0.3,)), ("remainder_", (0.3,)), ("hypot_", ("w",)), ("atan2_", ("w",)), ("copysign_", ("w",)),
    ("nan_to_num_", ()), ("float_power_", (2.0,))])
def test_more_in_place_methods_match_their_torch_counterparts(name, args):
    def program(t, x, w, r):
        y = x * 0.5
        getattr(y, name)(*(w if a == "w" else a for a in args))
        return y
    assert_same_as_torch(program)


def test_random_in_place_fills_draw_from_their_distributions():
    ag.manual_seed(0)
    coins = ag.zeros(10000).bernoulli_(0.3)
    assert set(np.unique(coins.numpy())) == {0.0, 1.0} and abs(coins.numpy().mean() - 0.3) < 0.02
    waits = ag.zeros(10000, dtype=ag.float64).exponential_(2.0)
    assert waits.numpy().min() >= 0 and abs(waits.numpy().mean() - 0.5) < 0.02


def test_augmented_assignment_to_an_indexed_region_matches_torch():
    def program(t, x, w, r):
        y = x * 2
        y[1:] += w[1:]             # a view: written through, then set back onto itself
        y[[0, 2], 1] *= r[:2]      # advanced: a copy, changed, then written back
        y[:, 0] -= 1.0
        return y
    assert_same_as_torch(program)


def test_a_resnet_block_with_inplace_relu_and_residual_add_matches_torch():
    """PyTorch's BasicBlock: conv-bn-relu(inplace)-conv-bn, `out += identity`, relu(inplace)."""
    rng = np.random.default_rng(1)
    images = rng.normal(size=(2, 4, 6, 6))
    weights = [rng.normal(size=(4, 4, 3, 3)) * 0.2 for _ in range(2)]
    grads = []
    for t, m in ((ag, nn), (torch, torch.nn)):
        convs = [m.Conv2d(4, 4, 3, padding=1, bias=False).double() for _ in range(2)]
        norms = [m.BatchNorm2d(4).double() for _ in range(2)]
        relu = m.ReLU(inplace=True)
        with t.no_grad():
            for conv, w in zip(convs, weights):
                conv.weight.copy_(t.tensor(w))
        x = t.tensor(images, requires_grad=True)
        out = relu(norms[0](convs[0](x)))
        out = norms[1](convs[1](out))
        out += x
        out = relu(out)
        (out * t.tensor(images)).sum().backward()
        grads.append([x.grad.numpy()] + [conv.weight.grad.numpy() for conv in convs])
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-10)


def test_a_base_does_not_keep_its_dead_views():
    weight = ag.tensor(W, requires_grad=True)
    for _ in range(50):
        (weight.t() * 2).sum()          # a view of the weight each step, dropped at once
    assert len(weight._views) <= 1


# -- found in review: each against PyTorch -------------------------------------------------------

def test_a_single_element_is_a_view_its_writes_reach_the_tensor():
    def program(t, x, w, r):
        y = x * 1.0
        y[0, 1].add_(10)          # NumPy would give a scalar copy here
        y[1][0].mul_(w[0, 0])
        y[t.tensor(1), 3].sub_(1)  # a 0-d integer tensor indexes as an int
        return y
    assert_same_as_torch(program)
    for t in (ag, torch):
        v = t.tensor([1.0, 2.0, 3.0])
        for element in v.unbind(0):
            element.add_(100)      # outside a graph, unbind's pieces are writable views
        assert v.tolist() == [101.0, 102.0, 103.0]


def test_flip_diag_and_contiguous_copy_as_torchs_do():
    for t in (ag, torch):
        x = t.tensor(X.copy())
        x.flip(0).add_(100)
        t.diag(x[:, :3]).zero_()
        x.T.contiguous().add_(100)
        np.testing.assert_array_equal(x.numpy(), X)
        assert t.ones(4).expand(3, 4).contiguous().add_(1).sum() == 24


UNSAFE_FOUND_IN_REVIEW = {
    "parameter changed under no_grad": lambda t, p: _changed_param(t, p),
    "index tensor changed after indexing": lambda t, p: _changed_index(t, p),
    "sort's indices changed": lambda t, p: _changed_sort(t, p),
    "max's output changed": lambda t, p: _changed_max(t, p),
}


def _changed_param(t, p):
    y = (p * p).sum()
    with t.no_grad():
        p.mul_(2)
    return y


def _changed_index(t, p):
    index = t.tensor([0])
    y = p[index].sum()
    index.fill_(1)
    return y


def _changed_sort(t, p):
    values, indices = (p * 1).sort()
    indices.zero_()
    return values.sum()


def _changed_max(t, p):
    y = p.max()
    y.mul_(2)
    return y


@pytest.mark.parametrize("name", UNSAFE_FOUND_IN_REVIEW)
def test_a_gradient_is_never_computed_from_overwritten_values(name):
    """Torch refuses some of these (version check) and ndgrad may instead keep its own copy of the
    index; either way the gradient must not silently move."""
    outcomes = []
    for t, param in ((ag, nn.Parameter), (torch, torch.nn.Parameter)):
        p = param(t.tensor([1.0, 3.0, 2.0], dtype=t.float64))
        try:
            UNSAFE_FOUND_IN_REVIEW[name](t, p).backward()
            outcomes.append(np.asarray(p.grad.detach().numpy()))
        except RuntimeError as error:
            assert "modified by an in" in str(error)
            outcomes.append("refused")
    ours, theirs = outcomes
    kept_a_copy = {"index tensor changed after indexing": [1, 0, 0], "sort's indices changed": [1, 1, 1]}
    if name in kept_a_copy:      # ndgrad keeps its own copy of the index: the true gradient, not a refusal
        np.testing.assert_array_equal(ours, kept_a_copy[name])
    else:
        assert isinstance(ours, str) and isinstance(theirs, str)


def test_in_place_writes_into_operands_no_gradient_needs_are_allowed_as_in_torch():
    def program(t, x, w, r):
        a = x * 1.0
        y = 2 * a + a / 2          # neither saves `a`: its gradient needs only the constants
        a.add_(1)
        return y + a
    assert_same_as_torch(program)


def test_retained_gradients_follow_a_tensor_through_an_in_place_change():
    results = []
    for t in (ag, torch):
        w = t.tensor(ROW.copy(), requires_grad=True)
        a = w * 2
        a.retain_grad()
        part = a[1:]
        part.retain_grad()
        a.mul_(3)
        ((a * a).sum() + part.sum()).backward()
        a.grad.add_(1)             # a retained gradient is writable
        results.append((a.grad.numpy().copy(), part.grad.numpy().copy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs)


def test_second_derivatives_through_repeated_index_writes_and_broadcast_views_match_torch():
    results = []
    for t in (ag, torch):
        w = t.tensor([1.0, 2.0], dtype=t.float64, requires_grad=True)
        a = t.zeros(3, dtype=t.float64)
        a[t.tensor([0, 0])] = w
        (g,) = t.autograd.grad((a ** 3).sum(), w, create_graph=True)
        (gg,) = t.autograd.grad(g.sum(), w)
        v = t.tensor([[1.0], [2.0]], dtype=t.float64, requires_grad=True)
        b = v * 1
        expanded = b.expand(2, 3)
        b.mul_(3)
        expanded.sum().backward()
        results.append((gg.numpy(), v.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs)


def test_mark_dirty_with_the_dirty_input_saved_as_in_pytorchs_docs():
    class SquareInPlace(ag.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(x)
            ctx.mark_dirty(x)
            ctx.save_for_backward(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            (squared,) = ctx.saved_tensors
            return grad * 2 * squared.sqrt()
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    SquareInPlace.apply(w * 1).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 4.0])


def test_a_one_element_value_fits_a_single_element_as_in_torch():
    for t in (ag, torch):
        a = t.zeros(2, 3)
        a[1, 2] = t.ones(1) * 5
        assert float(a.sum()) == 5.0


def test_a_view_made_under_no_grad_is_refused_after_its_base_is_written_with_grad():
    for t in (ag, torch):
        w = t.tensor([1.0, 2.0, 3.0], requires_grad=True)
        a = t.zeros(3)
        with t.no_grad():
            tail = a[1:]
        a.copy_(w)
        with pytest.raises(RuntimeError, match="no_grad|no-grad"):
            ((tail * tail).sum() + a.sum()).backward()


@pytest.mark.parametrize("accumulate", [False, True])
def test_index_put_writes_or_accumulates_at_repeated_positions_as_torch(accumulate):
    def program(t, x, w, r):
        y = x * 2
        rows, columns = t.tensor([0, 2, 0]), t.tensor([1, 3, 1])
        values = r[:3] if accumulate else r[:3] * 0 + r[0]   # equal values where positions repeat
        y.index_put_((rows, columns), values, accumulate=accumulate)
        return y.index_put((t.tensor([1]),), w[1] * 3, accumulate=accumulate)
    assert_same_as_torch(program)


@pytest.mark.parametrize("method, args, shape", [("unsqueeze_", (0,), (2, 3)), ("squeeze_", (), (2, 1, 3)),
                                                  ("squeeze_", (1,), (2, 1, 3)), ("t_", (), (2, 3)),
                                                  ("transpose_", (0, 2), (2, 1, 3))])
def test_in_place_view_ops_change_the_shape_and_history_as_torch(method, args, shape):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(9).standard_normal(shape)
    ours_leaf, theirs_leaf = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours, theirs = ours_leaf * 2, theirs_leaf * 2
    assert getattr(ours, method)(*args) is ours
    getattr(theirs, method)(*args)
    assert ours.shape == tuple(theirs.shape) and ours._version == theirs._version == 1
    upstream = np.random.default_rng(10).standard_normal(ours.shape)
    ours.backward(ag.tensor(upstream))
    theirs.backward(torch.tensor(upstream))
    np.testing.assert_allclose(ours_leaf.grad.numpy(), theirs_leaf.grad.numpy())
    plain = ag.zeros(*shape)   # no graph: only the shape changes
    assert getattr(plain, method)(*args).shape == tuple(getattr(torch.zeros(*shape), method)(*args).shape)


def test_in_place_view_ops_refuse_a_leaf_that_requires_grad():
    with pytest.raises(RuntimeError, match="unsqueeze_: a leaf Variable that requires grad is being used in an in-place "
                                           "operation"):
        ag.zeros(3, requires_grad=True).unsqueeze_(0)


VIEW_OP_WITH_VIEWS_PROGRAMS = {
    "a view's unsqueeze_ keeps it a view of its base": lambda t, x, w, r: _unsqueeze_a_view(t, x, w),
    "a view's t_ keeps it a view of its base": lambda t, x, w, r: _transpose_a_view(t, x, w),
    "transpose_ of a base leaves its views where they were": lambda t, x, w, r: _transpose_a_base(t, x, r),
    "squeeze_ of a base leaves its views where they were": lambda t, x, w, r: _squeeze_a_base(t, x, w),
    "a view's unsqueeze_ under no_grad keeps its history": lambda t, x, w, r: _unsqueeze_without_grad(t, (x * 2)[1], w),
    "a tensor's unsqueeze_ under no_grad keeps its history": lambda t, x, w, r: _unsqueeze_without_grad(t, x * 2, w),
}


def _unsqueeze_without_grad(t, y, w):
    with t.no_grad():
        y.unsqueeze_(0)
    return y * w[:1]


def _unsqueeze_a_view(t, x, w):
    y = x * 2
    row = y[1]
    row.unsqueeze_(0)
    assert tuple(row.shape) == (1, 4)
    row.mul_(w[:1])
    return y


def _transpose_a_view(t, x, w):
    y = x * 2
    corner = y[:2, 1:3]
    corner.t_()
    corner.mul_(w[:2, :2])
    return y


def _transpose_a_base(t, x, r):
    y = x * 2
    column = y[:, 1]
    y.transpose_(0, 1)
    assert tuple(y.shape) == (4, 3) and tuple(column.shape) == (3,)
    column.mul_(r[:3])
    return y.t()


def _squeeze_a_base(t, x, w):
    y = (x * 2).reshape(3, 1, 4).clone()
    first = y[0]
    y.squeeze_(1)
    first.mul_(w[0])
    return y * 1


@pytest.mark.parametrize("name", VIEW_OP_WITH_VIEWS_PROGRAMS)
def test_in_place_view_ops_on_views_and_on_tensors_with_views_as_torch(name):
    assert_same_as_torch(VIEW_OP_WITH_VIEWS_PROGRAMS[name])


def test_retain_grad_follows_a_tensor_through_transpose_():
    # torch's own transpose_ of a retain_grad() tensor fails an internal assert: compare with the out-of-place
    # program, whose tensor holds the same values at the same shape.
    values = np.random.default_rng(3).standard_normal((2, 3))
    x, t_x = ag.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.transpose_(0, 1)
    t_y = (t_x * 2).transpose(0, 1)
    t_y.retain_grad()
    (y * y).sum().backward()
    (t_y * t_y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), t_y.grad.numpy())
    np.testing.assert_allclose(x.grad.numpy(), t_x.grad.numpy())


def test_views_of_a_tensor_reshaped_in_place_still_write_into_it_without_autograd():
    for t in (ag, torch):
        x = t.zeros(2, 3)
        row, column = x[0], x[:, 2]
        x.t_()
        row.add_(1)
        column.add_(10)
        x.unsqueeze_(0)
        x[0, 1].add_(100)   # x[0, 1] is the old x[:, 1]
        row.unsqueeze_(0).mul_(2)
        # x is the old x transposed: its column 0 the old row 0 (1, +100 at [1], doubled), row 2 the
        # old column 2 (+10), row 1 the old column 1 (+100)
        np.testing.assert_array_equal(np.asarray(x.numpy()), [[[2, 0], [202, 100], [22, 10]]])
        assert tuple(row.shape) == (1, 3) and tuple(column.shape) == (2,)


def test_copy_casts_the_source_to_the_tensors_dtype_as_torch():
    """copy_ converts (floats into an integer or bool tensor are truncated or tested for non-zero),
    where the arithmetic in-place ops refuse a float result in an integer tensor."""
    for dtype, values in ((np.int64, [1.5, -2.7, 3.1]), (np.bool_, [0.0, 2.0, 0.5])):
        ours = ag.zeros(3, dtype=dtype).copy_(ag.tensor(values))
        theirs = torch.zeros(3, dtype=getattr(torch, "bool" if dtype == np.bool_ else "int64")).copy_(
            torch.tensor(values))
        assert ours.dtype == dtype
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(ag.DTypeError, match="add_"):
        ag.zeros(3, dtype=ag.int64).add_(ag.tensor([0.5, 0.5, 0.5]))


@pytest.mark.parametrize("pieces", [lambda y: y.unbind(0), lambda y: y.chunk(2), lambda y: y.split(1)])
def test_writing_into_one_of_several_views_raises_with_torchs_words(pieces):
    for lib in (torch, ag):
        y = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True) * 1
        with pytest.raises(RuntimeError, match="is a view and is being modified inplace"):
            pieces(y)[0].mul_(2)
