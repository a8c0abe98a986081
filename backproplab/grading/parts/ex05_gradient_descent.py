"""Parts of exercise 05 (gradient descent and training): an SGD step, a momentum step, an
RMSprop step, an Adam step, a training epoch, a cosine learning-rate schedule, the largest
stable learning rate of a quadratic, and the largest eigenvalue by power iteration.

The references are the library's optimisers and schedules (``backproplab.optim``, which
follow ``torch.optim``) and ``backproplab.curvature.power_iteration``, run on the same inputs.
Each named mistake is computed by a buggy twin of the reference, and every test of a part
compares values that the mistake gets wrong, so a named mistake loses the whole part; except
in power iteration, where some mistakes show only in some cases (a lost sign only when the
largest eigenvalue is negative, a product too many only before convergence) and lose the
tests that can see them.
"""

import numpy as np

from ...data import iterate_minibatches
from ...layers import Linear, Parameter, Sequential, Tanh
from ...losses import CrossEntropyLoss
from ...curvature import power_iteration
from ...optim import SGD, Adam, CosineAnnealingLR, RMSprop
from ..compare import merge_same, without_answer
from ..registry import part

# ----------------------------------------------------------------------------- helpers


def _rotation(d, seed):
    """A fixed orthogonal (d, d) matrix: A = Q diag(lam) Q.T is then not diagonal."""
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q * np.sign(np.diag(r))


def _spd(eigenvalues, seed):
    q = _rotation(len(eigenvalues), seed)
    a = q @ np.diag(eigenvalues) @ q.T
    return (a + a.T) / 2


def _flat(arrays):
    return np.concatenate([np.ravel(np.asarray(a, dtype=float)) for a in arrays])


def _library_path(make_optimizer, p0, grads):
    """p after each step of the library's optimiser ``make_optimizer([p])`` fed ``grads``."""
    p = Parameter(p0.copy())
    opt, path = make_optimizer([p]), []
    for g in grads:
        p.grad = g.copy()
        opt.step()
        path.append(p.data.copy())
    return np.array(path)


def _check_adaptive(t, student, mistakes, first_name, first_answer, first_reference, path,
                    reference_path, runs):
    """The tests of a per-parameter adaptive step (RMSprop, Adam): ``first_answer(step)``, the
    state after one step from a zero state, against ``first_reference``; then, for each run
    (name, p0, grads, settings), ``path(step, p0, grads, settings)`` against
    ``reference_path(p0, grads, settings)``. Each test names the ``mistakes`` whose answer the
    student's matches."""
    with np.errstate(all="ignore"):  # buggy twins may divide by 0
        first_mistakes = merge_same({k: first_answer(f) for k, f in mistakes.items()})
        run_mistakes = [merge_same({k: path(f, p0, grads, settings) for k, f in mistakes.items()})
                        for _, p0, grads, settings in runs]
    t.close(first_name, lambda: first_answer(student), first_reference, mistakes=first_mistakes)
    for (name, p0, grads, settings), named in zip(runs, run_mistakes):
        t.close(name, lambda p0=p0, grads=grads, settings=settings: path(student, p0, grads,
                                                                         settings),
                reference_path(p0, grads, settings), mistakes=named)


# ----------------------------------------------------------------------------- SGD step

SGD_PARAMS = [np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]]), np.array([3.0, -2.0, 0.25, 1.0])]
SGD_GRADS = [np.array([[1.0, -2.0, 0.5], [0.0, 4.0, -1.0]]), np.array([-0.5, 1.0, 2.0, -3.0])]
SGD_A = _spd([1.0, 3.0, 6.0], seed=1)  # the Hessian of f(w) = 1/2 w^T A w
SGD_W0 = np.array([1.0, -2.0, 0.5])


def _sgd_one_step(step, lr):
    arrays = [p.copy() for p in SGD_PARAMS]
    # A new list holding the same arrays: only an in-place update of the arrays shows here.
    step(list(arrays), [g.copy() for g in SGD_GRADS], lr)
    return _flat(arrays)


def _sgd_path(step, lr, steps):
    w, path = SGD_W0.copy(), []
    for _ in range(steps):
        step([w], [SGD_A @ w], lr)
        path.append(w.copy())
    return np.array(path)


def _sgd_ref(params, grads, lr):
    for p, g in zip(params, grads):
        p -= lr * g


def _sgd_ascent(params, grads, lr):
    for p, g in zip(params, grads):
        p += lr * g


def _sgd_no_lr(params, grads, lr):
    for p, g in zip(params, grads):
        p -= g


def _sgd_rebound(params, grads, lr):
    for i, (p, g) in enumerate(zip(params, grads)):
        params[i] = p - lr * g


