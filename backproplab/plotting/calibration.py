"""Does a classifier's confidence mean what it says? The reliability diagram of Guo et al.
(2017): predictions sorted into equal-width confidence bins, each bin's accuracy drawn as a
bar against the diagonal of perfect calibration, with the gap to the bin's mean confidence.
The numbers come from :mod:`backproplab.metrics`.
"""

import numpy as np
from matplotlib.colors import to_rgba

from ..metrics import calibration_bins, expected_calibration_error
from . import _style as st

__all__ = ["plot_reliability_diagram"]


@st.styled
def plot_reliability_diagram(probs, y, n_bins=15, ax=None, title=None):
    """Reliability diagram: accuracy per confidence bin against the diagonal.

    Parameters
    ----------
    probs : array (N, C)
        Class probabilities (rows of ``softmax(logits)``); the confidence of a prediction is
        its row's largest probability.
    y : array (N,) of integer labels
    n_bins : int
        Equal-width bins on [0, 1] (15, as Guo et al. and
        :func:`~backproplab.metrics.expected_calibration_error`).
    ax : Axes, optional
    title : str, optional
        Default "Reliability diagram".

    Returns
    -------
    Axes
        ``ax.containers[0]``: one bar per non-empty bin, its height the bin's accuracy;
        ``ax.containers[1]``: the gap from that accuracy to the bin's mean confidence
        (above the bar: overconfident; inside it: underconfident). Each bar is labelled with
        its number of predictions (above the bar or its gap); a box gives the ECE, the
        accuracy and the mean confidence.
        Bars below the diagonal mean overconfidence, bars above it underconfidence.
    """
    bins = calibration_bins(probs, y, n_bins)
    ece = expected_calibration_error(probs, y, n_bins)
    probs = np.asarray(probs, dtype=float)
    accuracy = float(np.mean(probs.argmax(axis=1) == np.asarray(y).astype(int)))
    mean_conf = float(probs.max(axis=1).mean())

    filled = bins.counts > 0
    width = 1.0 / len(bins.counts)
    centres = (bins.edges[:-1] + width / 2)[filled]
    acc, conf = bins.accuracy[filled], bins.confidence[filled]
    fig, ax = st.new_axes(ax, figsize=(4.6, 4.4))
    ax.plot([0, 1], [0, 1], ls="--", color="0.45", lw=1.2, label="perfect calibration",
            zorder=1)
    ax.bar(centres, acc, width=width, color=st.TRAIN, edgecolor="white", lw=0.8,
                  label="accuracy in the bin", zorder=2)
    # see-through, so that the whole accuracy bar shows under an underconfident bin's gap
    ax.bar(centres, np.abs(conf - acc), width=width, bottom=np.minimum(acc, conf),
           color=to_rgba(st.ACCENT, 0.25), edgecolor=st.ACCENT, lw=0.8, hatch="///",
           label="gap to its mean confidence", zorder=3)
    for x, top, count in zip(centres, np.maximum(acc, conf), bins.counts[filled]):
        ax.text(x, top + 0.015, str(count), ha="center", va="bottom", fontsize=7, color="0.25",
                zorder=4)
    # the bottoms of the bars carry no information: the numbers go there, over the bars
    ax.text(0.97, 0.04, f"ECE {ece:.3f} ({len(bins.counts)} bins)\naccuracy {accuracy:.3f}\n"
            f"mean confidence {mean_conf:.3f}\n{len(probs)} predictions",
            transform=ax.transAxes, ha="right", va="bottom", fontsize=8.5, zorder=5,
            bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "0.8"})
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.1)
    ax.set_xlabel("confidence (largest probability)")
    ax.set_ylabel("accuracy")
    ax.set_title(title or "Reliability diagram")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8)
    return ax
