"""Activation functions and what they do inside a network.

* :func:`plot_activation`: f and f', computed by running the layer's forward and backward
  passes, so a student's own layer is drawn exactly as it behaves.
* :func:`plot_activation_stats`: histograms of each layer's outputs from a
  :class:`~backproplab.diagnostics.Monitor`, with the saturated / dead fractions.
"""

import numpy as np
from matplotlib.patches import Patch

from ..layers import LeakyReLU, ReLU, Sigmoid, Tanh
from . import _style as st

__all__ = ["plot_activation", "plot_activation_stats"]

# "leaky_relu" uses slope 0.1 so the slope is visible; pass LeakyReLU() for the default 0.01.
ACTIVATIONS = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": lambda: LeakyReLU(0.1),
}


def _as_layer(fn):
    """(layer, display name) from a name, a layer class or a layer instance."""
    if isinstance(fn, str):
        key = fn.lower().replace("-", "_").replace(" ", "_")
        if key not in ACTIVATIONS:
            raise ValueError(f"unknown activation {fn!r}; choose from {sorted(ACTIVATIONS)} "
                             "or pass a layer such as Tanh()")
        layer = ACTIVATIONS[key]()
    elif isinstance(fn, type):
        layer = fn()
    else:
        layer = fn
    if not (callable(getattr(layer, "forward", None))
            and callable(getattr(layer, "backward", None))):
        raise TypeError("plot_activation needs an activation name, or a layer with forward() "
                        f"and backward() methods, got {fn!r}")
    name = type(layer).__name__
    slope = getattr(layer, "negative_slope", None)
    if slope is not None:
        name += f" (slope {slope:g})"
    return layer, name


def activation_and_derivative(layer, x):
    """(f(x), f'(x)) of an element-wise layer: forward, then backward with grad_out = 1."""
    x = np.asarray(x, dtype=float)
    f = np.asarray(layer.forward(x), dtype=float)
    df = np.asarray(layer.backward(np.ones_like(f)), dtype=float)
    if f.shape != x.shape or df.shape != x.shape:
        raise ValueError(f"{type(layer).__name__} is not element-wise: input {x.shape}, "
                         f"output {f.shape}, gradient {df.shape}")
    return f, df


def _reference_lines(ax):
    ax.axhline(0, color="0.6", lw=0.8, zorder=1)
    ax.axvline(0, color="0.6", lw=0.8, zorder=1)


@st.styled
def plot_activation(fn, ax=None, xlim=(-5, 5), n=501, derivative=True, ncols=4):
    """Plot activation functions f (solid) and their derivatives f' (dashed).

    Parameters
    ----------
    fn : str, layer, or list of them
        "sigmoid", "tanh", "relu", "leaky_relu" (slope 0.1, so it shows), a layer class or
        instance (``Tanh()``, your own layer with ``forward``/``backward``), or a list.
        f' is what ``layer.backward(ones)`` returns: the derivative your code computes.
    ax : Axes, optional
        Draw every function into this Axes (one colour each). Without it, each function
        gets its own panel.
    xlim : (float, float)
        Range of x.
    n : int
        Number of points.
    derivative : bool
        Also draw f'.
    ncols : int
        Panels per row (without ``ax``).

    Returns
    -------
    Figure
    """
    fns = list(fn) if isinstance(fn, (list, tuple)) else [fn]
    if not fns:
        raise ValueError("plot_activation needs at least one activation")
    layers = [_as_layer(f) for f in fns]
    x = np.linspace(*xlim, n)
    if ax is not None:
        fig, axes = ax.figure, [ax] * len(layers)
        colors = st.palette(len(layers))
    else:
        rows, cols = st.grid_shape(len(layers), ncols)
        fig, grid = st.pyplot().subplots(rows, cols, figsize=(2.7 * cols, 2.5 * rows),
                                         squeeze=False)
        axes = grid.ravel()
        for extra in axes[len(layers):]:
            extra.set_visible(False)
        colors = [st.TRAIN] * len(layers)
    for (layer, name), axis, color in zip(layers, axes, colors):
        f, df = activation_and_derivative(layer, x)
        overlay = ax is not None
        axis.plot(x, f, color=color, label=f"{name}" if overlay else "f(z)")
        if derivative:
            axis.plot(x, df, color=color if overlay else st.VAL, ls="--",
                      label=f"{name}'" if overlay else "f'(z)")
        if not overlay:
            axis.set_title(name)
    for axis in (axes[:1] if ax is not None else axes[:len(layers)]):
        _reference_lines(axis)
        axis.set_xlabel("z (the pre-activation)")
        axis.legend(loc="upper left")
        axis.set_xlim(*xlim)
    if ax is not None:
        ax.set_ylabel("f(z), f'(z) dashed" if derivative else "f(z)")
        ax.set_title("Activation functions" if len(layers) > 1 else layers[0][1])
    else:
        for axis in axes[::cols][:rows]:
            axis.set_ylabel("f(z), f'(z)" if derivative else "f(z)")
    return fig


def _layer_kind(layer):
    if isinstance(layer, (Sigmoid, Tanh)):
        return "saturating"
    if isinstance(layer, (ReLU, LeakyReLU)):
        return "rectifier"
    return "other"


