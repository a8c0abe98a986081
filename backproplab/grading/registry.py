"""The registry of graded parts: ``@part("grade_id", points=...)`` and lookup by grade_id.

Parts live in the modules of :mod:`backproplab.grading.parts`. They are imported on the first
lookup, each module on its own, so that a broken module only disables its own parts.
"""

import importlib
import pkgutil
import re
from dataclasses import dataclass

__all__ = ["Part", "UnknownPartError", "part", "get_part", "known_ids"]

# nbgrader's rule for grade_id, so that the same ids work in nbgrader.
GRADE_ID = re.compile(r"^[A-Za-z0-9_-]+$")


class UnknownPartError(KeyError):
    """``check()`` was given a grade_id no part registered; the message lists the known ones."""

    def __str__(self):  # KeyError would show the message in quotes
        return self.args[0]


@dataclass(frozen=True)
class Part:
    """A graded part: ``run(t, *answers)`` records tests on ``t`` (a :class:`Checks`)."""

    grade_id: str
    points: float
    run: callable
    title: str
    writable: tuple = ()  # arguments the student's functions may change in place (guard.py)

    @property
    def origin(self):
        return f"{self.run.__module__}.{self.run.__qualname__}"


_PARTS = {}
_LOAD_ERRORS = {}  # module name -> "ExceptionType: message"
_loaded = False


def part(grade_id, points, title=None, writable=()):
    """Register the decorated function as the checks of part ``grade_id`` worth ``points``.

    The function receives a :class:`~backproplab.grading.checks.Checks` ``t`` and the objects
    the student passed to ``check()``, and declares tests with ``t.close(...)``, ``t.true(...)``
    and friends. ``title`` (default: the function's docstring's first line) is for humans.
    ``writable`` lists the arguments of the student's functions (positions from 0, or keyword
    names) that they are meant to change in place, e.g. an optimiser step's parameters; every
    other input is handed over read-only and compared after the call (see guard.py).
    """
    if not GRADE_ID.match(grade_id):
        raise ValueError(f"grade_id {grade_id!r} must match {GRADE_ID.pattern} (nbgrader's rule)")
    if not points > 0:
        raise ValueError(f"part {grade_id!r}: points must be positive, got {points!r}")

    def register(fn):
        existing = _PARTS.get(grade_id)
        new = Part(grade_id, points, fn, title or (fn.__doc__ or grade_id).strip().splitlines()[0],
                   tuple(writable))
        # Re-registering from the same place is a module reload (importlib.reload in a notebook).
        if existing is not None and existing.origin != new.origin:
            raise ValueError(f"grade_id {grade_id!r} is registered twice: by {existing.origin} "
                             f"and by {new.origin}")
        _PARTS[grade_id] = new
        return fn

    return register


def _load_parts():
    """Import every module of backproplab.grading.parts once, recording failures."""
    global _loaded
    if _loaded:
        return
    from . import parts

    for info in pkgutil.iter_modules(parts.__path__, parts.__name__ + "."):
        try:
            importlib.import_module(info.name)
        except Exception as exc:  # a broken parts module must not break the other parts
            _LOAD_ERRORS[info.name] = f"{type(exc).__name__}: {exc}"
    _loaded = True


def known_ids():
    """All registered grade_ids, sorted."""
    _load_parts()
    return sorted(_PARTS)


def get_part(grade_id):
    """The :class:`Part` registered as ``grade_id``; a KeyError listing the known ids if none."""
    _load_parts()
    try:
        return _PARTS[grade_id]
    except KeyError:
        message = f"no graded part {grade_id!r}; known parts: {', '.join(known_ids()) or 'none'}"
        if _LOAD_ERRORS:
            broken = "; ".join(f"{name} ({error})" for name, error in _LOAD_ERRORS.items())
            message += f". These part modules failed to import: {broken}"
        raise UnknownPartError(message) from None
