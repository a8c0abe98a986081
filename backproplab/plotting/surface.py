"""Loss as a function of one parameter (a curve) or two (a contour map), with a descent path."""

import inspect

import numpy as np
from matplotlib.colors import BoundaryNorm

from . import _style as st

__all__ = ["plot_loss_surface", "evaluate_loss", "draw_path"]


def _n_params(fn):
    """How many required positional parameters ``fn`` takes, or None if it cannot tell."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind == p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
               for p in params)


def _scalar(v):
    return float(getattr(v, "data", v))  # a scalar Value gives its .data


def evaluate_loss(fn, *grids):
    """``fn`` at every point of same-shaped arrays ``grids``: one vectorised call if ``fn``
    accepts arrays (returning the grid's shape), else one call per point."""
    shape = np.shape(grids[0])
    with np.errstate(all="ignore"):
        try:
            out = np.asarray(fn(*grids), dtype=float)
            if out.shape == shape:
                return out
        except Exception:  # math.exp on an array, `if w > 0` ...: fall back to a loop
            pass
        flat = [g.ravel() for g in np.broadcast_arrays(*grids)]
        out = np.array([_scalar(fn(*map(float, point))) for point in zip(*flat)])
    return out.reshape(shape)


def _log_levels(z, n):
    """``n`` levels between min and max of z, dense near the minimum (log-spaced gaps)."""
    lo, hi = np.nanmin(z), np.nanmax(z)
    span = hi - lo if hi > lo else 1.0
    return lo + np.concatenate([[0.0], np.geomspace(span * 1e-4, span, n - 1)])


def draw_path(ax, px, py, xrange, yrange):
    """The visited points ``(px[t], py[t])`` joined by a line, start and end marked, and
    arrowheads (at most ~30) on every step longer than 2.5 % of the plot and about every 8 %
    of the way; ``xrange``, ``yrange``: the plot's ranges. Returns the artists it added
    (so that an explorer can replace the path)."""
    color = st.ACCENT
    artists = ax.plot(px, py, color=color, lw=1.2, marker="o", ms=3.5, mec="white", mew=0.5,
                      zorder=4, label="descent path")
    steps = len(px) - 1
    with np.errstate(all="ignore"):
        size = np.hypot(np.diff(px) / (xrange[1] - xrange[0]),
                        np.diff(py) / (yrange[1] - yrange[0]))
    size = np.nan_to_num(size)
    walked = np.concatenate([[0.0], np.cumsum(size)]) / 0.08  # one arrow per 8 % walked
    marked = np.flatnonzero((size > 0.025) | (np.floor(walked[1:]) > np.floor(walked[:-1])))
    for t in marked[::max(1, -(-len(marked) // 30))]:
        artists.append(ax.annotate("", xy=(px[t + 1], py[t + 1]), xytext=(px[t], py[t]),
                                   arrowprops=dict(arrowstyle="-|>", color=color, lw=1.2,
                                                   mutation_scale=10, shrinkA=0, shrinkB=2.5),
                                   zorder=5, annotation_clip=True))
    artists += ax.plot(px[:1], py[:1], ls="none", marker="o", ms=9, color=color, mec="white",
                       mew=1.2, zorder=6, label="start")
    artists += ax.plot(px[-1:], py[-1:], ls="none", marker="*", ms=14, color=color,
                       mec="white", mew=0.8, zorder=6, label=f"end (step {steps})")
    return artists


@st.styled
def plot_loss_surface(loss, xlim=(-2, 2), ylim=None, path=None, ax=None, n=None,
                      levels=20, log_levels=False, equal_aspect=True, xlabel=None,
                      ylabel=None, title=None, colorbar=True):
    """Draw ``loss`` over one parameter (curve) or two (filled contours), and a path on it.

    Parameters
    ----------
    loss : callable
        ``loss(w) -> float`` (curve) or ``loss(w1, w2) -> float`` (contours). NumPy-friendly
        functions are evaluated on the whole grid at once; others point by point (a scalar
        ``Value`` result is fine).
    xlim, ylim : (float, float)
        Parameter ranges; ``ylim`` defaults to ``xlim`` for two parameters.
    path : array (T,) / (T, 1) or (T, 2), optional
        Points visited by gradient descent, drawn with markers and arrows, start (circle)
        and end (star) marked.
    ax : Axes, optional
    n : int, optional
        Grid points per axis (400 for a curve, 150 for contours).
    levels : int
        Number of contour levels.
    log_levels : bool
        Log-spaced levels, dense near the minimum: shows narrow valleys (ill-conditioning).
    equal_aspect : bool
        Same scale on both parameter axes, so the gradient looks perpendicular to the
        contour lines (as it is).
    xlabel, ylabel, title : str, optional
    colorbar : bool
        A colour bar for the contours.

    Returns
    -------
    Axes
        1-D: ``ax.lines[0]`` is the curve. 2-D: the filled contour set is
        ``ax.collections[0]``.
    """
    n_params = _n_params(loss)
    if n_params not in (1, 2):
        two = ylim is not None or (path is not None and np.ndim(path) == 2
                                   and np.shape(path)[1] == 2)
        n_params = 2 if two else 1
    fig, ax = st.new_axes(ax, figsize=(5.0, 3.6) if n_params == 1 else (5.2, 4.4))
    pts = None if path is None else np.asarray(path, dtype=float)
    if pts is not None:
        pts = pts.reshape(-1, 1) if pts.ndim == 1 else pts
        if pts.ndim != 2 or pts.shape[1] != n_params:
            raise ValueError(f"path must have shape (T, {n_params}) for a loss of {n_params} "
                             f"parameter(s), got {np.shape(path)}")

    if n_params == 1:
        xs = np.linspace(*xlim, n or 400)
        curve = evaluate_loss(loss, xs)
        ax.plot(xs, curve, color=st.TRAIN, label="loss", zorder=3)
        if pts is not None:
            finite = curve[np.isfinite(curve)]
            yrange = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
            draw_path(ax, pts[:, 0], evaluate_loss(loss, pts[:, 0]), xlim,
                       yrange if yrange[1] > yrange[0] else (yrange[0], yrange[0] + 1.0))
            ax.legend()
        ax.set_xlim(*xlim)
        ax.set_xlabel(xlabel or "w")
        ax.set_ylabel(ylabel or "loss")
        ax.set_title(title or "Loss curve")
        return ax

    ylim = xlim if ylim is None else ylim
    xs, ys = np.linspace(*xlim, n or 150), np.linspace(*ylim, n or 150)
    gx, gy = np.meshgrid(xs, ys)
    z = evaluate_loss(loss, gx, gy)
    finite = z[np.isfinite(z)]
    if finite.size == 0:
        raise ValueError("the loss is not finite anywhere on the grid")
    lv = _log_levels(finite, levels) if log_levels else levels
    if log_levels:  # one colour step per level, not per unit of loss
        filled = ax.contourf(gx, gy, z, levels=lv, cmap=st.SEQUENTIAL, zorder=1,
                             norm=BoundaryNorm(lv, 256))
    else:
        filled = ax.contourf(gx, gy, z, levels=lv, cmap=st.SEQUENTIAL, zorder=1)
    ax.contour(gx, gy, z, levels=filled.levels, colors="white", linewidths=0.4, alpha=0.6,
               zorder=2)
    if colorbar:
        cbar = fig.colorbar(filled, ax=ax, shrink=0.9)
        cbar.set_label("loss")
        if log_levels:
            ticks = filled.levels[::max(1, len(filled.levels) // 6)]
            cbar.set_ticks(ticks, labels=[f"{t:.2g}" for t in ticks])
    if pts is not None:
        draw_path(ax, pts[:, 0], pts[:, 1], xlim, ylim)
        ax.legend(loc="upper right", frameon=True, framealpha=0.85)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    if equal_aspect:
        ax.set_aspect("equal")
    ax.grid(False)
    ax.set_xlabel(xlabel or "$w_1$")
    ax.set_ylabel(ylabel or "$w_2$")
    ax.set_title(title or "Loss surface")
    return ax
