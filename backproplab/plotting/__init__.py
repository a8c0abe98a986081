"""The course's figures, drawn with matplotlib in one colour-blind-safe look (Okabe-Ito).

``import backproplab`` does not load this package (nor matplotlib.pyplot); import it when
you want pictures::

    from backproplab.plotting import plot_history, draw_graph

Conventions
-----------
* Single-panel helpers take ``ax=`` (draw into your Axes) and return the Axes:
  :func:`plot_decision_boundary`, :func:`plot_probability_map`, :func:`plot_fit`,
  :func:`plot_loss_surface`, :func:`draw_graph`, :func:`plot_confusion_matrix`,
  :func:`plot_gradient_through_time`, :func:`plot_reliability_diagram`.
* Multi-panel helpers return the Figure: :func:`plot_activation`, :func:`plot_history`,
  :func:`plot_gradient_flow`, :func:`plot_activation_stats`, :func:`plot_gradcheck`,
  :func:`show_images`, :func:`plot_weights_as_images`.
* Every helper draws with :data:`STYLE` in effect, without changing your global settings;
  :func:`use_style` applies it to your own figures too. Colours: :data:`OKABE_ITO`.
* Models are evaluated in eval mode and returned to the mode they were in.
"""

from ._style import OKABE_ITO, PALETTE, STYLE, use_style
from .activations import plot_activation, plot_activation_stats
from .calibration import plot_reliability_diagram
from .checks import plot_gradcheck
from .graph import draw_graph, graph_layout
from .images import plot_weights_as_images, show_images
from .models import (plot_confusion_matrix, plot_decision_boundary, plot_fit,
                     plot_probability_map)
from .sequences import plot_gradient_through_time
from .surface import plot_loss_surface
from .training import plot_gradient_flow, plot_history

__all__ = [
    "OKABE_ITO", "PALETTE", "STYLE", "use_style",
    "plot_activation", "plot_activation_stats", "plot_history", "plot_gradient_flow",
    "plot_decision_boundary", "plot_probability_map", "plot_fit", "plot_confusion_matrix",
    "plot_reliability_diagram",
    "plot_loss_surface",
    "draw_graph", "graph_layout", "plot_gradcheck", "show_images", "plot_weights_as_images",
    "plot_gradient_through_time",
]
