"""What every part gets from check() without writing it (backproplab/grading/guard.py): inputs
the student's function cannot change, the rng argument and no other source of randomness,
gates, hidden tests, and a grade cell whose value is its score.

The parts are registered here; the student functions are written as students write them.
"""

import sys

import numpy as np
import pytest
from IPython.core.formatters import PlainTextFormatter

import backproplab as bp
from backproplab.grading import check, hidden_test, part
from backproplab.grading.guard import Misuse, draws_nothing, fingerprint, uses_rng
from backproplab.grading.results import FAILED, NOT_ATTEMPTED, PASSED

X = np.array([[-1.0, 2.0], [0.5, -3.0]])


@part("test_guard_inputs", points=2)
def _inputs_part(t, fn):
    """a function of an array and a list"""
    t.close("on X", lambda: fn(X, [1, 2, 3]), np.maximum(X, 0))
    t.true("X and the list are as they were", lambda: np.array_equal(X, [[-1, 2], [0.5, -3]]),
           "X changed")


@part("test_guard_writable", points=1, writable=(0,))
def _writable_part(t, step):
    """an in-place update of its first argument"""
    p, g = np.ones(3), np.arange(3.0)

    def run():
        step(p, g)
        return p
    t.close("p -= g, in place", run, 1 - np.arange(3.0))


@part("test_guard_rng", points=2)
def _rng_part(t, draw):
    """noise drawn from the rng argument"""
    t.shape("(3, 2) noise", lambda: draw((3, 2), np.random.default_rng(0)), (3, 2))
    t.true("mean about 0 over 20 000 draws",
           lambda: abs(np.mean(draw((20_000,), np.random.default_rng(1)))) < 0.05, "biased")


@part("test_guard_rng_helpers", points=2)
def _rng_helpers_part(t, layer):
    """a layer that drops in training and draws nothing in evaluation"""
    t.shape("training: uses the rng", lambda: uses_rng(lambda rng: layer(X, rng, True)), (2, 2))
    rng = np.random.default_rng(3)
    t.close("evaluation: the identity, and no draw",
            lambda: draws_nothing(lambda: layer(X, rng, False), rng, "in evaluation"), X)


@part("test_guard_gate", points=3)
def _gate_part(t, model):
    """a model that must have learned before its other tests count"""
    t.shape("output shape (4, 2)", lambda: model(np.ones((4, 3))), (4, 2))
    t.gate("it learned: loss below 0.1", lambda: model.loss < 0.1, "did not learn")
    t.true("it is a model", lambda: hasattr(model, "loss"), "no")


class _Model:
    def __init__(self, loss):
        self.loss = loss

    def __call__(self, x):
        return np.zeros((len(x), 2))


def relu_copy(Z, items):
    return np.maximum(Z, 0)


def relu_in_place(Z, items):
    Z[Z < 0] = 0
    return Z


def relu_add_at(Z, items):  # np.add.at writes into a read-only array without complaint
    out = np.maximum(Z, 0)
    np.add.at(Z, (0, 0), 1.0)
    return out


def relu_reversing(Z, items):
    items.reverse()
    return np.maximum(Z, 0)


def lines(capsys):
    return capsys.readouterr().out


def test_a_correct_function_keeps_full_marks_and_sees_read_only_inputs(capsys):
    seen = []

    def relu(Z, items):
        seen.append((Z.flags.writeable, type(items)))
        return relu_copy(Z, items)
    assert check("test_guard_inputs", relu).score == 2
    assert seen == [(False, list)]


def test_writing_into_an_input_fails_the_test_and_names_the_line(capsys):
    result = check("test_guard_inputs", relu_in_place)
    assert result.score == 1 and result.status == FAILED
    assert result.tests[0].message.startswith(
        "wrote into an array it was given (in relu_in_place, line")
    assert "Z[Z < 0] = 0" in result.tests[0].message  # the line itself (a file, not a cell)
    assert np.array_equal(X, [[-1, 2], [0.5, -3]]), "the part's own array is untouched"


@pytest.mark.parametrize("student, changed", [(relu_add_at, "its first argument (Z)"),
                                              (relu_reversing, "its second argument (items)")])
