"""Parts of exercise 06 (vanishing and exploding gradients): Xavier and He initialisation,
gradient clipping by the joint norm, per-layer gradient norms, the vanishing factor of a sigmoid
chain, and activation statistics (saturated and dead units).

Random initialisers are checked by statistics of large draws (shape, second moment relative to
the target variance, and the bound or the kurtosis), with tolerances many standard errors wide,
so any correct way of drawing passes while each named mistake, which moves a statistic by 20 %
or more, fails. Every other part has exact references from the library (``optim.clip_grad_norm``,
``diagnostics.gradient_norms``, ``diagnostics.Monitor``) or from the formula.
"""

import math

import numpy as np

from ...diagnostics import Monitor, gradient_norms
from ...layers import Linear, ReLU, Sequential, Sigmoid, Tanh
from ...losses import CrossEntropyLoss, MSELoss
from ...optim import clip_grad_norm
from ..compare import merge_same
from ..guard import uses_rng
from ..registry import part


# ----------------------------------------------------------------------------- initialisers


def _weight(init, fan_in, fan_out, seed):
    W = np.asarray(uses_rng(lambda rng: init(fan_in, fan_out, rng), seed, seed + 100),
                   dtype=float)
    if W.ndim != 2:
        raise ValueError(f"expected a 2-D weight of shape (fan_in, fan_out) = "
                         f"({fan_in}, {fan_out}), got shape {W.shape}")
    return W


def _xavier_stats(W, fan_in, fan_out):
    """[rows, cols, mean(W^2) / Var_target, max|W| / a]: [fan_in, fan_out, 1, 1] when right."""
    var, bound = 2 / (fan_in + fan_out), math.sqrt(6 / (fan_in + fan_out))
    return np.array([*W.shape, np.mean(W * W) / var, np.abs(W).max() / bound])


def _he_stats(W, fan_in, fan_out):
    """[rows, cols, mean(W^2) / (2/fan_in), kurtosis / 3]: [fan_in, fan_out, 1, 1] when right."""
    second = np.mean(W * W)
    return np.array([*W.shape, second / (2 / fan_in), np.mean(W ** 4) / second ** 2 / 3])


XAVIER_SHAPES = [(400, 100), (30, 600)]  # unequal fans: swapping them changes the shape
HE_SHAPES = [(800, 200), (150, 1000)]  # ~150 000 draws: the kurtosis is known to 1 %
INIT_RTOL = 0.03  # the statistics' standard errors are below 0.5 % (1.2 % for the kurtosis)


def _xavier_normal(fan_in, fan_out, rng):
    return rng.normal(0.0, math.sqrt(2 / (fan_in + fan_out)), size=(fan_in, fan_out))


def _xavier_unparenthesised(fan_in, fan_out, rng):
    a = math.sqrt(6 / fan_in + fan_out)
    return rng.uniform(-a, a, size=(fan_in, fan_out))


def _xavier_mistakes(fan_in, fan_out, seed):
    s = fan_in + fan_out
    return {
        "a normal distribution (Xavier normal, rng.normal) instead of a uniform one: the right "
        "variance, but no bound": _xavier_stats(_weight(_xavier_normal, fan_in, fan_out, seed),
                                                fan_in, fan_out),
        "sqrt(6 / fan_in + fan_out): the parentheses around (fan_in + fan_out) are missing":
            _xavier_stats(_weight(_xavier_unparenthesised, fan_in, fan_out, seed), fan_in,
                          fan_out),
        "fan_in and fan_out swapped: the weight has shape (fan_in, fan_out), like Linear's W "
        "in x @ W": [fan_out, fan_in, 1, 1],
        "the standard deviation sqrt(2/(fan_in+fan_out)) used as the bound a (std and bound "
        "confused; a = sqrt(6/(fan_in+fan_out)) = sqrt(3) * std)": [fan_in, fan_out, 1 / 3,
                                                                      1 / math.sqrt(3)],
        "the bound without its square root, a = 6/(fan_in+fan_out) (variance and std confused)":
            [fan_in, fan_out, 6 / s, math.sqrt(6 / s)],
        "He's bound sqrt(6/fan_in) instead of Xavier's sqrt(6/(fan_in+fan_out))":
            [fan_in, fan_out, s / fan_in, math.sqrt(s / fan_in)],
    }


