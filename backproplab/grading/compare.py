"""Is a student's answer right? Comparisons that never raise, whatever the student returned."""

import numpy as np

__all__ = ["as_numbers", "same_value", "matching_mistake", "merge_same", "without_answer"]


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
