"""Parts of exercise 07, overfitting and underfitting
(solutions/07_overfitting_and_underfitting.ipynb): the L2 penalty and its gradient, inverted
dropout forward and backward, early stopping, choosing a polynomial's degree by its
validation error, AdamW's update, and k-fold splits.

References come from formulas, from ``numerical_gradient``, and from the library itself
(``SGD(weight_decay=...)``, the mask ``Dropout`` draws, the ``EarlyStopping`` callback,
``AdamW``, and the rule of ``data.kfold_split``); the
answers of the usual mistakes are computed by buggy twins of the references on the same
inputs, so that feedback names them. Every test of a part compares something that the part's
named mistakes get wrong, so such a mistake costs the whole part:

- dropout not scaled by 1/(1-p) fails every test of ``ex07_dropout_forward`` and
  ``ex07_dropout_backward`` (eval mode and p = 0 never stand alone in a test);
- an off-by-one in early stopping (stopping after patience + 1 or patience - 1 epochs
  without improvement, or 0-based epochs) fails every test of ``ex07_early_stopping``.
"""

import numpy as np

from ...data import kfold_split, make_polynomial, polynomial_features
from ...gradcheck import numerical_gradient
from ...layers import Parameter
from ...optim import SGD, AdamW
from ...train import EarlyStopping, History, TrainState
from ..compare import merge_same, same_value, without_answer
from ..guard import draws_nothing
from ..registry import part

# ----------------------------------------------------------------------------- helpers


def _copy(params):
    return {name: np.array(value, dtype=float) for name, value in params.items()}


# ----------------------------------------------------------------------------- 1. L2 penalty

L2_PARAMS = {"W1": np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]]), "b1": np.array([0.5, -1.0, 2.0]),
             "W2": np.array([[2.0, 1.0], [-1.0, 0.0], [0.5, -0.5]]), "b2": np.array([1.0, 3.0])}
_rng = np.random.default_rng(701)
# Three layers, the biases listed first: the answer must not depend on the order of the keys.
L2_PARAMS3 = {"b1": _rng.normal(size=5), "b2": _rng.normal(size=4), "b3": _rng.normal(size=2),
              "W1": _rng.normal(size=(3, 5)) * 2, "W2": _rng.normal(size=(5, 4)),
              "W3": _rng.normal(size=(4, 2)) * 3}
L2_SMALL = {"W1": np.array([[0.5, -1.0], [2.0, 0.25]]), "b1": np.array([1.5, -0.5]),
            "W2": np.array([[1.0], [-2.0]]), "b2": np.array([0.75])}


def _sum_squares(params, which):
    return sum(float(np.sum(np.asarray(v, dtype=float) ** 2))
               for k, v in params.items() if which(k))


def _is_weight(name):
    return name.startswith("W")


def _l2_ref(params, lam):
    return lam / 2 * _sum_squares(params, _is_weight)


def _l2_mistakes(params, lam):
    weights = [np.asarray(v, dtype=float) for k, v in params.items() if _is_weight(k)]
    return {
        "the 1/2 missing: lambda * sum ||W||^2 (whose gradient would be 2 lambda W)":
            lam * _sum_squares(params, _is_weight),
        "the biases penalised too: the penalty is on the weights W only":
            lam / 2 * _sum_squares(params, lambda k: True),
        "the 1/2 missing and the biases penalised too":
            lam * _sum_squares(params, lambda k: True),
        "the norms not squared: (lambda/2) * sum ||W||":
            lam / 2 * sum(float(np.linalg.norm(w)) for w in weights),
        "the mean of the squared weights instead of their sum":
            lam / 2 * sum(float(np.mean(w ** 2)) for w in weights),
        "lambda left out: sum ||W||^2 / 2": _sum_squares(params, _is_weight) / 2,
    }


def _l2_gradient_of(l2_penalty, params, lam):
    """Finite differences of the student's penalty w.r.t. every entry, in the dict's order."""
    names = list(params)
    shapes = [np.shape(params[k]) for k in names]
    sizes = [int(np.prod(s)) for s in shapes]
    flat = np.concatenate([np.ravel(params[k]) for k in names]).astype(float)

    def f(v):
        parts, start = {}, 0
        for k, s, n in zip(names, shapes, sizes):
            parts[k] = v[start:start + n].reshape(s).copy()
            start += n
        return float(l2_penalty(parts, lam))

    return numerical_gradient(f, flat)


def _l2_gradient_expected(params, lam, penalise=_is_weight, factor=1.0):
    return np.concatenate([factor * lam * np.ravel(v) if penalise(k) else np.zeros(np.size(v))
                           for k, v in params.items()])


