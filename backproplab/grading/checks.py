"""The object a part's function receives: ``t.close(...)``, ``t.close_all(...)``,
``t.equal(...)``, ``t.shape(...)``, ``t.true(...)``, ``t.raises(...)`` each run one test and
record its result.

Every test takes ``call``, a function of no arguments that calls the student's code (usually a
``lambda``). Calling it here, not in the part's body, is what lets one test fail with a clear
message while the other tests still run.
"""

import contextlib
import io
import itertools
import warnings
from dataclasses import dataclass, field, replace

import numpy as np

from .compare import matching_mistake, relation, same_value
from .feedback import (describe_exception, describe_location, describe_warning,
                       explain_difference, shorten, summarize)
from .guard import Misuse, read_only_write
from .results import ERROR, FAILED, NOT_ATTEMPTED, PASSED, TestResult

__all__ = ["Checks", "compare_all"]


@dataclass
class _Outcome:
    """What calling the student's code gave: a value or an exception, and the warnings."""

    value: object = None
    exception: BaseException = None
    notes: list = field(default_factory=list)


def _attempt(call):
    """Run ``call()``; exceptions and warnings are captured, never propagated (except Ctrl-C,
    which is how the grader interrupts an endless loop)."""
    outcome = _Outcome()
    # Warnings and text on stderr become notes: a RuntimeWarning from a naive sigmoid must not
    # zero a correct answer, nor turn into an exception under `-W error` or pytest's
    # filterwarnings; and nbgrader scores 0 any check cell that writes to stderr.
    with warnings.catch_warnings(record=True) as caught, \
            contextlib.redirect_stderr(io.StringIO()) as stderr, \
            np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
        warnings.simplefilter("always")
        try:
            outcome.value = call()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # SystemExit too: check() must never raise
            outcome.exception = exc
    outcome.notes = list(dict.fromkeys(describe_warning(w) for w in caught))
    if stderr.getvalue().strip():
        outcome.notes.append(f"note: printed to stderr: {shorten(stderr.getvalue(), 100)}")
    return outcome


def _in_place_message(exc):
    """The message for NumPy refusing to let the student's code write into an input (the
    arrays a part passes are read-only copies, see guard.py), or None for anything else."""
    where = describe_location(exc) if read_only_write(exc) else None
    if where is None:
        return None
    return (f"wrote into an array it was given ({where}): the caller's array must stay as it "
            "was; compute a new array (np.maximum, np.where, x * mask) or work on a copy "
            "(x = x.copy())")


def _permutation(got, expected, rtol, atol):
    """The labels of ``expected`` in the order ``got`` holds them, when ``got`` is a reordering
    of the right arrays; else None."""
    labels = list(expected)
    if len(labels) > 5:
        return None
    for order in itertools.permutations(labels):
        if list(order) != labels and all(same_value(g, expected[label], rtol, atol)
                                          for g, label in zip(got, order)):
            return order
    return None


def compare_all(got, expected, mistakes=None, rtol=1e-5, atol=1e-8, exact=()):
    """Several arrays at once: raise AssertionError (one line, naming each wrong array and its
    likely mistake) unless every entry of ``got`` matches ``expected``; else return True.

    expected : dict label -> array (a tuple or list answer is matched to the labels in order,
               a dict answer by its keys)
    mistakes : dict description -> dict label -> buggy array (or None where not applicable),
               or a function of no arguments computing that dict
    exact    : labels compared to within 1e-12 instead of (rtol, atol)
    """
    labels = list(expected)
    if isinstance(got, dict):
        missing = [label for label in labels if label not in got]
        assert not missing, f"the dict has no {', '.join(map(repr, missing))} " \
                            f"(its keys: {', '.join(map(repr, got)) or 'none'})"
        got = [got[label] for label in labels]
    elif isinstance(got, (tuple, list)) and len(got) == len(labels):
        got = list(got)
        order = _permutation(got, expected, rtol, atol)
        assert order is None, f"the right arrays in the order ({', '.join(order)}) instead of " \
                              f"({', '.join(labels)})"
    else:
        raise AssertionError(f"expected {len(labels)} arrays ({', '.join(labels)}), got "
                             f"{summarize(got)}")
    problems = []
    for label, value in zip(labels, got):
        want = expected[label]
        tol = (0.0, 1e-12) if label in exact else (rtol, atol)
        if same_value(value, want, *tol):
            continue
        candidates = {}
        for description, values in (mistakes or {}).items():
            values = values() if callable(values) else values
            if values.get(label) is not None:
                candidates[description] = values[label]
        mistake = matching_mistake(value, candidates, *tol) or relation(value, want, *tol)
        difference = explain_difference(value, want)
        problems.append(f"{label} looks like {mistake} ({difference})" if mistake
                        else f"{label} is wrong ({difference})")
    assert not problems, "; ".join(problems)
    return True


