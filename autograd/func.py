"""`autograd.func`, as `torch.func`: gradients as functions, and a module called with other parameters.

    grad(f, argnums=0, has_aux=False)(*args)            d f / d args[argnums]
    grad_and_value(f, argnums=0, has_aux=False)(*args)  (that gradient, f(*args))
    vjp(f, *primals, has_aux=False)                      (f(*primals), vjp_fn)
    jacrev(f, argnums=0, has_aux=False)(*args)          the Jacobian, one backward per output element
    jacfwd(f, argnums=0, has_aux=False)(*args)          the same Jacobian (computed as jacrev's)
    jvp(f, primals, tangents)                           (f(*primals), J tangents)
    hessian(f, argnums=0)(*args)                         jacrev of jacrev
    functional_call(module, params, args, kwargs)        module(*args) with `params` in place of its own
    vmap(f, in_dims=0, out_dims=0)(*args)                f over a batch dim of its inputs, results stacked

Arguments may be pytrees (tuples, lists and dicts of Tensors, such as a module's
`dict(named_parameters())`), and results come back in the same structure, as in torch.func.

How they compose. torch.func tracks each transform on its own "level"; ndgrad has one graph, so
the transforms build on `autograd.grad`: the differentiated arguments are replaced by fresh leaves
for the call, and the gradient is itself recorded (`create_graph`) exactly when something outside
the transform can differentiate it: when grad mode is on and an argument requires grad. So
`grad(grad(f))(x)` gives the second derivative, and a gradient taken with respect to
`functional_call` parameters that require grad is differentiable with respect to them (MAML's
inner steps); otherwise the results are detached, as torch.func's are. A tensor that the
function captures from outside, rather than receives as an argument, does not by itself switch
recording on: pass it as an argument to differentiate through the transform with respect to it.
"""
import contextlib

from .functional import _fresh_leaves, _grad, _jacobian_by_rows
from .creation import zeros_like
from .grad_mode import enable_grad, is_grad_enabled
from .tensor import Tensor

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian", "functional_call", "vmap"]


# -- pytrees: tuples, lists and dicts of leaves -----------------------------------------------------

def _flatten(tree):
    """(leaves, spec): the leaves of nested tuples/lists/dicts in order, and how to rebuild them."""
    if isinstance(tree, (tuple, list)):
        pieces = [_flatten(child) for child in tree]
        return [leaf for leaves, _ in pieces for leaf in leaves], (type(tree), None, [s for _, s in pieces])
    if isinstance(tree, dict):
        pieces = [_flatten(child) for child in tree.values()]
        return [leaf for leaves, _ in pieces for leaf in leaves], (dict, list(tree), [s for _, s in pieces])
    return [tree], None


def _unflatten(leaves, spec):
    return _rebuild(iter(leaves), spec)


def _rebuild(leaves, spec):
    if spec is None:
        return next(leaves)
    kind, keys, children = spec
    values = [_rebuild(leaves, child) for child in children]
    if kind is dict:
        return dict(zip(keys, values))
    return kind(*values) if hasattr(kind, "_fields") else kind(values)  # a namedtuple takes fields


def _map_tensors(fn, tree):
    leaves, spec = _flatten(tree)
    return _unflatten([fn(x) if isinstance(x, Tensor) else x for x in leaves], spec)


# -- the shared set-up ------------------------------------------------------------------------------

def _check_argnums(api, argnums, n_args):
    """argnums as a tuple of non-negative ints, checked against the number of positional args."""
    numbers = argnums if isinstance(argnums, tuple) else (argnums,)
    if not numbers:
        raise RuntimeError(f"{api}: argnums must be non-empty")
    checked = []
    for n in numbers:
        if not isinstance(n, int) or isinstance(n, bool):
            raise RuntimeError(f"{api}: argnums must be an int or a tuple of ints, got {argnums!r}")
        if not -n_args <= n < n_args:
            raise RuntimeError(f"{api}: got argnums={argnums!r}, but only {n_args} positional inputs")
        checked.append(n % n_args)
    if len(set(checked)) != len(checked):
        raise RuntimeError(f"{api}: argnums elements must be unique, got {argnums!r}")
    return tuple(checked)


def _needs_graph(*trees):
    """Whether something outside the transform can differentiate its results (module docstring)."""
    return is_grad_enabled() and any(isinstance(x, Tensor) and x.requires_grad for tree in trees
                                     for x in _flatten(tree)[0])


