"""Words for the student: short summaries of values, differences, exceptions and warnings, and
the lines ``check()`` prints for a part.

Everything here fits on one line: a message that scrolls is a message nobody reads.
"""

import linecache
import os
import sys
import traceback

import numpy as np

from .compare import as_numbers
from .results import NOT_ATTEMPTED, PASSED, format_points

__all__ = ["shorten", "summarize", "explain_difference", "describe_location", "describe_exception",
           "describe_warning", "part_lines"]

_MAX_TEXT = 160  # characters of a repr or an exception message shown
_SHOWN_ENTRIES = 4  # entries of an array shown


def shorten(text, limit=_MAX_TEXT):
    text = " ".join(str(text).split())  # one line
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _number(v):
    return f"{v:.4g}"


def summarize(x):
    """A short description: "shape (3, 2) [0.5, 0.7311, 0.2689, 1, …]", "0.5", "None"."""
    arr = as_numbers(x)
    if arr is None:
        return shorten(repr(x), 60)
    if arr.ndim == 0:
        return _number(arr.item())
    head = ", ".join(_number(v) for v in arr.ravel()[:_SHOWN_ENTRIES].tolist())
    more = ", …" if arr.size > _SHOWN_ENTRIES else ""
    return f"shape {arr.shape} [{head}{more}]"


def explain_difference(got, expected):
    """Expected vs got, with shapes, and where and by how much they differ."""
    base = f"expected {summarize(expected)}, got {summarize(got)}"
    have, want = as_numbers(got), as_numbers(expected)
    if want is None:
        return base
    if have is None:
        return f"expected {summarize(expected)}, got a {type(got).__name__}: {summarize(got)}"
    if have.shape != want.shape:
        return f"expected shape {want.shape}, got shape {have.shape}"
    bad = int(np.size(have) - np.isfinite(have).sum())
    if bad and np.isfinite(want).all():
        return f"{base}: {bad} of {have.size} entries are NaN or inf"
    with np.errstate(all="ignore"):  # inf - inf is nan: counted as an infinite difference
        diff = np.abs(np.where(np.isfinite(have - want), have - want, np.inf))
    worst = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
    where = f" at index {tuple(int(i) for i in worst)}" if diff.ndim else ""
    return f"{base} (max abs difference {float(diff.max()):.3g}{where})"


def _library_paths():
    """Where the code that is not the student's lives: this package, stdlib, site-packages."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # backproplab/
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, package}
    return tuple(os.path.join(os.path.abspath(p), "") for p in prefixes)


def _student_frame(exc):
    """The innermost traceback frame in the student's code (a notebook cell), if any."""
    library = _library_paths()
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        if not os.path.abspath(frame.filename).startswith(library):
            return frame
    return None


def describe_location(exc):
    """"in sigmoid, line 3: return 1 / 0": where in the student's code ``exc`` was raised, or
    None when it was raised outside it."""
    frame = _student_frame(exc)
    if frame is None:
        return None
    line = (frame.line or linecache.getline(frame.filename, frame.lineno)).strip()
    where = f"in {frame.name}, line {frame.lineno}"
    return f"{where}: {shorten(line, 80)}" if line else where


# The usual cause of NumPy's errors about shapes and truth values, in the lessons' words.
_MATMUL_HINT = ("a matrix product's inner sizes must agree: a transposed matrix, or the factors "
                "in the wrong order?")
_NUMPY_HINTS = {
    "could not be broadcast": "shapes that do not broadcast: an axis dropped by .sum, .max "
                              "or .mean (keepdims=True keeps it), or * where the matrix "
                              "product @ was meant?",
    "mismatch in its core dimension": _MATMUL_HINT,  # @ and np.matmul
    "not aligned": _MATMUL_HINT,                     # np.dot
    "truth value of an array": "an if, and, or, max() or min() applied to a whole array: "
                               "NumPy needs np.maximum, np.where, & and |",
    # NumPy before 2.0 warns (and answers False) where NumPy 2 raises "could not be broadcast"
    "elementwise comparison failed": "two arrays of different shapes compared with ==: an "
                                     "argmax, sum or mean over the wrong axis?",
}


def _numpy_hint(message):
    return next((h for key, h in _NUMPY_HINTS.items() if key in message), None)


def describe_exception(exc):
    """"ZeroDivisionError: division by zero (in sigmoid, line 3: return 1 / 0)", and the likely
    cause of NumPy's shape errors."""
    text = f"{type(exc).__name__}: {shorten(exc)}" if str(exc) else type(exc).__name__
    where = describe_location(exc)
    text = f"{text} ({where})" if where else text
    hint = _numpy_hint(str(exc))
    return f"{text}; {hint}" if hint and isinstance(exc, ValueError) else text


def describe_warning(warning):
    """"note: RuntimeWarning: overflow encountered in exp", and the likely cause where NumPy's
    warning has one."""
    text = f"note: {warning.category.__name__}: {shorten(warning.message, 100)}"
    hint = _numpy_hint(str(warning.message))
    return f"{text}; {hint}" if hint else text


def part_lines(result, title):
    """The lines ``check()`` prints: one per test (✓/✗, points, why) and a total line."""
    total = f"{result.grade_id} ({title}): {format_points(result.score)}/" \
            f"{format_points(result.max_score)} points"
    if result.status == NOT_ATTEMPTED:
        return [f"{result.grade_id} ({title}): not attempted yet "
                f"(0/{format_points(result.max_score)} points)"]
    lines = []
    for test in result.tests:
        mark = "✓" if test.status == PASSED else "✗"
        if test.gate:
            required = "required" if test.status == PASSED else \
                "required: without it, every test of this part scores 0"
            line = f"  {mark} {test.name} ({required})"
        else:
            line = f"  {mark} {test.name} ({format_points(test.points)}/" \
                   f"{format_points(test.max_points)})"
        if test.message:
            line += f": {test.message}"
        for note in test.notes:
            line += f" [{note}]"
        lines.append(line)
    if result.status == PASSED:
        total += ", all tests passed"
    return lines + [total]
