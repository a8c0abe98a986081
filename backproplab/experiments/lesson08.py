"""Lesson 08, the capstone: every training run of the lesson, and what it claims about them.

Each run is :func:`train`: a fresh 64-128-64-10 network on the lesson's split of the digits
(:func:`digits`), mini-batches of 32 for at most 60 epochs, early stopping with patience 10 on
the validation loss (the best epoch's weights are kept). ``seed`` sets the initial weights and
the order of the mini-batches; the split is the same for every seed, so the test images are
always the lesson's 270. :func:`digits_run` measures a run, :func:`ablation_row` gives one row
of the ablation at the best of its learning rates, and ``CLAIMS`` are the lesson's statements.
"""

import functools
from collections import namedtuple

import numpy as np

from ..data import load_digits, standardize, train_val_test_split
from ..functional import softmax
from ..init import manual_seed, normal
from ..layers import Linear, ReLU, Sequential, Sigmoid
from ..losses import CrossEntropyLoss
from ..metrics import expected_calibration_error
from ..optim import SGD, Adam
from ..train import evaluate, fit
from . import SEEDS, Claim, run

SPLIT = {"val_fraction": 0.15, "test_fraction": 0.15, "seed": 0, "stratify": True}
SIZES = (64, 128, 64, 10)
EPOCHS, BATCH_SIZE, PATIENCE = 60, 32, 10
N_BINS = 15  # calibration bins, as Guo et al. (2017)

Digits = namedtuple("Digits", "X_train X_val X_test y_train y_val y_test raw_train raw_val "
                               "raw_test")


@functools.lru_cache(maxsize=1)
def digits():
    """The lesson's split (read-only arrays): X_train (1257, 64), X_val (270, 64) and X_test
    (270, 64) standardised with the training statistics, their labels, and the same images as
    raw ink counts 0..16 (``raw_train``, ``raw_val``, ``raw_test``)."""
    X, y = load_digits()
    X_train, X_val, X_test, y_train, y_val, y_test = train_val_test_split(X, y, **SPLIT)
    arrays = (*standardize(X_train, X_val, X_test), y_train, y_val, y_test,
              X_train, X_val, X_test)
    for a in arrays:
        a.flags.writeable = False
    return Digits(*arrays)


def small_normal(shape, rng=None, dtype=np.float64):
    """The "natural" first guess: tiny random weights, N(0, 0.01^2)."""
    return normal(shape, std=0.01, rng=rng, dtype=dtype)


ACTIVATIONS = {"relu": ReLU, "sigmoid": Sigmoid}
INITS = {"he_normal": "he_normal", "small": small_normal}
OPTIMIZERS = {"sgd": SGD, "adam": Adam}


def make_mlp(activation="relu", init="he_normal", sizes=SIZES):
    """Linear layers of ``sizes`` with an activation between them; the last outputs logits.
    ``activation``: "relu" or "sigmoid"; ``init``: "he_normal" or "small" (N(0, 0.01^2))."""
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Linear(fan_in, fan_out, init=INITS[init]))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return Sequential(*layers)


DEFAULTS = {"activation": "relu", "init": "he_normal", "optimizer": "adam", "lr": 1e-3,
            "weight_decay": 0.0, "epochs": EPOCHS}


