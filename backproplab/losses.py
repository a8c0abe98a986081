"""Loss functions: ``loss = fn(pred, target)`` returns a float, ``fn.backward()`` returns
dL/d(pred), with the shape and dtype of ``pred``.

Reductions follow PyTorch's defaults, so numbers agree with ``torch.nn``:
``MSELoss`` and ``BCEWithLogitsLoss`` average over *all elements*, ``CrossEntropyLoss`` and
``MultiMarginLoss`` average over the *batch*. The 1/N of the mean appears in every backward
pass.
"""

import numpy as np

from ._validate import ShapeError, as_float_array
from .functional import log_sigmoid, log_softmax, sigmoid, softmax

__all__ = ["Loss", "MSELoss", "L1Loss", "CrossEntropyLoss", "BCEWithLogitsLoss",
           "MultiMarginLoss"]


class Loss:
    """Base class: ``__call__(pred, target) -> float`` caches what ``backward()`` needs."""

    def __init__(self):
        self.cache = None

    def __call__(self, pred, target):
        return self.forward(pred, target)

    def backward(self):
        """dL/d(pred), shape and dtype of the last ``pred``."""
        if self.cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward() was called before the loss "
                               "was computed: call loss_fn(pred, target) first")
        return self._backward(*self.cache)

    def __repr__(self):
        return f"{type(self).__name__}()"

    def _pred(self, pred):
        pred = as_float_array(pred, "pred")
        if pred.size == 0:
            raise ShapeError(f"{type(self).__name__} got an empty batch {pred.shape}: "
                             "the mean of no examples is undefined")
        return pred

    def _same_shape(self, pred, target):
        target = as_float_array(target, "target", dtype=pred.dtype)
        if target.shape != pred.shape:
            raise ShapeError(f"{type(self).__name__}: pred has shape {pred.shape} but target "
                             f"has shape {target.shape}; they must match")
        return target

    def _scores(self, scores):
        """Class scores of shape (N, C) (logits), as float."""
        scores = self._pred(scores)
        if scores.ndim != 2:
            raise ShapeError(f"{type(self).__name__} expects logits of shape (N, C), got "
                             f"{scores.shape}")
        return scores

    def _labels(self, labels, shape):
        """Integer class labels of shape (N,), each in [0, C), for scores of ``shape`` (N, C)."""
        name = type(self).__name__
        labels = np.asarray(labels)
        n, c = shape
        if labels.shape == shape:
            raise ShapeError(f"{name} expects class labels of shape ({n},), got shape "
                             f"{labels.shape}: they look one-hot; pass labels.argmax(axis=1)")
        if labels.dtype.kind not in "iu":
            raise TypeError(f"{name} expects integer class labels, got dtype "
                            f"{labels.dtype} (use y.astype(int) if they are whole numbers)")
        if labels.shape != (n,):
            raise ShapeError(f"{name}: logits have batch size {n} (shape {shape}) but "
                             f"labels have shape {labels.shape}; expected ({n},)")
        if labels.min() < 0 or labels.max() >= c:
            raise ValueError(f"{name}: labels must be in [0, {c}) for {c} classes; "
                             f"got values from {labels.min()} to {labels.max()}")
        return labels


class MSELoss(Loss):
    """Mean squared error over all elements: L = mean((pred - target)^2).

    Shapes: pred, target (N, ...) the same. Backward: 2 (pred - target) / pred.size.
    """

    def forward(self, pred, target):
        pred = self._pred(pred)
        diff = pred - self._same_shape(pred, target)
        self.cache = (diff,)
        return float(np.mean(diff * diff))

    def _backward(self, diff):
        return diff * (2.0 / diff.size)


class L1Loss(Loss):
    """Mean absolute error over all elements: L = mean(|pred - target|).

    Shapes: pred, target (N, ...) the same. Backward: sign(pred - target) / pred.size (0
    where they are equal, as PyTorch). Outliers pull on it far less than on MSE.
    """

    def forward(self, pred, target):
        pred = self._pred(pred)
        diff = pred - self._same_shape(pred, target)
        self.cache = (diff,)
        return float(np.mean(np.abs(diff)))

    def _backward(self, diff):
        return np.sign(diff) / diff.size


