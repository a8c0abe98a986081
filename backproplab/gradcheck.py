"""Gradient checking: is the gradient your backward pass computes the true derivative?

The derivative of a scalar loss L with respect to one number t is approximated by a
*central difference*, which needs nothing but forward passes::

    dL/dt  ~  (L(t + eps) - L(t - eps)) / (2 eps)     error O(eps^2), not O(eps)

We compare it with the *analytic* gradient from ``backward()`` using the relative error
``|a - n| / max(|a| + |n|, floor)`` (the floor is explained at ``SCALE_FLOOR`` below): a
correct float64 backward pass gives 1e-11 to 1e-8, a bug gives 1e-3 to 1.

Nothing in the check depends on the units of the numbers: the same layer fed inputs of size
1e-10 or 1e10 passes when it is right and fails when it is wrong. The step of each entry is
relative to the size of that entry (``eps * max(|t_i|, rms(t))``), it grows where rounding
would drown the difference (see ``_resolved_steps``), and the floor of the relative error
follows the largest gradient entry and the rounding noise of the loss, not a fixed number.

Three functions build a loss to differentiate, and share one engine (``_check``):

* ``check_layer(layer, x)``: L = sum(layer(x) * G) for a fixed random "upstream gradient" G,
  so ``layer.backward(G)`` must return dL/dx and put dL/dW in each parameter's ``.grad``;
* ``check_loss(loss_fn, pred, target)``: L = loss_fn(pred, target), w.r.t. ``pred``;
* ``check_model(model, loss_fn, x, y)``: L = loss_fn(model(x), y), w.r.t. every parameter
  and the input x.

Three modes trade thoroughness for forward passes (each numerical entry costs two):

* ``"full"``: every entry of every tensor. Exact, but 2 passes per number: slow for big nets.
* ``"sparse"``: ``k`` random entries per tensor (seeded).
* ``"fast"``: one *directional derivative* per tensor: for a random direction v,
  (L(t + h v) - L(t - h v)) / 2h must equal the dot product <dL/dt, v>. Two passes
  per tensor whatever its size, and a wrong entry anywhere changes <dL/dt, v>. It says
  *whether* a tensor's gradient is wrong; "full" or "sparse" then show *which entries*.

Each report counts its forward passes: 1 for the analytic gradient, plus 2 per entry
("full", "sparse") or 2 per tensor ("fast"), and the same again for a tensor whose step had
to grow (``GradCheckReport.steps`` says which).

Every check runs on a *deep copy* of the layer / model / loss, upcast to float64, so your
parameters, gradients, BatchNorm running statistics and Dropout generators are untouched.
Every function returns a :class:`GradCheckReport`, which prints as a table in a notebook.
"""

import copy
import html
import math
from dataclasses import dataclass, field

import numpy as np

from . import init
from ._validate import as_float_array
from .layers import LeakyReLU, Module, ReLU

__all__ = [
    "numerical_gradient", "rel_error", "check_layer", "check_loss", "check_model",
    "GradCheckReport", "MODES",
]

MODES = ("full", "sparse", "fast")

# The relative error of one entry is |a - n| / max(|a| + |n|, floor), where
#     floor = max(SCALE_FLOOR * (largest |a| + |n| in the same tensor), noise / tol).
# Why a floor: a central difference carries rounding noise. The two losses are rounded
# (relative error ~1e-16 of the numbers the loss adds up) before they are subtracted and
# divided by 2h, so an entry that is truly 0 comes back as, say, +-1e-10, and an entry much
# smaller than the others is known only to that noise. Without a floor that noise looks like
# a failure: CS231n's fixed floor of 1e-8 turns it into "relative errors" of 1e-2 to 1e-6.
# A *fixed* floor is wrong at other scales, though: with inputs of size 1e-10 every gradient
# is below a floor of 1e-2, and a zeroed or transposed gradient would pass. So both parts of
# the floor follow the numbers at hand:
# * SCALE_FLOOR = 0.1: the noise grows with the numbers in the forward pass, and so does the
#   gradient; an entry much smaller than the largest in its tensor (BatchNorm's input
#   gradient, whose columns sum to 0, has many) is only known to the noise of the large
#   ones, so it is compared with a tenth of the largest.
# * noise / tol: an estimate of the finite difference's rounding noise for that entry,
#   NOISE_ULPS * 2**-52 * (size of the loss's terms) / (2 h). An entry whose disagreement is
#   within that noise passes; a bug makes |a - n| comparable to the gradient itself, which
#   the step below keeps far above the noise.
SCALE_FLOOR = 0.1
NOISE_ULPS = 16