class Checks:
    """Collects the tests of one part. Each method runs one test worth ``points`` (relative
    weights: the part's tests are scaled to the points given to ``@part``)."""

    def __init__(self):
        self.results = []

    # -- the tests -------------------------------------------------------------------------

    def close(self, name, call, expected, *, mistakes=None, points=1, rtol=1e-5, atol=1e-8):
        """``call()`` must return numbers allclose to ``expected``, of the same shape.

        ``mistakes`` maps a description of a known bug ("the gradient without the 1/N") to
        the answer that bug produces (or a function computing it): when the student's answer
        matches one, the message names the mistake.
        """
        self._compare(name, call, expected, mistakes, points, rtol, atol)

    def close_all(self, name, call, expected, *, mistakes=None, hint="not the expected arrays",
                  points=1, rtol=1e-5, atol=1e-8, exact=()):
        """``call()`` must return several arrays, each allclose to ``expected[label]``: a tuple
        in ``expected``'s order, or a dict with its labels (see :func:`compare_all`). The
        message is ``hint`` followed by every wrong array and the mistake it looks like."""
        self.true(name, lambda: compare_all(call(), expected, mistakes, rtol, atol, exact), hint,
                  points=points)

    def equal(self, name, call, expected, *, mistakes=None, points=1):
        """``call()`` must return something equal to ``expected`` (exact for ints, strings,
        tuples; allclose for floats)."""
        self._compare(name, call, expected, mistakes, points, rtol=1e-9, atol=0.0)

    def shape(self, name, call, shape, *, points=1):
        """``call()`` must return an array of shape ``shape``."""
        outcome = _attempt(call)
        if outcome.exception is None:
            got = np.shape(outcome.value)
            ok = got == tuple(shape)
            message = "" if ok else f"expected shape {tuple(shape)}, got shape {got}"
            return self._record(name, points, outcome, ok, message)
        return self._record(name, points, outcome)

    def true(self, name, call, hint, *, points=1):
        """``call()`` must return something true; ``hint`` says what failed and why it matters.

        Inside ``call``, an AssertionError with a message counts as a failure with that
        message, so a property can be a small function full of asserts.
        """
        outcome = _attempt(call)
        if isinstance(outcome.exception, AssertionError):
            detail = str(outcome.exception).split("\n")[0]  # pytest appends the assert's source
            return self._record(name, points, replace(outcome, exception=None), False,
                                f"{hint}: {detail}" if detail else hint)
        if outcome.exception is None:
            return self._record(name, points, outcome, bool(outcome.value), hint)
        return self._record(name, points, outcome)

    def gate(self, name, call, hint):
        """A requirement without points of its own: when ``call()`` does not return something
        true (as in :meth:`true`), every other test of the part scores 0. For what the other
        tests take for granted, e.g. "the model learned" before points for its output's shape."""
        self.true(name, call, hint, points=1)
        self.results[-1].gate, self.results[-1].max_points = True, 0.0
        self.results[-1].points = 0.0

    def raises(self, name, call, exception, *, points=1):
        """``call()`` must raise ``exception`` (a class or a tuple of classes)."""
        outcome = _attempt(call)
        exc = outcome.exception
        if isinstance(exc, (NotImplementedError, Misuse)) or read_only_write(exc) \
                or (exc is not None and not isinstance(exc, exception)):
            return self._record(name, points, outcome)
        names = exception.__name__ if isinstance(exception, type) \
            else " or ".join(e.__name__ for e in exception)
        ok = outcome.exception is not None
        message = "" if ok else f"expected {names}, but it returned {summarize(outcome.value)}"
        return self._record(name, points, replace(outcome, exception=None), ok, message)

    # -- shared machinery ------------------------------------------------------------------

    def _compare(self, name, call, expected, mistakes, points, rtol, atol):
        outcome = _attempt(call)
        if outcome.exception is not None:
            return self._record(name, points, outcome)
        got = outcome.value
        if same_value(got, expected, rtol, atol):
            return self._record(name, points, outcome, True)
        difference = explain_difference(got, expected)
        mistake = matching_mistake(got, mistakes, rtol, atol) or relation(got, expected, rtol, atol)
        message = f"looks like {mistake} ({difference})" if mistake else difference
        return self._record(name, points, outcome, False, message)

    def _record(self, name, points, outcome, ok=False, message=""):
        """Store a TestResult. With an exception in ``outcome``, the exception is the verdict."""
        if not points > 0:  # the part's author's mistake: check() reports it, does not raise
            raise ValueError(f"test {name!r}: points must be positive, got {points!r}")
        exc = outcome.exception
        if isinstance(exc, NotImplementedError):
            status, message = NOT_ATTEMPTED, "not attempted yet"
        elif isinstance(exc, Misuse):
            status, message = FAILED, str(exc)
        elif _in_place_message(exc):
            status, message = FAILED, _in_place_message(exc)
        elif exc is not None:
            status, message = ERROR, f"raised {describe_exception(exc)}"
        else:
            status, message = (PASSED, "") if ok else (FAILED, message)
        self.results.append(TestResult(name, status, points if status == PASSED else 0,
                                       points, message, outcome.notes))
