"""PyTorch's creation, dtype, index and empty-input rules, case by case against PyTorch itself:
non-numeric data refused where the tensor is made, int and bool inputs to floating ops computed in
float32, index checks of every indexing op, and empty inputs wherever PyTorch accepts them."""
import warnings

import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
from autograd import DTypeError

torch = pytest.importorskip("torch")

TORCH_DTYPES = {np.dtype(np.bool_): torch.bool, np.dtype(np.uint8): torch.uint8, np.dtype(np.int8): torch.int8,
                np.dtype(np.int16): torch.int16, np.dtype(np.int32): torch.int32, np.dtype(np.int64): torch.int64,
                np.dtype(np.float16): torch.float16, np.dtype(np.float32): torch.float32,
                np.dtype(np.float64): torch.float64}


def outcome(fn):
    """("ok", value as an ndarray) or ("raises", the exception)."""
    try:
        out = fn()
    except Exception as error:  # noqa: BLE001 -- which exception is what the tests compare
        return "raises", error
    if isinstance(out, (tuple, list)):
        out = out[0]
    return "ok", np.asarray(out.detach().numpy() if isinstance(out, torch.Tensor) else out.numpy())


def assert_same_behaviour(ours, theirs, same_class=True):
    (our_kind, our_value), (their_kind, their_value) = outcome(ours), outcome(theirs)
    assert our_kind == their_kind, (our_value, their_value)
    if our_kind == "raises":
        # PyTorch's class is an IndexError, a RuntimeError, a TypeError or a ValueError: ours is one too.
        assert not same_class or isinstance(our_value, type(their_value)), (type(our_value), their_value)
        assert "Error" not in str(our_value).split(":")[0] and len(str(our_value)) > 20, our_value
    else:
        assert our_value.shape == their_value.shape and our_value.dtype == their_value.dtype
        np.testing.assert_allclose(our_value, their_value, rtol=1e-6)


# -- creation: only numbers make tensors -------------------------------------------------------------

NON_NUMERIC = {
    "object-array": np.array([1, "a"], dtype=object),
    "object-of-numbers": np.array([1, 2], dtype=object),
    "str-array": np.array(["a", "b"]),
    "bytes-array": np.array([b"a"]),
    "datetime64": np.array(["2020-01-01"], dtype="datetime64[D]"),
    "timedelta64": np.array([1, 2], dtype="timedelta64[s]"),
    "record": np.zeros(2, dtype=[("a", "i4"), ("b", "f8")]),
    "datetime-scalar": np.datetime64("2020-01-01"),
}
if np.dtype(np.longdouble).itemsize > 8:
    NON_NUMERIC["longdouble"] = np.ones(2, np.longdouble)


@pytest.mark.parametrize("name, make", [(name, make) for name in NON_NUMERIC
                                        for make in ("tensor", "as_tensor", "Tensor", "from_numpy")
                                        if make != "from_numpy" or isinstance(NON_NUMERIC[name], np.ndarray)])
def test_non_numeric_arrays_are_refused_where_the_tensor_is_made_as_in_torch(name, make):
    data = NON_NUMERIC[name]
    with pytest.raises(Exception):
        getattr(torch, make if make != "Tensor" else "tensor")(data)
    with pytest.raises(DTypeError, match=f"{'from_numpy' if make == 'from_numpy' else 'tensor'}: cannot") as info:
        getattr(ag, make)(data)
    assert str(np.asarray(data).dtype) in str(info.value) and "only bool, integer" in str(info.value)


@pytest.mark.parametrize("data", [["a", "b"], "text", [None, 1.0], {"a": 1}, None, [b"x"], [[1, 2], [3]],
                                  [[1.0], [2.0, 3.0]], [[[1]], [2]]],
                         ids=["str-list", "str", "none-in-list", "dict", "none", "bytes-list", "ragged-int",
                              "ragged-float", "ragged-depth"])
def test_non_numeric_or_ragged_python_data_is_refused_as_in_torch(data):
    with pytest.raises((TypeError, ValueError, RuntimeError)):
        torch.tensor(data)
    with pytest.raises((DTypeError, ValueError)) as info:
        ag.tensor(data)
    assert str(info.value).startswith("tensor: ")


@pytest.mark.parametrize("dtype", [np.str_, np.object_, "datetime64[s]"])
def test_asking_for_a_non_numeric_dtype_is_refused(dtype):
    with pytest.raises(DTypeError, match="tensor: cannot make a tensor of dtype"):
        ag.tensor([1, 2], dtype=dtype)


