"""Tensor.register_post_accumulate_grad_hook, as in PyTorch: hook(tensor) runs right after a backward
pass has accumulated into the leaf's `.grad`, so an optimizer can update that parameter at once
and free its gradient while backward goes on with the rest of the graph.

The hooks live on the leaf; the engine calls `run_post_accumulate_grad_hooks(leaf)` at the one place
where it accumulates a leaf's `.grad`. `autograd.grad`, which fills no `.grad`, runs none.
"""
from .function import RemovableHandle


def register_post_accumulate_grad_hook(tensor, hook):
    """Register hook(tensor) on a leaf that requires grad; returns a handle with `.remove()`."""
    if not tensor.requires_grad:
        raise RuntimeError("register_post_accumulate_grad_hook: cannot register a hook on a tensor that does not "
                           "require grad")
    if tensor.grad_fn is not None:
        raise RuntimeError(f"register_post_accumulate_grad_hook: post accumulate grad hooks cannot be registered on "
                           f"non-leaf tensors (this one was made by {tensor.grad_fn.name()}); register them on the "
                           "leaf, or use register_hook")
    hooks = tensor._post_accumulate_grad_hooks
    if hooks is None:
        hooks = tensor._post_accumulate_grad_hooks = []
    hooks.append(hook)
    return RemovableHandle(hooks, hook)


def run_post_accumulate_grad_hooks(leaf):
    """Called by the engine right after it has accumulated into leaf.grad."""
    hooks = leaf._post_accumulate_grad_hooks
    if not hooks:
        return
    for hook in list(hooks):
        if hook(leaf) is not None:
            raise RuntimeError(f"a post accumulate grad hook (on a leaf of shape {leaf.shape}) returned a value; "
                               "it should return None, and change leaf.grad in place if it must")
