"""PyTorch Tensor methods beyond the op table's gradients: dtypes, integer semantics, edge shapes and
errors of %, //, rounding, cumsum, flip, repeat, index_select, nonzero and friends, each compared
with torch where torch has the same call."""
import warnings

import numpy as np
import pytest

import autograd as ag
from autograd.errors import ArgumentError, DivisionByZeroError, DTypeError, IndexRangeError, ShapeError

torch = pytest.importorskip("torch")

INT = [5, -5, 3, 0, 7]
FLOAT = [5.5, -5.25, 3.0, -0.0, 7.75]

# Each case is one expression, given the library (ag or torch) as `lib`; values, dtype and shape must agree.
SAME_AS_TORCH = {
    "int_mod_int": lambda lib: lib.tensor(INT) % lib.tensor([3, 3, -2, 4, -3]),
    "int_floordiv_int": lambda lib: lib.tensor(INT) // lib.tensor([3, 3, -2, 4, -3]),
    "int_mod_scalar": lambda lib: lib.tensor(INT) % 3,
    "int_floordiv_scalar": lambda lib: lib.tensor(INT) // -2,
    "int_mod_float_scalar": lambda lib: lib.tensor(INT) % 2.5,
    "int_floordiv_float_scalar": lambda lib: lib.tensor(INT) // 2.5,
    "scalar_mod_int": lambda lib: 7 % lib.tensor([3, -2, 4]),
    "scalar_floordiv_int": lambda lib: 7 // lib.tensor([3, -2, 4]),
    "float_mod_negative": lambda lib: lib.tensor(FLOAT) % -1.5,
    "float_floordiv": lambda lib: lib.tensor(FLOAT) // lib.tensor([2.0, 2.0, -2.0, 1.0, 0.5]),
    "float_mod_zero_is_nan": lambda lib: lib.tensor([5.0, -5.0]) % 0,
    "float_floordiv_zero_is_inf": lambda lib: lib.tensor([5.0, -5.0]) // 0,
    "fmod_sign_of_dividend": lambda lib: lib.fmod(lib.tensor(FLOAT), lib.tensor(-2.0)),
    "int32_floordiv_keeps_int32": lambda lib: lib.tensor([5, 2], dtype=lib.int32) // 2,
    "float64_mod_keeps_float64": lambda lib: lib.tensor(np.array(FLOAT)) % 2,
    "floor_int_is_int": lambda lib: lib.tensor(INT).floor(),
    "ceil_int_is_int": lambda lib: lib.tensor(INT).ceil(),
    "round_int_is_int": lambda lib: lib.tensor(INT).round(),
    "trunc_int_is_int": lambda lib: lib.tensor(INT).trunc(),
    "round_half_to_even": lambda lib: lib.tensor([0.5, 1.5, 2.5, -0.5, -1.5]).round(),
    "round_decimals": lambda lib: lib.tensor(np.array([2.675, 0.125, -0.125, 12.5])).round(decimals=2),
    "round_negative_decimals": lambda lib: lib.tensor([1234.5, -55.0]).round(decimals=-1),
    "floor_ceil_trunc_negative": lambda lib: lib.stack([lib.tensor(FLOAT).floor(), lib.tensor(FLOAT).ceil(),
                                                       lib.tensor(FLOAT).trunc(), lib.tensor(FLOAT).frac()]),
    "cumsum_int_is_int64": lambda lib: lib.tensor([1, 2, 3], dtype=lib.int32).cumsum(0),
    "cumsum_bool_is_int64": lambda lib: lib.tensor([True, False, True]).cumsum(0),
    "cumsum_dtype": lambda lib: lib.tensor([1, 2, 3]).cumsum(0, dtype=lib.float64),
    "cumsum_0d": lambda lib: lib.tensor(3.0).cumsum(0),
    "cumsum_negative_dim": lambda lib: lib.arange(6.0).reshape(2, 3).cumsum(-2),
    "flip_int": lambda lib: lib.arange(6).reshape(2, 3).flip(1),
    "flip_varargs": lambda lib: lib.arange(24).reshape(2, 3, 4).flip(0, 2),
    "flip_list": lambda lib: lib.arange(24).reshape(2, 3, 4).flip([1, -1]),
    "flip_0d": lambda lib: lib.tensor(3.0).flip(0),
    "repeat_tuple": lambda lib: lib.tensor([1, 2, 3]).repeat((2, 1, 2)),
    "repeat_0d": lambda lib: lib.tensor(5).repeat(3),
    "repeat_zero_size": lambda lib: lib.tensor([1, 2, 3]).repeat(2, 0),
    "tile_fewer_dims": lambda lib: lib.tile(lib.arange(6).reshape(2, 3), (2,)),
    "index_select_int": lambda lib: lib.arange(6).reshape(2, 3).index_select(1, lib.tensor([2, 0, 2])),
    "index_select_0d_index": lambda lib: lib.arange(6).reshape(2, 3).index_select(0, lib.tensor(1)),
    "index_select_int32_index": lambda lib: lib.arange(6).reshape(2, 3).index_select(1, lib.tensor([1], dtype=lib.int32)),
    "index_select_0d_input": lambda lib: lib.tensor(3.0).index_select(0, lib.tensor([0])),
    "nonzero": lambda lib: lib.tensor([[0, 1], [2, 0]]).nonzero(),
    "nonzero_float": lambda lib: lib.nonzero(lib.tensor([0.0, -0.5, 0.0, 2.0])),
    "nonzero_0d_true": lambda lib: lib.tensor(3).nonzero(),
    "nonzero_0d_false": lambda lib: lib.tensor(0).nonzero(),
    "nonzero_empty": lambda lib: lib.zeros(0, 3).nonzero(),
    "nonzero_bool_3d": lambda lib: (lib.arange(24).reshape(2, 3, 4) % 5 == 0).nonzero(),
    "argwhere": lambda lib: lib.argwhere(lib.tensor([[0, 1], [2, 0]])),
    "sort_ties_stable_values": lambda lib: lib.tensor([[3, 1, 3, 2, 1]]).sort(stable=True).values,
    "sort_ties_stable_indices": lambda lib: lib.tensor([[3, 1, 3, 2, 1]]).sort(stable=True).indices,
    "sort_descending_ties_indices": lambda lib: lib.tensor([3.0, 1.0, 3.0, 2.0]).sort(descending=True, stable=True)[1],
    "sort_bool_descending": lambda lib: lib.tensor([False, True, True]).sort(descending=True, stable=True)[1],
    "sort_0d": lambda lib: lib.tensor(2.0).sort()[1],
    "argsort_dim0": lambda lib: lib.tensor([[3.0, 1.0], [2.0, 5.0]]).argsort(0),
    "argsort_descending": lambda lib: lib.argsort(lib.tensor([3.0, 1.0, 2.0]), descending=True),
    "topk_indices": lambda lib: lib.tensor([[3.0, 1.0, 4.0, 1.5]]).topk(2).indices,
    "topk_smallest": lambda lib: lib.topk(lib.tensor([3, 1, 4, 0]), 3, largest=False).values,
    "topk_zero": lambda lib: lib.tensor([3.0, 1.0]).topk(0).values,
    "mv": lambda lib: lib.arange(6.0).reshape(2, 3).mv(lib.tensor([1.0, 2.0, 3.0])),
}


