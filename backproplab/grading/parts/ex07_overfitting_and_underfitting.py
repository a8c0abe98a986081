"""Parts of exercise 07, overfitting and underfitting
(solutions/07_overfitting_and_underfitting.ipynb): the L2 penalty and its gradient, inverted
dropout forward and backward, early stopping, and choosing a polynomial's degree by its
validation error.

References come from formulas, from ``numerical_gradient``, and from the library itself
(``SGD(weight_decay=...)``, the mask ``Dropout`` draws, the ``EarlyStopping`` callback); the
answers of the usual mistakes are computed by buggy twins of the references on the same
inputs, so that feedback names them. Every test of a part compares something that the part's
named mistakes get wrong, so such a mistake costs the whole part:

- dropout not scaled by 1/(1-p) fails every test of ``ex07_dropout_forward`` and
  ``ex07_dropout_backward`` (eval mode and p = 0 never stand alone in a test);
- an off-by-one in early stopping (stopping after patience + 1 or patience - 1 epochs
  without improvement, or 0-based epochs) fails every test of ``ex07_early_stopping``.
"""

import numpy as np

from ...data import make_polynomial, polynomial_features
from ...gradcheck import numerical_gradient
from ...layers import Parameter
from ...optim import SGD
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
