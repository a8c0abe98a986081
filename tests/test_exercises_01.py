"""Exercise 01, the forward pass: each realistic bug loses its own part's points with feedback
that names it. (Full marks for the solution and "not attempted" for the exercise, part by part:
tests/test_course.py.)

The answers come from the solution notebook itself (its answer cells, run in-process); a bug is
the solution cell with one line replaced, as a student would write it.
"""

import pytest

from exercise_support import Exercise, part_report, with_bug

EX = Exercise("01_forward_pass")
notebook, run_answers = EX.notebook, EX.run_answers
POINTS = {"ex01_sigmoid": 2, "ex01_relu": 2, "ex01_sigmoid_backward": 2,
          "ex01_linear_forward": 2, "ex01_mlp_forward": 2, "ex01_my_linear": 3,
          "ex01_relu_interpolant": 3}


grade = EX.grade  # check() on the objects its grade cell names


# The named mistake of this exercise: sigmoid′ computed from the input instead of the output.
NAMED = "sigmoid′ computed from the input instead of the output"


def test_sigmoid_derivative_from_the_input_loses_the_whole_part_and_is_named():
    nb = with_bug(notebook(), "ex01_sigmoid_backward_answer",
                  "return dA * A * (1 - A)", "return dA * Z * (1 - Z)")
    result, text = grade("ex01_sigmoid_backward", run_answers(nb))
    assert result.score == 0
    assert all(NAMED in test.message for test in result.tests), text


def test_sigmoid_derivative_recomputed_from_the_input_correctly_is_full_marks():
    nb = with_bug(notebook(), "ex01_sigmoid_backward_answer", "return dA * A * (1 - A)",
                  "s = 1 / (1 + np.exp(-Z))\n    return dA * s * (1 - s)")
    result, _ = grade("ex01_sigmoid_backward", run_answers(nb))
    assert result.score == 2


