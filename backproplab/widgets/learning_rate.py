"""``learning_rate_explorer()``: gradient descent on a 2-D loss surface, step by step.

The gradient of every step comes from backproplab's ``Value.backward()`` on the surface's
formula, and the update is ``backproplab.optim.SGD`` (PyTorch's momentum rule).
"""

from __future__ import annotations

import math

import numpy as np

from ..layers import Parameter
from ..optim import SGD
from ..scalar import Value
from ._base import (FINE_STEPS, Explorer, dropdown, float_slider, fmt, int_slider,
                    lean_log_axis, log_slider, nice_ceiling, steady_log_range)

__all__ = ["learning_rate_explorer", "LearningRateExplorer", "SURFACES", "Surface"]


class Surface:
    """A loss f(x, y) written with + - * ** only, so it runs on floats, arrays and Values."""

    def __init__(self, label, f, start, minimum, xlim, ylim, default_lr, formula):
        self.label, self.f, self.formula = label, f, formula
        self.start, self.minimum = tuple(start), tuple(minimum)
        self.xlim, self.ylim, self.default_lr = xlim, ylim, default_lr

    def __call__(self, x, y):
        return self.f(x, y)

    def value_and_grad(self, x, y):
        """f and (df/dx, df/dy) at a point, by backpropagation through a ``Value`` graph."""
        px, py = Value(x, label="x"), Value(y, label="y")
        loss = self.f(px, py)
        loss.backward()
        return loss.data, np.array([px.grad, py.grad])

    def hessian(self, x, y, h=1e-5):
        """The 2x2 Hessian at (x, y), by central differences of the backprop gradient."""
        rows = []
        for dx, dy in ((h, 0.0), (0.0, h)):
            gp = self.value_and_grad(x + dx, y + dy)[1]
            gm = self.value_and_grad(x - dx, y - dy)[1]
            rows.append((gp - gm) / (2 * h))
        hess = np.array(rows)
        return (hess + hess.T) / 2


SURFACES = {
    "ill-conditioned quadratic": Surface(
        "ill-conditioned quadratic", lambda x, y: 0.5 * x**2 + 5 * y**2,
        start=(-2.6, 1.3), minimum=(0.0, 0.0), xlim=(-3, 3), ylim=(-1.8, 1.8),
        default_lr=0.05, formula="f = x²/2 + 5 y²"),
    "bowl": Surface(
        "bowl", lambda x, y: 0.5 * x**2 + 0.5 * y**2,
        start=(-2.4, 1.4), minimum=(0.0, 0.0), xlim=(-3, 3), ylim=(-1.8, 1.8),
        default_lr=0.1, formula="f = (x² + y²)/2"),
    "Rosenbrock-like valley": Surface(
        "Rosenbrock-like valley", lambda x, y: (1 - x)**2 + 10 * (y - x**2)**2,
        start=(-1.5, 2.0), minimum=(1.0, 1.0), xlim=(-2, 2), ylim=(-1, 3),
        default_lr=0.005, formula="f = (1 - x)² + 10 (y - x²)²"),
}

BLOW_UP = 1e6  # |x| or |y| beyond this counts as diverged (long before float overflow)


def descend(surface, lr, steps, momentum=0.0):
    """Run ``steps`` steps of SGD (with momentum) from ``surface.start``.

    Returns (path (k+1, 2), losses (k+1,), diverged_at): the run stops at the first step
    whose point or loss is not finite or beyond ``BLOW_UP``; ``diverged_at`` is that step
    (1-based) or None. Never emits an overflow warning.
    """
    p = Parameter(np.array(surface.start, dtype=np.float64), "xy")
    opt = SGD([p], lr=lr, momentum=momentum)
    loss, grad = surface.value_and_grad(*p.data)
    path, losses = [p.data.copy()], [loss]
    diverged_at = None
    with np.errstate(all="ignore"):
        for step in range(1, steps + 1):
            p.grad = grad
            opt.step()
            x, y = (float(t) for t in p.data)
            ok = math.isfinite(x) and math.isfinite(y) and max(abs(x), abs(y)) < BLOW_UP
            if ok:
                try:
                    loss, grad = surface.value_and_grad(x, y)
                except OverflowError:
                    ok = False
            if not ok or not math.isfinite(loss):
                diverged_at = step
                break
            path.append(p.data.copy())
            losses.append(loss)
    return np.array(path), np.array(losses), diverged_at


