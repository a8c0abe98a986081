"""Parts of exercise 08, the capstone (solutions/08_capstone_digits.ipynb): standardising with
training statistics only, building a He-initialised ReLU network, accuracy in eval mode, a
confusion matrix, the expected calibration error, and a trained digits classifier that must
reach a stated test accuracy.

The data split is the lesson's (``train_val_test_split`` of ``load_digits`` with
``val_fraction=0.15, test_fraction=0.15, seed=0, stratify=True``): ``ex08_model`` standardises it
with the library's ``standardize`` (training statistics), calls the student's training function
on the training and validation sets, and measures the returned model on the 270 test images,
which the exercise notebook never loads. Full marks at >= 97 % test accuracy (the lesson's
target), partial credit from 90 %; a model below 50 % (chance is 10 %) did not learn and
scores nothing, not even for the shape of its output.

Every test of ``ex08_standardize`` compares the test rows, so standardising the test set with its
own statistics (the named mistake "using test statistics") loses the whole part.
"""

import warnings

import numpy as np

from ...data import load_digits, standardize as _standardize_ref, train_val_test_split
from ...functional import softmax
from ...layers import Dropout, LeakyReLU, Linear, Module, ReLU, Sequential
from ...metrics import expected_calibration_error as _ece_ref
from ..compare import merge_same, without_answer
from ..registry import part

SPLIT = {"val_fraction": 0.15, "test_fraction": 0.15, "seed": 0, "stratify": True}
TARGET, GOOD, PASSABLE = 0.97, 0.95, 0.90  # test accuracy for 4, 3 and 2 of the 4 points
LEARNED = 0.5  # below it (chance is 0.1), the model did not learn: no point at all


def digits_split():
    """The lesson's split of the digits: X_train, X_val, X_test, y_train, y_val, y_test."""
    X, y = load_digits()
    return train_val_test_split(X, y, **SPLIT)


# ----------------------------------------------------------------------------- 1. standardize

# Column 2 is constant in the training set: it is only centred, so a test value 5 becomes 2.
STD_TRAIN = np.array([[1.0, 10.0, 3.0, -2.0], [2.0, 14.0, 3.0, 0.0], [4.0, 9.0, 3.0, 1.0],
                      [0.0, 11.0, 3.0, -1.0], [3.0, 12.0, 3.0, 4.0], [2.0, 16.0, 3.0, 0.0]])
STD_TEST = np.array([[5.0, 8.0, 5.0, 2.0], [-1.0, 13.0, 3.0, 6.0], [2.0, 20.0, 0.0, -3.0]])


def _scale(X, mean, std):
    with np.errstate(all="ignore"):
        return (X - mean) / std


def _guarded(std, X):
    return np.where(np.ptp(X, axis=0) == 0, 1.0, std)


def _standardize_mistakes(X_train, X_test):
    both = np.concatenate([X_train, X_test])
    mean, std = X_train.mean(axis=0), _guarded(X_train.std(axis=0), X_train)
    own_mean, own_std = X_test.mean(axis=0), _guarded(X_test.std(axis=0), X_test)
    all_mean, all_std = both.mean(axis=0), _guarded(both.std(axis=0), both)

    def stacked(train, test):
        return np.concatenate([train, test])

    ddof1 = X_train.std(axis=0, ddof=1) if len(X_train) > 1 else X_train.std(axis=0)
    return merge_same({
        "using test statistics: the test set standardised with its own mean and std (use the "
        "training mean and std for every set)":
            stacked(_scale(X_train, mean, std), _scale(X_test, own_mean, own_std)),
        "using test statistics: the mean and std of the training and test sets together (the "
        "test set must not influence the preprocessing)":
            stacked(_scale(X_train, all_mean, all_std), _scale(X_test, all_mean, all_std)),
        "statistics over each example (axis=1) instead of over each feature (axis=0)":
            stacked(_scale(X_train, X_train.mean(axis=1, keepdims=True),
                           _guarded(X_train.std(axis=1, keepdims=True).T, X_train.T).T),
                    _scale(X_test, X_test.mean(axis=1, keepdims=True),
                           _guarded(X_test.std(axis=1, keepdims=True).T, X_test.T).T)),
        "a constant feature divided by its std of 0 (NaN or inf): divide it by 1 instead":
            stacked(_scale(X_train, mean, X_train.std(axis=0)),
                    _scale(X_test, mean, X_train.std(axis=0))),
        "1e-8 added to every std instead of dividing a constant feature by 1: a constant "
        "feature's test values are then divided by 1e-8":
            stacked(_scale(X_train, mean, X_train.std(axis=0) + 1e-8),
                    _scale(X_test, mean, X_train.std(axis=0) + 1e-8)),
        "only centred, not divided by the std": stacked(X_train - mean, X_test - mean),
        "one std for all the features (np.std without axis=0): each feature needs its own":
            stacked(_scale(X_train, mean, X_train.std()), _scale(X_test, mean, X_train.std())),
        "one mean and one std for all the features (no axis=0): each feature needs its own":
            stacked(_scale(X_train, X_train.mean(), X_train.std()),
                    _scale(X_test, X_train.mean(), X_train.std())),
        "divided by the std but not centred": stacked(_scale(X_train, 0, std),
                                                      _scale(X_test, 0, std)),
        "the sample std (ddof=1) instead of np.std's (ddof=0)":
            stacked(_scale(X_train, mean, _guarded(ddof1, X_train)),
                    _scale(X_test, mean, _guarded(ddof1, X_train))),
    })