def _he_mistakes(fan_in, fan_out):
    return {
        "fan_in and fan_out swapped (shape (fan_out, fan_in) and variance 2/fan_out)":
            [fan_out, fan_in, fan_in / fan_out, 1],
        "fan_in and fan_out swapped in the shape: the weight has shape (fan_in, fan_out), "
        "like Linear's W in x @ W": [fan_out, fan_in, 1, 1],
        "the variance 2/fan_out: He uses the fan-in, Var(w) = 2/fan_in": [fan_in, fan_out,
                                                                           fan_in / fan_out, 1],
        "the variance 2/fan_in used as the standard deviation (std and variance confused)":
            [fan_in, fan_out, 2 / fan_in, 1],
        "the factor 2 of He missing: std sqrt(1/fan_in) (that is LeCun's initialisation)":
            [fan_in, fan_out, 0.5, 1],
        "Xavier's variance 2/(fan_in+fan_out) instead of He's 2/fan_in":
            [fan_in, fan_out, fan_in / (fan_in + fan_out), 1],
        "a uniform distribution with the right variance instead of a normal one":
            [fan_in, fan_out, 1, 0.6],
        "sqrt(2) / fan_in instead of sqrt(2 / fan_in) as the standard deviation":
            [fan_in, fan_out, 1 / fan_in, 1],
    }


@part("ex06_xavier_uniform", points=2)
def xavier_uniform_part(t, xavier_uniform):
    """Xavier/Glorot uniform initialisation"""
    for seed, (fan_in, fan_out) in enumerate(XAVIER_SHAPES):
        t.close(f"fan_in = {fan_in}, fan_out = {fan_out}: [rows, cols, mean(W^2) / "
                f"(2/(fan_in+fan_out)), max|W| / sqrt(6/(fan_in+fan_out))]",
                lambda f=(fan_in, fan_out), seed=seed: _xavier_stats(
                    _weight(xavier_uniform, *f, seed), *f),
                np.array([fan_in, fan_out, 1.0, 1.0]), rtol=INIT_RTOL, atol=0.0,
                mistakes=_xavier_mistakes(fan_in, fan_out, seed))


@part("ex06_he_normal", points=2)
def he_normal_part(t, he_normal):
    """He/Kaiming normal initialisation"""
    for seed, (fan_in, fan_out) in enumerate(HE_SHAPES):
        t.close(f"fan_in = {fan_in}, fan_out = {fan_out}: [rows, cols, mean(W^2) / (2/fan_in), "
                f"kurtosis / 3 (1 for a normal distribution)]",
                lambda f=(fan_in, fan_out), seed=seed: _he_stats(_weight(he_normal, *f, seed),
                                                                 *f),
                np.array([fan_in, fan_out, 1.0, 1.0]), rtol=INIT_RTOL, atol=0.0,
                mistakes=_he_mistakes(fan_in, fan_out))


# ----------------------------------------------------------------------------- clipping


def _grads(norms, shapes, seed):
    """Arrays of the given shapes and exact norms (a norm of 0 gives zeros)."""
    rng = np.random.default_rng(seed)
    out = []
    for norm, shape in zip(norms, shapes):
        g = rng.normal(size=shape)
        out.append(g * (norm / np.linalg.norm(g)))
    return out


CLIP_CASES = [
    # (name, [(gradients, max_norm), ...]): each case's result is [norm returned, clipped grads]
    ("three gradients of norms 3, 4 and 12 (joint norm 13), max_norm = 5; then norms 1, 2 "
     "and 2 (joint norm 3, nothing to clip)",
     [(_grads([3.0, 4.0, 12.0], [(2, 3), (3,), (4, 2)], seed=0), 5.0),
      (_grads([1.0, 2.0, 2.0], [(2, 3), (3,), (4, 2)], seed=3), 5.0)]),
    ("norms 3 and 4 (each below max_norm = 4.5, jointly 5); then the same two scaled to a "
     "joint norm of 2.5 (nothing to clip)",
     [(_grads([3.0, 4.0], [(3, 2), (2,)], seed=1), 4.5),
      (_grads([1.5, 2.0], [(3, 2), (2,)], seed=1), 4.5)]),
    ("an exploding gradient (norm 1000), a zero gradient and a small one, max_norm = 1; then "
     "the zero and the small one alone (norm 0.5)",
     [(_grads([1000.0, 0.0, 0.5], [(4, 4), (4,), (3,)], seed=2), 1.0),
      (_grads([0.0, 0.5], [(4,), (3,)], seed=2), 1.0)]),
]


