"""Exercise 05, gradient descent and training: each realistic bug loses its own part's points
with feedback that names it. (Full marks for the solution and "not attempted" for the exercise,
part by part: tests/test_course.py.)

Named mistakes tested here, each losing all of its part's points with every test naming it:
momentum in the other convention (v = mu v - lr g, visible only with a changing learning rate),
with dampening, or with the velocity not kept; RMSprop with eps inside the square root, alpha
swapped, no square root or the old average; Adam without bias correction, with t starting at
0, or with eps inside the square root; a training epoch without zero_grad, without shuffling, or
dropping the last partial batch; a cosine schedule without the 1/2, without pi or eta_min, or
off by one. Power iteration's mistakes (no sign, v not normalised, a product too many) lose the
tests that can see them, and are named there.

The answers come from the solution notebook itself (its answer cells, run in-process); a bug is
the solution cell with a line replaced, as a student would write it.
"""

import numpy as np
import pytest

from backproplab.grading.parts import ex05_gradient_descent as parts
from backproplab.grading.results import PASSED
from backproplab.layers import Parameter
from backproplab.optim import SGD, CosineAnnealingLR
from exercise_support import (Exercise, assert_every_mistake_named, check_quietly as grade,
                              part_report, with_bug)

EX = Exercise("05_gradient_descent")
notebook, run_answers = EX.notebook, EX.run_answers
POINTS = {"ex05_sgd_step": 1, "ex05_momentum_step": 2, "ex05_rmsprop_step": 2,
          "ex05_adam_step": 3, "ex05_train_epoch": 3, "ex05_cosine_lr": 1,
          "ex05_max_stable_lr": 1, "ex05_top_eigenvalue": 2}
ARGS = {"ex05_sgd_step": "sgd_step", "ex05_momentum_step": "momentum_step",
        "ex05_rmsprop_step": "rmsprop_step", "ex05_adam_step": "adam_step",
        "ex05_train_epoch": "train_epoch", "ex05_cosine_lr": "cosine_lr",
        "ex05_max_stable_lr": "max_stable_lr", "ex05_top_eigenvalue": "top_eigenvalue"}

ADAM_BODY = """    t = t + 1
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    param -= lr * m_hat / (np.sqrt(v_hat) + eps)
    return m, v, t"""
MOMENTUM_BODY = """    if velocity is None:
        velocity = grad.copy()
    else:
        velocity = momentum * velocity + grad
    param -= lr * velocity
    return velocity"""