SGD_MISTAKES = {
    "gradient ascent, p += lr * g: the step must go against the gradient": _sgd_ascent,
    "the learning rate left out (p -= g)": _sgd_no_lr,
    "a new array made (p = p - lr * g) instead of updating the array in place (p -= lr * g): "
    "the caller's arrays did not change": _sgd_rebound,
}


@part("ex05_sgd_step", points=1, writable=(0, "params"))
def sgd_step_part(t, sgd_step):
    """one step of plain gradient descent"""
    t.close("one step, lr = 0.1, on a (2, 3) and a (4,) array (all entries, flattened)",
            lambda: _sgd_one_step(sgd_step, 0.1), _sgd_one_step(_sgd_ref, 0.1),
            mistakes=merge_same({k: _sgd_one_step(f, 0.1) for k, f in SGD_MISTAKES.items()}))
    t.close("5 steps on f(w) = 1/2 w^T A w with lr = 0.2 (w after each step, shape (5, 3))",
            lambda: _sgd_path(sgd_step, 0.2, 5), _sgd_path(_sgd_ref, 0.2, 5),
            mistakes=merge_same({k: _sgd_path(f, 0.2, 5) for k, f in SGD_MISTAKES.items()}))


# ----------------------------------------------------------------------------- momentum

MOM_A = _spd([0.5, 2.0, 8.0], seed=2)
MOM_W0 = np.array([2.0, -1.0, 1.5])
MOM_A2 = _spd([1.0, 10.0], seed=3)
MOM_P0 = np.array([[1.0, -2.0, 0.5], [0.25, 1.0, -1.5]])
# The learning rate changes from step to step (as under a schedule): with a constant rate the
# convention v = mu v - lr g gives the same parameters as PyTorch's, with a changing one not.
MOM_LRS = [0.1, 0.05, 0.2, 0.1, 0.02, 0.15]
MOM_LRS2 = [0.05, 0.1, 0.01, 0.08, 0.04]


def _momentum_path(step, A, p0, lrs, mu):
    p, v, path = p0.copy(), None, []
    for lr in lrs:
        v = step(p, A @ p, v, lr, mu)
        path.append(p.copy())
    return np.array(path)


def _momentum_torch(A, p0, lrs, mu):
    """The reference: torch's rule, as backproplab.optim.SGD implements it."""
    p = Parameter(p0.copy())
    opt, path = SGD([p], lr=lrs[0], momentum=mu), []
    for lr in lrs:
        opt.lr = lr
        p.grad = A @ p.data
        opt.step()
        path.append(p.data.copy())
    return np.array(path)


def _mom_other_convention(p, g, v, lr, mu):
    v = np.zeros_like(p) if v is None else v
    v = mu * v - lr * g
    p += v
    return v


def _mom_dampening(p, g, v, lr, mu):
    v = g.copy() if v is None else mu * v + (1 - mu) * g
    p -= lr * v
    return v


def _mom_plain_sgd(p, g, v, lr, mu):
    p -= lr * g
    return None


def _mom_old_velocity(p, g, v, lr, mu):
    v = np.zeros_like(p) if v is None else v
    p -= lr * v
    return mu * v + g


def _mom_returns_param(p, g, v, lr, mu):
    v = g.copy() if v is None else mu * v + g
    p -= lr * v
    return p


def _mom_sign_flipped(p, g, v, lr, mu):
    v = g.copy() if v is None else mu * v - g
    p -= lr * v
    return v


def _mom_lr_twice(p, g, v, lr, mu):
    v = lr * g if v is None else mu * v + lr * g
    p -= lr * v
    return v


MOM_MISTAKES = {
    "the other momentum convention, v = mu v - lr g and p += v: it moves p like PyTorch's "
    "v = mu v + g, p -= lr v only while the learning rate stays constant": _mom_other_convention,
    "dampening, v = mu v + (1 - mu) g: torch.optim.SGD's rule (dampening=0) adds g itself":
        _mom_dampening,
    "plain SGD: the velocity was not updated and returned, or not used in the step":
        _mom_plain_sgd,
    "the step taken with the old velocity: update v = mu v + g first, then p -= lr v":
        _mom_old_velocity,
    "the sign of the gradient flipped in the velocity, v = mu v - g, with p -= lr v: the "
    "gradient must add to the velocity (v = mu v + g)": _mom_sign_flipped,
    "the learning rate applied twice, v = mu v + lr g and p -= lr v: in torch's rule the "
    "velocity holds gradients, v = mu v + g": _mom_lr_twice,
    "the parameter returned instead of the new velocity (the next step needs the velocity)":
        _mom_returns_param,
}