def _clip_case(clip, cases):
    """For each (grads, max_norm): [the returned norm, then every gradient after the call]."""
    parts = []
    for grads, max_norm in cases:
        work = [g.copy() for g in grads]
        total = clip(list(work), max_norm)
        if total is None:
            raise TypeError("clip_grad_norm returned None: return the total norm before "
                            "clipping, a float")
        parts += [np.ravel(np.asarray(total, dtype=float)), *[g.ravel() for g in work]]
    return np.concatenate(parts)


class _Grad:
    def __init__(self, g):
        self.grad = g


def _clip_ref(grads, max_norm):
    return clip_grad_norm([_Grad(g) for g in grads], max_norm)


def _clip_buggy(per_tensor=False, return_after=False, in_place=True, always=False,
                squared=False, return_sum=False, summed=False):
    def clip(grads, max_norm):
        norms = [float(np.sqrt(np.sum(g * g))) for g in grads]
        total = sum(norms) if summed else math.sqrt(sum(n * n for n in norms))
        if per_tensor:
            for g, n in zip(grads, norms):
                if n > max_norm:
                    g *= max_norm / n
            return sum(norms) if return_sum else total
        measured = total * total if squared else total
        coef = max_norm / (measured + 1e-6)
        if coef < 1 or always:
            for i, g in enumerate(grads):
                if in_place:
                    g *= coef
                else:
                    grads[i] = g * coef
        return max_norm if return_after and coef < 1 else measured
    return clip


CLIP_MISTAKES = {
    "clipping each gradient separately instead of by the joint norm":
        _clip_buggy(per_tensor=True),
    "clipping each gradient separately instead of by the joint norm (and returning the sum "
    "of the separate norms)": _clip_buggy(per_tensor=True, return_sum=True),
    "the norm after clipping returned: return the total norm before clipping":
        _clip_buggy(return_after=True),
    "the gradients not changed in place (g = g * coef makes a new array): scale them in "
    "place, g *= coef, as torch's clip_grad_norm_ does": _clip_buggy(in_place=False),
    "gradients scaled up to max_norm when their norm is below it: only clip when the norm "
    "exceeds max_norm": _clip_buggy(always=True),
    "the squared norm (no square root) used as the norm": _clip_buggy(squared=True),
    "the sum of the gradients' norms used as their joint norm (the joint norm is the square "
    "root of the sum of their SQUARED norms)": _clip_buggy(summed=True),
}


@part("ex06_clip_grad_norm", points=2, writable=(0, "grads"))
def clip_grad_norm_part(t, clip_grad_norm):
    """gradient clipping by the joint norm (torch.nn.utils.clip_grad_norm_)"""
    for name, cases in CLIP_CASES:
        t.close(f"{name}: [the norm returned, then the gradients after the call]",
                lambda cases=cases: _clip_case(clip_grad_norm, cases),
                _clip_case(_clip_ref, cases), rtol=1e-6, atol=1e-9,
                mistakes=merge_same({k: _clip_case(f, cases) for k, f in CLIP_MISTAKES.items()}))


# ----------------------------------------------------------------------------- grad norms


def _deep_sigmoid():
    widths = [4, 12, 10, 12, 10, 12, 10, 3]
    layers = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        layers.append(Linear(a, b, rng=np.random.default_rng(20 + i)))
        if i < len(widths) - 2:
            layers.append(Sigmoid())
    return Sequential(*layers)


def _tanh_net():
    return Sequential(Linear(3, 9, init="xavier_uniform", rng=np.random.default_rng(30)),
                      Tanh(), Linear(9, 7, init="xavier_uniform", rng=np.random.default_rng(31)),
                      Tanh(), Linear(7, 5, rng=np.random.default_rng(32)), Tanh(),
                      Linear(5, 2, rng=np.random.default_rng(33)))


