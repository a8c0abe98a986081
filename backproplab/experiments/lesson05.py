"""Lesson 05 (gradient descent and training): its training experiments and the claims the
lesson makes about them, each checked for every seed in ``SEEDS`` by
``tests/test_lesson_claims.py``.

A seed sets the network's initial weights and the order of the mini-batches (and, where an
experiment draws something else at random, that too); the spiral data stay the same, so
every run of the lesson trains on the points it plots. Every experiment returns a dict of
plain numbers and lists (curves to plot); the lesson prints medians and ranges over the
seeds and the verdicts of ``CLAIMS``.
"""

import math

import numpy as np

from ..curvature import hessian_vector_product, power_iteration, sharpness
from ..data import make_spiral, train_val_split
from ..init import manual_seed
from ..layers import Linear, Parameter, ReLU, Sequential
from ..losses import CrossEntropyLoss
from ..optim import SGD, Adam, CosineAnnealingLR, StepLR
from ..train import Callback, evaluate, fit
from . import Claim, run
from . import report as _report

LOSS = CrossEntropyLoss()
X, Y = make_spiral(n_samples=300, n_classes=3, noise=0.2, seed=0)          # (300, 2), (300,)
X_TRAIN, X_VAL, Y_TRAIN, Y_VAL = train_val_split(X, Y, val_fraction=0.2, seed=0)  # 240 / 60
LOG3 = math.log(3)   # the loss of a network that gives each of the 3 classes probability 1/3


def make_mlp(seed=0):
    """The lesson's network: 2 inputs, 100 ReLU units, 3 class logits; the same initial
    weights for the same seed."""
    manual_seed(seed)
    return Sequential(Linear(2, 100), ReLU(), Linear(100, 3))


OPTIMIZERS = {"SGD": lambda params, lr: SGD(params, lr=lr),
              "Adam": lambda params, lr: Adam(params, lr=lr)}
