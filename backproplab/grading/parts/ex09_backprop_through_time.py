"""Parts of exercise 09 (backpropagation through time): one recurrent step forward and
backward, BPTT over a sequence, the gradient norm per time step, and gradient clipping of the
gradient that BPTT sums over time.

The recurrence is ``h_t = tanh(x_t @ W_ih + h_(t-1) @ W_hh + b)`` (``backproplab.RNN``), batch
first: x (N, T, D), hidden states h (N, T, H). The expected answers come from the library
(``RNN.forward``/``backward``, ``optim.clip_grad_norm``) or from the formula. Each likely bug
is a buggy twin of the reference, so its answer is computed, not guessed; on a test where two
bugs give the same array, the message names both. Every case is chosen so that each named
bug changes the answer there, and inputs reach the student's code as fresh copies.
"""

import numpy as np

from ...optim import clip_grad_norm
from ...recurrent import RNN
from ..compare import merge_same, without_answer
from ..registry import part

_RNG = np.random.default_rng(909)  # every fixed input below, drawn once at import


def _normal(*shape, scale=1.0):
    return _RNG.normal(scale=scale, size=shape)


def _weights(d, h, scale=0.5):
    return _normal(d, h, scale=scale), _normal(h, h, scale=scale), _normal(h, scale=0.2)


def _merge(mistakes, right):
    """Mistakes with one answer each: the same answer named together, the right one left out."""
    return merge_same(without_answer(mistakes, right))


def _per_label(expected, mistakes):
    """``mistakes`` ({description: {label: array}}) regrouped label by label, as :func:`_merge`
    does for one answer: the bugs that give the same array for a label are named together,
    and those that give the right array there are left out."""
    regrouped = {}
    for label, right in expected.items():
        for names, value in _merge({k: v[label] for k, v in mistakes.items()}, right).items():
            regrouped.setdefault(names, {})[label] = value
    return regrouped


def _answers(fn, case, variants):
    """{description: fn(*case, **settings)} for the buggy ``variants`` whose shapes fit this
    case (``x @ W_ih.T`` runs only when D = H)."""
    answers = {}
    for description, settings in variants.items():
        try:
            answers[description] = fn(*case, **settings)
        except ValueError:  # matmul's shape mismatch: the student's code would raise too
            pass
    return answers


# -- part 1: one step forward ------------------------------------------------------------------


def step_forward(x, h_prev, W_ih, W_hh, b, act=np.tanh, transposed=False, transposed_ih=False,
                 bias=True):
    """h_next = act(x @ W_ih + h_prev @ W_hh + b), or a buggy twin."""
    return act(x @ (W_ih.T if transposed_ih else W_ih) + h_prev @ (W_hh.T if transposed else W_hh)
               + (b if bias else 0.0))


STEP_CASES = {
    "N = 3, D = 2, H = 4": (_normal(3, 2), _normal(3, 4, scale=0.5), *_weights(2, 4)),
    "N = 2, D = H = 3 (square: a transposed W_ih has the right shape here)":
        (_normal(2, 3), _normal(2, 3, scale=0.5), *_weights(3, 3)),
    "N = 4, D = 3, H = 2, large weights (some units near saturation)":
        (_normal(4, 3), _normal(4, 2, scale=0.9), *_weights(3, 2, scale=2.5)),
}

FORWARD_MISTAKES = {
    "tanh left out: the pre-activation x @ W_ih + h_prev @ W_hh + b returned":
        {"act": lambda a: a},
    "the sigmoid instead of tanh": {"act": lambda a: 1 / (1 + np.exp(-a))},
    "W_hh transposed: h_prev @ W_hh.T instead of h_prev @ W_hh": {"transposed": True},
    "W_ih transposed: x @ W_ih.T instead of x @ W_ih": {"transposed_ih": True},
    "the bias b left out": {"bias": False},
}


@part("ex09_rnn_step_forward", points=2)
def rnn_step_forward_part(t, rnn_step_forward):
    """one recurrent step forward, h_next = tanh(x W_ih + h_prev W_hh + b)"""
    for name, case in STEP_CASES.items():
        t.close(f"{name}: h_next", lambda c=case: rnn_step_forward(*[a.copy() for a in c]),
                step_forward(*case), rtol=1e-7, atol=1e-10,
                mistakes=_merge(_answers(step_forward, case, FORWARD_MISTAKES),
                                step_forward(*case)))


# -- part 2: one step backward -----------------------------------------------------------------


