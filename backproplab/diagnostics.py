"""Watch a network learn: per-layer activation statistics, gradient norms and update sizes.

A :class:`Monitor` is a :class:`~backproplab.train.Callback`. Pass it to ``fit`` (or call
:meth:`Monitor.measure` once on a fresh network) and it records, for every layer:

* ``act_mean``, ``act_std``: mean and standard deviation of the layer's output (over all
  entries);
* ``act_spread``: how much the output varies *across examples*: the standard deviation over
  the batch, averaged over units. When it collapses to ~0 every example looks the same to the
  next layer, even if ``act_std`` (dominated by the biases) looks healthy;
* ``saturated``: fraction of Sigmoid/Tanh outputs in the flat tails, where the derivative
  is below 1 % of its maximum (|tanh| > 0.995, sigmoid < 0.01 or > 0.99): gradients through
  them nearly vanish;
* ``dead``: fraction of ReLU units that output 0 for every example of the batch (no gradient
  reaches their weights);
* ``grad_norm``: the L2 norm of the weight gradient (layers with parameters);
* ``update_ratio``: ||weight update|| / ||weight||, the relative step the optimiser took;
  around 1e-3 is healthy, much smaller means the layer barely learns.

These are the numbers the vanishing/exploding-gradient lesson plots. For a recurrent layer,
:func:`gradient_through_time` measures the same thing along time instead of depth.
"""

import numpy as np

from .layers import LeakyReLU, ReLU, Sigmoid, Tanh
from .train import Callback

__all__ = ["Monitor", "gradient_norms", "gradient_through_time", "STATS"]

STATS = ("act_mean", "act_std", "act_spread", "saturated", "dead", "grad_norm",
         "update_ratio")


def _saturated(layer, out):
    if isinstance(layer, Tanh):
        return float(np.mean(np.abs(out) > 0.995))
    if isinstance(layer, Sigmoid):
        return float(np.mean((out < 0.01) | (out > 0.99)))
    return np.nan


def _dead(layer, out):
    if isinstance(layer, (ReLU, LeakyReLU)) and out.ndim == 2:
        return float(np.mean(np.all(out <= 0, axis=0)))
    return np.nan


def _weight(layer):
    """The main weight of a layer (W of Linear, gamma of BatchNorm), or None."""
    params = [p for p in vars(layer).values() if hasattr(p, "grad") and hasattr(p, "data")]
    return params[0] if params else None


