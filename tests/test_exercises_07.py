"""Exercise 07, overfitting and underfitting: each realistic bug loses its own part's points with
feedback that names it. (Full marks for the solution and "not attempted" for the exercise, part
by part: tests/test_course.py.) The two named mistakes of this exercise, dropout not scaled by
1/(1-p) and an off-by-one in early stopping, lose their whole part.

The answers come from the solution notebook itself (its answer cells, run in-process); a bug is
the solution cell with one line replaced, as a student would write it.
"""

import pytest

from exercise_support import Exercise, part_report, with_bug

NAME = "07_overfitting_and_underfitting"
EX = Exercise(NAME)
notebook, run_answers = EX.notebook, EX.run_answers
POINTS = {"ex07_l2_penalty": 2, "ex07_l2_grad": 1, "ex07_dropout_forward": 3,
          "ex07_dropout_backward": 1, "ex07_early_stopping": 3, "ex07_choose_degree": 2,
          "ex07_adamw_step": 3, "ex07_kfold": 2}


grade = EX.grade  # check() on the objects its grade cell names


# -- the named mistakes: each loses its whole part, and every test's message names it ----------

UNSCALED = "dropout not scaled by 1/(1-p)"
OFF_BY_ONE = "an off-by-one in early stopping"

NAMED = {
    "dropout forward without the 1/(1-p)": (
        "ex07_dropout_forward_answer", "mask = keep / (1 - p)", "mask = keep * 1.0",
        "ex07_dropout_forward", UNSCALED),
    "dropout backward with the 0/1 pattern of the mask": (
        "ex07_dropout_backward_answer", "return grad_out * mask",
        "return grad_out * (mask > 0)", "ex07_dropout_backward", UNSCALED),
    "early stopping one epoch late (waited > patience)": (
        "ex07_early_stopping_answer", "if waited == patience:", "if waited > patience:",
        "ex07_early_stopping", OFF_BY_ONE),
    "early stopping one epoch early (waited >= patience - 1)": (
        "ex07_early_stopping_answer", "if waited == patience:", "if waited >= patience - 1:",
        "ex07_early_stopping", OFF_BY_ONE),
    "early stopping one epoch late (the counter starts at the improving epoch)": (
        "ex07_early_stopping_answer", "best_loss, best_epoch, waited = loss, epoch, 0",
        "best_loss, best_epoch, waited = loss, epoch, -1", "ex07_early_stopping", OFF_BY_ONE),
    "early stopping with 0-based epochs": (
        "ex07_early_stopping_answer", "return epoch, best_epoch",
        "return epoch - 1, best_epoch - 1", "ex07_early_stopping", OFF_BY_ONE),
}


@pytest.mark.parametrize("case", NAMED)
def test_a_named_mistake_loses_its_whole_part_and_is_named(case):
    answer, old, new, gid, phrase = NAMED[case]
    namespace = run_answers(with_bug(notebook(), answer, old, new))
    result, text = grade(gid, namespace)
    assert result.score == 0, text
    # every test of the part names the mistake, except perhaps the early-stopping test of two
    # runs, when a variant of the bug gives an answer no twin gives on one of the two runs
    named = [test for test in result.tests if phrase in test.message]
    assert len(named) >= len(result.tests) - 1, text
    for other in POINTS:
        if other != gid:  # every other part of the same submission keeps its points
            assert grade(other, namespace)[0].score == POINTS[other]


def test_every_test_of_the_unscaled_dropout_forward_names_the_mistake():
    nb = with_bug(notebook(), "ex07_dropout_forward_answer", "mask = keep / (1 - p)",
                  "mask = keep * 1.0")
    result, text = grade("ex07_dropout_forward", run_answers(nb))
    assert all(UNSCALED in test.message for test in result.tests), text


def test_every_test_of_an_early_stop_one_epoch_late_names_the_off_by_one():
    nb = with_bug(notebook(), "ex07_early_stopping_answer", "if waited == patience:",
                  "if waited > patience:")
    result, text = grade("ex07_early_stopping", run_answers(nb))
    assert all(OFF_BY_ONE in test.message for test in result.tests), text
    assert "patience + 1" in text


def test_an_early_stop_one_epoch_early_is_named_as_such():
    nb = with_bug(notebook(), "ex07_early_stopping_answer", "if waited == patience:",
                  "if waited >= patience - 1:")
    result, text = grade("ex07_early_stopping", run_answers(nb))
    assert all(OFF_BY_ONE in test.message for test in result.tests), text
    assert "patience - 1" in text


def test_the_original_papers_dropout_loses_the_part_and_is_named():
    nb = with_bug(notebook(), "ex07_dropout_forward_answer", "mask = keep / (1 - p)",
                  "mask = keep * 1.0")
    nb = with_bug(nb, "ex07_dropout_forward_answer", "return x, np.ones_like(x)",
                  "return x * (1 - p), np.ones_like(x)")
    result, text = grade("ex07_dropout_forward", run_answers(nb))
    assert result.score == 0, text
    assert "the original paper's dropout" in text and UNSCALED in text