@part("ex05_momentum_step", points=2, writable=(0, 2, "param", "velocity"))
def momentum_step_part(t, momentum_step):
    """one step of SGD with momentum (torch.optim.SGD's rule)"""
    for A, p0, lrs, mu, what in [
            (MOM_A, MOM_W0, MOM_LRS, 0.9, "a (3,) vector, mu = 0.9"),
            (MOM_A2, MOM_P0, MOM_LRS2, 0.5, "a (2, 3) matrix, mu = 0.5")]:
        name = (f"{len(lrs)} steps on a quadratic, {what}, lr changing each step {lrs} "
                f"(p after each step, shape {(len(lrs),) + p0.shape})")
        t.close(name, lambda A=A, p0=p0, lrs=lrs, mu=mu: _momentum_path(momentum_step, A, p0,
                                                                       lrs, mu),
                _momentum_torch(A, p0, lrs, mu),
                mistakes=merge_same({k: _momentum_path(f, A, p0, lrs, mu)
                                     for k, f in MOM_MISTAKES.items()}))


# ----------------------------------------------------------------------------- RMSprop

# Gradients of very different scales per coordinate; some so small that where eps goes matters.
RMS_GRADS = np.random.default_rng(12).normal(size=(6, 4)) * np.array([1.0, 1e-4, 300.0, 3e-3])
RMS_P0 = np.array([0.5, -1.0, 2.0, 0.0])
RMS_GRADS2 = np.random.default_rng(13).normal(size=(5, 2, 3)) * np.array([[1.0, 1e-3, 1e-5],
                                                                        [0.1, 5.0, 2e-4]])
RMS_P02 = np.array([[1.0, -0.5, 0.25], [0.0, 2.0, -1.0]])
RMS_SETTINGS = (0.01, 0.99, 1e-8)
RMS_SETTINGS2 = (0.05, 0.9, 1e-6)


def _rms_first(step):
    """(p, s) after one step from s = 0, flattened: 4 + 4 numbers."""
    p = RMS_P0.copy()
    s = step(p, RMS_GRADS[0].copy(), np.zeros(4), *RMS_SETTINGS)
    return np.concatenate([p, np.ravel(s)])


def _rms_path(step, p0, grads, settings):
    p, s, path = p0.copy(), np.zeros_like(p0), []
    for g in grads:
        s = step(p, g.copy(), s, *settings)
        path.append(p.copy())
    return np.array(path)


def _rms_ref_path(p0, grads, settings):
    lr, alpha, eps = settings
    return _library_path(lambda ps: RMSprop(ps, lr=lr, alpha=alpha, eps=eps), p0, grads)


def _rms_ref_first():
    lr, alpha, eps = RMS_SETTINGS
    s = (1 - alpha) * RMS_GRADS[0] ** 2
    return np.concatenate([_rms_ref_path(RMS_P0, RMS_GRADS[:1], RMS_SETTINGS)[0], s])


def _rms_buggy(average="leaky", denominator="sqrt", old_average=False, in_place=True):
    """RMSprop with one bug: the average (``leaky``: alpha s + (1 - alpha) g^2, ``swapped``,
    ``no_one_minus``), the denominator (``sqrt``: sqrt(s) + eps, ``eps_inside``, ``no_sqrt``),
    the step taken with the average from before this gradient, or p rebound, not updated."""
    def step(p, g, s, lr, alpha, eps):
        new = {"leaky": alpha * s + (1 - alpha) * g * g,
               "swapped": (1 - alpha) * s + alpha * g * g,
               "no_one_minus": alpha * s + g * g}[average]
        used = s if old_average else new
        with np.errstate(all="ignore"):   # the old average is 0 at the first step
            denom = {"sqrt": np.sqrt(used) + eps, "eps_inside": np.sqrt(used + eps),
                     "no_sqrt": used + eps}[denominator]
            update = lr * g / denom
        if in_place:
            p -= update
        else:
            p = p - update   # noqa: F841  (the caller's array is left unchanged)
        return new
    return step


RMS_MISTAKES = {
    "eps inside the square root, sqrt(s + eps), instead of sqrt(s) + eps":
        _rms_buggy(denominator="eps_inside"),
    "alpha and 1 - alpha swapped: s = alpha s + (1 - alpha) g^2 keeps most of the OLD average":
        _rms_buggy(average="swapped"),
    "the (1 - alpha) factor left out: s = alpha s + g^2 is a sum, 100 times too large":
        _rms_buggy(average="no_one_minus"),
    "divided by s, not by its square root sqrt(s) (the root-mean-square)":
        _rms_buggy(denominator="no_sqrt"),
    "the step taken with the average from before this gradient: update s first, then step":
        _rms_buggy(old_average=True),
    "a new array made (param = param - ...) instead of updating param in place (param -= ...)":
        _rms_buggy(in_place=False),
}


