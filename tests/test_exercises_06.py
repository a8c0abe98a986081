"""Exercise 06, vanishing and exploding gradients: each realistic bug loses its own part's points
with feedback that names it. (Full marks for the solution and "not attempted" for the exercise,
part by part: tests/test_course.py.)

Named mistakes tested here, each losing all of its part's points with every test naming it:
fan_in and fan_out swapped (Xavier and He, with unequal fans), the standard deviation and the
variance confused (Xavier's bound, He's scale), He without its factor 2, gradients clipped
each by its own norm instead of by the joint norm, and every batch-norm mistake the part names
(the batch's statistics in evaluation mode, the biased and unbiased variances confused,
momentum the wrong way round, running statistics not updated or updated in evaluation mode,
eps misplaced or missing, the standard deviation stored, no scale and shift).

The random initialisers are checked statistically; a test draws them with many seeds and
several correct styles to show that the tolerances never fail a correct answer.

The answers come from the solution notebook itself (its answer cells, run in-process); a bug is
the solution cell with a line replaced, as a student would write it.
"""

import numpy as np
import pytest

import backproplab
from backproplab.grading.parts import ex06_vanishing_and_exploding_gradients as parts
from backproplab.grading.results import PASSED
from exercise_support import (Exercise, assert_every_mistake_named, check_quietly as grade,
                              part_report, with_bug)

EX = Exercise("06_vanishing_and_exploding_gradients")
notebook, run_answers = EX.notebook, EX.run_answers
POINTS = {"ex06_xavier_uniform": 2, "ex06_he_normal": 2, "ex06_clip_grad_norm": 2,
          "ex06_layer_grad_norms": 2, "ex06_chain_gradients": 2, "ex06_activation_stats": 2,
          "ex06_batchnorm_forward": 3}
ARGS = {gid: gid[len("ex06_"):] for gid in POINTS}
SWAPPED = "fan_in and fan_out swapped"
STD_VS_VAR = "confused"  # "(std and bound confused ...)", "(variance and std confused)", ...
PER_TENSOR = "clipping each gradient separately instead of by the joint norm"
CLIP_BODY = """    total = float(np.sqrt(sum(np.sum(g * g) for g in grads)))
    factor = max_norm / (total + 1e-6)
    if factor < 1:
        for g in grads:
            g *= factor
    return total"""
STATS_LOOP = """        A = layer(A)
        if isinstance(layer, bp.Sigmoid):
            stats.append(float(np.mean((A < 0.01) | (A > 0.99))))
        elif isinstance(layer, bp.Tanh):
            stats.append(float(np.mean(np.abs(A) > 0.995)))
        elif isinstance(layer, bp.ReLU):
            stats.append(float(np.mean(np.all(A <= 0, axis=0))))"""
BN_TRAIN = """        mean, var = x.mean(axis=0), x.var(axis=0)
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)"""
BN_MODES = """    if training:
        n = x.shape[0]
""" + BN_TRAIN + """
    else:
        mean, var = running_mean, running_var"""
BN_MISTAKE = parts.BN_MISTAKES  # bug -> the description the part names it with


# Correct initialisers written in other styles, each drawing from a generator derived from the
# given one and this test's seed (reproducible, and another seed each time): the statistical
# checks must pass them all.
def _derived(rng, seed):
    return np.random.default_rng([seed, int(rng.integers(2**31))])


def xavier_styles(seed):
    return [
        lambda i, o, g: _derived(g, seed).uniform(-np.sqrt(6 / (i + o)), np.sqrt(6 / (i + o)),
                                                  (i, o)),
        lambda i, o, g: (2 * _derived(g, seed).random((i, o)) - 1) * np.sqrt(6 / (i + o)),
        lambda i, o, g: backproplab.init.xavier_uniform((i, o), rng=_derived(g, seed)).astype(
            np.float32),
    ]


def he_styles(seed):
    return [
        lambda i, o, g: _derived(g, seed).standard_normal((i, o)) * np.sqrt(2 / i),
        lambda i, o, g: _derived(g, seed).normal(scale=(2 / i) ** 0.5, size=(i, o)),
        lambda i, o, g: backproplab.init.he_normal((i, o), rng=_derived(g, seed)),
        lambda i, o, g: _derived(g, seed + 1000).normal(0, np.sqrt(2 / i), (i, o)),
    ]


