"""How good a classifier's probabilities are: calibration, measured as in Guo et al. (2017),
"On calibration of modern neural networks".

A classifier is *calibrated* when its confidence means what it says: of all the predictions
made with confidence 0.8, 80 % are right. To check, sort the predictions into ``n_bins``
equal-width bins by their confidence (the largest probability of each row) and compare, in
each bin, the mean confidence with the fraction that is right. A reliability diagram
(:func:`backproplab.plotting.plot_reliability_diagram`) draws the bins; the *expected
calibration error* sums the gaps, each weighted by its share of the predictions::

    ECE = sum over bins b of  (n_b / N) * | accuracy(b) - confidence(b) |

Bin ``b`` (0-based) holds the confidences in ``(b / n_bins, (b + 1) / n_bins]``; the first bin
also holds 0, so every confidence in [0, 1] has exactly one bin (1.0 falls in the last).
"""

from collections import namedtuple

import numpy as np

from ._validate import ShapeError, as_float_array

__all__ = ["CalibrationBins", "calibration_bins", "expected_calibration_error"]

CalibrationBins = namedtuple("CalibrationBins", "edges counts confidence accuracy")
CalibrationBins.__doc__ = """Per-bin calibration statistics, arrays of shape (n_bins,) except
``edges`` (n_bins + 1,). ``confidence`` and ``accuracy`` are NaN for empty bins."""


def _check(probs, y, n_bins):
    probs = as_float_array(probs, "probs")
    if probs.ndim != 2 or probs.shape[0] == 0 or probs.shape[1] < 2:
        raise ShapeError(f"calibration needs class probabilities of shape (N, C) with N >= 1 "
                         f"and C >= 2, got {probs.shape} (for a binary classifier with "
                         f"p = P(class 1), pass np.column_stack([1 - p, p]))")
    if not np.all(np.isfinite(probs)):
        raise ValueError("probs contains NaN or inf")
    sums = probs.sum(axis=1)
    if np.any(probs < 0) or not np.allclose(sums, 1.0, rtol=0, atol=1e-6):
        worst = int(np.argmax(np.abs(sums - 1)))
        raise ValueError(f"each row of probs must be probabilities (>= 0, summing to 1); row "
                         f"{worst} sums to {sums[worst]:.4g}: pass softmax(logits), not logits")
    y = np.asarray(y)
    if y.shape != (len(probs),):
        raise ShapeError(f"y must hold one label per row of probs, shape ({len(probs)},), "
                         f"got {y.shape}")
    if y.dtype.kind not in "iu" and not (y.dtype.kind == "f" and np.all(y == np.round(y))):
        raise TypeError(f"y must hold integer class labels, got dtype {y.dtype}")
    y = y.astype(int)
    if y.min() < 0 or y.max() >= probs.shape[1]:
        raise ValueError(f"labels must be in 0 .. {probs.shape[1] - 1}, got {y.min()} .. "
                         f"{y.max()}")
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    return probs, y, int(n_bins)


def calibration_bins(probs, y, n_bins=15):
    """Sort predictions into equal-width confidence bins.

    probs : (N, C) class probabilities (rows of softmax(logits)); y : (N,) integer labels.
    n_bins : M, the number of equal-width bins on [0, 1] (Guo et al. use 15).

    Returns :class:`CalibrationBins`: ``edges`` (M + 1,), and per bin (M,) ``counts`` (ints),
    ``confidence`` (the mean of the rows' largest probability) and ``accuracy`` (the fraction
    whose argmax is the label), NaN where a bin is empty.
    """
    probs, y, n_bins = _check(probs, y, n_bins)
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == y).astype(float)
    edges = np.arange(n_bins + 1) / n_bins  # k / M exactly: no drift as with k * (1 / M)
    # searchsorted 'left' gives b + 1 for edges[b] < c <= edges[b + 1]; c = 0 joins bin 0
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    counts = np.bincount(which, minlength=n_bins)
    with np.errstate(invalid="ignore"):  # 0 / 0 -> NaN marks an empty bin
        mean_conf = np.bincount(which, confidence, minlength=n_bins) / counts
        accuracy = np.bincount(which, correct, minlength=n_bins) / counts
    return CalibrationBins(edges, counts, mean_conf, accuracy)


def expected_calibration_error(probs, y, n_bins=15):
    """ECE = sum_b (n_b / N) |accuracy_b - confidence_b| over equal-width confidence bins.

    probs : (N, C) class probabilities; y : (N,) integer labels; n_bins : M (default 15, as
    Guo et al. 2017). Returns a float in [0, 1]: 0 when every bin's accuracy equals its mean
    confidence. Empty bins contribute nothing. On a few hundred predictions, most bins hold
    a handful of them, so even a perfectly calibrated model measures an ECE above 0.
    """
    bins = calibration_bins(probs, y, n_bins)
    filled = bins.counts > 0
    weights = bins.counts[filled] / bins.counts.sum()
    return float(np.sum(weights * np.abs(bins.accuracy[filled] - bins.confidence[filled])))