# (answer cell, line in the solution, buggy line, part, phrase every test names)
NAMED = {
    "momentum: the other convention v = mu v - lr g": (
        "ex05_momentum_step_answer", MOMENTUM_BODY,
        "    if velocity is None:\n        velocity = np.zeros_like(param)\n"
        "    velocity = momentum * velocity - lr * grad\n    param += velocity\n"
        "    return velocity", "ex05_momentum_step", "the other momentum convention"),
    "momentum: dampening": (
        "ex05_momentum_step_answer", "velocity = momentum * velocity + grad",
        "velocity = momentum * velocity + (1 - momentum) * grad", "ex05_momentum_step",
        "dampening"),
    "momentum: the velocity not returned": (
        "ex05_momentum_step_answer", "    param -= lr * velocity\n    return velocity",
        "    param -= lr * velocity", "ex05_momentum_step",
        "the velocity was not updated and returned"),
    "momentum: the velocity not updated": (
        "ex05_momentum_step_answer", "velocity = momentum * velocity + grad",
        "velocity = grad", "ex05_momentum_step", "the velocity was not updated and returned"),
    "adam: no bias correction": (
        "ex05_adam_step_answer",
        "m_hat = m / (1 - beta1 ** t)\n    v_hat = v / (1 - beta2 ** t)",
        "m_hat = m\n    v_hat = v", "ex05_adam_step", "no bias correction"),
    "adam: t starting at 0 (incremented after the correction)": (
        "ex05_adam_step_answer", ADAM_BODY, ADAM_BODY.replace("    t = t + 1\n", "").replace(
            "return m, v, t", "return m, v, t + 1"), "ex05_adam_step", "t starting at 0"),
    "adam: t starting at 0 (never incremented)": (
        "ex05_adam_step_answer", "    t = t + 1\n", "", "ex05_adam_step", "t starting at 0"),
    "adam: eps inside the square root": (
        "ex05_adam_step_answer", "np.sqrt(v_hat) + eps", "np.sqrt(v_hat + eps)", "ex05_adam_step",
        "eps inside the square root"),
    "epoch: no zero_grad": (
        "ex05_train_epoch_answer", "        optimizer.zero_grad()\n", "", "ex05_train_epoch",
        "forgetting optimizer.zero_grad()"),
    "epoch: no shuffling": (
        "ex05_train_epoch_answer", "order = rng.permutation(N)", "order = np.arange(N)",
        "ex05_train_epoch", "no shuffling"),
    "epoch: the last partial batch dropped, mean over the examples used": (
        "ex05_train_epoch_answer",
        "    for start in range(0, N, batch_size):",
        "    N = N - N % batch_size\n    for start in range(0, N, batch_size):",
        "ex05_train_epoch", "the last, partial batch dropped"),
    "epoch: the last partial batch dropped, divided by N": (
        "ex05_train_epoch_answer",
        "    for start in range(0, N, batch_size):",
        "    for start in range(0, N - N % batch_size, batch_size):",
        "ex05_train_epoch", "the last, partial batch dropped"),
    "rmsprop: eps inside the square root": (
        "ex05_rmsprop_step_answer", "np.sqrt(square_avg) + eps", "np.sqrt(square_avg + eps)",
        "ex05_rmsprop_step", "eps inside the square root"),
    "rmsprop: alpha and 1 - alpha swapped": (
        "ex05_rmsprop_step_answer", "alpha * square_avg + (1 - alpha) * grad * grad",
        "(1 - alpha) * square_avg + alpha * grad * grad", "ex05_rmsprop_step",
        "alpha and 1 - alpha swapped"),
    "rmsprop: the step with the old average": (
        "ex05_rmsprop_step_answer",
        "    square_avg = alpha * square_avg + (1 - alpha) * grad * grad\n"
        "    param -= lr * grad / (np.sqrt(square_avg) + eps)\n",
        "    param -= lr * grad / (np.sqrt(square_avg) + eps)\n"
        "    square_avg = alpha * square_avg + (1 - alpha) * grad * grad\n",
        "ex05_rmsprop_step", "the step taken with the average from before this gradient"),
    "rmsprop: not in place": (
        "ex05_rmsprop_step_answer", "param -= lr * grad", "param = param - lr * grad",
        "ex05_rmsprop_step", "instead of updating param in place"),
    "cosine: no 1/2": (
        "ex05_cosine_lr_answer", "(1 + np.cos(np.pi * epoch / T_max)) / 2",
        "(1 + np.cos(np.pi * epoch / T_max))", "ex05_cosine_lr", "the factor 1/2 left out"),
    "cosine: degrees, no pi": (
        "ex05_cosine_lr_answer", "np.cos(np.pi * epoch / T_max)", "np.cos(epoch / T_max)",
        "ex05_cosine_lr", "no pi in the angle"),
    "cosine: eta_min ignored": (
        "ex05_cosine_lr_answer", "eta_min + (base_lr - eta_min) *", "base_lr *",
        "ex05_cosine_lr", "eta_min ignored"),
    "cosine: T_max - 1": (
        "ex05_cosine_lr_answer", "epoch / T_max)", "epoch / (T_max - 1))", "ex05_cosine_lr",
        "T_max - 1 in the denominator"),
}


@pytest.mark.parametrize("case", NAMED)
def test_a_named_mistake_loses_the_whole_part_and_every_test_names_it(case):
    answer, old, new, gid, phrase = NAMED[case]
    namespace = run_answers(with_bug(notebook(), answer, old, new))
    result, text = grade(gid, namespace[ARGS[gid]])
    assert result.score == 0, text
    assert all(phrase in test.message for test in result.tests), text
    for other in POINTS:  # the other parts of the same submission keep their points
        if other != gid:
            assert grade(other, namespace[ARGS[other]])[0].score == POINTS[other]


def test_t_starting_at_0_gives_nan_with_a_note_not_a_crash():
    nb = with_bug(notebook(), "ex05_adam_step_answer", "    t = t + 1\n", "")
    result, text = grade("ex05_adam_step", run_answers(nb)["adam_step"])
    assert "NaN or inf" in text and "RuntimeWarning" in text, text