def _as_numpy(out):
    return out.numpy() if hasattr(out, "numpy") else np.asarray(out)


@pytest.mark.parametrize("name", SAME_AS_TORCH)
def test_matches_torch_values_dtype_and_shape(name):
    expr = SAME_AS_TORCH[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy divide-by-zero warnings leak out
        ours = expr(ag)
    theirs = expr(torch)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_array_equal(_as_numpy(ours), theirs.numpy())


def test_nonzero_as_tuple_matches_torch_including_0d():
    for make in (lambda lib: lib.tensor([[0, 1], [2, 0]]), lambda lib: lib.tensor(3.0), lambda lib: lib.tensor(0),
                 lambda lib: lib.zeros(2, 0)):
        ours, theirs = make(ag).nonzero(as_tuple=True), make(torch).nonzero(as_tuple=True)
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            assert a.dtype == np.int64 and not a.requires_grad
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_nonzero_of_a_tensor_that_requires_grad_has_no_grad():
    out = ag.tensor([0.0, 1.0], requires_grad=True).nonzero()
    assert not out.requires_grad and out.grad_fn is None


def test_floor_divide_gradient_is_zero_where_torch_has_none():
    x, y = ag.tensor([5.5, -3.0], requires_grad=True), ag.tensor([2.0, 2.0], requires_grad=True)
    out = x // y
    assert out.requires_grad  # as in torch: the result is in the graph
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(y.grad.numpy(), [0.0, 0.0])


def test_remainder_gradients_match_the_formula():
    x = ag.tensor([5.0, -5.0, 3.0], requires_grad=True)
    y = ag.tensor([3.0, 3.0, -2.0], requires_grad=True)
    (x % y).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(y.grad.numpy(), [-1.0, 2.0, 2.0])  # -floor(x / y)


def test_rounding_keeps_the_graph_but_passes_zero_gradient():
    x = ag.tensor([1.3, -2.7], requires_grad=True)
    for op in (ag.floor, ag.ceil, ag.round, ag.trunc):
        y = op(x)
        assert y.requires_grad and y.dtype == np.float32
        (g,) = ag.grad(y.sum(), x)
        np.testing.assert_array_equal(g.numpy(), [0.0, 0.0])


@pytest.mark.parametrize("expr, cls, also, match", [
    (lambda lib: lib.tensor([5, -5]) % 0, DivisionByZeroError, ZeroDivisionError, "remainder: integer division by zero"),
    (lambda lib: lib.tensor([5, -5]) // lib.tensor([1, 0]), DivisionByZeroError, ZeroDivisionError,
     "floor_divide: integer division by zero"),
    (lambda lib: lib.fmod(lib.tensor([5]), 0), DivisionByZeroError, ZeroDivisionError, "fmod: integer division"),
    (lambda lib: lib.tensor([1, 2]).repeat(2, 2, 2).repeat(2), ArgumentError, ValueError,
     r"repeat: got 1 repeat sizes \(2,\) for a tensor of shape \(2, 2, 4\)"),
    (lambda lib: lib.tensor([1, 2]).repeat(-1), ArgumentError, ValueError, "non-negative, got \\(-1,\\)"),
    (lambda lib: lib.arange(4).reshape(2, 2).flip(0, 0), ArgumentError, ValueError, "flip: dim .* names an axis twice"),
    (lambda lib: lib.arange(6.0).reshape(2, 3).index_select(1, lib.tensor([0.0])), DTypeError, TypeError,
     "index_select: index must be an integer tensor, got float32"),
    (lambda lib: lib.arange(6.0).reshape(2, 3).index_select(1, lib.tensor([5])), IndexRangeError, IndexError,
     r"index_select: index 5 is out of range for dim 1 of size 3 \(shape \(2, 3\)\)"),
    (lambda lib: lib.arange(6.0).reshape(2, 3).index_select(1, lib.tensor([0, -1])), IndexRangeError, IndexError,
     "index -1 is out of range"),
    (lambda lib: lib.tensor(3.0).index_select(0, lib.tensor([0, 0])), IndexRangeError, IndexError,
     "0-d tensor takes exactly one index, got 2"),
    (lambda lib: lib.arange(6.0).reshape(2, 3).mm(lib.ones(3)), ShapeError, ValueError, r"mm: expects two 2-D"),
    (lambda lib: lib.ones(2, 3).bmm(lib.ones(3, 2)), ShapeError, ValueError, r"bmm: expects two 3-D"),
    (lambda lib: lib.ones(2, 3).dot(lib.ones(2, 3)), ShapeError, ValueError, r"dot: expects two 1-D"),
    (lambda lib: lib.ones(2, 3).mv(lib.ones(2, 3)), ShapeError, ValueError, r"mv: expects a 2-D matrix"),
    (lambda lib: lib.tensor([1.0, 2.0]).topk(3), ArgumentError, ValueError,
     r"topk: k=3 is out of range for dim -1 of size 2 \(shape \(2,\)\)"),
    (lambda lib: lib.tensor([1, 2]).round(decimals=1), DTypeError, TypeError,
     "round: decimals=1 needs a floating point tensor, got int64"),
])
def test_bad_input_raises_like_torch_with_a_clear_message(expr, cls, also, match):
    with pytest.raises(cls, match=match) as info:
        expr(ag)
    assert isinstance(info.value, also)
    with pytest.raises((RuntimeError, IndexError, NotImplementedError)):
        expr(torch)


def test_index_select_errors_that_torch_also_gives_other_classes():
    x = ag.arange(6.0).reshape(2, 3)
    with pytest.raises(IndexError, match=r"index_select: index must be a vector .* shape \(1, 1\)"):
        x.index_select(1, ag.tensor([[0]]))
    with pytest.raises(TypeError, match="index_select: index must be a Tensor, got list"):
        x.index_select(1, [0])
    with pytest.raises(IndexError, match="index_select: dim 2 is out of range"):
        x.index_select(2, ag.tensor([0]))


def test_cumsum_needs_a_dim_and_checks_it():
    with pytest.raises(TypeError):
        ag.tensor([1.0]).cumsum()
    with pytest.raises(IndexError, match="cumsum: dim 1 is out of range"):
        ag.tensor([1.0]).cumsum(1)


def test_rounding_a_bool_tensor_is_a_dtype_error():
    with pytest.raises(DTypeError, match="floor: needs a floating point or integer tensor, got bool"):
        ag.tensor([True]).floor()
    with pytest.raises(DTypeError, match="frac: needs a floating point tensor, got int64"):
        ag.tensor([1]).frac()


def test_type_queries_and_cuda_as_torch():
    f, i = ag.tensor([1.0]), ag.tensor([1])
    assert f.is_floating_point() and not i.is_floating_point() and ag.is_floating_point(ag.zeros(1, dtype=ag.float64))
    assert not f.is_complex() and not ag.is_complex(f)
    x = ag.zeros(2, 3)
    assert x.nelement() == 6 and x.ndimension() == 2 and x.is_cuda is False
    assert torch.zeros(2, 3).is_cuda is False
    with pytest.raises(RuntimeError, match="device 'cuda' is not available.*'cpu' is its only device"):
        x.cuda()
    with pytest.raises(RuntimeError, match="cuda:1"):
        x.cuda("cuda:1")


def test_tied_values_share_no_gradient_twice_in_sort():
    x = ag.tensor([2.0, 1.0, 2.0], requires_grad=True)
    values, indices = x.sort()
    (values * ag.tensor([1.0, 10.0, 100.0])).sum().backward()
    np.testing.assert_array_equal(indices.numpy(), [1, 0, 2])
    np.testing.assert_array_equal(x.grad.numpy(), [10.0, 1.0, 100.0])  # each value's gradient goes to its source


@pytest.mark.parametrize("call", [
    lambda t: t.new_zeros(2, 3), lambda t: t.new_zeros((2,)), lambda t: t.new_ones(2, dtype=torch.int64 if isinstance(t, torch.Tensor) else ag.int64),
    lambda t: t.new_full((2, 2), 3), lambda t: t.new_tensor([1, 2]), lambda t: t.new_empty(1, 2).shape,
    lambda t: t.narrow(1, 1, 2), lambda t: t.narrow(0, -2, 2), lambda t: t.narrow(-1, 0, 0),
], ids=["new_zeros", "new_zeros_tuple", "new_ones_dtype", "new_full", "new_tensor", "new_empty", "narrow",
        "narrow_negative_start", "narrow_empty"])
def test_new_tensors_and_narrow_follow_torch(call):
    """word_language_model's init_hidden is weight.new_zeros(...): the result has the tensor's dtype."""
    x = np.arange(12.0).reshape(3, 4)
    mine, theirs = call(ag.tensor(x)), call(torch.tensor(x))
    if isinstance(theirs, torch.Size):
        assert mine == tuple(theirs)
        return
    if "new_empty" not in str(call):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    assert mine.dtype == theirs.numpy().dtype and not mine.requires_grad


def test_narrow_is_a_differentiable_view_and_refuses_out_of_range_like_torch():
    x = ag.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    (x.narrow(1, 1, 2) * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.array([[0, 2, 2, 0]] * 3))
    base = ag.zeros(3, 4)
    base.narrow(0, 1, 1).fill_(5.0)                      # a view: writes reach the base, as PyTorch's
    assert base.numpy()[1].tolist() == [5.0] * 4 and base.numpy().sum() == 20
    with pytest.raises(RuntimeError):
        torch.zeros(3, 4).narrow(1, 3, 2)
    with pytest.raises(IndexRangeError, match=r"start \(3\) \+ length \(2\) exceeds dimension size \(4\)"):
        ag.zeros(3, 4).narrow(1, 3, 2)
    with pytest.warns(UserWarning, match="clone\\(\\).detach\\(\\)"):
        ag.zeros(2).new_tensor(ag.ones(2))


@pytest.mark.parametrize("shape, wrap", [((4, 4), False), ((7, 3), True), ((7, 3), False), ((3, 5), True),
                                         ((3, 3, 3), False)])
def test_fill_diagonal_fills_torchs_positions(shape, wrap):
    """e.g. a contrastive loss masking each sample's similarity to itself: sim.fill_diagonal_(-inf)."""
    ours = ag.zeros(*shape).fill_diagonal_(5.0, wrap=wrap)
    theirs = torch.zeros(*shape).fill_diagonal_(5.0, wrap=wrap)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    x = ag.tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    y = x * 1
    y.fill_diagonal_(float("-inf"))
    y.softmax(-1).sum().backward()          # the filled diagonal passes no gradient back
    assert np.all(x.grad.numpy().diagonal() == 0)
    with pytest.raises(ShapeError, match="fill_diagonal_"):
        ag.zeros(2, 3, 4).fill_diagonal_(1.0)


def test_random_fills_with_integers_in_the_range_and_keeps_the_dtype():
    for lib in (ag, torch):
        ints = lib.zeros(1000, dtype=lib.int64).random_(3, 7)
        assert ints.dtype == lib.int64 and set(ints.numpy().tolist()) == {3, 4, 5, 6}
        floats = lib.zeros(1000).random_(4)
        assert floats.dtype == lib.float32 and set(floats.numpy().tolist()) == {0.0, 1.0, 2.0, 3.0}


def test_device_queries_answer_as_torch_on_the_cpu():
    for lib in (ag, torch):
        t = lib.ones(2)
        assert t.get_device() == -1 and t.is_cpu and not t.is_pinned()


def test_set_printoptions_changes_how_tensors_print_and_profiles_restore_it():
    values = ag.tensor([1.0 / 3, 2.0 / 3])
    try:
        ag.set_printoptions(precision=2)
        assert repr(values) == "tensor([0.33, 0.67])"
        ag.set_printoptions(threshold=5, edgeitems=1)
        assert "..." in repr(ag.arange(10))
        ag.set_printoptions(profile="full")
        assert "..." not in repr(ag.arange(2000)) and repr(values) == "tensor([0.3333, 0.6667])"
        with pytest.raises(ValueError, match="profile"):
            ag.set_printoptions(profile="long")
    finally:
        ag.set_printoptions(profile="default")
    assert repr(values) == "tensor([0.3333, 0.6667])"


def test_size_is_a_tuple_of_ints_as_torchs():
    for lib in (ag, torch):
        size = lib.Size([2, 3.0 if lib is ag else 3])
        assert size == (2, 3) and isinstance(size, tuple) and size.numel() == 6 and lib.Size().numel() == 1
        assert lib.ones(2, 3).shape == size and tuple(lib.ones(2, 3).size()) == size


def test_byte_short_and_char_casts_give_torchs_dtypes():
    values = np.array([1.7, -2.2, 300.0], np.float32)
    for method, dtype in (("byte", np.uint8), ("short", np.int16), ("char", np.int8)):
        ours = getattr(ag.tensor(values[:2].clip(0)), method)()
        theirs = getattr(torch.tensor(values[:2].clip(0)), method)()
        assert ours.dtype == dtype and ours.numpy().tolist() == theirs.numpy().tolist()


@pytest.mark.parametrize("values, kwargs", [
    ([1, 1, 2, 2, 3, 1, 1, 2], {}), ([1, 1, 2, 2, 3, 1, 1, 2], dict(return_inverse=True, return_counts=True)),
    ([], dict(return_counts=True)), ([[1, 1], [2, 2]], dict(return_inverse=True)),
    ([[1, 2], [1, 2], [3, 4], [1, 2]], dict(dim=0, return_inverse=True, return_counts=True)),
    ([[1, 1, 2], [3, 3, 3]], dict(dim=1, return_counts=True))])
def test_unique_consecutive_collapses_runs_as_torch(values, kwargs):
    """e.g. CTC's greedy decoding: collapse repeated frames, then drop blanks."""
    ours = ag.unique_consecutive(ag.tensor(np.array(values, dtype=np.int64)), **kwargs)
    theirs = torch.unique_consecutive(torch.tensor(values, dtype=torch.long), **kwargs)
    ours, theirs = (ours, theirs) if isinstance(ours, tuple) else ((ours,), (theirs,))
    for mine, expected in zip(ours, theirs):
        assert mine.dtype == np.int64 and mine.shape == tuple(expected.shape)
        np.testing.assert_array_equal(mine.numpy(), expected.numpy())
    assert ag.tensor([3, 3, 1]).unique_consecutive().tolist() == [3, 1]


def test_one_element_tensors_serve_as_sizes_and_arange_bounds_as_in_torch():
    """The padding-mask idiom: arange(lengths.max()) < lengths[:, None]."""
    for lib in (ag, torch):
        lengths = lib.tensor([3, 5, 2])
        mask = lib.arange(lengths.max())[None, :] < lengths[:, None]
        assert mask.numpy().sum(1).tolist() == [3, 5, 2]
        assert tuple(lib.zeros(lengths.max(), 2).shape) == (5, 2)
        assert tuple(lib.ones(lib.tensor(2), lib.tensor(3)).shape) == (2, 3)
        assert lib.arange(lib.tensor(1.0), lib.tensor(2.0), 0.5).numpy().tolist() == [1.0, 1.5]
        two = lib.tensor(2)
        assert [p.tolist() for p in lib.arange(4).split(two)] == [[0, 1], [2, 3]]
        assert tuple(lib.randint(two, (3,)).shape) == (3,) and int(lib.randint(two, (50,)).max()) <= 1
        assert tuple(lib.multinomial(lib.ones(3), two).shape) == (2,)


@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "BoolTensor",
                                  "ByteTensor", "HalfTensor", "ShortTensor", "CharTensor"])