@part("ex07_l2_penalty", points=2)
def l2_penalty_part(t, l2_penalty):
    """the L2 penalty (lambda/2) * sum of ||W||^2 over the weights"""
    for params, lam, what in [(L2_PARAMS, 0.1, "a 2-layer network's params, lambda = 0.1"),
                              (L2_PARAMS3, 1e-3, "a 3-layer network's params (biases listed "
                                                 "first), lambda = 0.001")]:
        expected = _l2_ref(params, lam)
        t.close(what, lambda params=params, lam=lam: l2_penalty(_copy(params), lam), expected,
                mistakes=merge_same(without_answer(_l2_mistakes(params, lam), expected)))
    lam = 0.5
    expected = _l2_gradient_expected(L2_SMALL, lam)
    t.close("its gradient by finite differences, lambda = 0.5: lambda * W for each weight, 0 for "
            "each bias (entries of W1, b1, W2, b2 in order)",
            lambda: _l2_gradient_of(l2_penalty, L2_SMALL, lam), expected, rtol=1e-5, atol=1e-7,
            mistakes=merge_same({
                "the 1/2 missing: lambda * sum ||W||^2, whose gradient is 2 lambda W":
                    _l2_gradient_expected(L2_SMALL, lam, factor=2.0),
                "the biases penalised too: the penalty is on the weights W only":
                    _l2_gradient_expected(L2_SMALL, lam, penalise=lambda k: True),
                "the 1/2 missing and the biases penalised too":
                    _l2_gradient_expected(L2_SMALL, lam, penalise=lambda k: True, factor=2.0),
            }))


# ----------------------------------------------------------------------------- 2. L2 gradient

W_L2 = np.array([[1.0, -2.0, 0.5], [4.0, 0.0, -1.5]])
W_L2_RANDOM = np.random.default_rng(702).normal(size=(4, 3))
DW_STEP = np.random.default_rng(703).normal(size=(3, 5))
W_STEP = np.random.default_rng(704).normal(size=(3, 5))


def _l2_grad_mistakes(W, lam):
    return merge_same({
        "2 lambda W: the 1/2 of the penalty (lambda/2) ||W||^2 forgotten": 2 * lam * W,
        "lambda W / 2": lam * W / 2,
        "the sign flipped, -lambda W (the optimiser subtracts the gradient itself)": -lam * W,
        "the penalty (lambda/2) ||W||^2 instead of its gradient (one number, not the shape "
        "of W)": lam / 2 * np.sum(W ** 2),
        "lambda alone: the gradient of the penalty has the shape of W": lam * np.ones_like(W),
        "lambda * sign(W): the gradient of the L1 penalty lambda * sum |W|, not of L2's":
            lam * np.sign(W),
        "lambda W^2 instead of lambda W": lam * W ** 2,
    })


def _numerical_l2_grad(W, lam):
    return numerical_gradient(lambda w: lam / 2 * float(np.sum(w ** 2)), W.copy())


def _sgd_step_with(l2_grad, lr, lam):
    W = W_STEP.copy()
    grad = np.asarray(l2_grad(W, lam), dtype=float)
    return W - lr * (DW_STEP + grad)  # W as it is after the call: it must not have changed


def _sgd_weight_decay(lr, lam):
    p = Parameter(W_STEP.copy())
    p.grad = DW_STEP.copy()
    SGD([p], lr=lr, weight_decay=lam).step()
    return p.data


@part("ex07_l2_grad", points=1)
def l2_grad_part(t, l2_grad):
    """the gradient of the L2 penalty, lambda * W"""
    t.close("a (2, 3) W, lambda = 0.1", lambda: l2_grad(W_L2.copy(), 0.1), 0.1 * W_L2,
            mistakes=_l2_grad_mistakes(W_L2, 0.1))
    t.close("agrees with a numerical gradient of (lambda/2) ||W||^2, a (4, 3) W, lambda = 0.5",
            lambda: l2_grad(W_L2_RANDOM.copy(), 0.5), _numerical_l2_grad(W_L2_RANDOM, 0.5),
            rtol=1e-6, atol=1e-9, mistakes=_l2_grad_mistakes(W_L2_RANDOM, 0.5))
    lr, lam = 0.1, 0.2
    step_mistakes = {k: W_STEP - lr * (DW_STEP + v)
                     for k, v in _l2_grad_mistakes(W_STEP, lam).items()}
    t.close("W - lr * (dW + l2_grad(W, lambda)) is the step of SGD(weight_decay=lambda), "
            "lr = 0.1, lambda = 0.2, a (3, 5) W",
            lambda: _sgd_step_with(l2_grad, lr, lam), _sgd_weight_decay(lr, lam),
            mistakes=step_mistakes)


# ----------------------------------------------------------------------------- 3. dropout forward

X_DROP = np.array([[1.0, -2.0, 0.5, 3.0, -1.5], [2.0, 0.25, -1.0, 4.0, 1.0],
                   [-0.5, 1.5, 2.5, -3.0, 0.75], [1.25, -0.75, 2.0, 0.5, -2.5]])  # (4, 5)
X_DROP3 = np.random.default_rng(705).normal(size=(2, 3, 4))  # any shape: a 3-D tensor
X_DROP_BIG = np.abs(np.random.default_rng(706).normal(size=(1000, 200))) + 0.1


def _draws(seed, shape, n=1):
    """The uniform numbers a fresh default_rng(seed) gives for ``n`` masks of ``shape``."""
    rng = np.random.default_rng(seed)
    return [rng.random(shape) for _ in range(n)]


