"""``check(grade_id, *answers)``: run a part's tests on the student's answers, print one line per
test and a total, and return the :class:`~backproplab.grading.results.PartResult`.

Under the grader (environment variable :data:`GRADING_ENV` set), the result is also emitted as
a display output of mimetype :data:`~backproplab.grading.results.RESULT_MIMETYPE`, which is
how the grader reads the score of each part.
"""

import contextlib
import io
import os
import warnings

from .checks import Checks
from .feedback import describe_exception, part_lines, shorten
from .guard import guard
from .registry import get_part
from .results import (ERROR, FAILED, NOT_ATTEMPTED, PASSED, RESULT_MIMETYPE, PartResult,
                      TestResult)

__all__ = ["check", "hidden_test", "run_part", "GRADING_ENV"]

GRADING_ENV = "BACKPROPLAB_GRADING"

_HIDDEN = {}  # grade_id -> [(name, call, hint, points)], for the next check() of that part


def hidden_test(grade_id, name, call, hint="a hidden test failed", points=1):
    """Add a test to the next ``check(grade_id, ...)``, as ``t.true(name, call, hint, points)``
    would: for an instructor's hidden tests, placed before the check() call in the grade cell
    (between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``), so that they count in
    the part's score, print their line, and keep the student's warnings off stderr."""
    _HIDDEN.setdefault(grade_id, []).append((name, call, hint, points))


def check(grade_id, *answers):
    """Check your answer to part ``grade_id``: ``check("sigmoid", sigmoid)``.

    Prints one line per test (✓ or ✗, points, and what went wrong) and a total line, and
    returns the result (``.score``, ``.max_score``, ``.tests``). Never raises, except a
    KeyError for an unknown ``grade_id`` (the message lists the known ones).
    """
    part = get_part(grade_id)
    # Nothing may reach stderr (nbgrader scores such a cell 0): the tests capture what the
    # student's code says; this catches the rest (a warning while the parts load, say).
    with contextlib.redirect_stderr(io.StringIO()) as stray, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_part(part, answers)
    print("\n".join(result.lines))
    if stray.getvalue().strip():
        print(f"(printed to stderr during the check: {shorten(stray.getvalue())})")
    if os.environ.get(GRADING_ENV):
        _emit(result)
    return result


def run_part(part, answers):
    """Run ``part`` on ``answers`` and score it; exceptions end up in the result, not raised."""
    t = Checks()
    crash = None
    try:
        part.run(t, *(guard(answer, part.writable) for answer in answers))
        for name, call, hint, points in _HIDDEN.pop(part.grade_id, []):
            t.true(name, call, hint, points=points)
    except KeyboardInterrupt:  # the grader's timeout: let it stop the cell
        raise
    except BaseException as exc:  # e.g. the part called the student's code outside a test
        crash = exc
    tests = _scaled(t.results, part.points)
    if isinstance(crash, NotImplementedError) \
            or (tests and all(test.status == NOT_ATTEMPTED for test in tests)):
        status, score = NOT_ATTEMPTED, 0.0
    elif crash is not None or not tests:
        # The tests that ran before the crash are not the part: report the crash alone.
        reason = describe_exception(crash) if crash else "this part defines no tests"
        tests = [TestResult("the checks could not run", ERROR, 0.0, part.points, reason)]
        status, score = ERROR, 0.0
    else:
        _apply_gates(tests)
        score = sum(test.points for test in tests)
        status = PASSED if all(test.status == PASSED for test in tests) else FAILED
    result = PartResult(part.grade_id, round(score, 6), float(part.points), status, tests)
    result.lines = part_lines(result, part.title)
    return result


def _scaled(results, points):
    """Turn the tests' relative weights into points adding up to the part's ``points``."""
    weight = sum(test.max_points for test in results) or 1.0  # gates alone weigh nothing
    for test in results:
        test.points = test.points * points / weight
        test.max_points = test.max_points * points / weight
    return results


def _apply_gates(tests):
    """A failed gate (see Checks.gate) takes the points of every other test."""
    failed = [test.name for test in tests if test.gate and test.status != PASSED]
    if not failed:
        return
    for test in tests:
        if not test.gate and test.status == PASSED:
            test.status, test.points = FAILED, 0.0
            test.message = f"not counted: {failed[0]!r} failed"


def _emit(result):
    """Send the result to the grader as a display output (only inside an IPython kernel)."""
    try:
        from IPython import get_ipython
        from IPython.display import display

        if get_ipython() is not None:
            display({RESULT_MIMETYPE: result.to_json()}, raw=True)
    except Exception as exc:  # the grader will report "no result"; check() itself must not raise
        print(f"(could not send the result to the grader: {describe_exception(exc)})")