# The step: h_i = eps * max(|t_i|, rms(t)), relative to the entry (1.0 for an all-zero t).
# A fixed absolute step fails at both ends: at 1e11, x + 1e-6 rounds back to x; at 1e-10 a
# step of 1e-6 is 10 000 times the number itself. If the gradient is not resolved above the
# rounding noise at that step (its largest entry is less than RESOLVE times its noise: a
# zeroed or halved gradient fails only where the true one stands above the noise), the
# step grows by STEP_GROWTH, at most MAX_GROWTHS times: that happens where the tensor barely
# moves the loss (the weights of a Linear fed inputs of 1e-10, whose output is dominated by
# its bias), where the function is close to linear on the scale of the step.
RESOLVE = 100
# A larger step is trusted when its values agree with the smaller step's within CONSISTENT
# times the smaller step's estimated noise (the estimate counts the outputs that moved; an
# output that should have moved by less than half its last bit did not, and adds a little).
CONSISTENT = 4
STEP_GROWTH = 100.0
MAX_GROWTHS = 3

# Default pass thresholds. The fast mode compares one number per tensor, a directional
# derivative that sums the rounding noise of every entry; on a correct layer of a few
# thousand entries it reaches a few 1e-8, so its threshold is 1e-6. Bugs give 1e-3 and above.
TOL = 1e-7
FAST_TOL = 1e-6

# An input of a ReLU closer than this many eps to 0 may be stepped across the kink by a
# finite difference (a weight step of eps can move a pre-activation by several eps).
KINK_ZONE = 10


# ---------------------------------------------------------------------------------------
# The two building blocks
# ---------------------------------------------------------------------------------------
def numerical_gradient(f, x, eps=1e-6, indices=None):
    """Central-difference gradient of the scalar function ``f`` at ``x``.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``. It reads ``x``, which this function changes *in place* one entry
        at a time (so ``f`` may also ignore its argument and read an array it holds, such as
        a layer's weight).
    x : ndarray, float64, any shape
        The point. Every entry is restored bit for bit before returning.
    eps : float, or ndarray of x's shape
        Step size (one per entry if an array). The formula's truncation error is O(eps^2)
        (1e-12 here); the rounding error of subtracting two nearly equal losses is
        O(1e-16 / eps) (1e-10 here). The gradient checks below choose a step per entry,
        relative to its size.
    indices : iterable of index tuples, optional
        Only these entries (e.g. ``[(0, 1), (3, 2)]``); the others are NaN in the result.

    Returns
    -------
    ndarray, shape of ``x``
        dL/dx, with NaN for entries not in ``indices``.
    """
    if not (isinstance(x, np.ndarray) and x.dtype == np.float64):
        raise TypeError(
            "numerical_gradient needs a float64 ndarray that it can change in place; got "
            f"{type(x).__name__} of dtype {getattr(x, 'dtype', None)}. In float32, x + 1e-6 "
            "is rounded to a step of about 1e-7 * |x|, which ruins the difference: use "
            "x.astype(np.float64)")
    steps = np.broadcast_to(np.asarray(eps, dtype=np.float64), x.shape)
    grad = np.full(x.shape, np.nan)
    for idx in (np.ndindex(x.shape) if indices is None else indices):
        idx = tuple(int(i) for i in np.atleast_1d(idx)) if x.ndim else ()
        old, h = x[idx], steps[idx]
        x[idx] = old + h
        f_plus = f(x)
        x[idx] = old - h
        f_minus = f(x)
        x[idx] = old  # the saved value: exactly the original bits, not (old + h) - h
        # Divide by the step actually taken: old + h is rounded to the float grid.
        grad[idx] = (f_plus - f_minus) / ((old + h) - (old - h))
    return grad


