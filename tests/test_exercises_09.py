"""Exercise 09, backpropagation through time: each realistic bug loses its own part's points
with feedback that names it. (Full marks for the solution and "not attempted" for the exercise,
part by part: tests/test_course.py.)

Named mistakes tested here, each losing all of its part's points with every test naming it:
tanh missing or transposed weights in the step forward; the tanh derivative from the input (or
as tanh of the output), a transposed dW_hh or dW_ih in the step backward; a shared weight's gradient
not summed over time, the hidden state's gradient not carried to the previous step in BPTT;
tanh' of the wrong step in the per-step gradient norms; clipping per time step, per parameter
or per entry instead of by the joint norm.

A bug is the solution cell with a line replaced, as a student would write it; every mistake a
part names is also checked through its buggy twin in the part's module.
"""

import numpy as np
import pytest

from backproplab.diagnostics import gradient_through_time
from backproplab.grading.parts import ex09_backprop_through_time as parts
from backproplab.recurrent import RNN
from exercise_support import (Exercise, assert_every_mistake_named, check_quietly, part_report,
                              with_bug)

EX = Exercise("09_backprop_through_time")
POINTS = {"ex09_rnn_step_forward": 2, "ex09_rnn_step_backward": 3, "ex09_rnn_backward": 3,
          "ex09_state_grad_norms": 2, "ex09_clip_bptt": 2}
PER_STEP = "clipping each time step's gradient separately"
NOT_SUMMED = "not summed over time"
NOT_CARRIED = "the hidden state's gradient not carried to the previous step"
W_IH_TRANSPOSED = "W_ih transposed: x @ W_ih.T instead of x @ W_ih"

CLIP_BODY = '''    grads = {name: sum(g[name] for g in step_grads) for name in step_grads[0]}
    norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads.values())))
    if norm > max_norm:
        factor = max_norm / (norm + 1e-6)   # torch.nn.utils.clip_grad_norm_'s rule
        grads = {name: g * factor for name, g in grads.items()}
    return grads, norm'''
CLIP_PER_STEP = '''    clipped = []
    for g in step_grads:                 # clip every step's terms on their own
        n = float(np.sqrt(sum(np.sum(v ** 2) for v in g.values())))
        clipped.append({k: v * min(1.0, max_norm / (n + 1e-6)) for k, v in g.items()})
    grads = {name: sum(g[name] for g in clipped) for name in step_grads[0]}
    norm = float(np.sqrt(sum(np.sum(g ** 2) for g in
                             {name: sum(g[name] for g in step_grads) for name in grads}.values())))
    return grads, norm'''

