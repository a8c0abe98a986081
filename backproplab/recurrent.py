"""A recurrent layer: the same step applied at every time step, and backpropagation through time.

Shapes (batch first, as PyTorch's ``nn.RNN(..., batch_first=True)``): ``N`` sequences of ``T``
steps of ``D`` features in, ``H`` hidden units. One step is

    h_t = tanh(x_t @ W_ih + h_(t-1) @ W_hh + b)        x_t (N, D), h_t (N, H)

and the layer returns every h_t, shape (N, T, H). The weights are the *same* at every step, so
the backward pass (backpropagation through time, BPTT) runs the steps in reverse and **adds**
each step's share into one gradient per weight: the chain rule's sum over uses, T uses here.

:class:`LastStep` picks h_T out of the (N, T, H) output, so that a sequence classifier is a
plain ``Sequential(RNN(D, H), LastStep(), Linear(H, C))``.
"""

import math

import numpy as np

from . import init as _init
from ._validate import ShapeError, as_float_array
from .layers import Module, Parameter

__all__ = ["RNN", "LastStep"]


class RNN(Module):
    """An Elman recurrent layer with tanh, one layer, batch first: x (N, T, D) -> out (N, T, H).

    ``h_t = tanh(x_t @ W_ih + h_(t-1) @ W_hh + b)`` for t = 1..T, starting from ``h0`` (N, H)
    or zeros; ``out[:, t - 1]`` is h_t, so ``out[:, -1]`` is the final state.

    Backward (BPTT), for ``grad_out`` = dL/dout (N, T, H), from t = T down to 1::

        dh_t  = grad_out[:, t] + dh_(t+1) carried back     (N, H)  two uses of h_t: output, next step
        dz_t  = dh_t * (1 - h_t**2)                        (N, H)  tanh' from the *output* h_t
        carried back to h_(t-1): dz_t @ W_hh.T             (N, H)
        dW_hh = sum_t h_(t-1).T @ dz_t                     (H, H)  summed over the T uses
        dW_ih = sum_t x_t.T @ dz_t, db = sum_t sum_n dz_t  (D, H), (H,)
        dx_t  = dz_t @ W_ih.T                              (N, D)

    (z_t = x_t @ W_ih + h_(t-1) @ W_hh + b is the pre-activation, lesson 04's Z.)

    ``backward`` returns dL/dx (N, T, D). It leaves dh_t, the whole gradient that reached each
    hidden state, in ``grad_states`` (N, T, H) (what vanishes or explodes as t goes back), and
    dL/dh0 (N, H) in ``grad_h0``.

    Parameters
    ----------
    input_size, hidden_size : int
        D and H.
    bias : bool
        Whether to add ``b``.
    batch_first : bool
        Must be True: inputs are (N, T, D). (PyTorch's default is False, time first; say
        ``batch_first=True`` there to get the layout of this layer.)
    truncate : int, optional
        Truncated BPTT: carry the hidden state's gradient back at most within blocks of
        ``truncate`` steps (steps 1..k, k+1..2k, ...), exactly as if the sequence were fed in
        chunks of ``truncate`` steps with the state passed on but detached. None: the full
        gradient.
    rng : np.random.Generator, optional
        Source of the initial weights; defaults to the package generator.
    dtype : numpy dtype
        float64 (default) or float32.

    Differences from ``torch.nn.RNN`` (tested in ``benchmarks/torch_parity.py``): weights are
    stored transposed, ``W_ih`` (D, H) = ``weight_ih_l0.T`` and ``W_hh`` (H, H) =
    ``weight_hh_l0.T``, as ``Linear`` stores ``x @ W``; PyTorch's two biases only ever appear as
    their sum, here one ``b`` = ``bias_ih_l0 + bias_hh_l0``; ``forward`` returns ``out`` only
    (PyTorch also returns ``h_n``, which for one layer is ``out[:, -1]``) and ``h0`` is (N, H)
    (PyTorch: (1, N, H)). Initialisation as PyTorch's: every entry of ``W_ih``, ``W_hh`` and
    ``b`` uniform in +-1/sqrt(hidden_size) (PyTorch's ``bias_ih + bias_hh`` is the sum of two
    such draws, so its spread is larger).
    """

    def __init__(self, input_size, hidden_size, bias=True, batch_first=True, truncate=None,
                 rng=None, dtype=np.float64):
        super().__init__()
        if input_size < 1 or hidden_size < 1:
            raise ValueError(f"RNN needs positive sizes, got ({input_size}, {hidden_size})")
        if not batch_first:
            raise ValueError("backproplab's RNN takes inputs of shape (N, T, D): "
                             "batch_first must be True")
        if truncate is not None and (isinstance(truncate, bool) or int(truncate) != truncate
                                     or truncate < 1):
            raise ValueError(f"truncate must be a positive whole number of steps or None, "
                             f"got {truncate!r}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.truncate = None if truncate is None else int(truncate)
        bound = 1.0 / math.sqrt(hidden_size)
        self.W_ih = Parameter(_init.uniform((input_size, hidden_size), bound, rng, dtype), "W_ih")
        self.W_hh = Parameter(_init.uniform((hidden_size, hidden_size), bound, rng, dtype),
                              "W_hh")
        self.b = Parameter(_init.uniform((hidden_size,), bound, rng, dtype), "b") if bias else None
        self.grad_states = self.grad_h0 = None

    def extra_repr(self):
        return (f"{self.input_size}, {self.hidden_size}, bias={self.b is not None}, "
                f"batch_first=True" + (f", truncate={self.truncate}" if self.truncate else ""))

    def __call__(self, x, h0=None):
        return self.forward(x, h0)

    def forward(self, x, h0=None):
        """x (N, T, D), h0 (N, H) or None (zeros) -> out (N, T, H), out[:, t - 1] = h_t."""
        x = as_float_array(x)
        if x.ndim != 3 or x.shape[2] != self.input_size or x.shape[1] < 1:
            raise ShapeError(f"{self!r} expected input of shape (N, T, {self.input_size}) with "
                             f"T >= 1 (batch first), got {x.shape}")
        n, steps, _ = x.shape
        H = self.hidden_size
        if h0 is None:
            h = np.zeros((n, H), dtype=x.dtype)
        else:
            h = as_float_array(h0, "h0")
            if h.shape != (n, H):
                raise ShapeError(f"{self!r} expected h0 of shape (N, H) = ({n}, {H}), got "
                                 f"{h.shape}")
        h0 = h
        pre = x @ self.W_ih.data  # every step's input term in one product, (N, T, H)
        if self.b is not None:
            pre += self.b.data
        out = np.empty((n, steps, H), dtype=np.result_type(pre, h))
        W_hh = self.W_hh.data
        for t in range(steps):
            h = np.tanh(pre[:, t] + h @ W_hh)
            out[:, t] = h
        self.cache = (x, h0, out)
        return out

    def backward(self, grad_out, input_grad=True):
        """dL/dout (N, T, H) -> dL/dx (N, T, D); adds into W_ih, W_hh, b; sets ``grad_h0``."""
        x, h0, out = self._saved()
        self._check_grad(grad_out, out.shape)
        n, steps, H = out.shape
        W_hh_T = self.W_hh.data.T
        dh = np.empty_like(out)  # dL/dh_t: from the output at t and from the steps after t
        dz = np.empty_like(out)  # dL/dz_t, the gradient at the pre-activation of every step
        carried = np.zeros((n, H), dtype=out.dtype)  # dL/dh_t through the steps after t
        for t in range(steps - 1, -1, -1):
            dh[:, t] = grad_out[:, t] + carried
            dz[:, t] = dh[:, t] * (1 - out[:, t] * out[:, t])
            carried = dz[:, t] @ W_hh_T
            if self.truncate and t % self.truncate == 0 and t > 0:
                carried = np.zeros_like(carried)  # a chunk boundary: the state was detached
        self.grad_states, self.grad_h0 = dh, carried
        previous = np.concatenate([h0[:, None], out[:, :-1]], axis=1)  # h_(t-1), (N, T, H)
        flat_dz = dz.reshape(-1, H)
        self.W_hh.accumulate(previous.reshape(-1, H).T @ flat_dz)  # sum over N and T
        self.W_ih.accumulate(x.reshape(-1, self.input_size).T @ flat_dz)
        if self.b is not None:
            self.b.accumulate(flat_dz.sum(axis=0))
        return dz @ self.W_ih.data.T if input_grad else None


class LastStep(Module):
    """The last time step of a sequence: (N, T, H) -> (N, H), ``out = x[:, -1]``.

    After an :class:`RNN` that is the final state h_T (PyTorch's ``h_n`` for one layer), what a
    model that reads a whole sequence and then answers works with. Backward puts ``grad_out``
    at the last step and zeros at the others: the earlier steps get their gradient through
    the recurrence only.
    """

    def forward(self, x):
        x = as_float_array(x)
        if x.ndim != 3 or x.shape[1] < 1:
            raise ShapeError(f"LastStep expected a sequence of shape (N, T, H) with T >= 1, got "
                             f"{x.shape}")
        self.cache = x.shape
        return x[:, -1].copy()

    def backward(self, grad_out, input_grad=True):
        shape = self._saved()
        self._check_grad(grad_out, (shape[0], shape[2]))
        if not input_grad:
            return None
        grad = np.zeros(shape, dtype=grad_out.dtype)
        grad[:, -1] = grad_out
        return grad
