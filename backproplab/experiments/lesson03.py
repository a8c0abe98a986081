"""Lesson 03's training experiment: a network made of Values learns the two moons.

The lesson shows :func:`train_value_mlp`'s source as its training loop, draws the decision
boundary of one run, and states :data:`CLAIMS` over :data:`~backproplab.experiments.SEEDS`.
A seed draws both the data's noise and the initial weights.
"""

import numpy as np

from ..data import make_moons
from ..scalar import Value
from ..scalar_nn import ValueMLP
from . import Claim


def train_value_mlp(seed, n_samples=40, hidden=(16,), steps=150, lr=0.5):
    """Full-batch gradient descent on the mean squared error of tanh(score) against -1/+1.
    Returns the model, the data X (N, 2) and y (N,) in {0, 1}, and the loss of every step."""
    X, y = make_moons(n_samples, noise=0.1, seed=seed)
    targets = 2.0 * y - 1.0                                # classes 0/1 -> targets -1/+1
    model = ValueMLP((2, *hidden, 1), activation="tanh", seed=seed)
    losses = []
    for _ in range(steps):
        model.zero_grad()                                  # 1. backward() adds: start at 0
        outputs = [model(x)[0].tanh() for x in X.tolist()] # 2. forward: a new graph per step
        loss = Value.sum((o - t) ** 2 for o, t in zip(outputs, targets)) / len(X)
        loss.backward()                                    # 3. dL/dp for every parameter p
        for p in model.parameters():                       # 4. a step against the gradient
            p.data -= lr * p.grad
        losses.append(loss.data)
    return model, X, y, losses


def value_mlp_moons(seed, **settings):
    """Training accuracy and the first and last loss of :func:`train_value_mlp`."""
    model, X, y, losses = train_value_mlp(seed, **settings)
    accuracy = float(np.mean((model.predict(X)[:, 0] > 0) == y))
    return {"accuracy": accuracy, "first_loss": losses[0], "final_loss": losses[-1]}


CLAIMS = [
    Claim("a 2-16-1 network of Values fits the moons: training accuracy at least 0.95 and the "
          "loss below a quarter of its start after 150 steps", value_mlp_moons,
          each=lambda r: r["accuracy"] >= 0.95 and r["final_loss"] < r["first_loss"] / 4),
    Claim("without a hidden layer (a straight boundary) it cannot: training accuracy at most "
          "0.9", value_mlp_moons, settings={"hidden": ()},
          each=lambda r: r["accuracy"] <= 0.9),
]

SABOTAGE = [(0, {"lr": 0.0})]  # nothing learned: the first claim must fail
