"""Exercise 04 (the backward pass in matrix form): the usual bugs, planted in the solution's own
code, lose points with feedback that names them. (Full marks for the solution and "not
attempted" for the exercise, part by part: tests/test_course.py.)

The student objects are the solution notebook's cells, executed here (imports cell plus the
answer cells), so these tests check the notebook as committed. A bug is planted by replacing a
line of an answer cell, the way a student would write it.
"""

import pytest

from backproplab.grading.check import run_part
from backproplab.grading.grader import parse_sources
from backproplab.grading.registry import get_part
from backproplab.grading.parts.ex04_backward_pass import LOOP_CASES
from exercise_support import Exercise, assert_named, part_report, with_bug, without_outputs

NAME = "04_backward_pass"
EX = Exercise(NAME)
notebook = EX.notebook
POINTS = {"ex04_linear_backward": 3, "ex04_relu_backward": 2, "ex04_sigmoid_backward": 2,
          "ex04_softmax_ce_backward": 2, "ex04_backward_layers": 4, "ex04_numerical_gradient": 2,
          "ex04_mylinear": 3, "ex04_overfit": 3}
ANSWERS = {gid: (gid[5:], gid[5:]) for gid in POINTS}
ANSWERS["ex04_mylinear"] = ("mylinear", "MyLinear")


def answer(gid, old=None, new=None):
    """The student object of part ``gid``, from the solution cell, with ``old`` -> ``new``."""
    cell_name, obj = ANSWERS[gid]
    return EX.answer_object(f"ex04_{cell_name}_answer", obj, old, new)


def grade(gid, obj):
    return run_part(get_part(gid), (obj,))


# -- the named mistakes: each loses every point of its part, and is named in every test ---------

NAMED = [
    ("ex04_linear_backward", "dW = X.T @ dZ", "dW = dZ.T @ X", "a transposed weight gradient"),
    ("ex04_linear_backward", "db = dZ.sum(axis=0)", "db = dZ", "db not summed over the batch"),
    ("ex04_linear_backward", "db = dZ.sum(axis=0)", "db = dZ.mean(axis=0)",
     "db not summed over the batch"),
    ("ex04_softmax_ce_backward", "return (P - T) / N", "return P - T", "a forgotten 1/N"),
    ("ex04_sigmoid_backward", "return dA * A * (1 - A)",
     "s = 1 / (1 + np.exp(-A))\n    return dA * s * (1 - s)",
     "sigmoid′ computed from the input instead of the output"),
    ("ex04_relu_backward", "return dA * (Z > 0)", "return dA * (dA > 0)",
     "a ReLU mask from the wrong tensor"),
    ("ex04_relu_backward", "return dA * (Z > 0)", "return np.maximum(dA, 0)",
     "a ReLU mask from the wrong tensor"),
    ("ex04_backward_layers", "dW[l] = A[l - 1].T @ dZ", "dW[l] = dZ.T @ A[l - 1]",
     "a transposed weight gradient"),
    ("ex04_backward_layers", "db[l] = dZ.sum(axis=0)", "db[l] = dZ.mean(axis=0)",
     "db not summed over the batch"),
    ("ex04_backward_layers", "return dW, db, dA", "return dW, db, dZ",
     "dX taken from the last dZ"),
    ("ex04_backward_layers",
     "dW[l] = A[l - 1].T @ dZ                  # (D_{l-1}, N) @ (N, D_l)\n"
     "        db[l] = dZ.sum(axis=0) ",
     "dW[l] = A[l - 1].T @ dZ / len(dZ)\n        db[l] = dZ.sum(axis=0) / len(dZ) ",
     "divided by N again"),
    ("ex04_overfit", "p.data -= lr * p.grad", "p.data += lr * p.grad", "along the gradient"),
]


@pytest.mark.parametrize("gid, old, new, phrase", NAMED)
def test_a_named_mistake_loses_every_point_and_is_named(gid, old, new, phrase):
    result = grade(gid, answer(gid, old, new))
    assert result.score == 0, result.lines
    assert_named(result, phrase)


def test_feedback_shows_expected_and_got_with_shapes():
    result = grade("ex04_linear_backward", answer("ex04_linear_backward", "dW = X.T @ dZ",
                                                  "dW = dZ.T @ X"))
    assert "dW looks like a transposed weight gradient" in result.tests[0].message
    assert "expected shape (3, 2), got shape (2, 3)" in result.tests[0].message
    square = result.tests[1].message  # the square layer: the same shape, other values
    assert "expected shape (3, 3) [" in square and "got shape (3, 3) [" in square


def test_a_mask_off_by_one_layer_is_named_where_shapes_allow():
    result = grade("ex04_backward_layers", answer(
        "ex04_backward_layers", "dZ = dA * (Z[l - 1] > 0)", "dZ = dA * (Z[l] > 0)"))
    passed = [test.name for test in result.tests if test.passed]
    assert passed == [next(iter(LOOP_CASES)) + ": dW, db and dX"]  # K = 1 has no mask
    assert_named(result, "the ReLU mask of the wrong layer (Z[l] > 0 instead of Z[l - 1] > 0",
                 everywhere=False)


# -- other bugs -----------------------------------------------------------------------------------