def _standardize_call(standardize, X_train, X_test):
    train, test = standardize(X_train.copy(), X_test.copy())
    return np.concatenate([np.asarray(train, dtype=float), np.asarray(test, dtype=float)])


@part("ex08_standardize", points=2)
def standardize_part(t, standardize):
    """standardising with the training set's statistics only"""
    X_train, _, X_test, _, _, _ = digits_split()
    for train, test, what in [
            (STD_TRAIN, STD_TEST, "a (6, 4) training set whose column 2 is constant, a (3, 4) "
                                  "test set"),
            (X_train, X_test, "the digits: 1257 training and 270 test images (3 pixels are "
                              "blank in every training image)"),
            (X_train, X_test[5:6], "the digits' training set and ONE test image, (1, 64)")]:
        t.close(f"{what}: the standardised training rows, then the test rows",
                lambda train=train, test=test: _standardize_call(standardize, train, test),
                np.concatenate(_standardize_ref(train, test)),
                mistakes=without_answer(_standardize_mistakes(train, test),
                                        np.concatenate(_standardize_ref(train, test))))


# ----------------------------------------------------------------------------- 2. build_model

ACTIVATIONS = (ReLU, LeakyReLU)


def _layers(model):
    if not isinstance(model, Sequential):
        raise AssertionError(f"build_model returned a {type(model).__name__}, not a "
                             "bp.Sequential")
    return list(model.layers)


def _linears(model):
    return [layer for layer in _layers(model) if isinstance(layer, Linear)]


def _structure(build_model):
    layers = _layers(build_model(np.random.default_rng(0)))
    linears = [i for i, layer in enumerate(layers) if isinstance(layer, Linear)]
    assert linears, "no Linear layer at all"
    assert len(linears) >= 2, "a single Linear layer is a linear classifier: add a hidden " \
                              "layer of ReLUs"
    first, last = layers[linears[0]], layers[-1]
    assert first.in_features == 64, f"the first Linear takes {first.in_features} inputs, " \
                                    "not the 64 pixels"
    assert isinstance(last, Linear), \
        f"the last layer is {last!r}: end with a Linear that outputs the raw logits " \
        "(CrossEntropyLoss applies the softmax itself)"
    assert last.out_features == 10, f"the last Linear outputs {last.out_features} numbers, " \
                                    "not one logit per digit (10)"
    for a, b in zip(linears, linears[1:]):
        between = layers[a + 1:b]
        if not any(isinstance(layer, ACTIVATIONS) for layer in between):
            names = ", ".join(type(layer).__name__ for layer in between) or "nothing"
            raise AssertionError(
                f"between Linear layers {a} and {b} there is {names}: without a ReLU the two "
                "layers collapse into one linear map (He initialisation is meant for ReLU)")
    return True


def _init_problem(layer, W):
    """Which initialisation W looks like, when it is not He's."""
    fan_in, fan_out = W.shape
    second = float(np.mean(W ** 2))
    candidates = {
        "Xavier/Glorot initialisation, variance 2 / (fan_in + fan_out): He's is 2 / fan_in":
            2 / (fan_in + fan_out),
        "Linear's default initialisation U(-1/sqrt(fan_in), 1/sqrt(fan_in)), variance "
        "1 / (3 fan_in): pass init=\"he_normal\"": 1 / (3 * fan_in),
        "2 / fan_in used as the standard deviation instead of the variance":
            (2 / fan_in) ** 2,
        "standard normal weights, variance 1: scale them by sqrt(2 / fan_in)": 1.0,
        "variance 1 / fan_in (LeCun): He's has the factor 2 for the ReLU": 1 / fan_in,
    }
    best = min(candidates, key=lambda k: abs(np.log(second / candidates[k])))
    close = abs(np.log(second / candidates[best])) < 0.15
    return f"{layer}: mean(W^2) * fan_in / 2 = {second * fan_in / 2:.3g}, not about 1" + \
        (f"; looks like {best}" if close else "")


