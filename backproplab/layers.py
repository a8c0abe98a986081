"""Layers: each forward paired with its backward, in the style of CS231n, named like PyTorch.

Every layer is a :class:`Module`. ``forward(x)`` computes the output and keeps in
``self.cache`` what the backward pass will need; ``backward(grad_out)`` takes dL/d(output)
and returns dL/d(input), adding dL/d(parameter) into each parameter's ``.grad``.

Notation used in every docstring: ``N`` is the batch size, ``D`` the number of input
features, ``H`` the number of output features.

Gradients **accumulate** (``+=``), exactly as in PyTorch: call ``model.zero_grad()`` (or
``optimizer.zero_grad()``) before each backward pass, otherwise the gradients of successive
batches add up. ``Parameter.grad`` is ``None`` until the first backward and after
``zero_grad()``.
"""

import numpy as np

from . import init as _init
from ._validate import ShapeError, as_float_array
from .functional import sigmoid

__all__ = [
    "Parameter", "Module", "Linear", "ReLU", "LeakyReLU", "Sigmoid", "Tanh", "Dropout",
    "BatchNorm1d", "Residual", "Sequential",
]


class Parameter:
    """A trainable array and its gradient.

    Attributes
    ----------
    data : ndarray
        The values; optimisers update it in place.
    grad : ndarray or None
        dL/d(data), same shape as ``data``; ``None`` until a backward pass sets it.
    name : str
        A short name ("W", "b", "gamma"), shown in reports.
    """

    __slots__ = ("data", "grad", "name")

    def __init__(self, data, name=""):
        self.data = as_float_array(data, name or "parameter")
        self.grad = None
        self.name = name

    @property
    def shape(self):
        return self.data.shape

    def accumulate(self, grad):
        """Add ``grad`` (shape of ``data``) to ``.grad``: the chain rule's sum over uses."""
        if grad.shape != self.data.shape:  # e.g. a bias gradient not summed over the batch
            raise ShapeError(f"gradient of {self.name or 'a parameter'} has shape {grad.shape} "
                             f"but the parameter has shape {self.data.shape}")
        if self.grad is None:
            self.grad = grad
        else:
            self.grad += grad

    def __repr__(self):
        return f"Parameter(name={self.name!r}, shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class: ``forward``/``backward``, parameters, train/eval mode, state.

    Sub-modules and parameters are found automatically among the instance's attributes
    (a ``Module``, a ``Parameter``, or a list of Modules), as in PyTorch.
    """

    buffers = ()  # names of non-trainable arrays saved in state_dict (e.g. running stats)

    def __init__(self):
        self.training = True
        self.cache = None

    # -- the two passes -----------------------------------------------------------------
    def forward(self, x):
        raise NotImplementedError

    def backward(self, grad_out, input_grad=True):
        """dL/d(input) from dL/d(output); ``None`` when ``input_grad`` is False."""
        raise NotImplementedError

    def __call__(self, x):
        return self.forward(x)

    def _saved(self):
        """What forward cached, or a clear error if forward has not run yet."""
        if self.cache is None:
            raise RuntimeError(
                f"{self!r}.backward() was called before forward(): run a forward pass first, "
                "so the layer has the inputs its backward pass needs"
            )
        return self.cache

    def _check_grad(self, grad_out, shape):
        if grad_out.shape != shape:
            raise ShapeError(
                f"{self!r}.backward expected grad_out of shape {shape} (the shape of its "
                f"output), got {grad_out.shape}"
            )

    # -- structure ----------------------------------------------------------------------
    def named_children(self):
        """(name, module) for each direct sub-module."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield str(i), item

    def modules(self):
        """This module and every sub-module, depth first."""
        yield self
        for _, child in self.named_children():
            yield from child.modules()

    def named_modules(self, prefix=""):
        """(qualified name, module) for this module ('' ) and every sub-module ("0", "1.block")."""
        yield prefix.rstrip("."), self
        for name, child in self.named_children():
            yield from child.named_modules(prefix + name + ".")

    def named_parameters(self, prefix=""):
        """(qualified name, Parameter) pairs, e.g. ("0.W", ...) inside a Sequential."""
        for name, value in vars(self).items():
            if isinstance(value, Parameter):
                yield prefix + name, value
        for name, child in self.named_children():
            yield from child.named_parameters(prefix + name + ".")

    def parameters(self):
        """All trainable :class:`Parameter` objects, in a stable order."""
        return [p for _, p in self.named_parameters()]

    def named_buffers(self, prefix=""):
        for name in self.buffers:
            yield prefix + name, getattr(self, name)
        for name, child in self.named_children():
            yield from child.named_buffers(prefix + name + ".")

    # -- modes and state ----------------------------------------------------------------
    def train(self, mode=True):
        """Training mode (Dropout drops, BatchNorm uses batch statistics). Returns self."""
        for m in self.modules():
            m.training = mode
        return self

    def eval(self):
        """Evaluation mode: Dropout is the identity, BatchNorm uses running statistics."""
        return self.train(False)

    def zero_grad(self):
        """Forget accumulated gradients (sets every ``.grad`` to None, as PyTorch does)."""
        for p in self.parameters():
            p.grad = None

    def state_dict(self):
        """A copy of every parameter and buffer, by qualified name."""
        state = {name: p.data.copy() for name, p in self.named_parameters()}
        state.update({name: np.array(b, copy=True) for name, b in self.named_buffers()})
        return state

    def load_state_dict(self, state):
        """Copy values from :meth:`state_dict` output back in place (shapes must match)."""
        targets = dict(self.named_parameters())
        targets = {name: p.data for name, p in targets.items()}
        targets.update(dict(self.named_buffers()))
        missing = set(targets) - set(state)
        unexpected = set(state) - set(targets)
        if missing or unexpected:
            raise KeyError(f"state_dict mismatch: missing {sorted(missing)}, "
                           f"unexpected {sorted(unexpected)}")
        for name, target in targets.items():
            value = np.asarray(state[name])
            if value.shape != target.shape:
                raise ShapeError(f"{name}: expected shape {target.shape}, got {value.shape}")
            target[...] = value

    def to(self, dtype):
        """Cast every parameter and buffer to ``dtype`` (e.g. np.float32). Returns self."""
        for m in self.modules():
            for value in vars(m).values():
                if isinstance(value, Parameter):
                    value.data = value.data.astype(dtype)
                    value.grad = None
            for name in m.buffers:
                setattr(m, name, getattr(m, name).astype(dtype))
        return self

    # -- printing -----------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        lines.append(")")
        return "\n".join(lines)


