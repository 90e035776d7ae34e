"""ndgrad's nn: PyTorch-style modules, layers, losses, optimizers, data and training, built only
from autograd's public API.

`nn.functional`, `nn.init`, `nn.optim`, `nn.data` and `nn.utils` are submodules, imported on first
use (so `import nn` stays quick and `nn.optim.SGD` works without importing nn.optim yourself).
"""
import importlib

from autograd import __version__  # noqa: F401  (one version for the whole distribution)
from .parameter import Buffer, Parameter
from .module import Module
from .containers import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .parallel import DataParallel
from .modules import *  # noqa: F401,F403  (layers, activations, losses)
from .summary import summary
from .layer_statistics import LayerStatistics, tensor_statistics

_SUBMODULES = {"functional", "init", "optim", "data", "utils", "serialization", "train", "attention"}
_FROM_SUBMODULE = {"save": "serialization", "load": "serialization"}


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _FROM_SUBMODULE:
        return getattr(importlib.import_module(f"{__name__}.{_FROM_SUBMODULE[name]}"), name)
    raise AttributeError(f"module 'nn' has no attribute {name!r}")
