"""What a trained model predicts: decision regions, class probabilities, regression fits,
confusion matrices.

Models are evaluated in eval mode (Dropout off, BatchNorm running statistics) and put back
in the mode they were in.
"""

import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap, PowerNorm

from ..functional import sigmoid, softmax
from . import _style as st

__all__ = ["plot_decision_boundary", "plot_probability_map", "plot_fit", "plot_confusion_matrix",
           "predict_classes"]


def predict_classes(model, X):
    """Class predictions of ``model`` on ``X`` in eval mode (its mode is restored).

    Logits (N, C) with C > 1 give argmax; a single logit, (N, 1) or (N,), gives
    ``logit > 0`` as 0/1.
    """
    out = np.asarray(st.in_eval_mode(model, lambda: model(X)), dtype=float)
    if out.ndim == 2 and out.shape[1] > 1:
        return np.argmax(out, axis=1)
    if out.ndim > 2 or out.shape[0] != len(X):
        raise ValueError(f"expected logits of shape (N, C) or (N, 1), got {out.shape}")
    return (out.reshape(len(X)) > 0).astype(int)


def _labels(y, name="y"):
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{name} must hold one class label per example, got shape {y.shape}")
    if y.dtype.kind == "f":
        if not np.all(y == np.round(y)):
            raise ValueError(f"{name} must hold integer class labels")
        y = y.astype(int)
    return y