def rel_error(a, b, floor=None):
    """Largest relative error ``|a - b| / max(|a| + |b|, floor)`` over all entries.

    ``a`` and ``b`` are arrays (or numbers) of the same shape; returns a float (0.0 for
    empty input or two zeros, inf if any entry is NaN/inf). ``|a| + |b|`` makes the error
    symmetric and at most 1. The floor keeps entries that are zero up to rounding noise from
    producing huge "relative" errors: it is ``max(floor, SCALE_FLOOR * max(|a| + |b|))``, a
    tenth of the largest entry (see the comment on ``SCALE_FLOOR``), so the error means the
    same at every scale: ``rel_error(1e-12 * a, 1e-12 * b) == rel_error(a, b)``. ``floor``
    adds an absolute floor (a number, or an array of a's shape); ``floor=1e-8`` is close to
    CS231n's ``max(1e-8, |a| + |b|)``.
    """
    return _max(_rel_errors(np.asarray(a, dtype=float), np.asarray(b, dtype=float), floor))


def _rel_errors(a, b, floor=None):
    """Entry-wise relative errors (inf where either side is not finite)."""
    finite = np.isfinite(a) & np.isfinite(b)
    with np.errstate(all="ignore"):
        size = np.abs(a) + np.abs(b)
        denom = np.maximum(size, 0.0 if floor is None else floor)
        if finite.any():
            denom = np.maximum(denom, SCALE_FLOOR * float(np.max(size[finite])))
        err = np.where(denom > 0, np.abs(a - b) / np.where(denom > 0, denom, 1.0), 0.0)
    return np.where(finite, err, np.inf)


def _max(err):
    return float(np.max(err)) if np.size(err) else 0.0


# ---------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------
@dataclass
class GradCheckReport:
    """Result of a gradient check; ``bool(report)`` is ``report.passed``.

    Attributes
    ----------
    mode, tol, eps : the settings used (``eps`` is the relative step an entry starts with). A
        tensor passes when its max relative error <= tol.
    n_forward : int
        Forward passes run (1 for the analytic gradient + 2 per numerical estimate).
    errors : dict name -> float
        Max relative error per tensor ("input", "pred", or a parameter name such as "0.W");
        inf if it could not be computed (NaN/inf, wrong gradient shape), NaN if not checked.
    rel_errors : dict name -> ndarray
        Per-entry relative errors, shape of the tensor, NaN where not checked (for heat maps).
        In "fast" mode no single entry is checked, so these are all NaN.
    worst : dict name -> list of (index, analytic, numerical, rel_error)
        Up to 5 worst entries, worst first. In "fast" mode one row with index "direction":
        the directional derivative <dL/dt, v> against its finite difference.
    notes : list of str
        Why something failed or may be unreliable (NaN, shapes, ReLU kinks, float32 upcast).
    shapes, n_checked : dict name -> shape / number of entries (or directions) checked.
    steps : dict name -> the relative step used for that tensor: ``eps``, or larger where the
        gradient would have drowned in rounding noise at ``eps`` (see ``RESOLVE``).
    """

    mode: str
    tol: float
    eps: float
    n_forward: int = 0
    errors: dict = field(default_factory=dict)
    rel_errors: dict = field(default_factory=dict)
    worst: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    shapes: dict = field(default_factory=dict)
    n_checked: dict = field(default_factory=dict)
    steps: dict = field(default_factory=dict)

    @property
    def passed(self):
        # `e <= tol` is False for NaN and inf, so unchecked or broken tensors fail.
        return bool(self.errors) and all(e <= self.tol for e in self.errors.values())

    def __bool__(self):
        return self.passed

    def _rows(self):
        """(name, shape, checked, step, error, result, worst entry) as strings, per tensor."""
        for name, err in self.errors.items():
            result = "PASS" if err <= self.tol else "FAIL"
            worst = ""
            if self.worst.get(name):
                idx, a, n, _ = self.worst[name][0]
                where = idx if isinstance(idx, str) else str(tuple(idx))
                worst = f"{where}: analytic {a:.6g} vs numerical {n:.6g}"
            checked = self.n_checked.get(name, 0)
            checked = f"{checked} dir" if self.mode == "fast" else str(checked)
            step = f"{self.steps[name]:.0e}" if name in self.steps else ""
            yield name, str(self.shapes.get(name, "")), checked, step, f"{err:.2e}", result, worst

    def _title(self):
        verdict = "PASSED" if self.passed else "FAILED"
        return (f"Gradient check {verdict} (mode={self.mode!r}, eps={self.eps:g}, "
                f"tol={self.tol:g}, {self.n_forward} forward passes)")

    _HEADER = ("tensor", "shape", "checked", "step", "max rel err", "result", "worst entry")

    def __str__(self):
        rows = [self._HEADER, *self._rows()]
        widths = [max(len(row[i]) for row in rows) for i in range(len(self._HEADER))]
        lines = [self._title()]
        for row in rows:
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def __repr__(self):
        return str(self)

    def _repr_html_(self):
        esc = html.escape
        head = "".join(f"<th style='text-align:left'>{esc(h)}</th>" for h in self._HEADER)
        body = []
        for row in self._rows():
            color = "#d9f2d9" if row[5] == "PASS" else "#f8d0d0"
            cells = "".join(f"<td style='text-align:left'>{esc(c)}</td>" for c in row)
            body.append(f"<tr style='background:{color}'>{cells}</tr>")
        color = "green" if self.passed else "#b00000"
        notes = "".join(f"<li>{esc(note)}</li>" for note in self.notes)
        return (f"<div><b style='color:{color}'>{esc(self._title())}</b>"
                f"<table><tr>{head}</tr>{''.join(body)}</table>"
                + (f"<ul>{notes}</ul>" if notes else "") + "</div>")