def test_legacy_tensor_constructors_build_what_torchs_build(name):
    ours, theirs = getattr(ag, name), getattr(torch, name)
    for args in [([[1, 0], [2, 3]],), ((1, 2),), (np.array([1, 0, 1]),)]:
        a, b = ours(*args), theirs(*args)
        assert str(a.dtype) == str(b.dtype).replace("torch.", "")
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for args in [(), (2, 3), (ag.Size([4]),)]:
        assert ours(*args).shape == tuple(theirs(*[torch.Size(a) if isinstance(a, tuple) else a for a in args]).shape)
    assert isinstance(ag.tensor(np.zeros(1, ours.dtype)), ours)
    assert not isinstance(ag.tensor(np.zeros(1, np.complex64)), ours)


def test_a_legacy_constructor_aliases_a_tensor_of_its_type_and_refuses_others_as_torch():
    source = ag.tensor([1.0, 2.0])
    alias = ag.FloatTensor(source)
    alias[0] = 9.0
    assert source[0].item() == 9.0
    with pytest.raises(TypeError, match="FloatTensor: expected a tensor of dtype float32, got int64"):
        ag.FloatTensor(ag.tensor([1, 2]))
    with pytest.raises(TypeError):
        torch.FloatTensor(torch.tensor([1, 2]))
    with pytest.raises(TypeError, match="FloatTensor"):
        ag.FloatTensor(2.5)
    with pytest.raises(TypeError):
        torch.FloatTensor(2.5)


