"""How training went: loss/accuracy curves and per-layer gradient norms.

* :func:`plot_history`: the curves of a :class:`~backproplab.train.History`, best epoch marked.
* :func:`plot_gradient_flow`: gradient norm per layer (log scale), latest and over time, to
  see vanishing or exploding gradients.
"""

from collections.abc import Mapping

import numpy as np

from . import _style as st

__all__ = ["plot_history", "plot_gradient_flow"]


def _field(history, key):
    value = history.get(key) if isinstance(history, Mapping) else getattr(history, key, None)
    return [] if value is None else value


@st.styled
def plot_history(history, logy=False, batches=False, title=None):
    """Training (blue) and validation (orange) loss, and accuracy when it was recorded.

    Parameters
    ----------
    history : train.History (or its ``as_dict()``)
    logy : bool
        Log scale for the loss axis (useful when the loss falls by orders of magnitude).
    batches : bool
        Also draw every mini-batch loss, faintly, to show the noise of stochastic gradients.
    title : str, optional
        Figure title.

    Returns
    -------
    Figure
        One panel (loss) or two (loss, accuracy). A dotted vertical line (label
        "best epoch N") marks ``history.best_epoch`` in each panel, with a star on the curve
        that chose it (validation loss, or training loss without validation data).
    """
    epochs = list(_field(history, "epochs"))
    if not epochs:
        raise ValueError("the history has no epochs: train first with fit(...)")
    train_loss, val_loss = _field(history, "train_loss"), _field(history, "val_loss")
    train_acc, val_acc = _field(history, "train_acc"), _field(history, "val_acc")
    best = _field(history, "best_epoch") or None
    has_acc = bool(len(train_acc) or len(val_acc))
    fig, axes = st.pyplot().subplots(1, 2 if has_acc else 1, figsize=(9.5 if has_acc else 5.2,
                                                                     3.5), squeeze=False)
    axes = axes[0]
    panels = [(axes[0], "Loss", "loss", train_loss, val_loss, "min")]
    if has_acc:
        panels.append((axes[1], "Accuracy", "accuracy", train_acc, val_acc, "max"))
    marker = "o" if len(epochs) <= 30 else None
    for ax, name, ylabel, train, val, _ in panels:
        if batches and name == "Loss" and len(_field(history, "batch_loss")):
            bl = np.asarray(_field(history, "batch_loss"), dtype=float)
            x = np.arange(1, bl.size + 1) * (len(epochs) / bl.size) + (epochs[0] - 1)
            ax.plot(x, bl, color=st.light(st.TRAIN, 0.55), lw=0.8, label="batch loss",
                    zorder=1)
        if len(train):
            ax.plot(epochs[:len(train)], train, color=st.TRAIN, marker=marker, ms=3.5,
                    label="train")
        if len(val):
            ax.plot(epochs[:len(val)], val, color=st.VAL, marker=marker, ms=3.5,
                    label="validation")
        if best is not None:
            ax.axvline(best, color=st.ACCENT, ls=":", lw=1.6, label=f"best epoch {best}")
            curve = val if len(val) else train
            if best in epochs and epochs.index(best) < len(curve):
                ax.plot([best], [curve[epochs.index(best)]], ls="none", marker="*", ms=13,
                        color=st.ACCENT, mec="white", mew=0.8, zorder=5)
        ax.set_xlabel("epoch")
        ax.set_ylabel(ylabel)
        ax.set_title(name)
        ax.legend()
    if logy:
        axes[0].set_yscale("log")
    if has_acc:
        axes[1].set_ylim(top=1.02)
    for ax in axes:
        if len(epochs) <= 12:
            ax.set_xticks(epochs)
    stopped = " (stopped early)" if _field(history, "stopped_early") else ""
    fig.suptitle(title or f"Training history{stopped}")
    return fig


STAT_LABELS = {
    "grad_norm": ("\u2016dL/dW\u2016", "Gradient norm per layer"),
    "update_ratio": ("\u2016\u0394W\u2016 / \u2016W\u2016", "Update size per layer"),
}


