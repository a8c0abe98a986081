"""Parts of exercise 02, measuring error (solutions/02_measuring_error.ipynb): the mean squared
error and its gradient, a stable softmax, log-sum-exp and log-softmax, cross-entropy from
logits and integer labels with its gradient, entropy and KL divergence, and the hinge (SVM)
loss with its gradient.

Every batch has N > 1 examples, so that a forgotten 1/N changes every answer; every softmax
test includes logits near ±1000, so that a softmax without max-subtraction fails them all.
The answers of the usual mistakes are computed here with numpy's warnings off (an overflowing
naive formula must not warn at import), so that the feedback can name them.
"""

import numpy as np

import backproplab as bp
from backproplab.gradcheck import numerical_gradient

from ..compare import merge_same, same_value, without_answer
from ..registry import part

NO_MAX = "softmax without max-subtraction (overflow at large logits)"


def _quiet(fn, *args, **kwargs):
    """``fn(*args)`` with numpy's floating-point warnings off (the answer of a naive formula)."""
    with np.errstate(all="ignore"):
        return fn(*args, **kwargs)


def _naive_softmax(Z, axis=1):
    E = np.exp(Z)
    return E / E.sum(axis=axis, keepdims=True)


def _onehot(y, C):
    return np.eye(C)[y]


# -- 1 and 2. mean squared error and its gradient -------------------------------------------------

# The lesson's four predictions (lesson 02, "Regression: MSE and MAE"), as (N, 1) columns.
YHAT_COL = np.array([[2.5], [0.0], [2.1], [7.8]])
Y_COL = np.array([[3.0], [-0.5], [2.0], [7.0]])
# Two examples with three outputs each: the mean runs over all 6 entries.
YHAT_WIDE = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]])
Y_WIDE = np.array([[1.0, -1.0, 0.0], [0.5, 0.5, -0.5]])
_rng = np.random.default_rng(201)
YHAT_RAND = _rng.normal(size=(5, 2))
Y_RAND = _rng.normal(size=(5, 2))


def _mse(Yhat, Y):
    return float(np.mean((Yhat - Y) ** 2))


def _mse_mistakes(Yhat, Y):
    r = Yhat - Y
    mistakes = {
        "a forgotten 1/N (the sum of the squared errors instead of their mean)":
            float(np.sum(r ** 2)),
        "the mean absolute error instead of the squared one": float(np.mean(np.abs(r))),
        "the mean squared error halved, as in some textbooks": float(np.mean(r ** 2) / 2),
        "the root of the mean squared error": float(np.sqrt(np.mean(r ** 2))),
        "the mean residual squared, (mean(Y_hat - Y))**2": float(np.mean(r) ** 2),
        "the mean over axis 0 only (one number per column): np.mean without an axis averages "
        "every entry": np.mean(r ** 2, axis=0),
    }
    if r.shape[1] > 1:
        mistakes["the sum divided by the number of rows only, not by every entry"] = \
            float(np.sum(r ** 2) / len(r))
    return mistakes


@part("ex02_mse", points=2)
def mse_part(t, mse):
    """the mean squared error"""
    t.close("the lesson's (4, 1) predictions", lambda: mse(YHAT_COL.copy(), Y_COL.copy()),
            _mse(YHAT_COL, Y_COL), points=2, mistakes=_mse_mistakes(YHAT_COL, Y_COL))
    t.close("a (2, 3) batch: the mean over all 6 entries",
            lambda: mse(YHAT_WIDE.copy(), Y_WIDE.copy()), _mse(YHAT_WIDE, Y_WIDE),
            mistakes=_mse_mistakes(YHAT_WIDE, Y_WIDE))
    t.close("agrees with bp.MSELoss on a (5, 2) batch",
            lambda: mse(YHAT_RAND.copy(), Y_RAND.copy()), bp.MSELoss()(YHAT_RAND, Y_RAND),
            mistakes=_mse_mistakes(YHAT_RAND, Y_RAND))