def _he_init(build_model):
    model = build_model(np.random.default_rng(1))
    linears = _linears(model)
    assert linears, "no Linear layer"
    for i, layer in enumerate(linears):
        W = np.asarray(layer.W.data, dtype=float)
        fan_in = W.shape[0]
        ratio = float(np.mean(W ** 2)) * fan_in / 2
        tolerance = max(0.1, 4 * np.sqrt(2 / W.size))  # 4 standard errors of mean(W^2)
        if abs(ratio - 1) > tolerance:
            raise AssertionError(_init_problem(f"Linear layer {i} ({W.shape[0]} -> "
                                               f"{W.shape[1]})", W))
        if layer.b is not None and np.any(layer.b.data != 0):
            raise AssertionError(f"Linear layer {i}: the biases do not start at 0 "
                                 "(init=\"he_normal\" sets them to 0)")
    return True


def _weights(model):
    return [np.array(layer.W.data, dtype=float) for layer in _linears(model)]


def _uses_rng(build_model):
    a = _weights(build_model(np.random.default_rng(2)))
    b = _weights(build_model(np.random.default_rng(2)))
    c = _weights(build_model(np.random.default_rng(3)))
    assert all(np.array_equal(u, v) for u, v in zip(a, b)), \
        "the same seed gave different weights: pass rng=rng to every Linear"
    assert not all(np.array_equal(u, v) for u, v in zip(a, c)), \
        "another seed gave the same weights: draw them from the rng argument"
    return True


def _forward(build_model):
    model = build_model(np.random.default_rng(4))
    model.eval()
    return model(np.random.default_rng(5).normal(size=(5, 64)))


@part("ex08_build_model", points=2)
def build_model_part(t, build_model):
    """a ReLU network for the digits, with He initialisation"""
    t.shape("build_model(rng)(X) maps a (5, 64) batch to (5, 10) logits",
            lambda: _forward(build_model), (5, 10))
    t.true("Linear layers with a ReLU between them, 64 inputs first, a Linear with 10 logits "
           "last", lambda: _structure(build_model), "the architecture")
    t.true("He initialisation: mean(W^2) about 2 / fan_in in every Linear, biases 0",
           lambda: _he_init(build_model), "the initialisation", points=2)
    t.true("the weights come from rng: the same seed gives the same network, another seed "
           "another one", lambda: _uses_rng(build_model), "the random generator")


# ----------------------------------------------------------------------------- 3. accuracy

_rng = np.random.default_rng(801)
ACC_X = _rng.normal(size=(50, 6))
ACC_X10 = _rng.normal(size=(30, 8))


def _dropout_model(seed=802):
    """Linear-ReLU-Dropout-Linear with fixed weights; its Dropout draws from its own rng."""
    rng = np.random.default_rng(seed)
    return Sequential(Linear(6, 16, rng=rng), ReLU(), Dropout(0.5, rng=np.random.default_rng(9)),
                      Linear(16, 4, rng=rng))


def _plain_model(seed=803):
    rng = np.random.default_rng(seed)
    return Sequential(Linear(8, 12, rng=rng), ReLU(), Linear(12, 10, rng=rng))


def _eval_predictions(model, X):
    model.eval()
    return np.argmax(model(X), axis=1)


def _labels_with_errors(pred, n_wrong, n_classes, seed):
    """The predictions with ``n_wrong`` of them changed to another class."""
    y = pred.copy()
    idx = np.random.default_rng(seed).choice(len(y), size=n_wrong, replace=False)
    y[idx] = (y[idx] + 1 + np.arange(n_wrong) % (n_classes - 1)) % n_classes
    return y


ACC_Y = _labels_with_errors(_eval_predictions(_dropout_model(), ACC_X), 15, 4, 804)  # 0.7
ACC_Y10 = _labels_with_errors(_eval_predictions(_plain_model(), ACC_X10), 12, 10, 805)  # 0.6