# (answer cell, line in the solution, buggy line, part, phrase in the feedback, points kept)
BUGS = {
    "sgd: gradient ascent": (
        "ex05_sgd_step_answer", "p -= lr * g", "p += lr * g", "ex05_sgd_step", "gradient ascent",
        0),
    "sgd: a new array instead of in place": (
        "ex05_sgd_step_answer", "p -= lr * g", "p = p - lr * g", "ex05_sgd_step",
        "instead of updating the array in place", 0),
    "momentum: the step with the old velocity": (
        "ex05_momentum_step_answer", MOMENTUM_BODY,
        "    if velocity is None:\n        velocity = np.zeros_like(param)\n"
        "    param -= lr * velocity\n    return momentum * velocity + grad",
        "ex05_momentum_step", "the step taken with the old velocity", 0),
    "adam: t returned unchanged": (
        "ex05_adam_step_answer", "return m, v, t", "return m, v, t - 1", "ex05_adam_step",
        "t never incremented", 0),
    "adam: eps before the bias correction": (
        "ex05_adam_step_answer",
        "v_hat = v / (1 - beta2 ** t)\n    param -= lr * m_hat / (np.sqrt(v_hat) + eps)",
        "param -= lr * m_hat / ((np.sqrt(v) + eps) / np.sqrt(1 - beta2 ** t))",
        "ex05_adam_step", "eps added before the bias correction", 0),
    "epoch: the plain mean of the batch losses": (
        "ex05_train_epoch_answer", "total += loss * len(idx)\n    return total / N",
        "total += loss\n    return total / int(np.ceil(N / batch_size))", "ex05_train_epoch",
        "the plain mean of the batch losses", 0),
    "epoch: zero_grad between backward and step": (
        "ex05_train_epoch_answer",
        "        optimizer.zero_grad()\n        model.backward(loss_fn.backward())\n",
        "        model.backward(loss_fn.backward())\n        optimizer.zero_grad()\n",
        "ex05_train_epoch", "zero_grad() between backward() and step()", 0),
    "epoch: the last batch's loss": (
        "ex05_train_epoch_answer", "return total / N", "return loss", "ex05_train_epoch",
        "the last batch's loss returned", 0),
    "epoch: returns nothing": (
        "ex05_train_epoch_answer", "return total / N", "pass", "ex05_train_epoch",
        "return the epoch's mean loss", 0),
    "lr: 1 / lambda_max": (
        "ex05_max_stable_lr_answer", "2 / np.linalg.eigvalsh(A)[-1]",
        "1 / np.linalg.eigvalsh(A)[-1]", "ex05_max_stable_lr", "1 / lambda_max", 0),
    "lr: the smallest eigenvalue": (
        "ex05_max_stable_lr_answer", "2 / np.linalg.eigvalsh(A)[-1]",
        "2 / np.linalg.eigvalsh(A)[0]", "ex05_max_stable_lr", "2 / lambda_min", 0),
    "lr: the diagonal as eigenvalues": (
        "ex05_max_stable_lr_answer", "2 / np.linalg.eigvalsh(A)[-1]", "2 / np.max(np.diag(A))",
        "ex05_max_stable_lr", "2 / max(diag(A))", 0),
    # power iteration: each mistake loses the tests (0.5 points each) that can see it
    "power iteration: the norm as the estimate": (
        "ex05_top_eigenvalue_answer", "lam = v @ w", "lam = np.linalg.norm(w)",
        "ex05_top_eigenvalue", "it has no sign", 1.0),
    "power iteration: v not normalised": (
        "ex05_top_eigenvalue_answer", "v = w / np.linalg.norm(w)", "v = w",
        "ex05_top_eigenvalue", "v not normalised after each product", 0.5),
    "power iteration: one product too many": (
        "ex05_top_eigenvalue_answer", "for _ in range(iters):", "for _ in range(iters + 1):",
        "ex05_top_eigenvalue", "one product too many", 1.0),
    "power iteration: the estimate before the last product": (
        "ex05_top_eigenvalue_answer", "for _ in range(iters):", "for _ in range(iters - 1):",
        "ex05_top_eigenvalue", "one product too few", 1.0),
}


@pytest.mark.parametrize("case", BUGS)
def test_a_bug_loses_points_in_its_part_only_and_is_named(case):
    EX.assert_planted_bug(BUGS[case])


def _rmsprop_answer(buggy):
    def rmsprop_step(param, grad, square_avg, lr=1e-2, alpha=0.99, eps=1e-8):
        return buggy(param, grad, square_avg, lr, alpha, eps)
    return rmsprop_step


@pytest.mark.parametrize("gid, mistakes", [
    ("ex05_sgd_step", parts.SGD_MISTAKES), ("ex05_momentum_step", parts.MOM_MISTAKES),
    ("ex05_rmsprop_step", {k: _rmsprop_answer(f) for k, f in parts.RMS_MISTAKES.items()}),
    ("ex05_adam_step", parts.ADAM_MISTAKES), ("ex05_train_epoch", parts.EPOCH_MISTAKES),
    ("ex05_cosine_lr", parts.COS_MISTAKES)])