def test_other_correct_dropout_forms_get_full_marks():
    """The same mask written differently: in place, with np.where, bool * float."""
    for new in ["mask = np.where(keep, 1.0 / (1 - p), 0.0)",
                "mask = keep.astype(float)\n    mask /= 1 - p"]:
        nb = with_bug(notebook(), "ex07_dropout_forward_answer", "mask = keep / (1 - p)", new)
        result, text = grade("ex07_dropout_forward", run_answers(nb))
        assert result.score == 3, text


def test_other_correct_early_stopping_forms_get_full_marks():
    """A loop on the distance to the best epoch, and one that checks the patience at the top."""
    loop = (
        "best_epoch = 1\n"
        "    for epoch in range(2, len(val_losses) + 1):\n"
        "        if val_losses[epoch - 1] < val_losses[best_epoch - 1]:\n"
        "            best_epoch = epoch\n"
        "        elif epoch - best_epoch >= patience:\n"
        "            return epoch, best_epoch\n"
        "    return len(val_losses), best_epoch\n"
        "    best_loss, best_epoch, waited = np.inf, None, 0")
    nb = with_bug(notebook(), "ex07_early_stopping_answer",
                  "best_loss, best_epoch, waited = np.inf, None, 0", loop)
    result, text = grade("ex07_early_stopping", run_answers(nb))
    assert result.score == 3, text


# -- other realistic bugs: (answer cell, solution line, buggy line, part, phrase, points kept) ---

BUGS = {
    "L2 penalty without the 1/2": (
        "ex07_l2_penalty_answer", "return lam / 2 * squares", "return lam * squares",
        "ex07_l2_penalty", "the 1/2 missing", 0),
    "L2 penalty on the biases too": (
        "ex07_l2_penalty_answer", ' if name.startswith("W"))', ")",
        "ex07_l2_penalty", "the biases penalised too", 0),
    "L2 penalty with the norms not squared": (
        "ex07_l2_penalty_answer", "np.sum(W ** 2)", "np.linalg.norm(W)",
        "ex07_l2_penalty", "the norms not squared", 0),
    "L2 gradient 2 lambda W": (
        "ex07_l2_grad_answer", "return lam * W", "return 2 * lam * W",
        "ex07_l2_grad", "the 1/2 of the penalty (lambda/2) ||W||^2 forgotten", 0),
    "L2 gradient with the sign flipped": (
        "ex07_l2_grad_answer", "return lam * W", "return -lam * W",
        "ex07_l2_grad", "the sign flipped", 0),
    "L2 gradient computed in place": (
        "ex07_l2_grad_answer", "return lam * W", "W *= lam\n    return W",
        "ex07_l2_grad", "wrote into an array it was given (in l2_grad, line", 0),
    "p used as the keep probability": (
        "ex07_dropout_forward_answer", "keep = rng.random(x.shape) >= p",
        "keep = rng.random(x.shape) < p", "ex07_dropout_forward",
        "p used as the keep probability", 0),
    "dropout scaled by 1/p": (
        "ex07_dropout_forward_answer", "mask = keep / (1 - p)", "mask = keep / p",
        "ex07_dropout_forward", "scaled by 1/p instead of 1/(1-p)", 0),
    "the output scaled but the 0/1 mask returned": (
        "ex07_dropout_forward_answer", "mask = keep / (1 - p)\n    return x * mask, mask",
        "return x * keep / (1 - p), keep", "ex07_dropout_forward",
        "the mask returned as 0/1 (keep) instead of keep / (1 - p)", 2.25),
    "dropout in evaluation too": (
        "ex07_dropout_forward_answer", "    if not train:\n        return x, np.ones_like(x)\n", "",
        "ex07_dropout_forward", "train=False ignored", 2.25),
    "one dropout mask for the whole batch": (
        "ex07_dropout_forward_answer", "keep = rng.random(x.shape) >= p",
        "keep = rng.random(x.shape[-1]) >= p", "ex07_dropout_forward",
        "one mask for the whole batch", 0),
    "dropout backward dividing by the mask": (
        "ex07_dropout_backward_answer", "return grad_out * mask", "return grad_out / mask",
        "ex07_dropout_backward", "divided by the mask", 0),
    "dropout backward returning grad_out": (
        "ex07_dropout_backward_answer", "return grad_out * mask", "return grad_out",
        "ex07_dropout_backward", "grad_out returned unchanged", 0),
    "early stopping returning the stop epoch as the best": (
        "ex07_early_stopping_answer", "return epoch, best_epoch", "return epoch, epoch",
        "ex07_early_stopping", "the stop epoch returned as the best epoch", 0),
    "early stopping with a tie counted as an improvement": (
        "ex07_early_stopping_answer", "if loss < best_loss:", "if loss <= best_loss:",
        "ex07_early_stopping", "a tie counted as an improvement", 2.4),
    "early stopping's best epoch over the whole list": (
        "ex07_early_stopping_answer", "return epoch, best_epoch",
        "return epoch, int(np.argmin(val_losses)) + 1", "ex07_early_stopping",
        "including the epochs after the stop", 1.2),
    "degree chosen by the training error": (
        "ex07_choose_degree_answer", "design(x_val, d) @ coef - y_val",
        "design(x_train, d) @ coef - y_train", "ex07_choose_degree", "TRAINING error", 0),
    "the position instead of the degree": (
        "ex07_choose_degree_answer", "return degrees[int(np.argmin(val_mse))]",
        "return int(np.argmin(val_mse))", "ex07_choose_degree", "the position in degrees", 0),
    "polynomials without an intercept": (
        "ex07_choose_degree_answer",
        "return np.column_stack([np.ones(len(x)), polynomial_features(x, d)])",
        "return polynomial_features(x, d)", "ex07_choose_degree", "without an intercept",
        2 / 3),
    # AdamW: the coupled decay keeps only the "inputs unchanged" test
    "AdamW with the decay in the gradient (Adam's L2)": (
        "ex07_adamw_step_answer", "p = p * (1 - lr * weight_decay)",
        "grad = grad + weight_decay * p", "ex07_adamw_step", "L2 in the gradient", 0.6),
    "AdamW decaying after the step": (
        "ex07_adamw_step_answer", "return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v",
        "return (p / (1 - lr * weight_decay) - lr * m_hat / (np.sqrt(v_hat) + eps))"
        " * (1 - lr * weight_decay), m, v", "ex07_adamw_step",
        "the decay applied after the Adam step", 1.8),
    "AdamW decay without the learning rate": (
        "ex07_adamw_step_answer", "p = p * (1 - lr * weight_decay)", "p = p * (1 - weight_decay)",
        "ex07_adamw_step", "the decay without the learning rate", 1.2),
    "AdamW without bias correction": (
        "ex07_adamw_step_answer", "m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)",
        "m_hat, v_hat = m, v", "ex07_adamw_step", "no bias correction", 1.8),
    "AdamW changing p in place": (
        "ex07_adamw_step_answer", "p = p * (1 - lr * weight_decay)",
        "p *= 1 - lr * weight_decay", "ex07_adamw_step", "wrote into an array it was given", 0),
    # k-fold
    "k-fold without a shuffle": (
        "ex07_kfold_answer", "order = rng.permutation(n)", "order = np.arange(n)",
        "ex07_kfold", "no shuffle", 1.0),
    "k-fold dropping the remainder": (
        "ex07_kfold_answer", "sizes = [n // k + (i < n % k) for i in range(k)]",
        "sizes = [n // k for i in range(k)]", "ex07_kfold", "the last n % k samples dropped", 0.5),
    "k-fold with the remainder in the last fold": (
        "ex07_kfold_answer", "sizes = [n // k + (i < n % k) for i in range(k)]",
        "sizes = [n // k] * (k - 1) + [n - (k - 1) * (n // k)]", "ex07_kfold",
        "all n % k extra samples in the last fold", 1.0),
    "k-fold with a new permutation for every fold": (
        "ex07_kfold_answer",
        "folds = [order[start:stop] for start, stop in zip(bounds[:-1], bounds[1:])]",
        "folds = [(rng.permutation(n) if i else order)[start:stop]\n"
        "             for i, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:]))]",
        "ex07_kfold", "a new permutation for every fold", 0.5),
    "k-fold training on every sample": (
        "ex07_kfold_answer", "return [(np.concatenate(folds[:i] + folds[i + 1:]), folds[i])",
        "return [(np.arange(n), folds[i])", "ex07_kfold",
        "the validation fold left in the training set", 1.0),
    "k-fold training on the earlier folds only": (
        "ex07_kfold_answer", "np.concatenate(folds[:i] + folds[i + 1:])",
        "np.concatenate([np.zeros(0, int)] + folds[:i])", "ex07_kfold",
        "training on the folds before fold i only", 1.0),
}