def _accuracy_mistakes(model_factory, X, y, train_mode_too=True):
    eval_pred = _eval_predictions(model_factory(), X)
    correct = float(np.mean(eval_pred == y))
    mistakes = {
        "a percentage (times 100): return the fraction of correct predictions": 100 * correct,
        "the number of correct predictions, not the fraction": float(np.sum(eval_pred == y)),
        "the error rate (1 - accuracy)": 1 - correct,
    }
    if train_mode_too:
        model = model_factory()
        model.train()
        train_pred = np.argmax(model(X), axis=1)
        mistakes["the model left in training mode: Dropout made the predictions random (call "
                 "model.eval() before predicting)"] = float(np.mean(train_pred == y))
    return merge_same(mistakes)


def _accuracy_on(accuracy, model_factory, X, y, mode):
    model = model_factory()
    model.train(mode == "train")
    return accuracy(model, X.copy(), y.copy())


def _mode_restored(accuracy):
    model = _dropout_model()
    model.train()
    accuracy(model, ACC_X.copy(), ACC_Y.copy())
    assert model.training and all(m.training for m in model.modules()), \
        "a model in training mode came back in eval mode: put it back with " \
        "model.train(was_training) (fit would otherwise train without dropout)"
    model.eval()
    accuracy(model, ACC_X.copy(), ACC_Y.copy())
    assert not model.training, "a model in eval mode came back in training mode"
    return True


@part("ex08_accuracy", points=2)
def accuracy_part(t, accuracy):
    """accuracy of a classifier, measured in eval mode"""
    expected = float(np.mean(_eval_predictions(_dropout_model(), ACC_X) == ACC_Y))
    t.close("a Linear-ReLU-Dropout-Linear model handed over in training mode, 50 examples, "
            "4 classes", lambda: _accuracy_on(accuracy, _dropout_model, ACC_X, ACC_Y, "train"),
            expected, points=2, mistakes=_accuracy_mistakes(_dropout_model, ACC_X, ACC_Y))
    t.true("the model is left in the mode it was in", lambda: _mode_restored(accuracy),
           "the mode")
    expected10 = float(np.mean(_eval_predictions(_plain_model(), ACC_X10) == ACC_Y10))
    t.close("a model in eval mode with 10 classes, 30 examples",
            lambda: _accuracy_on(accuracy, _plain_model, ACC_X10, ACC_Y10, "eval"), expected10,
            mistakes=_accuracy_mistakes(_plain_model, ACC_X10, ACC_Y10, train_mode_too=False))
    perfect = _eval_predictions(_plain_model(), ACC_X10)
    t.close("labels equal to the predictions: 1.0",
            lambda: _accuracy_on(accuracy, _plain_model, ACC_X10, perfect, "eval"), 1.0,
            mistakes={"a percentage (times 100): return the fraction of correct predictions":
                      100.0, "the number of correct predictions, not the fraction": 30.0})


# ----------------------------------------------------------------------------- 4. confusion matrix

CM_TRUE = np.array([0, 1, 2, 2, 1, 0, 2, 1, 1, 0, 2])
CM_PRED = np.array([0, 2, 2, 1, 1, 0, 2, 0, 1, 2, 2])
_rng = np.random.default_rng(806)
CM_TRUE10 = _rng.integers(0, 9, size=200)  # class 9 never occurs, but n_classes = 10
CM_PRED10 = np.where(_rng.random(200) < 0.7, CM_TRUE10, _rng.integers(0, 9, size=200))


def _confusion_ref(y_true, y_pred, n_classes):
    M = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(M, (y_true, y_pred), 1)
    return M


def _confusion_mistakes(y_true, y_pred, n_classes):
    M = _confusion_ref(y_true, y_pred, n_classes)
    once = np.zeros_like(M)
    once[y_true, y_pred] += 1
    k = int(max(y_true.max(), y_pred.max())) + 1
    with np.errstate(all="ignore"):
        rows = M / M.sum(axis=1, keepdims=True)
    return merge_same({
        "rows and columns swapped (M[pred, true]): rows are the true classes": M.T,
        "M[y_true, y_pred] += 1 counts each repeated pair only once (numpy does not "
        "accumulate repeated indices): use np.add.at or a loop": once,
        "each row divided by its sum (fractions): return the counts": rows,
        "n_classes ignored: the size taken from the labels present":
            _confusion_ref(y_true, y_pred, k),
    })


