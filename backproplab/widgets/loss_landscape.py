"""``loss_landscape_explorer()``: move a line's slope and intercept, see the fit and the loss.

The model is ``y_hat = w x + b`` (a backproplab ``Linear(1, 1)``); the loss is MSE
(``backproplab.MSELoss``) or MAE (mean absolute error). The picture shows, side by side, the
line through the data with its residuals, the loss as a function of ``w`` alone (``b`` held
at the slider's value) with the tangent whose slope is dL/dw, and the loss surface over
``(w, b)`` with the current point. The gradient comes from the library's backward pass.
"""

from __future__ import annotations

import numpy as np

from ..data import make_polynomial
from ..layers import Linear
from ..losses import MSELoss
from ._base import (FINE_STEPS, Explorer, checkbox, dropdown, float_slider, fmt,
                    nice_ceiling)

__all__ = ["loss_landscape_explorer", "LossLandscapeExplorer", "LOSSES", "default_data",
           "landscape"]

LOSSES = ("MSE", "MAE")
W_RANGE = (-2.0, 6.0)
B_RANGE = (-3.0, 4.0)
GRID = 161  # points per axis of the (w, b) grid used for the minimum


def default_data():
    """20 noisy points on y = 2x + 0.5 over [-1, 1]: x (20, 1), y (20,)."""
    return make_polynomial(n_samples=20, degree=1, coef=(0.5, 2.0), noise=0.3, seed=0)


def landscape(x, y, kind, w, b):
    """The loss of the line (w, b) on (x, y); w and b may be same-shaped arrays (a grid)."""
    w, b = np.asarray(w, dtype=np.float64), np.asarray(b, dtype=np.float64)
    r = w[..., None] * x + b[..., None] - y
    return np.mean(r * r, axis=-1) if kind == "MSE" else np.mean(np.abs(r), axis=-1)