@pytest.mark.parametrize("make", [lambda lib: lib.zeros(-1), lambda lib: lib.ones(2, -3),
                                  lambda lib: lib.empty((4, -1)), lambda lib: lib.randn(-2),
                                  lambda lib: lib.rand(3, -1)],
                         ids=["zeros", "ones", "empty", "randn", "rand"])
def test_negative_sizes_are_refused_as_in_torch(make):
    assert_same_behaviour(lambda: make(ag), lambda: make(torch))
    with pytest.raises(ag.ArgumentError, match="sizes must be non-negative"):
        make(ag)


CREATION_CASES = {
    "full-none": lambda lib: lib.full((2,), None),
    "full-str": lambda lib: lib.full((2,), "a"),
    "full-negative-size": lambda lib: lib.full((-2,), 1.0),
    "full-float-size": lambda lib: lib.full((2.5,), 1.0),
    "full-int": lambda lib: lib.full((2,), 3),
    "full-bool": lambda lib: lib.full((2,), True),
    "zeros-float-size": lambda lib: lib.zeros(2.5),
    "zeros-str-size": lambda lib: lib.zeros("3"),
    "ones-none": lambda lib: lib.ones(None),
    "arange-str": lambda lib: lib.arange("a"),
    "arange-step-zero": lambda lib: lib.arange(0, 5, 0),
    "arange-nan": lambda lib: lib.arange(0, float("nan")),
    "arange-inf": lambda lib: lib.arange(0, float("inf")),
    "arange-wrong-direction": lambda lib: lib.arange(5, 0, 1),
    "arange-down": lambda lib: lib.arange(5, 0, -2),
    "arange-empty": lambda lib: lib.arange(3, 3),
    "arange-float": lambda lib: lib.arange(0.0, 1.0, 0.25),
    "linspace-negative-steps": lambda lib: lib.linspace(0, 1, -1),
    "eye-negative": lambda lib: lib.eye(-1),
    "eye-float": lambda lib: lib.eye(2.5),
    "randint-empty-range": lambda lib: lib.randint(5, 2, (3,)),
    "randperm-negative": lambda lib: lib.randperm(-1),
    "int-beyond-64-bits": lambda lib: lib.tensor([2 ** 70]),
    "int8-overflow": lambda lib: lib.tensor([300], dtype=lib.int8),
    "int8-fits": lambda lib: lib.tensor([-128, 127], dtype=lib.int8),
    "ragged-tensors": lambda lib: lib.tensor([lib.ones(2), lib.ones(3)]),
    "zeros_like-str": lambda lib: lib.zeros_like("abc"),
    "set": lambda lib: lib.tensor({1, 2}),
    "generator": lambda lib: lib.tensor(x for x in range(3)),
    "complex-list": lambda lib: lib.tensor([1j, 2.0]),
    "mixed-list": lambda lib: lib.tensor([1, 2.5, True]),
}


@pytest.mark.parametrize("case", list(CREATION_CASES))
def test_creation_arguments_are_checked_as_in_torch(case):
    make = CREATION_CASES[case]
    assert_same_behaviour(lambda: make(ag), lambda: make(torch))


@pytest.mark.parametrize("op", ["randn", "rand"])
@pytest.mark.parametrize("dtype", ["int64", "bool", "uint8"])
def test_random_floats_in_an_integer_dtype_are_refused_as_in_torch(op, dtype):
    with pytest.raises(Exception):
        getattr(torch, op)(3, dtype=getattr(torch, dtype))
    with pytest.raises(DTypeError, match=f"{op}: .*not a floating point dtype"):
        getattr(ag, op)(3, dtype=dtype)


def test_seeded_draws_are_unchanged_by_the_dtype_check():
    """randn/rand still draw float32 directly (the stream every seeded model init depends on)."""
    ag.manual_seed(0)
    drawn = ag.randn(5).numpy()
    expected = np.random.default_rng(0).standard_normal(5, dtype=np.float32)
    np.testing.assert_array_equal(drawn, expected)
    assert ag.randn(3, dtype="float16").dtype == np.float16


# -- floating ops on integer and bool tensors --------------------------------------------------------

FLOATING_OPS = ["exp", "expm1", "log", "log1p", "sqrt", "sin", "cos", "tanh", "sigmoid", "erf", "rsqrt",
                "reciprocal"]


@pytest.mark.parametrize("op", FLOATING_OPS)
@pytest.mark.parametrize("dtype", [np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16,
                                   np.float64])