def _dropout_variants(x, u, p):
    """{description: (out, mask)} for the usual mistakes, from the uniform draws ``u``."""
    keep = (u >= p) * 1.0
    keep_p = (u < p) * 1.0  # kept with probability p
    return {
        "dropout not scaled by 1/(1-p): out = x * keep (inverted dropout divides the "
        "survivors by 1 - p so that the expected output is x)": (x * keep, keep),
        "p used as the keep probability (keep = u < p): p is the probability of DROPPING":
            (x * keep_p / (1 - p), keep_p / (1 - p)),
        "p used as the keep probability (keep = u < p, scaled by 1/p): p is the probability "
        "of DROPPING": (x * keep_p / p, keep_p / p),
        "p used as the keep probability (keep = u >= 1 - p): p is the probability of DROPPING":
            (x * (u >= 1 - p) / (1 - p), (u >= 1 - p) / (1 - p)),
        "scaled by 1/p instead of 1/(1-p)": (x * keep / p, keep / p),
        "multiplied by (1-p) instead of divided by it": (x * keep * (1 - p), keep * (1 - p)),
    }


def _dropout_mistakes(x, seed, p, which):
    """The mistakes' answers for ``which`` (0: out, 1: mask) on a fresh default_rng(seed)."""
    (u,) = _draws(seed, x.shape)
    mistakes = {k: v[which] for k, v in _dropout_variants(x, u, p).items()}
    binomial = np.random.default_rng(seed).binomial(1, 1 - p, size=x.shape) / (1 - p)
    mistakes["the mask drawn with rng.binomial instead of rng.random(x.shape) >= p: the same "
             "distribution, but other numbers from the same seed"] = (x * binomial,
                                                                       binomial)[which]
    if x.ndim == 2:  # a mask of one row, shared by every example
        u_row = np.random.default_rng(seed).random(x.shape[1])
        keep_row = (u_row >= p) / (1 - p)
        mistakes["one mask for the whole batch (rng.random(x.shape[1])): draw one number per "
                 "entry, rng.random(x.shape)"] = (x * keep_row, np.broadcast_to(keep_row,
                                                                                 x.shape))[which]
    return merge_same(mistakes)


def _dropout_ref(x, u, p):
    mask = (u >= p) / (1 - p)
    return x * mask, mask


def _forward_with_seed(dropout_forward, x, p, seed, which):
    return dropout_forward(x.copy(), p, np.random.default_rng(seed), True)[which]


def _train_then_eval(dropout_forward, x, p, seed):
    """[out in training, out in evaluation, mask in evaluation], one rng for both calls."""
    rng = np.random.default_rng(seed)
    out_train, _ = dropout_forward(x.copy(), p, rng, True)
    out_eval, mask_eval = draws_nothing(
        lambda: dropout_forward(x.copy(), p, rng, False), rng, "in evaluation (train=False)",
        right=lambda r: same_value(np.asarray(r[0], dtype=float), x)
        and same_value(np.broadcast_to(np.asarray(r[1], dtype=float), x.shape), np.ones_like(x)))
    return np.stack([np.asarray(out_train, dtype=float), np.asarray(out_eval, dtype=float),
                     np.broadcast_to(np.asarray(mask_eval, dtype=float), x.shape)])


def _train_then_eval_mistakes(x, p, seed):
    u, u2 = _draws(seed, x.shape, 2)
    ones = np.ones_like(x)
    mistakes = {k: np.stack([out, x, ones]) for k, (out, _) in _dropout_variants(x, u, p).items()}
    keep = (u >= p) * 1.0
    mistakes["the original paper's dropout: no scaling in training, x * (1-p) in evaluation "
             "(this course uses inverted dropout: divide by 1 - p in training, the identity "
             "in evaluation)"] = np.stack([x * keep, x * (1 - p), ones])
    out, _ = _dropout_ref(x, u, p)
    out2, mask2 = _dropout_ref(x, u2, p)
    mistakes["train=False ignored: dropout applied in evaluation too (eval mode must be the "
             "identity)"] = np.stack([out, out2, mask2])
    return merge_same(mistakes)


def _dropout_statistics(dropout_forward, x, p, seed):
    out = np.asarray(dropout_forward(x.copy(), p, np.random.default_rng(seed), True)[0],
                     dtype=float)
    return np.array([out.mean() / x.mean(), np.mean(out == 0) / p])