def test_torch_nn_optim_and_utils_data_reached_through_the_library_name():
    import nn
    assert ag.nn is nn and ag.nn.functional is nn.functional
    assert ag.optim is nn.optim and ag.optim.lr_scheduler.StepLR is nn.optim.lr_scheduler.StepLR
    assert ag.utils.data.DataLoader is nn.data.DataLoader
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        ag.no_such_name


def test_variable_wraps_as_torch_s_a_detached_alias_requiring_grad_only_if_asked():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    for lib, source in [(ag, y), (torch, torch.tensor([1.0, 2.0], requires_grad=True) * 2)]:
        v = lib.autograd.Variable(source)
        assert v is not source and not v.requires_grad and v.grad_fn is None
        leaf = lib.autograd.Variable(lib.ones(2), requires_grad=True)
        assert leaf.requires_grad and leaf.is_leaf
        assert isinstance(lib.ones(1), lib.autograd.Variable)
        with pytest.warns(UserWarning, match="volatile was removed"):
            lib.autograd.Variable(lib.ones(2), volatile=True)
        with pytest.raises(TypeError, match="Variable data has to be a tensor, but got list"):
            lib.autograd.Variable([1, 2])
    v = ag.autograd.Variable(y)
    v[0] = 7.0
    assert y[0].item() == 7.0