OTHERS = [
    # gid, old, new, phrase, loses every point
    ("ex04_linear_backward", "dX = dZ @ W.T", "dX = dZ @ W", "dZ @ W instead of dZ @ W.T", True),
    ("ex04_linear_backward", "dW = X.T @ dZ", "dW = X.T @ dZ / len(X)",
     "the weight gradient averaged over the batch", True),
    ("ex04_relu_backward", "return dA * (Z > 0)", "return dA * (Z >= 0)", "the mask Z >= 0",
     False),
    ("ex04_relu_backward", "return dA * (Z > 0)", "return dA * Z", "Z itself instead of the 0/1",
     True),
    ("ex04_sigmoid_backward", "return dA * A * (1 - A)", "return A * (1 - A)",
     "the upstream gradient dA forgotten", True),
    ("ex04_sigmoid_backward", "return dA * A * (1 - A)", "return dA * (1 - A ** 2)",
     "tanh's derivative", True),
    ("ex04_softmax_ce_backward", "E = np.exp(Z - Z.max(axis=1, keepdims=True))",
     "E = np.exp(Z)", "softmax without max-subtraction (overflow at large logits)", False),
    ("ex04_softmax_ce_backward", "return (P - T) / N", "return (T - P) / N", "(the sign)", True),
    ("ex04_softmax_ce_backward", "return (P - T) / N", "return (P - T) / (N * C)",
     "divided by N * C", True),
    ("ex04_backward_layers", "dZ = dA * (Z[l - 1] > 0)", "dZ = dA", "the ReLU mask forgotten",
     False),  # K = 1 has no mask: that test passes
    ("ex04_backward_layers", "dZ = dA * (Z[l - 1] > 0)", "dZ = dA * (dA > 0)",
     "a ReLU mask from the wrong tensor (dA > 0", False),
    ("ex04_backward_layers", "dW[l] = A[l - 1].T @ dZ", "dW[l] = A[l].T @ dZ",
     "layer l's input is A[l - 1] (A[l] is its output)", True),
    ("ex04_backward_layers", "db[l] = dZ.sum(axis=0)", "db[l] = dZ.sum(axis=1)",
     "db summed over the wrong axis", True),
    ("ex04_backward_layers", "for l in range(len(W), 0, -1):", "for l in range(len(W), 1, -1):",
     "did the loop stop before layer 1?", True),
    ("ex04_overfit", "        model.zero_grad()                                   # gradients "
     "accumulate: reset\n", "", "zero_grad() not called", False),
    ("ex04_overfit", "for p in model.parameters():",
     "for p in [q for name, q in model.named_parameters() if name.endswith('W')]:",
     "the biases not updated", True),
    ("ex04_numerical_gradient", "grad[i] = (f_plus - f_minus) / (2 * eps)",
     "grad[i] = (f_plus - f_minus) / eps", "divided by eps instead of 2 eps", False),
    ("ex04_numerical_gradient", "        x[i] = old                       # restored exactly\n",
     "", "x not restored (each entry left at x[i] - eps)", False),
    ("ex04_mylinear", "self.W.accumulate(x.T @ grad_out)", "self.W.grad = x.T @ grad_out",
     "gradients assigned with = instead of accumulated (+=)", False),
    ("ex04_mylinear", "self.W.accumulate(x.T @ grad_out)", "self.W.accumulate(grad_out.T @ x)",
     "a transposed weight gradient", True),
    ("ex04_mylinear", "self.b.accumulate(grad_out.sum(axis=0))", "self.b.accumulate(grad_out)",
     "db not summed over the batch", True),
    ("ex04_mylinear", "self.b.accumulate(grad_out.sum(axis=0))",
     "self.b.accumulate(grad_out.mean(axis=0))", "db not summed over the batch", True),
]


@pytest.mark.parametrize("gid, old, new, phrase, zero", OTHERS)
def test_another_bug_loses_points_and_is_named(gid, old, new, phrase, zero):
    result = grade(gid, answer(gid, old, new))
    assert result.score < POINTS[gid], result.lines
    if zero:
        assert result.score == 0, result.lines
    if phrase != "a ReLU mask":
        assert_named(result, phrase, everywhere=False)


def test_the_numpy_overflow_of_a_naive_softmax_is_a_note_not_an_error():
    result = grade("ex04_softmax_ce_backward", answer(
        "ex04_softmax_ce_backward", "E = np.exp(Z - Z.max(axis=1, keepdims=True))",
        "E = np.exp(Z)"))
    big = next(test for test in result.tests if "large logits" in test.name)
    assert not big.passed and any("overflow" in note for note in big.notes)
    assert sum(test.passed for test in result.tests) == 2


# -- end to end: the grader on a submission with one planted bug --------------------------------


def test_the_grader_takes_exactly_the_points_of_the_buggy_part(tmp_path):
    nb = with_bug(notebook(), "ex04_linear_backward_answer", "dW = X.T @ dZ", "dW = dZ.T @ X")
    sources = parse_sources({EX.path.name: EX.path.read_bytes()})
    # graded without error, the file unchanged
    report = EX.grade_submission(tmp_path, without_outputs(nb), sources,
                                 filename=f"{NAME}-student.ipynb")
    scores, linear = part_report(report, "ex04_linear_backward")
    assert scores == {**POINTS, "ex04_linear_backward": 0.0}
    assert sum("a transposed weight gradient" in line for line in linear.messages) == 3
