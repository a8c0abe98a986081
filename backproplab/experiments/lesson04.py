"""Lesson 04's training experiment: the overfit-a-tiny-batch check.

A network with far more parameters than examples, trained on a handful of examples alone, must
drive its loss to about 0 and get every example right. If it cannot, something in the model,
its backward pass or the training loop is broken. The lesson shows :func:`train_steps`' source
as its training loop and states :data:`CLAIMS` over :data:`~backproplab.experiments.SEEDS`;
a seed draws the tiny batch and the initial weights.
"""

import numpy as np

from ..data import make_spiral
from ..layers import Linear, ReLU, Sequential
from ..losses import CrossEntropyLoss
from . import Claim


def train_steps(model, X, y, steps, lr):
    """Full-batch gradient descent on the cross-entropy; returns the loss of every step."""
    loss_fn, losses = CrossEntropyLoss(), []
    for _ in range(steps):
        model.zero_grad()                                   # gradients accumulate: reset
        losses.append(loss_fn(model(X), y))                 # forward, and the loss
        model.backward(loss_fn.backward(), input_grad=False)  # backward: every p.grad
        for p in model.parameters():                        # a step against the gradient
            p.data -= lr * p.grad
    return losses


class ReLUMaskFromGradient(ReLU):
    """A planted bug: the ReLU mask taken from the sign of the upstream gradient instead of
    from the layer's input. The forward pass is right; only backward() is wrong."""

    def backward(self, grad_out, input_grad=True):
        return grad_out * (grad_out > 0) if input_grad else None


def tiny_batch(seed, n=12):
    """``n`` examples drawn at random from a 300-point spiral: X (n, 2), y (n,)."""
    X, y = make_spiral(n_samples=300, seed=seed)
    pick = np.random.default_rng(seed).choice(len(X), size=n, replace=False)
    return X[pick], y[pick]


def tiny_network(seed, hidden=64, bug=None):
    """A 2-``hidden``-3 ReLU network, initialised from ``seed``; ``bug="relu_mask"`` plants
    :class:`ReLUMaskFromGradient`."""
    rng = np.random.default_rng(seed)
    return Sequential(Linear(2, hidden, rng=rng),
                      ReLUMaskFromGradient() if bug == "relu_mask" else ReLU(),
                      Linear(hidden, 3, rng=rng))


def overfit_tiny_batch(seed, n=12, hidden=64, steps=500, lr=1.0, bug=None):
    """Train ``tiny_network(seed, hidden, bug)`` on ``tiny_batch(seed, n)`` alone. Returns the
    first and final loss and the final training accuracy."""
    X, y = tiny_batch(seed, n)
    model = tiny_network(seed, hidden, bug)
    losses = train_steps(model, X, y, steps, lr)
    accuracy = float(np.mean(np.argmax(model(X), axis=1) == y))
    return {"first_loss": losses[0], "final_loss": losses[-1], "accuracy": accuracy}


CLAIMS = [
    Claim("a 2-64-3 network overfits 12 examples: after 500 steps the loss is below 0.05 and "
          "every example is right", overfit_tiny_batch,
          each=lambda r: r["final_loss"] < 0.05 and r["accuracy"] == 1.0),
    Claim("with the ReLU mask taken from the gradient's sign it cannot: the loss stays above "
          "0.5", overfit_tiny_batch, settings={"bug": "relu_mask"},
          each=lambda r: r["final_loss"] > 0.5),
]

SABOTAGE = [(0, {"lr": 0.0}), (1, {"bug": None})]  # nothing learned; the bug removed
