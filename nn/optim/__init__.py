"""nn.optim: optimizers and learning-rate schedulers, as torch.optim."""
from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam, Adamax, AdamW, NAdam, RAdam
from .rmsprop import RMSprop
from .adadelta import Adadelta
from .adagrad import Adagrad
from .asgd import ASGD
from .rprop import Rprop
from .lbfgs import LBFGS
from . import lr_scheduler, swa_utils

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop", "Adadelta", "Adagrad", "ASGD", "Rprop", "LBFGS", "lr_scheduler", "swa_utils"]
