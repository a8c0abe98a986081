"""Where a gradient is wrong: a heat map of per-entry relative errors of a gradient check.

A wrong backward pass leaves a *pattern*: one bad row (a transposed index), a whole tensor
off by the batch size (a missing sum over the batch), every other entry (a wrong stride).
Passing entries are pale blue, failing ones (above ``tol``) orange to dark red, unchecked
ones (sparse mode) light grey, on one log scale for all tensors.
"""

import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.colors import ListedColormap, LogNorm
from matplotlib.ticker import MaxNLocator

from . import _style as st

__all__ = ["plot_gradcheck", "error_colormap"]

UNCHECKED = "#E6E6E6"


def error_colormap(tol, vmin, vmax=1.0, n=256):
    """A colormap over [vmin, vmax] (log scale) that turns from pale blue to orange at tol."""
    split = (np.log10(tol) - np.log10(vmin)) / (np.log10(vmax) - np.log10(vmin))
    k = int(np.clip(round(split * n), 1, n - 1))
    ok = colormaps["Blues"](np.linspace(0.08, 0.45, k))
    bad = colormaps["YlOrRd"](np.linspace(0.4, 1.0, n - k))
    return ListedColormap(np.vstack([ok, bad]), name="gradcheck").with_extremes(bad=UNCHECKED)


def _as_matrix(a):
    """A 2-D view for display: scalars (1, 1), vectors (1, n), higher ranks (n0, rest)."""
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(1, -1)
    return a.reshape(a.shape[0], -1)


@st.styled
def plot_gradcheck(report, ncols=3, vmin=None, title=None):
    """Heat maps of a :class:`~backproplab.gradcheck.GradCheckReport`'s relative errors.

    Parameters
    ----------
    report : GradCheckReport
        Uses ``rel_errors`` (name -> per-entry errors, NaN where unchecked), ``errors``
        and ``tol``.
    ncols : int
        Panels per row (one panel per tensor).
    vmin : float, optional
        Bottom of the log colour scale (default 1e-12, or lower if ``tol`` is tiny). Errors
        of 0 are drawn in the bottom colour; inf in the top colour.
    title : str, optional

    Returns
    -------
    Figure
        One image per tensor (``fig.axes[i].images[0]``; vectors are shown as one row,
        tensors of rank > 2 as (shape[0], rest)); the colour bar marks ``tol``.
    """
    rel = dict(getattr(report, "rel_errors", {}) or {})
    if not rel:
        raise ValueError("the report has no per-entry errors to draw")
    tol = float(report.tol)
    vmin = vmin if vmin is not None else min(1e-12, tol / 100)
    norm = LogNorm(vmin=vmin, vmax=1.0, clip=True)
    cmap = error_colormap(tol, vmin)
    errors = getattr(report, "errors", {}) or {}

    rows, cols = st.grid_shape(len(rel), ncols)
    fig, axes = st.pyplot().subplots(rows, cols, squeeze=False,
                                     figsize=(3.3 * cols + 1.0, 2.9 * rows + 0.5))
    axes = axes.ravel()
    for extra in axes[len(rel):]:
        extra.set_visible(False)
    for ax, (name, err) in zip(axes, rel.items()):
        err = np.asarray(err, dtype=float)
        shown = _as_matrix(np.where(np.isposinf(err), 1.0, err))
        ax.imshow(shown, cmap=cmap, norm=norm, aspect="auto", interpolation="nearest")
        rows_, cols_ = shown.shape  # near-square cells, within sensible panel proportions
        ax.set_box_aspect(float(np.clip(rows_ / cols_, 0.12 if rows_ == 1 else 0.3, 1.6)))
        ax.grid(False)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
        if err.ndim <= 1:
            ax.set_yticks([])
            ax.set_ylabel("vector")
            ax.set_xlabel("index")
        else:
            ax.set_ylabel("row i")
            ax.set_xlabel("column j" if err.ndim == 2 else "flattened other axes")
        checked = int(np.sum(~np.isnan(err)))
        worst = errors.get(name, np.nanmax(err) if checked else np.nan)
        verdict = "PASS" if worst <= tol else "FAIL"  # NaN (unchecked) -> FAIL
        partial = f", {checked}/{err.size} checked" if 0 < checked < err.size else ""
        ax.set_title(f"{name} {tuple(err.shape)}{partial}\nmax {worst:.1e}  {verdict}",
                     fontsize=10, color="black" if verdict == "PASS" else st.ACCENT)
        if checked == 0:
            msg = ("'fast' mode checks directions,\nnot single entries"
                   if getattr(report, "mode", "") == "fast" else "not checked")
            ax.text(0.5, 0.5, msg, transform=ax.transAxes, ha="center", va="center",
                    fontsize=8, color="0.3")
    cbar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=list(axes[:len(rel)]),
                        shrink=0.9, aspect=25)
    cbar.set_label("relative error |a \u2212 n| / max(|a| + |n|, floor)")
    cbar.ax.axhline(tol, color="black", lw=1.6)
    decades = [10.0 ** e for e in range(int(np.ceil(np.log10(vmin))), 1, 2)
               if abs(e - np.log10(tol)) > 0.9]
    ticks = sorted(decades + [tol])
    cbar.set_ticks(ticks, labels=[f"tol {t:.0e}" if t == tol else f"$10^{{{np.log10(t):.0f}}}$"
                                  for t in ticks])
    cbar.ax.minorticks_off()
    for label in cbar.ax.get_yticklabels():
        if label.get_text().startswith("tol"):
            label.set_fontweight("bold")
    passed = bool(getattr(report, "passed", all(e <= tol for e in errors.values())))
    mode = getattr(report, "mode", None)
    fig.suptitle(title or f"Gradient check {'PASSED' if passed else 'FAILED'}"
                 + (f" (mode {mode!r})" if mode else ""),
                 color="black" if passed else st.ACCENT)
    return fig
