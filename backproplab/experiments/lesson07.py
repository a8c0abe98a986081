"""Lesson 07's experiments: overfitting, underfitting and the remedies, over every seed.

Three small problems, each cheap enough to run five times:

* **polynomials**: 20 noisy points of the cubic ``4x^3 - 3x``, fitted exactly by least
  squares (degree = capacity); ``seed`` picks the training set (seed 0 is the lesson's),
  the 200 validation points are the same for every seed;
* **circles**: 100 noisy points of two concentric circles and an MLP trained with full-batch
  Adam for 200 epochs; ``seed`` is the initialisation (and the dropout masks), the data are the
  same for every seed;
* **digits**: 100 of the 8x8 handwritten digits (10 of each) and an MLP, with or without
  random one-pixel shifts (data augmentation); ``seed`` is the initialisation, the shuffling
  and the shifts.

Trained models are cached (``experiments.run``), so the lesson draws its figures from the same
runs that the claims check, and each run happens once per process.
"""

import numpy as np

from ..data import (kfold_split, load_digits, make_circles, make_polynomial, polynomial_features,
                    random_shift, train_val_split)
from ..functional import softmax
from ..layers import Dropout, Linear, ReLU, Sequential
from ..losses import CrossEntropyLoss
from ..optim import Adam, AdamW
from ..train import evaluate, fit
from . import Claim, run

# ----------------------------------------------------------------------------- polynomials

NOISE = 0.25                 # the noise's standard deviation: sigma^2 = 0.0625 is the floor
DEGREES = range(1, 16)
X_POLY_VAL, Y_POLY_VAL = make_polynomial(200, degree=3, noise=NOISE, seed=2)


def polynomial_data(seed, n=20):
    """Training set ``seed`` of the polynomial problem: (x (n, 1), y (n,)); seed 0 is the
    lesson's 20 points."""
    return make_polynomial(n, degree=3, noise=NOISE, seed=1 + 10 * seed)


def fit_polynomial(x, y, degree, l2=0.0):
    """Least-squares polynomial of ``degree`` (ridge penalty ``(l2 / 2) ||w||^2`` on the
    weights, not on the intercept), as a ``Linear(degree, 1)`` on ``polynomial_features``.

    The same fit as the explorer's (``backproplab.widgets.overfitting.fit_polynomial``);
    a test checks that they agree.
    """
    n = len(x)
    penalty = np.sqrt(l2 * n / 2.0) * np.eye(degree + 1)[1:]           # (degree, degree+1)
    A = np.vstack([np.column_stack([np.ones(n), polynomial_features(x, degree)]), penalty])
    coef = np.linalg.lstsq(A, np.concatenate([np.asarray(y, float), np.zeros(degree)]),
                           rcond=None)[0]
    layer = Linear(degree, 1)
    layer.W.data[:, 0], layer.b.data[:] = coef[1:], coef[:1]
    return layer


def mse(model, x, y, degree):
    """Mean squared error of a fitted polynomial on (x, y)."""
    return float(np.mean((model(polynomial_features(x, degree))[:, 0] - y) ** 2))


def u_curve(seed, n_train=20):
    """Training and validation MSE of every degree 1..15 on training set ``seed``, and of
    degree 15 with 100 points or with an L2 penalty."""
    x, y = polynomial_data(seed, n_train)
    fits = [fit_polynomial(x, y, d) for d in DEGREES]
    train = np.array([mse(m, x, y, d) for m, d in zip(fits, DEGREES)])
    val = np.array([mse(m, X_POLY_VAL, Y_POLY_VAL, d) for m, d in zip(fits, DEGREES)])
    x100, y100 = polynomial_data(seed, 100)
    small, large = (fit_polynomial(x, y, 15, l2=lam) for lam in (1e-3, 1.0))
    return {"train": train, "val": val, "best_degree": int(np.argmin(val)) + 1,
            "train_never_rises": bool(np.all(np.diff(train) <= 1e-12)),
            "val_15_100_points": mse(fit_polynomial(x100, y100, 15), X_POLY_VAL, Y_POLY_VAL, 15),
            "val_15_l2_small": mse(small, X_POLY_VAL, Y_POLY_VAL, 15),
            "train_15_l2_large": mse(large, x, y, 15),
            "val_15_l2_large": mse(large, X_POLY_VAL, Y_POLY_VAL, 15)}


