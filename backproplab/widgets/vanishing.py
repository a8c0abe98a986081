"""``vanishing_gradient_explorer()``: per-layer gradient norms of a fresh deep network.

Every update builds a new network with backproplab layers (seeded: the same controls give
the same network), runs one forward and backward pass on the spiral data set with
:class:`backproplab.diagnostics.Monitor`, and plots each Linear layer's ||dL/dW||.
"""

from __future__ import annotations

import numpy as np

from ..data import make_spiral
from ..diagnostics import Monitor
from ..layers import (BatchNorm1d, LeakyReLU, Linear, ReLU, Residual, Sequential, Sigmoid,
                      Tanh)
from ..losses import CrossEntropyLoss
from ._base import Explorer, checkbox, dropdown, fmt, int_slider

__all__ = ["vanishing_gradient_explorer", "VanishingGradientExplorer", "build_network"]

ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh, "ReLU": ReLU, "LeakyReLU": LeakyReLU}
INITS = {  # label -> backproplab.init name (or callable)
    "small normal (std 0.01)": "normal",
    "Xavier": "xavier_normal",
    "He": "he_normal",
}
WIDTH = 32
SEED = 0


def build_network(depth, activation, init, batchnorm=False, residual=False, width=WIDTH,
                  n_in=2, n_out=3, seed=SEED):
    """A Sequential of ``depth`` hidden blocks Linear(+BatchNorm1d)+activation, then a
    Linear output layer. With ``residual`` every block after the first (whose input size
    differs) is wrapped in :class:`~backproplab.layers.Residual`.

    ``activation`` is a key of ``ACTIVATIONS``; ``init`` a key of ``INITS`` or a
    :mod:`backproplab.init` name. Weights come from ``np.random.default_rng(seed)``.
    """
    rng = np.random.default_rng(seed)
    init = INITS.get(init, init)
    act = ACTIVATIONS[activation]
    blocks = []
    for i in range(depth):
        fan_in = n_in if i == 0 else width
        layers = [Linear(fan_in, width, init=init, rng=rng)]
        if batchnorm:
            layers.append(BatchNorm1d(width))
        layers.append(act())
        block = Sequential(*layers)
        blocks.append(Residual(block) if residual and fan_in == width else block)
    blocks.append(Linear(width, n_out, init=init, rng=rng))
    return Sequential(*blocks)


class VanishingGradientExplorer(Explorer):
    """Depth, activation, initialisation, batch norm and skip connections vs gradient flow.

    ``values``: ``names`` (Linear layers, input to output), ``grad_norms`` (array, same
    order), ``first``, ``last`` (the first and last layer's norm), ``ratio`` (first/last),
    ``act_spread`` (each hidden block's output spread across examples: std over the batch,
    averaged over units; also under its former name ``act_std``), ``loss``, ``verdict`` (a sentence).
    """

    name = "vanishing-gradient-explorer"
    title = "Vanishing gradients: ||dL/dW|| per layer of a freshly initialised network"
    figsize = (9.6, 3.6)

    def __init__(self):
        self.X, self.y = make_spiral(n_samples=300, n_classes=3, seed=SEED)
        super().__init__()

    def make_controls(self):
        return {
            "depth": int_slider("depth (hidden layers)", 10, 2, 30),
            "activation": dropdown("activation", list(ACTIVATIONS), "sigmoid"),
            "init": dropdown("initialisation", list(INITS), "Xavier"),
            "batchnorm": checkbox("batch norm"),
            "residual": checkbox("residual connections"),
        }

    def control_rows(self):
        c = self.controls
        return [[c["depth"], c["activation"], c["init"]], [c["batchnorm"], c["residual"]]]

    def compute(self):
        c = self.controls
        model = build_network(c["depth"].value, c["activation"].value, c["init"].value,
                              c["batchnorm"].value, c["residual"].value)
        loss_fn = CrossEntropyLoss()
        monitor = Monitor(model).measure(loss_fn, self.X, self.y)
        linears = [(name, layer) for name, layer in monitor.layers if isinstance(layer, Linear)]
        names = [f"L{i + 1}" for i in range(len(linears))]
        norms = np.array([monitor.records[name]["grad_norm"][-1] for name, _ in linears])
        acts = [(name, layer) for name, layer in monitor.layers
                if isinstance(layer, tuple(ACTIVATIONS.values()))]
        act_std = np.array([monitor.records[name]["act_spread"][-1] for name, _ in acts])
        first, last = float(norms[0]), float(norms[-1])
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = first / last if last > 0 else float("inf")
        self.monitor = monitor
        biggest = float(np.max(norms))
        if biggest < 1e-6:
            verdict = ("everything vanished: the signal dies on the way forward, so every "
                       "layer's gradient is tiny")
        elif biggest > 1e3:
            verdict = "exploding: the activations grow layer after layer, and so do the gradients"
        elif ratio < 1e-2:
            verdict = "vanishing: the first layers barely learn"
        elif ratio > 1e2:
            verdict = "the first layer's gradient is much larger than the last one's"
        else:
            verdict = "healthy: gradients of similar size in every layer"
        return {"verdict": verdict, "depth": c["depth"].value, "activation": c["activation"].value,
                "init": c["init"].value, "batchnorm": c["batchnorm"].value,
                "residual": c["residual"].value, "names": names, "grad_norms": norms,
                "first": first, "last": last, "ratio": float(ratio), "act_spread": act_std,
                "act_std": act_std,  # the same numbers, under the name of earlier versions
                "loss": float(loss_fn(model(self.X), self.y))}

    def draw(self, fig):
        from ..plotting import plot_gradient_flow

        v = self.values
        norms = dict(zip(v["names"], v["grad_norms"]))
        title = (f"{v['depth']} hidden layers, {v['activation']}, {v['init']}"
                 f"{', batch norm' if v['batchnorm'] else ''}"
                 f"{', residual' if v['residual'] else ''}: first/last = {fmt(v['ratio'], 3)}")
        ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.7, 1]})
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.2, top=0.84, wspace=0.25)
        plot_gradient_flow(norms, ax=ax, title="")
        fig.suptitle(title, fontsize=11)
        ax2.plot(np.arange(1, len(v["act_spread"]) + 1), v["act_spread"], marker="o", ms=3)
        ax2.set(xlabel="hidden layer", ylabel="std across examples",
                title="forward signal", ylim=(0, None))

    def readout_html(self):
        v = self.values
        verdict = v["verdict"]
        return (f"||dL/dW|| first layer {fmt(v['first'], 3)} · last layer {fmt(v['last'], 3)} · "
                f"<b>first/last = <span class='bpl-value'>{fmt(v['ratio'], 3)}</span></b> "
                f"→ {verdict}<br>network: {v['depth']} × (Linear"
                f"{' + BatchNorm1d' if v['batchnorm'] else ''} + {v['activation']})"
                f"{', residual' if v['residual'] else ''} + Linear, init {v['init']}, "
                f"one forward/backward on 300 spiral points, loss {fmt(v['loss'], 4)}")


def vanishing_gradient_explorer():
    """Depth, activation, initialisation, batch norm and residual connections vs the
    per-layer gradient norm of a fresh network (log scale); returns the widget.

    ``widget.explorer`` is the :class:`VanishingGradientExplorer`.
    """
    return VanishingGradientExplorer().widget