def _fresh(api, x, build_graph):
    if not isinstance(x, Tensor):
        raise RuntimeError(f"{api}: the differentiated arguments must be Tensors (or pytrees of Tensors), "
                           f"got {type(x).__name__}")
    if x.dtype.kind not in "fc":
        raise RuntimeError(f"{api}: cannot differentiate with respect to a {x.dtype} tensor of shape {x.shape}; "
                           "only floating point tensors have gradients")
    return _fresh_leaves((x,), build_graph, need_graph=True)[0]


def _prepare(api, args, kwargs, argnums):
    """Swap the arguments named by argnums for fresh leaves: (new args, the differentiated subtree,
    its flat leaves, its spec, whether to record the gradient)."""
    build_graph = _needs_graph(args, kwargs)
    numbers = _check_argnums(api, argnums, len(args))
    args = list(args)
    for n in numbers:
        args[n] = _map_tensors(lambda x: _fresh(api, x, build_graph), args[n]) \
            if isinstance(args[n], (tuple, list, dict)) else _fresh(api, args[n], build_graph)
    diff_args = tuple(args[n] for n in numbers) if isinstance(argnums, tuple) else args[numbers[0]]
    leaves, spec = _flatten(diff_args)
    return tuple(args), leaves, spec, build_graph


def _split_aux(api, output, has_aux):
    if not has_aux:
        return output, None
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(f"{api}: with has_aux=True the function must return a tuple (output, aux)")
    return output


def _detached_unless(tree, build_graph):
    return tree if build_graph else _map_tensors(Tensor.detach, tree)


def _gradients(outputs, inputs, cotangents, retain_graph, create_graph):
    """ag.grad over the outputs that require grad, zeros for inputs no output reaches."""
    found = _grad(outputs, inputs, cotangents, create_graph=create_graph, retain_graph=retain_graph)
    return [zeros_like(x) if g is None else g for g, x in zip(found, inputs)]


# -- the transforms ---------------------------------------------------------------------------------

def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (gradient, value) of func, whose output must be a 0-d Tensor; with
    has_aux, func returns (output, aux) and the result is (gradient, (value, aux)). The gradient
    has the structure of args[argnums] (a tuple of them when argnums is a tuple)."""
    api = "grad_and_value(f)(*args)"

    def wrapper(*args, **kwargs):
        with enable_grad():
            args, leaves, spec, build_graph = _prepare(api, args, kwargs, argnums)
            output, aux = _split_aux(api, func(*args, **kwargs), has_aux)
            if not isinstance(output, Tensor):
                raise RuntimeError(f"{api}: expected f(*args) to return a Tensor, got {type(output).__name__}")
            if output.ndim != 0:
                raise RuntimeError(f"{api}: expected f(*args) to return a scalar (0-d) Tensor, got shape "
                                   f"{output.shape}; for other outputs use vjp or jacrev")
            gradient = _gradients([output], leaves, [None], retain_graph=build_graph, create_graph=build_graph)
        gradient = _detached_unless(_unflatten(gradient, spec), build_graph)
        value = _detached_unless(output, build_graph)
        return (gradient, (value, _detached_unless(aux, build_graph))) if has_aux else (gradient, value)
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function returning the gradient of func (0-d output) with respect to args[argnums];
    with has_aux, (gradient, aux)."""
    value_and_gradient = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        gradient, value = value_and_gradient(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient
    return wrapper


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn[, aux]). vjp_fn(cotangents) takes cotangents shaped like the output
    (same structure) and returns a tuple with one gradient per primal; it can be called again."""
    api = "vjp(f, *primals)"
    with enable_grad():
        primals, leaves, spec, build_graph = _prepare(api, primals, {}, tuple(range(len(primals))))
        output, aux = _split_aux(api, func(*primals), has_aux)
        outputs, output_spec = _flatten(output)
        for o in outputs:
            if not isinstance(o, Tensor) or o.dtype.kind not in "fc":
                what = f"a {o.dtype} Tensor" if isinstance(o, Tensor) else type(o).__name__
                raise RuntimeError(f"{api}: every output of f must be a floating point Tensor, got {what}")

    def vjp_fn(cotangents, retain_graph=True, create_graph=None):
        flat, cotangent_spec = _flatten(cotangents)
        if cotangent_spec != output_spec:
            raise RuntimeError(f"{api}: the cotangents must have the structure of the output of f")
        for o, c in zip(outputs, flat):
            if not isinstance(c, Tensor) or c.shape != o.shape:
                got = c.shape if isinstance(c, Tensor) else type(c).__name__
                raise RuntimeError(f"{api}: a cotangent has shape {got} but the output it pairs with has shape "
                                   f"{o.shape}")
        record = build_graph if create_graph is None else create_graph
        with enable_grad():
            gradient = _gradients(outputs, leaves, flat, retain_graph=retain_graph, create_graph=record)
        return _detached_unless(_unflatten(gradient, spec), record)

    output = _detached_unless(output, build_graph)
    if has_aux:
        return output, vjp_fn, _detached_unless(aux, build_graph)
    return output, vjp_fn


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None):
    """A function returning the Jacobian of func: for each output Tensor (same structure as the
    output), the Jacobians with respect to args[argnums] (structured like them), each of shape
    output.shape + arg.shape. `chunk_size` is accepted for torch.func's signature (rows are
    computed one backward at a time anyway)."""
    api = "jacrev(f)(*args)"

    def wrapper(*args, **kwargs):
        with enable_grad():
            args, leaves, spec, build_graph = _prepare(api, args, kwargs, argnums)
            output, aux = _split_aux(api, func(*args, **kwargs), has_aux)
            outputs, output_spec = _flatten(output)
            blocks = _jacobian_by_rows(outputs, leaves, create_graph=build_graph, strict=False)
        jac = _unflatten([_unflatten(list(row), spec) for row in blocks], output_spec)
        jac = _detached_unless(jac, build_graph)
        return (jac, _detached_unless(aux, build_graph)) if has_aux else jac
    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """The Jacobian as `torch.func.jacfwd` gives it; ndgrad has no forward mode, so it is jacrev's (the
    same numbers, one backward per output element)."""
    return jacrev(func, argnums, has_aux=has_aux)


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), J tangents): the Jacobian-vector product, as `torch.func.jvp` (primals and
    tangents are tuples of Tensors). Computed by two reverse passes (autograd.functional.jvp)."""
    from .functional import jvp as functional_jvp
    if not isinstance(primals, tuple) or not isinstance(tangents, tuple):
        raise RuntimeError("jvp(f, primals, tangents): Expected primals and tangents to be tuples")
    if len(primals) != len(tangents):
        raise RuntimeError(f"jvp(f, primals, tangents): Expected primals and tangents to have the same length, got "
                           f"{len(primals)} and {len(tangents)}")
    aux = []

    def without_aux(*args):
        out = func(*args)
        if has_aux:
            out, extra = out
            aux.append(extra)
        return out
    output, product = functional_jvp(without_aux, primals, tangents, strict=strict)
    return (output, product, aux[0]) if has_aux else (output, product)