# (answer cell, text in the solution, buggy text, part, phrase every test names)
NAMED = {
    "forward: no tanh": (
        "ex09_rnn_step_forward_answer", "return np.tanh(x @ W_ih + h_prev @ W_hh + b)",
        "return x @ W_ih + h_prev @ W_hh + b", "ex09_rnn_step_forward", "tanh left out"),
    "forward: W_hh transposed": (
        "ex09_rnn_step_forward_answer", "h_prev @ W_hh + b", "h_prev @ W_hh.T + b",
        "ex09_rnn_step_forward", "W_hh transposed"),
    "step backward: tanh' from the input": (
        "ex09_rnn_step_backward_answer", "(1 - h_next ** 2)", "(1 - h_prev ** 2)",
        "ex09_rnn_step_backward", "tanh' taken from the step's input h_prev"),
    "step backward: tanh of the output": (
        "ex09_rnn_step_backward_answer", "(1 - h_next ** 2)", "(1 - np.tanh(h_next) ** 2)",
        "ex09_rnn_step_backward", "1 - tanh(h_next)**2 instead of 1 - h_next**2"),
    "step backward: transposed dW_hh": (
        "ex09_rnn_step_backward_answer", "dW_hh = h_prev.T @ dz", "dW_hh = dz.T @ h_prev",
        "ex09_rnn_step_backward", "a transposed dW_hh"),
    "step backward: transposed dW_ih": (
        "ex09_rnn_step_backward_answer", "dW_ih = x.T @ dz", "dW_ih = dz.T @ x",
        "ex09_rnn_step_backward", "a transposed dW_ih"),
    "bptt: W_hh overwritten instead of summed": (
        "ex09_rnn_backward_answer", "dW_hh += dW_hh_t", "dW_hh = dW_hh_t",
        "ex09_rnn_backward", NOT_SUMMED),
    "bptt: no shared gradient summed": (
        "ex09_rnn_backward_answer",
        "        dW_ih += dW_ih_t                 # the same weights at every step: sum over time\n"
        "        dW_hh += dW_hh_t\n        db += db_t",
        "        dW_ih, dW_hh, db = dW_ih_t, dW_hh_t, db_t", "ex09_rnn_backward", NOT_SUMMED),
    "bptt: state gradient not carried": (
        "ex09_rnn_backward_answer", "dh[:, t] + carried, x[:, t]", "dh[:, t], x[:, t]",
        "ex09_rnn_backward", NOT_CARRIED),
    "norms: tanh' of the previous step": (
        "ex09_state_grad_norms_answer", "(1 - h[:, t] ** 2)", "(1 - h[:, t - 1] ** 2)",
        "ex09_state_grad_norms", "tanh' of step t taken at h_(t-1)"),
    "norms: no tanh'": (
        "ex09_state_grad_norms_answer", "dh = (dh * (1 - h[:, t] ** 2)) @ W_hh.T",
        "dh = dh @ W_hh.T", "ex09_state_grad_norms", "tanh' left out"),
    "clip: per time step": (
        "ex09_clip_bptt_answer", CLIP_BODY, CLIP_PER_STEP, "ex09_clip_bptt", PER_STEP),
    "clip: np.clip": (
        "ex09_clip_bptt_answer", "grads = {name: g * factor for name, g in grads.items()}",
        "grads = {name: np.clip(g, -max_norm, max_norm) for name, g in grads.items()}",
        "ex09_clip_bptt", "np.clip, as min-char-rnn does"),
}


@pytest.mark.parametrize("case", NAMED)
def test_a_named_mistake_loses_the_whole_part_and_every_test_names_it(case):
    answer, old, new, gid, phrase = NAMED[case]
    namespace = EX.run_answers(with_bug(EX.notebook(), answer, old, new))
    result, text = EX.grade(gid, namespace)
    assert result.score == 0, text
    assert all(phrase in test.message for test in result.tests), text
    for other in POINTS:  # the other parts of the same submission keep all their points
        if other != gid:
            assert EX.grade(other, namespace)[0].score == POINTS[other], other


def test_a_bug_in_the_step_backward_costs_that_part_only():
    """Part 3 receives a correct step: a student's wrong one does not cost BPTT too."""
    namespace = EX.run_answers(with_bug(EX.notebook(), "ex09_rnn_step_backward_answer",
                                        "dh_prev = dz @ W_hh.T", "dh_prev = dz @ W_hh"))
    assert EX.grade("ex09_rnn_step_backward", namespace)[0].score == 0
    assert EX.grade("ex09_rnn_backward", namespace)[0].score == 3


def test_a_transposed_W_ih_is_named_where_its_shape_fits():
    """x @ W_ih.T runs only when D = H: that test names the mistake, the others fail on the
    shape, and the part scores 0."""
    result, text = check_quietly("ex09_rnn_step_forward",
                                 lambda x, h, W_ih, W_hh, b: np.tanh(x @ W_ih.T + h @ W_hh + b))
    assert result.score == 0, text
    named = [test.name for test in result.tests if W_IH_TRANSPOSED in test.message]
    assert len(named) == 1 and "D = H" in named[0], text


def _twin(fn, **kw):
    """A student's function made from a buggy twin of the part's reference."""
    return lambda *args: tuple(fn(*args, **kw).values())


def _clip_twin(**kw):
    def clip(step_grads, max_norm):
        answer = parts.clip_twin(step_grads, max_norm, **kw)
        return {k: answer[k] for k in ("W_ih", "W_hh", "b")}, float(answer["norm"])
    return clip


