"""Pictures of arrays: a grid of input images with labels/predictions, and first-layer
weights reshaped to images (what each hidden unit "looks for")."""

import numpy as np

from . import _style as st

__all__ = ["show_images", "plot_weights_as_images"]


def _image_stack(images, shape, name):
    a = st.as_array(images, name)
    if a.ndim == 3:
        return a
    if a.ndim != 2:
        raise ValueError(f"{name} must be (N, height, width) or (N, D), got shape {a.shape}")
    d = a.shape[1]
    if shape is None:
        side = int(round(np.sqrt(d)))
        if side * side != d:
            raise ValueError(f"cannot guess the image shape of {d} pixels: pass shape=(h, w)")
        shape = (side, side)
    if int(np.prod(shape)) != d:
        raise ValueError(f"shape {tuple(shape)} has {int(np.prod(shape))} pixels, "
                         f"but each image has {d}")
    return a.reshape(len(a), *shape)


def _frame(ax, color, width):
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(True)
        spine.set_color(color)
        spine.set_linewidth(width)


@st.styled
def show_images(images, labels, predictions=None, ncols=10, shape=None, max_images=100,
                class_names=None, cmap="gray_r", title=None):
    """A grid of images titled with their labels; wrong predictions framed in vermillion.

    Parameters
    ----------
    images : array (N, h, w), or (N, D) with ``shape`` (square images are guessed: 64 -> 8x8)
    labels : array (N,) or None
    predictions : array (N,) of labels, or logits (N, C) (argmax), optional
        Each title becomes the prediction, "3 (true 8)" when it is wrong.
    ncols : int
    shape : (h, w), optional
    max_images : int
        Only the first ``max_images`` are drawn.
    class_names : list of str, optional
    cmap : str
        Default "gray_r": ink dark on white.
    title : str, optional

    Returns
    -------
    Figure
        One Axes (with one image) per picture.
    """
    imgs = _image_stack(images, shape, "images")[:max_images]
    n = len(imgs)
    if n == 0:
        raise ValueError("no images to show")
    labels = None if labels is None else np.asarray(labels)[:n]
    preds = None if predictions is None else np.asarray(predictions)
    if preds is not None and preds.ndim == 2 and preds.shape[1] > 1:
        preds = np.argmax(preds, axis=1)
    preds = None if preds is None else preds.reshape(-1)[:n]

    def name(c):
        return str(class_names[int(c)]) if class_names is not None else f"{c:g}"

    rows, cols = st.grid_shape(n, ncols)
    fig, axes = st.pyplot().subplots(rows, cols, squeeze=False,
                                     figsize=(0.95 * cols + 0.2, 1.1 * rows + 0.45))
    axes = axes.ravel()
    for extra in axes[n:]:
        extra.set_visible(False)
    wrong = 0
    for i, ax in enumerate(axes[:n]):
        ax.imshow(imgs[i], cmap=cmap, interpolation="nearest")
        bad = preds is not None and labels is not None and preds[i] != labels[i]
        wrong += bad
        if preds is not None:
            text = name(preds[i]) + (f" (true {name(labels[i])})" if bad else "")
        else:
            text = name(labels[i]) if labels is not None else f"#{i}"
        ax.set_title(text, fontsize=8.5, pad=2, color=st.ACCENT if bad else "black",
                     fontweight="bold" if bad else "normal")
        _frame(ax, st.ACCENT if bad else "0.75", 2.5 if bad else 0.6)
    if title is None:
        if preds is not None and labels is not None:
            title = f"Predictions: {wrong} of {n} wrong (framed)"
        else:
            title = "Images and labels" if labels is not None else "Images"
    fig.suptitle(title, fontsize=11)
    return fig


@st.styled
def plot_weights_as_images(W, shape, ncols=8, max_images=64, scale="shared", title=None):
    """First-layer weights as pictures: column j of W (D, H) reshaped to ``shape``.

    Red is positive, blue negative, white 0 (a diverging colormap centred at 0), so each
    picture shows the input pattern that excites (red) or inhibits (blue) hidden unit j.

    Parameters
    ----------
    W : array (D, H), or a Parameter / Linear layer (its ``W``)
    shape : (h, w) with h * w == D
    ncols : int
    max_images : int
        Only the first ``max_images`` units are drawn.
    scale : "shared" or "each"
        One colour scale for all units (compare strengths; a colour bar is drawn), or one
        per unit (see every unit's pattern).
    title : str, optional

    Returns
    -------
    Figure
        One image per hidden unit.
    """
    W = getattr(W, "W", W)
    W = st.as_array(W, "W")
    if W.ndim != 2:
        raise ValueError(f"W must be a (D, H) matrix, got shape {W.shape}")
    if scale not in ("shared", "each"):
        raise ValueError("scale must be 'shared' or 'each'")
    shape = tuple(int(s) for s in shape)
    if int(np.prod(shape)) != W.shape[0]:
        raise ValueError(f"shape {shape} has {int(np.prod(shape))} pixels but W has "
                         f"D = {W.shape[0]} rows")
    H = min(W.shape[1], max_images)
    rows, cols = st.grid_shape(H, ncols)
    fig, axes = st.pyplot().subplots(rows, cols, squeeze=False,
                                     figsize=(1.0 * cols + (0.9 if scale == "shared" else 0.2),
                                              1.05 * rows + 0.45))
    axes = axes.ravel()
    for extra in axes[H:]:
        extra.set_visible(False)
    shared = float(np.max(np.abs(W[:, :H]))) or 1.0
    image = None
    for j, ax in enumerate(axes[:H]):
        col = W[:, j]
        vmax = shared if scale == "shared" else (float(np.max(np.abs(col))) or 1.0)
        image = ax.imshow(col.reshape(shape), cmap=st.DIVERGING, vmin=-vmax, vmax=vmax,
                          interpolation="nearest")
        ax.set_title(f"unit {j}", fontsize=8, pad=2)
        _frame(ax, "0.75", 0.6)
    if scale == "shared":
        fig.colorbar(image, ax=list(axes[:H]), shrink=0.8, aspect=30, label="weight")
    fig.suptitle(title or f"Weights of {H} hidden units as {shape[0]}x{shape[1]} images",
                 fontsize=11)
    return fig
