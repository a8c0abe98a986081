"""Input checks shared by the whole library: bad input gets a clear error, never a silent
wrong answer."""

import numpy as np

__all__ = ["ShapeError", "NonFiniteError", "as_float_array", "check_finite"]


class ShapeError(ValueError):
    """An array had the wrong shape. The message names who expected what, and what came."""


class NonFiniteError(FloatingPointError):
    """NaN or inf appeared. The message says in which tensor and where."""


def as_float_array(x, name="input", dtype=None):
    """Return ``x`` as a floating-point ndarray, converting integers and bools explicitly.

    float32 and float64 arrays pass through unchanged (no copy); integer and boolean arrays
    become float64 (or ``dtype``); anything else (strings, objects, complex) raises TypeError.
    """
    arr = np.asarray(x)
    if dtype is not None:
        if arr.dtype != dtype:
            _require_real(arr, name)
            arr = arr.astype(dtype)
        return arr
    if arr.dtype.kind == "f":
        return arr
    _require_real(arr, name)
    return arr.astype(np.float64)


def _require_real(arr, name):
    if arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers; got an array of dtype {arr.dtype}"
        )


def check_finite(x, name, where):
    """Raise :class:`NonFiniteError` if ``x`` contains NaN or inf.

    ``name`` is the tensor ("output", "grad of W"); ``where`` the place ("Linear(2, 3).forward").
    """
    if not np.isfinite(x).all():
        n_nan = int(np.isnan(x).sum())
        n_inf = int(np.isinf(x).sum())
        raise NonFiniteError(
            f"{name} in {where} has {n_nan} NaN and {n_inf} inf of {np.size(x)} entries"
        )
