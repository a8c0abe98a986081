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

import time

import ipywidgets as widgets
import numpy as np

from ..data import make_polynomial, polynomial_features, true_function
from ..layers import Dropout, Linear, Sequential, Tanh
from ..losses import MSELoss
from ..optim import Adam
from ..train import Callback, fit
from ._base import Explorer, float_slider, fmt, int_slider, lean_log_axis

__all__ = ["overfitting_explorer", "OverfittingExplorer", "fit_polynomial", "make_mlp"]

TRUE_DEGREE, NOISE = 3, 0.25
POOL = 100  # training points are the first n of a fixed shuffled pool, so adding keeps old ones
N_VAL = 200
MAX_DEGREE = 15
L2_OPTIONS = [0.0] + [float(10.0**k) for k in range(-8, 2)]
HIDDEN_OPTIONS = [2, 4, 8, 16, 32, 64]  # 128 costs seconds when OpenBLAS threads contend
EPOCHS, MLP_LR = 400, 0.01
CURVE_EVERY = 5  # epochs between two points of the training curves
CACHE = 64  # trained MLPs kept
FIRST_SECONDS, CHUNK_SECONDS = 0.012, 0.025  # training per picture while moved in a browser
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


class _Curves(Callback):
    """Training and validation MSE in eval mode (dropout off), after the first epoch and
    every ``CURVE_EVERY`` epochs: the training curves, at a fraction of the cost of
    ``fit``'s validation after every epoch. ``offset``: epochs trained before this ``fit``."""

    def __init__(self, train, val):
        self.data = {"train": train, "val": val}
        self.epochs, self.train, self.val = [], [], []
        self.offset = 0

    def on_epoch_end(self, state):
        epoch = self.offset + state.epoch
        if epoch % CURVE_EVERY and epoch != 1:
            return
        model = state.model
        model.eval()
        self.epochs.append(epoch)
        for name, (X, y) in self.data.items():
            getattr(self, name).append(MSELoss()(model(X), y))
        model.train()


