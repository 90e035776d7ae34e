"""The pointwise part of one LSTM and one GRU step, each a single fused op, as PyTorch's fused cells
(`_thnn_fused_lstm_cell`, `_thnn_fused_gru_cell`): the gate activations and the state update of a
step are one node instead of a dozen, which is most of a small recurrent layer's time.

Each backward formula is written once, in `_lstm_cell_gradients` and `_gru_cell_gradients`, with
nothing but `+ - *`, so that it runs on NumPy arrays and on Tensors alike. A first derivative runs
it on the arrays the forward kept (the gate activations), as one NumPy kernel; under
`create_graph=True` it runs on Tensors, with the activations recomputed from the inputs by Tensor
ops, so that the result is differentiable again, to any order.
"""
import numpy as np

from .. import grad_mode
from ..broadcasting import sum_to
from ..errors import DTypeError, shape_error
from ..function import Primitive
from ..tensor import Tensor
from .activations import sigmoid, sigmoid_array
from .elementwise import constant, tanh
from .joining import cat, split
from .linalg import LinearWeightGrad, MatMul, linear_array


def _lstm_cell_gradients(grad_h, grad_c, i, f, g, o, c, tanh_c):
    """The gradients of the gate pre-activations (i, f, g, o order) and of the previous cell state
    c, for h = o tanh(c'), c' = f c + i g with i, f, o sigmoids and g a tanh of the gates."""
    grad_cell = grad_c + grad_h * o * (1 - tanh_c * tanh_c)
    gates = (grad_cell * g * i * (1 - i), grad_cell * c * f * (1 - f), grad_cell * i * (1 - g * g),
             grad_h * tanh_c * o * (1 - o))
    return gates, grad_cell * f


def _gru_cell_gradients(grad, r, z, n, hidden_new, h):
    """The gradients of the input gates, the hidden gates (r, z, n order each) and of the previous
    state h, for h' = n + z (h - n) with r, z sigmoids of the summed gates and
    n = tanh(input_n + r hidden_n)."""
    grad_new = grad * (1 - z) * (1 - n * n)
    grad_reset = grad_new * hidden_new * r * (1 - r)
    grad_update = grad * (h - n) * z * (1 - z)
    return (grad_reset, grad_update, grad_new), (grad_reset, grad_update, grad_new * r), grad * z


def _lstm_activations(gates, size):
    """(i, f, g, o) of an LSTM's summed gate pre-activations, as Tensors (the differentiable path)."""
    i, f, g, o = split(gates, size, -1)
    return sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)


class FusedLSTMCell(Primitive):
    """(h', c') from the input and hidden gate pre-activations (N, 4H) and the cell state c (N, H)."""
    @staticmethod
    def forward(ctx, input_gates, hidden_gates, c):
        size = c.shape[-1]
        gates = np.add(input_gates, hidden_gates)
        activations = sigmoid_array(gates)                       # i, f and o; g's quarter is replaced
        np.tanh(gates[..., 2 * size:3 * size], out=activations[..., 2 * size:3 * size])
        i, f, g, o = np.split(activations, 4, axis=-1)
        cell = f * c
        cell += i * g
        tanh_c = np.tanh(cell)
        ctx.save_for_backward(input_gates, hidden_gates, c, activations, tanh_c)
        return o * tanh_c, cell

    @staticmethod
    def backward(ctx, grad_h, grad_c):
        input_gates, hidden_gates, c, activations, tanh_c = ctx.saved_tensors
        if grad_mode.is_grad_enabled():   # create_graph: the activations again, as Tensor ops of the inputs
            i, f, g, o = _lstm_activations(input_gates + hidden_gates, c.shape[-1])
            gates, grad_prev = _lstm_cell_gradients(_or_zero(grad_h), _or_zero(grad_c), i, f, g, o, c,
                                                    tanh(f * c + i * g))
            grad_gates = cat(gates, -1)
        else:
            gates, grad_prev = _lstm_cell_gradients(_array_or_zero(grad_h), _array_or_zero(grad_c),
                                                    *np.split(activations._data, 4, axis=-1), c._data, tanh_c._data)
            grad_gates, grad_prev = constant(np.concatenate(gates, -1)), constant(grad_prev)
        return grad_gates, grad_gates, grad_prev