def hessian(func, argnums=0):
    """A function returning the Hessian of func with respect to args[argnums]: jacrev of jacrev
    (torch.func uses forward over reverse; the numbers are the same)."""
    return jacrev(jacrev(func, argnums), argnums)


# -- functional_call --------------------------------------------------------------------------------

def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True, strict=False):
    """module(*args, **kwargs) with the named tensors standing in for its parameters and buffers
    for this one call; the module is left exactly as it was, even if the call raises.

    `parameter_and_buffer_dicts` maps dotted names ("0.weight", "bn.running_mean") to Tensors, or is
    a tuple of such dicts. Names not given keep the module's own tensors (with strict=True that is an
    error). A name that is not a parameter or buffer of the module is an error, strict or not (PyTorch
    ignores it unless strict=True; a misspelt name that silently changes nothing is worse). With
    tie_weights, a tensor registered under several names (tied weights) is replaced under all of
    them when one is given. The stand-ins enter the graph as they are, so the output is
    differentiable with respect to them (e.g. per-example gradients, or MAML's inner steps).
    """
    if isinstance(parameter_and_buffer_dicts, dict):
        replacements = dict(parameter_and_buffer_dicts)
    elif isinstance(parameter_and_buffer_dicts, (tuple, list)) and all(
            isinstance(d, dict) for d in parameter_and_buffer_dicts):
        replacements = {}
        for d in parameter_and_buffer_dicts:
            repeated = sorted(set(replacements) & set(d))
            if repeated:
                raise ValueError(f"functional_call: {repeated} appear in more than one of the dicts given")
            replacements.update(d)
    else:
        raise ValueError("functional_call: parameter_and_buffer_dicts must be a dict, or a tuple/list of dicts, "
                         f"got {type(parameter_and_buffer_dicts).__name__}")
    args = () if args is None else args if isinstance(args, tuple) else (args,)
    with _substituted(module, replacements, tie_weights, strict):
        return module(*args, **(kwargs or {}))


def _registered_tensors(module):
    """{dotted name: (registry dict that holds it, key)} for every parameter and buffer, tied names included."""
    found = {}
    for prefix, owner in module.named_modules(remove_duplicate=False):
        for registry in (owner._parameters, owner._buffers):
            for key, value in registry.items():
                if value is not None:
                    found[(prefix + "." if prefix else "") + key] = (registry, key)
    return found


