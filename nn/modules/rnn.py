"""Recurrent layers: RNN, LSTM, GRU and their one-step cells, with PyTorch's gate order, parameter
names, shapes and initialisation, so weights load from a PyTorch state dict and give its outputs.

One step is one function (`_rnn_step`, `_lstm_step`, `_gru_step`) shared by the cell and the
layer. As in PyTorch's CPU kernels, a layer projects the inputs of all time steps in one matmul up
front; each step then adds one fused matmul of the hidden state for all gates at once and slices
the gates out of it.
"""
import functools
import math
import numbers
import warnings

import numpy as np

import autograd as ag

from .. import functional as F
from .. import init
from ..module import Module
from ..utils.rnn import PackedSequence
from ._utils import new_parameter

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


# -- one time step ---------------------------------------------------------------------------------
# `gates_x` is the input projection x W_ih^T + b_ih of one step, (N, gates * hidden); `state` a tuple:
# (h,) for RNN and GRU, (h, c) for LSTM. Each returns the next state.

def _rnn_step(gates_x, state, project, activation):
    return (activation(gates_x + project(state[0])),)


def _lstm_step(gates_x, state, project, weight_hr=None):
    """PyTorch's gate order i, f, g, o: c' = f c + i g, h' = o tanh(c') (then h' W_hr^T with a projection)."""
    h, c = state
    gates_h = project(h)
    if c.dtype != gates_x.dtype:
        # LSTMCell's c may have another dtype: as PyTorch, the gates come in the weights' dtype and
        # the pointwise part runs in the promoted one
        dtype = np.promote_types(gates_x.dtype, c.dtype)
        gates_x, gates_h, c = gates_x.astype(dtype), gates_h.astype(dtype), c.astype(dtype)
    h, cell = ag.fused_lstm_cell(gates_x, gates_h, c)
    if weight_hr is not None:
        h = F.linear(h, weight_hr)
    return h, cell


def _gru_step(gates_x, state, project):
    """PyTorch's gate order r, z, n: n = tanh(x_n + r (W_hn h + b_hn)), h' = (1 - z) n + z h."""
    (h,) = state
    return (ag.fused_gru_cell(gates_x, project(h), h),)


def _hidden_product(weight_hh, bias_hh):
    """`project` for a single step (a cell): h W_hh^T + b_hh."""
    return lambda h: F.linear(h, weight_hh, bias_hh)


_ACTIVATIONS = {"tanh": ag.tanh, "relu": ag.relu}


def _check_dtype(module, input, weight):
    if input.dtype != weight.dtype:
        raise ag.ArgumentError(f"{type(module).__name__}: the input's dtype {input.dtype} does not match the weights' "
                            f"dtype {weight.dtype}; convert the input (input.to({weight.dtype})) or the "
                            f"module (module.to({input.dtype}))")


def _check_state_dtype(module, what, state, weight):
    """`what` names the state tensor as the user passed it, e.g. "hx[1] (the cell state c_0)"."""
    if state.dtype != weight.dtype:
        raise ag.ArgumentError(f"{type(module).__name__}: {what} has dtype {state.dtype}, but the input and weights "
                            f"have dtype {weight.dtype}; convert the state ({what.split()[0]}.to({weight.dtype}))")


def _state_names(count, suffix=""):
    """How the user's hx, or each part of an (h, c) pair, is named in errors."""
    if count == 1:
        return ("hx",)
    return (f"hx[0] (the hidden state h{suffix})", f"hx[1] (the cell state c{suffix})")


# -- layers ----------------------------------------------------------------------------------------