def test_grad_takes_only_inputs_and_materialize_grads_as_torch():
    for lib in (ag, torch):
        x = lib.ones(2, requires_grad=True)
        unused = lib.ones(3, requires_grad=True)
        (g,) = lib.autograd.grad((x * 3).sum(), x, only_inputs=True)
        assert g.tolist() == [3.0, 3.0]
        with pytest.warns(FutureWarning, match="only_inputs argument is deprecated"):
            lib.autograd.grad((x * 3).sum(), x, only_inputs=False)
        gx, gu = lib.autograd.grad((x * 3).sum(), [x, unused], materialize_grads=True)
        assert gu.tolist() == [0.0, 0.0, 0.0] and gx.tolist() == [3.0, 3.0]
        with pytest.raises(ValueError, match="Expected allow_unused to be True"):
            lib.autograd.grad((x * 3).sum(), [x, unused], materialize_grads=True, allow_unused=False)
    assert ag.ones(2).numpy(force=True).tolist() == torch.ones(2).numpy(force=True).tolist()


def test_where_with_only_a_condition_is_nonzero_as_tuple_as_torch():
    mask = np.array([[True, False, True], [False, True, False]])
    ours, theirs = ag.where(ag.tensor(mask)), torch.where(torch.tensor(mask))
    assert len(ours) == len(theirs) == 2
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(TypeError, match="give both x and y, or neither"):
        ag.where(ag.tensor(mask), 1.0)


