"""nn.DataParallel, as torch.nn.DataParallel without GPUs: a wrapper that calls its module (so the
state dict's names gain the `module.` prefix, as PyTorch's do). Code that wraps a model when several
GPUs are present (`if torch.cuda.device_count() > 1: model = nn.DataParallel(model)`) runs unchanged,
and so does code that always wraps."""
from .module import Module


class DataParallel(Module):
    """Run `module` on the batch (on the CPU, the only device: `device_ids` is empty, as PyTorch's is
    without GPUs). `.module` is the wrapped model."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.device_ids = []
        self.output_device = None
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
