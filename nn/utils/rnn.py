"""nn.utils.rnn: batching sequences of different lengths, as torch.nn.utils.rnn."""
import autograd as ag
from autograd import Tensor

__all__ = ["pad_sequence"]


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