class CrossEntropyLoss(Loss):
    """Softmax cross-entropy from logits, averaged over the batch.

    L = -(1/N) sum_n log softmax(z_n)[y_n], computed with a fused, stable log-softmax.

    Shapes: logits z (N, C); labels y (N,) integers in [0, C).
    Backward: (softmax(z) - onehot(y)) / N, shape (N, C).
    """

    def forward(self, logits, labels):
        logits = self._scores(logits)
        labels = self._labels(labels, logits.shape)
        logp = log_softmax(logits, axis=1)
        rows = np.arange(len(labels))
        self.cache = (logp, labels)
        return float(-logp[rows, labels].mean())

    def _backward(self, logp, labels):
        grad = np.exp(logp)  # softmax probabilities, reusing the stable log-softmax
        grad[np.arange(len(labels)), labels] -= 1
        grad /= len(labels)
        return grad

    @staticmethod
    def probabilities(logits):
        """softmax(logits) along the class axis: (N, C) -> (N, C)."""
        return softmax(logits, axis=1)


class BCEWithLogitsLoss(Loss):
    """Binary cross-entropy from logits, averaged over all elements.

    L = -mean(y log s(z) + (1 - y) log(1 - s(z))), s = sigmoid, computed stably as
    mean(-y log_sigmoid(z) - (1 - y) log_sigmoid(-z)).

    Shapes: logits z and targets y the same (N, ...); y in [0, 1].
    Backward: (s(z) - y) / z.size.
    """

    def forward(self, logits, targets):
        logits = self._pred(logits)
        targets = self._same_shape(logits, targets)
        if targets.min() < 0 or targets.max() > 1:
            raise ValueError("BCEWithLogitsLoss targets must lie in [0, 1]")
        self.cache = (logits, targets)
        return float(np.mean(-targets * log_sigmoid(logits)
                             - (1 - targets) * log_sigmoid(-logits)))

    def _backward(self, logits, targets):
        return (sigmoid(logits) - targets) / logits.size


class MultiMarginLoss(Loss):
    """Multi-class hinge loss (the SVM loss) from class scores, averaged over the batch, as
    PyTorch's ``nn.MultiMarginLoss``.

    Each wrong class c costs the amount by which its score comes within ``margin`` of the
    right class's score (or beats it); a wrong class that trails by more than the margin
    costs nothing::

        l_n = (1/C) sum_{c != y_n} max(0, margin - z[n, y_n] + z[n, c]) ** p,   L = mean_n l_n

    The 1/C is PyTorch's; CS231n's multiclass SVM loss is the same sum without it.
    ``p = 1`` is the hinge, ``p = 2`` the squared hinge.

    Shapes: scores z (N, C) (logits); labels y (N,) integers in [0, C).
    Backward, shape (N, C): each active term (its max(0, ...) > 0) adds
    p * term ** (p - 1) / (N C) at its class c and subtracts it at y_n; inactive terms add 0.
    """

    def __init__(self, p=1, margin=1.0):
        super().__init__()
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss supports p = 1 or 2 (as PyTorch), got {p!r}")
        self.p, self.margin = p, float(margin)

    def __repr__(self):
        return f"MultiMarginLoss(p={self.p}, margin={self.margin:g})"

    def forward(self, scores, labels):
        scores = self._scores(scores)
        labels = self._labels(labels, scores.shape)
        rows = np.arange(len(labels))
        terms = np.maximum(0.0, self.margin - scores[rows, labels][:, None] + scores)  # (N, C)
        terms[rows, labels] = 0.0  # the right class is not compared with itself
        self.cache = (terms, labels)
        return float(np.mean(np.sum(terms ** self.p, axis=1)) / scores.shape[1])

    def _backward(self, terms, labels):
        n, c = terms.shape
        grad = np.where(terms > 0, self.p * terms ** (self.p - 1), 0.0) / (n * c)
        # the right score enters every active term with -1 (0.0 - ...: an exact 0, not -0.0)
        grad[np.arange(n), labels] = 0.0 - grad.sum(axis=1)
        return grad