def test_torch_random_seeds_and_fork_rng_restores_the_global_generator():
    ag.random.manual_seed(3)
    expected = ag.rand(4)
    ag.random.manual_seed(3)
    with ag.random.fork_rng():
        ag.rand(7)  # drawn inside the fork: what follows is unchanged
    np.testing.assert_array_equal(ag.rand(4).numpy(), expected.numpy())
    assert ag.random.initial_seed() == 3
    with ag.random.fork_rng(enabled=False):
        ag.rand(1)
    assert not np.array_equal(ag.rand(4).numpy(), expected.numpy())
    with pytest.raises(RuntimeError, match="not available"):
        with ag.random.fork_rng(device_type="cuda"):
            pass


@pytest.mark.parametrize("shape, args", [((10,), (0, 3, 2)), ((2, 3, 8, 8), (2, 4, 4)), ((2, 3, 8, 8), (-1, 3, 2)),
                                         ((5, 4), (0, 5, 1)), ((), (0, 1, 1)), ((4,), (0, 0, 1)), ((7, 2), (0, 2, 3))])
def test_tensor_unfold_takes_windows_along_a_dim_as_torch(shape, args):
    x = np.random.default_rng(0).standard_normal(shape)
    ours, theirs = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, out_t = ours.unfold(*args), theirs.unfold(*args)
    np.testing.assert_array_equal(out.numpy(), out_t.detach().numpy())
    weights = np.random.default_rng(1).standard_normal(tuple(out_t.shape))
    (out * ag.tensor(weights)).sum().backward()
    (out_t * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)  # overlaps accumulate