@part("ex05_rmsprop_step", points=2, writable=(0, 2, "param", "square_avg"))
def rmsprop_step_part(t, rmsprop_step):
    """one RMSprop step (torch.optim.RMSprop's rule)"""
    runs = [("6 steps, lr = 0.01, alpha = 0.99, eps = 1e-8, gradients from 1e-4 to 300 "
             "(p after each step, shape (6, 4))", RMS_P0, RMS_GRADS, RMS_SETTINGS),
            ("5 steps, lr = 0.05, alpha = 0.9, eps = 1e-6, on a (2, 3) matrix "
             "(p after each step, shape (5, 2, 3))", RMS_P02, RMS_GRADS2, RMS_SETTINGS2)]
    _check_adaptive(t, rmsprop_step, RMS_MISTAKES,
                    "the first step from s = 0, lr = 0.01, alpha = 0.99 (p and the returned s, "
                    "flattened: 4 + 4 numbers)", _rms_first, _rms_ref_first(), _rms_path,
                    _rms_ref_path, runs)


# ----------------------------------------------------------------------------- Adam

# Gradients of very different scales per coordinate, some so small that eps matters.
ADAM_SCALES = np.array([1.0, 1e-4, 3e-3, 20.0])
ADAM_GRADS = np.random.default_rng(4).normal(size=(5, 4)) * ADAM_SCALES
ADAM_P0 = np.array([0.5, -1.0, 2.0, 0.0])
ADAM_GRADS2 = np.random.default_rng(5).normal(size=(6, 2, 3)) * np.array([[1.0, 1e-3, 1e-5],
                                                                         [0.1, 5.0, 2e-4]])
ADAM_P02 = np.array([[1.0, -0.5, 0.25], [0.0, 2.0, -1.0]])
ADAM_SETTINGS = (0.01, (0.9, 0.999), 1e-8)
ADAM_SETTINGS2 = (0.05, (0.8, 0.99), 1e-6)


def _adam_first(step):
    """(p, m, v, t) after one step from the zero state: all flattened, t last."""
    p = ADAM_P0.copy()
    m, v, t = step(p, ADAM_GRADS[0].copy(), np.zeros(4), np.zeros(4), 0, *ADAM_SETTINGS)
    return np.concatenate([p, np.ravel(m), np.ravel(v), [float(t)]])


def _adam_path(step, p0, grads, settings):
    p = p0.copy()
    m, v, t, path = np.zeros_like(p), np.zeros_like(p), 0, []
    for g in grads:
        m, v, t = step(p, g.copy(), m, v, t, *settings)
        path.append(p.copy())
    return np.array(path)


def _adam_ref_path(p0, grads, settings):
    lr, betas, eps = settings
    return _library_path(lambda ps: Adam(ps, lr=lr, betas=betas, eps=eps), p0, grads)


def _adam_ref_first():
    lr, (b1, b2), eps = ADAM_SETTINGS
    g = ADAM_GRADS[0]
    m, v = (1 - b1) * g, (1 - b2) * g * g
    p = _adam_ref_path(ADAM_P0, ADAM_GRADS[:1], ADAM_SETTINGS)[0]
    return np.concatenate([p, m, v, [1.0]])


def _adam_buggy(bias_correction=True, t_used=1, t_returned=1, eps_in_sqrt=False,
                eps_before_correction=False, power=(True, True), betas_for=(0, 1), sqrt=True,
                return_corrected=False, in_place=True, squared=True):
    """Adam with one bug; the corrections use t + t_used, the step returns t + t_returned;
    ``power`` False for m or v corrects it with 1 - beta * t, ``betas_for`` says which beta
    corrects m and which v."""
    def step(p, g, m, v, t, lr, betas, eps):
        b1, b2 = betas
        tc, t_new = t + t_used, t + t_returned
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * (g * g if squared else g)
        bm, bv = betas[betas_for[0]], betas[betas_for[1]]
        c1 = 1 - (bm ** tc if power[0] else bm * tc) if bias_correction else 1.0
        c2 = 1 - (bv ** tc if power[1] else bv * tc) if bias_correction else 1.0
        with np.errstate(all="ignore"):  # t_before divides by 1 - beta^0 = 0
            m_hat, v_hat = m / c1, v / c2
            if eps_in_sqrt:
                denom = np.sqrt(v_hat + eps)
            elif eps_before_correction:
                denom = (np.sqrt(v) + eps) / np.sqrt(c2)
            else:
                denom = (np.sqrt(v_hat) if sqrt else v_hat) + eps
            if in_place:
                p -= lr * m_hat / denom
        return (m_hat, v_hat, t_new) if return_corrected else (m, v, t_new)
    return step


