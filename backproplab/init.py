"""Weight initialisers, and the package's default random generator.

Our ``Linear`` stores ``W`` with shape (in_features, out_features) and computes ``x @ W``, so
for a weight of shape (fan_in, fan_out):

* **fan_in** = number of inputs feeding each unit = ``shape[0]``;
* **fan_out** = number of units each input feeds = ``shape[1]``.

(PyTorch stores the transpose, (out, in); the fans are the same numbers.)

Why the scale matters: the pre-activation of a unit sums ``fan_in`` terms, so its variance is
``fan_in * Var(w) * Var(x)``. Keeping it equal to ``Var(x)`` needs ``Var(w) = 1/fan_in``; the
backward pass sums over ``fan_out`` terms and would want ``1/fan_out``.

* Xavier/Glorot: ``Var(w) = 2 / (fan_in + fan_out)``, a compromise, for tanh/sigmoid.
* He/Kaiming: ``Var(w) = 2 / fan_in``; ReLU zeroes half its inputs, the 2 makes up for it.
"""

import math

import numpy as np

__all__ = [
    "manual_seed", "default_rng", "zeros", "normal", "uniform", "xavier_uniform",
    "xavier_normal", "he_uniform", "he_normal", "kaiming_uniform", "kaiming_normal",
    "default_linear", "get_initializer", "fans",
]

_rng = np.random.default_rng(0)


def manual_seed(seed):
    """Reset the package's default generator (used when a layer is given no ``rng``)."""
    global _rng
    _rng = np.random.default_rng(seed)


def default_rng():
    """The package's default ``np.random.Generator`` (seeded 0 at import)."""
    return _rng


def fans(shape):
    """(fan_in, fan_out) of a weight of shape (fan_in, fan_out); a bias (n,) has fan_in n."""
    if len(shape) == 1:
        return shape[0], shape[0]
    return shape[0], shape[1]


def _gen(rng):
    return _rng if rng is None else rng


def zeros(shape, rng=None, dtype=np.float64):
    """All zeros. Fine for biases; for weights it makes every unit compute the same thing."""
    return np.zeros(shape, dtype=dtype)


def normal(shape, std=0.01, rng=None, dtype=np.float64):
    """N(0, std^2) entries of the given shape."""
    return (_gen(rng).standard_normal(shape) * std).astype(dtype, copy=False)


def uniform(shape, bound, rng=None, dtype=np.float64):
    """U(-bound, bound) entries of the given shape."""
    return _gen(rng).uniform(-bound, bound, size=shape).astype(dtype, copy=False)


def xavier_uniform(shape, gain=1.0, rng=None, dtype=np.float64):
    """Glorot uniform: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)); Var = 2/(in+out)."""
    fan_in, fan_out = fans(shape)
    return uniform(shape, gain * math.sqrt(6.0 / (fan_in + fan_out)), rng, dtype)


def xavier_normal(shape, gain=1.0, rng=None, dtype=np.float64):
    """Glorot normal: N(0, std^2), std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(shape)
    return normal(shape, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng, dtype)


def he_uniform(shape, rng=None, dtype=np.float64):
    """He/Kaiming uniform for ReLU: U(-a, a), a = sqrt(6 / fan_in); Var = 2/fan_in."""
    fan_in, _ = fans(shape)
    return uniform(shape, math.sqrt(6.0 / fan_in), rng, dtype)


def he_normal(shape, rng=None, dtype=np.float64):
    """He/Kaiming normal for ReLU: N(0, 2/fan_in)."""
    fan_in, _ = fans(shape)
    return normal(shape, math.sqrt(2.0 / fan_in), rng, dtype)


kaiming_uniform = he_uniform
kaiming_normal = he_normal


def default_linear(shape, rng=None, dtype=np.float64):
    """PyTorch's ``nn.Linear`` default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (weights and bias)."""
    fan_in, _ = fans(shape)
    return uniform(shape, 1.0 / math.sqrt(fan_in), rng, dtype)


_BY_NAME = {
    "default": default_linear,
    "zeros": zeros,
    "normal": normal,
    "xavier_uniform": xavier_uniform,
    "xavier_normal": xavier_normal,
    "glorot_uniform": xavier_uniform,
    "glorot_normal": xavier_normal,
    "he_uniform": he_uniform,
    "he_normal": he_normal,
    "kaiming_uniform": he_uniform,
    "kaiming_normal": he_normal,
}


def get_initializer(init):
    """Turn a name ("xavier_uniform", "he_normal", ...) or a callable into an initialiser.

    A callable must accept ``(shape, rng=..., dtype=...)`` and return an array of ``shape``.
    """
    if callable(init):
        return init
    try:
        return _BY_NAME[init]
    except KeyError:
        raise ValueError(f"unknown init {init!r}; choose one of {sorted(_BY_NAME)}") from None