class Linear(Module):
    """Fully connected layer: ``out = x @ W + b``.

    Shapes: x (N, D) -> out (N, H), with W (D, H) and b (H,).

    Backward, from the chain rule on ``out[n, h] = sum_d x[n, d] W[d, h] + b[h]``::

        dW = x.T @ grad_out        (D, H)  - sums over the batch
        db = grad_out.sum(axis=0)  (H,)    - b was broadcast over the batch
        dx = grad_out @ W.T        (N, D)

    Parameters
    ----------
    in_features, out_features : int
        D and H.
    bias : bool
        Whether to add ``b``.
    init : str or callable
        Weight initialiser (see :mod:`backproplab.init`); "default" is PyTorch's
        U(-1/sqrt(D), 1/sqrt(D)) for W and b. Named schemes other than "default" start b at 0.
    rng : np.random.Generator, optional
        Source of the initial weights; defaults to the package generator.
    dtype : numpy dtype
        float64 (default) or float32.
    """

    def __init__(self, in_features, out_features, bias=True, init="default", rng=None,
                 dtype=np.float64):
        super().__init__()
        if in_features < 1 or out_features < 1:
            raise ValueError(f"Linear needs positive sizes, got ({in_features}, {out_features})")
        self.in_features, self.out_features = int(in_features), int(out_features)
        make = _init.get_initializer(init)
        self.W = Parameter(make((in_features, out_features), rng=rng, dtype=dtype), "W")
        self.b = None
        if bias:
            make_b = make if init == "default" else _init.zeros
            self.b = Parameter(make_b((out_features,), rng=rng, dtype=dtype), "b")

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, " \
               f"bias={self.b is not None}"

    def forward(self, x):
        x = as_float_array(x)
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ShapeError(f"{self!r} expected input of shape (N, {self.in_features}), "
                             f"got {x.shape}")
        self.cache = x
        out = x @ self.W.data
        if self.b is not None:
            out += self.b.data  # broadcast (H,) over the N rows
        return out

    def backward(self, grad_out, input_grad=True):
        x = self._saved()
        self._check_grad(grad_out, (x.shape[0], self.out_features))
        self.W.accumulate(x.T @ grad_out)
        if self.b is not None:
            self.b.accumulate(grad_out.sum(axis=0))
        return grad_out @ self.W.data.T if input_grad else None


