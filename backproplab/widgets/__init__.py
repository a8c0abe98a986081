"""Interactive explorers for JupyterLab (ipywidgets 8): move a control, see the library recompute.

Each function returns a widget to display; ``widget.explorer`` is the object behind it, with
``controls`` (name -> widget), ``values`` (the numbers on screen), ``image`` (the PNG picture)
and ``update()``.

* :func:`neuron_playground` - one neuron's output over the input plane.
* :func:`learning_rate_explorer` - gradient descent's path for a learning rate and momentum.
* :func:`backprop_stepper` - the backward pass of a ``Value`` expression, one node at a time.
* :func:`vanishing_gradient_explorer` - gradient norm per layer of a fresh deep network.
* :func:`overfitting_explorer` - capacity, data and regularisation vs validation error.
* :func:`loss_landscape_explorer` - move a line's slope and intercept, watch MSE or MAE.
* :func:`rnn_gradient_explorer` - the gradient of a recurrent network k steps back in time.
"""

from ._base import Explorer, ExplorerWidget, figure_to_png
from .learning_rate import LearningRateExplorer, learning_rate_explorer
from .loss_landscape import LossLandscapeExplorer, loss_landscape_explorer
from .neuron import NeuronPlayground, neuron_playground
from .overfitting import OverfittingExplorer, overfitting_explorer
from .rnn import RNNGradientExplorer, rnn_gradient_explorer
from .stepper import BackpropStepper, backprop_stepper
from .vanishing import VanishingGradientExplorer, vanishing_gradient_explorer

__all__ = [
    "neuron_playground", "learning_rate_explorer", "backprop_stepper",
    "vanishing_gradient_explorer", "overfitting_explorer", "loss_landscape_explorer",
    "rnn_gradient_explorer", "NeuronPlayground", "LossLandscapeExplorer",
    "LearningRateExplorer", "BackpropStepper", "VanishingGradientExplorer",
    "OverfittingExplorer", "RNNGradientExplorer", "Explorer", "ExplorerWidget",
    "figure_to_png",
]