@st.styled
def plot_activation_stats(monitor, layers="activations", bins=40, ncols=5):
    """Histograms of every layer's outputs, and the saturated / dead fraction per layer.

    Parameters
    ----------
    monitor : diagnostics.Monitor
        After ``fit(..., callbacks=[monitor])`` or ``monitor.measure(loss_fn, x, y)``; its
        ``activations`` (outputs from the latest recorded step) are histogrammed.
    layers : "activations", "all", or list of layer names
        Which layers: by default the activation layers (Sigmoid, Tanh, ReLU, LeakyReLU),
        or every layer if the model has none.
    bins : int
    ncols : int
        Histograms per row.

    Returns
    -------
    Figure
        One histogram panel per layer (y: fraction of entries); the last row is a bar chart
        of the saturated (Sigmoid/Tanh outputs in their flat tails) and dead (ReLU units
        never active on the batch) fractions, which make gradients vanish.
    """
    acts = getattr(monitor, "activations", None)
    if not acts:
        raise ValueError("the monitor has no activations yet: pass it to fit(..., "
                         "callbacks=[monitor]) or call monitor.measure(loss_fn, x, y) first")
    by_name = dict(monitor.layers)
    if layers in ("activations", "all"):
        names = [n for n, _ in monitor.layers if n in acts]
        if layers == "activations":
            chosen = [n for n in names if _layer_kind(by_name[n]) != "other"]
            names = chosen or names
    else:
        names = [str(n) for n in layers]
        missing = [n for n in names if n not in acts]
        if missing:
            raise KeyError(f"no recorded activations for layers {missing}; "
                           f"recorded: {sorted(acts)}")
    saturated, dead = monitor.latest("saturated"), monitor.latest("dead")

    rows, cols = st.grid_shape(len(names), ncols)
    fig = st.pyplot().figure(figsize=(2.5 * cols + 0.5, 2.3 * rows + 2.4))
    gs = fig.add_gridspec(rows + 1, cols, height_ratios=[1] * rows + [1.05])
    for i, name in enumerate(names):
        ax = fig.add_subplot(gs[i // cols, i % cols])
        layer = by_name.get(name)
        out = np.asarray(acts[name], dtype=float).ravel()
        out = out[np.isfinite(out)]
        kind = _layer_kind(layer)
        color = {"saturating": st.TRAIN, "rectifier": st.OKABE_ITO["green"]}.get(kind, "0.45")
        ax.hist(out, bins=bins, weights=np.full(out.size, 1.0 / max(out.size, 1)),
                color=color, edgecolor="white", linewidth=0.3)
        title = f"{name} {type(layer).__name__}" if layer is not None else name
        ax.set_title(title, fontsize=10)
        lines = [f"mean {out.mean():.2g}, std {out.std():.2g}"] if out.size else ["no data"]
        if name in saturated:
            lines.append(f"saturated {saturated[name]:.0%}")
        if name in dead:
            lines.append(f"dead units {dead[name]:.0%}")
        ax.text(0.98, 0.97, "\n".join(lines), transform=ax.transAxes, ha="right", va="top",
                fontsize=7.5, bbox=dict(fc="white", ec="none", alpha=0.8, pad=1.5))
        ax.set_ylim(top=ax.get_ylim()[1] * 1.35)  # room for the text
        ax.set_xlabel("output value")
        if i % cols == 0:
            ax.set_ylabel("fraction")
        ax.grid(axis="x", visible=False)

    ax = fig.add_subplot(gs[rows, :])
    # one bar per layer: the saturated fraction of a Sigmoid/Tanh, the dead fraction of a ReLU
    all_names = [n for n, _ in monitor.layers if n in saturated or n in dead]
    pos = np.arange(len(all_names))
    relu_color = st.OKABE_ITO["green"]
    styles = [(st.TRAIN, None) if n in saturated else (relu_color, "//") for n in all_names]
    values = [saturated[n] if n in saturated else dead[n] for n in all_names]
    bars = ax.bar(pos, values, width=0.55, color=[c for c, _ in styles], edgecolor="white")
    for bar, (_, hatch), v in zip(bars, styles, values):
        bar.set_hatch(hatch)
        ax.annotate(f"{v:.0%}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    xytext=(0, 2), textcoords="offset points", ha="center", va="bottom",
                    fontsize=7.5)
    handles = []  # a legend entry only for the kinds of layer the network has
    if any(n in saturated for n in all_names):
        handles.append(Patch(fc=st.TRAIN, ec="white", label="saturated outputs (Sigmoid/Tanh)"))
    if any(n in dead for n in all_names):
        handles.append(Patch(fc=relu_color, ec="white", hatch="//", label="dead units (ReLU)"))
    many = len(all_names) > 8  # long names would overlap: rotate them
    ax.set_xticks(pos, [f"{n} {type(by_name[n]).__name__}" for n in all_names], fontsize=8,
                  rotation=60 if many else 0, ha="right" if many else "center")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("fraction")
    ax.set_xlabel("layer (input \u2192 output)")
    ax.set_title("Saturated and dead fractions", fontsize=10)
    if handles:
        ax.legend(handles=handles, loc="upper right", ncols=len(handles))
    fig.suptitle("Activation statistics")
    return fig