class Monitor(Callback):
    """Record per-layer statistics of ``model`` every ``every`` training steps.

    Attributes
    ----------
    layers : list of (name, layer)
        The leaf layers watched, named as in ``model.named_modules()`` ("0", "3", ...).
    steps : list of int
        The training steps at which a record was taken.
    records : dict name -> dict stat -> list of float
        One list per statistic in :data:`STATS`, aligned with ``steps``; NaN where a
        statistic does not apply to a layer.
    activations : dict name -> ndarray
        The outputs from the most recent recorded step, for histograms.
    """

    def __init__(self, model, every=1):
        self.model, self.every = model, max(1, int(every))
        self.layers = [(name, m) for name, m in model.named_modules()
                       if name and not list(m.named_children())]
        self.steps = []
        self.records = {name: {s: [] for s in STATS} for name, _ in self.layers}
        self.activations = {}
        self._recording = False
        self._before = {}

    # -- capture outputs by wrapping each layer's forward for the steps being recorded --
    def _attach(self):
        for name, layer in self.layers:
            layer.forward = self._wrap(name, layer)

    def _detach(self):
        for _, layer in self.layers:
            vars(layer).pop("forward", None)

    def _wrap(self, name, layer):
        forward = type(layer).forward.__get__(layer)

        def recorded_forward(x):
            out = forward(x)
            if self._recording:
                self.activations[name] = out
            return out
        return recorded_forward

    # -- Callback hooks -----------------------------------------------------------------
    def on_train_begin(self, state):
        self._attach()

    def on_train_end(self, state):
        self._detach()

    def on_batch_end(self, state):
        if self._recording:
            self._record_updates()
        # decide whether the *next* step is recorded, before its forward pass runs
        self._recording = (state.step + 1) % self.every == 0

    def on_epoch_begin(self, state):
        if state.step == 0:
            self._recording = True

    def after_backward(self, state):
        if self._recording:
            self._record_forward_and_grads(state.step)

    # -- recording ----------------------------------------------------------------------
    def _record_forward_and_grads(self, step):
        self.steps.append(step)
        for name, layer in self.layers:
            rec = self.records[name]
            out = self.activations.get(name)
            if out is None:
                for s in STATS:
                    rec[s].append(np.nan)
                continue
            rec["act_mean"].append(float(out.mean()))
            rec["act_std"].append(float(out.std()))
            rec["act_spread"].append(float(out.std(axis=0).mean()) if out.ndim == 2 else np.nan)
            rec["saturated"].append(_saturated(layer, out))
            rec["dead"].append(_dead(layer, out))
            w = _weight(layer)
            has_grad = w is not None and w.grad is not None
            rec["grad_norm"].append(float(np.linalg.norm(w.grad)) if has_grad else np.nan)
            if w is not None:
                self._before[name] = w.data.copy()

    def _record_updates(self):
        for name, layer in self.layers:
            ratios = self.records[name]["update_ratio"]
            before = self._before.pop(name, None)
            if before is None:
                ratios.append(np.nan)
                continue
            after = _weight(layer).data
            norm = np.linalg.norm(before)
            ratios.append(float(np.linalg.norm(after - before) / norm) if norm else np.nan)

    def measure(self, loss_fn, x, y):
        """Record one forward and backward pass on (x, y) without changing any weight.

        Use it on a freshly initialised network to see how gradients flow before training.
        Gradients are left in the parameters' ``.grad``; ``update_ratio`` is NaN.
        """
        self._attach()
        self._recording = True
        try:
            self.model.zero_grad()
            loss_fn(self.model(x), y)
            self.model.backward(loss_fn.backward(), input_grad=False)
            self._record_forward_and_grads(len(self.steps))
            for name, _ in self.layers:
                self.records[name]["update_ratio"].append(np.nan)
            self._before.clear()
        finally:
            self._recording = False
            self._detach()
        return self

    def latest(self, stat):
        """{layer name: the most recent value of ``stat``} for layers where it applies."""
        out = {}
        for name, rec in self.records.items():
            if rec[stat] and not np.isnan(rec[stat][-1]):
                out[name] = rec[stat][-1]
        return out

    def table(self, stat):
        """(layer names, array of shape (len(steps), len(layers))) for one statistic."""
        names = [name for name, _ in self.layers]
        return names, np.array([self.records[n][stat] for n in names]).T


def gradient_norms(model, loss_fn, x, y):
    """{layer name: ||dL/dW||} after one forward/backward pass of ``model`` on (x, y).

    The quickest way to see vanishing gradients: in a deep sigmoid network the first
    layers' norms are orders of magnitude smaller than the last layers'.
    """
    return Monitor(model).measure(loss_fn, x, y).latest("grad_norm")


def gradient_through_time(rnn, x, h0=None, seed=0):
    """How much of a gradient at the last step of a sequence reaches each earlier step.

    Runs ``rnn`` (an :class:`~backproplab.recurrent.RNN`) on ``x`` (N, T, D) and back-propagates
    a random gradient G (N, H) (from ``seed``) put on the last hidden state h_T only, as a loss
    read from h_T would send. Returns an array of shape (T,): entry k is
    ``||dL/dh_(T-k)|| / ||dL/dh_T||`` (norms over the batch and the units), so entry 0 is 1
    and entry k is what k steps of backpropagation through time, k Jacobians
    ``diag(1 - h**2) @ W_hh.T``, left of it. The layer's gradients are left as they were.
    """
    out = rnn(x, h0)
    grad = np.zeros_like(out)
    grad[:, -1] = np.random.default_rng(seed).standard_normal(out[:, -1].shape)
    params = rnn.parameters()
    saved = [p.grad for p in params]
    rnn.zero_grad()  # backward adds into .grad in place: keep the caller's arrays out of it
    rnn.backward(grad, input_grad=False)
    for p, g in zip(params, saved):
        p.grad = g
    norms = np.linalg.norm(rnn.grad_states, axis=(0, 2))[::-1]
    return norms / norms[0]
