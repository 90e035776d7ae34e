"""Hand-written NumPy models with a manual backward: the floor a NumPy autograd engine can approach.

Everything stays float32 (NEP 50 keeps Python scalars weak, so `x * 0.1` does not promote), buffers
that have the same shape every step are allocated once, and work is done in place where that saves
a pass over memory. The convolutional net keeps activations channels-last (N, H, W, C) inside, so
that every im2col product lands directly in the layout the next op wants; the parameters it is
given are PyTorch's NCHW ones and are permuted once at construction, which leaves the function
computed identical to PyTorch's.

Each builder returns a closure `step()` that runs one SGD step and returns the loss (see
`benchmarks/harness.py` for the protocol).
"""
import functools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import workloads

NAME = "numpy"
DESCRIPTION = "hand-written NumPy, manual backward"


def version():
    return f"numpy {np.__version__}"


# -- shared pieces --------------------------------------------------------------------------------

def _cross_entropy_backward(logits, labels, rows):
    """Mean cross-entropy of `logits` (N, K); overwrites `logits` with d loss / d logits.

    d loss / d logits = (softmax(logits) - one_hot(labels)) / N.
    """
    logits -= logits.max(axis=1, keepdims=True)
    picked = logits[rows, labels]
    probs = np.exp(logits, out=logits)
    total = probs.sum(axis=1)
    loss = (np.log(total) - picked).mean()
    probs /= total[:, None]
    probs[rows, labels] -= 1.0
    probs *= 1.0 / len(labels)
    return loss


@functools.lru_cache(maxsize=None)
def _ones(n):
    return np.ones(n, dtype=np.float32)


def _column_sums(grad):
    """grad.sum(axis=0) as a BLAS product: NumPy's axis-0 sum of a tall, narrow array is slow."""
    return _ones(len(grad)) @ grad


def _sgd_(param, grad, lr):
    """param -= lr * grad, in place, consuming `grad` as scratch."""
    grad *= lr
    param -= grad


# -- MLP ------------------------------------------------------------------------------------------

def mlp_step(params, x, y, lr=workloads.LEARNING_RATE):
    """Linear-ReLU-...-Linear, mean cross-entropy, plain SGD; weights kept as (out, in) like torch."""
    n_layers = len(params) // 2
    weights = [np.array(params[f"w{i}"], dtype=np.float32) for i in range(1, n_layers + 1)]
    biases = [np.array(params[f"b{i}"], dtype=np.float32) for i in range(1, n_layers + 1)]
    x = np.ascontiguousarray(x, dtype=np.float32)
    labels = np.asarray(y, dtype=np.intp)
    rows = np.arange(len(labels))

    def step():
        activations = [x]
        h = x
        for i, (w, b) in enumerate(zip(weights, biases)):
            h = h @ w.T            # BLAS reads the (out, in) weight transposed, no copy
            h += b
            if i < n_layers - 1:
                np.maximum(h, 0, out=h)
                activations.append(h)
        loss = _cross_entropy_backward(h, labels, rows)
        grad = h
        for i in reversed(range(n_layers)):
            h_in = activations[i]
            grad_w = grad.T @ h_in
            grad_b = _column_sums(grad)
            if i > 0:
                grad_in = grad @ weights[i]
                np.multiply(grad_in, h_in > 0, out=grad_in)   # ReLU'(z) from the saved output
            _sgd_(weights[i], grad_w, lr)
            _sgd_(biases[i], grad_b, lr)
            if i > 0:
                grad = grad_in
        return loss

    return step


# -- CNN ------------------------------------------------------------------------------------------