ADAM_MISTAKES = {
    "no bias correction: use m / (1 - beta1^t) and v / (1 - beta2^t)":
        _adam_buggy(bias_correction=False),
    "t starting at 0 in the bias correction (t used before it is incremented): the first step "
    "divides by 1 - beta^0 = 0": _adam_buggy(t_used=0),
    "t starting at 0 in the bias correction, and never incremented: every step divides by "
    "1 - beta^0 = 0": _adam_buggy(t_used=0, t_returned=0),
    "t never incremented (returned unchanged): every step is corrected as if it were the first":
        _adam_buggy(t_returned=0),
    "eps inside the square root, sqrt(v_hat + eps), instead of sqrt(v_hat) + eps":
        _adam_buggy(eps_in_sqrt=True),
    "eps added before the bias correction of v, (sqrt(v) + eps) / sqrt(1 - beta2^t), instead "
    "of sqrt(v_hat) + eps": _adam_buggy(eps_before_correction=True),
    "m's bias correction typed 1 - beta1 * t instead of 1 - beta1 ** t (the power t)":
        _adam_buggy(power=(False, True)),
    "v's bias correction typed 1 - beta2 * t instead of 1 - beta2 ** t (the power t)":
        _adam_buggy(power=(True, False)),
    "the bias corrections typed 1 - beta * t instead of 1 - beta ** t (the power t)":
        _adam_buggy(power=(False, False)),
    "m corrected with beta2, m / (1 - beta2^t): m's correction uses beta1":
        _adam_buggy(betas_for=(1, 1)),
    "v corrected with beta1, v / (1 - beta1^t): v's correction uses beta2":
        _adam_buggy(betas_for=(0, 0)),
    "the betas swapped in the bias corrections: m / (1 - beta1^t) and v / (1 - beta2^t)":
        _adam_buggy(betas_for=(1, 0)),
    "no square root: m_hat / (v_hat + eps) instead of m_hat / (sqrt(v_hat) + eps)":
        _adam_buggy(sqrt=False),
    "the bias-corrected m_hat and v_hat returned as the state: return the running means m and "
    "v themselves (the correction is applied afresh at every step)":
        _adam_buggy(return_corrected=True),
    "a new array made (param = param - ...) instead of updating param in place (param -= ...): "
    "the caller's parameter did not change": _adam_buggy(in_place=False),
    "v averaging the gradient instead of its square: v = beta2 v + (1 - beta2) g * g":
        _adam_buggy(squared=False),
}


@part("ex05_adam_step", points=3, writable=(0, 2, 3, "param", "m", "v"))
def adam_step_part(t, adam_step):
    """one Adam step with bias correction (torch.optim.Adam's rule)"""
    runs = [("5 steps, lr = 0.01, betas = (0.9, 0.999), eps = 1e-8, gradients from 1e-4 to 20 "
             "(p after each step, shape (5, 4))", ADAM_P0, ADAM_GRADS, ADAM_SETTINGS),
            ("6 steps, lr = 0.05, betas = (0.8, 0.99), eps = 1e-6, on a (2, 3) matrix "
             "(p after each step, shape (6, 2, 3))", ADAM_P02, ADAM_GRADS2, ADAM_SETTINGS2)]
    _check_adaptive(t, adam_step, ADAM_MISTAKES,
                    "the first step from m = v = 0, t = 0, lr = 0.01 (p, m, v and t, "
                    "flattened: 4 + 4 + 4 + 1 numbers)", _adam_first, _adam_ref_first(),
                    _adam_path, _adam_ref_path, runs)


# ----------------------------------------------------------------------------- an epoch

EPOCH_X = np.random.default_rng(6).normal(size=(50, 3))
EPOCH_Y = (EPOCH_X[:, 0] + EPOCH_X[:, 1] ** 2 > 0.8).astype(np.int64) + (EPOCH_X[:, 2] > 0.5)
EPOCH_BATCH = 16  # 50 examples: batches of 16, 16, 16 and 2


def _epoch_run(train_epoch, epochs=1, batch_size=EPOCH_BATCH, optimizer="sgd"):
    """[the losses train_epoch returned, then every weight afterwards], one flat vector."""
    model = Sequential(Linear(3, 8, rng=np.random.default_rng(7)), Tanh(),
                       Linear(8, 3, rng=np.random.default_rng(8)))
    optimizer = {"sgd": lambda p: SGD(p, lr=0.5),
                 "momentum": lambda p: SGD(p, lr=0.1, momentum=0.9),
                 "adam": lambda p: Adam(p, lr=0.05)}[optimizer](model.parameters())
    rng = np.random.default_rng(9)
    losses = [train_epoch(model, CrossEntropyLoss(), optimizer, EPOCH_X.copy(), EPOCH_Y.copy(),
                          batch_size, rng) for _ in range(epochs)]
    return np.concatenate([_as_losses(losses), _flat(p.data for p in model.parameters())])


