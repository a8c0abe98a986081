"""Lesson 03's training experiments: a tanh neuron made of Values fits noisy points (and
fails to settle when its gradients are never zeroed), and a network of Values learns the
two moons.

The lesson shows the sources of :func:`train_neuron` and :func:`train_value_mlp` as its
training loops, draws one run of each, and states :data:`NEURON_CLAIMS` and
:data:`MOONS_CLAIMS` over :data:`~backproplab.experiments.SEEDS`. A seed draws the data's
noise (and the network's initial weights).
"""

import numpy as np

from ..data import make_moons
from ..scalar import Value
from ..scalar_nn import ValueMLP
from . import Claim


def neuron_data(seed, n=20):
    """``n`` points of the curve y = tanh(1.5 x - 0.5) with x uniform in (-2, 2), plus noise of
    standard deviation 0.1: x (n,), y (n,)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, size=n)
    return x, np.tanh(1.5 * x - 0.5) + rng.normal(0, 0.1, size=n)   # the true curve, plus noise


def train_neuron(x_train, y_train, steps=100, lr=0.5, zero_grads=True):
    """Gradient descent on the mean squared error of the neuron tanh(w x + b), from w = 0.1,
    b = 0. Returns the Values w and b and the loss of every step."""
    w, b = Value(0.1, label="w"), Value(0.0, label="b")
    losses = []
    for _ in range(steps):
        if zero_grads:
            w.grad = b.grad = 0.0                           # forget the previous step's gradient
        preds = [(w * x + b).tanh() for x in x_train]       # forward: a new graph every step
        loss = Value.sum((p - y) ** 2 for p, y in zip(preds, y_train)) / len(y_train)
        loss.backward()                                     # dL/dw into w.grad, dL/db into b.grad
        for p in (w, b):
            p.data -= lr * p.grad                           # gradient descent
        losses.append(loss.data)
    return w, b, losses


def neuron_fit(seed, steps=100, lr=0.5):
    """:func:`train_neuron` on :func:`neuron_data` (seed), zeroing the gradients every step and
    never: the final losses and w of both, and the loss of the true curve on the same data."""
    x, y = neuron_data(seed)
    w, _, losses = train_neuron(x, y, steps, lr)
    w_kept, _, losses_kept = train_neuron(x, y, steps, lr, zero_grads=False)
    return {"final_loss": losses[-1], "w": w.data,
            "final_loss_never_zeroed": losses_kept[-1], "w_never_zeroed": w_kept.data,
            "true_curve_loss": float(np.mean((np.tanh(1.5 * x - 0.5) - y) ** 2))}


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


# Grouped by the section of the lesson that states them; CLAIMS holds them all.
NEURON_CLAIMS = [
    Claim("zeroing the gradients every step, a tanh neuron fits 20 noisy points in 100 steps: "
          "its loss ends no higher than the loss of the curve the data came from",
          neuron_fit, each=lambda r: r["final_loss"] <= r["true_curve_loss"]),
    Claim("never zeroing them, it does not fit them: its loss ends at least 5 times higher, with "
          "w past 50", neuron_fit,
          each=lambda r: (r["final_loss_never_zeroed"] >= 5 * r["final_loss"]
                          and r["w_never_zeroed"] > 50)),
]

MOONS_CLAIMS = [
    Claim("a 2-16-1 network of Values fits the moons: training accuracy at least 0.95 and the "
          "loss below a quarter of its start after 150 steps", value_mlp_moons,
          each=lambda r: r["accuracy"] >= 0.95 and r["final_loss"] < r["first_loss"] / 4),
    Claim("without a hidden layer (a straight boundary) it cannot: training accuracy at most "
          "0.9", value_mlp_moons, settings={"hidden": ()},
          each=lambda r: r["accuracy"] <= 0.9),
]

CLAIMS = NEURON_CLAIMS + MOONS_CLAIMS

SABOTAGE = [
    (CLAIMS.index(NEURON_CLAIMS[0]), {"lr": 0.0}),   # nothing learned
    (CLAIMS.index(NEURON_CLAIMS[1]), {"steps": 1}),  # one step: nothing to accumulate yet
    (CLAIMS.index(MOONS_CLAIMS[0]), {"lr": 0.0}),    # nothing learned
]