def step_backward(dh_next, x, h_prev, h_next, W_ih, W_hh, slope="output", transpose_dW=False,
                  transpose_dW_ih=False, transpose_dh=False, mean_db=False):
    """(dx, dh_prev, dW_ih, dW_hh, db) of one step, or a buggy twin."""
    local = {"output": 1 - h_next ** 2, "tanh of the output": 1 - np.tanh(h_next) ** 2,
             "input": 1 - h_prev ** 2, "none": 1.0}[slope]
    dz = dh_next * local
    return {"dx": dz @ W_ih.T, "dh_prev": dz @ (W_hh if transpose_dh else W_hh.T),
            "dW_ih": dz.T @ x if transpose_dW_ih else x.T @ dz,
            "dW_hh": dz.T @ h_prev if transpose_dW else h_prev.T @ dz,
            "db": dz.mean(axis=0) if mean_db else dz.sum(axis=0)}


def _backward_case(x, h_prev, W_ih, W_hh, b):
    return _normal(*h_prev.shape), x, h_prev, step_forward(x, h_prev, W_ih, W_hh, b), W_ih, W_hh


STEP_BACK_CASES = {name: _backward_case(*case) for name, case in STEP_CASES.items()}

BACKWARD_MISTAKES = {
    "tanh' evaluated at the output as if it were the input: 1 - tanh(h_next)**2 instead of "
    "1 - h_next**2": {"slope": "tanh of the output"},
    "tanh' taken from the step's input h_prev instead of its output h_next":
        {"slope": "input"},
    "tanh' left out (dh_next used as the gradient of the pre-activation)": {"slope": "none"},
    "a transposed dW_hh (dz.T @ h_prev instead of h_prev.T @ dz)": {"transpose_dW": True},
    "a transposed dW_ih (dz.T @ x instead of x.T @ dz)": {"transpose_dW_ih": True},
    "dz @ W_hh instead of dz @ W_hh.T": {"transpose_dh": True},
    "db averaged over the batch instead of summed": {"mean_db": True},
}


@part("ex09_rnn_step_backward", points=3)
def rnn_step_backward_part(t, rnn_step_backward):
    """one recurrent step backward: (dx, dh_prev, dW_ih, dW_hh, db)"""
    for name, case in STEP_BACK_CASES.items():
        right = step_backward(*case)
        t.close_all(f"{name}: (dx, dh_prev, dW_ih, dW_hh, db)",
                    lambda c=case: rnn_step_backward(*[a.copy() for a in c]), right,
                    mistakes=_per_label(right, {k: step_backward(*case, **kw)
                                                for k, kw in BACKWARD_MISTAKES.items()}),
                    hint="expected dz = dh_next * (1 - h_next**2), then dx = dz @ W_ih.T, "
                         "dh_prev = dz @ W_hh.T, dW_ih = x.T @ dz, dW_hh = h_prev.T @ dz, "
                         "db = dz.sum(axis=0)", rtol=1e-7, atol=1e-10)


# -- part 3: backpropagation through time ------------------------------------------------------


def _sequence_case(n, steps, d, h, scale=0.6):
    """dh (the loss's gradient at every state), x, h0, the states h, W_ih, W_hh; and b."""
    x, h0 = _normal(n, steps, d), _normal(n, h, scale=0.5)
    W_ih, W_hh, b = _weights(d, h, scale)
    rnn = RNN(d, h, rng=np.random.default_rng(0))  # not the package generator: the student's
    rnn.W_ih.data[...], rnn.W_hh.data[...], rnn.b.data[...] = W_ih, W_hh, b   # stays as it is
    return _normal(n, steps, h), x, h0, rnn(x, h0), W_ih, W_hh


BPTT_CASES = {
    "N = 2, T = 5, D = 3, H = 4, a loss that reads every state": _sequence_case(2, 5, 3, 4),
    "N = 3, T = 4, D = H = 4 (square)": _sequence_case(3, 4, 4, 4),
    "N = 1, T = 9, D = 2, H = 3, a longer sequence": _sequence_case(1, 9, 2, 3, scale=0.9),
}


def bptt(dh, x, h0, h, W_ih, W_hh, step, sum_over_time=True, keep="first", carry=True,
         replace=False, dh0_from="carried", forwards=False):
    """(dx, dh0, dW_ih, dW_hh, db) by looping ``step`` (a one-step backward) over time, or a
    buggy twin. Without ``sum_over_time``, the weights' gradient is one step's term: the last
    one the loop computes ("first": t = 1) or the first ("last": t = T)."""
    steps = x.shape[1]
    dx = np.zeros_like(x)
    grads = {"dW_ih": 0.0, "dW_hh": 0.0, "db": 0.0}
    carried = np.zeros_like(h0)
    order = range(steps) if forwards else range(steps - 1, -1, -1)
    for t in order:
        total = carried if replace and t < steps - 1 else dh[:, t] + carried
        h_prev = h[:, t - 1] if t > 0 else h0
        dx[:, t], dh_prev, dW_ih, dW_hh, db = step(total, x[:, t], h_prev, h[:, t], W_ih, W_hh)
        for key, value in (("dW_ih", dW_ih), ("dW_hh", dW_hh), ("db", db)):
            if sum_over_time:
                grads[key] = grads[key] + value
            elif keep == "first" or t == steps - 1:
                grads[key] = value
        if t == 0:
            dh0 = total if dh0_from == "h_1" else dh_prev
        carried = dh_prev if carry else np.zeros_like(dh_prev)
    return {"dx": dx, "dh0": dh0, **grads}


