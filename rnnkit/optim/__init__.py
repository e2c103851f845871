"""``rnnkit.optim``: PyTorch's optimizers and learning-rate schedulers, on NumPy.

Same names, arguments, update rules and ``state_dict`` layout as ``torch.optim``
(checked against torch 2.13 in ``tests/test_optim_torch.py``).
"""
from rnnkit.optim.optimizer import Optimizer
from rnnkit.optim.sgd import SGD
from rnnkit.optim.adam import Adam, AdamW
from rnnkit.optim.rmsprop import RMSprop
from rnnkit.optim.adagrad import Adagrad
from rnnkit.optim import lr_scheduler

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]