class MLPRun:
    """One training run of the explorer's MLP: ``EPOCHS`` epochs of full-batch Adam with
    ``fit``, done in steps of ``CURVE_EVERY`` epochs so that it can be shown while it
    trains. The same settings always give the same run, however it is split up.

    ``key`` = (n_train, hidden, dropout, l2); ``epoch`` = epochs trained so far.
    """

    def __init__(self, key, train, val):
        _, hidden, dropout, l2 = key
        self.key, self.train = key, train
        self.model = make_mlp(hidden, dropout)
        self.optimizer = Adam(self.model.parameters(), lr=MLP_LR, weight_decay=l2)
        self.curves = _Curves(train, val)
        self.epoch = 0

    @property
    def done(self):
        return self.epoch >= EPOCHS

    def advance(self, seconds=None):
        """Train to the end, or (``seconds``) until about that much time has passed."""
        start = time.perf_counter()
        while not self.done:
            epochs = min(CURVE_EVERY, EPOCHS - self.epoch)
            self.curves.offset = self.epoch
            fit(self.model, MSELoss(), self.optimizer, self.train, epochs=epochs,
                batch_size=len(self.train[0]), shuffle=False, callbacks=[self.curves],
                progress=False)
            self.epoch += epochs
            if seconds is not None and time.perf_counter() - start >= seconds:
                break
        self.model.eval()
        return self

    def results(self):
        """The values the explorer shows for this run, so far."""
        c = self.curves
        return {"train_mse": c.train[-1], "val_mse": c.val[-1], "epoch": self.epoch,
                "training": not self.done, "curve_epochs": np.array(c.epochs),
                "curve_train": np.array(c.train), "curve_val": np.array(c.val)}


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
    question = ("15 noisy points from a cubic: will a degree-15 polynomial have a lower or a "
                "higher training error than a degree-3 one? And validation error?")
    look_for = ("training error keeps falling as the degree grows while validation error "
                "traces a U; more training points or a larger λ pull the validation error "
                "back down. In MLP mode the training curves are drawn as the network trains.")
    live = True

    def __init__(self):
        x, y = make_polynomial(POOL, TRUE_DEGREE, NOISE, seed=1)
        order = np.random.default_rng(3).permutation(POOL)
        self.pool_x, self.pool_y = x[order, 0], y[order]
        xv, yv = make_polynomial(N_VAL, TRUE_DEGREE, NOISE, seed=2)
        shuffle = np.random.default_rng(4).permutation(N_VAL)  # any prefix spans [-1, 1]
        self.val_x, self.val_y = xv[shuffle, 0], yv[shuffle]
        self._runs = {}  # (n_train, hidden, dropout, l2) -> a finished MLPRun
        self._run = None  # the run shown (maybe in progress)
        self._continuing = False
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

    def training_set(self, n=None):
        """The first ``n`` points of the pool (default: the slider's number), sorted by x."""
        n = self.controls["n_train"].value if n is None else n
        idx = np.argsort(self.pool_x[:n])  # sorted by x
        return self.pool_x[:n][idx], self.pool_y[:n][idx]

    def mlp_run(self, n_train, hidden, dropout, l2):
        """The run for these settings: a finished one kept from before (the last ``CACHE``
        are kept, so moving back costs nothing), the one in progress, or a new one."""
        key = (n_train, hidden, dropout, l2)
        if key in self._runs:
            self._runs[key] = self._runs.pop(key)  # most recently used last
            return self._runs[key]
        if self._run is None or self._run.key != key:
            x, y = self.training_set(n_train)
            self._run = MLPRun(key, (x[:, None], y[:, None]),
                               (self.val_x[:, None], self.val_y[:, None]))
        return self._run

    def _keep(self, run):
        self._runs[run.key] = run
        while len(self._runs) > CACHE:
            self._runs.pop(next(iter(self._runs)))

    def _train_on(self, run):
        """Train the run in progress a little more and show it (latest wins: a run that
        the controls have left behind stops here)."""
        if run is not self._run or run.done:
            return
        run.advance(CHUNK_SECONDS)
        self._continuing = True
        try:
            self.update()
        except Exception:  # noqa: BLE001 - shown in the readout; nothing to raise it to
            return
        finally:
            self._continuing = False
        if not run.done:
            self.run_soon(lambda: self._train_on(run))

    def compute(self):
        self._sync_enabled()
        c = self.controls
        x, y = self.training_set()
        l2 = float(c["l2"].value)
        out = {"model": c["model"].value, "degree": c["degree"].value,
               "hidden": c["hidden"].value, "n_train": len(x), "l2": l2,
               "dropout": float(c["dropout"].value), "train_x": x, "train_y": y}
        if out["model"] == "polynomial":
            self._run = None  # a run in progress stops
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
            run = self.mlp_run(len(x), out["hidden"], out["dropout"], l2)
            if not (run.done or self._continuing):
                # moved in the browser: a first part now, the rest in steps that each show
                # the run so far and give way to the next move; from code: all of it now
                if self.from_browser and self.run_soon(lambda: self._train_on(run)):
                    run.advance(FIRST_SECONDS)
                else:
                    run.advance()
            if run.done:
                self._keep(run)
            self.fitted = run.model
            out.update(run.results())
        out["gap"] = out["val_mse"] - out["train_mse"]
        return out

    def scene(self):
        return self.values["model"]

    def build(self, fig):
        from ..plotting import plot_fit

        v = self.values
        ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
        fig.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.9, wspace=0.22)
        label = "polynomial fit" if v["model"] == "polynomial" else "MLP fit"
        plot_fit(v["train_x"], v["train_y"], {label: lambda xs: np.zeros_like(xs)}, ax=ax,
                 true_fn=lambda xs: true_function(xs, TRUE_DEGREE),
                 val=(self.val_x[:N_VAL_SHOWN], self.val_y[:N_VAL_SHOWN]))
        self._train_points = self.moving(ax.collections[0])
        self._fit = self.moving(ax.lines[-1])
        # the same frame for every training set: the whole pool and the points shown
        every_y = np.concatenate([self.pool_y, self.val_y[:N_VAL_SHOWN]])
        span = every_y.max() - every_y.min()
        ax.set_ylim(every_y.min() - 0.3 * span, every_y.max() + 0.3 * span)
        ax.legend(loc="upper right")
        self.moving(ax.title)
        lo, hi = MSE_RANGE  # beyond these the curve sits on the frame: "0" or "huge"
        if v["model"] == "polynomial":
            d = np.arange(1, MAX_DEGREE + 1)
            self._train_curve = self.moving(*ax2.semilogy(d, d, marker="o", ms=3,
                                                          label="train"))
            self._val_curve = self.moving(*ax2.semilogy(d, d, marker="o", ms=3,
                                                        label="validation"))
            self._degree = self.moving(ax2.axvline(1, color="0.5", ls="--", lw=1))
            ax2.set(xlabel="polynomial degree", ylabel="MSE (log scale, clipped)",
                    title="error vs capacity")
        else:
            self._train_curve = self.moving(*ax2.semilogy([1, 2], [1, 1], label="train"))
            self._val_curve = self.moving(*ax2.semilogy([1, 2], [1, 1], label="validation"))
            ax2.set(xlabel="epoch", ylabel="MSE (log scale)", title="training curve",
                    xlim=(-0.025 * EPOCHS, 1.025 * EPOCHS))
        ax2.set_ylim(lo / 1.5, hi * 1.5)
        lean_log_axis(ax2.yaxis)
        ax2.axhline(NOISE**2, color="0.3", ls=":", lw=1, label="noise level σ²")
        ax2.legend(fontsize=8, loc="upper left")

    def refresh(self):
        v = self.values
        lo, hi = MSE_RANGE
        self._train_points.set_offsets(np.column_stack([v["train_x"], v["train_y"]]))
        xs = self._fit.get_xdata()
        if v["model"] == "polynomial":
            d = v["degree"]
            pred = self.fitted(polynomial_features(xs, d))
            model = f"degree {d} polynomial"
            self._degree.set_xdata([d, d])
            self._train_curve.set_ydata(np.clip(v["curve_train"], lo, hi))
            self._val_curve.set_ydata(np.clip(v["curve_val"], lo, hi))
        else:
            pred = self.fitted(xs[:, None])
            model = f"MLP, {v['hidden']} hidden units, dropout {v['dropout']:g}"
            self._train_curve.set_data(v["curve_epochs"], np.clip(v["curve_train"], lo, hi))
            self._val_curve.set_data(v["curve_epochs"], np.clip(v["curve_val"], lo, hi))
        self._fit.set_ydata(np.ravel(pred))
        self._fit.axes.set_title(f"{model}, λ = {v['l2']:g}", fontsize=10)

    def readout_html(self):
        v = self.values
        if v["model"] == "polynomial":
            best = int(v["curve_degrees"][int(np.argmin(v["curve_val"]))])
            extra = f" · lowest validation error at degree {best}"
        elif v["training"]:
            extra = f" · <b>training: epoch {v['epoch']} of {EPOCHS}</b> of Adam (lr {MLP_LR:g})"
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