@part("ex07_dropout_forward", points=3)
def dropout_forward_part(t, dropout_forward):
    """inverted dropout, forward: drop with probability p, scale the survivors by 1/(1-p)"""
    p, seed = 0.3, 71
    (u,) = _draws(seed, X_DROP.shape)
    out, mask = _dropout_ref(X_DROP, u, p)
    t.close("p = 0.3, a (4, 5) batch, rng = np.random.default_rng(71): out",
            lambda: _forward_with_seed(dropout_forward, X_DROP, p, seed, 0), out,
            mistakes=_dropout_mistakes(X_DROP, seed, p, 0))
    mask_mistakes = _dropout_mistakes(X_DROP, seed, p, 1)
    unscaled = (u >= p) * 1.0
    mask_mistakes = {("dropout not scaled by 1/(1-p): the mask returned as 0/1 (keep) instead "
                      "of keep / (1 - p)" if same_value(v, unscaled) else k): v
                     for k, v in mask_mistakes.items()}
    mask_mistakes["the output returned as the mask"] = out
    t.close("the same call: the mask returned, keep / (1 - p) (0 or 1/0.7 = 1.4286)",
            lambda: _forward_with_seed(dropout_forward, X_DROP, p, seed, 1), mask,
            mistakes=mask_mistakes)
    p, seed = 0.6, 72
    u, _ = _draws(seed, X_DROP3.shape, 2)
    out, _ = _dropout_ref(X_DROP3, u, p)
    t.close("p = 0.6 on a (2, 3, 4) tensor, rng = default_rng(72): training, then train=False "
            "with the same rng (x itself and a mask of ones): [out_train, out_eval, mask_eval]",
            lambda: _train_then_eval(dropout_forward, X_DROP3, p, seed),
            np.stack([out, X_DROP3, np.ones_like(X_DROP3)]),
            mistakes=_train_then_eval_mistakes(X_DROP3, p, seed))
    p, seed = 0.25, 73
    (u,) = _draws(seed, X_DROP_BIG.shape)
    stats_mistakes = {}
    for k, (o, _) in _dropout_variants(X_DROP_BIG, u, p).items():
        stats_mistakes[k] = np.array([o.mean() / X_DROP_BIG.mean(), np.mean(o == 0) / p])
    t.close("p = 0.25 on 200 000 positive activations: [mean(out) / mean(x), fraction of "
            "zeros / p], both about 1 (inverted dropout keeps the mean)",
            lambda: _dropout_statistics(dropout_forward, X_DROP_BIG, p, seed), np.ones(2),
            rtol=0.03, atol=0, mistakes=merge_same(stats_mistakes))


# ----------------------------------------------------------------------------- 4. dropout backward

G_DROP = np.array([[0.5, -1.0, 2.0, 1.5, -0.25], [1.0, 3.0, -2.0, 0.5, 0.75],
                   [-1.5, 0.25, 1.0, -0.5, 2.0], [2.5, -0.5, 0.5, 1.0, -1.0]])  # (4, 5)
G_DROP3 = np.random.default_rng(707).normal(size=(3, 2, 4))
X_DROP_GC = np.random.default_rng(708).normal(size=(3, 2, 4))


def _scaled_mask(shape, p, seed):
    return (np.random.default_rng(seed).random(shape) >= p) / (1 - p)


def _backward_mistakes(G, mask):
    with np.errstate(all="ignore"):
        divided = G / mask
    return merge_same({
        "dropout not scaled by 1/(1-p): the 0/1 pattern of the mask (mask > 0) used instead of "
        "the scaled mask itself": G * (mask > 0),
        "the mask returned, not multiplied by grad_out": mask,
        "grad_out divided by the mask instead of multiplied by it": divided,
        "grad_out returned unchanged: the dropped units must get no gradient": G,
        "the kept and dropped units swapped, grad_out * (1 - mask)": G * (1 - mask),
    })


def _numerical_dropout_grad(G, x, mask):
    return numerical_gradient(lambda v: float(np.sum(G * (v * mask))), x.copy())


def _train_then_eval_backward(dropout_backward, G, mask):
    return np.stack([np.asarray(dropout_backward(G.copy(), mask.copy()), dtype=float),
                     np.asarray(dropout_backward(G.copy(), np.ones_like(G)), dtype=float)])


@part("ex07_dropout_backward", points=1)
def dropout_backward_part(t, dropout_backward):
    """inverted dropout, backward: grad_out times the scaled mask"""
    mask = _scaled_mask(G_DROP.shape, 0.3, 74)
    t.close("a (4, 5) grad_out, the mask of p = 0.3 (0 or 1.4286)",
            lambda: dropout_backward(G_DROP.copy(), mask.copy()), G_DROP * mask,
            mistakes=_backward_mistakes(G_DROP, mask))
    mask3 = _scaled_mask(G_DROP3.shape, 0.5, 75)
    t.close("agrees with a numerical gradient of sum(grad_out * x * mask), p = 0.5, a (3, 2, 4) "
            "tensor", lambda: dropout_backward(G_DROP3.copy(), mask3.copy()),
            _numerical_dropout_grad(G_DROP3, X_DROP_GC, mask3), rtol=1e-6, atol=1e-9,
            mistakes=_backward_mistakes(G_DROP3, mask3))
    mask8 = _scaled_mask(G_DROP.shape, 0.8, 76)
    expected = np.stack([G_DROP * mask8, G_DROP])
    mistakes = {k: np.stack([v, G_DROP]) for k, v in _backward_mistakes(G_DROP, mask8).items()}
    t.close("p = 0.8 (survivors times 5), then the mask of eval mode (all ones): "
            "[grad in training, grad in evaluation]",
            lambda: _train_then_eval_backward(dropout_backward, G_DROP, mask8), expected,
            mistakes=without_answer(mistakes, expected))


