"""Activation checkpointing, as `torch.utils.checkpoint`: PyTorch recomputes a checkpointed segment's
activations in backward instead of keeping them, trading compute for memory. ndgrad runs the segment
once and keeps what its ops save, so the results and gradients are the same and only the memory saving
is missing; the functions exist so that code using them runs."""

__all__ = ["checkpoint", "checkpoint_sequential"]


def checkpoint(function, *args, use_reentrant=None, context_fn=None, determinism_check="default", debug=False,
               preserve_rng_state=True, **kwargs):
    """function(*args, **kwargs), as `torch.utils.checkpoint.checkpoint` computes it."""
    return function(*args, **kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """The modules (or functions) of `functions` (a Sequential or a list) applied in turn to `input`, as
    `torch.utils.checkpoint.checkpoint_sequential` computes it."""
    for function in (functions.children() if hasattr(functions, "children") else functions):
        input = function(input)
    return input
