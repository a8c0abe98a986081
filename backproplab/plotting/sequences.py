"""Figures for recurrent networks: how a gradient fares as it travels back in time."""

import numpy as np

from . import _style as st

__all__ = ["plot_gradient_through_time"]


@st.styled
def plot_gradient_through_time(curves, bounds=None, ax=None, title=None):
    """Gradient norm against the number of steps back in time, on a log scale.

    Parameters
    ----------
    curves : dict {label: array of shape (K,)}
        Entry k of each array is the gradient's norm k steps before the last one (as
        :func:`backproplab.diagnostics.gradient_through_time` returns it, relative to step 0).
    bounds : dict {label: array of shape (K,)}, optional
        An upper bound for the curve of the same label, drawn dashed in its colour (e.g.
        ``sigma_max ** k``).
    ax : Axes, optional
    title : str, optional

    Returns
    -------
    Axes
        Values below 1e-300 (or 0) are left out, since a log axis cannot show them.
    """
    if not curves:
        raise ValueError("nothing to plot: curves is empty")
    bounds = bounds or {}
    unknown = set(bounds) - set(curves)
    if unknown:
        raise ValueError(f"bounds for labels that have no curve: {sorted(unknown)}")
    fig, ax = st.new_axes(ax, figsize=(6.0, 3.8))
    lows, highs = [], []
    for color, (label, values) in zip(st.palette(len(curves)), curves.items()):
        values = st.as_array(values, label)
        shown = np.where(values > 1e-300, values, np.nan)
        ax.plot(np.arange(len(values)), shown, color=color, label=label)
        if np.isfinite(shown).any():
            lows.append(np.nanmin(shown))
            highs.append(np.nanmax(shown))
        if label in bounds:
            bound = st.as_array(bounds[label], f"bound of {label}")
            ax.plot(np.arange(len(bound)), np.where(bound > 1e-300, bound, np.nan),
                    color=color, ls="--", lw=1.2)
    ax.set_yscale("log")
    if lows:  # the curves decide the range; a bound may leave it
        ax.set_ylim(min(lows) / 10 ** 0.5, max(highs) * 10 ** 0.5)
    ax.set_xlabel("steps back in time, k")
    ax.set_ylabel("gradient norm (log scale)")
    if bounds:
        ax.plot([], [], color="0.4", ls="--", lw=1.2, label="bound")
    ax.legend(loc="best")
    ax.set_title(title or "The gradient k steps back in time")
    return ax
