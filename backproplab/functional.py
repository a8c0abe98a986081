"""Numerically stable element-wise and normalising functions on numpy arrays.

Naive formulas overflow: ``exp(1000)`` is inf, so ``exp(z) / exp(z).sum()`` gives nan for
logits like [1000, 1001]. Each function here rewrites the formula so that ``exp`` only ever
sees numbers <= 0.
"""

import numpy as np

__all__ = ["sigmoid", "logsumexp", "softmax", "log_softmax", "log_sigmoid"]


def sigmoid(x):
    """Logistic function 1 / (1 + e^-x), stable for any x. Shape and dtype of ``x``.

    Uses e^-|x| in both branches: for x >= 0, 1/(1+e^-x); for x < 0, e^x/(1+e^x).
    """
    x = np.asarray(x)
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def log_sigmoid(x):
    """log(sigmoid(x)) = -log(1 + e^-x), stable for any x. Shape of ``x``."""
    x = np.asarray(x)
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


def logsumexp(x, axis=-1, keepdims=False):
    """log(sum(exp(x))) along ``axis``, computed as m + log(sum(exp(x - m))) with m = max(x).

    x: (..., C) -> (...) (or (..., 1) with ``keepdims``).
    """
    x = np.asarray(x)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)  # all -inf row: avoid inf - inf
    with np.errstate(divide="ignore"):  # log(0) = -inf is the right answer for all -inf
        out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def log_softmax(x, axis=-1):
    """log(softmax(x)) = x - logsumexp(x), stable. Shape of ``x``: (..., C)."""
    x = np.asarray(x)
    return x - logsumexp(x, axis=axis, keepdims=True)


def softmax(x, axis=-1):
    """Probabilities exp(x_i) / sum_j exp(x_j) along ``axis``; subtracts the max first.

    x: (..., C) -> (..., C), each slice along ``axis`` sums to 1.
    """
    x = np.asarray(x)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)