def _or_zero(grad):
    """An output's gradient, 0 for an output that got none (its terms then vanish)."""
    return 0 if grad is None else grad


def _array_or_zero(grad):
    return 0 if grad is None else grad._data


class FusedGRUCell(Primitive):
    """h' from the input and hidden gate pre-activations (N, 3H), biases included, and the state h (N, H)."""
    @staticmethod
    def forward(ctx, input_gates, hidden_gates, h):
        size = h.shape[-1]
        reset_update = np.add(input_gates[..., :2 * size], hidden_gates[..., :2 * size])
        sigmoid_array(reset_update, out=reset_update)
        r, z = reset_update[..., :size], reset_update[..., size:]
        n = r * hidden_gates[..., 2 * size:]
        n += input_gates[..., 2 * size:]
        np.tanh(n, out=n)
        ctx.save_for_backward(input_gates, hidden_gates, h, reset_update, n)
        out = np.subtract(h, n)
        out *= z
        out += n
        return out

    @staticmethod
    def backward(ctx, grad):
        input_gates, hidden_gates, h, reset_update, n = ctx.saved_tensors
        size = h.shape[-1]
        if grad_mode.is_grad_enabled():
            input_reset_update, input_new = split(input_gates, [2 * size, size], -1)
            hidden_reset_update, hidden_new = split(hidden_gates, [2 * size, size], -1)
            r, z = split(sigmoid(input_reset_update + hidden_reset_update), size, -1)
            n = tanh(input_new + r * hidden_new)
            grad_input, grad_hidden, grad_prev = _gru_cell_gradients(grad, r, z, n, hidden_new, h)
            return cat(grad_input, -1), cat(grad_hidden, -1), grad_prev
        r, z = np.split(reset_update._data, 2, axis=-1)
        grad_input, grad_hidden, grad_prev = _gru_cell_gradients(
            grad._data, r, z, n._data, hidden_gates._data[..., 2 * size:], h._data)
        return constant(np.concatenate(grad_input, -1)), constant(np.concatenate(grad_hidden, -1)), constant(grad_prev)


# -- a recurrent layer's hidden-to-hidden products ---------------------------------------------------

class HiddenProjection:
    """The products h W^T + b of a recurrent layer, one per step (`projection(t, h)`), with the
    gradients of W and b taken once over the whole sequence, as cuDNN takes them: G^T H, G every
    step's gate gradients and H every step's h, is one product at full BLAS speed, where one small
    product per step (20 x 256 by 1024 runs at 46-52 GFLOP/s) and a sum of them took twice as long.

    How: each step's node (StepProjection) passes the gradient on to h and not to W; the node made
    here, SequenceParameters, outputs b broadcast over every step's rows (zeros without a bias),
    which each step adds to its product, so it receives every step's gradient at once and gives W
    and b theirs. Its backward reads the steps' h, which it holds: under create_graph, both
    gradients are Tensor ops of them and of W, so higher derivatives stay exact."""

    def __init__(self, weight, bias, rows_per_step):
        self.weight = weight
        self.inputs = [None] * len(rows_per_step)
        offsets = SequenceParameters.apply(weight, bias, projection=self, rows=sum(rows_per_step))
        self.offsets = split(offsets, list(rows_per_step)) if len(rows_per_step) > 1 else [offsets]

    def __call__(self, t, h):
        self.inputs[t] = h
        return StepProjection.apply(h, self.weight) + self.offsets[t]