def cross_validation_mse(x, y, degree, n_folds=5, seed=0):
    """k-fold estimate of a degree's error on new data: the mean, over the folds, of the MSE
    on the held-out fold of the polynomial fitted to the other folds."""
    return float(np.mean([mse(fit_polynomial(x[tr], y[tr], degree), x[va], y[va], degree)
                          for tr, va in kfold_split(len(x), n_folds, seed=seed)]))


def choose_degree(x, y, n_folds, seed):
    """The degree with the lowest k-fold error, or, with ``n_folds=None``, the lowest error
    on one held-out quarter (5 of 20 points: the first fold of a 4-fold split)."""
    if n_folds is None:
        tr, va = kfold_split(len(x), 4, seed=seed)[0]
        errors = [mse(fit_polynomial(x[tr], y[tr], d), x[va], y[va], d) for d in DEGREES]
    else:
        errors = [cross_validation_mse(x, y, d, n_folds, seed) for d in DEGREES]
    return DEGREES[int(np.argmin(errors))]


def model_selection(seed, n_splits=10, n_folds=5):
    """The degree picked on training set ``seed`` by a single hold-out and by k-fold
    cross-validation, each with ``n_splits`` different shuffles, and the validation MSE
    (on the 200 points) of the worst pick of each."""
    x, y = polynomial_data(seed)
    val = u_curve(seed)["val"]
    picks = {name: [choose_degree(x, y, folds, 1000 * seed + s) for s in range(n_splits)]
             for name, folds in (("holdout", None), ("kfold", n_folds))}
    return {"holdout_picks": picks["holdout"], "kfold_picks": picks["kfold"],
            **{f"worst_val_{k}": float(max(val[d - 1] for d in v)) for k, v in picks.items()}}


# ----------------------------------------------------------------------------- circles

EPOCHS = 200
LR = 0.01
X_CIRCLES, Y_CIRCLES = make_circles(1500, noise=0.2, seed=0)
X_POOL, X_VAL, Y_POOL, Y_VAL = train_val_split(X_CIRCLES, Y_CIRCLES, val_fraction=1 / 3, seed=0)
LOSS = CrossEntropyLoss()


def make_mlp(hidden=24, n_hidden_layers=2, dropout=0.0, seed=0):
    """2 -> hidden -> ... -> 2 with ReLU and He initialisation, and Dropout(dropout) after
    each ReLU when dropout > 0. ``seed`` draws the weights and the dropout masks."""
    init_rng = np.random.default_rng(seed)
    layers, width = [], 2
    for _ in range(n_hidden_layers):
        layers += [Linear(width, hidden, init="he_normal", rng=init_rng), ReLU()]
        if dropout:
            layers.append(Dropout(dropout, rng=init_rng))
        width = hidden
    layers.append(Linear(width, 2, init="he_normal", rng=init_rng))
    return Sequential(*layers)


def _train_circles(seed, n, hidden, n_hidden_layers, dropout, optimizer, weight_decay,
                   early_stopping, curves):
    model = make_mlp(hidden, n_hidden_layers, dropout, seed)
    make = {"adam": Adam, "adamw": AdamW}[optimizer]
    history = fit(model, LOSS, make(model.parameters(), lr=LR, weight_decay=weight_decay),
                  (X_POOL[:n], Y_POOL[:n]), epochs=EPOCHS, batch_size=n,
                  val_data=(X_VAL, Y_VAL) if curves or early_stopping else None,
                  evaluate_train=curves, early_stopping=early_stopping, progress=False)
    return {"model": model, "history": history}


def train_circles(seed, n=100, hidden=24, n_hidden_layers=2, dropout=0.0, optimizer="adam",
                  weight_decay=0.0, early_stopping=None, curves=True):
    """(model, history) of one circles run, trained once per process: full-batch ``optimizer``
    ("adam" or "adamw") at lr 0.01 for 200 epochs on the first ``n`` points of the pool.
    ``curves`` records the training (in eval mode) and validation loss of every epoch; it
    does not change the training."""
    out = run(_train_circles, seed, n=n, hidden=hidden, n_hidden_layers=n_hidden_layers,
              dropout=dropout, optimizer=optimizer, weight_decay=weight_decay,
              early_stopping=early_stopping, curves=curves)
    return out["model"], out["history"]