# ---------------------------------------------------------------------------------------
# The three public checks: each builds a forward (-> loss) and a backward (-> gradients)
# ---------------------------------------------------------------------------------------
def check_layer(layer, x, mode="full", k=10, eps=1e-6, tol=None, seed=0, avoid_kinks=False):
    """Check ``layer.backward`` against finite differences, for the input and every parameter.

    The loss is ``L = sum(layer(x) * G)`` with a fixed random G of the output's shape, so
    dL/d(output) = G: exactly what ``layer.backward(G)`` receives as ``grad_out``. (It is
    computed as ``sum((layer(x) - out0) * G)``, out0 the unperturbed output, to cut rounding.)

    Parameters
    ----------
    layer : Module
        Any layer or network (checked on a float64 deep copy; yours is not changed).
    x : array, the layer's input shape, e.g. (N, D)
        Integers and float32 are converted to a float64 copy.
    mode : "full", "sparse" or "fast"
        Every entry; ``k`` random entries per tensor; or one random direction per tensor.
    k, eps, tol, seed : int, float, float, int
        Entries per tensor in "sparse" mode; the relative finite-difference step (entry
        t_i moves by ``eps * max(|t_i|, rms(t))``, more if rounding would drown the
        difference); pass threshold on the max relative error (default 1e-7, and 1e-6 in
        "fast" mode: see ``FAST_TOL``); seed of G, of the sampled entries and directions.
    avoid_kinks : bool
        Move entries of x closer than ``10 * eps * rms(x)`` to 0 out to twice that first,
        so no finite difference straddles the kink of a ReLU/LeakyReLU applied to x.

    Returns
    -------
    GradCheckReport with tensors "input" and the layer's parameter names ("W", "b", ...).
    """
    rng = _rng(seed)
    layer, notes = _float64_copy(layer)
    x, x_notes = _float64_input(x, "input")
    notes += x_notes
    if avoid_kinks:
        zone = KINK_ZONE * eps * _rms(x)
        near = np.abs(x) < zone
        if near.any():
            x[near] = np.where(x[near] >= 0, 1.0, -1.0) * (2 * zone)  # clear of the zone
            notes.append(f"avoid_kinks: moved {int(near.sum())} entries of the input that were "
                         f"within {zone:.1e} of 0 out to +-{2 * zone:.1e}")
    upstream = out0 = None  # G and the unperturbed output, set by the first forward pass

    def forward():
        nonlocal upstream, out0
        out = layer(x)
        if upstream is None:
            upstream, out0 = rng.standard_normal(np.shape(out)), out.copy()
        # sum((out - out0) * G) has the same derivatives as sum(out * G) (out0 is a
        # constant), but it adds up tiny numbers, so rounding in the sum (1e-16 of a loss of
        # size 10, i.e. 1e-9 on the gradient after dividing by 2 eps) disappears. What is
        # left is the rounding of the outputs that moved: their size sets the noise.
        moved = out != out0
        if not moved.any():  # the step was below the outputs' resolution: see _check
            return 0.0, float(np.sum(np.abs(out * upstream))), False
        return (np.sum((out - out0) * upstream),
                float(np.sum(np.abs(out[moved] * upstream[moved]))), True)

    def backward():
        _zero_grad(layer)
        grad_x = layer.backward(upstream)
        return {"input": grad_x, **{n: p.grad for n, p in _named_parameters(layer)}}

    tensors = {"input": x, **{n: p.data for n, p in _named_parameters(layer)}}
    return _check(tensors, forward, backward, layer, mode, k, eps, tol, rng, notes)


