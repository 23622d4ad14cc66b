"""Optimizers (module 06) and learning-rate schedules (module 07), as in ``torch.optim``."""

from tinytorch.optim import lr_scheduler
from tinytorch.optim.adadelta import Adadelta
from tinytorch.optim.adam import Adam
from tinytorch.optim.adamw import AdamW
from tinytorch.optim.lbfgs import LBFGS
from tinytorch.optim.optimizer import Optimizer
from tinytorch.optim.rmsprop import RMSprop
from tinytorch.optim.sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler", "Adadelta", "LBFGS"]
