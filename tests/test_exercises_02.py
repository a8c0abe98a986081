"""Exercise 02, measuring error: each realistic bug loses its own part's points with feedback
that names it. (Full marks for the solution and "not attempted" for the exercise, part by part:
tests/test_course.py.)

Named mistakes tested here: a forgotten 1/N (MSE, its gradient, cross-entropy and its
gradient) and a softmax without max-subtraction (overflow at large logits). Each loses all of
its part's points, and no numpy warning escapes check(). The other planted bugs (BUGS) lose
their own tests' points, are named, and leave every other part its points.

The answers come from the solution notebook itself (its answer cells, run in-process); a bug is
the solution cell with one line replaced, as a student would write it.
"""

import pytest

from exercise_support import Exercise, part_report, with_bug

EX = Exercise("02_measuring_error")
notebook, run_answers = EX.notebook, EX.run_answers
POINTS = {"ex02_mse": 2, "ex02_mse_grad": 2, "ex02_softmax": 3, "ex02_log_softmax": 2,
          "ex02_cross_entropy": 2, "ex02_cross_entropy_grad": 3, "ex02_entropy_kl": 2,
          "ex02_hinge": 3}
FORGOTTEN_1_N = "a forgotten 1/N"
NO_MAX = "softmax without max-subtraction (overflow at large logits)"


grade = EX.grade  # check() on the objects its grade cell names


# (answer cell, line in the solution, buggy line, part, phrase every test names)
NAMED = {
    "mse: sum instead of mean": (
        "ex02_mse_answer", "np.mean((Y_hat - Y) ** 2)", "np.sum((Y_hat - Y) ** 2)", "ex02_mse",
        FORGOTTEN_1_N),
    "mse_grad: no 1/N": (
        "ex02_mse_grad_answer", "return 2 * (Y_hat - Y) / Y_hat.size", "return 2 * (Y_hat - Y)",
        "ex02_mse_grad", FORGOTTEN_1_N),
    "cross_entropy: sum over the batch": (
        "ex02_cross_entropy_answer", "logp[np.arange(N), y].mean()", "logp[np.arange(N), y].sum()",
        "ex02_cross_entropy", FORGOTTEN_1_N),
    "cross_entropy_grad: P - T": (
        "ex02_cross_entropy_grad_answer", "return G / N", "return G", "ex02_cross_entropy_grad",
        FORGOTTEN_1_N),
    "softmax: exp(Z) directly": (
        "ex02_softmax_answer", "E = np.exp(Z - Z.max(axis=1, keepdims=True))", "E = np.exp(Z)",
        "ex02_softmax", NO_MAX),
}


@pytest.mark.parametrize("case", NAMED)
def test_a_named_mistake_loses_the_whole_part_and_every_test_names_it(case):
    answer, old, new, gid, phrase = NAMED[case]
    namespace = run_answers(with_bug(notebook(), answer, old, new))
    result, text = grade(gid, namespace)
    assert result.score == 0, text
    assert all(phrase in test.message for test in result.tests), text
    for other in POINTS:  # the other parts of the same submission keep their points
        if other != gid:
            assert grade(other, namespace)[0].score == POINTS[other]


def test_the_naive_softmax_overflow_is_a_note_not_a_crash():
    nb = with_bug(notebook(), "ex02_softmax_answer",
                  "E = np.exp(Z - Z.max(axis=1, keepdims=True))", "E = np.exp(Z)")
    result, text = grade("ex02_softmax", run_answers(nb))
    assert "overflow encountered in exp" in text and "NaN or inf" in text


