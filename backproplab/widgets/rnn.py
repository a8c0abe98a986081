"""``rnn_gradient_explorer()``: how much of a gradient survives k steps back through time.

Every update builds a fresh ``RNN(4, 32)`` whose recurrent matrix W_hh has the chosen spectral
radius (orthogonal, or a random Gaussian matrix), runs it on random one-hot sequences scaled by
the input scale, and plots :func:`backproplab.diagnostics.gradient_through_time` with the bound
sigma_max**k and the spectral radius's rho**k.
"""

from __future__ import annotations

import numpy as np

from ..data import make_memory_task
from ..diagnostics import gradient_through_time
from ..recurrent import RNN
from ._base import Explorer, dropdown, float_slider, fmt, int_slider

__all__ = ["rnn_gradient_explorer", "RNNGradientExplorer", "recurrent_matrix"]

HIDDEN, SYMBOLS, BATCH, SEED = 32, 4, 64, 0
WEIGHTS = ("orthogonal", "random (Gaussian)")


def recurrent_matrix(kind, rho, hidden=HIDDEN, seed=SEED):
    """An (hidden, hidden) matrix with spectral radius ``rho``: ``rho`` times an orthogonal
    matrix (every singular value is then ``rho`` too), or a Gaussian matrix scaled to it
    (whose largest singular value is about twice ``rho``)."""
    draw = np.random.default_rng(seed).standard_normal((hidden, hidden))
    if kind == "orthogonal":
        q, r = np.linalg.qr(draw)
        return rho * q * np.sign(np.diag(r))
    if kind == "random (Gaussian)":
        return draw * (rho / np.abs(np.linalg.eigvals(draw)).max())
    raise ValueError(f"kind must be one of {WEIGHTS}, got {kind!r}")


class RNNGradientExplorer(Explorer):
    """Spectral radius, kind of W_hh, input scale and sequence length vs the gradient that
    reaches each step back in time.

    ``values``: ``rho``, ``weights``, ``input_scale``, ``steps`` (the controls),
    ``curve`` (array, entry k = ||dL/dh_(T-k)|| / ||dL/dh_T||), ``reach`` (its last entry,
    k = T - 1), ``per_step`` (the average factor per step, reach ** (1 / (T - 1))),
    ``sigma_max`` (largest singular value of W_hh), ``radius`` (its spectral radius),
    ``tanh_slope`` (the mean of 1 - h**2 over every hidden state: the average tanh' factor in
    the Jacobians; near 0 for saturated units), ``verdict`` (a sentence).
    """

    name = "rnn-gradient-explorer"
    title = "Backpropagation through time: the gradient k steps back, for a fresh RNN(4, 32)"
    figsize = (9.6, 3.6)

    def make_controls(self):
        return {
            "rho": float_slider("spectral radius ρ of W_hh", 0.9, 0.2, 4.0, 0.1),
            "weights": dropdown("W_hh", list(WEIGHTS), "orthogonal"),
            "input_scale": float_slider("input scale", 1.0, 0.0, 10.0, 0.5),
            "steps": int_slider("sequence length T", 60, 5, 120, 5),
        }

    def control_rows(self):
        c = self.controls
        return [[c["rho"], c["weights"]], [c["input_scale"], c["steps"]]]

    def compute(self):
        c = self.controls
        rho, kind = float(c["rho"].value), c["weights"].value
        scale, steps = float(c["input_scale"].value), int(c["steps"].value)
        rnn = RNN(SYMBOLS, HIDDEN, rng=np.random.default_rng(SEED + 1))
        W = recurrent_matrix(kind, rho)
        rnn.W_hh.data[...] = W
        X, _ = make_memory_task(BATCH, steps - 1, SYMBOLS, seed=SEED + 2)
        X *= scale
        curve = gradient_through_time(rnn, X)
        slope = float(np.mean(1 - rnn(X) ** 2))  # the average tanh' factor of the Jacobians
        reach = float(curve[-1])
        per_step = reach ** (1.0 / (steps - 1)) if reach > 0 else 0.0
        if per_step < 0.9:
            verdict = "vanishing: the early steps get almost nothing"
        elif per_step > 1.1:
            verdict = "exploding: the early steps get a far larger gradient"
        else:
            verdict = "near the edge: the gradient keeps roughly its size"
        return {"rho": rho, "weights": kind, "input_scale": scale, "steps": steps,
                "curve": curve, "reach": reach, "per_step": per_step,
                "sigma_max": float(np.linalg.norm(W, 2)),
                "radius": float(np.abs(np.linalg.eigvals(W)).max()),
                "tanh_slope": slope, "verdict": verdict}

    def draw(self, fig):
        from ..plotting import plot_gradient_through_time
        from ..plotting._style import OKABE_ITO

        v = self.values
        k = np.arange(v["steps"])
        ax = fig.subplots()
        fig.subplots_adjust(left=0.09, right=0.98, bottom=0.15, top=0.88)
        label = f"measured, {v['weights']} W_hh"
        plot_gradient_through_time({label: v["curve"]}, {label: v["sigma_max"] ** k}, ax=ax,
                                   title=f"ρ = {fmt(v['rho'], 3)}, σ_max = "
                                         f"{fmt(v['sigma_max'], 3)}, input scale "
                                         f"{fmt(v['input_scale'], 3)}, T = {v['steps']}")
        ax.plot(k, v["radius"] ** k, color=OKABE_ITO["orange"], ls=":", lw=1.5, label="ρ^k")
        ax.legend(loc="best")

    def readout_html(self):
        v = self.values
        return (f"after {v['steps'] - 1} steps back: <b>||δh|| ratio "
                f"<span class='bpl-value'>{fmt(v['reach'], 3)}</span></b>, about "
                f"{fmt(v['per_step'], 3)} per step → {v['verdict']}<br>"
                f"bound σ_max^k = {fmt(v['sigma_max'] ** (v['steps'] - 1), 3)} · "
                f"ρ^k = {fmt(v['radius'] ** (v['steps'] - 1), 3)} · mean tanh' factor "
                f"1 − h² = {v['tanh_slope']:.2f}")


def rnn_gradient_explorer():
    """Spectral radius and kind of W_hh, input scale and sequence length vs the gradient of
    a fresh RNN k steps back in time (log scale); returns the widget.

    ``widget.explorer`` is the :class:`RNNGradientExplorer`.
    """
    return RNNGradientExplorer().widget