def test_a_change_numpy_does_not_refuse_is_found_after_the_call(capsys, student, changed):
    result = check("test_guard_inputs", student)
    assert result.tests[0].status == FAILED
    assert result.tests[0].message.startswith(f"changed {changed} in place")


def test_writable_arguments_may_change_in_place(capsys):
    def step(p, g):
        p -= g
    assert check("test_guard_writable", step).status == PASSED

    def rebinding(p, g):  # a new array: the caller's does not move
        p = p - g
    assert check("test_guard_writable", rebinding).score == 0


def normal_from_rng(shape, rng):
    return rng.normal(size=shape)


@pytest.mark.parametrize("student, message", [
    (lambda shape, rng: np.random.normal(size=shape), "drew from NumPy's global generator"),
    (lambda shape, rng: np.random.randn(*shape), "drew from NumPy's global generator"),
    (lambda shape, rng: bp.init.default_rng().normal(size=shape),
     "drew from backproplab's default generator"),
    (lambda shape, rng: np.random.default_rng().normal(size=shape),
     "the same rng, in the same state, gave a different result"),
])
def test_drawing_from_anything_but_the_rng_argument_is_named(capsys, student, message):
    result = check("test_guard_rng", student)
    assert message in result.tests[0].message, result.lines
    if "same state" in message:  # found by replaying the first call only
        assert result.score == 1, result.lines
    else:  # found at every call
        assert result.score == 0 and all(message in t.message for t in result.tests)


def test_the_rng_argument_passes_and_the_first_call_is_replayed_once(capsys):
    calls = []

    def counted(shape, rng):
        calls.append(shape)
        return normal_from_rng(shape, rng)
    assert check("test_guard_rng", counted).status == PASSED
    assert calls == [(3, 2), (3, 2), (20_000,)], "one replay, of the first call only"


def dropout_layer(x, rng, train):
    if not train:
        return x
    return x * (rng.random(x.shape) >= 0.5) * 2


def test_uses_rng_and_draws_nothing_name_their_mistakes(capsys):
    assert check("test_guard_rng_helpers", dropout_layer).status == PASSED

    def own_seed(x, rng, train):
        return dropout_layer(x, np.random.default_rng(0), train)
    assert "another seed gave exactly the same result" in \
        check("test_guard_rng_helpers", own_seed).tests[0].message

    def draws_in_eval(x, rng, train):
        keep = rng.random(x.shape) >= 0.5
        return x * keep * 2 if train else x
    result = check("test_guard_rng_helpers", draws_in_eval)
    assert [t.status for t in result.tests] == [PASSED, FAILED]
    assert result.tests[1].message.startswith("it drew from rng in evaluation")


def test_a_failed_gate_takes_every_other_test_s_points(capsys):
    result = check("test_guard_gate", _Model(loss=0.01))
    assert (result.score, result.status) == (3, PASSED)
    assert [t.max_points for t in result.tests] == [1.5, 0, 1.5]
    out = lines(capsys)
    assert "  ✓ it learned: loss below 0.1 (required)\n" in out
    result = check("test_guard_gate", _Model(loss=2.0))
    assert (result.score, result.status) == (0, FAILED)
    assert result.tests[0].message == "not counted: 'it learned: loss below 0.1' failed"
    assert "  ✗ it learned: loss below 0.1 (required: without it, every test of this part " \
           "scores 0): did not learn\n" in lines(capsys)


def test_a_gate_of_a_part_not_attempted_says_not_attempted(capsys):
    class Stub:
        def __call__(self, x):
            raise NotImplementedError()

        @property
        def loss(self):
            raise NotImplementedError()
    assert check("test_guard_gate", Stub()).status == NOT_ATTEMPTED


def test_hidden_tests_count_in_the_score_and_keep_warnings_off_stderr(capsys):
    def naive(x):
        return 1 / (1 + np.exp(-x))
    hidden_test("demo_sigmoid", "sigmoid(-1000) is 0", lambda: naive(np.array(-1000.0)) == 0)
    hidden_test("demo_sigmoid", "sigmoid(1) is 1", lambda: naive(np.array(1.0)) == 1,
                hint="it is not")
    result = check("demo_sigmoid", naive)
    out, err = capsys.readouterr()
    assert err == ""
    assert "  ✓ sigmoid(-1000) is 0 (0.33/0.33) [note: RuntimeWarning: overflow" in out
    assert "  ✗ sigmoid(1) is 1 (0/0.33): it is not\n" in out
    assert result.score == pytest.approx(2 * 5 / 6, abs=1e-6)
    assert check("demo_sigmoid", naive).score == 2, "hidden tests count once"


