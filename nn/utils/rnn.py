"""nn.utils.rnn: batching sequences of different lengths, as torch.nn.utils.rnn: padding them to one
tensor, and packing them (PackedSequence) so that a recurrent layer stops each sequence at its own end.

A PackedSequence holds the sequences sorted by decreasing length, time step by time step: `data`
(sum of lengths, *) has first the step-0 elements of all sequences, then the step-1 elements of those
at least 2 long, and so on; `batch_sizes[t]` counts the sequences still running at step t.
"""
from collections import namedtuple

import numpy as np

import autograd as ag
from autograd import Tensor

__all__ = ["pad_sequence", "unpad_sequence", "PackedSequence", "pack_padded_sequence", "pad_packed_sequence",
           "pack_sequence", "unpack_sequence", "invert_permutation"]


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences of shapes (L_i, *) into one (L, B, *) Tensor (or (B, L, *) with batch_first),
    L the longest L_i, filling each shorter sequence with `padding_value` on its `padding_side`.
    Differentiable: each sequence's gradient is its slice of the result's."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}")
    if isinstance(sequences, Tensor):
        sequences = [sequences[i] for i in range(sequences.shape[0])] if sequences.ndim else [sequences]
    sequences = list(sequences)
    if not sequences:
        raise ValueError("pad_sequence: received an empty list of sequences")
    for i, sequence in enumerate(sequences):
        if not isinstance(sequence, Tensor):
            raise TypeError(f"pad_sequence: sequence {i} is a {type(sequence).__name__}, not a Tensor")
        if sequence.ndim == 0 or sequence.shape[1:] != sequences[0].shape[1:]:
            raise ag.ShapeError(f"pad_sequence: every sequence must have shape (length, *) with the same trailing "
                             f"dims; sequence 0 has shape {tuple(sequences[0].shape)}, sequence {i} has shape "
                             f"{tuple(sequence.shape)}")
    longest = max(sequence.shape[0] for sequence in sequences)
    trailing = ((0, 0),) * (sequences[0].ndim - 1)
    padded = []
    for sequence in sequences:
        missing = longest - sequence.shape[0]
        if missing:
            before_after = (0, missing) if padding_side == "right" else (missing, 0)
            sequence = ag.pad(sequence, (before_after,) + trailing, value=padding_value)
        padded.append(sequence)
    return ag.stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The inverse of pad_sequence: the list of sequences padded_sequences[:lengths[i], i] (or [i,
    :lengths[i]] with batch_first). As torch.nn.utils.rnn.unpad_sequence."""
    padded = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [padded[i, :length] for i, length in enumerate(_lengths_array("unpad_sequence", lengths))]


def invert_permutation(permutation):
    """The permutation that undoes `permutation` (an int64 Tensor, or None). As PyTorch's."""
    if permutation is None:
        return None
    order = np.asarray(permutation.numpy() if isinstance(permutation, Tensor) else permutation)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size, dtype=order.dtype)
    return ag.from_numpy(inverse)


_PackedSequenceFields = namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(_PackedSequenceFields):
    """Sequences of different lengths packed for a recurrent layer (see the module docstring): `data`,
    `batch_sizes` (int64, one per time step), and `sorted_indices` / `unsorted_indices`, the order
    that sorted the batch by decreasing length and its inverse (None if it was already sorted). A
    named tuple, as PyTorch's; build one with pack_padded_sequence or pack_sequence."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """The same sequences with `data` converted by Tensor.to (a dtype, or "cpu")."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, self.batch_sizes, self.sorted_indices,
                                                         self.unsorted_indices)

    def cpu(self):
        """Itself: everything is on the CPU."""
        return self

    def double(self):
        """The same sequences with float64 data."""
        return self.to(ag.float64)

    def float(self):
        """The same sequences with float32 data."""
        return self.to(ag.float32)

    @property
    def is_cuda(self):
        """False: there is only the CPU."""
        return False

    def is_pinned(self):
        """False, as for any CPU tensor that is not pinned."""
        return False