def check_loss(loss_fn, pred, target, mode="full", k=10, eps=1e-6, tol=None, seed=0):
    """Check ``loss_fn.backward()`` (dL/d(pred)) against finite differences of ``loss_fn``.

    Parameters
    ----------
    loss_fn : Loss
        e.g. ``MSELoss()``, ``CrossEntropyLoss()`` (a deep copy is used).
    pred : array (N, ...)
        Predictions / logits; converted to a float64 copy.
    target : array
        Passed to ``loss_fn`` unchanged: same shape as ``pred``, or (N,) integer labels.
    mode, k, eps, tol, seed : as in :func:`check_layer`.

    Returns
    -------
    GradCheckReport with one tensor, "pred".
    """
    rng = _rng(seed)
    loss_fn = copy.deepcopy(loss_fn)
    pred, notes = _float64_input(pred, "pred")

    def forward():
        return loss_fn(pred, target)

    def backward():
        return {"pred": loss_fn.backward()}

    return _check({"pred": pred}, forward, backward, loss_fn, mode, k, eps, tol, rng, notes)


def check_model(model, loss_fn, x, y, mode="full", k=10, eps=1e-6, tol=None, seed=0):
    """Check a whole network: L = loss_fn(model(x), y), w.r.t. every parameter and x.

    Parameters
    ----------
    model : Module
        e.g. ``Sequential(Linear(2, 100), ReLU(), Linear(100, 3))``; a float64 deep copy is
        checked, in the model's current train/eval mode.
    loss_fn : Loss
    x : array (N, D)
        Input batch (float64 copy).
    y : array
        Targets for ``loss_fn``, e.g. (N,) integer labels.
    mode, k, eps, tol, seed : as in :func:`check_layer`. ``mode="fast"`` costs
        1 + 2 * (number of parameters + 1) forward passes, whatever the network's size.

    Returns
    -------
    GradCheckReport with tensors "input" and names from ``model.named_parameters()``
    ("0.W", "0.b", "2.W", ...).
    """
    rng = _rng(seed)
    model, notes = _float64_copy(model)
    loss_fn = copy.deepcopy(loss_fn)
    x, x_notes = _float64_input(x, "input")
    notes += x_notes

    def forward():
        return loss_fn(model(x), y)

    def backward():
        _zero_grad(model)
        grad_x = model.backward(loss_fn.backward())
        return {"input": grad_x, **{n: p.grad for n, p in _named_parameters(model)}}

    tensors = {"input": x, **{n: p.data for n, p in _named_parameters(model)}}
    return _check(tensors, forward, backward, model, mode, k, eps, tol, rng, notes)