class RNNBase(Module):
    """The multi-layer recurrent layer behind RNN, LSTM and GRU (PyTorch's RNNBase).

    Parameters, per layer k and direction (suffix "_reverse" for the backward one), registered in
    this order: weight_ih_l{k} (gates * hidden, input), weight_hh_l{k} (gates * hidden, hidden),
    bias_ih_l{k}, bias_hh_l{k} (if bias), weight_hr_l{k} (LSTM with proj_size > 0); all start
    uniform in +-1/sqrt(hidden_size).
    """

    _gates = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if mode not in self._gates:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", stacklevel=3)
        for arg, value in (("bias", bias), ("batch_first", batch_first)):
            if not isinstance(value, bool):
                raise TypeError(f"{name}: {arg} should be of type bool, got: {type(value).__name__}")
        for arg, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool):
                raise TypeError(f"{name}: {arg} should be of type int, got: {type(value).__name__}")
            if value <= 0:
                raise ValueError(f"{name}: {arg} must be greater than zero, got {value}")
        if proj_size < 0:
            raise ValueError(f"{name}: proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size has to be smaller than hidden_size ({proj_size} >= {hidden_size})")
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        directions = 2 if bidirectional else 1
        gate_size = self._gates[mode] * hidden_size
        out_size = proj_size or hidden_size
        self._all_weights = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else out_size * directions
            for direction in range(directions):
                shapes = [("weight_ih_l{}{}", (gate_size, layer_input)), ("weight_hh_l{}{}", (gate_size, out_size))]
                if bias:
                    shapes += [("bias_ih_l{}{}", (gate_size,)), ("bias_hh_l{}{}", (gate_size,))]
                if proj_size:
                    shapes.append(("weight_hr_l{}{}", (proj_size, hidden_size)))
                suffix = "_reverse" if direction == 1 else ""
                names = [pattern.format(layer, suffix) for pattern, _ in shapes]
                for param_name, (_, shape) in zip(names, shapes):
                    setattr(self, param_name, new_parameter(shape, dtype, device))
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        """Draw every weight and bias again from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self):
        """A no-op, kept so that PyTorch code calling it runs: there is no cuDNN weight buffer here."""

    @property
    def all_weights(self):
        """The parameters per layer and direction, each a list [weight_ih, weight_hh, bias_ih, bias_hh,
        weight_hr] of those the module has. As `torch.nn.RNNBase.all_weights`."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def _layer_weights(self, layer, direction):
        """(weight_ih, weight_hh, bias_ih, bias_hh, weight_hr); absent ones are None."""
        suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        return tuple(getattr(self, name + suffix, None)
                     for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"))

    # The subclasses say how one step runs and what the state is.
    def _step(self, gates_x, state, project, weight_hr):
        raise NotImplementedError

    def _state_sizes(self):
        """The size of each part of the state: (h,) or (h, c)."""
        return (self.hidden_size,)

    def _check_input(self, input, hx):
        """Validate input and initial state; returns (input as (L, N, in) or (N, L, in), is_batched,
        the initial state as a tuple of (layers * directions, N, size) tensors, or None)."""
        name, shape = type(self).__name__, tuple(input.shape)
        if input.ndim not in (2, 3):
            raise ag.ShapeError(f"{name}: expected a 2-D (unbatched) or 3-D input, got a {input.ndim}-D input of shape "
                             f"{shape}")
        if input.shape[-1] != self.input_size:
            raise ag.ShapeError(f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                             f"{input.shape[-1]} (input of shape {shape})")
        if input.shape[1 if self.batch_first and input.ndim == 3 else 0] == 0:
            raise ag.ShapeError(f"{name}: the input sequence is empty (input of shape {shape})")
        _check_dtype(self, input, self.weight_ih_l0)
        is_batched = input.ndim == 3
        if not is_batched:
            input = input.unsqueeze(0 if self.batch_first else 1)
        batch = input.shape[0] if self.batch_first else input.shape[1]
        return input, is_batched, self._check_state(hx, batch, is_batched, f"an input of shape {shape}")

    def _check_state(self, hx, batch, is_batched, input_description):
        """The initial state hx as a tuple of (layers * directions, batch, size) tensors (None if hx is)."""
        if hx is None:
            return None
        name = type(self).__name__
        parts = hx if isinstance(hx, (tuple, list)) else (hx,)
        if len(parts) != len(self._state_sizes()):
            raise ag.ArgumentError(f"{name}: expected the initial state as {len(self._state_sizes())} tensor(s), got "
                                f"{len(parts)}")
        layers = self.num_layers * (2 if self.bidirectional else 1)
        state = []
        for part, size, what in zip(parts, self._state_sizes(), _state_names(len(parts), "_0")):
            expected = (layers, batch, size) if is_batched else (layers, size)
            if tuple(part.shape) != expected:
                raise ag.ShapeError(f"{name}: expected {what} of shape {expected} for {input_description}, got "
                                 f"{tuple(part.shape)}")
            _check_state_dtype(self, what, part, self.weight_ih_l0)
            state.append(part if is_batched else part.unsqueeze(1))
        return tuple(state)

    def forward(self, input, hx=None):
        """input (L, N, input_size) ((N, L, input_size) with batch_first, or (L, input_size)
        unbatched), hx the initial state ((layers * directions, N, size) each; zeros if None).
        Returns (output (L, N, directions * size), final state).

        A PackedSequence input (nn.utils.rnn.pack_padded_sequence) runs each sequence to its own
        length only: the output is packed the same way, and the final state holds each sequence's
        state after its last element (after its first, for the reverse direction)."""
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        input, is_batched, initial = self._check_input(input, hx)
        x = input.transpose(0, 1) if self.batch_first else input
        x, state = self._run_layers(x, initial, x.shape[1])
        output = x.transpose(0, 1) if self.batch_first else x
        if not is_batched:
            output = output.squeeze(0 if self.batch_first else 1)
            state = tuple(part.squeeze(1) for part in state)
        return output, (state if len(state) > 1 else state[0])

    def _forward_packed(self, packed, hx):
        """forward for a PackedSequence: each layer and direction runs on the packed rows of each step."""
        name, data, batch_sizes = type(self).__name__, packed.data, packed.batch_sizes.numpy().tolist()
        if data.ndim != 2 or data.shape[1] != self.input_size:
            raise ag.ShapeError(f"{name}: expected packed data of shape (total length, {self.input_size}), got "
                                f"{tuple(data.shape)}")
        _check_dtype(self, data, self.weight_ih_l0)
        initial = self._check_state(hx, batch_sizes[0], True, f"a packed batch of {batch_sizes[0]} sequences")
        # the batch is sorted by decreasing length: hx, given in the batch's order, is sorted to match
        if initial is not None and packed.sorted_indices is not None:
            initial = tuple(part.index_select(1, packed.sorted_indices) for part in initial)
        data, state = self._run_layers(data, initial, batch_sizes[0], batch_sizes)
        if packed.unsorted_indices is not None:
            state = tuple(part.index_select(1, packed.unsorted_indices) for part in state)
        output = PackedSequence(data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)
        return output, (state if len(state) > 1 else state[0])

    def _run_layers(self, x, initial, batch, batch_sizes=None):
        """Every layer and direction over x ((L, N, in), or packed data (total, in) with batch_sizes),
        from the initial state (zeros if None): (the last layer's output, the final state stacked
        over layers and directions)."""
        directions = 2 if self.bidirectional else 1
        finals = [[] for _ in self._state_sizes()]
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                index = layer * directions + direction
                if initial is None:
                    state = tuple(ag.zeros((batch, size), dtype=x.dtype) for size in self._state_sizes())
                else:
                    state = tuple(part[index] for part in initial)
                output, state = self._run_direction(x, state, layer, direction, batch_sizes)
                outputs.append(output)
                for final, part in zip(finals, state):
                    final.append(part)
            x = outputs[0] if directions == 1 else ag.cat(outputs, -1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, True)
        return x, tuple(ag.stack(final) for final in finals)

    def _run_direction(self, x, state, layer, direction, batch_sizes=None):
        """One layer in one direction over the whole sequence x (L, N, in): (output (L, N, size), final state)."""
        weight_ih, weight_hh, bias_ih, bias_hh, weight_hr = self._layer_weights(layer, direction)
        if batch_sizes is None:
            steps = ag.unbind(F.linear(x, weight_ih, bias_ih))
        else:   # x is packed data: step t has the first batch_sizes[t] rows of the (sorted) batch
            steps = ag.split(F.linear(x, weight_ih, bias_ih), batch_sizes)
        outputs = [None] * len(steps)
        order = range(len(steps) - 1, -1, -1) if direction == 1 else range(len(steps))
        if ag.is_grad_enabled() and any(p is not None and p.requires_grad for p in (weight_hh, bias_hh)):
            # W_hh's and b_hh's gradients taken once over the sequence, not per step (HiddenProjection)
            sequence = ag.hidden_projection(weight_hh, bias_hh, [step.shape[0] for step in steps])
            projections = [functools.partial(sequence, t) for t in range(len(steps))]
        else:
            projections = [_hidden_product(weight_hh, bias_hh)] * len(steps)
        for t in order:
            running = steps[t].shape[0]
            if running == state[0].shape[0]:
                state = self._step(steps[t], state, projections[t], weight_hr)
                outputs[t] = state[0]
            else:
                # the sequences past their end keep their final state (forward), those not yet begun
                # their initial one (reverse)
                stepped = self._step(steps[t], tuple(part[:running] for part in state), projections[t], weight_hr)
                state = tuple(ag.cat([new, part[running:]]) for new, part in zip(stepped, state))
                outputs[t] = stepped[0]
        return (ag.stack(outputs) if batch_sizes is None else ag.cat(outputs)), state

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (relu with nonlinearity='relu').
    Returns (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        if nonlinearity not in _ACTIVATIONS:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, device=device, dtype=dtype)

    def _step(self, gates_x, state, project, weight_hr):
        return _rnn_step(gates_x, state, project, _ACTIVATIONS[self.nonlinearity])


class LSTM(RNNBase):
    """Long short-term memory, PyTorch's gate order (i, f, g, o) and optional projection of h
    (proj_size). hx is a pair (h_0, c_0); returns (output, (h_n, c_n))."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)

    def _state_sizes(self):
        return (self.proj_size or self.hidden_size, self.hidden_size)

    def _step(self, gates_x, state, project, weight_hr):
        return _lstm_step(gates_x, state, project, weight_hr)


class GRU(RNNBase):
    """Gated recurrent unit, PyTorch's gate order (r, z, n), with r applied to W_hn h + b_hn.
    Returns (output, h_n)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)

    def _step(self, gates_x, state, project, weight_hr):
        return _gru_step(gates_x, state, project)