def gradient_table(source, stat="grad_norm"):
    """(layer labels, steps (T,), values (T, L)) from a Monitor or a dict of norms.

    Accepts a :class:`~backproplab.diagnostics.Monitor` (layers without the statistic are
    left out), ``{layer: norm}`` (what ``diagnostics.gradient_norms`` returns: one record),
    ``{layer: [norm, ...]}`` (one record per entry) or ``monitor.records``.
    """
    if hasattr(source, "records") and hasattr(source, "layers"):
        names = [n for n, _ in source.layers]
        kinds = {n: type(m).__name__ for n, m in source.layers}
        steps = np.asarray(source.steps, dtype=float)
        values = np.array([source.records[n][stat] for n in names], dtype=float).T
        values = values.reshape(len(steps), len(names))
        keep = [i for i in range(len(names)) if not np.all(np.isnan(values[:, i]))]
        return [f"{names[i]} {kinds[names[i]]}" for i in keep], steps, values[:, keep]
    if isinstance(source, Mapping):
        names = [str(k) for k in source]
        cols = []
        for v in source.values():
            if isinstance(v, Mapping):
                v = v[stat]
            cols.append(np.atleast_1d(np.asarray(v, dtype=float)))
        if len({c.size for c in cols}) > 1:
            raise ValueError("every layer needs the same number of records, got "
                             f"{ {n: c.size for n, c in zip(names, cols)} }")
        values = np.stack(cols, axis=1) if cols else np.empty((0, 0))
        keep = [i for i in range(len(names)) if not np.all(np.isnan(values[:, i]))]
        return [names[i] for i in keep], np.arange(len(values), dtype=float), values[:, keep]
    if hasattr(source, "epochs") and hasattr(source, "train_loss"):
        raise TypeError("a History does not record gradient norms: pass a "
                        "diagnostics.Monitor to fit(..., callbacks=[monitor]) and plot that")
    raise TypeError("plot_gradient_flow needs a diagnostics.Monitor or a dict "
                    f"{{layer name: norm}}, got {type(source).__name__}")


@st.styled
def plot_gradient_flow(source, stat="grad_norm", title=None, ax=None):
    """Per-layer gradient norms on a log scale: vanishing gradients at a glance.

    Parameters
    ----------
    source : diagnostics.Monitor, or dict {layer name: norm} (or {layer name: [norms]})
        e.g. ``diagnostics.gradient_norms(model, loss_fn, x, y)``.
    stat : str
        For a Monitor, the statistic to plot: "grad_norm" or "update_ratio".
    title : str, optional
        The figure's title (the panel's title when ``ax`` is given).
    ax : Axes, optional
        Draw only the bar chart of the latest norms, into this Axes.

    Returns
    -------
    Figure (the one holding ``ax`` if given)
        Left: bar chart of the latest norm of each layer, input to output (log scale; a
        zero norm is written as "0" at the bottom). Right, when several records exist: each
        layer's norm over the training steps. Colours go from dark (first layer) to light
        (last layer) in both panels.
    """
    labels, steps, values = gradient_table(source, stat)
    if not labels or not values.size:
        raise ValueError(f"nothing to plot: no layer has a recorded {stat!r}")
    ylabel, default_title = STAT_LABELS.get(stat, (stat, stat))
    given = ax is not None
    over_time = len(steps) > 1 and not given
    if not given:
        fig, axes = st.pyplot().subplots(1, 2 if over_time else 1, squeeze=False,
                                         figsize=(10, 3.8) if over_time else (5.5, 3.8))
        axes = axes[0]
    else:
        fig, axes = ax.figure, [ax]
    colors = st.layer_colors(len(labels))

    ax = axes[0]
    latest = values[-1]
    pos = np.arange(len(labels))
    positive = np.where(latest > 0, latest, np.nan)
    bars = ax.bar(pos, np.nan_to_num(positive, nan=0.0), color=colors, width=0.7)
    ax.set_yscale("log")
    finite = positive[np.isfinite(positive)]
    if finite.size:
        lo, hi = finite.min(), finite.max()
        ax.set_ylim(lo / 10 ** 0.8, hi * 10 ** 0.6)
    for bar, v in zip(bars, latest if len(labels) <= 12 else ()):  # values, if they fit
        text = "0" if v == 0 else ("n/a" if not np.isfinite(v) else f"{v:.1e}")
        y = bar.get_height() if v > 0 and np.isfinite(v) else ax.get_ylim()[0]
        ax.annotate(text, (bar.get_x() + bar.get_width() / 2, y), xytext=(0, 2),
                    textcoords="offset points", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(pos, labels, rotation=30 if len(labels) > 4 else 0,
                  ha="right" if len(labels) > 4 else "center", fontsize=8)
    ax.set_xlabel("layer (input \u2192 output)")
    ax.set_ylabel(ylabel + " (log scale)")
    ax.grid(axis="x", visible=False)
    if not over_time:  # one panel: it carries the title itself
        ax.set_title(default_title if title is None else title)
        return fig
    ax.set_title(f"Latest (step {steps[-1]:g})")
    ax = axes[1]
    for i, label in enumerate(labels):
        v = np.where(values[:, i] > 0, values[:, i], np.nan)
        ax.plot(steps, v, color=colors[i], lw=1.5, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel(ylabel + " (log scale)")
    ax.set_title("Over training")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7.5)
    fig.suptitle(title or default_title)
    return fig