class _Activation(Module):
    """An element-wise function: out = f(x), dx = grad_out * f'(x). Any shape."""

    def forward(self, x):
        x = as_float_array(x)
        out = self._f(x)
        self.cache = (x, out)
        return out

    def backward(self, grad_out, input_grad=True):
        x, out = self._saved()
        self._check_grad(grad_out, x.shape)
        return grad_out * self._df(x, out) if input_grad else None


class ReLU(_Activation):
    """max(0, x); derivative 1 where x > 0 else 0 (0 at the kink, as in PyTorch)."""

    def _f(self, x):
        return np.maximum(x, 0)

    def _df(self, x, out):
        return x > 0


class LeakyReLU(_Activation):
    """x where x > 0, else ``negative_slope * x``; derivative 1 or ``negative_slope``."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = float(negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope:g}"

    def _f(self, x):
        return np.where(x > 0, x, self.negative_slope * x)

    def _df(self, x, out):
        return np.where(x > 0, 1.0, self.negative_slope).astype(x.dtype, copy=False)


class Sigmoid(_Activation):
    """1 / (1 + e^-x), computed stably; derivative s(1 - s) from the *output* s."""

    def _f(self, x):
        return sigmoid(x)

    def _df(self, x, out):
        return out * (1 - out)


class Tanh(_Activation):
    """tanh(x); derivative 1 - tanh(x)^2, from the output."""

    def _f(self, x):
        return np.tanh(x)

    def _df(self, x, out):
        return 1 - out * out


class Dropout(Module):
    """Inverted dropout: in training, zero each entry with probability ``p`` and scale the
    survivors by 1/(1-p), so the expected output equals the input; in eval, the identity.

    Any shape. Backward multiplies by the same mask (and scale).
    """

    def __init__(self, p=0.5, rng=None):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout probability must be in [0, 1], got {p}")
        self.p = float(p)
        self.rng = rng  # None: draw from the package generator (reset by manual_seed)

    def extra_repr(self):
        return f"p={self.p:g}"

    def forward(self, x):
        x = as_float_array(x)
        if not self.training or self.p == 0.0:
            self.cache = 1.0
            return x
        rng = self.rng if self.rng is not None else _init.default_rng()
        keep = rng.random(x.shape) >= self.p
        scale = 0.0 if self.p == 1.0 else 1.0 / (1.0 - self.p)
        mask = keep.astype(x.dtype) * x.dtype.type(scale)
        self.cache = mask
        return x * mask

    def backward(self, grad_out, input_grad=True):
        mask = self._saved()
        if not input_grad:
            return None
        if not np.isscalar(mask):
            self._check_grad(grad_out, mask.shape)
        return grad_out * mask


class BatchNorm1d(Module):
    """Batch normalisation over the batch axis, then a learned scale and shift.

    Shapes: x (N, D) -> out (N, D); gamma, beta (D,).

    Training: normalise with the batch mean and the *biased* batch variance, and update the
    running statistics with ``momentum`` (running_var uses the *unbiased* variance), exactly
    as PyTorch. Eval: normalise with the running statistics.
    """

    buffers = ("running_mean", "running_var")

    def __init__(self, num_features, eps=1e-5, momentum=0.1, dtype=np.float64):
        super().__init__()
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.gamma = Parameter(np.ones(num_features, dtype=dtype), "gamma")
        self.beta = Parameter(np.zeros(num_features, dtype=dtype), "beta")
        self.running_mean = np.zeros(num_features, dtype=dtype)
        self.running_var = np.ones(num_features, dtype=dtype)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps:g}, momentum={self.momentum:g}"

    def forward(self, x):
        x = as_float_array(x)
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ShapeError(f"{self!r} expected input of shape (N, {self.num_features}), "
                             f"got {x.shape}")
        if self.training:
            n = x.shape[0]
            if n < 2:
                raise ShapeError(f"{self!r} needs at least 2 samples per batch in training "
                                 f"mode (the variance of 1 sample is 0), got {n}")
            mean, var = x.mean(axis=0), x.var(axis=0)
            m = self.momentum
            self.running_mean = (1 - m) * self.running_mean + m * mean
            self.running_var = (1 - m) * self.running_var + m * var * (n / (n - 1))
        else:
            mean, var = self.running_mean, self.running_var
        inv_std = 1.0 / np.sqrt(var + self.eps)
        xhat = (x - mean) * inv_std
        self.cache = (xhat, inv_std, self.training)
        return xhat * self.gamma.data + self.beta.data

    def backward(self, grad_out, input_grad=True):
        xhat, inv_std, batch_stats = self._saved()
        self._check_grad(grad_out, xhat.shape)
        self.gamma.accumulate((grad_out * xhat).sum(axis=0))
        self.beta.accumulate(grad_out.sum(axis=0))
        if not input_grad:
            return None
        dxhat = grad_out * self.gamma.data
        if not batch_stats:  # running statistics are constants
            return dxhat * inv_std
        # mean and variance depend on every sample: the two extra terms are their share
        n = xhat.shape[0]
        return inv_std / n * (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))


class Residual(Module):
    """A skip connection: ``out = x + block(x)``. The block must keep the shape.

    Backward: the gradient flows through both paths and adds up:
    ``dx = grad_out + block.backward(grad_out)``. The identity path carries gradient to
    early layers unchanged, which is why deep residual networks train.
    """

    def __init__(self, block):
        super().__init__()
        self.block = block

    def forward(self, x):
        x = as_float_array(x)
        out = self.block.forward(x)
        if out.shape != x.shape:
            raise ShapeError(f"Residual: the block must keep the shape, but it turned "
                             f"{x.shape} into {out.shape}")
        self.cache = True
        return x + out

    def backward(self, grad_out, input_grad=True):
        self._saved()
        through_block = self.block.backward(grad_out, input_grad)
        return grad_out + through_block if input_grad else None


class Sequential(Module):
    """Layers applied one after another; backward runs them in reverse.

    ``Sequential(Linear(2, 16), ReLU(), Linear(16, 3))`` can be indexed (``model[0]``),
    sliced (``model[:2]`` is a Sequential), iterated and measured with ``len``.
    """

    def __init__(self, *layers):
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"Sequential item {i} is not a Module: {layer!r}")
        self.layers = list(layers)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def append(self, layer):
        self.layers.append(layer)
        return self

    def forward(self, x):
        for i, layer in enumerate(self.layers):
            try:
                x = layer.forward(x)
            except ShapeError as err:
                raise ShapeError(f"layer [{i}] of Sequential: {err}") from None
        self.cache = True
        return x

    def backward(self, grad_out, input_grad=True):
        self._saved()
        layers = self.layers
        if not layers:
            return grad_out
        for layer in reversed(layers[1:]):
            grad_out = layer.backward(grad_out)
        return layers[0].backward(grad_out, input_grad)