@part("ex08_confusion_matrix", points=2)
def confusion_matrix_part(t, confusion_matrix):
    """the confusion matrix: row = true class, column = predicted class"""
    for y_true, y_pred, n, what in [
            (CM_TRUE, CM_PRED, 3, "11 examples, 3 classes"),
            (CM_TRUE10, CM_PRED10, 10, "200 examples, n_classes = 10, class 9 neither true nor "
                                       "predicted"),
            (np.array([3]), np.array([5]), 10, "one example, true 3, predicted 5, "
                                               "n_classes = 10")]:
        expected = _confusion_ref(y_true, y_pred, n)
        t.close(what, lambda y_true=y_true, y_pred=y_pred, n=n:
                confusion_matrix(y_true.copy(), y_pred.copy(), n), expected,
                mistakes=without_answer(_confusion_mistakes(y_true, y_pred, n), expected))


# ----------------------------------------------------------------------------- 5. calibration


def _ece_variant(probs, y, n_bins, confidence="max", weights="count", signed=False,
                 n_edges=None, top_closed=True, scale=1.0):
    """The expected calibration error with one thing done differently: the named mistakes."""
    conf = probs.max(axis=1) if confidence == "max" else probs[np.arange(len(y)), y]
    correct = probs.argmax(axis=1) == y
    edges = np.linspace(0, 1, n_bins + 1 if n_edges is None else n_edges(n_bins))
    gaps, sizes = [], []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (conf > lo) & ((conf <= hi) if top_closed else (conf < hi))
        if inside.any():
            gap = correct[inside].mean() - conf[inside].mean()
            gaps.append(gap if signed else abs(gap))
            sizes.append(inside.sum())
    gaps, sizes = np.array(gaps), np.array(sizes)
    total = {"count": np.sum(sizes / len(y) * gaps), "filled": np.mean(gaps),
             "all": np.sum(gaps) / (len(edges) - 1)}[weights]
    return float(scale * total)


def _ece_buggy(**how):
    return lambda probs, y, n_bins=15: _ece_variant(probs, y, n_bins, **how)


ECE_MISTAKES = {
    "the gaps added with their sign: over- and underconfident bins cancel (take |accuracy - "
    "confidence| in each bin)": _ece_buggy(signed=True),
    "each bin weighted equally: weight it by its share of the predictions, n_b / N":
        _ece_buggy(weights="filled"),
    "the gaps averaged over all n_bins bins, empty ones as 0: weight each bin by n_b / N":
        _ece_buggy(weights="all"),
    "the probability of the true class used as the confidence: the confidence is the "
    "largest probability of the row": _ece_buggy(confidence="true"),
    "np.linspace(0, 1, n_bins) makes n_bins - 1 bins: n_bins bins need n_bins + 1 edges":
        _ece_buggy(n_edges=lambda m: m),
    "a confidence of exactly 1 left out of every bin: the last bin is (1 - 1/n_bins, 1], "
    "with 1 included": _ece_buggy(top_closed=False),
    "a percentage (times 100): return a fraction": _ece_buggy(scale=100.0),
}


def _two_class(p1):
    p1 = np.asarray(p1, dtype=float)
    return np.column_stack([1 - p1, p1])


def _ece_cases():
    """(description, probs, labels, n_bins): each with bins that are over- and underconfident,
    empty bins, and a wrong prediction at confidence exactly 1 (a right one adds 1 - 1 = 0 to
    its bin, so leaving it out would go unnoticed); no confidence on an inner bin edge, where
    rounding decides the bin."""
    rng = np.random.default_rng(808)
    logits = rng.normal(size=(200, 10)) * rng.uniform(0.5, 5.0, size=(200, 1))
    probs10 = np.vstack([softmax(logits, axis=1), np.eye(10)[[3, 7, 7, 1]]])
    y10 = probs10.argmax(axis=1)
    flip = rng.choice(len(y10) - 4, size=60, replace=False)  # wrong answers at every confidence
    y10[flip] = (y10[flip] + rng.integers(1, 10, size=60)) % 10
    y10[-1] = 2                                              # a wrong answer at confidence 1
    logits3 = rng.normal(size=(37, 3)) * 2.0
    probs3 = np.vstack([softmax(logits3, axis=1), np.eye(3)[[0, 2, 1]]])
    y3 = probs3.argmax(axis=1)
    y3[[1, 5, 8, 13, 21, 30, 38]] = (y3[[1, 5, 8, 13, 21, 30, 38]] + 1) % 3  # 38: one-hot
    return [
        ("5 predictions of 2 classes at confidences 0.55, 0.65, 0.95, 0.95 and 1 (wrong), "
         "n_bins = 5", _two_class([0.55, 0.35, 0.95, 0.05, 0.0]), np.ones(5, dtype=int), 5),
        ("204 predictions of 10 classes (4 of them one-hot), 61 wrong, n_bins = 15",
         probs10, y10, 15),
        ("40 predictions of 3 classes (3 one-hot), 7 wrong, n_bins = 10", probs3, y3, 10),
    ]