def _reference_step(dh_next, x, h_prev, h_next, W_ih, W_hh):
    g = step_backward(dh_next, x, h_prev, h_next, W_ih, W_hh)
    return g["dx"], g["dh_prev"], g["dW_ih"], g["dW_hh"], g["db"]


def _library_bptt(dh, x, h0, h, W_ih, W_hh):
    """The expected gradients, from backproplab's RNN (forward to cache h, then backward)."""
    rnn = RNN(*W_ih.shape, rng=np.random.default_rng(0))
    rnn.W_ih.data[...], rnn.W_hh.data[...] = W_ih, W_hh
    rnn.b.data[...] = 0.0
    rnn.cache = (x, h0, h)  # the states of the case's own forward pass (its b is in them)
    dx = rnn.backward(dh)
    return {"dx": dx, "dh0": rnn.grad_h0, "dW_ih": rnn.W_ih.grad, "dW_hh": rnn.W_hh.grad,
            "db": rnn.b.grad}


BPTT_MISTAKES = {
    "the shared weights' gradients not summed over time: overwritten at every step, so only "
    "the term of step 1 (the last one the loop computes) is left":
        {"sum_over_time": False, "keep": "first"},
    "the shared weights' gradients not summed over time: the last step's term only":
        {"sum_over_time": False, "keep": "last"},
    "the hidden state's gradient not carried to the previous step (each step gets only "
    "dh[:, t])": {"carry": False},
    "the gradient carried back replaces dh[:, t] instead of being added to it":
        {"replace": True},
    "dh0 taken as the gradient at h_1 instead of what step 1 sends back to h_0":
        {"dh0_from": "h_1"},
    "the steps visited forwards in time (t = 0, 1, ...) instead of backwards":
        {"forwards": True},
}


@part("ex09_rnn_backward", points=3)
def rnn_backward_part(t, rnn_backward):
    """backpropagation through time over a whole sequence"""
    for name, case in BPTT_CASES.items():
        right = _library_bptt(*case)
        t.close_all(f"{name}: (dx, dh0, dW_ih, dW_hh, db)",
                    lambda c=case: rnn_backward(*[a.copy() for a in c], _reference_step),
                    right,
                    mistakes=_per_label(right, {k: bptt(*case, _reference_step, **kw)
                                                for k, kw in BPTT_MISTAKES.items()}),
                    hint="not the gradients of the sequence (your rnn_backward was given a "
                         "correct step_backward)", rtol=1e-7, atol=1e-10)


# -- part 4: the gradient norm per time step ---------------------------------------------------


def state_norms(dh_T, h, W_hh, slope="output", transpose=True, reverse=False, squared=False,
                per_sequence=False):
    """||dL/dh_t|| for t = 1..T when the loss reads only h_T, or a buggy twin."""
    steps = h.shape[1]
    dh, grads = dh_T, [dh_T]
    for t in range(steps - 1, 0, -1):
        local = {"output": 1 - h[:, t] ** 2, "previous": 1 - h[:, t - 1] ** 2,
                 "none": 1.0}[slope]
        dh = (dh * local) @ (W_hh.T if transpose else W_hh)
        grads.append(dh)
    grads = grads[::-1]  # time order: grads[0] = dL/dh_1
    if per_sequence:
        norms = np.array([np.linalg.norm(g, axis=1).mean() for g in grads])
    else:
        norms = np.array([np.linalg.norm(g) for g in grads])
    norms = norms ** 2 if squared else norms
    return norms[::-1] if reverse else norms


def _norms_case(n, steps, h, scale):
    _, _, h0, states, _, W_hh = _sequence_case(n, steps, 3, h, scale)
    return _normal(n, h), states, W_hh


NORMS_CASES = {
    "N = 4, T = 8, H = 5, small weights (the gradient vanishes)": _norms_case(4, 8, 5, 0.3),
    "N = 3, T = 6, H = 3, larger weights (many units near saturation)":
        _norms_case(3, 6, 3, 1.4),
}

NORMS_MISTAKES = {
    "tanh' left out: only the products with W_hh.T": {"slope": "none"},
    "tanh' of step t taken at h_(t-1) instead of h_t": {"slope": "previous"},
    "dh @ W_hh instead of dh @ W_hh.T": {"transpose": False},
    "the norms listed from the last step to the first (time order: norms[0] is ||dL/dh_1||)":
        {"reverse": True},
    "squared norms (no square root)": {"squared": True},
    "the mean of each sequence's norm instead of the norm over the whole (N, H) gradient":
        {"per_sequence": True},
}