@contextlib.contextmanager
def _substituted(module, replacements, tie_weights, strict):
    registered = _registered_tensors(module)
    unexpected = sorted(set(replacements) - set(registered))
    if unexpected:
        raise ValueError(f"functional_call: {type(module).__name__} has no parameter or buffer named "
                         f"{', '.join(unexpected)}")
    replacements = dict(replacements)
    if tie_weights:
        names_of = {}
        for name, (registry, key) in registered.items():
            names_of.setdefault(id(registry[key]), []).append(name)
        for names in names_of.values():
            given = [n for n in names if n in replacements]
            if len({id(replacements[n]) for n in given}) > 1:
                raise ValueError(f"functional_call: {', '.join(names)} are tied (one tensor), but different "
                                 f"values were given for {', '.join(given)}; pass one, or tie_weights=False")
            if given:
                replacements.update({n: replacements[given[0]] for n in names})
    if strict:
        missing = sorted(set(registered) - set(replacements))
        if missing:
            raise RuntimeError(f"functional_call (strict=True): no value given for {', '.join(missing)}")
    originals = [(registry, key, registry[key]) for name, (registry, key) in registered.items() if name in replacements]
    try:
        for name, (registry, key) in registered.items():
            if name in replacements:
                registry[key] = replacements[name]
        yield
    finally:
        for registry, key, original in originals:
            registry[key] = original


# -- vmap -----------------------------------------------------------------------------------------------

def _leaf_dims(dim, leaves, position):
    """The mapped dim of each leaf of positional argument `position`: one int/None for all of them, or
    a structure of in_dims matching the argument's."""
    if not isinstance(dim, (tuple, list, dict)):
        return [dim] * len(leaves)
    dims, _ = _flatten(dim)
    if len(dims) != len(leaves):
        raise ValueError(f"vmap: in_dims for argument {position} has {len(dims)} entries but the argument has "
                         f"{len(leaves)} leaves; give one int or None, or a structure matching the argument")
    return dims


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """`func` mapped over a batch dim of its inputs: `in_dims` gives, per positional argument, the dim to
    map over (None: pass it whole; a structure matching a tuple/list/dict argument gives one per leaf),
    and the results are stacked along `out_dims`. As `torch.func.vmap` (and `torch.vmap`), e.g.
    per-example gradients: `vmap(grad(loss), in_dims=(None, 0, 0))(params, inputs, targets)`.

    ndgrad calls `func` once per batch element and stacks the results, so any function vmaps (random
    ops draw anew for each element) and gradients flow through the stacking; it is not faster than a loop."""
    if randomness not in ("error", "different", "same"):
        raise ValueError(f"vmap: randomness must be 'error', 'different' or 'same', got {randomness!r}")

    def mapped(*args, **kwargs):
        dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap: in_dims has {len(dims)} entries but {len(args)} positional arguments were given")
        flat = []
        for position, (arg, dim) in enumerate(zip(args, dims)):
            leaves, spec = _flatten(arg)
            flat.append((leaves, _leaf_dims(dim, leaves, position), spec))
        sizes = set()
        for leaves, leaf_dims, _ in flat:
            for leaf, dim in zip(leaves, leaf_dims):
                if dim is None:
                    continue
                if not isinstance(leaf, Tensor):
                    raise ValueError(f"vmap: an in_dim of {dim} was given for an input that is not a Tensor "
                                     f"({type(leaf).__name__}); use None for it")
                sizes.add(leaf.shape[dim])
        if not sizes:
            raise ValueError("vmap: at least one input must be a Tensor mapped over a dim (in_dims are all None)")
        if len(sizes) > 1:
            raise ValueError(f"vmap: the mapped dims of the inputs have different sizes {sorted(sizes)}")
        results = []
        for i in range(sizes.pop()):
            call = [_unflatten([leaf if dim is None else leaf.select(dim, i) for leaf, dim in zip(leaves, leaf_dims)],
                               spec) for leaves, leaf_dims, spec in flat]
            results.append(_flatten(func(*call, **kwargs)))
        spec = results[0][1]
        columns = list(zip(*(leaves for leaves, _ in results)))
        stack_dims = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * len(columns)
        if len(stack_dims) != len(columns):
            raise ValueError(f"vmap: out_dims has {len(stack_dims)} entries for {len(columns)} outputs")
        if not all(isinstance(value, Tensor) for column in columns for value in column):
            raise ValueError("vmap: the function must return Tensors (or tuples, lists and dicts of them)")
        from .ops import stack
        return _unflatten([stack(column, dim) for column, dim in zip(columns, stack_dims)], spec)

    return mapped