def _as_losses(losses):
    for loss in losses:
        if not isinstance(loss, (int, float, np.number, np.ndarray)) or np.size(loss) != 1:
            raise TypeError(f"train_epoch returned {loss!r}: return the epoch's mean loss, "
                            "a float")
    return np.array([float(np.ravel(loss)[0]) for loss in losses])


def _batches_redrawn(X, y, batch_size, rng):
    """Each batch from a permutation of its own (a new rng.permutation(N) per batch)."""
    for start in range(0, len(X), batch_size):
        idx = rng.permutation(len(X))[:min(batch_size, len(X) - start)]
        yield X[idx], y[idx]


def _batches_short(X, y, batch_size, rng):
    """Each batch one example short: order[start:start + batch_size - 1]."""
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch_size):
        idx = order[start:start + batch_size - 1]
        yield X[idx], y[idx]


def _epoch_buggy(zero_grad=True, shuffle=True, drop_last=False, weighted=True, late_zero=False,
                 last_loss=False, over_n=False, redraw=False, short=False):
    def train_epoch(model, loss_fn, optimizer, X, y, batch_size, rng):
        total, count, loss = 0.0, 0, None
        batches = _batches_redrawn(X, y, batch_size, rng) if redraw else \
            _batches_short(X, y, batch_size, rng) if short else iterate_minibatches(
                X, y, batch_size, shuffle=shuffle, rng=rng if shuffle else None,
                drop_last=drop_last)
        for xb, yb in batches:
            loss = loss_fn(model(xb), yb)
            if zero_grad and not late_zero:
                optimizer.zero_grad()
            model.backward(loss_fn.backward())
            if late_zero:
                optimizer.zero_grad()
            optimizer.step()
            total += loss * (len(xb) if weighted else 1)
            count += len(xb) if weighted else 1
        return loss if last_loss else total / (len(X) if over_n else count)
    return train_epoch


EPOCH_REFERENCE = _epoch_buggy()
EPOCH_MISTAKES = {
    "forgetting optimizer.zero_grad(): gradients accumulate across batches":
        _epoch_buggy(zero_grad=False),
    "no shuffling: draw order = rng.permutation(N) once per epoch": _epoch_buggy(shuffle=False),
    "the last, partial batch dropped: every example must be used once per epoch":
        _epoch_buggy(drop_last=True),
    "the last, partial batch dropped (and the loss still divided by N): every example must be "
    "used once per epoch": _epoch_buggy(drop_last=True, over_n=True),
    "the plain mean of the batch losses: weight each batch's loss by its size":
        _epoch_buggy(weighted=False),
    "zero_grad() between backward() and step(): the step sees no gradient":
        _epoch_buggy(late_zero=True),
    "the last batch's loss returned instead of the epoch's mean": _epoch_buggy(last_loss=True),
    "a new permutation drawn for every batch: draw order = rng.permutation(N) once per epoch "
    "and take consecutive slices of it (each example exactly once)": _epoch_buggy(redraw=True),
    "each batch one example short, order[start:start + batch_size - 1]: a slice's end is "
    "excluded already, so every example must be used once per epoch":
        _epoch_buggy(short=True, over_n=True),
    "each batch one example short, order[start:start + batch_size - 1] (and the loss averaged "
    "over the examples used): every example must be used once per epoch":
        _epoch_buggy(short=True),
}
EPOCH_TESTS = [
    ("one epoch, N = 50, batch_size = 16 (batches of 16, 16, 16, 2), SGD lr = 0.5: "
     "[the loss returned, then the 59 weights]", {}),
    ("two epochs with the same rng, SGD lr = 0.1 and momentum 0.9: [the two losses, then the "
     "weights]", {"epochs": 2, "optimizer": "momentum"}),
    ("one epoch with batch_size = 7 (seven batches of 7, then 1), Adam lr = 0.05: [the loss, "
     "then the weights]", {"batch_size": 7, "optimizer": "adam"}),
]


@part("ex05_train_epoch", points=3)
def train_epoch_part(t, train_epoch):
    """one training epoch over shuffled mini-batches"""
    for name, kwargs in EPOCH_TESTS:
        t.close(name, lambda kwargs=kwargs: _epoch_run(train_epoch, **kwargs),
                _epoch_run(EPOCH_REFERENCE, **kwargs),
                mistakes=merge_same({k: _epoch_run(f, **kwargs)
                                     for k, f in EPOCH_MISTAKES.items()}))


# ----------------------------------------------------------------------------- learning rate

LR_A1 = np.array([[3.0, 1.0], [1.0, 3.0]])  # eigenvalues 2 and 4
LR_A2 = _spd([0.5, 4.0, 20.0], seed=10)
LR_A3 = _spd([0.2, 1.0, 3.0, 7.5], seed=11)