def test_the_kfold_reference_is_the_librarys_and_other_correct_forms_get_full_marks():
    """np.array_split, and sorted index arrays, are correct answers too."""
    for new in ["folds = np.array_split(order, k)",
                "folds = [np.sort(f) for f in np.array_split(order, k)]"]:
        nb = with_bug(notebook(), "ex07_kfold_answer",
                      "folds = [order[start:stop] for start, stop in zip(bounds[:-1], "
                      "bounds[1:])]", new)
        result, text = grade("ex07_kfold", run_answers(nb))
        assert result.score == 2, text


@pytest.mark.parametrize("case", BUGS)
def test_a_bug_loses_points_in_its_part_only_and_is_named(case):
    EX.assert_planted_bug(BUGS[case], others=POINTS, tol=1e-5)


def test_grader_end_to_end_a_planted_bug_costs_exactly_its_part(tmp_path):
    """The real grader (kernel, restored cells, scoring) on a submission with one bug."""
    nb = with_bug(notebook(), "ex07_early_stopping_answer", "if waited == patience:",
                  "if waited > patience:")
    report = EX.grade_submission(tmp_path, nb)  # graded without error, the file unchanged
    scores, part = part_report(report, "ex07_early_stopping")
    assert scores == {**POINTS, "ex07_early_stopping": 0}
    assert any(OFF_BY_ONE in message for message in part.messages)
    assert report.total == sum(POINTS.values()) - 3