class LossLandscapeExplorer(Explorer):
    """A line y_hat = w x + b, its loss (MSE or MAE) and the loss landscape over (w, b).

    ``outlier_point``: the (x, y) the checkbox adds, well below the other points.
    ``values``: ``w``, ``b``, ``loss_kind``, ``outlier`` (bool), ``loss``, ``dL_dw``,
    ``dL_db`` (gradients from the library's backward pass), ``w_best``, ``b_best``,
    ``loss_best`` (the minimum over the explorer's (w, b) grid), ``n`` (number of points).
    """

    name = "loss-landscape-explorer"
    title = "The loss landscape of a line ŷ = w·x + b: move a parameter, see the fit and the loss"
    question = ("at the start (w = 0) the tangent in the middle panel slopes down: which way "
                "must w move to lower the loss? And which way will the best line tilt when one "
                "point becomes an outlier?")
    look_for = ("the tangent is flat exactly at the bottom of the curve; the orange dot "
                "reaches the gold star when the residuals are as small as they can be; an "
                "outlier drags MSE's best line much further than MAE's.")
    live = True
    figsize = (11.0, 3.6)

    def __init__(self, x=None, y=None, w=0.0, b=0.0, loss="MSE", outlier=False):
        if (x is None) != (y is None):
            raise ValueError("give both x and y, or neither (for the default data)")
        if x is None:
            x, y = default_data()
        self.x0 = np.asarray(x, dtype=np.float64).reshape(-1)
        self.y0 = np.asarray(y, dtype=np.float64).reshape(-1)
        if self.x0.shape != self.y0.shape or self.x0.size == 0:
            raise ValueError(f"x and y must hold the same number of points, got "
                             f"{self.x0.size} and {self.y0.size}")
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
        lo, hi = self.y0.min(), self.y0.max()
        span = hi - lo if hi > lo else 1.0
        # the point the "outlier" checkbox adds: far below the others, near the right end
        self.outlier_point = (float(np.quantile(self.x0, 0.95)), float(lo - 0.75 * span))
        self.ylim = (self.outlier_point[1] - 0.1 * span, hi + 0.15 * span)
        self._init = {"w": float(np.clip(w, *W_RANGE)), "b": float(np.clip(b, *B_RANGE)),
                      "loss": loss, "outlier": bool(outlier)}
        self._minima = {}
        super().__init__()

    def make_controls(self):
        i = self._init
        return {
            "w": float_slider("slope w", i["w"], *W_RANGE, 0.05),
            "b": float_slider("intercept b", i["b"], *B_RANGE, 0.05),
            "loss": dropdown("loss", list(LOSSES), i["loss"], width="160px"),
            "outlier": checkbox("add an outlier", i["outlier"]),
        }

    def control_rows(self):
        c = self.controls
        return [[c["w"], c["b"], c["loss"], c["outlier"]]]

    def data(self):
        """The points in use: (x (N,), y (N,)), with the outlier appended if it is on."""
        if self.controls["outlier"].value:
            return (np.append(self.x0, self.outlier_point[0]),
                    np.append(self.y0, self.outlier_point[1]))
        return self.x0, self.y0

    def minimum(self, kind, outlier):
        """(w, b, loss) at the lowest point of a GRID x GRID grid over the slider ranges."""
        key = (kind, outlier)
        if key not in self._minima:
            x, y = self.data()
            ws, bs = np.linspace(*W_RANGE, GRID), np.linspace(*B_RANGE, GRID)
            gw, gb = np.meshgrid(ws, bs)
            z = landscape(x, y, kind, gw, gb)
            i = np.unravel_index(np.argmin(z), z.shape)
            self._minima[key] = (float(gw[i]), float(gb[i]), float(z[i]))
        return self._minima[key]

    def compute(self):
        c = self.controls
        w, b, kind = float(c["w"].value), float(c["b"].value), c["loss"].value
        outlier = bool(c["outlier"].value)
        x, y = self.data()
        line = Linear(1, 1)
        line.W.data[:] = w
        line.b.data[:] = b
        pred = line(x[:, None])  # (N, 1)
        if kind == "MSE":
            loss_fn = MSELoss()
            loss = loss_fn(pred, y[:, None])
            grad = loss_fn.backward()
        else:  # mean absolute error: d|r|/dr = sign(r)
            r = pred - y[:, None]
            loss = float(np.mean(np.abs(r)))
            grad = np.sign(r) / r.size
        line.backward(grad)
        w_best, b_best, loss_best = self.minimum(kind, outlier)
        self.pred = pred[:, 0]
        return {"w": w, "b": b, "loss_kind": kind, "outlier": outlier, "loss": loss,
                "dL_dw": float(line.W.grad[0, 0]), "dL_db": float(line.b.grad[0]),
                "w_best": w_best, "b_best": b_best, "loss_best": loss_best, "n": len(x)}

    def slice_top(self, current=None):
        """The upper end of the middle panel's loss axis: ``current`` while the largest loss
        along w at the current b fits below it and reaches at least 40 % of it (so the axis
        stays put while b moves), otherwise that loss snapped up to a 1-1.5-2-3-5-7 step."""
        x, y = self.data()
        ws = np.linspace(*W_RANGE, 81)
        b = np.full_like(ws, self.values["b"])
        top = max(float(landscape(x, y, self.values["loss_kind"], ws, b).max()), 1e-3)
        if current is not None and 0.4 * current <= top <= current:
            return current
        return nice_ceiling(top, FINE_STEPS)

    def scene(self):
        return self.values["loss_kind"], self.values["outlier"]

    def build(self, fig):
        from ..plotting import plot_loss_surface
        from ..plotting._style import ACCENT, TRAIN

        v = self.values
        x, y = self.data()
        kind = v["loss_kind"]
        ax1, ax2, ax3 = fig.subplots(1, 3, gridspec_kw={
            "width_ratios": [1.05, 1, 1], "left": 0.05, "right": 0.99, "bottom": 0.15,
            "top": 0.88, "wspace": 0.3})

        # 1. the fit and its residuals
        self._residuals = self.moving(ax1.vlines(x, y, y, color=ACCENT, lw=1, alpha=0.7,
                                                 label="residuals"))
        ax1.scatter(x, y, s=18, color="0.2", zorder=3, label="data")
        if v["outlier"]:
            ax1.scatter(*([p] for p in self.outlier_point), s=60, facecolors="none",
                        edgecolors=ACCENT, lw=1.5, zorder=4, label="outlier")
        self._xs = np.array([x.min() - 0.1, x.max() + 0.1])
        self._fit = self.moving(*ax1.plot(self._xs, self._xs, color=TRAIN, lw=2,
                                          label="ŷ = w·x + b"))
        ax1.plot(self._xs, v["w_best"] * self._xs + v["b_best"], color="0.5", ls="--", lw=1,
                 label="best line")
        ax1.set(xlabel="x", ylabel="y", ylim=self.ylim)
        ax1.set_xlim(self._xs[0] - 0.05, self._xs[1] + 0.05)
        ax1.legend(loc="upper left", fontsize=7)
        self.moving(ax1.title)

        # 2. the slice L(w) at this b, with the tangent of slope dL/dw
        plot_loss_surface(lambda ws: ws, W_RANGE, ax=ax2, xlabel="w", ylabel=f"{kind} loss",
                          title="L(w)")
        self._slice = self.moving(ax2.lines[0])
        self._tangent = self.moving(*ax2.plot([], [], color=ACCENT, lw=1.2, ls="--",
                                              label="tangent: slope dL/dw"))
        self._point2 = self.moving(*ax2.plot([], [], "o", ms=8, color=ACCENT, mec="k",
                                             zorder=6))
        ax2.legend(handles=[self._tangent], loc="upper center", fontsize=7)
        self.moving(ax2.title)

        # 3. the surface over (w, b)
        def surface(ws, bs):
            return landscape(x, y, kind, ws, bs)
        plot_loss_surface(surface, W_RANGE, B_RANGE, ax=ax3, n=90, xlabel="w", ylabel="b",
                          title=f"{kind} over (w, b)", colorbar=False)
        # where the middle panel's slice runs
        self._slice_line = self.moving(ax3.axhline(0.0, color="white", lw=0.8, ls=":"))
        ax3.plot([v["w_best"]], [v["b_best"]], marker="*", ms=12, color="gold", mec="k",
                 zorder=6)
        self._point3 = self.moving(*ax3.plot([], [], "o", ms=8, color=ACCENT, mec="k",
                                             zorder=7))
        self._top = None

    def refresh(self):
        v = self.values
        x, y = self.data()
        w, b, kind = v["w"], v["b"], v["loss_kind"]
        ax1, ax2 = self._fit.axes, self._slice.axes
        self._residuals.set_segments([[(xi, yi), (xi, pi)]
                                      for xi, yi, pi in zip(x, y, self.pred)])
        self._fit.set_ydata(w * self._xs + b)
        sign = "-" if b < 0 else "+"
        ax1.set_title(f"ŷ = {fmt(w, 3)}x {sign} {fmt(abs(b), 3)}: {kind} = {fmt(v['loss'])}")

        ws = self._slice.get_xdata()
        self._slice.set_ydata(landscape(x, y, kind, ws, np.full_like(ws, b)))
        t = np.array([w - 1.0, w + 1.0])
        self._tangent.set_data(t, v["loss"] + v["dL_dw"] * (t - w))
        self._point2.set_data([w], [v["loss"]])
        ax2.set_title(f"L(w) at b = {fmt(b, 3)}: dL/dw = {fmt(v['dL_dw'], 3)}")
        top = self.slice_top(self._top)
        if top != self._top:  # the loss axis moves (rarely): draw the background again
            ax2.set_ylim(-0.04 * top, top)
            self._top = top
            self.restage()

        self._slice_line.set_ydata([b, b])
        self._point3.set_data([w], [b])

    def readout_html(self):
        v = self.values
        downhill = []
        for name, g in (("w", v["dL_dw"]), ("b", v["dL_db"])):
            if abs(g) > 1e-12:
                downhill.append(f"{'decrease' if g > 0 else 'increase'} {name}")
        hint = " and ".join(downhill) if downhill else "you are at a flat point"
        return (f"{v['loss_kind']} loss on {v['n']} points: "
                f"<b class='bpl-value'>{fmt(v['loss'])}</b> · gradient "
                f"dL/dw = {fmt(v['dL_dw'])}, dL/db = {fmt(v['dL_db'])} "
                f"(downhill: {hint}) · lowest on the grid: {fmt(v['loss_best'])} at "
                f"w = {fmt(v['w_best'], 3)}, b = {fmt(v['b_best'], 3)}")


def loss_landscape_explorer(x=None, y=None, w=0.0, b=0.0, loss="MSE", outlier=False):
    """Fit a line by hand and watch its loss; returns the widget.

    Sliders set the slope ``w`` and intercept ``b`` of ``y_hat = w x + b``; a dropdown picks
    MSE or MAE; a checkbox adds an outlier. The picture shows the fit with its residuals, the
    loss along ``w`` (with the tangent of slope dL/dw) and the loss surface over ``(w, b)``
    with the current point and the minimum. ``x``, ``y``: your own 1-D data (default: 20
    points on y = 2x + 0.5 with noise). ``widget.explorer`` is the
    :class:`LossLandscapeExplorer`.
    """
    return LossLandscapeExplorer(x, y, w=w, b=b, loss=loss, outlier=outlier).widget