def _plane(X, resolution, margin, who):
    """(xs, ys, grid): a regular grid around the 2-D points X, and its points as (M, 2) rows."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"{who} needs 2-D inputs X of shape (N, 2), got {X.shape}")
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = margin * np.where(hi > lo, hi - lo, 1.0)
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.column_stack([gx.ravel(), gy.ravel()])


def decision_grid(model, X, resolution=200, margin=0.15):
    """(xs, ys, classes) with classes[i, j] the prediction at the point (xs[j], ys[i])."""
    xs, ys, grid = _plane(X, resolution, margin, "plot_decision_boundary")
    return xs, ys, predict_classes(model, grid).reshape(len(ys), len(xs))


def probability_grid(model, X, resolution=100, margin=0.15):
    """(xs, ys, P) with P[i, j] the probability of class 1 that a binary classifier gives
    the point (xs[j], ys[i]), in eval mode: softmax of (M, 2) logits, or sigmoid of one."""
    xs, ys, grid = _plane(X, resolution, margin, "plot_probability_map")
    out = np.asarray(st.in_eval_mode(model, lambda: model(grid)), dtype=float)
    if out.ndim == 2 and out.shape[1] == 2:
        p1 = softmax(out)[:, 1]
    elif out.ndim <= 2 and out.size == len(grid):
        p1 = sigmoid(out.reshape(len(grid)))
    else:
        raise ValueError(f"plot_probability_map needs a binary classifier: logits of shape "
                         f"(M, 2) or (M, 1), got {out.shape}")
    return xs, ys, p1.reshape(len(ys), len(xs))


@st.styled
def plot_decision_boundary(model, X, y, ax=None, resolution=200, margin=0.15,
                           class_names=None, title=None):
    """Colour the plane by the class ``model`` predicts, and draw the data on top.

    Parameters
    ----------
    model : Module or callable
        Maps (M, 2) inputs to logits (M, C) (argmax) or (M, 1) (class 1 where > 0).
    X : array (N, 2)
    y : array (N,) of integer labels (or (N, 1) 0/1 targets)
    ax : Axes, optional
    resolution : int
        Grid points per axis.
    margin : float
        Space around the data, as a fraction of its range.
    class_names : list of str, optional
    title : str, optional
        Default: "Decision boundary (accuracy ...)".

    Returns
    -------
    Axes
        ``ax.images[0]`` holds the predicted class at each grid point (pixel centres are the
        grid points); boundaries are drawn as dark lines, classes with colour and marker.
    """
    X = np.asarray(X, dtype=float)
    y = _labels(y)
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    xs, ys, Z = decision_grid(model, X, resolution, margin)
    n_classes = int(max(Z.max(), y.max() if y.size else 0)) + 1
    colors = st.palette(n_classes)
    fig, ax = st.new_axes(ax, figsize=(5.0, 4.4))
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    extent = (xs[0] - dx / 2, xs[-1] + dx / 2, ys[0] - dy / 2, ys[-1] + dy / 2)
    ax.imshow(Z, origin="lower", extent=extent, aspect="auto", interpolation="nearest",
              cmap=ListedColormap([st.light(c, 0.72) for c in colors]),
              norm=BoundaryNorm(np.arange(n_classes + 1) - 0.5, n_classes), zorder=0)
    if np.unique(Z).size > 1:
        ax.contour(xs, ys, Z, levels=np.arange(n_classes - 1) + 0.5, colors="0.3",
                   linewidths=1.0, zorder=1)
    size = 30 if len(X) <= 300 else 14
    for c in range(n_classes):
        pts = X[y == c]
        if len(pts):
            name = class_names[c] if class_names is not None else f"class {c}"
            ax.scatter(pts[:, 0], pts[:, 1], s=size, color=colors[c],
                       marker=st.MARKERS[c % len(st.MARKERS)], edgecolors="white",
                       linewidths=0.5, label=name, zorder=2)
    ax.set_xlim(extent[:2])
    ax.set_ylim(extent[2:])
    ax.grid(False)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    acc = np.mean(predict_classes(model, X) == y) if len(X) else np.nan
    ax.set_title(title or f"Decision boundary (accuracy {acc:.1%})")
    ax.legend(loc="upper right", frameon=True, framealpha=0.85, markerscale=1.2)
    return ax


@st.styled
def plot_probability_map(model, X, y, ax=None, resolution=100, margin=0.15, title=None):
    """How sure a binary classifier is: P(class 1) over the plane, its 0.5 line, the data.

    Red where the model says class 1, blue where it says class 0, white where it is unsure;
    a confident model has a thin white band, a regularised one a wide band.

    Parameters
    ----------
    model : Module or callable
        Maps (M, 2) inputs to logits (M, 2) or a single logit (M, 1); evaluated in eval mode.
    X : array (N, 2)
    y : array (N,) of 0/1 labels (class 1: black squares; class 0: white circles)
    ax : Axes, optional
    resolution : int
        Grid points per axis.
    margin : float
        Space around the data, as a fraction of its range.
    title : str, optional

    Returns
    -------
    Axes
        ``ax.images[0]`` holds P(class 1) at each grid point (for a colorbar:
        ``fig.colorbar(ax.images[0], ...)``).
    """
    X = np.asarray(X, dtype=float)
    y = _labels(y)
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
    xs, ys, P = probability_grid(model, X, resolution, margin)
    fig, ax = st.new_axes(ax, figsize=(4.6, 4.0))
    dx, dy = xs[1] - xs[0], ys[1] - ys[0]
    extent = (xs[0] - dx / 2, xs[-1] + dx / 2, ys[0] - dy / 2, ys[-1] + dy / 2)
    ax.imshow(P, origin="lower", extent=extent, aspect="auto", cmap=st.DIVERGING, vmin=0, vmax=1,
              zorder=0)
    if P.min() < 0.5 < P.max():
        ax.contour(xs, ys, P, levels=[0.5], colors="k", linewidths=1, zorder=1)
    ax.scatter(*X[y == 0].T, s=16, marker="o", facecolors="white", edgecolors="k",
               linewidths=0.6, zorder=2)
    ax.scatter(*X[y == 1].T, s=16, marker="s", color="k", zorder=2)
    ax.set_xlim(extent[:2])
    ax.set_ylim(extent[2:])
    ax.grid(False)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    return ax


def _predict_curve(model, xs, features):
    if callable(getattr(model, "forward", None)):
        inputs = features(xs) if features is not None else xs[:, None]
        out = st.in_eval_mode(model, lambda: model(inputs))
    elif callable(model):
        out = model(xs)
    else:
        raise TypeError(f"plot_fit needs a model or a function, got {type(model).__name__}")
    out = np.asarray(out, dtype=float)
    if out.size != xs.size:
        raise ValueError(f"the model must give one output per point, got shape {out.shape} "
                         f"for {xs.size} points")
    return out.reshape(xs.shape)


@st.styled
def plot_fit(x, y, model_or_fn, ax=None, features=None, true_fn=None, val=None, n=300,
             title=None):
    """A 1-D regression: the data points and the curve(s) the model predicts.

    Parameters
    ----------
    x, y : arrays (N,) or (N, 1)
        Training data.
    model_or_fn : Module, callable, or dict {label: model}
        A Module gets ``features(x_grid)`` (default: x as a column (M, 1)) and must return
        (M, 1) or (M,); a plain function gets the 1-D grid. A dict draws several fits.
    ax : Axes, optional
    features : callable, optional
        Turns the 1-D grid into model inputs, e.g.
        ``lambda x: polynomial_features(x, 9)``.
    true_fn : callable, optional
        The function the data came from, drawn dashed.
    val : (x_val, y_val), optional
        Validation points, drawn as orange squares.
    n : int
        Points on the curve.
    title : str, optional

    Returns
    -------
    Axes
        The y-range follows the data (a wildly overfitting curve leaves the frame rather
        than flattening the picture).
    """
    x, y = np.ravel(np.asarray(x, dtype=float)), np.ravel(np.asarray(y, dtype=float))
    models = model_or_fn if isinstance(model_or_fn, dict) else {"model": model_or_fn}
    all_x, all_y = [x], [y]
    if val is not None:
        all_x.append(np.ravel(val[0]).astype(float))
        all_y.append(np.ravel(val[1]).astype(float))
    all_x, all_y = np.concatenate(all_x), np.concatenate(all_y)
    lo, hi = all_x.min(), all_x.max()
    pad = 0.03 * (hi - lo if hi > lo else 1.0)
    xs = np.linspace(lo - pad, hi + pad, n)
    fig, ax = st.new_axes(ax)
    ax.scatter(x, y, s=22, color="0.2", edgecolors="white", linewidths=0.5, label="train",
               zorder=3)
    if val is not None:
        ax.scatter(np.ravel(val[0]), np.ravel(val[1]), s=22, color=st.VAL, marker="s",
                   edgecolors="white", linewidths=0.5, label="validation", zorder=3)
    if true_fn is not None:
        ax.plot(xs, np.broadcast_to(true_fn(xs), xs.shape), color="0.35", ls="--", lw=1.4,
                label="true function", zorder=2)
    curve_colors = [c for c in st.PALETTE if c not in (st.VAL, st.OKABE_ITO["black"])]
    for i, (label, model) in enumerate(models.items()):
        ax.plot(xs, _predict_curve(model, xs, features), color=curve_colors[i % 6],
                label=label, zorder=2)
    span = all_y.max() - all_y.min() if all_y.size > 1 else 1.0
    span = span if span > 0 else 1.0
    ax.set_ylim(all_y.min() - 0.3 * span, all_y.max() + 0.3 * span)
    ax.set_xlim(xs[0], xs[-1])
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title or "Regression fit")
    ax.legend()
    return ax


@st.styled
def plot_confusion_matrix(y_true, y_pred, classes=None, ax=None, normalize=False,
                          title=None):
    """Confusion matrix: row = true class, column = predicted class, counts in the cells.

    Parameters
    ----------
    y_true : array (N,) of integer labels
    y_pred : array (N,) of integer labels, or logits (N, C) (argmax is taken)
    classes : list of names, optional
        Default: 0 .. K-1.
    ax : Axes, optional
    normalize : bool
        Colour and write each row as fractions of the true class (recall on the diagonal).
    title : str, optional

    Returns
    -------
    Axes
        ``ax.images[0]`` holds the counts (or fractions); each cell has its number as text.
    """
    y_pred = np.asarray(y_pred)
    if y_pred.ndim == 2 and y_pred.shape[1] > 1:
        y_pred = np.argmax(y_pred, axis=1)
    yt, yp = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if len(yt) != len(yp):
        raise ValueError(f"y_true has {len(yt)} labels but y_pred has {len(yp)}")
    if yt.size and min(yt.min(), yp.min()) < 0:
        raise ValueError("class labels must be >= 0")
    k = len(classes) if classes is not None else int(max(yt.max(), yp.max())) + 1
    counts = np.zeros((k, k), dtype=int)
    np.add.at(counts, (yt, yp), 1)
    shown = counts.astype(float)
    if normalize:
        shown = shown / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = min(2.6 + 0.28 * k, 6.0)
    fig, ax = st.new_axes(ax, figsize=(size + 0.3, size))
    # square-root colour scale: a handful of mistakes is still visible next to big counts
    norm = PowerNorm(0.5, vmin=0, vmax=max(shown.max(), 1e-12))
    ax.imshow(shown, cmap="Blues", norm=norm)
    fontsize = 9 if k <= 10 else max(5, 9 - (k - 10) // 3)
    for i in range(k):
        for j in range(k):
            value = shown[i, j]
            text = f"{value:.2f}" if normalize else str(counts[i, j])
            dark = norm(value) > 0.6
            ax.text(j, i, text, ha="center", va="center", fontsize=fontsize,
                    color="white" if dark else "0.15",
                    fontweight="bold" if i == j else "normal")
    names = [str(c) for c in classes] if classes is not None else [str(i) for i in range(k)]
    ax.set_xticks(range(k), names, rotation=45 if max(map(len, names)) > 3 else 0)
    ax.set_yticks(range(k), names)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    acc = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(title or f"Confusion matrix (accuracy {acc:.1%})")
    return ax