# ---------------------------------------------------------------------------------------
# The engine shared by the three checks
# ---------------------------------------------------------------------------------------
def _check(tensors, forward, backward, module, mode, k, eps, tol, rng, notes):
    """Compare analytic and numerical gradients of ``forward()`` for each named tensor.

    tensors : dict name -> float64 ndarray that ``forward`` reads; perturbed in place and
        restored. forward() -> loss, or (loss, size of the terms it added up, whether any
        output moved) when it knows better than |loss| what sets its rounding noise (one
        forward pass); backward() ->
        dict name -> gradient, called right after a forward pass. ``module`` is walked for
        Dropout generators and ReLU inputs.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if mode == "sparse" and k < 1:
        raise ValueError(f"sparse mode needs k >= 1 entries per tensor, got {k}")
    if not (isinstance(eps, (int, float)) and 0 < eps < 1):
        raise ValueError(f"eps is the relative step of each entry, 0 < eps < 1; got {eps!r}")
    if tol is None:
        tol = FAST_TOL if mode == "fast" else TOL
    report = GradCheckReport(mode=mode, tol=tol, eps=eps, notes=notes,
                             shapes={n: t.shape for n, t in tensors.items()})
    # Each pass must see the same randomness (the same Dropout mask): remember the state of
    # every random generator now and rewind to it before every forward pass.
    rewind = _rng_rewinder(module)

    raised = []  # messages of errors raised by forward passes
    # Rounding noise of each loss evaluated, in the loss's units. Negative: the step moved
    # no output at all (or left the loss bit for bit the same), so the loss says only that
    # the change was below its resolution, |change| <= -noise.
    noise = []
    unperturbed = None  # the first loss evaluated

    def loss():
        nonlocal unperturbed
        rewind()
        report.n_forward += 1
        try:
            value = forward()
        except FloatingPointError as err:  # e.g. NonFiniteError raised inside a layer
            raised.append(f"{type(err).__name__}: {err}")
            value = math.nan
        if isinstance(value, tuple):
            value, size, moved = value
        else:
            size, moved = abs(value), unperturbed is None or value != unperturbed
        noise.append(NOISE_ULPS * np.finfo(np.float64).eps * size * (1 if moved else -1))
        if unperturbed is None:
            unperturbed = value
        return float(value)

    # np.errstate: NaN/inf are reported in the table, never as a RuntimeWarning.
    with np.errstate(all="ignore"):
        for name, t in tensors.items():  # NaN/inf in an input or a parameter: nothing to check
            report.errors[name] = math.nan
            report.rel_errors[name] = np.full(t.shape, np.nan)
            report.n_checked[name] = 0
            bad = _where_not_finite(t)
            if bad:
                report.errors[name] = math.inf
                notes.append(f"'{name}' contains NaN/inf {bad}: fix the data before checking")
        if any(e == math.inf for e in report.errors.values()):
            return report

        loss0 = loss()  # the analytic pass: one forward, then backward
        if not math.isfinite(loss0):
            notes.append(f"the loss is {loss0} before any perturbation"
                         + (f" ({raised[0]})" if raised else "") + ": no gradient to check")
            report.errors = dict.fromkeys(tensors, math.inf)
            return report
        try:
            analytic = backward()
        except (ValueError, FloatingPointError) as err:  # ShapeError, NonFiniteError, ...
            notes.append(f"backward() raised {type(err).__name__}: {err}")
            report.errors = dict.fromkeys(tensors, math.inf)
            return report
        notes += _kink_notes(module, eps)

        for name, t in tensors.items():
            grad = _usable_gradient(name, analytic.get(name), t.shape, notes)
            if grad is None:
                report.errors[name] = math.inf
            elif mode == "fast":
                _check_direction(report, name, t, grad, loss, rng, noise)
            else:
                _check_entries(report, name, t, grad, loss, rng, k, noise)
    return report


def _resolved_steps(report, name, measure):
    """Run ``measure(c) -> (numerical values, their rounding noise)`` at relative step
    c = eps, and again at a larger c while the values do not stand above their noise (at
    most MAX_GROWTHS times). Negative noise marks an entry whose step moved no output at all
    (no information beyond a bound). A larger step is kept only if its values agree with the smaller step's
    within that step's noise: then the loss is close to linear on the larger scale, and the
    larger step only removed noise. A larger step reached from steps that moved nothing is
    kept only once a still larger one confirms it: it may have jumped across a kink or out
    of a saturation, where a dead unit or a saturated sigmoid rightly has gradient 0."""
    c = report.eps
    num, num_noise = measure(c)
    tentative = None  # the first informative result after steps that moved nothing
    for _ in range(MAX_GROWTHS):
        if not np.isfinite(num).all():
            break
        informative = num_noise >= 0
        big = float(np.max(np.abs(num[informative]), initial=0.0))
        if (informative.any() and tentative is None
                and big >= RESOLVE * np.max(num_noise[informative])):
            break
        bigger, bigger_noise = measure(c * STEP_GROWTH)
        if not informative.any():  # nothing moved yet: take the larger step on trial
            if (bigger_noise >= 0).any():
                tentative = (c, num, num_noise)
            c, num, num_noise = c * STEP_GROWTH, bigger, bigger_noise
            continue
        if not np.all(np.abs(bigger - num)[informative]
                      <= CONSISTENT * num_noise[informative]):
            break  # not linear at that scale
        tentative = None  # the trial step agreed with a larger one: it was linear there
        c, num, num_noise = c * STEP_GROWTH, bigger, bigger_noise
    if tentative is not None:  # a step that first moved something, never confirmed:
        c, num, num_noise = tentative  # it may have jumped across a kink or a saturation
    report.steps[name] = c
    if c > report.eps:
        report.notes.append(
            f"'{name}': at a relative step of {report.eps:g} the loss barely moved above its "
            f"rounding noise, so the step grew to {c:g} (the loss is close to linear in "
            f"'{name}' at that scale)")
    return num, num_noise


def _check_entries(report, name, t, grad, loss, rng, k, noise):
    """Full or sparse mode: finite differences entry by entry, 2 forward passes each."""
    if report.mode == "full":
        indices = list(np.ndindex(t.shape))
    else:  # k distinct random entries
        flat = rng.choice(t.size, size=min(k, t.size), replace=False)
        indices = [tuple(int(i) for i in np.unravel_index(j, t.shape)) for j in flat]
    order = tuple(np.array(indices).T) if indices else ()  # the entries, for fancy indexing
    scale = _entry_scales(t)

    def measure(c):
        start = len(noise)
        num = numerical_gradient(lambda _: loss(), t, c * scale, indices)
        pair = _pair_noise(np.array(noise[start:]).reshape(len(indices), 2))
        return num[order], pair / (2 * c * scale[order])

    values, value_noise = _resolved_steps(report, name, measure)
    silent = int(np.sum(value_noise < 0))
    if silent:
        report.notes.append(f"'{name}': perturbing {silent} of its entries moved no output at "
                            "all, so their derivative is below the outputs' rounding: that "
                            "bound is what they are compared with")
    value_noise = np.abs(value_noise)
    num, err = np.full(t.shape, np.nan), np.full(t.shape, np.nan)
    if indices:
        num[order] = values
        # within the rounding noise is a pass: the noise, divided by tol, floors the error
        err[order] = _rel_errors(grad[order], values, value_noise / report.tol)
    report.rel_errors[name] = err
    report.n_checked[name] = len(indices)
    report.errors[name] = float(np.nanmax(err)) if indices else 0.0
    worst = sorted(indices, key=lambda i: -err[i])[:5]
    report.worst[name] = [(i, float(grad[i]), float(num[i]), float(err[i])) for i in worst]
    bad = [i for i in indices if not np.isfinite(num[i])]
    if bad:
        report.notes.append(f"numerical gradient of '{name}' is NaN/inf at {_fmt(bad)}: the "
                            "loss became non-finite when those entries were perturbed")


def _check_direction(report, name, t, grad, loss, rng, noise):
    """Fast mode: one directional derivative, 2 forward passes whatever the tensor's size."""
    v = rng.standard_normal(t.shape)
    v *= _entry_scales(t) / (np.linalg.norm(v) or 1.0)  # each entry moves by its own size
    # Along a direction that moves each of n entries by about c * |t_i| / sqrt(n), a step
    # rarely carries a ReLU input across its kink.
    saved = t.copy()

    def measure(c):
        t[...] = saved + c * v
        loss_plus = loss()
        t[...] = saved - c * v
        loss_minus = loss()
        t[...] = saved  # restore exactly
        return (np.array([(loss_plus - loss_minus) / (2 * c)]),
                _pair_noise(np.array([noise[-2:]])) / (2 * c))

    numerical, num_noise = _resolved_steps(report, name, measure)
    numerical, floor = float(numerical[0]), abs(float(num_noise[0])) / report.tol
    analytic = float(np.sum(grad * v))
    err = float(_rel_errors(np.float64(analytic), np.float64(numerical), floor))
    report.errors[name] = err
    report.n_checked[name] = 1
    report.worst[name] = [("direction", analytic, numerical, err)]
    if not math.isfinite(numerical):
        report.notes.append(f"numerical directional derivative of '{name}' is {numerical}: "
                            "the loss became non-finite when it was perturbed")