def _mse_grad_mistakes(Yhat, Y):
    r = Yhat - Y
    mistakes = {
        "a forgotten 1/N (2 (Y_hat - Y) without dividing by the number of entries)": 2 * r,
        "the gradient without the factor 2": r / r.size,
        "the gradient of the wrong sign, 2 (Y - Y_hat) / N": -2 * r / r.size,
        "the gradient of the mean absolute error, sign(Y_hat - Y) / N": np.sign(r) / r.size,
    }
    if r.shape[1] > 1:
        mistakes["the gradient divided by the number of rows only, not by every entry"] = \
            2 * r / len(r)
    return mistakes


def _numerical_mse_grad(Yhat, Y):
    return numerical_gradient(lambda P: _mse(P, Y), Yhat.copy())


@part("ex02_mse_grad", points=2)
def mse_grad_part(t, mse_grad):
    """the gradient of the mean squared error"""
    t.close("dL/dY_hat for the lesson's (4, 1) predictions",
            lambda: mse_grad(YHAT_COL.copy(), Y_COL.copy()), 2 * (YHAT_COL - Y_COL) / 4, points=2,
            mistakes=_mse_grad_mistakes(YHAT_COL, Y_COL))
    t.close("dL/dY_hat on a (2, 3) batch: 6 entries in the mean",
            lambda: mse_grad(YHAT_WIDE.copy(), Y_WIDE.copy()), 2 * (YHAT_WIDE - Y_WIDE) / 6,
            mistakes=_mse_grad_mistakes(YHAT_WIDE, Y_WIDE))
    t.close("agrees with numerical_gradient of the MSE on a (5, 2) batch",
            lambda: mse_grad(YHAT_RAND.copy(), Y_RAND.copy()),
            _numerical_mse_grad(YHAT_RAND, Y_RAND), rtol=1e-6, atol=1e-9,
            mistakes=_mse_grad_mistakes(YHAT_RAND, Y_RAND))


# -- 3. softmax --------------------------------------------------------------------------------

# (4, 3): ordinary rows and rows near +1000 and -1000, where exp overflows or underflows.
Z_SOFT = np.array([[2.0, 1.0, 0.1],
                   [1000.0, 1001.0, 999.0],
                   [-1000.0, -1001.0, -999.5],
                   [0.5, 2.5, -1.0]])
Z_PAIR = np.array([[1000.0, 1001.0], [-1000.0, -1001.0]])  # both rows: (0.7311, 0.2689) swapped
Z_WIDE = np.array([[0.0, 800.0, 5.0]])  # a row spanning 800: exp(800 - min) overflows
MIN_SHIFT = "each row's minimum subtracted instead of its maximum: exp(Z - min) overflows for " \
            "a row spanning more than about 709"


def _softmax_mistakes(Z):
    return {
        NO_MAX: _quiet(_naive_softmax, Z),
        "the max of the whole batch subtracted instead of each row's max":
            _quiet(_naive_softmax, Z - Z.max()),
        "softmax over the wrong axis (each column sums to 1 instead of each row)":
            bp.softmax(Z, axis=0),
        "softmax over the wrong axis, and without max-subtraction": _quiet(_naive_softmax, Z, 0),
        "one normalisation for the whole batch (np.sum without axis)":
            _quiet(lambda A: np.exp(A - A.max()) / np.exp(A - A.max()).sum(), Z),
        "the exponentials not normalised": _quiet(np.exp, Z - Z.max(axis=1, keepdims=True)),
    }


def _finite_at_large_logits(softmax):
    for Z in (Z_PAIR, Z_WIDE):
        P = softmax(Z.copy())
        with np.errstate(all="ignore"):
            P = np.asarray(P, dtype=float)
        assert P.shape == Z.shape, f"expected shape {Z.shape}, got shape {P.shape}"
        bad = int(P.size - np.isfinite(P).sum())
        if bad and same_value(P, _quiet(_naive_softmax, Z - Z.min(axis=1, keepdims=True))):
            raise AssertionError(f"{bad} of {P.size} entries are NaN or inf for the logits "
                                 f"{Z.tolist()[0]}: looks like {MIN_SHIFT}")
        assert bad == 0, f"{bad} of {P.size} entries are NaN or inf: got {P.tolist()}"
    return True


