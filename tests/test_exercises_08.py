"""Exercise 08, the capstone: each realistic bug loses its own part's points with feedback that
names it. (Full marks for the solution and "not attempted" for the exercise, part by part:
tests/test_course.py.) Using test statistics to standardise loses the whole of its part; a weak
model gets partial credit by its test accuracy.

The answers come from the solution notebook itself (its answer cells, run in-process); a bug is
the solution cell with one line replaced, as a student would write it. Training the final model
takes a few seconds, so the model part is graded only where a test is about it.
"""

import pytest

from backproplab.grading.parts import ex08_capstone_digits as parts
from backproplab.grading.results import PASSED
from exercise_support import Exercise, assert_every_mistake_named, cell, part_report, with_bug

NAME = "08_capstone_digits"
# The setup cell only imports and loads the data, which the answers do not use.
EX = Exercise(NAME, setup="import numpy as np\nimport backproplab as bp")
notebook, run_answers = EX.notebook, EX.run_answers
POINTS = {"ex08_standardize": 2, "ex08_build_model": 2, "ex08_accuracy": 2,
          "ex08_confusion_matrix": 2, "ex08_calibration_error": 3, "ex08_model": 4}
QUICK = [gid for gid in POINTS if gid != "ex08_model"]  # the parts that train nothing


grade = EX.grade  # check() on the objects its grade cell names


def test_the_setup_cell_is_the_split_the_model_part_holds_out():
    """The notebook's split is the part's: the student trains on its train and val only."""
    from backproplab.grading.parts.ex08_capstone_digits import SPLIT

    setup = cell(notebook(), "ex08_imports").source
    assert "val_fraction=0.15, test_fraction=0.15, seed=0, stratify=True" in setup
    assert SPLIT == {"val_fraction": 0.15, "test_fraction": 0.15, "seed": 0, "stratify": True}
    assert "X_train, X_val, _, y_train, y_val, _ = train_val_test_split(" in setup


def test_the_solutions_model_is_the_lessons():
    """Full marks for every part: tests/test_course.py. Here, the model's own result."""
    result, text = grade("ex08_model", run_answers(notebook()))
    assert result.status == PASSED, text
    assert "(it is 98.9 %: 267 of 270)" in text, text  # the lesson's model and result


# -- the named mistake: using test statistics loses the whole part, and every test names it ------

TEST_STATISTICS = "using test statistics"
OWN = ("return (X_train - mean) / std, (X_test - mean) / std",
       "s = X_test.std(axis=0)\n"
       "    return (X_train - mean) / std, (X_test - X_test.mean(axis=0)) / np.where(s == 0, 1, s)")
BOTH = ("mean = X_train.mean(axis=0)\n    std = X_train.std(axis=0)",
        "both = np.concatenate([X_train, X_test])\n"
        "    mean = both.mean(axis=0)\n    std = both.std(axis=0)")


@pytest.mark.parametrize("old, new", [OWN, BOTH], ids=["own statistics", "all the data"])
def test_using_test_statistics_loses_the_whole_part_and_is_named(old, new):
    namespace = run_answers(with_bug(notebook(), "ex08_standardize_answer", old, new))
    result, text = grade("ex08_standardize", namespace)
    assert result.score == 0, text
    assert all(TEST_STATISTICS in test.message for test in result.tests), text
    for other in QUICK:
        if other != "ex08_standardize":
            assert grade(other, namespace)[0].score == POINTS[other]


def test_the_model_part_does_not_depend_on_the_other_parts():
    """Bugs in parts 1-5 (test statistics, Xavier, no eval mode, swapped axes, signed gaps)
    leave the model's points alone: the check standardises with the library and calls
    train_model only."""
    nb = with_bug(notebook(), "ex08_standardize_answer", *OWN)
    nb = with_bug(nb, "ex08_build_model_answer", 'init="he_normal"', 'init="xavier_normal"')
    nb = with_bug(nb, "ex08_accuracy_answer", "model.eval()", "pass")
    nb = with_bug(nb, "ex08_confusion_matrix_answer", "M[true, pred] += 1", "M[pred, true] += 1")
    nb = with_bug(nb, "ex08_calibration_error_answer", *SIGNED)
    namespace = run_answers(nb)
    assert grade("ex08_model", namespace)[0].score == 4
    assert all(grade(gid, namespace)[0].score < POINTS[gid] for gid in QUICK)


