"""``vanishing_gradient_explorer()``: per-layer gradient norms of a fresh deep network.

Every update builds a new network with backproplab layers (seeded: the same controls give
the same network), runs one forward and backward pass on the spiral data set with
:class:`backproplab.diagnostics.Monitor`, and plots each Linear layer's ||dL/dW|| beside the
spread of the signal each hidden layer passes on, both on log scales.

A network's *depth* is its number of Linear (weight) layers, as everywhere in the course:
depth 20 is lesson 06's 20-layer network (19 hidden layers and the output layer).
"""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import MaxNLocator

from ..data import make_spiral
from ..diagnostics import Monitor
from ..layers import (BatchNorm1d, LeakyReLU, Linear, ReLU, Residual, Sequential, Sigmoid,
                      Tanh)
from ..losses import CrossEntropyLoss
from ._base import (Explorer, checkbox, dropdown, fmt, int_slider, lean_log_axis,
                    nice_ceiling, steady_log_range)

__all__ = ["vanishing_gradient_explorer", "VanishingGradientExplorer", "build_network"]

ACTIVATIONS = {"sigmoid": Sigmoid, "tanh": Tanh, "ReLU": ReLU, "LeakyReLU": LeakyReLU}
INITS = {  # label -> backproplab.init name (or callable)
    "small normal (std 0.01)": "normal",
    "Xavier": "xavier_normal",
    "He": "he_normal",
}
WIDTH = 32
SEED = 0
MAX_DEPTH = 30  # the depth slider's range is 2 .. MAX_DEPTH Linear layers
FLOOR = 1e-300  # zeros (a dead layer, an underflow) are drawn at the bottom of the log axes


def build_network(depth, activation, init, batchnorm=False, residual=False, width=WIDTH,
                  n_in=2, n_out=3, seed=SEED):
    """A network of ``depth`` Linear layers (depth >= 2): ``depth - 1`` hidden blocks
    Linear(+BatchNorm1d)+activation, then a Linear output layer. With ``batchnorm`` the
    hidden Linear layers have no bias (the normalisation would cancel it). With ``residual``
    every hidden block after the first (whose input size differs) is wrapped in
    :class:`~backproplab.layers.Residual`.

    ``activation`` is a key of ``ACTIVATIONS``; ``init`` a key of ``INITS`` or a
    :mod:`backproplab.init` name. Weights come from ``np.random.default_rng(seed)``.
    """
    if int(depth) != depth or depth < 2:
        raise ValueError(f"depth counts Linear layers and must be an integer >= 2, got {depth}")
    rng = np.random.default_rng(seed)
    init = INITS.get(init, init)
    act = ACTIVATIONS[activation]
    blocks = []
    for i in range(int(depth) - 1):
        fan_in = n_in if i == 0 else width
        layers = [Linear(fan_in, width, bias=not batchnorm, init=init, rng=rng)]
        if batchnorm:
            layers.append(BatchNorm1d(width))
        layers.append(act())
        block = Sequential(*layers)
        blocks.append(Residual(block) if residual and fan_in == width else block)
    blocks.append(Linear(width, n_out, init=init, rng=rng))
    return Sequential(*blocks)