def _lengths_array(op, lengths):
    lengths = np.asarray(lengths.numpy() if isinstance(lengths, Tensor) else lengths)
    if lengths.ndim != 1 or (lengths.size and lengths.dtype.kind not in "iuf"):
        raise ag.ShapeError(f"{op}: lengths must be a 1-D sequence of integers, got {lengths!r}")
    return lengths.astype(np.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (L, B, *) ((B, L, *) with batch_first) whose sequence i is lengths[i] long.
    With enforce_sorted the lengths must decrease; otherwise the batch is sorted here, and the order
    kept in the result (a recurrent layer gives its final states back in the original order).
    Differentiable in input. As torch.nn.utils.rnn.pack_padded_sequence."""
    op = "pack_padded_sequence"
    lengths = _lengths_array(op, lengths)
    batch_dim = 0 if batch_first else 1
    if input.ndim < 2:
        raise ag.ShapeError(f"{op}: expected a padded batch of at least 2 dims, got shape {tuple(input.shape)}")
    batch, steps = input.shape[batch_dim], input.shape[1 - batch_dim]
    if lengths.size != batch:
        raise ag.ShapeError(f"{op}: expected `len(lengths)` to be equal to batch_size, but got {lengths.size} "
                            f"(batch_size={batch}, input of shape {tuple(input.shape)})")
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise ag.ArgumentError(f"{op}: `lengths` array must be sorted in decreasing order when `enforce_sorted` "
                                   f"is True, got {lengths.tolist()}. You can pass `enforce_sorted=False` to "
                                   "pack_padded_sequence and/or pack_sequence to sidestep this requirement")
        sorted_indices = None
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = ag.from_numpy(order)
        lengths = lengths[order]
        input = input.index_select(batch_dim, sorted_indices)
    if batch and lengths[-1] <= 0:
        raise ag.ArgumentError(f"{op}: length of all samples has to be greater than 0, but found an element in "
                               f"'lengths' that is <= 0 (lengths {lengths.tolist()})")
    if batch and lengths[0] > steps:
        raise ag.ShapeError(f"{op}: a length of {lengths[0]} is longer than the {steps} time steps of the input of "
                            f"shape {tuple(input.shape)}")
    if batch_first:
        input = input.transpose(0, 1)
    running = np.arange(lengths[0] if batch else 0)[:, None] < lengths   # (steps, batch): True while running
    batch_sizes = ag.from_numpy(running.sum(1).astype(np.int64))
    return PackedSequence(input[:len(running)][running], batch_sizes, sorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of pack_padded_sequence: (padded (L, B, *) ((B, L, *) with batch_first), lengths
    int64 (B,)), in the batch's original order; L is the longest length, or total_length. As
    torch.nn.utils.rnn.pad_packed_sequence."""
    batch_sizes = sequence.batch_sizes.numpy()
    steps, batch = len(batch_sizes), (int(batch_sizes[0]) if len(batch_sizes) else 0)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"pad_packed_sequence: expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max sequence length being "
                             f"{steps}")
        steps = total_length
    running = np.arange(batch) < np.pad(batch_sizes, (0, steps - len(batch_sizes)))[:, None]  # (steps, batch)
    data = sequence.data
    # each padded position reads its row of data, or the extra padding row appended after the data
    source = np.full(running.shape, data.shape[0], np.int64)
    source[running] = np.arange(data.shape[0])
    filler = ag.full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype)
    padded = ag.cat([data, filler])[source]
    lengths = running.sum(0).astype(np.int64)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths[sequence.unsorted_indices.numpy()]
    return (padded.transpose(0, 1) if batch_first else padded), ag.from_numpy(lengths)


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of sequences (L_i, *) (decreasing lengths, unless enforce_sorted is False). As
    torch.nn.utils.rnn.pack_sequence."""
    lengths = [sequence.shape[0] for sequence in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences in a PackedSequence, in their original order. As
    torch.nn.utils.rnn.unpack_sequence."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