class LearningRateExplorer(Explorer):
    """Learning rate, number of steps and momentum of gradient descent on a 2-D surface.

    ``values``: ``lr``, ``momentum``, ``steps`` (asked), ``steps_run``, ``path``,
    ``losses``, ``loss_start``, ``loss_end``, ``distance`` (to the minimum), ``moved``
    (distance from the start), ``diverged`` (bool), ``diverged_at`` (step or None),
    ``lr_max`` (the largest stable learning rate at the minimum, 2(1+momentum)/λmax),
    ``status`` (a sentence).
    """

    name = "learning-rate-explorer"
    title = "Gradient descent: learning rate, steps and momentum"
    question = ("on f = x²/2 + 5 y² the steep direction (y) limits the learning rate to "
                "2/λmax = 0.2. What will the path look like at lr 0.19, and at 0.21?")
    look_for = ("at 0.001 the point crawls; at the default 0.05 it drops into the valley "
                "without overshooting, then slides along the floor; above 0.1 every step "
                "overshoots the floor, a zig-zag that shrinks below 0.2 and grows above it. "
                "Then add momentum.")
    live = True

    def make_controls(self):
        surface = SURFACES["ill-conditioned quadratic"]
        return {
            "surface": dropdown("surface", list(SURFACES), surface.label),
            "lr": log_slider("learning rate", surface.default_lr, -4.0, 0.5, step=0.05,
                             readout_format=".3g"),
            "steps": int_slider("steps", 100, 1, 300),
            "momentum": float_slider("momentum", 0.0, 0.0, 0.99, 0.01),
        }

    def control_rows(self):
        c = self.controls
        return [[c["surface"], c["lr"]], [c["steps"], c["momentum"]]]

    def control_changed(self, change):
        if change.owner is self.controls["surface"]:  # a sensible rate for the new surface
            self.controls["lr"].value = SURFACES[change.new].default_lr

    def compute(self):
        c = self.controls
        surface = SURFACES[c["surface"].value]
        lr, steps, mom = float(c["lr"].value), int(c["steps"].value), float(c["momentum"].value)
        path, losses, diverged_at = descend(surface, lr, steps, mom)
        lam_max = float(np.linalg.eigvalsh(surface.hessian(*surface.minimum))[-1])
        lr_max = 2.0 * (1.0 + mom) / lam_max
        dist = float(np.hypot(*(path[-1] - np.array(surface.minimum))))
        moved = float(np.hypot(*(path[-1] - path[0])))
        if diverged_at is not None:
            status = (f"diverged at step {diverged_at}: each step overshoots more than the "
                      f"last. Lower the learning rate below about {fmt(lr_max, 3)}.")
        elif losses[-1] > losses[0]:  # growing, but not yet past BLOW_UP
            status = (f"diverging: the loss grew from {fmt(losses[0], 3)} to "
                      f"{fmt(losses[-1], 3)} in {steps} steps. Lower the learning rate below "
                      f"about {fmt(lr_max, 3)}.")
        elif losses[-1] < 1e-6:
            status = f"converged: loss {fmt(losses[-1], 3)} after {len(losses) - 1} steps."
        elif dist > 0.5 * float(np.hypot(*(np.array(surface.start) - surface.minimum))):
            status = (f"crawling: after {steps} steps the point is still {fmt(dist, 2)} from the "
                      "minimum. A larger learning rate (or momentum) would get there sooner.")
        else:
            status = f"not there yet: {fmt(dist, 3)} from the minimum after {steps} steps."
        self.surface = surface
        return {"surface": surface.label, "lr": lr, "momentum": mom, "steps": steps,
                "steps_run": len(losses) - 1, "path": path, "losses": losses,
                "loss_start": float(losses[0]), "loss_end": float(losses[-1]),
                "distance": dist, "moved": moved, "diverged": diverged_at is not None,
                "diverged_at": diverged_at, "lr_max": lr_max, "status": status}

    def scene(self):
        return self.values["surface"]

    def build(self, fig):
        from ..plotting import plot_loss_surface

        s = self.surface
        ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
        fig.subplots_adjust(left=0.06, right=0.98, bottom=0.14, top=0.9, wspace=0.25)
        plot_loss_surface(s, s.xlim, s.ylim, ax=ax, n=100, log_levels=True, colorbar=False,
                          xlabel="x", ylabel="y")
        ax.plot(*s.minimum, marker="*", ms=12, color="gold", mec="k", zorder=6)
        ax.set_xlim(*s.xlim)
        ax.set_ylim(*s.ylim)
        self._path = []
        self._draw_path()
        legend = ax.legend(loc="upper right", frameon=True, framealpha=0.85)
        legend.get_texts()[-1].set_text("end")  # the steps run are in the readout
        self.moving(ax.title)
        self._curve = self.moving(*ax2.semilogy([1, 2], [1, 2], color="C0"))
        self._blowup = self.moving(*ax2.plot([], [], "rx", ms=10, mew=2))
        self._blowup_text = self.moving(ax2.text(0.5, 0.5, "", color="#b00",
                                                 transform=ax2.transAxes, ha="center",
                                                 fontsize=13, weight="bold"))
        ax2.set(xlabel="step", ylabel="loss (log scale)", title="loss per step")
        ax2.grid(True, which="major", alpha=0.3)
        lean_log_axis(ax2.yaxis)
        self._xmax = self._ylim = None

    def _draw_path(self):
        from ..plotting.surface import draw_path

        s, path = self.surface, self.values["path"]
        ax = self.fig.axes[0]
        self.forget(*self._path)
        self._path = draw_path(ax, path[:, 0], path[:, 1], s.xlim, s.ylim)
        self.moving(*self._path)

    def refresh(self):
        v, s = self.values, self.surface
        ax, ax2 = self.fig.axes
        self._draw_path()
        ax.set_title(f"{s.formula}, lr = {fmt(v['lr'], 3)}", fontsize=10)
        steps = np.arange(len(v["losses"]))
        losses = np.maximum(v["losses"], 1e-300)
        self._curve.set_data(steps, losses)
        self._curve.set_marker("." if len(steps) < 60 else "None")
        self._blowup.set_data(steps[-1:] if v["diverged"] else [],
                              losses[-1:] if v["diverged"] else [])
        self._blowup_text.set_text(f"diverged at step {v['diverged_at']}" if v["diverged"]
                                   else "")
        xmax = nice_ceiling(max(v["steps"], 1), FINE_STEPS)
        ylim = steady_log_range(losses, self._ylim)
        if (xmax, ylim) != (self._xmax, self._ylim):  # the axes move: a new background
            ax2.set_xlim(0, xmax)
            ax2.set_ylim(*ylim)
            self._xmax, self._ylim = xmax, ylim
            self.restage()

    def readout_html(self):
        v = self.values
        color = ("#b00" if v["diverged"] else "#060" if v["status"].startswith("converged")
                 else "#a60")
        return (f"<span class='bpl-status' style='color:{color}'><b>{v['status']}</b></span><br>"
                f"steps run: {v['steps_run']} of {v['steps']} · loss {fmt(v['loss_start'])} → "
                f"<b class='bpl-value'>{fmt(v['loss_end'])}</b> · distance to the minimum "
                f"{fmt(v['distance'])} · stable for lr &lt; 2(1+momentum)/λmax = "
                f"{fmt(v['lr_max'], 3)}")


def learning_rate_explorer():
    """Gradient descent on a 2-D loss surface; returns the widget.

    Sliders: learning rate (log scale), number of steps, momentum; a dropdown picks the
    surface. Shows the path on the contour plot and the loss per step; too small a rate
    crawls, too large a rate diverges (reported, without overflow warnings).
    ``widget.explorer`` is the :class:`LearningRateExplorer`.
    """
    return LearningRateExplorer().widget