class VanishingGradientExplorer(Explorer):
    """Depth, activation, initialisation, batch norm and skip connections vs gradient flow.

    ``values``: ``depth`` (Linear layers), ``names`` (L1 .. L<depth>, input to output),
    ``grad_norms`` (array, same order), ``first``, ``last`` (the first and last layer's
    norm), ``ratio`` (first/last), ``act_spread`` (each hidden layer's output spread across
    examples: std over the batch, averaged over units; also under its former name
    ``act_std``), ``loss``, ``verdict`` (a sentence).
    """

    name = "vanishing-gradient-explorer"
    title = "Vanishing gradients: ||dL/dW|| per layer of a freshly initialised network"
    question = ("the sigmoid's slope is at most 1/4, and the gradient passes one sigmoid per "
                "layer on its way back. With 20 Linear layers, roughly how much smaller than "
                "the last layer's gradient will the first layer's be?")
    look_for = ("how the bars fall layer by layer (a straight slope on the log scale means a "
                "constant factor per layer), and how the forward signal on the right falls "
                "with them; then which of ReLU with He, batch norm or residual connections "
                "levels them.")
    live = True
    figsize = (9.6, 3.6)

    def __init__(self):
        self.X, self.y = make_spiral(n_samples=300, n_classes=3, seed=SEED)
        super().__init__()

    def make_controls(self):
        return {
            "depth": int_slider("depth (Linear layers)", 10, 2, MAX_DEPTH),
            "activation": dropdown("activation", list(ACTIVATIONS), "sigmoid"),
            "init": dropdown("initialisation", list(INITS), "Xavier"),
            "batchnorm": checkbox("batch norm"),
            "residual": checkbox("residual connections"),
        }

    def control_rows(self):
        c = self.controls
        return [[c["depth"], c["activation"], c["init"]], [c["batchnorm"], c["residual"]]]

    def measure(self, depth=None):
        """One forward and backward pass of the network the controls describe (``depth``
        Linear layers, default the slider's): (monitor, gradient norm of each Linear layer,
        output spread of each hidden layer, loss)."""
        c = self.controls
        model = build_network(c["depth"].value if depth is None else depth,
                              c["activation"].value, c["init"].value, c["batchnorm"].value,
                              c["residual"].value)
        loss_fn = CrossEntropyLoss()
        monitor = Monitor(model).measure(loss_fn, self.X, self.y)
        linears = [name for name, layer in monitor.layers if isinstance(layer, Linear)]
        norms = np.array([monitor.records[name]["grad_norm"][-1] for name in linears])
        acts = [name for name, layer in monitor.layers
                if isinstance(layer, tuple(ACTIVATIONS.values()))]
        spread = np.array([monitor.records[name]["act_spread"][-1] for name in acts])
        loss = loss_fn(monitor.activations[linears[-1]], self.y)  # the output layer's logits
        return monitor, norms, spread, float(loss)

    def compute(self):
        c = self.controls
        monitor, norms, act_std, loss = self.measure()
        names = [f"L{i + 1}" for i in range(len(norms))]
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
                "loss": loss}

    def scene(self):
        v = self.values
        return v["activation"], v["init"], v["batchnorm"], v["residual"]

    def build(self, fig):
        ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.5, 1]})
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.84, wspace=0.28)
        layers = np.arange(1, MAX_DEPTH + 1)
        self._bars = ax.bar(layers, np.ones(MAX_DEPTH), width=0.7).patches
        self.moving(*self._bars)
        (self._spread,) = ax2.plot(layers[:-1], np.ones(MAX_DEPTH - 1), marker="o", ms=3,
                                   color="C0")
        self.moving(self._spread)
        # the same layer axis on both sides, and log scales that hold every depth of this
        # setting (measured once, at the smallest and largest depth), so that moving the
        # depth moves no axis
        v = self.values
        norms, spread = [v["grad_norms"]], [v["act_spread"]]
        for depth in (2, MAX_DEPTH):
            _, n, a, _ = self.measure(depth)
            norms.append(n)
            spread.append(a)
        self._ranges = [steady_log_range(np.concatenate(norms), floor=FLOOR, margin=0.05),
                        steady_log_range(np.concatenate(spread), floor=FLOOR, margin=0.05)]
        for a, what, (lo, hi) in ((ax, "||dL/dW|| of Linear layer l", self._ranges[0]),
                                  (ax2, "spread across examples", self._ranges[1])):
            a.set_yscale("log")
            a.set_ylim(lo, hi)
            lean_log_axis(a.yaxis)
            a.set_ylabel(f"{what} (log scale)")
            a.set_xlim(0.4, MAX_DEPTH + 0.6)
            a.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=8))
        ax.set(xlabel="layer l (input → output)", title="gradient flow (backward)")
        ax.grid(axis="x", visible=False)
        ax2.set(xlabel="hidden layer l", title="forward signal: output of layer l")
        self._title = self.moving(fig.suptitle("", fontsize=11))

    def refresh(self):
        from ..plotting._style import layer_colors

        v = self.values
        depth, norms, spread = v["depth"], v["grad_norms"], v["act_spread"]
        colours = layer_colors(depth)  # plot_gradient_flow's colours
        for i, bar in enumerate(self._bars):
            bar.set_visible(i < depth)
            if i < depth:
                bar.set_height(norms[i] if norms[i] > 0 else FLOOR)
                bar.set_facecolor(colours[i])
        self._spread.set_data(np.arange(1, depth), np.maximum(spread, FLOOR))
        self._title.set_text(
            f"{depth} Linear layers, {v['activation']}, {v['init']}"
            f"{', batch norm' if v['batchnorm'] else ''}{', residual' if v['residual'] else ''}"
            f": first/last = {fmt(v['ratio'], 3)}")
        for ax, values, i in ((self.fig.axes[0], norms, 0), (self.fig.axes[1], spread, 1)):
            limits = steady_log_range(values, self._ranges[i], floor=FLOOR, fill=0.0,
                                      margin=0.05)
            if limits != self._ranges[i]:  # outside what depth 30 needed: a new background
                ax.set_ylim(*limits)
                self._ranges[i] = limits
                self.restage()

    def readout_html(self):
        v = self.values
        verdict = v["verdict"]
        return (f"||dL/dW|| first layer {fmt(v['first'], 3)} · last layer {fmt(v['last'], 3)} · "
                f"<b>first/last = <span class='bpl-value'>{fmt(v['ratio'], 3)}</span></b> "
                f"→ {verdict}<br>network of {v['depth']} Linear layers: "
                f"{v['depth'] - 1} × (Linear"
                f"{' + BatchNorm1d' if v['batchnorm'] else ''} + {v['activation']})"
                f"{', residual' if v['residual'] else ''} + Linear, init {v['init']}, "
                f"one forward/backward on 300 spiral points, loss {fmt(v['loss'], 4)}")


def vanishing_gradient_explorer():
    """Depth (Linear layers), activation, initialisation, batch norm and residual
    connections vs the per-layer gradient norm of a fresh network and the spread of its
    forward signal (both on log scales); returns the widget.

    ``widget.explorer`` is the :class:`VanishingGradientExplorer`.
    """
    return VanishingGradientExplorer().widget