def test_tensor_unfold_window_errors_name_the_sizes():
    with pytest.raises(ArgumentError, match="cannot take windows of size 5 with step 1 along dim 0 of shape \\(3,\\)"):
        ag.ones(3).unfold(0, 5, 1)
    with pytest.raises(ArgumentError, match="step > 0"):
        ag.ones(3).unfold(0, 2, 0)


def test_legacy_new_makes_a_tensor_of_the_same_dtype_as_torch():
    for args in [(2, 3), ([1, 2],), ()]:
        for dtype in (np.float64, np.int64):
            ours = ag.zeros(1, dtype=dtype).new(*args)
            theirs = torch.zeros(1, dtype=getattr(torch, np.dtype(dtype).name)).new(*args)
            assert ours.shape == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
            if args and isinstance(args[0], list):
                assert ours.tolist() == theirs.tolist()


@pytest.mark.parametrize("call", [
    lambda L, x: x.sum(axis=1), lambda L, x: x.mean(axis=0), lambda L, x: L.sum(x, axis=(0, 2)),
    lambda L, x: x.max(axis=1).values, lambda L, x: x.argmax(axis=2), lambda L, x: L.cat([x, x], axis=1),
    lambda L, x: L.stack([x, x], axis=-1), lambda L, x: x.softmax(axis=1), lambda L, x: x.std(axis=1),
    lambda L, x: x.sort(axis=2).values, lambda L, x: x.topk(2, axis=2).indices, lambda L, x: x.cumsum(axis=0),
    lambda L, x: x.unsqueeze(axis=0), lambda L, x: x[:, :1].squeeze(axis=1), lambda L, x: x.chunk(2, axis=2)[1],
    lambda L, x: L.add(x, x, alpha=-0.5), lambda L, x: L.sub(x, 1.5, alpha=2)])