@pytest.mark.parametrize("gid, mistakes", [
    ("ex09_rnn_step_forward", {k: lambda *a, kw=kw: parts.step_forward(*a, **kw)
                               for k, kw in parts.FORWARD_MISTAKES.items()
                               if k != W_IH_TRANSPOSED}),
    ("ex09_rnn_step_backward", {k: _twin(parts.step_backward, **kw)
                                for k, kw in parts.BACKWARD_MISTAKES.items()}),
    ("ex09_rnn_backward", {k: _twin(parts.bptt, **kw) for k, kw in parts.BPTT_MISTAKES.items()}),
    ("ex09_state_grad_norms", {k: lambda *a, kw=kw: parts.state_norms(*a, **kw)
                               for k, kw in parts.NORMS_MISTAKES.items()}),
    ("ex09_clip_bptt", {k: _clip_twin(**kw) for k, kw in parts.CLIP_MISTAKES.items()}),
], ids=lambda v: v if isinstance(v, str) else "")
def test_every_mistake_the_part_names_fails_every_test_with_its_name(gid, mistakes):
    # without a bug, the twins are the reference: full marks
    reference = {"ex09_rnn_step_forward": parts.step_forward,
                 "ex09_rnn_step_backward": _twin(parts.step_backward),
                 "ex09_rnn_backward": _twin(parts.bptt),
                 "ex09_state_grad_norms": parts.state_norms, "ex09_clip_bptt": _clip_twin()}
    assert EX.grade(gid, {name: reference[gid] for name in _names(gid)})[0].score == POINTS[gid]
    assert_every_mistake_named(gid, mistakes)


def _names(gid):
    return {"ex09_rnn_step_forward": ["rnn_step_forward"],
            "ex09_rnn_step_backward": ["rnn_step_backward"],
            "ex09_rnn_backward": ["rnn_backward"],
            "ex09_state_grad_norms": ["state_grad_norms"],
            "ex09_clip_bptt": ["clip_bptt_gradients"]}[gid]


def test_the_bptt_reference_is_the_library_and_the_twin_agrees():
    """The expected answers come from bp.RNN (gradient-checked in test_recurrent.py); the twin
    without a bug, looping the reference step, gives the same numbers."""
    for case in parts.BPTT_CASES.values():
        library = parts._library_bptt(*case)
        twin = parts.bptt(*case, parts._reference_step)
        for label in library:
            np.testing.assert_allclose(twin[label], library[label], rtol=1e-12, atol=1e-14)


def test_the_norms_reference_is_the_library_measurement():
    """state_norms / its last entry, reversed, is diagnostics.gradient_through_time."""

    rng = np.random.default_rng(3)
    rnn = RNN(3, 5, rng=rng)
    x = rng.normal(size=(4, 7, 3))
    h = rnn(x)
    G = np.random.default_rng(0).standard_normal((4, 5))
    norms = parts.state_norms(G, h, rnn.W_hh.data)
    np.testing.assert_allclose(norms[::-1] / norms[-1], gradient_through_time(rnn, x, seed=0),
                               rtol=1e-12)


def test_the_clip_reference_is_torchs_rule_on_the_sum():
    for step_grads, max_norm in parts.CLIP_CASES.values():
        answer = parts.clip_twin(step_grads, max_norm)
        summed = {k: sum(g[k] for g in step_grads) for k in ("W_ih", "W_hh", "b")}
        norm = np.sqrt(sum(np.sum(v ** 2) for v in summed.values()))
        assert answer["norm"] == pytest.approx(norm) and norm > max_norm
        for k, v in summed.items():
            np.testing.assert_allclose(answer[k], v * max_norm / (norm + 1e-6))
    # no single step reaches max_norm in the second case: per-step clipping does nothing there
    steps, max_norm = parts.CLIP_CASES[next(k for k in parts.CLIP_CASES if "no single" in k)]
    assert all(np.sqrt(sum(np.sum(v ** 2) for v in g.values())) < max_norm for g in steps)


def test_grader_end_to_end_a_planted_bug_costs_exactly_its_part(tmp_path):
    """The real grader (kernel, restored cells, scoring) on a submission with one bug."""
    answer, old, new, gid, phrase = NAMED["bptt: state gradient not carried"]
    report = EX.grade_submission(tmp_path, with_bug(EX.notebook(), answer, old, new))
    scores, part = part_report(report, gid)
    assert scores == {**POINTS, gid: 0}
    assert any(phrase in message for message in part.messages)
    assert report.total == sum(POINTS.values()) - 3