SCHEDULES = {None: lambda opt, epochs: None,
             "cosine": lambda opt, epochs: CosineAnnealingLR(opt, T_max=epochs),
             "step": lambda opt, epochs: StepLR(opt, step_size=epochs // 2, gamma=0.1)}

# ------------------------------------------------------------------------- mini-batches


def batch_sizes(seed, sizes=(1, 8, 32, 300), lr=0.1, epochs=3):
    """Plain SGD on all 300 points with each batch size for ``epochs`` epochs: the loss on
    all data afterwards, the number of steps, each run's curves and its wall-clock seconds."""
    out = {"loss": [], "steps": [], "batch_loss": [], "epoch_loss": [], "seconds": []}
    for B in sizes:
        model = make_mlp(seed)
        h = fit(model, LOSS, SGD(model.parameters(), lr=lr), (X, Y), epochs=epochs,
                batch_size=B, seed=seed, progress=False)
        out["loss"].append(evaluate(model, LOSS, X, Y)[0])
        out["steps"].append(len(h.batch_loss))
        out["batch_loss"].append(h.batch_loss)
        out["epoch_loss"].append(h.train_loss)
        out["seconds"].append(h.time)
    return out


def shuffling(seed, lr=0.5, epochs=30, batch_size=30, sorted_rows=True):
    """The same training with and without shuffling, on the rows as stored (sorted by class:
    100 of class 0, then 1, then 2) or, with ``sorted_rows=False``, mixed once beforehand.
    Loss, accuracy and predicted class counts on all data, for shuffle False and True."""
    order = np.arange(len(X)) if sorted_rows else np.random.default_rng(99).permutation(len(X))
    out = {}
    for shuffle in (False, True):
        model = make_mlp(seed)
        fit(model, LOSS, SGD(model.parameters(), lr=lr), (X[order], Y[order]), epochs=epochs,
            batch_size=batch_size, shuffle=shuffle, seed=seed, progress=False)
        loss, acc = evaluate(model, LOSS, X, Y)
        out[shuffle] = {"loss": loss, "accuracy": acc,
                        "counts": np.bincount(model(X).argmax(axis=1), minlength=3).tolist()}
    return out


# ------------------------------------------------------------------------- sanity checks


def initial_loss(seed, last_layer_scale=1.0):
    """The training loss at the initial weights, with the last layer's weights and bias
    multiplied by ``last_layer_scale``."""
    model = make_mlp(seed)
    last = model.layers[-1]
    last.W.data *= last_layer_scale
    last.b.data *= last_layer_scale
    return {"loss": evaluate(model, LOSS, X_TRAIN, Y_TRAIN)[0]}


def overfit_tiny(seed, n=20, steps=300, lr=0.01, zero_grad=True):
    """Adam on a tiny random subset of ``n`` training points, full batch, ``steps`` steps:
    a correct model, loss and loop drive its loss to about 0. ``zero_grad=False`` is the
    bug of never clearing the gradients."""
    rows = np.random.default_rng(seed).choice(len(X_TRAIN), size=n, replace=False)
    xs, ys = X_TRAIN[rows], Y_TRAIN[rows]
    model = make_mlp(seed)
    optimizer = Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        losses.append(LOSS(model(xs), ys))
        if zero_grad:
            optimizer.zero_grad()
        model.backward(LOSS.backward(), input_grad=False)
        optimizer.step()
    loss, acc = evaluate(model, LOSS, xs, ys)
    return {"losses": losses + [loss], "loss": loss, "accuracy": acc}


# ------------------------------------------------------------------------- training with fit


class _Snapshots(Callback):
    """Copies of the weights at chosen epochs (0: the initial weights)."""

    def __init__(self, model, epochs):
        self.epochs, self.states = set(epochs), {0: model.state_dict()}

    def on_epoch_end(self, state):
        if state.epoch in self.epochs:
            self.states[state.epoch] = state.model.state_dict()


def fit_spiral(seed, lr=0.01, epochs=60, snapshot_epochs=(2, 5, 10, 25, 60)):
    """Adam on the 240 training points with 60 held out for validation, batch size 32.
    The History's curves, the final numbers, and the weights at ``snapshot_epochs``."""
    model = make_mlp(seed)
    snapshots = _Snapshots(model, snapshot_epochs)
    h = fit(model, LOSS, Adam(model.parameters(), lr=lr), (X_TRAIN, Y_TRAIN), epochs=epochs,
            batch_size=32, val_data=(X_VAL, Y_VAL), callbacks=[snapshots], seed=seed,
            progress=False)
    return {"history": h, "states": snapshots.states, "train_acc": h.train_acc[-1],
            "val_acc": h.val_acc[-1], "train_loss": h.train_loss[-1],
            "val_loss": h.val_loss[-1], "best_epoch": h.best_epoch}


# ------------------------------------------------------------------------- learning rates


def train(seed, optimizer="SGD", lr=0.1, epochs=20, batch_size=32, schedule=None):
    """``epochs`` epochs on the 240 training points. The training loss at the start, after
    every epoch (on all training points, in eval mode) and at the end; ``blew_up`` when it
    rose above twice its start at some epoch or became NaN/inf (the run stops there)."""
    model = make_mlp(seed)
    opt = OPTIMIZERS[optimizer](model.parameters(), lr)
    start = evaluate(model, LOSS, X_TRAIN, Y_TRAIN)[0]
    h = fit(model, LOSS, opt, (X_TRAIN, Y_TRAIN), epochs=epochs, batch_size=batch_size,
            scheduler=SCHEDULES[schedule](opt, epochs), evaluate_train=True, seed=seed,
            progress=False, on_nonfinite="stop")
    curve = h.train_loss + [math.nan] * (epochs - len(h.train_loss))
    blew_up = h.stopped_early or max(curve) > 2 * start
    return {"initial": start, "curve": curve, "final": curve[-1], "blew_up": blew_up}


SWEEP_LRS = {"SGD": tuple(np.logspace(-3, 1.5, 10)), "Adam": tuple(np.logspace(-4, 0.5, 10))}


def sweep(seed, optimizer="SGD"):
    """The final training loss after 20 epochs at each learning rate of ``SWEEP_LRS``,
    whether it blew up, and the best learning rate (among those that did not)."""
    runs = [run(train, seed, optimizer=optimizer, lr=lr) for lr in SWEEP_LRS[optimizer]]
    final = [math.inf if r["blew_up"] else r["final"] for r in runs]
    return {"lrs": SWEEP_LRS[optimizer], "final": final,
            "blew_up": [r["blew_up"] for r in runs], "initial": runs[0]["initial"],
            "best_lr": SWEEP_LRS[optimizer][int(np.argmin(final))]}


class _StepLosses(Callback):
    """The loss on all training points after every step."""

    def __init__(self):
        self.losses = []

    def on_batch_end(self, state):
        self.losses.append(evaluate(state.model, LOSS, X_TRAIN, Y_TRAIN)[0])


def first_steps(seed, lr=1.0, epochs=4):
    """SGD with batch size 32: the loss on all training points before and after each step
    of the first ``epochs`` epochs, its highest value after a step, and the largest factor
    by which a single step raised it."""
    model = make_mlp(seed)
    start = evaluate(model, LOSS, X_TRAIN, Y_TRAIN)[0]
    steps = _StepLosses()
    fit(model, LOSS, SGD(model.parameters(), lr=lr), (X_TRAIN, Y_TRAIN), epochs=epochs,
        batch_size=32, callbacks=[steps], seed=seed, progress=False, on_nonfinite="stop")
    losses = [start] + steps.losses
    return {"initial": start, "losses": losses, "highest": max(steps.losses, default=math.inf),
            "largest_rise": max((b / a for a, b in zip(losses, losses[1:])), default=math.inf)}


# ------------------------------------------------------------------------- curvature


def curvature(seed):
    """lambda_max of the training loss's Hessian at the initial weights (power iteration on
    Hessian-vector products), the limit 2 / lambda_max, and the most negative curvature
    found along one direction (a Rayleigh quotient v.Hv of a unit v: at least lambda_min),
    from power iteration on H - lambda_max I."""
    model = make_mlp(seed)
    top = sharpness(model, LOSS, X_TRAIN, Y_TRAIN, iters=100, tol=1e-7, seed=seed)

    def shifted(v):
        return hessian_vector_product(model, LOSS, X_TRAIN, Y_TRAIN, v) - top.eigenvalue * v

    low = power_iteration(shifted, np.random.default_rng(seed + 1).standard_normal(len(top.vector)),
                          iters=30, tol=1e-7)
    return {"lambda_max": top.eigenvalue, "limit": 2 / top.eigenvalue,
            "estimates": top.estimates, "negative_curvature": low.eigenvalue + top.eigenvalue}


class _Sharpness(Callback):
    """lambda_max every ``every`` epochs; each power iteration starts from the last
    eigenvector, which changes little between measurements, so a few products suffice."""

    def __init__(self, vector, every):
        self.vector, self.every, self.values = vector, every, []

    def on_epoch_end(self, state):
        if state.epoch % self.every:
            return
        model = state.model
        top = power_iteration(
            lambda v: hessian_vector_product(model, LOSS, X_TRAIN, Y_TRAIN, v), self.vector,
            iters=100, tol=1e-4)
        self.vector = top.vector
        self.values.append(top.eigenvalue)


def sharpening(seed, lr=1.0, epochs=20, every=2):
    """lambda_max at the initial weights and every ``every`` epochs of SGD (batch size 32),
    and the epochs it was measured at."""
    model = make_mlp(seed)
    start = sharpness(model, LOSS, X_TRAIN, Y_TRAIN, iters=100, tol=1e-4, seed=seed)
    tracker = _Sharpness(start.vector, every)
    fit(model, LOSS, SGD(model.parameters(), lr=lr), (X_TRAIN, Y_TRAIN), epochs=epochs,
        batch_size=32, callbacks=[tracker], seed=seed, progress=False)
    return {"epochs": list(range(0, epochs + 1, every)),
            "lambda_max": [start.eigenvalue] + tracker.values}


# ------------------------------------------------------------------------- the noise ball

# A least-squares problem in two parameters, so that every step can be drawn: N = 100 points,
# loss(theta) = mean over n of (x_n . theta - t_n)^2 / 2, Hessian mean(x x^T).
_toy_rng = np.random.default_rng(0)
TOY_X = _toy_rng.normal(size=(100, 2)) * [1.0, 0.5]
TOY_X -= TOY_X.mean(axis=0)
TOY_T = TOY_X @ np.array([1.0, -1.0]) + 0.5 * _toy_rng.normal(size=100)
TOY_OPTIMUM = np.linalg.lstsq(TOY_X, TOY_T, rcond=None)[0]   # theta*, where the full gradient is 0
TOY_START = np.array([-1.5, 2.0])


def noise_ball(seed, lr=0.1, schedule=None, epochs=30):
    """SGD with batch size 1 on the least-squares problem: every epoch visits the 100
    points once, in a new random order; a schedule steps once per epoch. The path (all
    steps) and the rms distance from theta* over the last epoch and the last 10."""
    order_rng = np.random.default_rng(seed)
    theta = Parameter(TOY_START.copy(), "theta")
    opt = SGD([theta], lr=lr)
    sched = SCHEDULES[schedule](opt, epochs)
    path = [theta.data.copy()]
    for _ in range(epochs):
        for n in order_rng.permutation(len(TOY_X)):
            theta.grad = (TOY_X[n] @ theta.data - TOY_T[n]) * TOY_X[n]   # one example's gradient
            opt.step()
            path.append(theta.data.copy())
        if sched is not None:
            sched.step()
    dist = np.linalg.norm(np.array(path) - TOY_OPTIMUM, axis=1)
    n = len(TOY_X)
    return {"path": path, "distance": dist.tolist(),
            "rms_last_epoch": float(np.sqrt(np.mean(dist[-n:] ** 2))),
            "rms_last_10": float(np.sqrt(np.mean(dist[-10 * n:] ** 2)))}


# ------------------------------------------------------------------------- search


SEARCH_BOX = {"lr": (1e-4, 10 ** -0.5), "weight_decay": (1e-6, 1e-3)}   # both on a log scale


def search(seed, method="grid", trials=9, epochs=10):
    """Nine short Adam runs (10 epochs), each with a learning rate and an L2 weight decay
    from ``SEARCH_BOX``: a 3 x 3 grid at the centres of the box's cells (in log scale), or
    9 random points drawn uniformly in log scale. The validation loss of each trial."""
    logs = {k: np.log10(v) for k, v in SEARCH_BOX.items()}
    if method == "grid":
        side = int(round(math.sqrt(trials)))
        centres = {k: lo + (hi - lo) * (2 * np.arange(side) + 1) / (2 * side)
                   for k, (lo, hi) in logs.items()}
        points = [(a, b) for a in centres["lr"] for b in centres["weight_decay"]]
    else:
        rng = np.random.default_rng(1000 + seed)
        points = list(zip(rng.uniform(*logs["lr"], trials),
                          rng.uniform(*logs["weight_decay"], trials)))
    out = {"lr": [], "weight_decay": [], "val_loss": []}
    for log_lr, log_wd in points:
        model = make_mlp(seed)
        lr, wd = 10 ** log_lr, 10 ** log_wd
        h = fit(model, LOSS, Adam(model.parameters(), lr=lr, weight_decay=wd),
                (X_TRAIN, Y_TRAIN), epochs=epochs, batch_size=32, val_data=(X_VAL, Y_VAL),
                seed=seed, progress=False)
        out["lr"].append(lr)
        out["weight_decay"].append(wd)
        out["val_loss"].append(h.val_loss[-1])
    best = int(np.argmin(out["val_loss"]))
    out.update(best_loss=out["val_loss"][best], best_lr=out["lr"][best],
               distinct_lrs=len(set(np.round(np.log10(out["lr"]), 6))))
    return out


# ------------------------------------------------------------------------- the claims

SGD_LRS = SWEEP_LRS["SGD"]   # SGD_LRS[6] = 1, [7] = 3.2, [8] = 10


def optimizers_at(seed, lr=0.01):
    """The final training loss of SGD and of Adam at the same learning rate."""
    return {name: run(train, seed, optimizer=name, lr=lr)["final"] for name in OPTIMIZERS}


def schedules(seed, peak=SGD_LRS[7]):
    """SGD for 20 epochs at the sweep's best constant rate 1, at a constant ``peak``, and
    with a cosine schedule from ``peak`` down to 0."""
    return {"constant 1": run(train, seed, lr=1.0), f"constant {peak:.2g}": run(train, seed, lr=peak),
            f"cosine from {peak:.2g}": run(train, seed, lr=peak, schedule="cosine")}


def noise_balls(seed, lr=0.1):
    """The least-squares problem at a constant ``lr``, at ``lr / 4``, and with a cosine
    schedule from ``lr``."""
    return {"constant": run(noise_ball, seed, lr=lr), "quarter": run(noise_ball, seed, lr=lr / 4),
            "cosine": run(noise_ball, seed, lr=lr, schedule="cosine")}


def searches(seed):
    return {method: run(search, seed, method=method) for method in ("grid", "random")}


def largest_jump(curve, last=5):
    """The largest change of the loss between two consecutive epochs among the last ones."""
    return float(np.max(np.abs(np.diff(curve[-last - 1:]))))


def grid_spreads(r):
    """For the grid of ``searches``: (the largest spread of the validation loss over the 3
    weight decays at one learning rate, the spread of the best over the 3 learning rates)."""
    v = np.array(r["grid"]["val_loss"]).reshape(3, 3)          # rows: lr, columns: decay
    return float(np.max(v.max(axis=1) - v.min(axis=1))), float(np.ptp(v.min(axis=1)))


LR_3 = SGD_LRS[7]   # 10 ** 0.5, "3.2"

# The claims, by the part of the lesson that makes them (``report(topic)`` prints one part).
TOPICS = {
    "mini-batches": [
        Claim("in the same 3 epochs, the smaller the batch the lower the loss: "
              "B = 1 < 8 < 32 < 300", batch_sizes,
              each=lambda r: bool(np.all(np.diff(r["loss"]) > 0)))],
    "shuffling": [
        Claim("without shuffling, rows sorted by class end at least 0.2 higher in loss, and "
              "class 2 (the last rows) is predicted most", shuffling,
              each=lambda r: (r[False]["loss"] > r[True]["loss"] + 0.2
                              and int(np.argmax(r[False]["counts"])) == 2))],
    "noise ball": [
        Claim("a quarter of the learning rate shrinks the noise ball by a factor between 2 "
              "and 4", noise_balls,
              each=lambda r: 2 < r["constant"]["rms_last_10"] / r["quarter"]["rms_last_10"] < 4),
        Claim("a cosine schedule ends at least 10 times closer to the minimum than the "
              "constant rate", noise_balls,
              each=lambda r: r["cosine"]["rms_last_epoch"] * 10 < r["constant"]["rms_last_epoch"])],
    "loss at initialisation": [
        Claim("at the initial weights the loss is within 0.1 of log 3 = 1.099", initial_loss,
              each=lambda r: abs(r["loss"] - LOG3) < 0.1),
        Claim("with the last layer 10 times too large, the initial loss is above 2",
              initial_loss, settings={"last_layer_scale": 10.0}, each=lambda r: r["loss"] > 2)],
    "overfit a tiny batch": [
        Claim("a correct training loop drives the loss on 20 points below 0.05 in 300 Adam "
              "steps, all 20 classified right", overfit_tiny,
              each=lambda r: r["loss"] < 0.05 and r["accuracy"] == 1.0),
        Claim("without zero_grad the same check ends above 0.1 with points still "
              "misclassified", overfit_tiny, settings={"zero_grad": False},
              each=lambda r: r["loss"] > 0.1 and r["accuracy"] < 1.0)],
    "training with fit": [
        Claim("Adam at lr 0.01 for 60 epochs: training accuracy at least 0.97, validation at "
              "least 0.9", fit_spiral,
              each=lambda r: r["train_acc"] >= 0.97 and r["val_acc"] >= 0.9)],
    "the sweep": [
        Claim("SGD at lr 0.001 ends within 0.1 of its starting loss (too small)", sweep,
              each=lambda r: r["initial"] - r["final"][0] < 0.1),
        Claim("SGD's best learning rate in the sweep is 1", sweep,
              each=lambda r: r["best_lr"] == 1.0),
        Claim("SGD at 3.2 ends worse than at 1 without blowing up; at 10 and 32 it blows up",
              sweep, each=lambda r: (r["final"][6] < r["final"][7] < math.inf
                                     and r["blew_up"][8] and r["blew_up"][9])),
        Claim("Adam's best learning rate in the sweep is 0.032, 0.1 or 0.32", sweep,
              settings={"optimizer": "Adam"}, each=lambda r: 0.031 < r["best_lr"] < 0.32),
        Claim("Adam at 3.2 blows up for every seed, at 1 for some", sweep,
              settings={"optimizer": "Adam"},
              overall=lambda rs: all(r["blew_up"][9] for r in rs) and any(r["blew_up"][8] for r in rs)),
        Claim("at lr 0.01 Adam ends at least 3 times lower than SGD", optimizers_at,
              each=lambda r: 3 * r["Adam"] < r["SGD"])],
    "lambda_max and the sweep": [
        Claim("2 / lambda_max at the initial weights lies between the sweep's best SGD rate, 1, "
              "and 3.2", curvature, each=lambda r: 1.0 < r["limit"] < LR_3)],
    "the first steps": [
        Claim("at lr 1 the loss never rises above its start in the first 4 epochs, and no "
              "single step raises it by a quarter", first_steps, settings={"lr": 1.0},
              each=lambda r: r["highest"] < r["initial"] and r["largest_rise"] < 1.25),
        Claim("at lr 3.2 some single step raises the loss by more than a third", first_steps,
              settings={"lr": LR_3}, each=lambda r: r["largest_rise"] > 4 / 3),
        Claim("at lr 10 the loss rises to more than 3 times its start in the first 4 epochs",
              first_steps, settings={"lr": 10.0},
              each=lambda r: r["highest"] > 3 * r["initial"])],
    "sharpening": [
        Claim("at lr 1, lambda_max rises during training to at least 1.4 times its start, and "
              "stays below 2 / lr = 2", sharpening,
              each=lambda r: 1.4 * r["lambda_max"][0] <= max(r["lambda_max"]) < 2.0)],
    "convexity": [
        Claim("some direction has negative curvature (v.Hv < -0.1) at the initial weights: the "
              "loss is not convex", curvature, each=lambda r: r["negative_curvature"] < -0.1)],
    "schedules": [
        Claim("a cosine schedule from 3.2 ends lower than the best constant rate, 1", schedules,
              each=lambda r: r["cosine from 3.2"]["final"] < r["constant 1"]["final"]),
        Claim("in the last 5 epochs the cosine run's loss moves by less than 0.02 per epoch, "
              "the constant rate 3.2's by more than 0.1", schedules,
              each=lambda r: (largest_jump(r["cosine from 3.2"]["curve"]) < 0.02
                              and largest_jump(r["constant 3.2"]["curve"]) > 0.1))],
    "search": [
        Claim("at each learning rate of the grid the weight decay moves the validation loss by "
              "less than 0.15; the learning rate moves it by more than 0.4", searches,
              each=lambda r: grid_spreads(r)[0] < 0.15 and grid_spreads(r)[1] > 0.4),
        Claim("both searches reach a validation loss below 0.3", searches,
              each=lambda r: max(r["grid"]["best_loss"], r["random"]["best_loss"]) < 0.3)],
}
CLAIMS = [claim for claims in TOPICS.values() for claim in claims]


def report(topic):
    """``experiments.report`` of the claims of one part of the lesson."""
    return _report(TOPICS[topic])


def _claim(topic, i=0):
    return CLAIMS.index(TOPICS[topic][i])


# (claim index, settings that break it): each must make its claim fail for seed 0.
SABOTAGE = [
    (_claim("mini-batches"), {"epochs": 0}),           # nothing trained: no batch size ahead
    (_claim("shuffling"), {"sorted_rows": False}),     # rows mixed beforehand
    (_claim("noise ball"), {"lr": 0.8}),               # steps too long for the toy's curvature
    (_claim("loss at initialisation"), {"last_layer_scale": 10.0}),  # over-confident start
    (_claim("overfit a tiny batch"), {"zero_grad": False}),          # the bug the check catches
    (_claim("training with fit"), {"lr": 1e-4}),       # far too small for 60 epochs
    (_claim("the sweep", 1), {"optimizer": "Adam"}),   # another optimiser, another best rate
    (_claim("the first steps"), {"lr": 10.0}),         # far above 2 / lambda_max
]