def _sums_to_one_and_shift_invariant(softmax):
    rng = np.random.default_rng(202)
    Z = rng.normal(scale=3, size=(2, 5))
    P, P_shifted = softmax(Z.copy()), softmax(Z + 1000.0)
    with np.errstate(all="ignore"):
        P, P_shifted = np.asarray(P, dtype=float), np.asarray(P_shifted, dtype=float)
    assert P.shape == Z.shape, f"softmax of a (2, 5) batch has shape {P.shape}"
    assert np.isfinite(P_shifted).all(), \
        f"softmax(Z + 1000) has nan or inf entries: looks like {NO_MAX}"
    assert np.allclose(P.sum(axis=1), 1), f"row sums are {np.round(P.sum(axis=1), 4).tolist()}"
    assert P_shifted.shape == Z.shape and np.allclose(P_shifted, P), \
        "softmax(Z + 1000) differs from softmax(Z): got " \
        f"{np.round(P_shifted, 4).tolist()[0]} for the first row"
    return True


@part("ex02_softmax", points=3)
def softmax_part(t, softmax):
    """a numerically stable softmax over each row"""
    t.close("a (4, 3) batch with rows near +1000 and -1000", lambda: softmax(Z_SOFT.copy()),
            bp.softmax(Z_SOFT, axis=1), points=2, mistakes=_softmax_mistakes(Z_SOFT))
    t.true("no nan or inf for the logits [1000, 1001], [-1000, -1001] and [0, 800, 5]",
           lambda: _finite_at_large_logits(softmax),
           f"looks like {NO_MAX}: subtract each row's max before np.exp")
    t.true("each row sums to 1, and softmax(Z + 1000) = softmax(Z)",
           lambda: _sums_to_one_and_shift_invariant(softmax),
           "softmax must normalise each row, and only differences between logits matter")


# -- 4. log-sum-exp and log-softmax --------------------------------------------------------------

Z_LOG = np.array([[0.0, 800.0, 1.0],      # class 0 gets e^-800: 0 in float64
                  [1000.0, 1001.0, 999.0],
                  [-1000.0, -1001.0, -999.5],
                  [2.0, 1.0, 0.1]])


def _logsumexp_mistakes(Z):
    m = Z.max(axis=1)
    return {
        "log(sum(exp(Z))) without subtracting the max (overflow at large logits)":
            _quiet(lambda A: np.log(np.exp(A).sum(axis=1)), Z),
        "the max alone, without + log(sum(exp(Z - m)))": m,
        "the max subtracted inside but not added back": _quiet(
            lambda A: np.log(np.exp(A - m[:, None]).sum(axis=1)), Z),
        "keepdims=True left in: shape (N, 1) instead of (N,)": bp.logsumexp(Z, axis=1)[:, None],
    }


def _log_softmax_mistakes(Z):
    lse = bp.logsumexp(Z, axis=1)
    return {
        "log(softmax(Z)) instead of Z - logsumexp(Z): log(0) = -inf when a probability "
        "underflows": _quiet(lambda A: np.log(bp.softmax(A, axis=1)), Z),
        f"log of a {NO_MAX}": _quiet(lambda A: np.log(_naive_softmax(A)), Z),
        "Z - max(Z), without the log-sum-exp term": Z - Z.max(axis=1, keepdims=True),
        "Z + logsumexp(Z) (the sign flipped)": Z + lse[:, None],
    }


def _rows_of_exp_sum_to_one(log_softmax):
    with np.errstate(all="ignore"):
        P = np.exp(np.asarray(log_softmax(Z_LOG.copy()), dtype=float))
    assert P.shape == Z_LOG.shape, f"log_softmax of a {Z_LOG.shape} batch has shape {P.shape}"
    assert np.isfinite(P).all() and np.allclose(P.sum(axis=1), 1), \
        f"the rows of exp(log_softmax(Z)) sum to {np.round(P.sum(axis=1), 4).tolist()}"
    return True


@part("ex02_log_softmax", points=2)
def log_softmax_part(t, logsumexp, log_softmax):
    """log-sum-exp and log-softmax, stable at large logits"""
    t.close("logsumexp of a (4, 3) batch with logits up to ±1000: shape (4,)",
            lambda: logsumexp(Z_LOG.copy()), bp.logsumexp(Z_LOG, axis=1),
            mistakes=_logsumexp_mistakes(Z_LOG))
    t.close("log_softmax of the same batch, with a probability of e^-800",
            lambda: log_softmax(Z_LOG.copy()), bp.log_softmax(Z_LOG, axis=1), points=2,
            mistakes=_log_softmax_mistakes(Z_LOG))
    t.true("the rows of exp(log_softmax(Z)) sum to 1", lambda: _rows_of_exp_sum_to_one(log_softmax),
           "log_softmax(Z) must be the log of probabilities")