class _Conv3x3:
    """3x3 convolution, stride 1, padding 1, channels-last, as im2col + one GEMM.

    The input is written into the interior of a zero-bordered buffer (the caller may write there
    directly, see `input_view`). im2col copies the sliding windows into a row-contiguous
    (N*H*W, 3*3*C) matrix with columns ordered (kh, kw, c), the order that copies fastest from
    channels-last windows. col2im runs the other way: the column gradient is produced in
    (c, kh, kw) order, the order whose nine shifted slice-adds into the padded gradient buffer
    are fastest, by multiplying with a permuted copy of the (tiny) weight matrix.
    """
    K = 3

    def __init__(self, weight, bias, batch, side, needs_input_grad):
        c_out, c_in, kh, kw = weight.shape
        assert (kh, kw) == (self.K, self.K)
        taps = kh * kw * c_in
        # Rows (kh, kw, c) match the column order of `cols`; the last row is the bias, paired with
        # a column of ones in `cols`, so the GEMMs add the bias and sum its gradient for free
        # (a separate grad.sum(axis=0) over 50k rows of 8 costs more than the whole dW product).
        self.weight = np.empty((taps + 1, c_out), dtype=np.float32)
        self.weight[:taps] = weight.transpose(2, 3, 1, 0).reshape(taps, c_out)
        self.weight[taps] = bias
        self.batch, self.side, self.c_in, self.c_out = batch, side, c_in, c_out
        padded = (batch, side + 2, side + 2, c_in)
        self.padded = np.zeros(padded, dtype=np.float32)                  # border stays zero
        self.input_view = self.padded[:, 1:-1, 1:-1, :]
        self.cols_2d = np.ones((batch * side * side, taps + 1), dtype=np.float32)
        self.cols = self.cols_2d[:, :taps].reshape(batch, side, side, kh, kw, c_in)   # a view
        self.grad_padded = np.empty(padded, dtype=np.float32) if needs_input_grad else None

    def forward(self):
        windows = sliding_window_view(self.padded, (self.K, self.K), axis=(1, 2))  # (N, H, W, C, 3, 3)
        if self.c_in >= 4:
            np.copyto(self.cols, windows.transpose(0, 1, 2, 4, 5, 3))
        else:
            # With one or two channels a single copy has a 1-2 element inner loop; copying one
            # window offset at a time gives NumPy long rows instead (3x faster for C=1).
            for i in range(self.K):
                for j in range(self.K):
                    self.cols[:, :, :, i, j, :] = windows[..., i, j]
        out = self.cols_2d @ self.weight
        return out.reshape(self.batch, self.side, self.side, self.c_out)

    def backward(self, grad_out, lr):
        """Update the parameters; return d loss / d input (a view into the padded buffer) or None."""
        k, side = self.K, self.side
        grad_2d = grad_out.reshape(-1, self.c_out)
        grad_in = None
        if self.grad_padded is not None:
            weight_ckk = self.weight[:-1].reshape(k, k, self.c_in, self.c_out).transpose(2, 0, 1, 3)
            weight_ckk = weight_ckk.reshape(self.c_in * k * k, self.c_out)     # a 72 x 16 copy
            grad_cols = (grad_2d @ weight_ckk.T).reshape(self.batch, side, side, self.c_in, k, k)
            buf = self.grad_padded
            buf.fill(0)
            for i in range(k):
                for j in range(k):
                    buf[:, i:i + side, j:j + side, :] += grad_cols[..., i, j]
            grad_in = buf[:, 1:-1, 1:-1, :]
        _sgd_(self.weight, self.cols_2d.T @ grad_2d, lr)       # weight and bias rows together
        return grad_in


class _ReluMaxPool2:
    """ReLU followed by 2x2/2 max-pooling, channels-last, computed as pool-then-ReLU (they commute).

    The forward keeps three boolean masks that say which of the four window elements won, with
    PyTorch's tie rule (the first in row-major order); the backward routes the gradient with them.
    """

    def __init__(self, batch, side, channels):
        half = side // 2
        shape = (batch, half, half, channels)
        self.right_top = np.empty(shape, dtype=bool)      # b beat a (strictly)
        self.right_bottom = np.empty(shape, dtype=bool)   # d beat c
        self.bottom = np.empty(shape, dtype=bool)         # max(c, d) beat max(a, b)
        self.top_max = np.empty(shape, dtype=np.float32)
        self.grad_in = np.empty((batch, side, side, channels), dtype=np.float32)
        self.out = None

    def forward(self, x, out):
        a, b = x[:, 0::2, 0::2], x[:, 0::2, 1::2]
        c, d = x[:, 1::2, 0::2], x[:, 1::2, 1::2]
        np.greater(b, a, out=self.right_top)
        np.greater(d, c, out=self.right_bottom)
        top = np.maximum(a, b, out=self.top_max)
        np.maximum(c, d, out=out)
        np.greater(out, top, out=self.bottom)
        np.maximum(top, out, out=out)
        np.maximum(out, 0, out=out)
        self.out = out
        return out

    def backward(self, grad):
        """`grad` (N, H/2, W/2, C) may be overwritten."""
        np.multiply(grad, self.out > 0, out=grad)          # ReLU
        gi = self.grad_in
        bottom = np.multiply(grad, self.bottom)
        top = np.subtract(grad, bottom, out=grad)           # exact: one of the two is zero
        np.multiply(top, self.right_top, out=gi[:, 0::2, 1::2])
        np.subtract(top, gi[:, 0::2, 1::2], out=gi[:, 0::2, 0::2])
        np.multiply(bottom, self.right_bottom, out=gi[:, 1::2, 1::2])
        np.subtract(bottom, gi[:, 1::2, 1::2], out=gi[:, 1::2, 0::2])
        return gi


