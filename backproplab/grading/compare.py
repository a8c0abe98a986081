"""Is a student's answer right? Comparisons that never raise, whatever the student returned."""

import numpy as np

__all__ = ["as_numbers", "same_value", "matching_mistake", "relation", "merge_same",
           "without_answer"]


def as_numbers(x):
    """``x`` as a float ndarray, or None when it is not numbers (None, a string, an object,
    a ragged list). Strings are not numbers even when they read as one: "0.5" is a bug."""
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError):
        return None
    return arr.astype(float) if arr.dtype.kind in "biuf" else None


def same_value(got, expected, rtol=1e-5, atol=1e-8):
    """True when ``got`` equals ``expected``: same shape and allclose for numbers, == otherwise.

    Shapes must match exactly: a (3, 1) answer for a (3,) one is a real bug (it broadcasts
    silently later), so allclose's broadcasting is not allowed to hide it.
    """
    want = as_numbers(expected)
    if want is None:
        try:
            return bool(got == expected)
        except Exception:  # e.g. comparing arrays of different shapes
            return False
    have = as_numbers(got)
    if have is None or have.shape != want.shape:
        return False
    with np.errstate(all="ignore"):  # inf entries: a verdict, not a warning
        return bool(np.allclose(have, want, rtol=rtol, atol=atol, equal_nan=True))


def matching_mistake(got, mistakes, rtol=1e-5, atol=1e-8):
    """The description of the first known mistake whose answer ``got`` reproduces, else None.

    ``mistakes`` maps a description ("a transposed weight gradient") to the buggy answer or to a
    function of no arguments computing it.
    """
    for description, buggy in (mistakes or {}).items():
        value = buggy() if callable(buggy) else buggy
        if same_value(got, value, rtol, atol):
            return description
    return None


def _simple_factor(k):
    """"times 4", "divided by 6", "with the opposite sign"... when ``k`` is ±n or ±1/n for a
    whole n (up to 10 000), else None."""
    if not np.isfinite(k) or k == 0 or np.isclose(k, 1, rtol=1e-9, atol=0):
        return None
    sign = "-" if k < 0 else ""
    if np.isclose(k, -1, rtol=1e-9, atol=0):
        return "the right answer with the opposite sign"
    for value, words in ((abs(k), "times"), (1 / abs(k), "divided by")):
        n = round(value)
        if 2 <= n <= 10_000 and np.isclose(value, n, rtol=1e-6, atol=0):
            return f"the right answer {words} {sign}{n}"
    return None


def relation(got, expected, rtol=1e-5, atol=1e-8):
    """In words, how a wrong ``got`` is a simple transformation of ``expected``: a whole
    factor or its inverse ("the right answer times 4"), the opposite sign, the transpose, the
    reverse order, or the right values with an extra (or a missing) axis of length 1. None when
    it is none of these: then the answer is simply different."""
    have, want = as_numbers(got), as_numbers(expected)
    if have is None or want is None or not np.isfinite(have).all() \
            or not np.isfinite(want).all() or not np.any(want):
        return None
    if have.shape != want.shape:
        if have.size == want.size and np.squeeze(have).shape == np.squeeze(want).shape \
                and np.allclose(np.squeeze(have), np.squeeze(want), rtol=rtol, atol=atol):
            return (f"the right values with shape {have.shape} instead of {want.shape} "
                    "(keepdims=True left in, or a column where a flat array is meant?)")
        if have.ndim == 2 and have.shape == want.shape[::-1] \
                and np.allclose(have, want.T, rtol=rtol, atol=atol):
            return "the transpose of the right answer"
        return None
    if want.ndim == 2 and want.shape[0] == want.shape[1] \
            and not np.allclose(want, want.T, rtol=rtol, atol=atol) \
            and np.allclose(have, want.T, rtol=rtol, atol=atol):
        return "the transpose of the right answer"
    if want.ndim >= 1 and len(want) > 1 and not np.allclose(want, want[::-1], rtol=rtol,
                                                              atol=atol) \
            and np.allclose(have, want[::-1], rtol=rtol, atol=atol):
        return "the right values in reverse order"
    k = float(np.vdot(have, want) / np.vdot(want, want))
    if np.allclose(have, k * want, rtol=rtol, atol=atol):
        return _simple_factor(k)
    return None


def merge_same(mistakes, rtol=1e-5, atol=1e-8):
    """``mistakes`` with those that give the same answer on a test named together ("A; or B"),
    so that the message names every mistake the student's answer may come from.

    ``mistakes`` maps a description to the answer that mistake gives (a value: the answers are
    compared here).
    """
    groups = []  # (answer, [descriptions])
    for description, answer in mistakes.items():
        for known, descriptions in groups:
            if same_value(answer, known, rtol, atol):
                descriptions.append(description)
                break
        else:
            groups.append((answer, [description]))
    return {"; or ".join(descriptions): answer for answer, descriptions in groups}


def without_answer(mistakes, expected, rtol=1e-5, atol=1e-8):
    """``mistakes`` without those whose answer is ``expected``: on this test they give the right
    answer, so they are not mistakes here, and naming them would only confuse."""
    return {k: v for k, v in mistakes.items() if not same_value(v, expected, rtol, atol)}