# -- 5 and 6. cross-entropy and its gradient ----------------------------------------------------------

# The lesson's three examples (lesson 02, "Classification: from logits to probabilities").
Z_CE = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0], [-1.0, 0.0, 3.0]])
Y_CE = np.array([0, 2, 2])
# Very confident answers: a wrong one (probability e^-800 for the right class) and a close call.
Z_BIG = np.array([[0.0, 800.0, -5.0], [1000.0, 1001.0, 999.0]])
Y_BIG = np.array([0, 1])
_rng = np.random.default_rng(203)
Z_RAND = _rng.normal(scale=2, size=(8, 4))
Y_RAND_LABELS = _rng.integers(0, 4, size=8)


def _cross_entropy(Z, y):
    return float(-bp.log_softmax(Z, axis=1)[np.arange(len(y)), y].mean())


def _ce_mistakes(Z, y):
    N, C = Z.shape
    rows = np.arange(N)
    logp = bp.log_softmax(Z, axis=1)
    T = _onehot(y, C)
    return {
        "a forgotten 1/N (the sum over the batch instead of the mean)":
            float(-logp[rows, y].sum()),
        "-log of the softmax instead of log_softmax: log(0) = -inf when a probability "
        "underflows": _quiet(lambda: float(-np.log(bp.softmax(Z, axis=1)[rows, y]).mean())),
        f"-log of a {NO_MAX}":
            _quiet(lambda: float(-np.log(_naive_softmax(Z)[rows, y]).mean())),
        "the mean over all N x C entries of T * log P (the one-hot sum over classes turned "
        "into a mean)": float(-(T * logp).mean()),
        "softmax applied twice (probabilities passed where logits belong)":
            _cross_entropy(bp.softmax(Z, axis=1), y),
        "logp[:, y], an (N, N) block, instead of logp[np.arange(N), y]":
            float(-logp[:, y].mean()),
        "the logits used as probabilities: -log Z[n, y_n] without a softmax":
            _quiet(lambda: float(-np.log(Z[rows, y]).mean())),
        "the probability of the right class instead of its log (-mean P[n, y_n])":
            float(-bp.softmax(Z, axis=1)[rows, y].mean()),
        **{f"-log(P + {eps:g}) with a small eps against log(0): the loss is capped at "
           f"-log(eps), wrong for confident mistakes (use log_softmax, Z - logsumexp(Z))":
           float(-np.log(bp.softmax(Z, axis=1)[rows, y] + eps).mean())
           for eps in (1e-7, 1e-8, 1e-9, 1e-10, 1e-12, 1e-15)},
    }


@part("ex02_cross_entropy", points=2)
def cross_entropy_part(t, cross_entropy):
    """cross-entropy from logits and integer labels, averaged over the batch"""
    t.close("the lesson's three examples", lambda: cross_entropy(Z_CE.copy(), Y_CE.copy()),
            _cross_entropy(Z_CE, Y_CE), mistakes=_ce_mistakes(Z_CE, Y_CE))
    t.close("confident logits ([0, 800, -5] with label 0; [1000, 1001, 999] with label 1)",
            lambda: cross_entropy(Z_BIG.copy(), Y_BIG.copy()), _cross_entropy(Z_BIG, Y_BIG),
            mistakes=_ce_mistakes(Z_BIG, Y_BIG))
    zeros, labels = np.zeros((5, 10)), np.array([3, 1, 4, 1, 5])
    t.close("all-zero logits give log C (N = 5, C = 10)",
            lambda: cross_entropy(zeros.copy(), labels.copy()), np.log(10),
            mistakes=_ce_mistakes(zeros, labels))
    t.close("agrees with bp.CrossEntropyLoss on an (8, 4) batch",
            lambda: cross_entropy(Z_RAND.copy(), Y_RAND_LABELS.copy()),
            bp.CrossEntropyLoss()(Z_RAND, Y_RAND_LABELS), mistakes=_ce_mistakes(Z_RAND, Y_RAND_LABELS))