def cnn_step(params, x, y, lr=workloads.LEARNING_RATE):
    """conv-relu-pool, conv-relu-pool, flatten, linear, mean cross-entropy, SGD (see workloads)."""
    x = np.asarray(x, dtype=np.float32)
    batch, c0, side, _ = x.shape
    c1 = params["conv1_w"].shape[0]
    c2 = params["conv2_w"].shape[0]
    x_nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    conv1 = _Conv3x3(params["conv1_w"], params["conv1_b"], batch, side, needs_input_grad=False)
    pool1 = _ReluMaxPool2(batch, side, c1)
    conv2 = _Conv3x3(params["conv2_w"], params["conv2_b"], batch, side // 2, needs_input_grad=True)
    pool2 = _ReluMaxPool2(batch, side // 2, c2)
    quarter = side // 4
    features = np.empty((batch, quarter, quarter, c2), dtype=np.float32)
    # PyTorch flattens (C, H, W); we flatten (H, W, C), so permute the linear layer's columns once.
    fc_w = params["fc_w"]
    fc_w = np.ascontiguousarray(
        fc_w.reshape(len(fc_w), c2, quarter, quarter).transpose(0, 2, 3, 1).reshape(len(fc_w), -1))
    fc_b = np.array(params["fc_b"], dtype=np.float32)
    labels = np.asarray(y, dtype=np.intp)
    rows = np.arange(batch)

    def step():
        conv1.input_view[...] = x_nhwc
        h = conv1.forward()
        pool1.forward(h, out=conv2.input_view)     # straight into the next conv's padded input
        h = conv2.forward()
        pool2.forward(h, out=features)
        flat = features.reshape(batch, -1)
        logits = flat @ fc_w.T
        logits += fc_b
        loss = _cross_entropy_backward(logits, labels, rows)
        grad_flat = logits @ fc_w
        _sgd_(fc_w, logits.T @ flat, lr)
        _sgd_(fc_b, _column_sums(logits), lr)
        grad = pool2.backward(grad_flat.reshape(features.shape))
        grad = conv2.backward(grad, lr)
        grad = pool1.backward(grad)
        conv1.backward(grad, lr)
        return loss

    return step


# -- tiny-op chain --------------------------------------------------------------------------------

def chain(n, x0):
    """`forward()` runs n tiny ops recording a tape and returns `backward()`, which returns d sum / d x.

    The tape is a list of (op, saved) pairs walked in reverse: the least bookkeeping an engine can do.
    """
    x0 = np.array(x0, dtype=np.float32)
    ops = [workloads.chain_op(i) for i in range(n)]
    mul, add = workloads.CHAIN_MUL, workloads.CHAIN_ADD

    def forward():
        tape = []
        y = x0
        for op in ops:
            if op == "mul":
                y = y * mul
                tape.append((op, None))
            elif op == "add":
                y = y + add
                tape.append((op, None))
            else:
                y = np.tanh(y)
                tape.append((op, y))

        def backward():
            grad = np.ones_like(y)
            for op, saved in reversed(tape):
                if op == "mul":
                    grad = grad * mul
                elif op == "tanh":
                    grad = grad * (1 - saved * saved)
            tape.clear()
            return grad

        return backward

    return forward