# ----------------------------------------------------------------------------- 5. early stopping


def _library_stop(val_losses, patience):
    """(stop epoch, best epoch), 1-based, as backproplab's EarlyStopping callback decides."""
    callback = EarlyStopping(patience=patience, restore_best=False)
    history = History()
    state = TrainState(None, None, history)
    callback.on_train_begin(state)
    for epoch, loss in enumerate(val_losses, start=1):
        state.epoch = epoch
        history.epochs.append(epoch)
        history.val_loss.append(float(loss))
        callback.on_epoch_end(state)
        if state.stop:
            return epoch, callback.best_epoch
    return len(val_losses), callback.best_epoch


def _twin(val_losses, patience, strict=True, reset=True):
    """A plain-loop early stopping; with another ``patience``, ``strict`` or ``reset`` it is a
    mistake."""
    best, best_epoch, wait = np.inf, None, 0
    for epoch, loss in enumerate(val_losses, start=1):
        if loss < best or (not strict and loss <= best):
            best, best_epoch, wait = loss, epoch, 0 if reset else wait
            continue
        wait += 1
        if wait >= patience:
            return epoch, best_epoch
    return len(val_losses), best_epoch


def _stop_mistakes(val_losses, patience):
    stop, best = _library_stop(val_losses, patience)
    off = "an off-by-one in early stopping: "
    mistakes = {
        off + "it stopped after patience + 1 epochs without improvement (wait > patience "
              "instead of wait >= patience)": _twin(val_losses, patience + 1),
        off + "it stopped after patience - 1 epochs without improvement (the best epoch "
              "counted as one of the patience epochs?)": _twin(val_losses, max(patience - 1, 1))
        if patience > 1 else None,
        off + "0-based epochs (the first epoch is epoch 1)": (stop - 1, best - 1),
        off + "the best epoch 0-based (the first epoch is epoch 1)": (stop, best - 1),
        "the stop epoch returned as the best epoch": (stop, stop),
        "(best, stop) instead of (stop, best)": (best, stop),
        "the best epoch taken over the whole list, including the epochs after the stop":
            (stop, int(np.argmin(val_losses)) + 1),
        "the best LOSS returned instead of the best epoch's number": (stop, val_losses[best - 1]),
        "a tie counted as an improvement (<= instead of <): only a strictly lower loss is "
        "better": _twin(val_losses, patience, strict=False),
        "the patience counter never reset after an improvement: it must count the epochs "
        "without improvement since the best one": _twin(val_losses, patience, reset=False),
    }
    return {k: v for k, v in mistakes.items() if v is not None}


def _stop_call(early_stopping_epoch, val_losses, patience):
    stop, best = early_stopping_epoch(list(val_losses), patience)
    return stop, best


# Test 1: a plateau of patience - 1 epochs, then the real stop; better losses come later.
RUN_PLATEAU = [1.0, 0.8, 0.7, 0.75, 0.72, 0.65, 0.66, 0.7, 0.68, 0.69, 0.6, 0.5]
# Test 2: a tie with the best loss is not an improvement.
RUN_TIE = [0.5, 0.4, 0.45, 0.35, 0.4, 0.35, 0.38, 0.3]
# Test 3: a run that never stops (patience never reached), and a short one that does.
RUN_NO_STOP = [1.0, 1.1, 1.2, 1.05, 0.9, 0.95, 0.92, 0.91]
RUN_SHORT = [2.0, 1.5, 1.6, 1.7, 1.4]
# Test 4: the first epoch is the best.
RUN_FIRST = [0.3, 0.4, 0.5, 0.6, 0.7]


def _noisy_run():
    """A noisy 80-epoch validation curve: falls, then rises (overfitting)."""
    epochs = np.arange(1, 81)
    noise = np.random.default_rng(709).normal(scale=0.02, size=80)
    return np.round(0.5 + 1.5 * np.exp(-epochs / 8) + 0.004 * epochs + noise, 4).tolist()


RUN_NOISY = _noisy_run()


@part("ex07_early_stopping", points=3)
def early_stopping_part(t, early_stopping_epoch):
    """early stopping: the epoch training stops at and the best epoch, both 1-based"""
    for losses, patience, what in [
            (RUN_PLATEAU, 3, "patience 3, a plateau of 2 epochs, then 3 without improvement"),
            (RUN_TIE, 2, "patience 2, a later loss equal to the best one (a tie is not an "
                         "improvement)"),
            (RUN_FIRST, 3, "patience 3, the first epoch is the best"),
            (RUN_NOISY, 10, "patience 10, a noisy 80-epoch curve (as bp.EarlyStopping "
                            "decides)")]:
        expected = _library_stop(losses, patience)
        t.equal(f"{what}: {losses if len(losses) < 20 else '...'} -> (stop, best)",
                lambda losses=losses, patience=patience:
                    _stop_call(early_stopping_epoch, losses, patience), expected,
                mistakes=merge_same(without_answer(_stop_mistakes(losses, patience), expected)))
    expected = [_library_stop(RUN_NO_STOP, 4), _library_stop(RUN_SHORT, 2)]
    mistakes = {}
    for k in set(_stop_mistakes(RUN_NO_STOP, 4)) | set(_stop_mistakes(RUN_SHORT, 2)):
        a = _stop_mistakes(RUN_NO_STOP, 4).get(k, expected[0])
        b = _stop_mistakes(RUN_SHORT, 2).get(k, expected[1])
        mistakes[k] = [a, b]
    t.equal(f"two runs: patience 4 never reached in {RUN_NO_STOP} (training runs to the last "
            f"epoch), and patience 2 on {RUN_SHORT}: [(stop, best), (stop, best)]",
            lambda: [_stop_call(early_stopping_epoch, RUN_NO_STOP, 4),
                     _stop_call(early_stopping_epoch, RUN_SHORT, 2)], expected,
            mistakes=merge_same(without_answer(dict(sorted(mistakes.items())), expected)))