def _ce_grad(Z, y):
    return (bp.softmax(Z, axis=1) - _onehot(y, Z.shape[1])) / len(y)


def _ce_grad_mistakes(Z, y):
    N, C = Z.shape
    P, T = bp.softmax(Z, axis=1), _onehot(y, C)
    return {
        "a forgotten 1/N (P - T without dividing by the batch size)": P - T,
        "the gradient of the wrong sign, (T - P) / N": (T - P) / N,
        "(P - T) divided by N x C instead of N": (P - T) / (N * C),
        "the one-hot targets not subtracted (P / N)": P / N,
        f"{NO_MAX} inside the gradient": _quiet(lambda: (_naive_softmax(Z) - T) / N),
        "softmax over the wrong axis (columns)": (bp.softmax(Z, axis=0) - T) / N,
        "(P - 1) / N: 1 subtracted from every entry instead of the one-hot T (1 for the right "
        "class only)": (P - 1) / N,
    }


def _numerical_ce_grad(Z, y):
    return numerical_gradient(lambda A: _cross_entropy(A, y), Z.copy())


def _bounded_rows(cross_entropy_grad):
    # Confidently wrong rows: P - T is close to +1 and -1 there, so each entry is close to ±1/N.
    Z = np.array([[10.0, -10.0, 0.0], [0.0, 12.0, -3.0], [-8.0, 0.0, 9.0], [1.0, 2.0, 3.0]])
    y = np.array([1, 2, 0, 2])
    N = len(y)
    with np.errstate(all="ignore"):
        G = np.asarray(cross_entropy_grad(Z.copy(), y.copy()), dtype=float)
    assert G.shape == Z.shape, f"expected shape {Z.shape}, got shape {G.shape}"
    assert np.allclose(G.sum(axis=1), 0, atol=1e-12), \
        f"row sums are {np.round(G.sum(axis=1), 4).tolist()}, not 0"
    assert np.abs(G).max() <= 1 / N + 1e-12, \
        f"the largest |entry| is {np.abs(G).max():.4g}, above 1/N = {1 / N:g}: " \
        "a forgotten 1/N?"
    assert np.allclose(G, _ce_grad(Z, y)), "the rows sum to 0 but the values are wrong"
    return True


@part("ex02_cross_entropy_grad", points=3)
def cross_entropy_grad_part(t, cross_entropy_grad):
    """the gradient of softmax cross-entropy: (P - T) / N"""
    t.close("dL/dZ for the lesson's three examples",
            lambda: cross_entropy_grad(Z_CE.copy(), Y_CE.copy()), _ce_grad(Z_CE, Y_CE),
            mistakes=_ce_grad_mistakes(Z_CE, Y_CE))
    t.close("agrees with numerical_gradient of the cross-entropy on an (8, 4) batch",
            lambda: cross_entropy_grad(Z_RAND.copy(), Y_RAND_LABELS.copy()),
            _numerical_ce_grad(Z_RAND, Y_RAND_LABELS), rtol=1e-5, atol=1e-8,
            mistakes=_ce_grad_mistakes(Z_RAND, Y_RAND_LABELS))
    t.close("confident logits (rows near 800 and 1000)",
            lambda: cross_entropy_grad(Z_BIG.copy(), Y_BIG.copy()), _ce_grad(Z_BIG, Y_BIG),
            mistakes=_ce_grad_mistakes(Z_BIG, Y_BIG))
    t.true("each row sums to 0 and every entry lies in [-1/N, 1/N]",
           lambda: _bounded_rows(cross_entropy_grad),
           "confidently wrong rows of a batch of N = 4")


# -- 7. entropy and KL divergence ---------------------------------------------------------------------

