"""``neuron_playground()``: one neuron, two inputs, and the line it draws across the plane."""

from __future__ import annotations

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize

from ..layers import LeakyReLU, Linear, ReLU, Sigmoid, Tanh
from ._base import FINE_STEPS, Explorer, dropdown, float_slider, fmt, nice_ceiling

__all__ = ["neuron_playground", "NeuronPlayground", "ACTIVATIONS"]


class _Identity:
    """The 'linear' activation: f(z) = z."""

    def __call__(self, z):
        return np.asarray(z, dtype=np.float64)


LEAKY_SLOPE = 0.1  # steeper than PyTorch's 0.01 default so the leak is visible in the picture

# label -> (factory of the backproplab activation layer, formula shown in the readout)
ACTIVATIONS = {
    "sigmoid": (Sigmoid, "sigmoid(z) = 1 / (1 + e^-z)"),
    "tanh": (Tanh, "tanh(z)"),
    "relu": (ReLU, "relu(z) = max(0, z)"),
    "leaky relu": (lambda: LeakyReLU(LEAKY_SLOPE), f"z if z > 0 else {LEAKY_SLOPE:g} z"),
    "linear": (_Identity, "z"),
}

LIM = 3.0  # the input plane is [-LIM, LIM]^2
GRID = 121