class StepProjection(Primitive):
    """h W^T for one step; W's gradient is SequenceParameters' (d/dh = grad W, differentiable in W)."""
    @staticmethod
    def forward(ctx, h, weight):
        ctx.save_for_backward(weight)
        return linear_array(h, weight)

    @staticmethod
    def backward(ctx, grad):
        (weight,) = ctx.saved_tensors
        return (MatMul.apply(grad, weight) if ctx.needs_input_grad[0] else None), None


class SequenceParameters(Primitive):
    """b (or zeros) broadcast over all steps' rows, (rows, out); backward: d/dW = G^T H over every
    step, d/db = G summed over the rows."""
    @staticmethod
    def forward(ctx, weight, bias, projection, rows):
        ctx.projection, ctx.bias_shape = projection, None if bias is None else bias.shape
        out = weight.shape[0]
        return np.broadcast_to(bias if bias is not None else np.zeros(out, weight.dtype), (rows, out))

    @staticmethod
    def backward(ctx, grad):
        need_w, need_b = ctx.needs_input_grad
        inputs = ctx.projection.inputs
        grad_w = LinearWeightGrad.apply(grad, cat(inputs, 0) if len(inputs) > 1 else inputs[0]) if need_w else None
        return grad_w, (sum_to(grad, ctx.bias_shape) if need_b else None)


def hidden_projection(weight: Tensor, bias: Tensor | None, rows_per_step) -> HiddenProjection:
    """A recurrent layer's hidden-to-hidden products for steps of `rows_per_step` rows each (the batch,
    or a packed sequence's running batch): `projection(t, h)` is h weight^T + bias for step t, and
    the gradients of weight and bias are taken over all steps at once (see HiddenProjection)."""
    return HiddenProjection(weight, bias, rows_per_step)


def _check_cell(op, gate_count, input_gates, hidden_gates, state):
    size = state.shape[-1] if state.ndim else 0
    expected = state.shape[:-1] + (gate_count * size,)
    if state.ndim == 0 or input_gates.shape != expected or hidden_gates.shape != expected:
        raise shape_error(op, f"expects gates of shape {expected} ({gate_count} x the state's last dim) for a state "
                          f"of shape {state.shape}", input_gates.shape, hidden_gates.shape)
    dtypes = {input_gates.dtype, hidden_gates.dtype, state.dtype}
    if len(dtypes) != 1 or input_gates.dtype.kind != "f":
        raise DTypeError(f"{op}: the gates and the state must share one floating dtype, got {input_gates.dtype}, "
                         f"{hidden_gates.dtype} and {state.dtype}")


def fused_lstm_cell(input_gates: Tensor, hidden_gates: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    """One LSTM step after its two matrix products: from the gate pre-activations x W_ih^T + b_ih and
    h W_hh^T + b_hh, each (N, 4H) in PyTorch's order i, f, g, o, and the cell state c (N, H), the new
    (h, c) = (o tanh(c'), f c + i g), i, f, o sigmoids and g a tanh. One op, as PyTorch's
    `_thnn_fused_lstm_cell` (without its bias arguments: add the biases in the products)."""
    _check_cell("fused_lstm_cell", 4, input_gates, hidden_gates, c)
    return FusedLSTMCell.apply(input_gates, hidden_gates, c)


def fused_gru_cell(input_gates: Tensor, hidden_gates: Tensor, h: Tensor) -> Tensor:
    """One GRU step after its two matrix products: from the gate pre-activations x W_ih^T + b_ih and
    h W_hh^T + b_hh, each (N, 3H) in PyTorch's order r, z, n, and the state h (N, H), the new state
    (1 - z) n + z h with r, z sigmoids of the summed gates and n = tanh(x_n + r hidden_n). One op, as
    PyTorch's `_thnn_fused_gru_cell` (without its bias arguments)."""
    _check_cell("fused_gru_cell", 3, input_gates, hidden_gates, h)
    return FusedGRUCell.apply(input_gates, hidden_gates, h)
