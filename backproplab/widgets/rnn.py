"""``rnn_gradient_explorer()``: how much of a gradient survives k steps back through time.

Every update builds a fresh ``RNN(4, 32)`` whose recurrent matrix W_hh has the chosen spectral
radius (orthogonal, or a random Gaussian matrix), runs it on 16 random one-hot sequences scaled
by the input scale, and plots :func:`backproplab.diagnostics.gradient_through_time` with the
bound sigma_max**k and the spectral radius's rho**k. It follows the hand: one update is a
forward and backward pass through at most 120 steps and a redraw of three curves.
"""

from __future__ import annotations

import numpy as np

from ..data import make_memory_task
from ..diagnostics import gradient_through_time
from ..recurrent import RNN
from ._base import (Explorer, dropdown, float_slider, fmt, int_slider, lean_log_axis,
                    steady_log_range)

__all__ = ["rnn_gradient_explorer", "RNNGradientExplorer", "recurrent_matrix"]

HIDDEN, SYMBOLS, BATCH, SEED = 32, 4, 16, 0
MAX_STEPS = 120
WEIGHTS = ("orthogonal", "random (Gaussian)")


def recurrent_matrix(kind, rho, hidden=HIDDEN, seed=SEED):
    """An (hidden, hidden) matrix with spectral radius ``rho``: ``rho`` times an orthogonal
    matrix (every singular value is then ``rho`` too), or a Gaussian matrix scaled to it
    (whose largest singular value is well above ``rho``: 1.7 ``rho`` for the 32 × 32 matrix
    of seed 0, tending to twice ``rho`` for large matrices)."""
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
    the Jacobians; near 0 for saturated units), ``verdict`` (a sentence on ``reach``:
    below 0.1 vanishing, above 10 exploding).
    """

    name = "rnn-gradient-explorer"
    title = "Backpropagation through time: the gradient k steps back, for a fresh RNN(4, 32)"
    question = ("at ρ = 0.9 with orthogonal weights, how much of the gradient at the last step "
                "is left 59 steps back: about 0.9^59 ≈ 0.002, more, or less? And at ρ = 1.5?")
    look_for = ("the measured curve against the dashed bound σ_max^k. With orthogonal weights "
                "every singular value is ρ, so the curve falls below the bound only because "
                "tanh′ < 1; with random weights σ_max is about 1.7ρ and the bound is loose. "
                "Then raise the input scale at ρ = 1.5: saturated units (tanh′ near 0) turn "
                "an exploding curve into a vanishing one.")
    live = True
    figsize = (9.6, 3.6)

    def make_controls(self):
        return {
            "rho": float_slider("spectral radius ρ of W_hh", 0.9, 0.2, 4.0, 0.1),
            "weights": dropdown("W_hh", list(WEIGHTS), "orthogonal"),
            "input_scale": float_slider("input scale", 1.0, 0.0, 10.0, 0.5),
            "steps": int_slider("sequence length T", 60, 5, MAX_STEPS, 5),
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
        states = rnn.cache[2]  # the hidden states of that forward pass, (N, T, H)
        slope = float(np.mean(1 - states ** 2))  # the average tanh' factor of the Jacobians
        reach = float(curve[-1])
        per_step = reach ** (1.0 / (steps - 1)) if reach > 0 else 0.0
        # judged by what reaches the first step, not by the factor per step: 1.06 a step
        # sounds harmless, but over 59 steps it is 30 times the gradient
        if reach < 0.1:
            verdict = "vanishing: the early steps get almost nothing"
        elif reach > 10:
            verdict = "exploding: the early steps get a far larger gradient"
        else:
            verdict = "near the edge: the gradient keeps roughly its size"
        return {"rho": rho, "weights": kind, "input_scale": scale, "steps": steps,
                "curve": curve, "reach": reach, "per_step": per_step,
                "sigma_max": float(np.linalg.norm(W, 2)),
                "radius": float(np.abs(np.linalg.eigvals(W)).max()),
                "tanh_slope": slope, "verdict": verdict}

    def scene(self):  # the legend names the kind of W_hh
        return self.values["weights"]

    def build(self, fig):
        from ..plotting._style import OKABE_ITO

        v = self.values
        ax = fig.subplots()
        fig.subplots_adjust(left=0.09, right=0.98, bottom=0.15, top=0.88)
        empty = np.full(MAX_STEPS, np.nan)
        k = np.arange(MAX_STEPS)
        (self._curve,) = ax.plot(k, empty, color=OKABE_ITO["blue"],
                                 label=f"measured, {v['weights']} W_hh")
        (self._bound,) = ax.plot(k, empty, color=OKABE_ITO["blue"], ls="--", lw=1.2,
                                 label="bound σ_max^k")
        (self._rho,) = ax.plot(k, empty, color=OKABE_ITO["orange"], ls=":", lw=1.5,
                               label="ρ^k" + (" (= σ_max^k)" if v["weights"] == "orthogonal"
                                               else ""))
        self.moving(self._curve, self._bound, self._rho)
        ax.set_yscale("log")
        ax.set_xlim(0, MAX_STEPS - 1)
        ax.set(xlabel="steps back in time k",
               ylabel="||δh_(T-k)|| / ||δh_T|| (log scale)")
        self._ylim = None
        self._limits(ax)
        ax.legend(loc="lower left")  # a fixed place: "best" would follow the curves
        self._title = self.moving(ax.set_title(" ", fontsize=10))

    def _limits(self, ax):
        """Keep the y range while the curve fits it; True if it changed."""
        curve = self.values["curve"]
        ylim = steady_log_range(curve[curve > 1e-300], self._ylim, margin=0.1)
        if ylim == self._ylim:
            return False
        ax.set_ylim(*ylim)
        lean_log_axis(ax.yaxis)
        self._ylim = ylim
        return True

    def refresh(self):
        v = self.values
        k = np.arange(v["steps"])
        with np.errstate(over="ignore"):
            self._curve.set_data(k, np.where(v["curve"] > 1e-300, v["curve"], np.nan))
            self._bound.set_data(k, v["sigma_max"] ** k)
            self._rho.set_data(k, v["radius"] ** k)
        self._title.set_text(f"ρ = {fmt(v['rho'], 3)}, σ_max = {fmt(v['sigma_max'], 3)}, "
                             f"input scale {fmt(v['input_scale'], 3)}, T = {v['steps']}")
        if self._limits(self._curve.axes):  # the curve left the axis: a new background
            self.restage()

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
