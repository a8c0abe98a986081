"""What a student's function must not do behind the caller's back: change the inputs it was
given, or draw random numbers from anywhere but the generator it was given.

``check()`` hands every part its answers wrapped by :func:`guard`, so every part, old or new,
gets these checks without writing them:

- **inputs unchanged.** The function receives read-only copies of the arrays it is given (in
  lists, tuples and dicts too): writing into one raises at the very line that does it, and the
  test names that line. Containers and arrays are also compared after the call. A part whose
  function legitimately updates an argument in place (an optimiser step) lists it in
  ``@part(..., writable=(0, "params"))`` (positions from 0, or keyword names).
- **the rng argument, and only it.** A call given a ``np.random.Generator`` must not draw from
  NumPy's global generator (``np.random.normal``) nor from the package's (``bp.Linear`` without
  ``rng=``), and the same generator state must give the same result: the first such call is
  replayed on deep copies of its arguments.

Both raise :class:`Misuse`, which the test reports as a failure with its message. Two helpers
serve the checks that need to know what the reference does: :func:`uses_rng` (another seed must
give another result) and :func:`draws_nothing` (the generator must not advance).
"""

import contextlib
import copy
import functools
import inspect
import io
import warnings

import numpy as np

from .. import init as _init

__all__ = ["Misuse", "guard", "read_only_write", "uses_rng", "draws_nothing", "fingerprint"]


class Misuse(Exception):
    """The student's code did something a caller cannot accept (changed an input, drew from the
    wrong generator); the message says what. A test reports it as a failure, not a crash."""


def read_only_write(exc):
    """Is ``exc`` NumPy refusing to write into a read-only array?"""
    return isinstance(exc, ValueError) and "read-only" in str(exc)


# -- inputs ---------------------------------------------------------------------------------


def _frozen(value):
    """A copy of ``value`` whose arrays are read-only (lists, tuples and dicts copied too)."""
    if isinstance(value, np.ndarray):
        frozen = value.copy()
        frozen.flags.writeable = False
        return frozen
    if type(value) in (list, tuple):
        return type(value)(_frozen(item) for item in value)
    if type(value) is dict:
        return {key: _frozen(item) for key, item in value.items()}
    return value


def _unchanged(given, original):
    """Does the copy the function was given still equal the caller's ``original``?"""
    if isinstance(original, np.ndarray):
        return isinstance(given, np.ndarray) and given.shape == original.shape and \
            np.array_equal(given, original, equal_nan=original.dtype.kind in "fc")
    if type(original) in (list, tuple):
        return len(given) == len(original) and all(
            _unchanged(g, o) for g, o in zip(given, original))
    if type(original) is dict:
        return all(key in given and _unchanged(given[key], item)
                   for key, item in original.items())  # a key added is no harm
    return given is original  # the same object in the same place (a list's order kept)


def _ordinal(i):
    return {0: "first", 1: "second", 2: "third", 3: "fourth", 4: "fifth"}.get(i, f"#{i + 1}")


def _describe_argument(fn, key):
    """"its second argument (params)": how a message points at an argument."""
    if isinstance(key, str):
        return f"its argument {key}"
    try:
        names = list(inspect.signature(fn).parameters)
        name = f" ({names[key]})" if key < len(names) else ""
    except (TypeError, ValueError):
        name = ""
    return f"its {_ordinal(key)} argument{name}"


# -- generators -----------------------------------------------------------------------------


def _global_states():
    """NumPy's global generator and the package's, as comparable values."""
    key, pos, has_gauss, gauss = np.random.get_state()[1:]
    package = _init.default_rng()
    return (key.tobytes(), pos, has_gauss, gauss), (id(package), repr(package.bit_generator.state))


def _generators(args, kwargs):
    return [v for v in [*args, *kwargs.values()] if isinstance(v, np.random.Generator)]


def fingerprint(value):
    """Every number in ``value`` (arrays, lists, tuples, dicts, a model's parameters), in one
    float array; None when there are none to compare."""
    found = []

    def collect(v):
        if isinstance(v, (bool, int, float, np.number, np.ndarray)):
            arr = np.asarray(v)
            if arr.dtype.kind in "biuf":
                found.append(arr.astype(float).ravel())
        elif isinstance(v, (list, tuple)):
            for item in v:
                collect(item)
        elif isinstance(v, dict):
            for key in sorted(v, key=repr):
                collect(v[key])
        elif callable(getattr(v, "parameters", None)):  # a model: its parameters' values
            for p in v.parameters():
                collect(getattr(p, "data", p))
    collect(value)
    return np.concatenate(found) if found else None


