"""check(): the lines a student reads, the result object, and the promise never to raise.

The student functions below are written the way students write them; the parts are the demo
course's (backproplab/grading/parts/demo.py) plus a few registered here for edge cases.
"""

import numpy as np
import pytest

from backproplab.grading import check, part
from backproplab.grading.check import GRADING_ENV
from backproplab.grading.feedback import explain_difference, summarize
from backproplab.grading.registry import UnknownPartError, get_part, known_ids
from backproplab.grading.results import ERROR, FAILED, NOT_ATTEMPTED, PASSED


def stable_sigmoid(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def naive_sigmoid(x):
    return 1 / (1 + np.exp(-x))  # overflows (a RuntimeWarning) for x = -1000


def linear_backward(x, W, grad_out):
    return grad_out @ W.T, x.T @ grad_out


def transposed_linear_backward(x, W, grad_out):
    return grad_out @ W.T, grad_out.T @ x


def not_attempted(*args):
    # YOUR CODE HERE
    raise NotImplementedError()


def lines_of(capsys):
    return capsys.readouterr().out.rstrip("\n").split("\n")


def test_correct_answer_prints_a_tick_per_test_and_the_total(capsys):
    result = check("demo_sigmoid", stable_sigmoid)
    lines = lines_of(capsys)
    assert len(lines) == 5 and all(line.startswith("  ✓ ") for line in lines[:4])
    assert lines[0] == "  ✓ sigmoid(0) is 0.5 (0.5/0.5)"
    assert lines[-1] == "demo_sigmoid (the logistic sigmoid): 2/2 points, all tests passed"
    assert (result.score, result.max_score, result.status) == (2, 2, PASSED)
    assert [t.passed for t in result.tests] == [True] * 4
    assert result.lines == lines
    assert repr(result) == "<PartResult demo_sigmoid: 2/2 points>"


def test_wrong_answer_shows_expected_and_got_with_shapes(capsys):
    result = check("demo_sigmoid", lambda x: stable_sigmoid(x)[..., None])  # an extra axis
    lines = lines_of(capsys)
    assert lines[0] == ("  ✗ sigmoid(0) is 0.5 (0/0.5): looks like the right values with shape "
                        "(1,) instead of () (keepdims=True left in, or a column where a flat "
                        "array is meant?) (expected shape (), got shape (1,))")
    assert lines[1] == ("  ✗ values on a vector (0/0.5): looks like the right values with shape "
                        "(5, 1) instead of (5,) (keepdims=True left in, or a column where a flat "
                        "array is meant?) (expected shape (5,), got shape (5, 1))")
    assert result.score == 0 and result.status == FAILED
    assert lines[-1] == "demo_sigmoid (the logistic sigmoid): 0/2 points"


def test_values_that_differ_are_summarised_with_the_largest_difference(capsys):
    check("demo_mse_grad", lambda pred, target: (pred - target) / pred.size * 3)
    line = lines_of(capsys)[0]
    assert line.startswith("  ✗ dL/dpred on a (2, 3) batch (0/1.5): expected shape (2, 3) [")
    assert "got shape (2, 3) [" in line and "(max abs difference 0.333 at index (0, 2))" in line


def test_named_mistake_transposed_weight_gradient(capsys):
    result = check("demo_linear_grad", transposed_linear_backward)
    lines = lines_of(capsys)
    assert lines[0] == ("  ✗ dL/dW = x.T @ grad_out (0/2): looks like a transposed weight gradient "
                        "(grad_out.T @ x instead of x.T @ grad_out) "
                        "(expected shape (3, 2), got shape (2, 3))")
    assert lines[1] == "  ✓ dL/dx = grad_out @ W.T (1/1)"
    assert result.score == 1


@pytest.mark.parametrize("student,mistake", [
    (lambda p, t: float(np.sum((p - t) ** 2)), "the sum instead of the mean"),
    (lambda p, t: float(np.mean(np.abs(p - t))), "the mean absolute error"),
])
def test_each_known_mistake_is_named(capsys, student, mistake):
    check("demo_mse", student)
    assert f"looks like {mistake} (expected 0.9167, got " in lines_of(capsys)[0]


def test_not_attempted_is_one_line_and_zero(capsys):
    result = check("demo_linear_grad", not_attempted)
    assert lines_of(capsys) == ["demo_linear_grad (the backward pass of a linear layer y = x @ W): "
                                "not attempted yet (0/3 points)"]
    assert (result.score, result.status) == (0, NOT_ATTEMPTED)


def test_exception_shows_type_message_and_student_line_and_other_tests_run(capsys):
    def sigmoid(x):
        x = np.asarray(x, dtype=float)
        if x.ndim == 0:
            return {}["scalar"]  # breaks only on 0-d input
        return stable_sigmoid(x)

    result = check("demo_sigmoid", sigmoid)
    lines = lines_of(capsys)
    line = sigmoid.__code__.co_firstlineno + 3
    assert lines[0] == ("  ✗ sigmoid(0) is 0.5 (0/0.5): raised KeyError: 'scalar' (in sigmoid, "
                        f"line {line}: return {{}}[\"scalar\"] # breaks only on 0-d input)")
    assert all(line.startswith("  ✓") for line in lines[1:4])
    assert "Traceback" not in "\n".join(lines)
    assert result.score == 1.5 and result.tests[0].status == ERROR


def test_numpy_warnings_do_not_cost_points_and_become_notes(capsys):
    with np.errstate(all="raise"):  # even a student who turned warnings into errors
        result = check("demo_sigmoid", naive_sigmoid)
    lines = lines_of(capsys)
    assert result.score == 2
    assert lines[2] == ("  ✓ saturates to 0 and 1 for x = -1000 and 1000 (0.5/0.5) "
                        "[note: RuntimeWarning: overflow encountered in exp]")


def test_unknown_grade_id_raises_a_keyerror_listing_the_known_ids():
    with pytest.raises(KeyError) as info:
        check("demo_sigmoidd", stable_sigmoid)
    assert isinstance(info.value, UnknownPartError)
    assert str(info.value).startswith("no graded part 'demo_sigmoidd'; known parts: ")
    assert "demo_sigmoid, " in str(info.value) and "demo_linear_grad" in known_ids()


# Parts for the edge cases, registered once for this module.
@part("test_checks_api", points=4)
def _api_part(t, f):
    """every kind of test"""
    t.equal("equal", lambda: f("equal"), (2, 3))
    t.shape("shape", lambda: f("shape"), (2, 3))
    t.true("true", lambda: f("true"), "must be positive")
    t.raises("raises", lambda: f("raises"), ValueError)


@part("test_crashing_part", points=1)
def _crashing_part(t, f):
    """a part calling the student outside a test"""
    t.close("first", lambda: 1.0, 1.0)
    f()  # not in a lambda: the crash stops the part


@part("test_zero_points", points=1)
def _zero_points_part(t, f):
    """a test worth nothing"""
    t.close("free", lambda: f(), 1.0, points=0)


def good_api(kind):
    if kind == "raises":
        raise ValueError("negative")
    return {"equal": (2, 3), "shape": np.zeros((2, 3)), "true": 1 > 0}[kind]


def bad_api(kind):
    if kind == "true":
        raise AssertionError("it was -1")
    return {"equal": (3, 2), "shape": np.zeros((3, 2)), "raises": 7}[kind]


def test_every_kind_of_test_passes_and_fails_with_its_message(capsys):
    assert check("test_checks_api", good_api).score == 4
    capsys.readouterr()
    result = check("test_checks_api", bad_api)
    assert [t.message for t in result.tests] == [
        "looks like the right values in reverse order (expected shape (2,) [2, 3], got shape "
        "(2,) [3, 2] (max abs difference 1 at index (0,)))",
        "expected shape (2, 3), got shape (3, 2)",
        "must be positive: it was -1",
        "expected ValueError, but it returned 7",
    ]
    assert result.score == 0 and all(t.max_points == 1 for t in result.tests)


@pytest.mark.parametrize("answer", [None, "sigmoid", 42, lambda x: "0.5", lambda x: object(),
                                    lambda x: [[1, 2], [3]], lambda x: exit(1)])
def test_check_never_raises_whatever_the_answer(capsys, answer):
    result = check("demo_sigmoid", answer)
    assert result.score == 0 and result.lines == lines_of(capsys)
    assert result.lines[-1] == "demo_sigmoid (the logistic sigmoid): 0/2 points"


def test_a_crash_in_the_part_body_scores_zero_with_the_reason(capsys):
    def crash():
        return 1 / 0

    result = check("test_crashing_part", crash)
    assert result.status == ERROR and result.score == 0
    assert lines_of(capsys) == [
        "  ✗ the checks could not run (0/1): ZeroDivisionError: division by zero "
        f"(in crash, line {crash.__code__.co_firstlineno + 1}: return 1 / 0)",
        "test_crashing_part (a part calling the student outside a test): 0/1 points"]


def test_an_authoring_mistake_is_reported_not_raised(capsys):
    result = check("test_zero_points", lambda: 1.0)
    assert result.status == ERROR and result.lines[0].startswith(
        "  ✗ the checks could not run (0/1): ValueError: test 'free': points must be positive, "
        "got 0")


def test_points_are_weights_scaled_to_the_part(capsys):
    result = check("demo_mse_grad", lambda p, t: 2 * (p - t) / p.size)
    assert [t.max_points for t in result.tests] == [1.5, 0.5]
    assert sum(t.max_points for t in result.tests) == get_part("demo_mse_grad").points


def test_outside_a_kernel_grading_mode_prints_the_same(capsys, monkeypatch):
    monkeypatch.setenv(GRADING_ENV, "1")
    result = check("demo_linear_grad", linear_backward)
    assert lines_of(capsys) == result.lines and result.score == 3
    assert result.to_json()["score"] == 3 and result.to_json()["lines"] == result.lines


def test_registry_rejects_bad_ids_and_duplicates():
    with pytest.raises(ValueError, match="must match"):
        part("not ok!", points=1)
    with pytest.raises(ValueError, match="points must be positive"):
        part("fine", points=0)
    with pytest.raises(ValueError, match="registered twice"):
        part("demo_sigmoid", points=2)(lambda t, f: None)


def test_summaries_of_big_arrays_are_short():
    big = np.arange(10_000.0).reshape(100, 100)
    assert summarize(big) == "shape (100, 100) [0, 1, 2, 3, …]"
    assert summarize(np.float64(0.25)) == "0.25" and summarize(None) == "None"
    other = big.copy()
    other[7, 42] += 3
    assert explain_difference(other, big).endswith("(max abs difference 3 at index (7, 42))")
    assert explain_difference(big * np.nan, big).endswith("10000 of 10000 entries are NaN or inf")