def test_text_on_stderr_becomes_a_note_and_never_reaches_stderr(capsys):
    def chatty(shape, rng):
        print("debugging", file=sys.stderr)
        return normal_from_rng(shape, rng)
    result = check("test_guard_rng", chatty)
    out, err = capsys.readouterr()
    assert result.status == PASSED and err == ""
    assert "[note: printed to stderr: debugging]" in out


@pytest.mark.parametrize("score, text", [(2.0, "2"), (0.0, "0"), (2 / 3, "0.6667"), (1.5, "1.5")])
def test_a_grade_cell_shows_its_score_as_a_number(score, text):
    from backproplab.grading.results import PartResult
    result = PartResult("x", score, 2.0, PASSED)
    assert PlainTextFormatter()(result) == text and float(text) == round(score, 4)
    assert repr(result).startswith("<PartResult x: ")


def test_misuse_is_a_failure_not_a_crash(capsys):
    @part("test_guard_misuse", points=1)
    def _misuse_part(t, fn):
        """raises Misuse"""
        t.true("x", fn, "hint")
        t.raises("y", fn, ValueError)

    def misused():
        raise Misuse("did something")
    result = check("test_guard_misuse", misused)
    assert [(t.status, t.message) for t in result.tests] == [(FAILED, "did something")] * 2


def test_fingerprints_collect_every_number_including_a_model_s_parameters():
    model = bp.Sequential(bp.Linear(2, 3, rng=np.random.default_rng(0)))
    found = fingerprint((1, [np.ones(2)], {"b": 2.0, "a": np.zeros(1)}, model, "text"))
    assert found.tolist()[:5] == [1, 1, 1, 0, 2] and len(found) == 5 + 9
    assert fingerprint(("no numbers", None)) is None


@pytest.mark.parametrize("got, expected, words", [
    (np.array([2.0, 4.0, -6.0]), np.array([1.0, 2.0, -3.0]), "the right answer times 2"),
    (np.array([0.25, 0.5]), np.array([1.0, 2.0]), "the right answer divided by 4"),
    (-np.arange(1.0, 4.0), np.arange(1.0, 4.0), "the right answer with the opposite sign"),
    (12.0, 2.0, "the right answer times 6"),
    (np.arange(6.0), np.arange(6.0), None),  # the right answer is no relation
    (np.arange(6.0).reshape(2, 3).T, np.arange(6.0).reshape(2, 3), "the transpose"),
    (np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 3.0], [2.0, 4.0]]), "the transpose"),
    (np.array([3.0, 2.0, 1.0]), np.array([1.0, 2.0, 3.0]), "in reverse order"),
    (np.ones((1, 3)), np.ones(3), "with shape (1, 3) instead of (3,) (keepdims=True"),
    (np.array([1.0, 2.5]), np.array([1.0, 2.0]), None),
    (0.37, 0.5, None),
])
def test_simple_relations_to_the_right_answer_are_put_in_words(got, expected, words):
    from backproplab.grading.compare import relation

    found = relation(got, expected)
    assert (found is None) if words is None else (words in found), found


@pytest.mark.parametrize("student, hint", [
    (lambda x: np.ones((3, 4)) / x.sum(axis=1), "keepdims=True keeps it"),
    (lambda x: x @ np.ones((3, 4)), "a matrix product's inner sizes must agree"),
    (lambda x: max(x, 0), "NumPy needs np.maximum, np.where"),
])
def test_numpy_s_shape_and_truth_value_errors_get_their_likely_cause(capsys, student, hint):
    result = check("test_guard_inputs", lambda Z, items: student(Z))
    assert hint in result.tests[0].message and "raised ValueError" in result.tests[0].message


def test_arrays_returned_in_another_order_are_named(capsys):
    from backproplab.grading.checks import compare_all

    with pytest.raises(AssertionError, match=r"the right arrays in the order \(b, a\) instead "
                                             r"of \(a, b\)"):
        compare_all((np.ones(2), np.zeros(3)), {"a": np.zeros(3), "b": np.ones(2)})