_data = np.random.default_rng(40)
NORMS_CASES = [
    ("a 7-layer sigmoid network, cross-entropy on a (30, 4) batch", _deep_sigmoid, CrossEntropyLoss,
     _data.normal(size=(30, 4)), _data.integers(0, 3, size=30), _data.normal(size=(30, 4)),
     _data.integers(0, 3, size=30)),
    ("a 4-layer tanh network, MSE on a (25, 3) batch", _tanh_net, MSELoss,
     _data.normal(size=(25, 3)), _data.normal(size=(25, 2)), _data.normal(size=(25, 3)),
     _data.normal(size=(25, 2))),
]


def _stale(make, loss_cls, x_old, y_old):
    """A model whose .grad already holds the gradient of an earlier batch."""
    model, loss_fn = make(), loss_cls()
    loss_fn(model(x_old), y_old)
    model.backward(loss_fn.backward())
    return model


def _norms_run(fn, make, loss_cls, x, y, x_old, y_old):
    return fn(_stale(make, loss_cls, x_old, y_old), loss_cls(), x.copy(), y.copy())


def _norms_ref(model, loss_fn, x, y):
    return list(gradient_norms(model, loss_fn, x, y).values())


def _linears(model):
    return [m for m in model.modules() if isinstance(m, Linear)]


def _norms_buggy(zero=True, reverse=False, weights=False, with_bias=False, per_param=False,
                 squared=False, spectral=False):
    def layer_grad_norms(model, loss_fn, X, y):
        if zero:
            model.zero_grad()
        loss_fn(model(X), y)
        model.backward(loss_fn.backward())
        out = []
        for layer in _linears(model):
            W, b = layer.W, layer.b
            if per_param:
                out += [np.linalg.norm(W.grad), np.linalg.norm(b.grad)]
            elif with_bias:
                out.append(math.sqrt(np.sum(W.grad ** 2) + np.sum(b.grad ** 2)))
            else:
                value = W.data if weights else W.grad
                out.append(np.sum(value ** 2) if squared else
                           np.linalg.norm(value, 2 if spectral else None))
        return out[::-1] if reverse else out
    return layer_grad_norms


NORMS_MISTAKES = {
    "the gradients of the earlier batch still in .grad: call model.zero_grad() before the "
    "backward pass (gradients accumulate)": _norms_buggy(zero=False),
    "the norms in backward order (last layer first): list them from the first Linear layer "
    "to the last": _norms_buggy(reverse=True),
    "the norm of the weights W instead of their gradient dW": _norms_buggy(weights=True),
    "the bias gradient included: the norm of dW alone": _norms_buggy(with_bias=True),
    "one norm per parameter (W and b): one per Linear layer, of dW": _norms_buggy(per_param=True),
    "the squared norm, no square root": _norms_buggy(squared=True),
    "the spectral norm np.linalg.norm(dW, 2) (the largest singular value) instead of the "
    "Frobenius norm np.linalg.norm(dW)": _norms_buggy(spectral=True),
}


@part("ex06_layer_grad_norms", points=2)
def layer_grad_norms_part(t, layer_grad_norms):
    """per-layer gradient norms ||dW|| after one forward and backward pass"""
    for name, *case in NORMS_CASES:
        n = len(_linears(case[0]()))
        t.close(f"{name}, holding the gradients of an earlier batch ({n} norms, first layer "
                f"first)", lambda case=case: _norms_run(layer_grad_norms, *case),
                _norms_run(_norms_ref, *case),
                mistakes=merge_same({k: _norms_run(f, *case)
                                     for k, f in NORMS_MISTAKES.items()}))


# ----------------------------------------------------------------------------- chain