def circles(seed, **settings):
    """Plain numbers of a circles run: train/validation loss and accuracy of the final (or
    restored) model, its mean confidence on the validation points it gets wrong, and with
    curves the lowest validation loss, its epoch, and how far the validation loss rose after
    it."""
    model, history = train_circles(seed, **settings)
    n = settings.get("n", 100)
    train_loss, train_acc = evaluate(model, LOSS, X_POOL[:n], Y_POOL[:n])
    val_loss, val_acc = evaluate(model, LOSS, X_VAL, Y_VAL)
    probs = LOSS.probabilities(model(X_VAL))
    wrong = probs.argmax(axis=1) != Y_VAL
    out = {"train_loss": train_loss, "train_acc": train_acc, "val_loss": val_loss,
           "val_acc": val_acc, "gap": val_loss - train_loss, "epochs": len(history.epochs),
           "confidence_when_wrong": float(probs[wrong].max(axis=1).mean())}
    if history.val_loss:
        out.update(min_val_loss=min(history.val_loss), best_epoch=history.best_epoch,
                   rise=history.val_loss[-1] - min(history.val_loss))
    return out


def compare(seed, runs):
    """``{name: circles(seed, **settings)}`` for ``runs``, a tuple of (name, settings-tuple)
    pairs (hashable, so the comparison itself can be cached)."""
    return {name: circles(seed, **dict(settings)) for name, settings in runs}


def _runs(**named):
    return tuple((name, tuple(sorted(s.items()))) for name, s in named.items())