# ---------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------
def _usable_gradient(name, grad, shape, notes):
    """The analytic gradient as a float array, or None (with a note) if it cannot be used."""
    if grad is None:
        notes.append(f"no analytic gradient for '{name}': backward() returned None or left "
                     ".grad as None")
        return None
    grad = np.asarray(grad, dtype=np.float64)
    if grad.shape != shape:
        notes.append(f"analytic gradient of '{name}' has shape {grad.shape}, but '{name}' has "
                     f"shape {shape}: a gradient must have the shape of its tensor (was a sum "
                     "over the batch forgotten?)")
        return None
    bad = _where_not_finite(grad)
    if bad:
        notes.append(f"analytic gradient of '{name}' is NaN/inf {bad}")
        return None
    return grad


def _pair_noise(pairs):
    """Noise of L+ - L- for rows of (noise of L+, noise of L-): their sum, where a loss that
    moved nothing (negative) counts as exact if the other one moved; if neither moved, the
    negated bound on a change that could hide below the loss's resolution."""
    both = np.all(pairs < 0, axis=1)
    return np.where(both, -np.sum(np.abs(pairs), axis=1),
                    np.sum(np.where(pairs < 0, 0.0, pairs), axis=1))


def _rms(t):
    """Root mean square of ``t``, or 1.0 if it is all zeros (a step needs some size)."""
    rms = float(np.sqrt(np.mean(np.square(t)))) if t.size else 0.0
    return rms if rms > 0 and math.isfinite(rms) else 1.0