class NeuronPlayground(Explorer):
    """a = f(w1 x1 + w2 x2 + b) over the (x1, x2) plane, with a probe point.

    ``values``: ``z`` and ``output`` at the probe point, the weights, ``activation``,
    and the boundary line's ``slope`` and ``intercept`` (x2 = slope x1 + intercept; None
    for a vertical line or when w1 = w2 = 0).
    """

    name = "neuron-playground"
    title = "A single neuron: a = f(w1·x1 + w2·x2 + b)"
    question = ("if you double w1, w2 and b together, does the line z = 0 move? What "
                "happens to the band where the colour changes?")
    look_for = ("the line turns with (w1, w2) and slides with b, the arrow (w1, w2) stays "
                "perpendicular to it, and larger weights sharpen the edge without moving it.")
    live = True

    def make_controls(self):
        return {
            "w1": float_slider("w1", 1.0, -5.0, 5.0, 0.1),
            "w2": float_slider("w2", -1.0, -5.0, 5.0, 0.1),
            "b": float_slider("b", 0.5, -5.0, 5.0, 0.1),
            "activation": dropdown("activation", list(ACTIVATIONS), "sigmoid"),
            "x1": float_slider("probe x1", 1.0, -LIM, LIM, 0.1),
            "x2": float_slider("probe x2", 1.0, -LIM, LIM, 0.1),
        }

    def control_rows(self):
        c = self.controls
        return [[c["w1"], c["w2"], c["b"]], [c["activation"], c["x1"], c["x2"]]]

    def neuron(self):
        """The neuron as backproplab layers: Linear(2, 1) with the sliders' weights, then f."""
        c = self.controls
        lin = Linear(2, 1)
        lin.W.data[:] = [[c["w1"].value], [c["w2"].value]]
        lin.b.data[:] = [c["b"].value]
        return lin, ACTIVATIONS[c["activation"].value][0]()

    def compute(self):
        c = self.controls
        lin, act = self.neuron()
        g = np.linspace(-LIM, LIM, GRID)
        x1, x2 = np.meshgrid(g, g)
        plane = np.column_stack([x1.ravel(), x2.ravel()])
        self.grid = g
        self.z_plane = lin(plane).reshape(x1.shape)
        self.a_plane = act(self.z_plane)
        probe = np.array([[c["x1"].value, c["x2"].value]])
        z = float(lin(probe)[0, 0])
        a = float(act(np.array([[z]]))[0, 0])
        w1, w2, b = c["w1"].value, c["w2"].value, c["b"].value
        slope = intercept = None
        if w2 != 0:
            slope, intercept = -w1 / w2, -b / w2
        return {"w1": w1, "w2": w2, "b": b, "activation": c["activation"].value,
                "x1": probe[0, 0], "x2": probe[0, 1], "z": z, "output": a,
                "slope": slope, "intercept": intercept}

    def scene(self):
        """The activation, and the ranges that snap to 1-2-5 steps: the z-range of the
        right panel and (for the unbounded activations) the colour scale."""
        v = self.values
        z_range = 6.0 if abs(v["z"]) * 1.1 <= 6.0 else nice_ceiling(abs(v["z"]) * 1.1)
        if v["activation"] == "sigmoid":
            colours = (0.0, 1.0)
        elif v["activation"] == "tanh":
            colours = (-1.0, 1.0)
        else:
            m = nice_ceiling(max(float(np.abs(self.a_plane).max()), 1.0), FINE_STEPS)
            colours = (-m, m)
        return v["activation"], z_range, colours

    def build(self, fig):
        from ..plotting._style import DIVERGING

        name, zmax, (vmin, vmax) = self.scene()
        ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.25, 1]})
        fig.subplots_adjust(left=0.06, right=0.97, bottom=0.14, top=0.9, wspace=0.32)
        # coloured here, at the grid's size, and then smoothed to the screen's pixels: much
        # cheaper than colouring every screen pixel
        self._colours = ScalarMappable(Normalize(vmin, vmax), DIVERGING)
        self._heat = self.moving(ax.imshow(self._colours.to_rgba(self.a_plane, bytes=True),
                                           extent=(-LIM, LIM, -LIM, LIM), origin="lower",
                                           interpolation="bilinear"))
        fig.colorbar(self._colours, ax=ax, fraction=0.046, pad=0.03, label=f"a = {name}(z)")
        self._line = self.moving(*ax.plot([], [], color="k", lw=2,
                                          label="w1·x1 + w2·x2 + b = 0"))
        # the weight vector is normal to the line and points to where z grows
        self._arrow = self.moving(ax.annotate("", xy=(0, 0), xytext=(0, 0), arrowprops={
            "arrowstyle": "->", "color": "k", "lw": 1.5}))
        self._legend = ax.legend(loc="lower left", fontsize=8, frameon=True, framealpha=0.85)
        self._probe = self.moving(*ax.plot([], [], marker="o", ms=8, mfc="yellow", mec="k",
                                           zorder=5))
        ax.set(xlim=(-LIM, LIM), ylim=(-LIM, LIM), xlabel="x1", ylabel="x2",
               title="output over the input plane")
        ax.set_aspect("equal")
        ax.grid(False)
        # the activation function itself, with the probe's z marked
        zs = np.linspace(-zmax, zmax, 301)
        curve = ACTIVATIONS[name][0]()(zs[:, None])[:, 0]
        ax2.plot(zs, curve, color="C0")
        ax2.axhline(0, color="0.7", lw=0.8)
        ax2.axvline(0, color="0.7", lw=0.8)
        self._probe2 = self.moving(*ax2.plot([], [], marker="o", ms=8, mfc="yellow", mec="k"))
        pad = 0.05 * (curve.max() - curve.min())
        ax2.set(xlim=(-zmax, zmax), ylim=(curve.min() - pad, curve.max() + pad),
                xlabel="z = w1·x1 + w2·x2 + b", ylabel="a", title=f"{name}(z)")

    def refresh(self):
        v = self.values
        self._heat.set_data(self._colours.to_rgba(self.a_plane, bytes=True))
        self._probe.set_data([v["x1"]], [v["x2"]])
        self._probe2.set_data([v["z"]], [v["output"]])
        w1, w2, b = v["w1"], v["w2"], v["b"]
        has_line = not (w1 == 0 and w2 == 0)
        self._line.set_visible(has_line)
        self._arrow.set_visible(has_line)
        if self._legend.get_visible() != has_line:  # the legend is in the background
            self._legend.set_visible(has_line)
            self.restage()
        if not has_line:
            return
        t = np.linspace(-2 * LIM, 2 * LIM, 2)
        if abs(w2) >= abs(w1):
            self._line.set_data(t, -(w1 * t + b) / w2)
        else:
            self._line.set_data(-(w2 * t + b) / w1, t)
        norm = np.hypot(w1, w2)
        p0 = np.array([w1, w2]) * (-b / norm**2)  # the point of the line closest to 0
        p0 = np.clip(p0, -LIM * 0.8, LIM * 0.8)
        d = np.array([w1, w2]) / norm * 0.8
        self._arrow.xy = tuple(p0 + d)
        self._arrow.set_position(tuple(p0))

    def readout_html(self):
        v = self.values
        formula = ACTIVATIONS[v["activation"]][1]
        if v["slope"] is not None:
            line = f"x2 = {fmt(v['slope'])}·x1 + {fmt(v['intercept'])}"
        elif v["w1"] != 0:
            line = f"x1 = {fmt(-v['b'] / v['w1'])} (vertical)"
        else:
            line = "none (w1 = w2 = 0: the output is the same everywhere)"
        return (
            f"<b>at the probe</b> x = ({fmt(v['x1'])}, {fmt(v['x2'])}): "
            f"z = {fmt(v['w1'])}·{fmt(v['x1'])} + {fmt(v['w2'])}·{fmt(v['x2'])} + "
            f"{fmt(v['b'])} = <b>{fmt(v['z'])}</b>; "
            f"a = {v['activation']}(z) = <b class='bpl-value'>{fmt(v['output'])}</b> "
            f"&nbsp;({formula})<br>"
            f"<b>line z = 0:</b> {line}; the arrow (w1, w2) points where z increases."
        )


def neuron_playground():
    """Sliders for w1, w2, b and the activation of one neuron; returns the widget.

    The picture shows the neuron's output over the input plane, the line
    w1 x1 + w2 x2 + b = 0 it draws, and the activation curve; the readout gives z and the
    output at a probe point you can move. ``widget.explorer`` is the :class:`NeuronPlayground`.
    """
    return NeuronPlayground().widget