# -- cells -----------------------------------------------------------------------------------------

class RNNCellBase(Module):
    """One step of a recurrent layer: weight_ih (chunks * hidden, input), weight_hh (chunks *
    hidden, hidden), bias_ih, bias_hh; all uniform in +-1/sqrt(hidden_size), as PyTorch."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = new_parameter((num_chunks * hidden_size, input_size), dtype, device)
        self.weight_hh = new_parameter((num_chunks * hidden_size, hidden_size), dtype, device)
        if bias:
            self.bias_ih = new_parameter((num_chunks * hidden_size,), dtype, device)
            self.bias_hh = new_parameter((num_chunks * hidden_size,), dtype, device)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    reset_parameters = RNNBase.reset_parameters

    def _state_count(self):
        return 1

    def _accepts_state_dtype(self, index, dtype):
        """Whether state part `index` may differ in dtype from the weights."""
        return dtype == self.weight_ih.dtype

    def _run(self, input, state):
        raise NotImplementedError

    def forward(self, input, hx=None):
        """input (N, input_size) or (input_size,); hx (N, hidden) (or a pair of them for
        LSTMCell), zeros if None. Returns the next state, with the input's batching."""
        name = type(self).__name__
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ag.ShapeError(f"{name}: expected an input of shape (N, {self.input_size}) or ({self.input_size},), "
                             f"got {tuple(input.shape)}")
        _check_dtype(self, input, self.weight_ih)
        is_batched = input.ndim == 2
        if not is_batched:
            input = input.unsqueeze(0)
        count = self._state_count()
        if hx is None:
            state = tuple(ag.zeros((input.shape[0], self.hidden_size), dtype=input.dtype) for _ in range(count))
        else:
            parts = tuple(hx) if count > 1 else (hx,)
            expected = (input.shape[0], self.hidden_size) if is_batched else (self.hidden_size,)
            for index, (part, what) in enumerate(zip(parts, _state_names(count))):
                if tuple(part.shape) != expected:
                    raise ag.ShapeError(f"{name}: expected {what} of shape {expected} for an input of shape "
                                     f"{tuple(input.shape if is_batched else input.shape[1:])}, got "
                                     f"{tuple(part.shape)}")
                if not self._accepts_state_dtype(index, part.dtype):
                    _check_state_dtype(self, what, part, self.weight_ih)
            state = parts if is_batched else tuple(part.unsqueeze(0) for part in parts)
        state = self._run(F.linear(input, self.weight_ih, self.bias_ih), state)
        if not is_batched:
            state = tuple(part.squeeze(0) for part in state)
        return state if count > 1 else state[0]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (relu with nonlinearity='relu')."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        if nonlinearity not in _ACTIVATIONS:
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def _run(self, gates_x, state):
        return _rnn_step(gates_x, state, _hidden_product(self.weight_hh, self.bias_hh), _ACTIVATIONS[self.nonlinearity])


class LSTMCell(RNNCellBase):
    """One LSTM step; hx is (h, c) and so is the result."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def _state_count(self):
        return 2

    def _accepts_state_dtype(self, index, dtype):
        # PyTorch's LSTMCell takes a cell state c of any floating dtype and computes both h' and c'
        # in the promoted dtype (its LSTM layer, and every other cell, refuse a mismatch).
        return dtype == self.weight_ih.dtype or (index == 1 and dtype.kind == "f")

    def _run(self, gates_x, state):
        return _lstm_step(gates_x, state, _hidden_product(self.weight_hh, self.bias_hh))


class GRUCell(RNNCellBase):
    """One GRU step."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def _run(self, gates_x, state):
        return _gru_step(gates_x, state, _hidden_product(self.weight_hh, self.bias_hh))