# ----------------------------------------------------------------------------- 6. choose a degree


def _design(x, degree, intercept=True):
    features = polynomial_features(x, degree)
    return np.column_stack([np.ones(len(features)), features]) if intercept else features


def _errors(data, degrees, intercept=True):
    """(train MSE, validation MSE) of least-squares polynomials, one per degree."""
    x_train, y_train, x_val, y_val = data
    train, val = [], []
    for d in degrees:
        A = _design(x_train, d, intercept)
        coef = np.linalg.lstsq(A, y_train, rcond=None)[0]
        train.append(np.mean((A @ coef - y_train) ** 2))
        val.append(np.mean((_design(x_val, d, intercept) @ coef - y_val) ** 2))
    return np.array(train), np.array(val)


def _degree_mistakes(data, degrees):
    train, val = _errors(data, degrees)
    _, val_no_intercept = _errors(data, degrees, intercept=False)
    return {
        "the degree with the lowest TRAINING error (it always favours the largest degree): "
        "choose by the validation error": degrees[int(np.argmin(train))],
        "the position in degrees (np.argmin) instead of the degree itself":
            int(np.argmin(val)),
        "the degree with the largest validation error (argmax instead of argmin)":
            degrees[int(np.argmax(val))],
        "the polynomials fitted without an intercept (no column of ones, or no bias)":
            degrees[int(np.argmin(val_no_intercept))],
    }


def _polynomial_data(n_train, n_val, degree, noise, seed_train, seed_val, coef=None):
    x_train, y_train = make_polynomial(n_train, degree, noise, coef=coef, seed=seed_train)
    x_val, y_val = make_polynomial(n_val, degree, noise, coef=coef, seed=seed_val)
    return x_train, y_train, x_val, y_val


# The lesson's data (a cubic, 20 training points); a degree-6 curve with even degrees only; a
# shifted quadratic with the degrees listed from high to low.
DEGREE_CASES = [
    (_polynomial_data(20, 200, 3, 0.25, 1, 2), list(range(1, 16)),
     "the lesson's cubic: 20 training and 200 validation points, degrees 1..15"),
    (_polynomial_data(40, 300, 6, 0.1, 3, 4), [2, 4, 6, 8, 10, 12],
     "a degree-6 curve, 40 training points, degrees [2, 4, 6, 8, 10, 12]"),
    (_polynomial_data(25, 300, 2, 0.2, 11, 12, coef=[2.0, -1.0, 1.5]), [9, 7, 5, 3, 2, 1],
     "2 - x + 1.5 x^2, 25 training points, degrees [9, 7, 5, 3, 2, 1]"),
]


def _choose_call(choose_degree, data, degrees):
    x_train, y_train, x_val, y_val = (a.copy() for a in data)
    return choose_degree(x_train, y_train, x_val, y_val, list(degrees))


@part("ex07_choose_degree", points=2)
def choose_degree_part(t, choose_degree):
    """model selection: the polynomial degree with the lowest validation error"""
    for data, degrees, what in DEGREE_CASES:
        expected = degrees[int(np.argmin(_errors(data, degrees)[1]))]
        t.equal(what, lambda data=data, degrees=degrees: _choose_call(choose_degree, data,
                                                                      degrees),
                expected, mistakes=merge_same(without_answer(_degree_mistakes(data, degrees),
                                                             expected)))


# ----------------------------------------------------------------------------- 7. AdamW's update

P_ADAMW = np.array([[1.0, -2.0, 0.5], [3.0, -0.25, 0.0]])             # (2, 3)
G_ADAMW = np.array([[0.2, 0.1, -4.0], [-0.5, 0.0, 1.5]])
GRADS_ADAMW = np.random.default_rng(710).normal(size=(5, 2, 3)) * [[1.0], [0.01]]  # big and small
P_QUIET = np.array([2.0, -3.0, 0.5, 1.0])