def _chain_ref(x0, w, L, prime="output", with_w=True, reverse=False, shift=False, tanh=False):
    """g[l] = d x_L / d x_l for x_l = sigma(w x_{l-1}), l = 1..L; shape (L + 1,)."""
    xs, zs = [float(x0)], []
    for _ in range(L):
        zs.append(w * xs[-1])
        xs.append(math.tanh(zs[-1]) if tanh else 1 / (1 + math.exp(-zs[-1])))
    g = np.ones(L + 1)
    for l in range(L, 0, -1):
        if prime == "input":
            d = zs[l - 1] * (1 - zs[l - 1])
        elif shift:
            d = xs[l - 1] * (1 - xs[l - 1])
        elif tanh:
            d = 1 - xs[l] ** 2
        else:
            d = xs[l] * (1 - xs[l])
        g[l - 1] = g[l] * d * (w if with_w else 1.0)
    return g[::-1].copy() if reverse else g


CHAIN_CASES = [(1.0, 1.5, 5), (-0.5, 3.0, 12), (0.3, -2.0, 20)]
CHAIN_MISTAKES = {
    "sigma' computed from the pre-activation, z (1 - z), instead of from the output, "
    "x_l (1 - x_l)": {"prime": "input"},
    "the weight w left out of each factor (only the product of the sigma' terms)":
        {"with_w": False},
    "the gradients listed in reverse: g[0] is dx_L/dx_0 and g[L] = 1": {"reverse": True},
    "sigma' taken at the layer's input x_(l-1) instead of its output x_l": {"shift": True},
    "tanh instead of the sigmoid: x_l = sigmoid(w x_(l-1)), sigma' = x_l (1 - x_l)":
        {"tanh": True},
}


@part("ex06_chain_gradients", points=2)
def chain_gradients_part(t, chain_gradients):
    """the vanishing factor: gradients along a chain of sigmoid units"""
    for x0, w, L in CHAIN_CASES:
        bound = (abs(w) / 4) ** L
        t.close(f"x0 = {x0}, w = {w}, L = {L} (shape ({L + 1},); |g[0]| <= (|w|/4)^L = "
                f"{bound:.2g})", lambda c=(x0, w, L): chain_gradients(*c),
                _chain_ref(x0, w, L), atol=0.0,
                mistakes=merge_same({k: _chain_ref(x0, w, L, **kw)
                                     for k, kw in CHAIN_MISTAKES.items()}))


# ----------------------------------------------------------------------------- statistics


def _set(layer, W, b):
    layer.W.data[...] = W
    layer.b.data[...] = b
    return layer


def _stats_net_a():
    rng = np.random.default_rng(50)
    l1 = _set(Linear(4, 12), rng.normal(size=(4, 12)) * 2.5, rng.normal(size=12))
    b2 = rng.normal(size=10) * 0.5
    b2[:4] = -8.0  # four units far below zero for every input: dead ReLUs
    l2 = _set(Linear(12, 10), rng.normal(size=(12, 10)) * 0.4, b2)
    l3 = _set(Linear(10, 6), rng.normal(size=(10, 6)) * 1.5, rng.normal(size=6) * 3)
    return Sequential(l1, Tanh(), l2, ReLU(), l3, Sigmoid())


def _stats_net_b():
    rng = np.random.default_rng(51)
    l1 = _set(Linear(3, 8), rng.normal(size=(3, 8)) * 3, rng.normal(size=8) * 2)
    b2 = rng.normal(size=8) * 0.3
    b2[[1, 5]] = -20.0
    l2 = _set(Linear(8, 8), rng.normal(size=(8, 8)) * 0.5, b2)
    l3 = _set(Linear(8, 7), rng.normal(size=(8, 7)) * 2.0, rng.normal(size=7))
    b4 = rng.normal(size=5) * 0.2
    b4[0] = -30.0
    l4 = _set(Linear(7, 5), rng.normal(size=(7, 5)) * 0.3, b4)
    return Sequential(l1, Sigmoid(), l2, ReLU(), l3, Tanh(), l4, ReLU())


_sdata = np.random.default_rng(52)
STATS_CASES = [
    ("Linear, Tanh, Linear, ReLU, Linear, Sigmoid on a (40, 4) batch", _stats_net_a,
     _sdata.normal(size=(40, 4))),
    ("Linear, Sigmoid, Linear, ReLU, Linear, Tanh, Linear, ReLU on a (30, 3) batch",
     _stats_net_b, _sdata.normal(size=(30, 3))),
]