def _lr_mistakes(A):
    lam = np.linalg.eigvalsh(A)
    return {
        "1 / lambda_max: the best rate for the steepest direction, not the largest stable one":
            1 / lam[-1],
        "2 / lambda_min: the smallest eigenvalue sets the slowest direction, the largest one "
        "sets stability": 2 / lam[0],
        "2 / max(diag(A)): the diagonal entries are not the eigenvalues of a non-diagonal A":
            2 / np.max(np.diag(A)),
        "2 / trace(A): use the largest eigenvalue, not the sum": 2 / np.trace(A),
        "2 / the Frobenius norm of A (np.linalg.norm(A)): the spectral norm "
        "np.linalg.norm(A, 2) is lambda_max, the Frobenius norm is larger":
            2 / np.linalg.norm(A),
    }


def _diverges(A, lr, steps=2000):
    """Does gradient descent w <- w - lr A w blow up from a generic start?"""
    w = np.ones(len(A))
    with np.errstate(all="ignore"):
        for _ in range(steps):
            w = w - lr * (A @ w)
    return not np.linalg.norm(w) < 1.0


def _stable_edge(max_stable_lr):
    lr = float(max_stable_lr(LR_A3.copy()))
    below, above = _diverges(LR_A3, 0.99 * lr), _diverges(LR_A3, 1.01 * lr)
    assert not below, f"gradient descent with 0.99 x your rate ({0.99 * lr:.4g}) diverges"
    assert above, f"gradient descent with 1.01 x your rate ({1.01 * lr:.4g}) still converges"
    return True


@part("ex05_max_stable_lr", points=1)
def max_stable_lr_part(t, max_stable_lr):
    """the largest stable learning rate of a quadratic, 2 / lambda_max"""
    for A, what in [(LR_A1, "A = [[3, 1], [1, 3]] (eigenvalues 2 and 4)"),
                    (LR_A2, "a non-diagonal 3x3 A with eigenvalues 0.5, 4 and 20")]:
        t.close(what, lambda A=A: max_stable_lr(A.copy()), 2 / np.linalg.eigvalsh(A)[-1],
                mistakes=merge_same(_lr_mistakes(A)))
    t.true("it is the edge: 0.99 x it converges and 1.01 x it diverges (a 4x4 A)",
           lambda: _stable_edge(max_stable_lr), "not the edge of stability")


# ----------------------------------------------------------------------------- a schedule

COS_CASES = [(1.0, 10, 0.05), (0.3, 7, 0.01)]   # (base_lr, T_max, eta_min)


def _cos_rates(cosine_lr, base_lr, T_max, eta_min):
    """The learning rate of every epoch 0 .. T_max, as one array."""
    return np.array([float(cosine_lr(e, base_lr, T_max, eta_min)) for e in range(T_max + 1)])


def _cos_ref(epoch, base_lr, T_max, eta_min=0.0):
    return CosineAnnealingLR(SGD([Parameter(np.zeros(1))], lr=base_lr), T_max,
                             eta_min).lr_at(epoch)


def _cos_buggy(half=0.5, one=1.0, angle=np.pi, use_min=True, swap=False, T_shift=0, e_shift=0):
    def cosine_lr(epoch, base_lr, T_max, eta_min=0.0):
        top, low = (eta_min, base_lr) if swap else (base_lr, eta_min if use_min else 0.0)
        return low + (top - low) * half * (one + np.cos(angle * (epoch + e_shift) /
                                                        (T_max + T_shift)))
    return cosine_lr


COS_MISTAKES = {
    "the factor 1/2 left out, (1 + cos) instead of (1 + cos) / 2: the schedule starts at "
    "twice the rate": _cos_buggy(half=1.0),
    "cos(pi e / T_max) without the 1 + ...: the rate goes below eta_min, negative":
        _cos_buggy(one=0.0, half=1.0),
    "no pi in the angle, cos(e / T_max): the cosine must go from 0 to pi over T_max epochs":
        _cos_buggy(angle=1.0),
    "eta_min ignored: the schedule must end at eta_min, not at 0": _cos_buggy(use_min=False),
    "base_lr and eta_min swapped: the rate rises instead of falling": _cos_buggy(swap=True),
    "T_max - 1 in the denominator: the rate reaches eta_min one epoch early":
        _cos_buggy(T_shift=-1),
    "the epoch counted from 1: at epoch 0 the rate must be base_lr": _cos_buggy(e_shift=1),
}