# -- other realistic bugs: (answer cell, solution line, buggy line, part, phrase, points kept) ---

ECE = "ex08_calibration_error"
GAP = "abs(correct[in_bin].mean() - confidence[in_bin].mean())"
SIGNED = (GAP, GAP[3:])
ECE_LOOP = ("    ece = 0.0\n"
            "    for lo, hi in zip(edges[:-1], edges[1:]):\n"
            "        in_bin = (confidence > lo) & (confidence <= hi)\n"
            "        if in_bin.any():\n"
            f"            ece += in_bin.mean() * {GAP}\n"
            "    return float(ece)")

BUGS = {
    "std of 0 not guarded": (
        "ex08_standardize_answer", "    std = np.where(std == 0, 1.0, std)\n", "",
        "ex08_standardize", "a constant feature divided by its std of 0", 0),
    "the sample std": (
        "ex08_standardize_answer", "std = X_train.std(axis=0)",
        "std = X_train.std(axis=0, ddof=1)", "ex08_standardize", "ddof=1", 0),
    "only centred": (
        "ex08_standardize_answer", "return (X_train - mean) / std, (X_test - mean) / std",
        "return X_train - mean, X_test - mean", "ex08_standardize", "only centred", 0),
    "Xavier initialisation": (
        "ex08_build_model_answer", 'init="he_normal"', 'init="xavier_normal"',
        "ex08_build_model", "Xavier/Glorot initialisation", 1.2),
    "the default initialisation": (
        "ex08_build_model_answer", ', init="he_normal"', "",
        "ex08_build_model", "Linear's default initialisation", 1.2),
    "no ReLU after the first layer": (
        "ex08_build_model_answer", 'bp.Linear(64, 128, init="he_normal", rng=rng), bp.ReLU(),',
        'bp.Linear(64, 128, init="he_normal", rng=rng),', "ex08_build_model",
        "collapse into one linear map", 1.6),
    "a ReLU after the logits": (
        "ex08_build_model_answer", 'bp.Linear(64, 10, init="he_normal", rng=rng))',
        'bp.Linear(64, 10, init="he_normal", rng=rng), bp.ReLU())', "ex08_build_model",
        "end with a Linear that outputs the raw logits", 1.6),
    "rng not passed to the layers": (
        "ex08_build_model_answer", ", rng=rng", "", "ex08_build_model",
        "drew from backproplab's default generator", 0),
    "accuracy in training mode": (
        "ex08_accuracy_answer", "model.eval()", "pass", "ex08_accuracy",
        "the model left in training mode", 1.2),
    "mode not restored": (
        "ex08_accuracy_answer", "model.train(was_training)", "pass", "ex08_accuracy",
        "came back in eval mode", 1.6),
    "accuracy as a percentage": (
        "ex08_accuracy_answer", "return float(np.mean(pred == y))",
        "return 100 * float(np.mean(pred == y))", "ex08_accuracy", "a percentage", 0.4),
    "number correct": (
        "ex08_accuracy_answer", "return float(np.mean(pred == y))",
        "return float(np.sum(pred == y))", "ex08_accuracy", "the number of correct", 0.4),
    "confusion matrix transposed": (
        "ex08_confusion_matrix_answer", "M[true, pred] += 1", "M[pred, true] += 1",
        "ex08_confusion_matrix", "rows and columns swapped", 0),
    "confusion matrix by fancy indexing": (
        "ex08_confusion_matrix_answer",
        "for true, pred in zip(y_true, y_pred):\n        M[true, pred] += 1",
        "M[y_true, y_pred] += 1", "ex08_confusion_matrix",
        "counts each repeated pair only once", 2 / 3),
    "confusion matrix sized by the labels": (
        "ex08_confusion_matrix_answer", "M = np.zeros((n_classes, n_classes), dtype=int)",
        "k = max(max(y_true), max(y_pred)) + 1\n    M = np.zeros((k, k), dtype=int)",
        "ex08_confusion_matrix", "n_classes ignored", 2 / 3),
    "ECE: signed gaps": (ECE + "_answer", *SIGNED, ECE, "added with their sign", 0),
    "ECE: each bin weighted equally": (
        ECE + "_answer", ECE_LOOP,
        ECE_LOOP.replace("ece = 0.0", "gaps = []").replace(
            f"ece += in_bin.mean() * {GAP}", f"gaps.append({GAP})").replace(
            "float(ece)", "float(np.mean(gaps))"), ECE, "each bin weighted equally", 0),
    "ECE: averaged over all bins": (
        ECE + "_answer", "ece += in_bin.mean() *", "ece += 1 / n_bins *", ECE,
        "averaged over all n_bins bins", 0),
    "ECE: the true class's probability": (
        ECE + "_answer", "confidence = probs.max(axis=1)",
        "confidence = probs[np.arange(len(y)), y]", ECE, "the probability of the true class", 0),
    "ECE: n_bins edges": (
        ECE + "_answer", "np.linspace(0, 1, n_bins + 1)", "np.linspace(0, 1, n_bins)", ECE,
        "n_bins + 1 edges", 0),
    "ECE: half-open bins": (
        ECE + "_answer", "(confidence <= hi)", "(confidence < hi)", ECE,
        "a confidence of exactly 1 left out", 0),
    "ECE: a percentage": (
        ECE + "_answer", "return float(ece)", "return 100 * float(ece)", ECE, "a percentage", 0),
}