# (answer cell, line in the solution, buggy line, part, phrase in the feedback, points kept)
BUGS = {
    "sigmoid applied to its own output": (
        "ex01_sigmoid_backward_answer", "return dA * A * (1 - A)",
        "s = 1 / (1 + np.exp(-A))\n    return dA * s * (1 - s)",
        "ex01_sigmoid_backward", "the sigmoid applied again to its output", 0),
    "sigmoid backward without dA": (
        "ex01_sigmoid_backward_answer", "return dA * A * (1 - A)", "return A * (1 - A)",
        "ex01_sigmoid_backward", "not multiplied by dA", 0),
    "naive sigmoid": (
        "ex01_sigmoid_answer", "return np.where(Z >= 0, 1 / (1 + e), e / (1 + e))",
        "return 1 / (1 + np.exp(-Z))", "ex01_sigmoid", "overflow encountered in exp", 1.5),
    "np.where with exp(Z) in a branch": (
        "ex01_sigmoid_answer", "return np.where(Z >= 0, 1 / (1 + e), e / (1 + e))",
        "return np.where(Z >= 0, 1 / (1 + np.exp(-Z)), np.exp(Z) / (1 + np.exp(Z)))",
        "ex01_sigmoid", "np.where computes both branches", 1.5),
    "sigmoid with the sign flipped": (
        "ex01_sigmoid_answer", "return np.where(Z >= 0, 1 / (1 + e), e / (1 + e))",
        "return np.where(Z >= 0, e / (1 + e), 1 / (1 + e))", "ex01_sigmoid",
        "the sign of the exponent flipped", 0.5),
    "relu with np.max": (
        "ex01_relu_answer", "return np.maximum(Z, 0)", "return np.max(Z, 0)", "ex01_relu",
        "a maximum over axis 0", 1.5),
    "relu in place": (
        "ex01_relu_answer", "return np.maximum(Z, 0)", "Z[Z < 0] = 0\n    return Z", "ex01_relu",
        "wrote into an array it was given (in relu, line", 1),
    "leaky relu leaking on the wrong side": (
        "ex01_relu_answer", "return np.where(Z > 0, Z, alpha * Z)",
        "return np.where(Z > 0, alpha * Z, Z)", "ex01_relu",
        "the slope alpha on the positive side", 1),
    "transposed W": (
        "ex01_linear_forward_answer", "return X @ W + b", "return X @ W.T + b",
        "ex01_linear_forward", "W transposed (X @ W.T)", 0),
    "bias as a column": (
        "ex01_linear_forward_answer", "return X @ W + b", "return X @ W + b.reshape(-1, 1)",
        "ex01_linear_forward", "the bias added per row", 0),
    "no bias": (
        "ex01_linear_forward_answer", "return X @ W + b", "return X @ W",
        "ex01_linear_forward", "the bias left out", 0),
    "ReLU on the logits": (
        "ex01_mlp_forward_answer", 'return A1 @ params["W2"] + params["b2"]',
        'return np.maximum(A1 @ params["W2"] + params["b2"], 0)', "ex01_mlp_forward",
        "a ReLU after the output layer", 0),
    "no hidden ReLU": (
        "ex01_mlp_forward_answer", "A1 = np.maximum(Z1, 0)", "A1 = Z1", "ex01_mlp_forward",
        "no ReLU between the layers", 0),
    "W in PyTorch's layout": (
        "ex01_my_linear_answer", "size=(in_features, out_features))",
        "size=(out_features, in_features))", "ex01_my_linear", "PyTorch's (out, in) layout", 2.1),
    "no shape check": (
        "ex01_my_linear_answer", "if X.ndim != 2 or X.shape[1] != self.in_features:",
        "if False:", "ex01_my_linear", "instead of raising", 2.1),
    "shape error without the shapes": (
        "ex01_my_linear_answer", 'raise bp.ShapeError(f"{self!r} expected',
        'raise bp.ShapeError("bad input")\n            raise bp.ShapeError(f"{self!r} expected',
        "ex01_my_linear", "does not show the received shape", 2.1),
    "no cache": (
        "ex01_my_linear_answer", "self.cache = X", "pass", "ex01_my_linear",
        "no layer.cache after forward", 2.7),
    "weights from a fresh generator": (
        "ex01_my_linear_answer", "rng = np.random.default_rng() if rng is None else rng",
        "rng = np.random.default_rng()", "ex01_my_linear", "the same rng seed gave different", 2.7),
    # relu_interpolant: every named mistake costs the whole part
    "slopes as output weights": (
        "ex01_relu_interpolant_answer", '"W2": np.diff(slopes, prepend=0.0)[:, None]',
        '"W2": slopes[:, None]', "ex01_relu_interpolant", "the slopes s_k as output weights", 0),
    "changes of slope reversed": (
        "ex01_relu_interpolant_answer", '"W2": np.diff(slopes, prepend=0.0)[:, None]',
        '"W2": -np.diff(slopes, prepend=0.0)[:, None]', "ex01_relu_interpolant",
        "the changes of slope the wrong way round", 0),
    "hidden biases of the wrong sign": (
        "ex01_relu_interpolant_answer", '"b1": -knots[:-1]', '"b1": knots[:-1]',
        "ex01_relu_interpolant", "b1 = +knots", 0),
    "units switched on one knot late": (
        "ex01_relu_interpolant_answer", '"b1": -knots[:-1]', '"b1": -knots[1:]',
        "ex01_relu_interpolant", "unit h switched on at t_h instead of t_(h-1)", 0),
    "no start value": (
        "ex01_relu_interpolant_answer", '"b2": np.array([values[0]])', '"b2": np.zeros(1)',
        "ex01_relu_interpolant", "b2 = 0: the output must start at the first value", 0),
    "W2 as a flat vector": (
        "ex01_relu_interpolant_answer", '"W2": np.diff(slopes, prepend=0.0)[:, None]',
        '"W2": np.diff(slopes, prepend=0.0)', "ex01_relu_interpolant",
        "W2 has shape (4,), not (4, 1) (W2 is a column", 0),
}


@pytest.mark.parametrize("case", BUGS)
def test_a_bug_loses_points_in_its_part_only_and_is_named(case):
    EX.assert_planted_bug(BUGS[case], others=POINTS)


def test_grader_end_to_end_a_planted_bug_costs_exactly_its_part(tmp_path):
    """The real grader (kernel, restored cells, scoring) on a submission with one bug."""
    nb = with_bug(notebook(), "ex01_sigmoid_backward_answer",
                  "return dA * A * (1 - A)", "return dA * Z * (1 - Z)")
    report = EX.grade_submission(tmp_path, nb)  # graded without error, the file unchanged
    scores, part = part_report(report, "ex01_sigmoid_backward")
    assert scores == {**POINTS, "ex01_sigmoid_backward": 0}
    assert any(NAMED in message for message in part.messages)
    assert report.total == sum(POINTS.values()) - 2