@pytest.mark.parametrize("seed", range(12))
def test_correct_initialisers_pass_whatever_the_seed_and_the_style(seed):
    for gid, styles in [("ex06_xavier_uniform", xavier_styles(seed)),
                        ("ex06_he_normal", he_styles(seed))]:
        for style in styles:
            result, text = grade(gid, style)
            assert result.status == PASSED, text


# (answer cell, line in the solution, buggy line, part, phrase every test names)
NAMED = {
    "xavier: fans swapped": (
        "ex06_xavier_uniform_answer", "size=(fan_in, fan_out)", "size=(fan_out, fan_in)",
        "ex06_xavier_uniform", SWAPPED),
    "xavier: the std as the bound": (
        "ex06_xavier_uniform_answer", "a = np.sqrt(6.0 / (fan_in + fan_out))",
        "a = np.sqrt(2.0 / (fan_in + fan_out))", "ex06_xavier_uniform", STD_VS_VAR),
    "xavier: the variance-sized bound (no square root)": (
        "ex06_xavier_uniform_answer", "a = np.sqrt(6.0 / (fan_in + fan_out))",
        "a = 6.0 / (fan_in + fan_out)", "ex06_xavier_uniform", STD_VS_VAR),
    "he: fans swapped": (
        "ex06_he_normal_answer", "np.sqrt(2.0 / fan_in), size=(fan_in, fan_out)",
        "np.sqrt(2.0 / fan_out), size=(fan_out, fan_in)", "ex06_he_normal", SWAPPED),
    "he: fans swapped in the shape": (
        "ex06_he_normal_answer", "size=(fan_in, fan_out)", "size=(fan_out, fan_in)",
        "ex06_he_normal", SWAPPED),
    "he: the variance as the std": (
        "ex06_he_normal_answer", "np.sqrt(2.0 / fan_in)", "2.0 / fan_in", "ex06_he_normal",
        STD_VS_VAR),
    "he: no factor 2": (
        "ex06_he_normal_answer", "np.sqrt(2.0 / fan_in)", "np.sqrt(1.0 / fan_in)",
        "ex06_he_normal", "the factor 2 of He missing"),
    "clip: each gradient by its own norm": (
        "ex06_clip_grad_norm_answer", CLIP_BODY,
        "    total = float(np.sqrt(sum(np.sum(g * g) for g in grads)))\n"
        "    for g in grads:\n        norm = np.linalg.norm(g)\n        if norm > max_norm:\n"
        "            g *= max_norm / norm\n    return total",
        "ex06_clip_grad_norm", PER_TENSOR),
    "clip: each gradient by its own norm, returning the sum of the norms": (
        "ex06_clip_grad_norm_answer", CLIP_BODY,
        "    total = 0.0\n    for g in grads:\n        norm = np.linalg.norm(g)\n"
        "        total += norm\n        if norm > max_norm:\n"
        "            g *= max_norm / (norm + 1e-6)\n    return total",
        "ex06_clip_grad_norm", PER_TENSOR),
    # batch normalisation: each bug as a student writes it, named by the part
    "bn: eval with the batch's statistics": (
        "ex06_batchnorm_forward_answer", "        mean, var = running_mean, running_var",
        "        mean, var = x.mean(axis=0), x.var(axis=0)", "ex06_batchnorm_forward",
        BN_MISTAKE["batch statistics in eval"]),
    "bn: the unbiased variance to normalise": (
        "ex06_batchnorm_forward_answer", BN_TRAIN,
        BN_TRAIN.replace("x.var(axis=0)", "x.var(axis=0, ddof=1)").replace(
            "var * n / (n - 1)", "var"), "ex06_batchnorm_forward",
        BN_MISTAKE["unbiased to normalise"]),
    "bn: the biased variance stored": (
        "ex06_batchnorm_forward_answer", "momentum * var * n / (n - 1)", "momentum * var",
        "ex06_batchnorm_forward", BN_MISTAKE["biased running"]),
    "bn: momentum the wrong way round": (
        "ex06_batchnorm_forward_answer", BN_TRAIN,
        BN_TRAIN.replace("(1 - momentum) * running_mean + momentum * mean",
                         "momentum * running_mean + (1 - momentum) * mean").replace(
            "(1 - momentum) * running_var + momentum * var", "momentum * running_var + "
            "(1 - momentum) * var"), "ex06_batchnorm_forward", BN_MISTAKE["momentum swapped"]),
    "bn: no update": (
        "ex06_batchnorm_forward_answer", BN_TRAIN,
        "        mean, var = x.mean(axis=0), x.var(axis=0)", "ex06_batchnorm_forward",
        BN_MISTAKE["no update"]),
    "bn: updated in eval too": (
        "ex06_batchnorm_forward_answer", BN_MODES,
        """    n = x.shape[0]
    if training:
        mean, var = x.mean(axis=0), x.var(axis=0)
    else:
        mean, var = running_mean, running_var
    running_mean = (1 - momentum) * running_mean + momentum * x.mean(axis=0)
    running_var = (1 - momentum) * running_var + momentum * x.var(axis=0) * n / (n - 1)""",
        "ex06_batchnorm_forward", BN_MISTAKE["update in eval"]),
    "bn: eps outside the square root": (
        "ex06_batchnorm_forward_answer", "np.sqrt(var + eps)", "(np.sqrt(var) + eps)",
        "ex06_batchnorm_forward", BN_MISTAKE["eps outside"]),
    "bn: no eps": (
        "ex06_batchnorm_forward_answer", "np.sqrt(var + eps)", "np.sqrt(var)",
        "ex06_batchnorm_forward", BN_MISTAKE["no eps"]),
    "bn: the standard deviation stored": (
        "ex06_batchnorm_forward_answer", "momentum * var * n / (n - 1)",
        "momentum * np.sqrt(var * n / (n - 1))", "ex06_batchnorm_forward",
        BN_MISTAKE["std running"]),
    "bn: no scale and shift": (
        "ex06_batchnorm_forward_answer", "return gamma * x_hat + beta,", "return x_hat,",
        "ex06_batchnorm_forward", BN_MISTAKE["no gamma, beta"]),
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


# (answer cell, line in the solution, buggy line, part, phrase in the feedback, points kept)
BUGS = {
    "xavier: He's bound": (
        "ex06_xavier_uniform_answer", "a = np.sqrt(6.0 / (fan_in + fan_out))",
        "a = np.sqrt(6.0 / fan_in)", "ex06_xavier_uniform", "He's bound", 0),
    "xavier: a normal distribution": (
        "ex06_xavier_uniform_answer", "rng.uniform(-a, a, size=(fan_in, fan_out))",
        "rng.normal(0, a / np.sqrt(3), size=(fan_in, fan_out))", "ex06_xavier_uniform",
        "max|W| / sqrt(6/(fan_in+fan_out))", 0),
    "xavier: one row": (
        "ex06_xavier_uniform_answer", "size=(fan_in, fan_out)", "size=fan_in * fan_out",
        "ex06_xavier_uniform", "expected a 2-D weight", 0),
    "he: fan_out in the variance": (
        "ex06_he_normal_answer", "np.sqrt(2.0 / fan_in)", "np.sqrt(2.0 / fan_out)",
        "ex06_he_normal", "the variance 2/fan_out", 0),
    "he: Xavier's variance": (
        "ex06_he_normal_answer", "np.sqrt(2.0 / fan_in)", "np.sqrt(2.0 / (fan_in + fan_out))",
        "ex06_he_normal", "Xavier's variance", 0),
    "he: uniform": (
        "ex06_he_normal_answer", "rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_in, fan_out))",
        "rng.uniform(-np.sqrt(6.0 / fan_in), np.sqrt(6.0 / fan_in), size=(fan_in, fan_out))",
        "ex06_he_normal", "a uniform distribution", 0),
    "clip: the norm after clipping": (
        "ex06_clip_grad_norm_answer", "    return total",
        "    return float(np.sqrt(sum(np.sum(g * g) for g in grads)))", "ex06_clip_grad_norm",
        "the norm after clipping returned", 0),
    "clip: not in place": (
        "ex06_clip_grad_norm_answer", "        for g in grads:\n            g *= factor",
        "        for i, g in enumerate(grads):\n            grads[i] = g * factor",
        "ex06_clip_grad_norm", "not changed in place", 0),
    "clip: always scaled": (
        "ex06_clip_grad_norm_answer", "    if factor < 1:\n        for g in grads:",
        "    if True:\n        for g in grads:", "ex06_clip_grad_norm",
        "scaled up to max_norm", 0),
    "clip: returns nothing": (
        "ex06_clip_grad_norm_answer", "    return total", "    pass", "ex06_clip_grad_norm",
        "clip_grad_norm returned None", 0),
    "norms: no zero_grad": (
        "ex06_layer_grad_norms_answer", "    model.zero_grad()\n", "", "ex06_layer_grad_norms",
        "call model.zero_grad()", 0),
    "norms: backward order": (
        "ex06_layer_grad_norms_answer", "for layer in model.layers if",
        "for layer in reversed(model.layers) if", "ex06_layer_grad_norms",
        "backward order", 0),
    "norms: the weights": (
        "ex06_layer_grad_norms_answer", "np.linalg.norm(layer.W.grad)",
        "np.linalg.norm(layer.W.data)", "ex06_layer_grad_norms",
        "the norm of the weights W instead of their gradient dW", 0),
    "norms: with the bias": (
        "ex06_layer_grad_norms_answer", "np.linalg.norm(layer.W.grad)",
        "np.sqrt(np.sum(layer.W.grad ** 2) + np.sum(layer.b.grad ** 2))",
        "ex06_layer_grad_norms", "the bias gradient included", 0),
    "chain: sigma' from z": (
        "ex06_chain_gradients_answer", "g[l] * w * x[l] * (1.0 - x[l])",
        "g[l] * w * (w * x[l - 1]) * (1.0 - w * x[l - 1])", "ex06_chain_gradients",
        "sigma' computed from the pre-activation", 0),
    "chain: no w": (
        "ex06_chain_gradients_answer", "g[l] * w * x[l] * (1.0 - x[l])",
        "g[l] * x[l] * (1.0 - x[l])", "ex06_chain_gradients", "the weight w left out", 0),
    "chain: reversed": (
        "ex06_chain_gradients_answer", "    return g\n", "    return g[::-1]\n",
        "ex06_chain_gradients", "the gradients listed in reverse", 0),
    "chain: sigma' at the input": (
        "ex06_chain_gradients_answer", "g[l] * w * x[l] * (1.0 - x[l])",
        "g[l] * w * x[l - 1] * (1.0 - x[l - 1])", "ex06_chain_gradients",
        "sigma' taken at the layer's input", 0),
    "stats: dead per entry": (
        "ex06_activation_stats_answer", "np.mean(np.all(A <= 0, axis=0))", "np.mean(A <= 0)",
        "ex06_activation_stats", "dead ReLUs counted per entry", 0),
    "stats: dead per example": (
        "ex06_activation_stats_answer", "np.all(A <= 0, axis=0)", "np.all(A <= 0, axis=1)",
        "ex06_activation_stats", "dead ReLUs counted per example", 0),
    "stats: one sigmoid tail": (
        "ex06_activation_stats_answer", "(A < 0.01) | (A > 0.99)", "A > 0.99",
        "ex06_activation_stats", "one tail only", 0),
    "stats: tanh without abs": (
        "ex06_activation_stats_answer", "np.abs(A) > 0.995", "A > 0.995",
        "ex06_activation_stats", "without the absolute value", 0),
    "stats: the pre-activations": (
        "ex06_activation_stats_answer", STATS_LOOP,
        STATS_LOOP.replace("        A = layer(A)\n", "") + "\n        A = layer(A)",
        "ex06_activation_stats", "the pre-activations Z", 0),
}


@pytest.mark.parametrize("case", BUGS)
def test_a_bug_loses_points_in_its_part_only_and_is_named(case):
    EX.assert_planted_bug(BUGS[case])


@pytest.mark.parametrize("gid, mistakes", [
    ("ex06_clip_grad_norm", parts.CLIP_MISTAKES), ("ex06_layer_grad_norms", parts.NORMS_MISTAKES),
    ("ex06_activation_stats", parts.STATS_MISTAKES)])
def test_every_mistake_the_part_names_fails_every_test_with_its_name(gid, mistakes):
    assert_every_mistake_named(gid, mistakes)


def test_every_chain_mistake_fails_every_test_with_its_name():
    for name, kwargs in parts.CHAIN_MISTAKES.items():
        result, text = grade("ex06_chain_gradients",
                             lambda x0, w, L, kw=kwargs: parts._chain_ref(x0, w, L, **kw))
        assert result.score == 0, text
        assert all(name in test.message for test in result.tests), text


def test_every_batchnorm_mistake_fails_every_test_with_its_name():
    for bug, name in parts.BN_MISTAKES.items():
        result, text = grade("ex06_batchnorm_forward",
                             lambda *args, bug=bug: parts._bn_ref(*args, bug=bug))
        assert result.score == 0, text
        assert all(name in test.message for test in result.tests), text


def test_the_batchnorm_reference_is_the_library_layer():
    """The part's reference agrees with bp.BatchNorm1d (itself checked against PyTorch in
    benchmarks/torch_parity.py) on every case, call by call."""
    for _, steps in parts.BN_CASES:
        bn = backproplab.BatchNorm1d(4)
        bn.gamma.data[...], bn.beta.data[...] = parts.BN_GAMMA, parts.BN_BETA
        bn.running_mean, bn.running_var = (a.copy() for a in parts.BN_START)
        outs = []
        for index, training in steps:
            bn.train(training)
            outs.append(bn(parts.BN_BATCHES[index]))
        ref = parts._bn_run(parts._bn_ref, steps)
        np.testing.assert_allclose(np.vstack(outs), ref[0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(bn.running_mean, ref[1], rtol=1e-12)
        np.testing.assert_allclose(bn.running_var, ref[2], rtol=1e-12)


def test_the_clip_reference_is_torchs_rule():
    """The part's reference is bp.optim.clip_grad_norm; check it against the formula."""
    grads = parts._grads([3.0, 4.0, 12.0], [(2, 3), (3,), (4, 2)], seed=0)
    work = [g.copy() for g in grads]
    assert parts._clip_ref(work, 5.0) == pytest.approx(13.0)
    for before, after in zip(grads, work):
        assert np.allclose(after, before * 5.0 / (13.0 + 1e-6))


def test_the_chain_gradient_is_the_derivative_and_obeys_the_bound():
    def x_last(x0, w, L):
        for _ in range(L):
            x0 = 1 / (1 + np.exp(-w * x0))
        return x0
    for x0, w, L in parts.CHAIN_CASES:
        g = parts._chain_ref(x0, w, L)
        h = 1e-4  # g[0] is down to 1e-8: a larger step keeps rounding noise below 1e-4
        numeric = (x_last(x0 + h, w, L) - x_last(x0 - h, w, L)) / (2 * h)
        assert g[0] == pytest.approx(numeric, rel=1e-3)
        assert abs(g[0]) <= (abs(w) / 4) ** L


def test_the_statistics_cases_exercise_every_statistic():
    """Every activation layer of the cases has a fraction strictly between 0 and 1, so a bug
    in any one statistic changes the answer."""
    for _, make, X in parts.STATS_CASES:
        assert all(0 < value < 1 for value in parts._stats_ref(make(), X))


def test_grader_end_to_end_a_planted_bug_costs_exactly_its_part(tmp_path):
    """The real grader (kernel, restored cells, scoring) on a submission with one bug."""
    answer, old, new, gid, _ = NAMED["clip: each gradient by its own norm"]
    nb = with_bug(notebook(), answer, old, new)
    report = EX.grade_submission(tmp_path, nb)  # graded without error, the file unchanged
    scores, part = part_report(report, "ex06_clip_grad_norm")
    assert scores == {**POINTS, "ex06_clip_grad_norm": 0}
    assert any(PER_TENSOR in message for message in part.messages)
    assert report.total == sum(POINTS.values()) - 2