@part("ex08_calibration_error", points=3)
def calibration_error_part(t, expected_calibration_error):
    """the expected calibration error over equal-width confidence bins"""
    for what, probs, y, n_bins in _ece_cases():
        expected = _ece_ref(probs, y, n_bins)
        t.close(what, lambda probs=probs, y=y, n_bins=n_bins:
                expected_calibration_error(probs.copy(), y.copy(), n_bins), expected,
                rtol=1e-7, atol=1e-10,
                mistakes=without_answer(merge_same(
                    {k: f(probs, y, n_bins) for k, f in ECE_MISTAKES.items()}), expected))


# ----------------------------------------------------------------------------- 6. the model


class _Trained:
    """Calls the student's training function once; later calls return the same model, or
    raise the same exception (a failed training is not repeated for every test)."""

    def __init__(self, train_model, data):
        self.train_model, self.data = train_model, data
        self.model, self.error = None, None

    def __call__(self):
        if self.error is not None:
            raise self.error
        if self.model is None:
            try:
                model = self.train_model(*(a.copy() for a in self.data))
            except Exception as exc:
                self.error = exc
                raise
            if not isinstance(model, Module):
                self.error = TypeError(f"train_model returned a {type(model).__name__}, not a "
                                       "backproplab model (a bp.Sequential)")
                raise self.error
            self.model = model
        return self.model


def _test_logits(trained, X_test):
    model = trained()
    was_training = model.training
    model.eval()  # measured as it will be used: dropout off
    try:
        return np.asarray(model(X_test), dtype=float)
    finally:
        model.train(was_training)


def _test_accuracy(trained, X_test, y_test):
    return float(np.mean(np.argmax(_test_logits(trained, X_test), axis=1) == y_test))


def _quiet_accuracy(trained, X_test, y_test):
    """The accuracy, or None if it cannot be computed (the tests say why)."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return _test_accuracy(trained, X_test, y_test)
    except Exception:
        return None


HINT = ("ideas: He initialisation, ReLU, Adam (lr 1e-3), 60 epochs in batches of 32, weight "
        "decay about 1e-3, early stopping on the validation set; return the trained model")


def _reaches(trained, X_test, y_test, threshold):
    accuracy = _test_accuracy(trained, X_test, y_test)
    correct = int(round(accuracy * len(y_test)))
    assert accuracy >= threshold, f"test accuracy {100 * accuracy:.1f} % ({correct} of " \
                                  f"{len(y_test)}) is below {100 * threshold:.0f} %; {HINT}"
    return True


@part("ex08_model", points=4)
def model_part(t, train_model):
    """a digits classifier: at least 97 % test accuracy for full marks"""
    X_train, X_val, X_test, y_train, y_val, y_test = digits_split()
    X_train, X_val, X_test = _standardize_ref(X_train, X_val, X_test)
    trained = _Trained(train_model, (X_train, y_train, X_val, y_val))
    t.shape(f"train_model(X_train, y_train, X_val, y_val) returns a model whose logits on the "
            f"{len(y_test)} held-out test images have shape ({len(y_test)}, 10)",
            lambda: _test_logits(trained, X_test), (len(y_test), 10))
    t.gate("it learned: test accuracy at least 50 % (chance is 10 %)",
           lambda: _reaches(trained, X_test, y_test, LEARNED), "the model did not learn")
    accuracy = _quiet_accuracy(trained, X_test, y_test)
    shown = "" if accuracy is None else \
        f" (it is {100 * accuracy:.1f} %: {int(round(accuracy * len(y_test)))} of {len(y_test)})"
    for threshold, what in [(PASSABLE, f"test accuracy at least 90 %{shown}"),
                            (GOOD, "at least 95 %"),
                            (TARGET, "at least 97 %, the lesson's target (full marks)")]:
        t.true(what, lambda threshold=threshold: _reaches(trained, X_test, y_test, threshold),
               "not accurate enough")