def _stats_ref(model, X):
    """From backproplab.diagnostics.Monitor: saturated for Sigmoid/Tanh, dead for ReLU."""
    monitor = Monitor(model).measure(MSELoss(), X, np.zeros((len(X), model[-2].out_features)))
    out = []
    for name, layer in monitor.layers:
        if isinstance(layer, (Sigmoid, Tanh)):
            out.append(monitor.records[name]["saturated"][-1])
        elif isinstance(layer, ReLU):
            out.append(monitor.records[name]["dead"][-1])
    return out


def _stats_buggy(dead="unit", sigmoid_tails=2, tanh_abs=True, pre=False, count=False):
    def activation_stats(model, X):
        out, A = [], X
        for layer in model.layers:
            Z, A = A, layer(A)
            S = Z if pre else A
            if isinstance(layer, Sigmoid):
                mask = S > 0.99 if sigmoid_tails == 1 else (S < 0.01) | (S > 0.99)
                out.append(float(np.mean(mask)))
            elif isinstance(layer, Tanh):
                out.append(float(np.mean((np.abs(S) if tanh_abs else S) > 0.995)))
            elif isinstance(layer, ReLU):
                if dead == "entry":
                    out.append(float(np.mean(S <= 0)))
                elif dead == "row":
                    out.append(float(np.mean(np.all(S <= 0, axis=1))))
                else:
                    units = np.all(S <= 0, axis=0)
                    out.append(float(np.sum(units) if count else np.mean(units)))
        return out
    return activation_stats


STATS_MISTAKES = {
    "dead ReLUs counted per entry (the fraction of zeros) instead of per unit (a unit is dead "
    "when it outputs 0 for every example)": _stats_buggy(dead="entry"),
    "dead ReLUs counted per example (rows) instead of per unit (columns, all examples 0)":
        _stats_buggy(dead="row"),
    "sigmoid saturation counted in one tail only: outputs below 0.01 are saturated too":
        _stats_buggy(sigmoid_tails=1),
    "tanh saturation without the absolute value: outputs below -0.995 are saturated too":
        _stats_buggy(tanh_abs=False),
    "the statistics of each activation layer's input (the pre-activations Z) instead of its "
    "output": _stats_buggy(pre=True),
    "the number of dead units instead of their fraction (divide by the number of units)":
        _stats_buggy(count=True),
}


@part("ex06_activation_stats", points=2)
def activation_stats_part(t, activation_stats):
    """activation statistics: saturated sigmoid/tanh outputs and dead ReLUs"""
    for name, make, X in STATS_CASES:
        t.close(f"{name}: one fraction per activation layer, in order",
                lambda make=make, X=X: activation_stats(make(), X.copy()),
                _stats_ref(make(), X),
                mistakes=merge_same({k: f(make(), X) for k, f in STATS_MISTAKES.items()}))


# ----------------------------------------------------------------------------- batch norm


BN_LABELS = ("outputs", "running_mean", "running_var")


def _bn_ref(x, gamma, beta, running_mean, running_var, training, momentum=0.1, eps=1e-5,
            bug=None):
    """BatchNorm1d's forward pass as a function (PyTorch's rule, as backproplab.BatchNorm1d):
    (out, new running_mean, new running_var). ``bug`` names one mistake of BN_MISTAKES."""
    n = x.shape[0]
    if training or bug == "batch statistics in eval":
        mean, var = x.mean(axis=0), x.var(axis=0)
        if bug == "unbiased to normalise":
            var = x.var(axis=0, ddof=1)
    else:
        mean, var = running_mean, running_var
    if bug == "eps outside":
        x_hat = (x - mean) / (np.sqrt(var) + eps)
    elif bug == "no eps":
        x_hat = (x - mean) / np.sqrt(var)
    else:
        x_hat = (x - mean) / np.sqrt(var + eps)
    out = x_hat if bug == "no gamma, beta" else gamma * x_hat + beta
    if (training and bug != "no update") or bug == "update in eval":
        batch_var = {"biased running": x.var(axis=0),
                     "std running": x.std(axis=0, ddof=1)}.get(bug, x.var(axis=0, ddof=1))
        m = 1 - momentum if bug == "momentum swapped" else momentum
        running_mean = (1 - m) * running_mean + m * x.mean(axis=0)
        running_var = (1 - m) * running_var + m * batch_var
    return out, running_mean, running_var