def _entry_scales(t):
    """The size each entry's step is relative to: max(|t_i|, rms(t)), so entries near 0
    still move by a step on the scale of their tensor."""
    return np.maximum(np.abs(t), _rms(t))


def _where_not_finite(a):
    """'' if all finite, else e.g. 'at 2 entries: (0, 1), (3, 2)'."""
    bad = np.argwhere(~np.isfinite(a))
    if len(bad) == 0:
        return ""
    return f"at {len(bad)} entr{'y' if len(bad) == 1 else 'ies'}: {_fmt(bad)}"


def _fmt(indices, limit=3):
    shown = ", ".join(str(tuple(int(i) for i in idx)) for idx in indices[:limit])
    return shown + (", ..." if len(indices) > limit else "")


def _float64_copy(module):
    """Deep copy of ``module`` with float64 parameters and buffers, and notes on the upcast."""
    module = copy.deepcopy(module)
    notes = []
    low = [n for n, p in _named_parameters(module) if p.data.dtype != np.float64]
    if low:
        notes.append(f"parameters {', '.join(low)} were upcast to float64 copies for the check "
                     "(in float32 a step of 1e-6 is lost in rounding)")
    if hasattr(module, "to"):
        module.to(np.float64)  # parameters and buffers (BatchNorm's running statistics)
    return module, notes


def _float64_input(x, name):
    """A float64 copy of ``x`` (which the check perturbs), and a note if it was float32."""
    x = as_float_array(x, name)
    notes = []
    if x.dtype != np.float64:
        notes.append(f"'{name}' ({x.dtype}) was upcast to a float64 copy for the check")
    return np.array(x, dtype=np.float64, copy=True), notes


def _rng(seed):
    """The checker's generator (G, sampled entries, directions). Not default_rng(seed): with
    x drawn from default_rng(0) and seed=0, G would *equal* x, and a ReLU mask wrongly taken
    from grad_out > 0 instead of x > 0 would pass."""
    return np.random.default_rng([0x67726164, seed])  # a stream of its own ("grad")


def _named_parameters(module):
    return list(module.named_parameters()) if hasattr(module, "named_parameters") else []


def _zero_grad(module):
    # Gradients accumulate (+=): without this, the analytic gradient would be added to
    # whatever an earlier backward pass left in .grad.
    for _, p in _named_parameters(module):
        p.grad = None


def _named_modules(module):
    """(dotted name, module) for a Module and all its sub-modules; a loss has none."""
    return module.named_modules() if isinstance(module, Module) else [("", module)]


def _rng_rewinder(module):
    """A function that resets the random generators a forward pass may draw from (a Dropout's
    ``rng``, and the package generator used when it has none) to their current state."""
    generators = [init.default_rng()] + [
        g for _, m in _named_modules(module)
        for g in getattr(m, "__dict__", {}).values() if isinstance(g, np.random.Generator)]
    saved = [(g, g.bit_generator.state) for g in generators]

    def rewind():
        for g, state in saved:
            g.bit_generator.state = state
    return rewind


def _kink_notes(module, eps):
    """Notes on ReLU/LeakyReLU inputs (cached by the last forward pass) near the kink at 0,
    where a central difference averages the two slopes and so disagrees with backward()."""
    notes = []
    for name, m in _named_modules(module):
        if isinstance(m, (ReLU, LeakyReLU)) and isinstance(m.cache, tuple):
            z = m.cache[0]  # the activation's input, as the last forward pass saw it
            zone = KINK_ZONE * eps * _rms(z)  # how far a relative step can move an input
            near = np.argwhere(np.abs(z) < zone)
            if len(near):
                where = f"layer '{name}'" if name else "the layer"
                notes.append(
                    f"kink: {len(near)} input(s) of {type(m).__name__} ({where}) within "
                    f"{zone:.1e} of 0, e.g. at {_fmt(near)}. A finite difference that "
                    "steps across the kink averages the two slopes, so a FAIL caused by these "
                    "entries is a false alarm (for a ReLU's own input, check_layer(..., "
                    "avoid_kinks=True) moves such entries away)")
    return notes
