"""backproplab: learn backpropagation by running, breaking and fixing it.

``import backproplab`` is cheap: it loads numpy and the library's core only. The plotting
helpers (matplotlib) and the explorers (ipywidgets) load when you import
``backproplab.plotting`` or ``backproplab.widgets``.
"""

from . import data, diagnostics, functional, gradcheck, init, losses, metrics, optim, train
from ._validate import NonFiniteError, ShapeError
from .functional import log_softmax, logsumexp, sigmoid, softmax
from .init import manual_seed
from .layers import (BatchNorm1d, Dropout, LeakyReLU, Linear, Module, Parameter, ReLU,
                     Residual, Sequential, Sigmoid, Tanh)
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, L1Loss, MSELoss, MultiMarginLoss
from .recurrent import RNN, LastStep
from .scalar import Value
from .train import EarlyStopping, History, fit

__version__ = "0.1.0"