def test_floating_op_of_an_integer_or_bool_tensor_has_torchs_dtype_and_values(op, dtype):
    values = np.array([0, 1, 2, 3, 7], dtype=np.int64).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # log(0), 1/0: inf as in PyTorch
        ours = getattr(ag, op)(ag.tensor(values))
    theirs = getattr(torch, op)(torch.tensor(values, dtype=TORCH_DTYPES[np.dtype(dtype)]))
    assert ours.dtype == np.dtype(str(theirs.dtype).replace("torch.", ""))
    assert ours.dtype == (np.float32 if np.dtype(dtype).kind in "biu" else dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(ours.numpy().astype(np.float64), theirs.double().numpy(),
                                   rtol=1e-3 if dtype == np.float16 else 1e-6)


def test_method_form_follows_the_same_rule():
    x = ag.tensor([1, 2, 3])
    assert x.exp().dtype == x.sqrt().dtype == x.sigmoid().dtype == np.float32


# -- index checks, op by op ----------------------------------------------------------------------------

X = np.arange(12, dtype=np.float32).reshape(3, 4)


def _long(values):
    return np.asarray(values, dtype=np.int64)


INDEX_CASES = {
    # op: (ours(x, index), theirs(x, index)), each tried with every index below
    "gather": (lambda x, i: ag.gather(x, 1, i), lambda x, i: torch.gather(x, 1, i)),
    "take_along_dim": (lambda x, i: ag.take_along_dim(x, i, 1), lambda x, i: torch.take_along_dim(x, i, 1)),
    "take_along_dim-flat": (lambda x, i: ag.take_along_dim(x, i.reshape(-1)),
                            lambda x, i: torch.take_along_dim(x, i.reshape(-1))),
    "index_select": (lambda x, i: ag.index_select(x, 1, i.reshape(-1)),
                     lambda x, i: torch.index_select(x, 1, i.reshape(-1))),
    "embedding": (lambda x, i: F.embedding(i, x), lambda x, i: torch.nn.functional.embedding(i, x)),
    "Embedding": (lambda x, i: nn.Embedding(3, 4, _weight=x)(i),
                  lambda x, i: torch.nn.Embedding(3, 4, _weight=x)(i)),
    "getitem": (lambda x, i: x[i], lambda x, i: x[i]),
}
INDICES = {
    "in-range": _long([[0, 2], [1, 1], [2, 0]]),
    "negative-one": _long([[-1, 0], [0, 0], [0, 0]]),
    "most-negative": _long([[0, -3], [0, 0], [0, 0]]),
    "below-range": _long([[0, 0], [-5, 0], [0, 0]]),
    "one-past": _long([[0, 0], [0, 0], [0, 4]]),
    "far-past": _long([[0, 0], [0, 99], [0, 0]]),
    "empty": np.zeros((3, 0), np.int64),
}


# torch.take_along_dim with a dim does not check its indices: outside [-size, size) it reads memory
# it does not own (zeros or garbage, no error). There we raise, as every other indexing op does.
TORCH_UNCHECKED = {("take_along_dim", "below-range"), ("take_along_dim", "one-past"), ("take_along_dim", "far-past")}


@pytest.mark.parametrize("index", list(INDICES))
@pytest.mark.parametrize("op", list(INDEX_CASES))
def test_index_checks_of_every_indexing_op_match_torch(op, index):
    ours, theirs = INDEX_CASES[op]
    i = INDICES[index]
    if (op, index) in TORCH_UNCHECKED:
        with pytest.raises(IndexError, match=f"{op}: index -?\\d+ is out of range for dim 1 of size 4"):
            ours(ag.tensor(X), ag.tensor(i))
        return
    assert_same_behaviour(lambda: ours(ag.tensor(X), ag.tensor(i)),
                          lambda: theirs(torch.tensor(X), torch.tensor(i)))


def test_take_along_dim_broadcasts_and_its_gradient_checks():
    x = ag.tensor(np.random.default_rng(0).normal(size=(2, 1, 5)), requires_grad=True)
    index = np.array([[[-1, 0, 4]], [[2, 2, -5]]])[:, :, :]  # (2, 1, 3), negative ones count from the end
    index = np.broadcast_to(index, (2, 3, 3)).copy()
    out = ag.take_along_dim(x, ag.tensor(index), 2)
    expected = torch.take_along_dim(torch.tensor(x.numpy()), torch.tensor(index), 2)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    assert ag.gradcheck(lambda t: ag.take_along_dim(t, ag.tensor(index), 2), [x])
    assert ag.gradgradcheck(lambda t: ag.take_along_dim(t, ag.tensor(index), 2), [x])


def test_embedding_padding_idx_may_still_be_negative_as_in_torch():
    layer = nn.Embedding(5, 2, padding_idx=-1)
    assert layer.padding_idx == 4 and np.all(layer.weight.numpy()[4] == 0)
    assert layer(ag.tensor([4, 0])).shape == (2, 2)


# -- empty inputs, wherever PyTorch accepts them --------------------------------------------------------

def _functional(lib):
    return F if lib is ag else torch.nn.functional


EMPTY_CASES = {
    "amax-other-dim": lambda lib: lib.zeros(0, 3).amax(1),
    "amax-empty-dim": lambda lib: lib.zeros(0, 3).amax(0),
    "amin-other-dim": lambda lib: lib.zeros(3, 0).amin(0),
    "max-dim-other": lambda lib: lib.zeros(0, 3).max(1)[0],
    "max-dim-empty": lambda lib: lib.zeros(0, 3).max(0)[0],
    "argmax-other-dim": lambda lib: lib.zeros(0, 3).argmax(1),
    "argmin-empty-dim": lambda lib: lib.zeros(0, 3).argmin(0),
    "argmax-all": lambda lib: lib.zeros(0).argmax(),
    "softmax-empty-dim": lambda lib: lib.zeros(3, 0).softmax(1),
    "log_softmax-empty-dim": lambda lib: lib.zeros(3, 0).log_softmax(1),
    "softmax-other-dim": lambda lib: lib.zeros(0, 3).softmax(1),
    "logsumexp-empty-dim": lambda lib: lib.zeros(3, 0).logsumexp(1),
    "cat-none": lambda lib: lib.cat([]),
    "cat-legacy-empty-first": lambda lib: lib.cat([lib.zeros(0), lib.ones(2, 3)]),
    "cat-legacy-empty-last-dim1": lambda lib: lib.cat([lib.ones(2, 3), lib.zeros(0)], 1),
    "cat-only-empties": lambda lib: lib.cat([lib.zeros(0), lib.zeros(0)]),
    "cat-empty-rows": lambda lib: lib.cat([lib.zeros(0, 3), lib.ones(1, 3)]),
    "cat-mismatch": lambda lib: lib.cat([lib.zeros(1, 2), lib.ones(1, 3)]),
    "stack-none": lambda lib: lib.stack([]),
    "layer_norm-empty-batch": lambda lib: _functional(lib).layer_norm(lib.zeros(0, 3), (3,)),
    "layer_norm-empty-middle": lambda lib: _functional(lib).layer_norm(lib.zeros(2, 0, 3), (3,), lib.ones(3),
                                                                        lib.zeros(3)),
    "sum-empty": lambda lib: lib.zeros(0).sum(),
    "prod-empty": lambda lib: lib.zeros(0, 2).prod(0),
}


# PyTorch raises IndexError for a reduction over one empty dim but RuntimeError over all dims; ours
# raise ArgumentError (a ValueError and a RuntimeError) or ValueError in both, as they did before.
REDUCTION_OF_EMPTY_DIM = {"amax-empty-dim", "max-dim-empty", "argmin-empty-dim", "argmax-all"}


@pytest.mark.parametrize("case", list(EMPTY_CASES))
def test_empty_inputs_behave_as_in_torch(case):
    make = EMPTY_CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy warnings on the way either
        assert_same_behaviour(lambda: make(ag), lambda: make(torch), same_class=case not in REDUCTION_OF_EMPTY_DIM)


def test_cat_with_legacy_empty_tensors_gives_them_empty_gradients():
    empty, full = ag.zeros(0, requires_grad=True), ag.ones(2, 3, requires_grad=True)
    (ag.cat([empty, full, empty]) * 2).sum().backward()
    assert empty.grad.shape == (0,) and np.all(full.grad.numpy() == 2)


@pytest.mark.parametrize("shape", [(4, 2), (3, 3), (3,), (2, 3)])
def test_embedding_weight_of_the_wrong_shape_is_refused_naming_both_shapes(shape):
    with pytest.raises(AssertionError):
        torch.nn.Embedding(3, 2, _weight=torch.zeros(shape))
    with pytest.raises(ValueError, match=rf"_weight of shape \({shape[0]}, ?{shape[1] if len(shape) > 1 else ''}\)"
                                         r".*\(3, 2\)"):
        nn.Embedding(3, 2, _weight=ag.zeros(*shape))
