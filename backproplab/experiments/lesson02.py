"""Lesson 02's training experiment: one sigmoid neuron that starts confidently wrong, trained
by gradient descent once with cross-entropy and once with MSE on its output.

The data is two overlapping clusters on a line, class 0 around -1 and class 1 around +1; the
neuron is ``z = w x + b`` with ``P(class 1) = sigmoid(z)``, started at ``w = -6``, ``b = 0``
(nearly every point given the wrong class, most with a probability above 0.9). Gradient descent
uses the two derivatives the lesson derives,

    cross-entropy:  dL/dz_n = (s_n - t_n) / N
    MSE on s:       dL/dz_n = 2 (s_n - t_n) s_n (1 - s_n) / N,      s_n = sigmoid(z_n),

and the chain rule through ``z_n = w x_n + b``: dL/dw = sum_n dL/dz_n x_n, dL/db = sum_n dL/dz_n.
"""

import numpy as np

from ..functional import sigmoid
from . import Claim

LOSSES = ("cross-entropy", "MSE")


def two_class_data(seed, n_per_class=50):
    """``(x, t)``: x of shape (2 n,), class 0 drawn from N(-1, 0.6^2), class 1 from N(1, 0.6^2);
    t of shape (2 n,), 0 then 1."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(-1, 0.6, n_per_class), rng.normal(1, 0.6, n_per_class)])
    return x, np.repeat([0.0, 1.0], n_per_class)


def dloss_dz(loss, z, t):
    """dL/dz_n for each example, shape of ``z``: the batch mean's 1/N included."""
    s = sigmoid(z)
    if loss == "cross-entropy":
        return (s - t) / len(z)
    if loss == "MSE":
        return 2 * (s - t) * s * (1 - s) / len(z)
    raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")


def train_neuron(seed, loss, steps=400, lr=1.0, w=-6.0, b=0.0):
    """Full-batch gradient descent on ``two_class_data(seed)``. Returns arrays of length
    ``steps``: the training ``accuracy`` and the parameters ``w``, ``b`` at each step, before
    that step's update."""
    x, t = two_class_data(seed)
    accuracy, ws, bs = [], [], []
    for _ in range(steps):
        z = w * x + b
        accuracy.append(np.mean((z > 0) == (t == 1)))
        ws.append(w)
        bs.append(b)
        dz = dloss_dz(loss, z, t)
        w -= lr * np.sum(dz * x)  # dL/dw = sum_n dL/dz_n * x_n
        b -= lr * np.sum(dz)  # dL/db = sum_n dL/dz_n * 1
    return {"accuracy": np.array(accuracy), "w": np.array(ws), "b": np.array(bs)}


def confidently_wrong_start(seed, steps=400, lr=1.0, w=-6.0):
    """Both losses from the same start. At the start: the share of the points given the wrong
    class, and the share given it with a probability above 0.9. For each loss: the first step
    with at least 90 % training accuracy (``steps`` if never), the number of steps with an
    accuracy within 3 points of 50 %, the smallest share of the points that those steps give
    one same class (nan if there are none), w after 100 steps, and the final accuracy."""
    x, t = two_class_data(seed)
    z = w * x  # the start, b = 0
    p_wrong = sigmoid(np.where(t == 1, -z, z))  # the probability given to the wrong class
    result = {"wrong at the start": float(np.mean((z > 0) != (t == 1))),
              "sure of the wrong class at the start": float(np.mean(p_wrong > 0.9))}
    for loss in LOSSES:
        trace = train_neuron(seed, loss, steps=steps, lr=lr, w=w)
        reached = np.flatnonzero(trace["accuracy"] >= 0.9)
        near_half = np.abs(trace["accuracy"] - 0.5) <= 0.03
        class_1 = np.mean(np.outer(trace["w"][near_half], x) + trace["b"][near_half, None] > 0,
                          axis=1)  # per step near 50 %: the share of points given class 1
        result[f"{loss}: steps to 90%"] = int(reached[0]) if len(reached) else steps
        result[f"{loss}: steps near 50%"] = int(np.sum(near_half))
        result[f"{loss}: one class near 50%"] = (float(np.min(np.maximum(class_1, 1 - class_1)))
                                                  if len(class_1) else float("nan"))
        result[f"{loss}: w at step 100"] = float(trace["w"][100])
        result[f"{loss}: final accuracy"] = float(trace["accuracy"][-1])
    return result


CLAIMS = [
    Claim("cross-entropy reaches 90 % training accuracy within 10 steps",
          confidently_wrong_start, each=lambda r: r["cross-entropy: steps to 90%"] <= 10),
    Claim("MSE needs more than 100 steps to reach 90 %, over ten times as many as cross-entropy",
          confidently_wrong_start,
          each=lambda r: r["MSE: steps to 90%"] > max(100, 10 * r["cross-entropy: steps to 90%"])),
    Claim("after 100 steps MSE's w still has the wrong sign (w < 0); cross-entropy's has turned (w > 0)",
          confidently_wrong_start,
          each=lambda r: r["MSE: w at step 100"] < 0 < r["cross-entropy: w at step 100"]),
    Claim("on the way, MSE spends at least 10 steps within 3 points of 50 % accuracy, in each of"
          " which it gives at least 95 % of the points the same class",
          confidently_wrong_start,
          each=lambda r: r["MSE: steps near 50%"] >= 10 and r["MSE: one class near 50%"] >= 0.95),
    Claim("both end above 90 % training accuracy after 400 steps", confidently_wrong_start,
          each=lambda r: min(r["MSE: final accuracy"], r["cross-entropy: final accuracy"]) >= 0.9),
    Claim("the start gives at least 90 % of the points the wrong class, and at least 75 % of all"
          " points the wrong class with a probability above 0.9", confidently_wrong_start,
          each=lambda r: r["wrong at the start"] >= 0.9
          and r["sure of the wrong class at the start"] >= 0.75),
]

# Started right (w = +6) instead of confidently wrong, MSE is not slow and the start is not wrong;
# with lr = 0 nothing learns.
SABOTAGE = [(1, {"w": 6.0}), (0, {"lr": 0.0}), (5, {"w": 6.0})]
