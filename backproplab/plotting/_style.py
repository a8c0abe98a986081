"""The course's one look: the Okabe-Ito palette, the rc settings, and figure helpers.

Every plotting helper draws inside :func:`styled` (a ``matplotlib.rc_context`` with
:data:`STYLE`), so the course's figures look alike without changing the user's own
settings; :func:`use_style` applies the same settings globally for the student's own plots.

``matplotlib.pyplot`` is imported only when a figure is actually made (:func:`pyplot`).
"""

import contextlib
import functools

import matplotlib
import numpy as np
from matplotlib import colormaps, cycler
from matplotlib import colors as mcolors

__all__ = ["OKABE_ITO", "PALETTE", "STYLE", "use_style", "palette", "layer_colors", "light"]

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common form of
# colour blindness. The one place colours are defined.
OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}
PALETTE = tuple(OKABE_ITO.values())  # the colour cycle, in this order

# Roles used across the helpers, so "train" is always blue and "validation" always orange.
TRAIN, VAL = OKABE_ITO["blue"], OKABE_ITO["orange"]
ACCENT = OKABE_ITO["vermillion"]  # highlights, failures, wrong predictions, the best epoch
GRID = "#DDDDDD"
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")  # second cue besides colour, per class

SEQUENTIAL = "viridis"  # perceptually uniform and colour-blind safe
DIVERGING = "RdBu_r"  # ColorBrewer RdBu (colour-blind safe), blue < 0 < red

STYLE = {
    "figure.figsize": (5.0, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.constrained_layout.use": True,
    "figure.facecolor": "white",
    "axes.prop_cycle": cycler(color=PALETTE),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": GRID,
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "figure.titlesize": 12,
    "figure.titleweight": "bold",
    "lines.linewidth": 2.0,
    "lines.markersize": 5,
    "image.cmap": SEQUENTIAL,
    "image.interpolation": "nearest",
    "svg.hashsalt": "backproplab",  # deterministic SVG ids
}


def use_style():
    """Apply the course's look (palette, fonts, grid) to all later matplotlib figures."""
    matplotlib.rcParams.update(STYLE)


def pyplot():
    """``matplotlib.pyplot``, imported on first use (so importing this package stays light)."""
    import matplotlib.pyplot as plt
    return plt


@contextlib.contextmanager
def style_context():
    """Temporarily apply :data:`STYLE`, then put back exactly those settings.

    Unlike ``matplotlib.rc_context``, nothing else is rolled back: the first figure of a
    session sets up the backend (Jupyter's inline backend switches interactive mode on),
    and undoing that would stop figures from showing in the notebook.
    """
    saved = {key: matplotlib.rcParams[key] for key in STYLE}
    matplotlib.rcParams.update(STYLE)
    try:
        yield
    finally:
        matplotlib.rcParams.update(saved)


def styled(fn):
    """Run a plotting helper with :data:`STYLE` in effect (without changing global rcParams)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with style_context():
            return fn(*args, **kwargs)
    return wrapper


def palette(n):
    """``n`` colours: the Okabe-Ito cycle, repeated if ``n`` > 8."""
    return [PALETTE[i % len(PALETTE)] for i in range(n)]


def layer_colors(n):
    """``n`` colours of the sequential map, one per layer from input to output (the last
    stops at 80 % of the map, short of its palest yellow)."""
    return colormaps[SEQUENTIAL](np.linspace(0.0, 0.8, n))


def light(color, amount=0.65):
    """``color`` mixed with white (``amount`` = 1 is white): region fills, box backgrounds."""
    rgb = np.array(mcolors.to_rgb(color))
    return tuple(rgb + (1.0 - rgb) * amount)


def new_axes(ax=None, figsize=None):
    """``(fig, ax)``: the given Axes and its figure, or a new single-panel figure."""
    if ax is not None:
        return ax.figure, ax
    fig, ax = pyplot().subplots(figsize=figsize)
    return fig, ax


def grid_shape(n, ncols):
    """(rows, cols) of a grid holding ``n`` panels, at most ``ncols`` per row."""
    ncols = max(1, min(int(ncols), n))
    return -(-n // ncols), ncols


def as_array(a, name):
    """A float ndarray from an array, a Parameter (``.data``) or a list."""
    a = getattr(a, "data", a)
    try:
        return np.asarray(a, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be numeric, got {type(a).__name__}") from None


def in_eval_mode(model, fn):
    """Call ``fn()`` with ``model`` in eval mode (if it has modes), then restore its mode."""
    if not (hasattr(model, "training") and hasattr(model, "train")):
        return fn()
    was_training = model.training
    model.eval()
    try:
        return fn()
    finally:
        model.train(was_training)