# (answer cell, line in the solution, buggy line, part, phrase in the feedback, points kept)
BUGS = {
    "mse: mean absolute error": (
        "ex02_mse_answer", "np.mean((Y_hat - Y) ** 2)", "np.mean(np.abs(Y_hat - Y))", "ex02_mse",
        "the mean absolute error", 0),
    "mse_grad: no factor 2": (
        "ex02_mse_grad_answer", "return 2 * (Y_hat - Y) / Y_hat.size",
        "return (Y_hat - Y) / Y_hat.size", "ex02_mse_grad", "without the factor 2", 0),
    "mse_grad: divided by the rows": (
        "ex02_mse_grad_answer", "return 2 * (Y_hat - Y) / Y_hat.size",
        "return 2 * (Y_hat - Y) / len(Y_hat)", "ex02_mse_grad", "by the number of rows only", 1),
    "softmax over the columns": (
        "ex02_softmax_answer", "return E / E.sum(axis=1, keepdims=True)",
        "E = np.exp(Z - Z.max(axis=0, keepdims=True))\n    return E / E.sum(axis=0, keepdims=True)",
        "ex02_softmax", "softmax over the wrong axis", 0.75),
    "softmax: one max for the whole batch": (
        "ex02_softmax_answer", "E = np.exp(Z - Z.max(axis=1, keepdims=True))",
        "E = np.exp(Z - Z.max())", "ex02_softmax", "the max of the whole batch", 0.75),
    "log_softmax as log(softmax)": (
        "ex02_log_softmax_answer",
        "return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))",
        "return np.log(np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True))",
        "ex02_log_softmax", "log(softmax(Z)) instead of Z - logsumexp(Z)", 1),
    "logsumexp without the max": (
        "ex02_log_softmax_answer",
        "return (m + np.log(np.exp(Z - m).sum(axis=1, keepdims=True)))[:, 0]",
        "return np.log(np.exp(Z).sum(axis=1))", "ex02_log_softmax",
        "without subtracting the max", 1.5),
    "cross_entropy: mean over N x C": (
        "ex02_cross_entropy_answer", "return float(-logp[np.arange(N), y].mean())",
        "return float(-(np.eye(Z.shape[1])[y] * logp).mean())", "ex02_cross_entropy",
        "the mean over all N x C entries", 0),
    "cross_entropy: logp[:, y]": (
        "ex02_cross_entropy_answer", "logp[np.arange(N), y]", "logp[:, y]",
        "ex02_cross_entropy", "an (N, N) block", 0.5),
    "cross_entropy: logits as probabilities": (
        "ex02_cross_entropy_answer", "return float(-logp[np.arange(N), y].mean())",
        "return float(-np.log(Z[np.arange(N), y]).mean())", "ex02_cross_entropy",
        "the logits used as probabilities", 0),
    "cross_entropy: log of an unstable softmax": (
        "ex02_cross_entropy_answer", "return float(-logp[np.arange(N), y].mean())",
        "P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)\n"
        "    return float(-np.log(P[np.arange(N), y]).mean())", "ex02_cross_entropy",
        f"-log of a {NO_MAX}", 1.5),
    "cross_entropy_grad: T - P": (
        "ex02_cross_entropy_grad_answer", "return G / N", "return -G / N",
        "ex02_cross_entropy_grad", "the wrong sign", 0),
    "cross_entropy_grad: unstable softmax": (
        "ex02_cross_entropy_grad_answer", "E = np.exp(Z - Z.max(axis=1, keepdims=True))",
        "E = np.exp(Z)", "ex02_cross_entropy_grad", NO_MAX, 2.25),
    "cross_entropy_grad: one-hot not subtracted": (
        "ex02_cross_entropy_grad_answer", "G[np.arange(N), y] -= 1", "pass",
        "ex02_cross_entropy_grad", "the one-hot targets not subtracted", 0),
    # entropy and KL divergence: a bug in one function costs its tests and the identity test
    "entropy in bits": (
        "ex02_entropy_kl_answer", "return -np.sum(P * np.log(safe), axis=1)",
        "return -np.sum(P * np.log2(safe), axis=1)", "ex02_entropy_kl", "log base 2 (bits)", 0.5),
    "entropy: 0 log 0 as nan": (
        "ex02_entropy_kl_answer", "safe = np.where(P > 0, P, 1.0)", "safe = P",
        "ex02_entropy_kl", "0 log 0 computed as nan", 1),
    "entropy of the wrong sign": (
        "ex02_entropy_kl_answer", "return -np.sum(P * np.log(safe), axis=1)",
        "return np.sum(P * np.log(safe), axis=1)", "ex02_entropy_kl", "the sign flipped", 0.5),
    "KL with the arguments swapped": (
        "ex02_entropy_kl_answer", "P, Q = np.asarray(P, dtype=float), np.asarray(Q, dtype=float)",
        "P, Q = np.asarray(Q, dtype=float), np.asarray(P, dtype=float)", "ex02_entropy_kl",
        "KL(q || p): the arguments swapped", 1),
    "KL as the cross-entropy": (
        "ex02_entropy_kl_answer", "np.log(np.where(on, P, 1.0)) - np.log(np.where(on, Q, 1.0))",
        "-np.log(np.where(on, Q, 1.0))", "ex02_entropy_kl", "without subtracting H(p)", 1),
    # the hinge loss and its gradient: a bug in one function costs its two tests
    "hinge: the right class compared with itself": (
        "ex02_hinge_answer", "terms[rows, y] = 0  # no term for the right class", "pass",
        "ex02_hinge", "the right class compared with itself", 1.5),
    "hinge: CS231n's scale": (
        "ex02_hinge_answer", "return float(terms.sum() / (N * C))",
        "return float(terms.sum() / N)", "ex02_hinge", "no division by C", 1.5),
    "hinge: no max(0, .)": (
        "ex02_hinge_answer", "terms = np.maximum(0, Z - Z[rows, y][:, None] + margin)",
        "terms = Z - Z[rows, y][:, None] + margin", "ex02_hinge", "max(0, ...) left out", 1.5),
    "hinge_grad: the right class left out": (
        "ex02_hinge_answer", "grad[rows, y] = -active.sum(axis=1) / (N * C)", "pass",
        "ex02_hinge", "the right class's entry left out", 1.5),
    "hinge_grad: -1 at the right class": (
        "ex02_hinge_answer", "grad[rows, y] = -active.sum(axis=1) / (N * C)",
        "grad[rows, y] = -1.0 * (active.sum(axis=1) > 0) / (N * C)", "ex02_hinge",
        "-1 / (N C) at the right class", 1.5),
    "hinge_grad: no 1/(N C)": (
        "ex02_hinge_answer",
        "grad = active / (N * C)\n    grad[rows, y] = -active.sum(axis=1) / (N * C)",
        "grad = active.copy()\n    grad[rows, y] = -active.sum(axis=1)", "ex02_hinge",
        "no 1 / (N C)", 1.5),
}


@pytest.mark.parametrize("case", BUGS)
def test_a_bug_loses_points_in_its_part_only_and_is_named(case):
    EX.assert_planted_bug(BUGS[case], others=POINTS)


def test_grader_end_to_end_a_planted_bug_costs_exactly_its_part(tmp_path):
    """The real grader (kernel, restored cells, scoring) on a submission with one bug."""
    nb = with_bug(notebook(), "ex02_cross_entropy_grad_answer", "return G / N", "return G")
    report = EX.grade_submission(tmp_path, nb)  # graded without error, the file unchanged
    scores, part = part_report(report, "ex02_cross_entropy_grad")
    assert scores == {**POINTS, "ex02_cross_entropy_grad": 0}
    assert any(FORGOTTEN_1_N in message for message in part.messages)
    assert report.total == sum(POINTS.values()) - 3
