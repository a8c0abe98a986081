"""``overfitting_explorer()``: model capacity, data size and regularisation vs validation error.

Two models, both fitted for real on every update:

* **polynomial**: ridge regression on ``backproplab.data.polynomial_features``, solved by
  least squares; the coefficients go into a backproplab ``Linear`` layer that predicts.
* **MLP**: a small backproplab network (Linear-Tanh-Dropout ×2, Linear) trained with
  ``backproplab.train.fit`` (Adam, full batch).

"L2 strength" λ means the same in both: the ``weight_decay`` of the optimiser, i.e. the
gradient of the penalty is λ·w on top of the gradient of the mean squared error.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from ..data import make_polynomial, polynomial_features, true_function
from ..layers import Dropout, Linear, Sequential, Tanh
from ..losses import MSELoss
from ..optim import Adam
from ..train import fit
from ._base import Explorer, float_slider, fmt, int_slider, lean_log_axis

__all__ = ["overfitting_explorer", "OverfittingExplorer", "fit_polynomial", "make_mlp"]

TRUE_DEGREE, NOISE = 3, 0.25
POOL = 100  # training points are the first n of a fixed shuffled pool, so adding keeps old ones
N_VAL = 200
MAX_DEGREE = 15
L2_OPTIONS = [0.0] + [float(10.0**k) for k in range(-8, 2)]
HIDDEN_OPTIONS = [2, 4, 8, 16, 32, 64]  # 128 costs seconds when OpenBLAS threads contend
EPOCHS, MLP_LR = 400, 0.01
N_VAL_SHOWN = 60  # validation points drawn (the error uses all N_VAL)
MSE_RANGE = (1e-3, 1e3)  # the error panel's y range


def fit_polynomial(x, y, degree, l2=0.0):
    """Ridge regression of y on x, x², ..., x^degree plus an unpenalised intercept.

    Minimises mean((pred - y)²) + (l2 / 2)·||w||², the objective whose gradient is that of
    the MSE plus ``l2 * w`` (weight decay). Returns a backproplab ``Linear(degree, 1)``
    holding the solution; predict with ``layer(polynomial_features(x, degree))``.
    """
    feats = polynomial_features(x, degree)
    n = len(feats)
    A = np.column_stack([np.ones(n), feats])
    rhs = np.asarray(y, dtype=np.float64)
    if l2 > 0:  # penalty rows: sqrt(l2 n / 2) I on the weights, not on the intercept
        P = np.sqrt(l2 * n / 2.0) * np.eye(degree + 1)[1:]
        A = np.vstack([A, P])
        rhs = np.concatenate([rhs, np.zeros(degree)])
    coef = np.linalg.lstsq(A, rhs, rcond=None)[0]
    layer = Linear(degree, 1)
    layer.W.data[:, 0] = coef[1:]
    layer.b.data[:] = coef[:1]
    return layer


def make_mlp(hidden, dropout, seed=0):
    """Linear(1, h)-Tanh-Dropout-Linear(h, h)-Tanh-Dropout-Linear(h, 1), Xavier init."""
    rng = np.random.default_rng(seed)
    return Sequential(Linear(1, hidden, init="xavier_normal", rng=rng), Tanh(),
                      Dropout(dropout, rng=rng),
                      Linear(hidden, hidden, init="xavier_normal", rng=rng), Tanh(),
                      Dropout(dropout, rng=rng),
                      Linear(hidden, 1, init="xavier_normal", rng=rng))


def _mse(pred, y):
    return MSELoss()(np.asarray(pred, dtype=np.float64).reshape(-1), y)


class OverfittingExplorer(Explorer):
    """Polynomial degree or MLP width, training-set size, L2 and dropout vs train/val error.

    ``values``: ``model`` ("polynomial" or "MLP"), ``degree``, ``hidden``, ``n_train``,
    ``l2``, ``dropout``, ``train_mse``, ``val_mse``, ``gap`` (val - train), and in
    polynomial mode ``curve_degrees``, ``curve_train``, ``curve_val`` (the U-curve over
    degree with the current data and λ); in MLP mode ``curve_epochs``, ``curve_train``,
    ``curve_val`` (the training history).
    """

    name = "overfitting-explorer"
    title = "Overfitting: capacity, data and regularisation vs validation error"

    def __init__(self):
        x, y = make_polynomial(POOL, TRUE_DEGREE, NOISE, seed=1)
        order = np.random.default_rng(3).permutation(POOL)
        self.pool_x, self.pool_y = x[order, 0], y[order]
        xv, yv = make_polynomial(N_VAL, TRUE_DEGREE, NOISE, seed=2)
        shuffle = np.random.default_rng(4).permutation(N_VAL)  # any prefix spans [-1, 1]
        self.val_x, self.val_y = xv[shuffle, 0], yv[shuffle]
        super().__init__()

    def make_controls(self):
        return {
            "model": widgets.ToggleButtons(options=["polynomial", "MLP"], value="polynomial",
                                           description="model",
                                           style={"button_width": "110px",
                                                  "description_width": "initial"}),
            "degree": int_slider("polynomial degree", 3, 1, MAX_DEGREE),
            "n_train": int_slider("training points", 15, 5, POOL),
            "l2": widgets.SelectionSlider(
                options=[("0" if v == 0 else f"{v:.0e}", v) for v in L2_OPTIONS], value=0.0,
                description="L2 strength λ", continuous_update=False,
                style={"description_width": "initial"}, layout=widgets.Layout(width="300px")),
            "hidden": widgets.SelectionSlider(
                options=HIDDEN_OPTIONS, value=32, description="hidden units",
                continuous_update=False, style={"description_width": "initial"},
                layout=widgets.Layout(width="300px")),
            "dropout": float_slider("dropout", 0.0, 0.0, 0.6, 0.05),
        }

    def control_rows(self):
        c = self.controls
        return [[c["model"]], [c["degree"], c["n_train"], c["l2"]], [c["hidden"], c["dropout"]]]

    def control_changed(self, change):
        self._sync_enabled()

    def _sync_enabled(self):
        poly = self.controls["model"].value == "polynomial"
        self.controls["degree"].disabled = not poly
        self.controls["hidden"].disabled = poly
        self.controls["dropout"].disabled = poly

    def training_set(self):
        n = self.controls["n_train"].value
        idx = np.argsort(self.pool_x[:n])  # sorted by x
        return self.pool_x[:n][idx], self.pool_y[:n][idx]

    def compute(self):
        self._sync_enabled()
        c = self.controls
        x, y = self.training_set()
        l2 = float(c["l2"].value)
        out = {"model": c["model"].value, "degree": c["degree"].value,
               "hidden": c["hidden"].value, "n_train": len(x), "l2": l2,
               "dropout": float(c["dropout"].value), "train_x": x, "train_y": y}
        if out["model"] == "polynomial":
            curve_tr, curve_va = [], []
            for d in range(1, MAX_DEGREE + 1):
                layer = fit_polynomial(x, y, d, l2)
                curve_tr.append(_mse(layer(polynomial_features(x, d)), y))
                curve_va.append(_mse(layer(polynomial_features(self.val_x, d)), self.val_y))
                if d == out["degree"]:
                    self.fitted = layer
            out.update(train_mse=curve_tr[out["degree"] - 1], val_mse=curve_va[out["degree"] - 1],
                       curve_degrees=np.arange(1, MAX_DEGREE + 1),
                       curve_train=np.array(curve_tr), curve_val=np.array(curve_va))
        else:
            model = make_mlp(out["hidden"], out["dropout"])
            hist = fit(model, MSELoss(), Adam(model.parameters(), lr=MLP_LR, weight_decay=l2),
                       (x[:, None], y[:, None]), epochs=EPOCHS, batch_size=len(x),
                       val_data=(self.val_x[:, None], self.val_y[:, None]),
                       evaluate_train=out["dropout"] > 0, progress=False, seed=0)
            model.eval()
            self.fitted = model
            out.update(train_mse=_mse(model(x[:, None]), y),
                       val_mse=_mse(model(self.val_x[:, None]), self.val_y),
                       curve_epochs=np.array(hist.epochs), curve_train=np.array(hist.train_loss),
                       curve_val=np.array(hist.val_loss))
        out["gap"] = out["val_mse"] - out["train_mse"]
        return out

    def draw(self, fig):
        v = self.values
        ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
        fig.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.9, wspace=0.22)
        self._draw_fit(ax, v)
        lo, hi = MSE_RANGE  # beyond these the curve sits on the frame: "0" or "huge"
        if v["model"] == "polynomial":
            d = v["curve_degrees"]
            ax2.semilogy(d, np.clip(v["curve_train"], lo, hi), marker="o", ms=3, label="train")
            ax2.semilogy(d, np.clip(v["curve_val"], lo, hi), marker="o", ms=3,
                         label="validation")
            ax2.axvline(v["degree"], color="0.5", ls="--", lw=1)
            ax2.set(xlabel="polynomial degree", ylabel="MSE (log scale, clipped)",
                    title="error vs capacity")
        else:
            ax2.semilogy(v["curve_epochs"], np.clip(v["curve_train"], lo, hi), label="train")
            ax2.semilogy(v["curve_epochs"], np.clip(v["curve_val"], lo, hi),
                         label="validation")
            ax2.set(xlabel="epoch", ylabel="MSE (log scale)", title="training curve")
        ax2.set_ylim(lo / 1.5, hi * 1.5)
        lean_log_axis(ax2.yaxis)
        ax2.axhline(NOISE**2, color="0.3", ls=":", lw=1, label="noise level σ²")
        ax2.legend(fontsize=8)

    def _draw_fit(self, ax, v):
        from ..plotting import plot_fit

        if v["model"] == "polynomial":
            d = v["degree"]
            label, features = f"degree {d} fit", (lambda xs: polynomial_features(xs, d))
        else:
            label, features = f"MLP fit ({v['hidden']} hidden)", None
        plot_fit(v["train_x"], v["train_y"], {label: self.fitted}, ax=ax, features=features,
                 true_fn=lambda xs: true_function(xs, TRUE_DEGREE),
                 val=(self.val_x[:N_VAL_SHOWN], self.val_y[:N_VAL_SHOWN]))
        model = (f"degree {v['degree']} polynomial" if v["model"] == "polynomial"
                 else f"MLP, {v['hidden']} hidden units, dropout {v['dropout']:g}")
        ax.set_title(f"{model}, λ = {v['l2']:g}", fontsize=10)

    def readout_html(self):
        v = self.values
        if v["model"] == "polynomial":
            best = int(v["curve_degrees"][int(np.argmin(v["curve_val"]))])
            extra = f" · lowest validation error at degree {best}"
        else:
            extra = f" · {EPOCHS} epochs of Adam (lr {MLP_LR:g}), full batch"
        return (f"train MSE <b class='bpl-value'>{fmt(v['train_mse'])}</b> · validation MSE "
                f"<b>{fmt(v['val_mse'])}</b> · gap {fmt(v['gap'])} "
                f"(noise level σ² = {NOISE**2:g}){extra}<br>{v['n_train']} training points, "
                f"{N_VAL} validation points from the same curve.")


def overfitting_explorer():
    """Capacity (polynomial degree, or MLP hidden units), number of training points, L2
    strength and dropout vs training and validation error; returns the widget.

    ``widget.explorer`` is the :class:`OverfittingExplorer`.
    """
    return OverfittingExplorer().widget