BN_MISTAKES = {
    "batch statistics in eval": "evaluation mode normalised with the batch's own mean and "
    "variance: in eval mode use running_mean and running_var",
    "unbiased to normalise": "the unbiased variance (divided by N - 1) used to normalise in "
    "training mode: normalise with the biased one (divided by N), store the unbiased one",
    "biased running": "the biased variance (divided by N) stored in running_var: PyTorch "
    "stores the unbiased one, N / (N - 1) times larger",
    "momentum swapped": "momentum the wrong way round: the new batch's statistics get the "
    "weight momentum, running = (1 - momentum) * running + momentum * batch",
    "no update": "the running statistics not updated in training mode",
    "update in eval": "the running statistics updated in evaluation mode too: there they are "
    "only read",
    "eps outside": "eps added outside the square root: divide by sqrt(var + eps)",
    "no eps": "eps left out: divide by sqrt(var + eps), or a unit whose variance is tiny "
    "blows up",
    "std running": "the standard deviation stored in running_var instead of the variance",
    "no gamma, beta": "the scale gamma and the shift beta not applied: out = gamma * x_hat + "
    "beta",
}

_bn_data = np.random.default_rng(60)
BN_SCALE = np.array([1.0, 3.0, 0.5, 0.006])  # the last unit's variance ~4e-5 makes eps count
BN_GAMMA, BN_BETA = np.array([1.5, 0.5, -1.0, 2.0]), np.array([0.1, -0.3, 0.0, 1.0])
BN_START = (np.array([0.5, -1.0, 0.2, 2.0]), np.array([2.0, 0.5, 1.5, 3e-5]))  # running stats
BN_BATCHES = [_bn_data.normal(size=(n, 4)) * BN_SCALE + np.array([2.0, -1.0, 0.0, 1.99])
              for n in (6, 3, 8, 5, 2, 4, 7)]

# (name, [(batch index, training), ...]): the running statistics are passed from call to
# call; a test compares every call's output (stacked) and the final running statistics
BN_CASES = [
    ("a (6, 4) batch in training mode, then a (3, 4) batch in evaluation mode",
     [(0, True), (1, False)]),
    ("two training steps on (8, 4) and (5, 4) batches, then evaluation on a (2, 4) batch",
     [(2, True), (3, True), (4, False)]),
    ("evaluation on a (4, 4) batch with the given statistics, then a (7, 4) batch in training "
     "mode, then the (4, 4) batch in evaluation mode again", [(5, False), (6, True), (5, False)]),
]


def _bn_run(fn, steps):
    """(every call's output stacked, the final running_mean, the final running_var)."""
    mean, var = (a.copy() for a in BN_START)
    outs = []
    for index, training in steps:
        out, mean, var = fn(BN_BATCHES[index].copy(), BN_GAMMA.copy(), BN_BETA.copy(),
                            np.array(mean, dtype=float), np.array(var, dtype=float),
                            training)
        outs.append(np.asarray(out, dtype=float))
    return np.vstack(outs), mean, var


def _bn_mistakes(steps, expected):
    """{description: {label: the buggy array}} for the labels each bug gets wrong here."""
    mistakes = {}
    for bug, description in BN_MISTAKES.items():
        buggy = dict(zip(BN_LABELS, _bn_run(lambda *a, bug=bug: _bn_ref(*a, bug=bug), steps)))
        mistakes[description] = {label: value for label, value in buggy.items()
                                 if not np.allclose(value, expected[label])}
    return mistakes


@part("ex06_batchnorm_forward", points=3)
def batchnorm_forward_part(t, batchnorm_forward):
    """batch normalisation in training and evaluation mode, with running statistics"""
    for name, steps in BN_CASES:
        expected = dict(zip(BN_LABELS, _bn_run(_bn_ref, steps)))
        t.close_all(f"{name}: (outputs, running_mean, running_var)",
                    lambda steps=steps: _bn_run(batchnorm_forward, steps), expected,
                    mistakes=_bn_mistakes(steps, expected),
                    hint="not the expected outputs and running statistics")