def test_every_mistake_the_part_names_fails_every_test_with_its_name(gid, mistakes):
    typos = [name for name in mistakes if "typed 1 - beta" in name]  # right at t = 1
    assert_every_mistake_named(gid, mistakes, partial=typos)


@pytest.mark.parametrize("name", parts.EIG_MISTAKES)
def test_every_power_iteration_mistake_loses_points_and_each_failed_test_names_it(name):
    result, text = grade("ex05_top_eigenvalue", parts.EIG_MISTAKES[name])
    assert result.score <= 1.0, text
    failed = [test for test in result.tests if not test.passed]
    assert failed and all(name in test.message for test in failed), text


def test_power_iteration_reference_is_the_library_one_and_converges():
    """The reference gives the exact eigenvalues where it has converged, and the solution's
    answer, from the same products, agrees with it to the last bits."""
    top = EX.answer_object("ex05_top_eigenvalue_answer", "top_eigenvalue")
    for A, v0, iters, _ in parts.EIG_CASES[:2]:
        lam = np.linalg.eigvalsh(A)
        assert top(lambda v, A=A: A @ v, v0, iters) == pytest.approx(
            lam[np.argmax(np.abs(lam))], rel=1e-9)
    A, v0, iters, _ = parts.EIG_CASES[2]
    assert top(lambda v: A @ v, v0, iters) == pytest.approx(
        parts._eig_ref(lambda v: A @ v, v0, iters), rel=1e-12)


def test_cosine_reference_is_the_library_schedule_stepped_epoch_by_epoch():
    opt = SGD([Parameter(np.zeros(1))], lr=0.3)
    schedule, rates = CosineAnnealingLR(opt, T_max=7, eta_min=0.01), [opt.lr]
    for _ in range(7):
        schedule.step()
        rates.append(opt.lr)
    np.testing.assert_allclose(parts._cos_rates(parts._cos_ref, 0.3, 7, 0.01), rates)
    assert rates[0] == 0.3 and rates[-1] == pytest.approx(0.01)


def test_every_lr_mistake_fails_every_test():
    for name in parts._lr_mistakes(parts.LR_A1):
        result, text = grade("ex05_max_stable_lr", lambda A, name=name: parts._lr_mistakes(A)[name])
        assert result.score == 0, text


def test_the_other_momentum_convention_agrees_with_torch_at_a_constant_lr():
    """Why the check changes the learning rate: with a constant one the conventions agree."""
    lrs = [0.05] * 8
    other = parts._momentum_path(parts._mom_other_convention, parts.MOM_A, parts.MOM_W0, lrs, 0.9)
    assert np.allclose(other, parts._momentum_torch(parts.MOM_A, parts.MOM_W0, lrs, 0.9))


def test_the_momentum_reference_is_torchs_rule_written_out():
    p = Parameter(np.array([1.0, -1.0]))
    opt, b, theta = SGD([p], lr=0.1, momentum=0.9), None, p.data.copy()
    for lr, g in zip([0.1, 0.3, 0.05], [np.array([1.0, 2.0]), np.array([-1.0, 0.5]),
                                        np.array([0.2, 0.2])]):
        opt.lr, p.grad = lr, g
        opt.step()
        b = g if b is None else 0.9 * b + g
        theta = theta - lr * b
    assert np.allclose(p.data, theta)


def test_train_epoch_with_iterate_minibatches_is_also_right():
    def train_epoch(model, loss_fn, optimizer, X, y, batch_size, rng):
        import backproplab as bp
        total = 0.0
        for xb, yb in bp.data.iterate_minibatches(X, y, batch_size, rng=rng):
            loss = loss_fn(model(xb), yb)
            model.zero_grad()
            model.backward(loss_fn.backward(), input_grad=False)
            optimizer.step()
            total += loss * len(xb)
        return np.float64(total / len(X))
    result, text = grade("ex05_train_epoch", train_epoch)
    assert result.status == PASSED, text


def test_grader_end_to_end_a_planted_bug_costs_exactly_its_part(tmp_path):
    """The real grader (kernel, restored cells, scoring) on a submission with one bug."""
    nb = with_bug(notebook(), "ex05_train_epoch_answer", "        optimizer.zero_grad()\n", "")
    report = EX.grade_submission(tmp_path, nb)  # graded without error, the file unchanged
    scores, part = part_report(report, "ex05_train_epoch")
    assert scores == {**POINTS, "ex05_train_epoch": 0}
    assert any("forgetting optimizer.zero_grad()" in message for message in part.messages)
    assert report.total == sum(POINTS.values()) - 3