@part("ex05_cosine_lr", points=1)
def cosine_lr_part(t, cosine_lr):
    """the learning rate of a cosine schedule (CosineAnnealingLR's formula)"""
    for base_lr, T_max, eta_min in COS_CASES:
        t.close(f"base_lr = {base_lr}, T_max = {T_max}, eta_min = {eta_min} "
                f"(the rate at epochs 0 .. {T_max}, shape ({T_max + 1},))",
                lambda a=(base_lr, T_max, eta_min): _cos_rates(cosine_lr, *a),
                _cos_rates(_cos_ref, base_lr, T_max, eta_min),
                mistakes=merge_same({k: _cos_rates(f, base_lr, T_max, eta_min)
                                     for k, f in COS_MISTAKES.items()}))


# ----------------------------------------------------------------------------- power iteration

EIG_A1 = _spd([5.0, 2.0, 0.5, 0.1], seed=20)                     # a clear gap: fast
EIG_A2 = _rotation(3, seed=21) @ np.diag([-6.0, 3.0, 1.0]) @ _rotation(3, seed=21).T
EIG_A2 = (EIG_A2 + EIG_A2.T) / 2                                  # the largest |lambda| < 0
EIG_A3 = _spd([3.0, 2.5, 1.0], seed=23)                           # slow: every product shows
EIG_V0 = np.array([1.0, 2.0, -1.0])
EIG_CASES = [  # (matrix, v0, iters, description)
    (EIG_A1, np.ones(4), 200, "a 4x4 A with eigenvalues 5, 2, 0.5, 0.1, 200 products"),
    (EIG_A2, np.ones(3), 200, "a 3x3 A with eigenvalues -6, 3, 1 (the largest in size is "
                              "negative), 200 products"),
    (EIG_A3, 5 * EIG_V0, 3, "a 3x3 A with eigenvalues 3, 2.5, 1 from v0 = 5 * (1, 2, -1), "
                            "exactly 3 products (not converged yet)"),
]


def _eig_ref(matvec, v0, iters):
    return power_iteration(matvec, v0, iters=iters, tol=-1.0).eigenvalue


def _eig_buggy(norm_estimate=False, normalise=True, extra=0):
    def top_eigenvalue(matvec, v0, iters):
        v = np.array(v0, dtype=float) / np.linalg.norm(v0)
        lam = np.nan
        with np.errstate(all="ignore"):
            for _ in range(iters + extra):
                w = matvec(v)
                lam = np.linalg.norm(w) if norm_estimate else v @ w
                v = w / np.linalg.norm(w) if normalise else w
        return float(lam)
    return top_eigenvalue


# Each mistake fails the tests that can see it: the sign only shows when the largest
# eigenvalue in size is negative, a product too many or too few only before convergence.
EIG_MISTAKES = {
    "||A v|| as the estimate instead of v . A v: it has no sign, and it is |lambda| only "
    "once v is an eigenvector":
        _eig_buggy(norm_estimate=True),
    "v not normalised after each product: v = w / ||w||, or v . A v is not the eigenvalue":
        _eig_buggy(normalise=False),
    "one product too many: exactly iters products, the estimate from the last one":
        _eig_buggy(extra=1),
    "one product too few: exactly iters products, the estimate from the last one":
        _eig_buggy(extra=-1),
}


class _Counted:
    """A matvec that counts its calls and checks what it is given."""

    def __init__(self, A):
        self.A, self.calls = A, 0

    def __call__(self, v):
        self.calls += 1
        v = np.asarray(v, dtype=float)
        assert v.shape == (len(self.A),), (f"matvec got an array of shape {v.shape}; pass "
                                           f"the vector v, shape ({len(self.A)},)")
        return self.A @ v


def _eig_answer(top_eigenvalue, A, v0, iters):
    return float(top_eigenvalue(_Counted(A), v0.copy(), iters))


def _calls(top_eigenvalue, iters=7):
    counted = _Counted(EIG_A3)
    top_eigenvalue(counted, EIG_V0.copy(), iters)
    return counted.calls


@part("ex05_top_eigenvalue", points=2)
def top_eigenvalue_part(t, top_eigenvalue):
    """the largest eigenvalue by power iteration, from matrix-vector products only"""
    for A, v0, iters, what in EIG_CASES:
        expected = _eig_ref(lambda v, A=A: A @ v, v0, iters)
        with np.errstate(all="ignore"):
            mistakes = {k: _eig_answer(f, A, v0, iters) for k, f in EIG_MISTAKES.items()}
        t.close(what, lambda A=A, v0=v0, iters=iters: _eig_answer(top_eigenvalue, A, v0, iters),
                expected, mistakes=merge_same(without_answer(mistakes, expected, rtol=1e-6)),
                rtol=1e-6)
    t.equal("iters = 7 calls matvec exactly 7 times", lambda: _calls(top_eigenvalue), 7,
            mistakes=merge_same(without_answer({k: _calls(f) for k, f in EIG_MISTAKES.items()},
                                               7)))