def settings(**changes):
    """Every setting of :func:`train`, the defaults with ``changes``: the one spelling of a
    run, so that the cache of :func:`~backproplab.experiments.run` never trains it twice."""
    unknown = set(changes) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown settings {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    return {**DEFAULTS, **changes}


def train(seed, activation="relu", init="he_normal", optimizer="adam", lr=1e-3,
          weight_decay=0.0, epochs=EPOCHS):
    """One seeded run: ``{"model": the trained network (eval mode, best epoch's weights),
    "history": its History}``. A run that overflows stops (``history.stop_reason`` says so).
    Call it as ``experiments.run(train, seed, **settings(...))`` to train each run once."""
    d = digits()
    manual_seed(seed)
    net = make_mlp(activation, init)
    opt = OPTIMIZERS[optimizer](net.parameters(), lr=lr, weight_decay=weight_decay)
    history = fit(net, CrossEntropyLoss(), opt, (d.X_train, d.y_train), epochs=epochs,
                  batch_size=BATCH_SIZE, val_data=(d.X_val, d.y_val), early_stopping=PATIENCE,
                  seed=seed, progress=False, on_nonfinite="stop")
    return {"model": net, "history": history}


def first_epoch_at(accuracies, level=0.9):
    """The first epoch (from 1) whose accuracy reaches ``level``; inf if none does."""
    hits = np.flatnonzero(np.asarray(accuracies) >= level)
    return int(hits[0]) + 1 if hits.size else np.inf


def digits_run(seed, **settings_):
    """What :func:`train` (same ``settings``) achieved, as plain numbers: losses and
    accuracies of the kept weights on each set (the training loss without the penalty), the
    epochs run and kept, the first epoch with 90 % validation accuracy, and the calibration on
    the test set (ECE with 15 bins, mean confidence)."""
    trained = run(train, seed, **settings_)
    net, history = trained["model"], trained["history"]
    d, loss_fn = digits(), CrossEntropyLoss()
    result = {"epochs_run": len(history.epochs), "best_epoch": history.best_epoch,
              "first_90": first_epoch_at(history.val_acc)}
    for name, X, y in [("train", d.X_train, d.y_train), ("val", d.X_val, d.y_val),
                       ("test", d.X_test, d.y_test)]:
        with np.errstate(all="ignore"):  # a diverged run: its losses are inf or nan
            loss, acc = evaluate(net, loss_fn, X, y)
        result[f"{name}_loss"] = float(loss) if np.isfinite(loss) else np.inf
        result[f"{name}_acc"] = acc
    result["ece"], result["confidence"] = np.nan, np.nan
    if np.isfinite(result["test_loss"]):
        probs = softmax(net(d.X_test), axis=1)
        result["ece"] = expected_calibration_error(probs, d.y_test, N_BINS)
        result["confidence"] = float(probs.max(axis=1).mean())
    return result


# ------------------------------------------------------------------ tuning the weight decay

FINAL = settings(weight_decay=1e-3)          # the model the lesson chooses
WEIGHT_DECAYS = (0.0, 1e-3, 1e-2)


def weight_decay_sweep(seed, weight_decays=WEIGHT_DECAYS, epochs=EPOCHS):
    """:func:`digits_run` for each weight decay (Adam, lr 1e-3), by measure:
    ``{"val_loss": {wd: ...}, "test_acc": {wd: ...}, ...}``."""
    runs = {wd: run(digits_run, seed, **settings(weight_decay=wd, epochs=epochs))
            for wd in weight_decays}
    return {key: {wd: r[key] for wd, r in runs.items()} for key in runs[weight_decays[0]]}


# ------------------------------------------------------------------ the ablation

# (row, its settings, the learning rates tried): each row adds one remedy to the row above
ABLATION = (
    ("none of the remedies", {"activation": "sigmoid", "init": "small", "optimizer": "sgd"},
     (0.1, 0.3, 1.0, 3.0)),
    ("+ ReLU", {"init": "small", "optimizer": "sgd"}, (0.1, 0.3, 1.0)),
    ("+ He initialisation", {"optimizer": "sgd"}, (0.1, 0.3, 1.0)),
    ("+ Adam", {}, (1e-3, 3e-3, 1e-2)),
    ("+ L2 = the final model", {"weight_decay": 1e-3}, (1e-3,)),
)
ROWS = {name: (changes, lrs) for name, changes, lrs in ABLATION}


def _row_runs(seed, row, epochs):
    changes, lrs = ROWS[row]
    return {lr: run(digits_run, seed, **settings(lr=lr, epochs=epochs, **changes)) for lr in lrs}


def row_lr(row, epochs=EPOCHS):
    """The learning rate of ``row``: the one of its grid whose validation loss (of the kept
    weights) has the lowest median over :data:`~backproplab.experiments.SEEDS`. One rate for
    every seed, chosen by a median, so that a single erratic run (at a rate near the edge of
    stability, where the last bits decide) does not choose it."""
    by_seed = [_row_runs(seed, row, epochs) for seed in SEEDS]
    return min(ROWS[row][1], key=lambda lr: np.median([r[lr]["val_loss"] for r in by_seed]))


def ablation_row(seed, row, epochs=EPOCHS):
    """Row ``row`` of :data:`ABLATION` at its learning rate (:func:`row_lr`): that run's
    :func:`digits_run` numbers, with ``lr`` and ``val_loss_by_lr`` (every rate tried)."""
    runs = _row_runs(seed, row, epochs)
    lr = row_lr(row, epochs)
    return {**runs[lr], "lr": lr, "val_loss_by_lr": {k: r["val_loss"] for k, r in runs.items()}}


def ablation(seed, epochs=EPOCHS):
    """Every row of the ablation: ``{row: ablation_row(...)}``."""
    return {row: run(ablation_row, seed, row=row, epochs=epochs) for row, _, _ in ABLATION}


# ------------------------------------------------------------------ error analysis

CAUSES = ("looks like another digit", "an unusual way of writing it", "a typical image, misread")
UNUSUAL = 0.9  # farther from its own digit's training images than 90 % of the right answers


def held_out():
    """The validation and test sets pooled (540 images none of the training used):
    (X standardised, raw ink counts, labels, "val" or "test" per image)."""
    d = digits()
    return (np.concatenate([d.X_val, d.X_test]), np.concatenate([d.raw_val, d.raw_test]),
            np.concatenate([d.y_val, d.y_test]),
            np.array(["val"] * len(d.y_val) + ["test"] * len(d.y_test)))


@functools.lru_cache(maxsize=1)
def _distances():
    """Euclidean distances (540, 1257) between the held-out and the training images in raw
    ink counts. Integer pixels: every sum is exact, so ties and nearest images are the same
    on every machine."""
    raw, train_raw = held_out()[1], digits().raw_train
    sq = (raw ** 2).sum(axis=1)[:, None] + (train_raw ** 2).sum(axis=1)[None, :] \
        - 2 * raw @ train_raw.T
    return np.sqrt(np.maximum(sq, 0))


def error_analysis(model):
    """Every held-out mistake of ``model`` with its cause, most confident first.

    Returns a dict of arrays, one entry per mistake: ``index`` (into :func:`held_out`),
    ``true``, ``pred``, ``confidence`` (P(pred)), ``p_true``, ``nearest`` (index of the
    nearest training image, in raw pixels), ``nearest_label``, ``rarity`` (the fraction of
    correctly classified held-out images that are closer to a training image of their own
    digit) and ``cause`` (an index into :data:`CAUSES`): "looks like another digit" if the
    nearest training image is another digit (a nearest-neighbour lookup errs too), else "an
    unusual way of writing it" if ``rarity`` >= :data:`UNUSUAL`, else "a typical image,
    misread".
    """
    X, _, y, _ = held_out()
    d, dist = digits(), _distances()
    probs = softmax(model(X), axis=1)
    pred = probs.argmax(axis=1)
    own = np.where(d.y_train[None, :] == y[:, None], dist, np.inf).min(axis=1)
    right = pred == y
    wrong = np.flatnonzero(~right)
    wrong = wrong[np.argsort(-probs[wrong, pred[wrong]], kind="stable")]
    nearest = dist[wrong].argmin(axis=1)
    rarity = np.array([np.mean(own[right] < own[i]) for i in wrong])
    cause = np.where(d.y_train[nearest] != y[wrong], 0, np.where(rarity >= UNUSUAL, 1, 2))
    return {"index": wrong, "true": y[wrong], "pred": pred[wrong],
            "confidence": probs[wrong, pred[wrong]], "p_true": probs[wrong, y[wrong]],
            "nearest": nearest, "nearest_label": d.y_train[nearest], "rarity": rarity,
            "cause": cause}


def mistakes_by_cause(seed, **settings_):
    """How many held-out mistakes a run makes, how many of them are validation images, and
    how many of each cause of :data:`CAUSES`: ``{"mistakes": n, "val": n_val, cause: count,
    ...}``."""
    mistakes = error_analysis(run(train, seed, **settings_)["model"])
    causes, where = mistakes["cause"], held_out()[3]
    return {"mistakes": len(causes), "val": int(np.sum(where[mistakes["index"]] == "val")),
            **{name: int(np.sum(causes == i)) for i, name in enumerate(CAUSES)}}


# ------------------------------------------------------------------ the first layer


def first_layer(seed, weight_decays=(0.0, 1e-3), epochs=EPOCHS):
    """What weight decay does to the first layer's weights W (64, 128), for each weight decay
    (Adam, lr 1e-3): the largest |W| on the pixels blank in every training image
    (``blank_max``), whether those rows still hold their initial values (``blank_kept``), and
    the mean |W| on the other pixels (``other_mean``), each ``{wd: value}``."""
    blank = np.ptp(digits().raw_train, axis=0) == 0
    manual_seed(seed)
    W0 = make_mlp()[0].W.data                 # the initial weights train() starts from
    result = {"blank_max": {}, "blank_kept": {}, "other_mean": {}}
    for wd in weight_decays:
        W = run(train, seed, **settings(weight_decay=wd, epochs=epochs))["model"][0].W.data
        result["blank_max"][wd] = float(np.abs(W[blank]).max())
        result["blank_kept"][wd] = bool(np.array_equal(W[blank], W0[blank]))
        result["other_mean"][wd] = float(np.abs(W[~blank]).mean())
    return result


# ------------------------------------------------------------------ the claims of the lesson

NO_DECAY = settings()                       # the first run of the lesson: no weight decay
PLATEAU = settings(activation="sigmoid", init="small", optimizer="sgd", lr=0.1)


def _median_gap(results, row_a, row_b):
    return abs(np.median([r[row_a]["val_loss"] for r in results])
               - np.median([r[row_b]["val_loss"] for r in results]))


TRAINING = [
    Claim("without weight decay, early stopping ends the run by epoch 40 and keeps an epoch "
          "before epoch 30", digits_run, settings=NO_DECAY,
          each=lambda r: r["epochs_run"] <= 40 and r["best_epoch"] < 30),
    Claim("with weight decay 0 or 1e-3, the kept weights classify every training image "
          "correctly", weight_decay_sweep,
          each=lambda r: r["train_acc"][0.0] == 1.0 and r["train_acc"][1e-3] == 1.0),
]
WEIGHT_DECAY = [
    Claim("weight decay 1e-3 has the lowest validation loss of 0, 1e-3 and 1e-2",
          weight_decay_sweep,
          each=lambda r: r["val_loss"][1e-3] < min(r["val_loss"][0.0], r["val_loss"][1e-2])),
    Claim("weight decay 1e-2 has the highest training loss of the three", weight_decay_sweep,
          each=lambda r: r["train_loss"][1e-2] > max(r["train_loss"][0.0],
                                                     r["train_loss"][1e-3])),
    Claim("with weight decay 1e-3 the validation loss still improves late: the kept epoch is "
          "after epoch 50", digits_run, settings=FINAL, each=lambda r: r["best_epoch"] > 50),
]
TEST = [
    Claim("the final model reaches at least 97 % test accuracy", digits_run, settings=FINAL,
          each=lambda r: r["test_acc"] >= 0.97),
    Claim("its test accuracy is at least 2 points above its validation accuracy", digits_run,
          settings=FINAL, each=lambda r: r["test_acc"] - r["val_acc"] >= 0.02),
    Claim("weight decay 1e-2 scores at least as high on the test set as 1e-3",
          weight_decay_sweep, each=lambda r: r["test_acc"][1e-2] >= r["test_acc"][1e-3]),
]
ERRORS = [
    Claim("the final model makes 10 to 20 mistakes on the 540 held-out images",
          mistakes_by_cause, settings=FINAL, each=lambda r: 10 <= r["mistakes"] <= 20),
    Claim("at most one of them is a typical image misread", mistakes_by_cause, settings=FINAL,
          each=lambda r: r[CAUSES[2]] <= 1),
    Claim("'looks like another digit' and 'an unusual way of writing it' each account for at "
          "least a quarter of them", mistakes_by_cause, settings=FINAL,
          each=lambda r: min(r[CAUSES[0]], r[CAUSES[1]]) >= r["mistakes"] / 4),
    Claim("at least three quarters of them are validation images", mistakes_by_cause,
          settings=FINAL, each=lambda r: r["val"] >= 0.75 * r["mistakes"]),
]
WEIGHTS = [
    Claim("without weight decay the first-layer weights of the blank pixels keep their initial "
          "values; with weight decay 1e-3 they end below 0.001 in size", first_layer,
          each=lambda r: r["blank_kept"][0.0] and r["blank_max"][1e-3] < 1e-3),
    Claim("with weight decay 1e-3 the other first-layer weights are on average less than half "
          "as large as without it", first_layer,
          each=lambda r: r["other_mean"][1e-3] < r["other_mean"][0.0] / 2),
]
CALIBRATION = [
    Claim("the final model's expected calibration error on the test set is below 0.03",
          digits_run, settings=FINAL, each=lambda r: r["ece"] < 0.03),
    Claim("it is underconfident: its mean confidence is below its test accuracy", digits_run,
          settings=FINAL, each=lambda r: r["confidence"] < r["test_acc"]),
    Claim("with weight decay 1e-2 it is clearly underconfident: ECE above 0.05, mean "
          "confidence at least 5 points below the accuracy", weight_decay_sweep,
          each=lambda r: r["ece"][1e-2] > 0.05
          and r["confidence"][1e-2] <= r["test_acc"][1e-2] - 0.05),
]
ABLATION_CLAIMS = [
    Claim("with SGD at lr 0.1, the network without remedies never gets below a validation "
          "loss of 2.2 (ln 10 = 2.30 is a uniform guess)", digits_run, settings=PLATEAU,
          each=lambda r: r["val_loss"] > 2.2),
    Claim("at its learning rate, every row reaches at least 93 % validation accuracy",
          ablation, each=lambda r: min(row["val_acc"] for row in r.values()) >= 0.93),
    Claim("reaching 90 % validation accuracy takes at least 10 epochs without the remedies, "
          "at most 8 with ReLU, at most 3 with ReLU and He initialisation", ablation,
          each=lambda r: r["none of the remedies"]["first_90"] >= 10
          and r["+ ReLU"]["first_90"] <= 8 and r["+ He initialisation"]["first_90"] <= 3),
    Claim("at their own learning rates, SGD and Adam end within 0.03 of each other in median "
          "validation loss", ablation,
          overall=lambda rs: _median_gap(rs, "+ He initialisation", "+ Adam") < 0.03),
    Claim("adding L2 gives the lowest validation loss of all the rows", ablation,
          each=lambda r: r["+ L2 = the final model"]["val_loss"]
          < min(row["val_loss"] for name, row in r.items() if name != "+ L2 = the final model")),
]
CLAIMS = TRAINING + WEIGHT_DECAY + TEST + ERRORS + CALIBRATION + WEIGHTS + ABLATION_CLAIMS

# settings that break a claim on purpose (one seed each): networks trained for an epoch or two
SABOTAGE = [(CLAIMS.index(TEST[0]), {"epochs": 1}),
            (CLAIMS.index(CALIBRATION[0]), {"epochs": 1}),
            (CLAIMS.index(WEIGHTS[0]), {"epochs": 1}),
            (CLAIMS.index(ABLATION_CLAIMS[2]), {"epochs": 2})]