def test_numpy_axis_alias_and_add_alpha_are_taken_as_torch_takes_them(call):
    data = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 7 - 1
    ours, theirs = call(ag, ag.tensor(data)), call(torch, torch.tensor(data))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_dim_and_axis_together_is_an_error():
    with pytest.raises(TypeError, match="got both 'dim' and its alias 'axis'"):
        ag.ones(2, 2).sum(dim=0, axis=1)


def test_data_ptr_and_storage_offset_follow_views_as_torch():
    for lib in (ag, torch):
        base = lib.arange(12.0).reshape(3, 4)
        view = base[1:, 2:]
        assert view.storage_offset() == 6 and base.storage_offset() == 0
        assert base.view(-1).data_ptr() == base.data_ptr() != view.data_ptr()
        assert view.data_ptr() - base.data_ptr() == 6 * base.element_size()
        assert base.share_memory_() is base
    embedding, decoder = ag.nn.Embedding(5, 3), ag.nn.Linear(3, 5, bias=False)
    decoder.weight = embedding.weight
    assert decoder.weight.data_ptr() == embedding.weight.data_ptr()


def test_conjugate_transposes_and_sgn_of_real_tensors_are_torch_s():
    data = np.arange(24.0).reshape(2, 3, 4) - 10
    ours, theirs = ag.tensor(data), torch.tensor(data)
    np.testing.assert_array_equal(ours.mH.numpy(), theirs.mH.numpy())
    np.testing.assert_array_equal(ours[0].H.numpy(), theirs[0].H.numpy())
    np.testing.assert_array_equal(ours.sgn().numpy(), theirs.sgn().numpy())
    with pytest.raises(ShapeError, match="at most 2 dims"):
        ours.H