@part("ex09_state_grad_norms", points=2)
def state_grad_norms_part(t, state_grad_norms):
    """the gradient norm per time step, ||dL/dh_t|| for t = 1..T"""
    for name, case in NORMS_CASES.items():
        right = state_norms(*case)
        t.close(f"{name}: {len(right)} norms, first step first",
                lambda c=case: state_grad_norms(*[a.copy() for a in c]), right,
                rtol=1e-7, atol=0.0,
                mistakes=_merge(_answers(state_norms, case, NORMS_MISTAKES), right))


# -- part 5: clipping the summed gradient ------------------------------------------------------


class _Grad:
    def __init__(self, grad):
        self.grad = grad


def _step_grads(steps, d, h, scales):
    """A list of ``steps`` dicts of per-step gradient terms, step t scaled by scales[t]."""
    return [{"W_ih": _normal(d, h, scale=s), "W_hh": _normal(h, h, scale=s),
             "b": _normal(h, scale=s)} for s in scales]


def clip_twin(step_grads, max_norm, per_step=False, per_parameter=False, elementwise=False,
              after=False, last_only=False):
    """{"W_ih", "W_hh", "b", "norm"}: the summed gradient clipped by its joint norm (torch's
    rule), and the norm before clipping; or a buggy twin."""
    names = ("W_ih", "W_hh", "b")
    pieces = [{k: g[k].copy() for k in names} for g in step_grads]
    if per_step:
        for piece in pieces:
            clip_grad_norm([_Grad(piece[k]) for k in names], max_norm)
    summed = pieces[-1] if last_only else {k: sum(p[k] for p in pieces) for k in names}
    total = float(np.sqrt(sum(np.sum(summed[k] ** 2) for k in names)))
    if per_parameter:
        for k in names:
            clip_grad_norm([_Grad(summed[k])], max_norm)
    elif elementwise:
        summed = {k: np.clip(summed[k], -max_norm, max_norm) for k in names}
    elif not per_step:
        clip_grad_norm([_Grad(summed[k]) for k in names], max_norm)
    norm = float(np.sqrt(sum(np.sum(summed[k] ** 2) for k in names))) if after else total
    return {**summed, "norm": np.float64(norm)}


CLIP_CASES = {
    "T = 4 steps, D = 2, H = 3, max_norm = 1: the sum is clipped":
        (_step_grads(4, 2, 3, [0.2, 0.5, 0.9, 0.4]), 1.0),
    "T = 6 steps, D = 3, H = 2, max_norm = 2.5: no single step exceeds it, their sum does":
        (_step_grads(6, 3, 2, [0.3, 0.3, 0.4, 0.5, 0.5, 0.6]), 2.5),
}

CLIP_MISTAKES = {
    "clipping each time step's gradient separately before summing, instead of the sum by "
    "its joint norm": {"per_step": True},
    "clipping each parameter's gradient separately instead of all of them by their joint norm":
        {"per_parameter": True},
    "clipping each entry to [-max_norm, max_norm] (np.clip, as min-char-rnn does) instead of "
    "scaling by the joint norm": {"elementwise": True},
    "the norm after clipping returned: return the norm before clipping": {"after": True},
    "the last step's gradient only, not summed over time": {"last_only": True},
}


def _clip_answer(fn, step_grads, max_norm):
    grads, norm = fn([{k: v.copy() for k, v in g.items()} for g in step_grads], max_norm)
    if not isinstance(grads, dict):
        raise TypeError(f"the first thing returned must be a dict of gradients, got "
                        f"{type(grads).__name__}")
    return {**grads, "norm": np.float64(norm)}


@part("ex09_clip_bptt", points=2)
def clip_bptt_part(t, clip_bptt_gradients):
    """the gradient summed over time, clipped by its joint norm"""
    for name, (step_grads, max_norm) in CLIP_CASES.items():
        right = clip_twin(step_grads, max_norm)
        assert right["norm"] > max_norm  # every case clips, so every mistake shows
        t.close_all(f"{name}: (gradients W_ih, W_hh, b, norm before clipping)",
                    lambda g=step_grads, m=max_norm: _clip_answer(clip_bptt_gradients, g, m),
                    right, mistakes=_per_label(right, {k: clip_twin(step_grads, max_norm, **kw)
                                                       for k, kw in CLIP_MISTAKES.items()}),
                    hint="expected the sum over time of each parameter's gradient, all "
                         "scaled by max_norm / (norm + 1e-6) when their joint norm exceeds "
                         "max_norm", rtol=1e-7, atol=1e-10)