@pytest.mark.parametrize("case", BUGS)
def test_a_bug_loses_points_in_its_part_only_and_is_named(case):
    EX.assert_planted_bug(BUGS[case], others=QUICK, tol=1e-5)


def test_every_calibration_mistake_the_part_names_fails_every_test_with_its_name():
    assert_every_mistake_named(ECE, parts.ECE_MISTAKES)


# -- the model: partial credit by test accuracy ----------------------------------------------------

TRAIN_LINE = ("    bp.fit(model, bp.CrossEntropyLoss(), optimizer, (X_train, y_train), epochs=60,\n"
              "           batch_size=32, val_data=(X_val, y_val), early_stopping=10, seed=0, "
              "progress=False)\n")
MODEL_BUGS = {
    # (buggy training call or return, points kept, phrase)
    "not trained at all": ("", 0, "the model did not learn: test accuracy"),
    "one epoch": (TRAIN_LINE.replace("epochs=60", "epochs=1"), 1, "is below 90 %"),
    "three epochs": (TRAIN_LINE.replace("epochs=60", "epochs=3"), 2, "is below 95 %"),
    "five epochs": (TRAIN_LINE.replace("epochs=60", "epochs=5"), 3, "is below 97 %"),
}


@pytest.mark.parametrize("case", MODEL_BUGS)
def test_a_weak_model_gets_partial_credit_by_its_test_accuracy(case):
    new, kept, phrase = MODEL_BUGS[case]
    namespace = run_answers(with_bug(notebook(), "ex08_model_answer", TRAIN_LINE, new))
    result, text = grade("ex08_model", namespace)
    assert result.score == kept, text
    assert phrase in text and "early stopping on the validation set" in text, text


def test_a_training_function_that_returns_nothing_scores_zero_and_says_why():
    nb = with_bug(notebook(), "ex08_model_answer", TRAIN_LINE + "    return model",
                  "    return None")
    namespace = run_answers(nb)
    result, text = grade("ex08_model", namespace)
    assert result.score == 0
    assert all("not a backproplab model" in test.message for test in result.tests), text


def test_a_training_function_that_fails_is_called_once():
    calls = []

    def train_model(X_train, y_train, X_val, y_val):
        calls.append(X_train.shape)
        raise ValueError("no model today")

    result, text = grade("ex08_model", {"train_model": train_model})
    assert result.score == 0 and calls == [(1257, 64)], text
    assert all("no model today" in test.message for test in result.tests), text


def test_grader_end_to_end_a_planted_bug_costs_exactly_its_part(tmp_path):
    """The real grader (kernel, restored cells, scoring, the model trained in the kernel) on a
    submission that standardises the test set with its own statistics."""
    nb = with_bug(notebook(), "ex08_standardize_answer", *OWN)
    report = EX.grade_submission(tmp_path, nb, timeout=120)  # graded, the file unchanged
    scores, part = part_report(report, "ex08_standardize")
    assert scores == {**POINTS, "ex08_standardize": 0}
    assert any(TEST_STATISTICS in message for message in part.messages)
    assert report.total == sum(POINTS.values()) - 2