def _library_adamw(p0, grads, lr, weight_decay, betas=(0.9, 0.999), eps=1e-8):
    """(p, m, v) after one AdamW step of backproplab.optim per gradient in ``grads``."""
    p = Parameter(np.array(p0, dtype=float))
    optimizer = AdamW([p], lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    for g in grads:
        p.grad = np.array(g, dtype=float)
        optimizer.step()
    return p.data, optimizer.state[0]["m"], optimizer.state[0]["v"]


def _adamw_twin(p, g, m, v, t, lr, betas, eps, weight_decay, bug=None):
    """One AdamW step written out, with one of the usual mistakes when ``bug`` is given."""
    b1, b2 = betas
    if bug == "coupled":
        g = g + weight_decay * p
    m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
    if bug == "no bias correction":
        m_hat, v_hat = m, v
    else:
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    step = lr * m_hat / (np.sqrt(v_hat) + eps)
    decay = {"coupled": 0.0, "decay without lr": weight_decay,
             "decay added": -lr * weight_decay}.get(bug, lr * weight_decay)
    if bug == "decay after":
        return (p - step) * (1 - decay), m, v
    if bug == "decay as a constant":
        return p - decay - step, m, v
    return p * (1 - decay) - step, m, v


ADAMW_BUGS = {
    "coupled": "L2 in the gradient, as Adam's weight_decay does (g + weight_decay * p): AdamW "
               "decouples the decay, m and v see the data gradient alone",
    "decay after": "the decay applied after the Adam step, to the updated weights: AdamW "
                   "shrinks p by (1 - lr * weight_decay) first, then takes the step",
    "decay without lr": "the decay without the learning rate, p * (1 - weight_decay): the "
                        "factor is 1 - lr * weight_decay",
    "decay added": "the weights grown instead of shrunk, p * (1 + lr * weight_decay)",
    "decay as a constant": "lr * weight_decay subtracted from p instead of multiplying p by "
                           "(1 - lr * weight_decay)",
    "no bias correction": "no bias correction: m / (1 - beta1^t) and v / (1 - beta2^t) are "
                          "the averages Adam uses",
}


def _adamw_chain(step_fn, p0, grads, lr, weight_decay, betas=(0.9, 0.999), eps=1e-8):
    """(p, m, v) after calling ``step_fn`` once per gradient, passing its own m, v along."""
    p, m, v = np.array(p0, dtype=float), np.zeros_like(p0), np.zeros_like(p0)
    for t, g in enumerate(grads, start=1):
        p, m, v = (np.asarray(a, dtype=float) for a in
                   step_fn(p.copy(), np.array(g, dtype=float), m.copy(), v.copy(), t, lr, betas,
                           eps, weight_decay))
    return p, m, v


def _adamw_mistakes(p0, grads, lr, weight_decay, expected):
    """{mistake: the p it ends with} over the steps, the same answers merged and the right one
    (``expected``) left out."""
    return without_answer(merge_same({text: _adamw_chain(
        lambda *a, bug=bug: _adamw_twin(*a, bug=bug), p0, grads, lr, weight_decay)[0]
        for bug, text in ADAMW_BUGS.items()}), expected)


ADAMW_RUNS = [  # (name, p0, grads, lr, weight_decay): a test of the p the steps end with
    ("one step from m = v = 0 (t = 1), a (2, 3) p, lr 0.1, weight_decay 0.5: p",
     P_ADAMW, [G_ADAMW], 0.1, 0.5),
    ("a zero data gradient for 3 steps, lr 0.1, weight_decay 0.5: only the decay acts, "
     "p * 0.95^3", P_QUIET, [np.zeros(4)] * 3, 0.1, 0.5),
    ("five steps, m, v and t passed along, one row with large gradients and one with "
     "small ones, lr 0.05, weight_decay 1: p (as bp.optim.AdamW)",
     P_ADAMW, GRADS_ADAMW, 0.05, 1.0),
]


def _inputs_left_alone(adamw_step):
    p, g, m, v = P_ADAMW.copy(), G_ADAMW.copy(), G_ADAMW * 0.1, G_ADAMW**2 * 0.01
    before = [a.copy() for a in (p, g, m, v)]
    adamw_step(p, g, m, v, 2, 0.1, (0.9, 0.999), 1e-8, 0.5)
    for name, a, b in zip(("p", "grad", "m", "v"), (p, g, m, v), before):
        assert np.array_equal(a, b), f"{name} was changed in place"
    return True


@part("ex07_adamw_step", points=3)
def adamw_step_part(t, adamw_step):
    """AdamW: decoupled weight decay, then Adam's step on the data gradient"""
    for name, p0, grads, lr, weight_decay in ADAMW_RUNS:
        expected = _library_adamw(p0, grads, lr, weight_decay)[0]
        t.close(name, lambda p0=p0, grads=grads, lr=lr, weight_decay=weight_decay:
                _adamw_chain(adamw_step, p0, grads, lr, weight_decay)[0], expected,
                mistakes=_adamw_mistakes(p0, grads, lr, weight_decay, expected))
    _, m, v = _library_adamw(P_ADAMW, GRADS_ADAMW[:3], 0.05, 1.0)
    coupled = _adamw_chain(lambda *a: _adamw_twin(*a, bug="coupled"), P_ADAMW, GRADS_ADAMW[:3],
                           0.05, 1.0)
    t.close_all("after three steps, m and v are the averages of the data gradient alone",
                lambda: _adamw_chain(adamw_step, P_ADAMW, GRADS_ADAMW[:3], 0.05, 1.0)[1:],
                {"m": m, "v": v}, hint="not Adam's moments of the data gradient",
                mistakes={ADAMW_BUGS["coupled"]: {"m": coupled[1], "v": coupled[2]}})
    t.true("p, grad, m and v are left unchanged (new arrays returned)",
           lambda: _inputs_left_alone(adamw_step),
           "changed an input in place: return new arrays, the caller still holds the old ones")


# ----------------------------------------------------------------------------- 8. k-fold splits


def _kfold_twin(n, k, seed, bug):
    """k-fold splits with one of the usual mistakes (the rule itself is data.kfold_split's)."""
    rng = np.random.default_rng(seed)
    order = np.arange(n) if bug == "no shuffle" else rng.permutation(n)
    size = n // k
    if bug == "remainder dropped":
        folds = [order[i * size:(i + 1) * size] for i in range(k)]
    elif bug == "remainder last":
        folds = [order[i * size:(i + 1) * size] for i in range(k - 1)] + [order[(k - 1) * size:]]
    elif bug == "ceil":
        big = -(-n // k)
        folds = [order[i * big:(i + 1) * big] for i in range(k)]
    elif bug == "new permutation per fold":
        folds = [order if i == 0 else rng.permutation(n) for i in range(k)]
        folds = [np.array_split(f, k)[i] for i, f in enumerate(folds)]
    else:
        folds = np.array_split(order, k)
    splits = []
    for i, val in enumerate(folds):
        if bug == "train includes val":
            train = np.arange(n)
        elif bug == "train before":
            train = np.concatenate([np.zeros(0, int)] + folds[:i])
        else:
            train = np.concatenate([np.zeros(0, int)] + folds[:i] + folds[i + 1:])
        splits.append((np.sort(train), np.sort(val)))
    return splits


KFOLD_BUGS = {
    "no shuffle": "no shuffle: fold 0 is the first rows, and so on (with sorted data each fold "
                  "is one range of x); draw order = rng.permutation(n) first",
    "remainder dropped": "the last n % k samples dropped: every fold has n // k, so some "
                         "samples are never validated",
    "remainder last": "all n % k extra samples in the last fold: the first n % k folds get one "
                      "extra each (np.array_split)",
    "ceil": "folds of ceil(n / k) with a short last fold: the sizes must differ by at most one",
    "new permutation per fold": "a new permutation for every fold: the folds overlap, some "
                                "samples validated twice and some never; shuffle once",
    "train includes val": "the validation fold left in the training set: train on the OTHER "
                          "folds only",
    "train before": "training on the folds before fold i only: train on every fold but i",
}


def _fold_of(splits, n):
    """(n,) int: which fold validates each sample (-1: none; the last one if several)."""
    out = np.full(n, -1)
    for i, (_, val) in enumerate(splits):
        out[np.asarray(val, dtype=int)] = i
    return out


def _counts(splits, n):
    """(2, n): how often each sample is validated (once) and trained on (k - 1 times)."""
    def count(part):
        return np.bincount(np.concatenate([np.asarray(pair[part], dtype=int).ravel()
                                           for pair in splits]), minlength=n)
    return np.stack([count(1), count(0)])


def _train_members(splits, n):
    """(k, n) 0/1: row i marks the samples fold i trains on."""
    out = np.zeros((len(splits), n), dtype=int)
    for i, (train, _) in enumerate(splits):
        out[i, np.asarray(train, dtype=int)] = 1
    return out


def _kfold_call(kfold_indices, n, k, seed, view):
    splits = kfold_indices(n, k, np.random.default_rng(seed))
    return view(list(splits), n)


def _kfold_mistakes(n, k, seed, view, expected):
    return merge_same(without_answer(
        {text: view(_kfold_twin(n, k, seed, bug), n) for bug, text in KFOLD_BUGS.items()},
        expected))


def _sizes(splits, n):
    return [int(np.size(val)) for _, val in splits]


@part("ex07_kfold", points=2)
def kfold_part(t, kfold_indices):
    """k-fold splits: shuffle once, k folds of nearly equal size, train on the others"""
    for n, k, seed, view, what in [
            (10, 5, 0, _fold_of, "n = 10, k = 5, rng = default_rng(0): the fold that validates "
                                 "each sample"),
            (10, 4, 1, _sizes, "n = 10, k = 4: the fold sizes (the first n % k folds get one "
                               "more)"),
            (37, 6, 2, _counts, "n = 37, k = 6: how often each sample is validated (once) and "
                                "trained on (k - 1 = 5 times)"),
            (23, 5, 3, _train_members, "n = 23, k = 5: the samples each round trains on (k, n) "
                                       "0/1")]:
        expected = view(kfold_split(n, k, seed=seed), n)
        t.equal(what, lambda n=n, k=k, seed=seed, view=view:
                _kfold_call(kfold_indices, n, k, seed, view), expected,
                mistakes=_kfold_mistakes(n, k, seed, view, expected))