def _same(a, b):
    if a is None or b is None:
        return a is None and b is None
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def _quietly(call):
    """``call()`` with its printing and warnings swallowed (a replay must not print twice)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
            warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return call()


# -- the wrapper ----------------------------------------------------------------------------


class _Guard:
    """A student's function as the part calls it; see the module's docstring."""

    def __init__(self, fn, writable):
        self.fn, self.writable, self.replayed = fn, frozenset(writable), False
        functools.update_wrapper(self, fn)

    def __call__(self, *args, **kwargs):
        given_args = [a if i in self.writable else _frozen(a) for i, a in enumerate(args)]
        given_kwargs = {k: v if k in self.writable else _frozen(v) for k, v in kwargs.items()}
        rngs = _generators(args, kwargs)
        replay = self._replay_copy(given_args, given_kwargs) if rngs else None
        before = _global_states() if rngs else None
        result = self.fn(*given_args, **given_kwargs)
        self._check_inputs(args, kwargs, given_args, given_kwargs)
        if rngs:
            self._check_draws(before, result, given_args, given_kwargs, replay)
        return result

    def _replay_copy(self, args, kwargs):
        """Deep copies of the first rng-taking call's arguments (generators included, at their
        current state), to run it again; None after the first call, or if they cannot be copied."""
        if self.replayed:
            return None
        self.replayed = True
        try:
            return copy.deepcopy((args, kwargs))
        except Exception:  # e.g. an argument holding a lock: no replay, the other checks stay
            return None

    def _check_inputs(self, args, kwargs, given_args, given_kwargs):
        pairs = [(i, g, o) for i, (g, o) in enumerate(zip(given_args, args))] + \
                [(k, given_kwargs[k], o) for k, o in kwargs.items()]
        for key, given, original in pairs:
            if key not in self.writable and not _unchanged(given, original):
                raise Misuse(f"changed {_describe_argument(self.fn, key)} in place: the caller's "
                             "data must stay as it was (work on a copy, or build a new list or "
                             "array)")

    def _check_draws(self, before, result, args, kwargs, replay):
        numpy_state, package_state = _global_states()
        if numpy_state != before[0]:
            raise Misuse("drew from NumPy's global generator (np.random.normal, np.random.rand, "
                         "np.random.shuffle...) instead of the rng it was given: the results "
                         "cannot be reproduced from the seed (use rng.normal, rng.random, "
                         "rng.permutation...)")
        if package_state != before[1]:
            raise Misuse("drew from backproplab's default generator instead of the rng it was "
                         "given (a bp.Linear, Dropout or initialiser without rng=rng?): the "
                         "results cannot be reproduced from the seed")
        if replay is None:
            return
        again_args, again_kwargs = replay
        again = _quietly(lambda: self.fn(*again_args, **again_kwargs))
        if not _same(fingerprint((result, args, kwargs)), fingerprint((again, *replay))):
            raise Misuse("the same rng, in the same state, gave a different result: it draws "
                         "from another generator (np.random.default_rng() without a seed?) "
                         "instead of the rng it was given")


def guard(answer, writable=()):
    """``answer`` wrapped for a part (see the module's docstring): functions only (lambdas and
    partials included); classes, instances and anything else are passed as they are."""
    if inspect.isfunction(answer) or inspect.ismethod(answer) \
            or isinstance(answer, functools.partial):
        return _Guard(answer, writable)
    return answer


# -- helpers for parts that know what the reference draws -------------------------------------


def uses_rng(call, seed=0, other_seed=1):
    """``call(np.random.default_rng(seed))``, after checking that another seed gives another
    result (a generator of the function's own, seeded inside it, would give the same)."""
    result = call(np.random.default_rng(seed))
    other = _quietly(lambda: call(np.random.default_rng(other_seed)))
    if _same(fingerprint(result), fingerprint(other)):
        raise Misuse("another seed gave exactly the same result: it ignores the rng it was "
                     "given (a generator of its own, e.g. np.random.default_rng(0)?); draw "
                     "from the rng argument")
    return result


def draws_nothing(call, rng, what, right=None):
    """``call()``, after which ``rng`` must be in the state it was: ``what`` ("in evaluation
    mode") must not draw, or every later draw from that generator shifts. With ``right``, a
    function of the result, only a right result is blamed for drawing (a wrong one is left to
    the test, whose named mistakes may explain both)."""
    before = repr(rng.bit_generator.state)
    result = call()
    if repr(rng.bit_generator.state) != before and (right is None or right(result)):
        raise Misuse(f"it drew from rng {what}, where nothing random happens: every later "
                     "draw from the same generator shifts (a model would not be reproducible "
                     "across evaluations); draw only when needed")
    return result