# Rows with zero probabilities (0 log 0 = 0), a one-hot row (H = 0) and a uniform one (H = log 3).
P_INFO = np.array([[0.7, 0.2, 0.1], [0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])
Q_INFO = np.array([[0.5, 0.3, 0.2], [0.25, 0.25, 0.5], [0.1, 0.8, 0.1], [0.6, 0.2, 0.2]])


def _plogs(P, Q):
    """p log q entry by entry, 0 where p = 0 (the 0 log 0 = 0 convention)."""
    on = P > 0
    return np.where(on, P * np.log(np.where(on, Q, 1.0)), 0.0)


def _entropy(P):
    return 0.0 - _plogs(P, P).sum(axis=1)  # 0.0 - ...: H = 0, not -0, for a one-hot row


def _kl(P, Q):
    return (_plogs(P, P) - _plogs(P, Q)).sum(axis=1)


def _entropy_mistakes(P):
    return without_answer(merge_same({
        "0 log 0 computed as nan: skip the classes with p = 0 (0 log 0 = 0)":
            _quiet(lambda: -np.sum(P * np.log(P), axis=1)),
        "the sign flipped: sum p log p is negative, H = -sum p log p":
            -_entropy(P),
        "log base 2 (bits) instead of the natural log (nats)": _entropy(P) / np.log(2),
        "the mean over the classes instead of the sum": _entropy(P) / P.shape[1],
        "one number for the whole batch instead of one per row": float(_entropy(P).sum()),
    }), _entropy(P))


def _kl_mistakes(P, Q):
    return without_answer(merge_same({
        "KL(q || p): the arguments swapped": _quiet(_kl, Q, P),  # inf where p = 0 < q
        "the sign flipped, sum p log(q / p)": -_kl(P, Q),
        "the cross-entropy H(p, q) = -sum p log q, without subtracting H(p)":
            -_plogs(P, Q).sum(axis=1),
        "0 log 0 computed as nan: skip the classes with p = 0":
            _quiet(lambda: np.sum(P * np.log(P / Q), axis=1)),
        "log base 2 (bits) instead of the natural log (nats)": _kl(P, Q) / np.log(2),
        "one number for the whole batch instead of one per row": float(_kl(P, Q).sum()),
    }), _kl(P, Q))


def _information_identities(entropy, kl_divergence):
    """H(p, q) = H(p) + KL(p || q) and KL(p || p) = 0 on the check's rows."""
    with np.errstate(all="ignore"):
        total = np.asarray(entropy(P_INFO.copy()), dtype=float) + np.asarray(
            kl_divergence(P_INFO.copy(), Q_INFO.copy()), dtype=float)
        self_kl = np.asarray(kl_divergence(P_INFO.copy(), P_INFO.copy()), dtype=float)
    cross = -_plogs(P_INFO, Q_INFO).sum(axis=1)
    assert total.shape == cross.shape and np.allclose(total, cross), \
        f"H(p) + KL(p || q) = {np.round(total, 4).tolist()}, but H(p, q) = " \
        f"{np.round(cross, 4).tolist()}"
    assert np.allclose(self_kl, 0), f"KL(p || p) = {np.round(self_kl, 4).tolist()}, not 0"
    return True


@part("ex02_entropy_kl", points=2)
def entropy_kl_part(t, entropy, kl_divergence):
    """entropy and KL divergence, row by row"""
    t.close("entropy of 4 rows: zeros, one-hot (H = 0), uniform (H = log 3)",
            lambda: entropy(P_INFO.copy()), _entropy(P_INFO), mistakes=_entropy_mistakes(P_INFO))
    t.close("entropy of the lesson's two-class target (0.7, 0.3) and of (0.25, 0.75)",
            lambda: entropy(np.array([[0.7, 0.3], [0.25, 0.75]])),
            _entropy(np.array([[0.7, 0.3], [0.25, 0.75]])),
            mistakes=_entropy_mistakes(np.array([[0.7, 0.3], [0.25, 0.75]])))
    t.close("KL(p || q) of 4 pairs of rows, zeros in p", lambda: kl_divergence(P_INFO.copy(), Q_INFO.copy()),
            _kl(P_INFO, Q_INFO), mistakes=_kl_mistakes(P_INFO, Q_INFO))
    t.true("H(p, q) = H(p) + KL(p || q), and KL(p || p) = 0",
           lambda: _information_identities(entropy, kl_divergence),
           "cross-entropy = entropy + KL divergence")


# -- 8. the hinge loss and its gradient ---------------------------------------------------------------

# The lesson's three images (CS231n's example): cat, car, frog; the car image meets every margin.
Z_HINGE = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
Y_HINGE = np.array([0, 1, 2])
_rng = np.random.default_rng(207)
# Scores on a grid of 0.25 around integers, margin 2: no term within a finite-difference step of 0.
Z_HINGE_RAND = np.round(_rng.normal(scale=1.5, size=(8, 4)) * 4) / 4 + 0.1
Y_HINGE_RAND = _rng.integers(0, 4, size=8)


def _hinge_terms(Z, y, margin, include_right=False, flipped=False, no_max=False):
    rows = np.arange(len(y))
    diff = Z[rows, y][:, None] - Z if flipped else Z - Z[rows, y][:, None]
    terms = diff + margin if no_max else np.maximum(0, diff + margin)
    if not include_right:
        terms[rows, y] = 0
    return terms


def _hinge(Z, y, margin=1.0):
    loss = bp.MultiMarginLoss(margin=margin)
    return loss(Z, y), loss.backward()


def _hinge_loss_mistakes(Z, y, margin):
    N, C = Z.shape
    right = _hinge(Z, y, margin)[0]
    return without_answer(merge_same({
        "the right class compared with itself (adds margin / C to every example)":
            _hinge_terms(Z, y, margin, include_right=True).sum() / (N * C),
        "no division by C (CS231n's convention; PyTorch's MultiMarginLoss divides by C)":
            right * C,
        "max(0, ...) left out: classes far behind subtract from the loss":
            _hinge_terms(Z, y, margin, no_max=True).sum() / (N * C),
        "the difference the wrong way round, max(0, Z[y] - Z[c] + margin)":
            _hinge_terms(Z, y, margin, flipped=True).sum() / (N * C),
        "the sum over the batch instead of the mean": right * N,
    }), right)


def _hinge_grad_mistakes(Z, y, margin):
    N, C = Z.shape
    rows = np.arange(N)
    right = _hinge(Z, y, margin)[1]
    active = (_hinge_terms(Z, y, margin) > 0).astype(float)
    no_right = active / (N * C)
    minus_one = no_right.copy()
    minus_one[rows, y] = -(active.sum(axis=1) > 0).astype(float) / (N * C)
    return without_answer(merge_same({
        "the right class's entry left out: it is minus the number of active terms, / (N C)":
            no_right,
        "-1 / (N C) at the right class instead of minus the number of active terms":
            minus_one,
        "no 1 / (N C): the gradient of the sum, not of the mean": right * N * C,
        "divided by N only, not by N C": right * C,
        "the gradient of the wrong sign": -right,
    }), right)


def _numerical_hinge_grad(Z, y, margin):
    return numerical_gradient(lambda A: _hinge(A, y, margin)[0], Z.copy())


@part("ex02_hinge", points=3)
def hinge_part(t, hinge_loss, hinge_grad):
    """the multi-class hinge (SVM) loss and its gradient"""
    t.close("hinge_loss of the lesson's three images (cat, car, frog)",
            lambda: hinge_loss(Z_HINGE.copy(), Y_HINGE.copy()), _hinge(Z_HINGE, Y_HINGE)[0],
            mistakes=_hinge_loss_mistakes(Z_HINGE, Y_HINGE, 1.0))
    t.close("hinge_loss of an (8, 4) batch with margin 2, as bp.MultiMarginLoss(margin=2)",
            lambda: hinge_loss(Z_HINGE_RAND.copy(), Y_HINGE_RAND.copy(), margin=2.0),
            _hinge(Z_HINGE_RAND, Y_HINGE_RAND, 2.0)[0],
            mistakes=_hinge_loss_mistakes(Z_HINGE_RAND, Y_HINGE_RAND, 2.0))
    t.close("hinge_grad of the three images: the car's row is 0",
            lambda: hinge_grad(Z_HINGE.copy(), Y_HINGE.copy()), _hinge(Z_HINGE, Y_HINGE)[1],
            mistakes=_hinge_grad_mistakes(Z_HINGE, Y_HINGE, 1.0))
    t.close("hinge_grad agrees with numerical_gradient on the (8, 4) batch, margin 2",
            lambda: hinge_grad(Z_HINGE_RAND.copy(), Y_HINGE_RAND.copy(), margin=2.0),
            _numerical_hinge_grad(Z_HINGE_RAND, Y_HINGE_RAND, 2.0),
            mistakes=_hinge_grad_mistakes(Z_HINGE_RAND, Y_HINGE_RAND, 2.0))