DATA_SIZES = _runs(n30={"n": 30}, n100={}, n1000={"n": 1000})
L2_VALUES = (0.0, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
# curves only where a figure or a claim uses them (0: the baseline, 0.01: L2 in the table)
L2_SWEEP = _runs(**{f"{lam:g}": {"weight_decay": lam, "curves": lam in (0.0, 1e-2)}
                    for lam in L2_VALUES})
ADAMW_VALUES = (0.01, 0.1, 1.0, 3.0, 10.0)
ADAMW_SWEEP = _runs(none={}, l2={"weight_decay": 1e-2},
                    **{f"{wd:g}": {"optimizer": "adamw", "weight_decay": wd, "curves": False}
                       for wd in ADAMW_VALUES})
WIDE = 128
WIDTHS = _runs(**{"24": {}, "24+dropout": {"dropout": 0.5, "curves": False},
                  f"{WIDE}": {"hidden": WIDE, "curves": False},
                  f"{WIDE}+dropout": {"hidden": WIDE, "dropout": 0.5, "curves": False}})
REMEDIES = _runs(**{"none": {}, "more data (1000 points)": {"n": 1000},
                    "L2, lambda = 0.01": {"weight_decay": 1e-2},
                    "AdamW, weight_decay = 3": {"optimizer": "adamw", "weight_decay": 3.0,
                                                "curves": False},
                    "dropout, p = 0.5": {"dropout": 0.5, "curves": False},
                    "early stopping (20)": {"early_stopping": 20},
                    "smaller model (2-8-2)": {"hidden": 8, "n_hidden_layers": 1},
                    "linear (2-2)": {"n_hidden_layers": 0}})


def thinned_networks(seed, n_masks=50, p=0.5):
    """The 24-unit dropout network on the validation set three ways: in eval mode (one
    network, weights as trained), one thinned network at a time (train mode, a fresh mask
    per pass: the mean over ``n_masks`` of their losses), and the average of the
    ``n_masks`` thinned networks' probabilities."""
    model, _ = train_circles(seed, dropout=p, curves=False)
    n = len(X_VAL)
    model.train()                                     # thinned: every row a new mask
    probs = softmax(model(np.tile(X_VAL, (n_masks, 1)))).reshape(n_masks, n, 2)
    model.eval()
    eval_probs = softmax(model(X_VAL))
    rows = np.arange(n)

    def nll(p):
        return -np.mean(np.log(p[..., rows, Y_VAL]), axis=-1)

    average = probs.mean(axis=0)
    return {"eval_loss": float(nll(eval_probs)), "average_loss": float(nll(average)),
            "single_loss": float(nll(probs).mean()),
            "eval_acc": float(np.mean(eval_probs.argmax(1) == Y_VAL)),
            "average_acc": float(np.mean(average.argmax(1) == Y_VAL)),
            "single_acc": float(np.mean(probs.argmax(2) == Y_VAL)),
            "agreement": float(np.mean(average.argmax(1) == eval_probs.argmax(1)))}


# ----------------------------------------------------------------------------- digits

DIGITS_PER_CLASS = 10
DIGITS_EPOCHS = 200


def _digits(seed):
    X, y = load_digits()
    X_pool, X_val, y_pool, y_val = train_val_split(X / 16, y, val_fraction=0.3, seed=0,
                                                   stratify=True)
    idx = np.concatenate([np.flatnonzero(y_pool == c)[:DIGITS_PER_CLASS] for c in range(10)])
    X_val_shifted = random_shift(X_val, 1, seed=7)   # the same digits, each moved (or not)
    return {"train": (X_pool[idx], y_pool[idx]), "val": (X_val, y_val),
            "val_shifted": (X_val_shifted, y_val)}


def digits_data():
    """{"train": (X (100, 64), y), "val": (X (539, 64), y), "val_shifted": ...}: pixels
    scaled to [0, 1]; 10 training images of each digit; the validation images, and the same
    images each moved by a random shift of at most one pixel."""
    return run(_digits, 0)


def _train_digits(seed, shift, hidden):
    X_train, y_train = digits_data()["train"]
    init_rng = np.random.default_rng(seed)
    model = Sequential(Linear(64, hidden, init="he_normal", rng=init_rng), ReLU(),
                       Linear(hidden, 10, init="he_normal", rng=init_rng))
    optimizer = Adam(model.parameters(), lr=LR)
    rng = np.random.default_rng(1000 + seed)          # shuffling and shifts
    for _ in range(DIGITS_EPOCHS):                    # a new shift of every image every epoch
        X_epoch = random_shift(X_train, shift, rng=rng) if shift else X_train
        fit(model, LOSS, optimizer, (X_epoch, y_train), epochs=1, batch_size=len(X_train),
            rng=rng, progress=False)
    return {"model": model}


def train_digits(seed, shift=0, hidden=128):
    """An MLP 64-hidden-10 trained by full-batch Adam (lr 0.01, 200 epochs) on the 100
    training digits, each epoch shifted by random whole pixels up to ``shift`` (0: no
    augmentation). Trained once per process."""
    return run(_train_digits, seed, shift=shift, hidden=hidden)["model"]


def augmentation(seed, shift=1):
    """Validation loss and accuracy without and with augmentation (shifts up to ``shift``),
    on the validation images and on the same images shifted by up to one pixel."""
    out = {}
    for name, s in (("plain", 0), ("augmented", shift)):
        model = train_digits(seed, s)
        for data in ("train", "val", "val_shifted"):
            loss, acc = evaluate(model, LOSS, *digits_data()[data])
            out[f"{name}_{data}_loss"], out[f"{name}_{data}_acc"] = loss, acc
    return out


# ----------------------------------------------------------------------------- claims

def _all(values, test):
    return all(test(v) for v in values)


def _remedies(r):
    """The names of the remedies in a REMEDIES comparison (not the baseline, not the linear)."""
    return [k for k in r if k not in ("none", "linear (2-2)")]


# Grouped by the section of the lesson that states them; CLAIMS holds them all.
U_CURVE_CLAIMS = [
    Claim("the training error of the polynomials never rises with the degree",
          u_curve, each=lambda r: r["train_never_rises"]),
    Claim("the validation error is lowest at degree 3, the true degree",
          u_curve, each=lambda r: r["best_degree"] == 3),
    Claim("degree 1 and degree 15 both have more than twice the lowest validation error "
          "(the U)",
          u_curve, each=lambda r: min(r["val"][0], r["val"][14]) > 2 * r["val"].min()),
    Claim("degree 15 on 100 points has a lower validation error than on 20",
          u_curve, each=lambda r: r["val_15_100_points"] < r["val"][14]),
    Claim("L2 with lambda = 0.001 brings degree 15's validation error below 0.2",
          u_curve, each=lambda r: r["val_15_l2_small"] < 0.2 < r["val"][14]),
    Claim("L2 with lambda = 1 underfits: training error above 0.2, validation error above "
          "lambda = 0.001's",
          u_curve, each=lambda r: r["train_15_l2_large"] > 0.2
          and r["val_15_l2_large"] > r["val_15_l2_small"]),
]
KFOLD_CLAIMS = [
    Claim("5-fold cross-validation picks degree 3, 4 or 5 for each of 10 shuffles",
          model_selection, each=lambda r: _all(r["kfold_picks"], lambda d: 3 <= d <= 5)),
    Claim("a single 5-point hold-out picks degree 6 or more for at least one of 10 shuffles, "
          "and its worst pick has a higher validation error than cross-validation's worst",
          model_selection, each=lambda r: max(r["holdout_picks"]) >= 6
          and r["worst_val_holdout"] > r["worst_val_kfold"]),
]
OVERFIT_CLAIMS = [
    Claim("on 100 points the 2-24-24-2 MLP overfits: training loss below 0.1, and its "
          "validation loss ends more than 0.3 above its minimum",
          circles, each=lambda r: r["train_loss"] < 0.1 and r["rise"] > 0.3),
]
DATA_CLAIMS = [
    Claim("more data lowers the lowest validation loss: 30 > 100 > 1000 points",
          compare, settings={"runs": DATA_SIZES},
          each=lambda r: r["n30"]["min_val_loss"] > r["n100"]["min_val_loss"]
          > r["n1000"]["min_val_loss"]),
    Claim("with 1000 points the gap between validation and training loss is below 0.05",
          compare, settings={"runs": DATA_SIZES}, each=lambda r: abs(r["n1000"]["gap"]) < 0.05),
    Claim("the final validation loss does not rank 30 and 100 points: each ends higher for "
          "some seed", compare, settings={"runs": DATA_SIZES},
          overall=lambda rs: len({r["n30"]["val_loss"] > r["n100"]["val_loss"] for r in rs}) == 2),
]
L2_CLAIMS = [
    Claim("of lambda = 0, 0.001, 0.003, 0.01, 0.03, 0.1, the validation loss is lowest at 0.01",
          compare, settings={"runs": L2_SWEEP},
          each=lambda r: min(r, key=lambda k: r[k]["val_loss"]) == "0.01"),
    Claim("lambda = 0.1 underfits: training loss above 0.55, validation accuracy below 80 %",
          compare, settings={"runs": L2_SWEEP},
          each=lambda r: r["0.1"]["train_loss"] > 0.55 and r["0.1"]["val_acc"] < 0.8),
    Claim("L2 at 0.01 makes the wrong predictions less confident: their mean confidence is "
          "at least 10 points lower than without",
          compare, settings={"runs": L2_SWEEP},
          each=lambda r: r["0.01"]["confidence_when_wrong"]
          < r["0"]["confidence_when_wrong"] - 0.1),
]
ADAMW_CLAIMS = [
    Claim("AdamW at PyTorch's default weight_decay = 0.01 still overfits: its validation "
          "loss is within 0.1 of no decay's",
          compare, settings={"runs": ADAMW_SWEEP},
          each=lambda r: abs(r["0.01"]["val_loss"] - r["none"]["val_loss"]) < 0.1),
    Claim("AdamW with weight_decay = 3 regularises about as well as L2 at 0.01: validation "
          "loss below 0.36, within 0.05 of L2's",
          compare, settings={"runs": ADAMW_SWEEP},
          each=lambda r: r["3"]["val_loss"] < 0.36
          and abs(r["3"]["val_loss"] - r["l2"]["val_loss"]) < 0.05),
    Claim("AdamW with weight_decay = 10 underfits: training loss above 0.55",
          compare, settings={"runs": ADAMW_SWEEP}, each=lambda r: r["10"]["train_loss"] > 0.55),
]
DROPOUT_CLAIMS = [
    Claim("dropout (p = 0.5) lowers the 24-unit network's validation loss; L2 (0.01) "
          "lowers it more",
          compare, settings={"runs": REMEDIES},
          each=lambda r: r["none"]["val_loss"] > r["dropout, p = 0.5"]["val_loss"]
          > r["L2, lambda = 0.01"]["val_loss"]),
]
THINNED_CLAIMS = [
    Claim("one thinned network has a higher validation loss than the network in eval mode, "
          "the average of 50 thinned networks a lower one",
          thinned_networks, each=lambda r: r["single_loss"] > r["eval_loss"] > r["average_loss"]),
    Claim("eval mode and the average of 50 thinned networks agree on at least 90 % of the "
          "validation points",
          thinned_networks, each=lambda r: r["agreement"] >= 0.9),
]
WIDE_CLAIMS = [
    Claim(f"without dropout, {WIDE} units overfit worse than 24: a higher validation loss",
          compare, settings={"runs": WIDTHS},
          each=lambda r: r[f"{WIDE}"]["val_loss"] > r["24"]["val_loss"]),
    Claim(f"dropout cuts the {WIDE}-unit network's validation loss by more than half and "
          "raises its validation accuracy by at least 1 point",
          compare, settings={"runs": WIDTHS},
          each=lambda r: r[f"{WIDE}+dropout"]["val_loss"] < 0.5 * r[f"{WIDE}"]["val_loss"]
          and r[f"{WIDE}+dropout"]["val_acc"] >= r[f"{WIDE}"]["val_acc"] + 0.01),
    Claim(f"dropout cuts the validation loss of {WIDE} units by a larger fraction than that "
          "of 24 units",
          compare, settings={"runs": WIDTHS},
          each=lambda r: r[f"{WIDE}+dropout"]["val_loss"] / r[f"{WIDE}"]["val_loss"]
          < r["24+dropout"]["val_loss"] / r["24"]["val_loss"]),
    Claim("dropout does not raise the 24-unit network's validation accuracy by more than "
          "1 point",
          compare, settings={"runs": WIDTHS},
          each=lambda r: r["24+dropout"]["val_acc"] <= r["24"]["val_acc"] + 0.01),
]
EARLY_STOPPING_CLAIMS = [
    Claim("early stopping (patience 20) stops before epoch 100 with a validation loss below "
          "0.35, at least 0.25 below the full run's final one",
          compare, settings={"runs": REMEDIES},
          each=lambda r: r["early stopping (20)"]["epochs"] < 100
          and r["early stopping (20)"]["val_loss"] < min(0.35, r["none"]["val_loss"] - 0.25)),
]
REMEDY_CLAIMS = [
    Claim("every remedy ends with a lower validation loss than no remedy",
          compare, settings={"runs": REMEDIES},
          each=lambda r: _all(_remedies(r), lambda k: r[k]["val_loss"] < r["none"]["val_loss"])),
    Claim("every remedy raises the training loss and at least halves the gap between "
          "validation and training loss",
          compare, settings={"runs": REMEDIES},
          each=lambda r: _all(_remedies(r), lambda k: r[k]["train_loss"] > r["none"]["train_loss"]
                              and r[k]["gap"] < r["none"]["gap"] / 2)),
    Claim("more data gives the lowest validation loss of all",
          compare, settings={"runs": REMEDIES},
          each=lambda r: min(r, key=lambda k: r[k]["val_loss"]) == "more data (1000 points)"),
]
AUGMENTATION_CLAIMS = [
    Claim("random one-pixel shifts lower the validation loss and raise the validation "
          "accuracy of the digits MLP trained on 100 images",
          augmentation, each=lambda r: r["augmented_val_loss"] < r["plain_val_loss"]
          and r["augmented_val_acc"] > r["plain_val_acc"]),
    Claim("on validation digits moved by up to one pixel, the augmented network is more "
          "than 10 points more accurate",
          augmentation,
          each=lambda r: r["augmented_val_shifted_acc"] > r["plain_val_shifted_acc"] + 0.1),
]
DIAGNOSIS_CLAIMS = [
    Claim("the linear classifier underfits: training loss above 0.65 (ln 2 = 0.69), "
          "validation accuracy below 55 %",
          compare, settings={"runs": REMEDIES},
          each=lambda r: r["linear (2-2)"]["train_loss"] > 0.65
          and r["linear (2-2)"]["val_acc"] < 0.55),
    Claim("L2 and the smaller model end within 0.05 of their lowest validation loss",
          compare, settings={"runs": REMEDIES},
          each=lambda r: r["L2, lambda = 0.01"]["rise"] < 0.05
          and r["smaller model (2-8-2)"]["rise"] < 0.05),
]

CLAIMS = (U_CURVE_CLAIMS + KFOLD_CLAIMS + OVERFIT_CLAIMS + DATA_CLAIMS + L2_CLAIMS
          + ADAMW_CLAIMS + DROPOUT_CLAIMS + THINNED_CLAIMS + WIDE_CLAIMS + EARLY_STOPPING_CLAIMS
          + REMEDY_CLAIMS + AUGMENTATION_CLAIMS + DIAGNOSIS_CLAIMS)

# (claim index, settings) that break a claim on purpose: the claims test checks they do.
SABOTAGE = [
    (CLAIMS.index(U_CURVE_CLAIMS[2]), {"n_train": 100}),      # 100 points: no U on the right
    (CLAIMS.index(OVERFIT_CLAIMS[0]), {"weight_decay": 1e-2}),  # a regularised run
    (CLAIMS.index(THINNED_CLAIMS[0]), {"p": 0.0}),             # no dropout: nothing is thinned
    (CLAIMS.index(AUGMENTATION_CLAIMS[0]), {"shift": 0}),       # augmentation that shifts nothing
]
