"""Exercise 03 (the chain rule and computational graphs): the usual bugs, planted in the
solution's own code, lose points with feedback that names them. (Full marks for the solution and
"not attempted" for the exercise, part by part: tests/test_course.py.)

The student objects are the solution notebook's cells, executed here (imports cell plus the
answer cells), so these tests check the notebook as committed. A bug is planted by replacing a
line of an answer cell, the way a student would write it.
"""

import pytest

from backproplab.grading.check import run_part
from backproplab.grading.grader import parse_sources
from backproplab.grading.registry import get_part
from exercise_support import Exercise, assert_named, part_report, with_bug, without_outputs

NAME = "03_chain_rule_and_graphs"
EX = Exercise(NAME)
notebook = EX.notebook
POINTS = {"ex03_central_difference": 2, "ex03_value_ops": 3, "ex03_value_functions": 2,
          "ex03_topological_sort": 3, "ex03_backward": 3, "ex03_gd_step": 2, "ex03_mlp_step": 3}
ANSWERS = {"ex03_central_difference": ("central_difference", "central_difference"),
           "ex03_value_ops": ("value", "MyValue"),
           "ex03_value_functions": ("value", "MyValue"),
           "ex03_topological_sort": ("topological_sort", "topological_sort"),
           "ex03_backward": ("backward", "backward"),
           "ex03_gd_step": ("gd_step", "gd_step"),
           "ex03_mlp_step": ("mlp_step", "mlp_step")}


def answer(gid, old=None, new=None):
    """The student object of part ``gid``, from the solution cell, with ``old`` -> ``new``."""
    cell_name, obj = ANSWERS[gid]
    return EX.answer_object(f"ex03_{cell_name}_answer", obj, old, new)


def grade(gid, obj):
    return run_part(get_part(gid), (obj,))


# -- the named mistake: = instead of += -----------------------------------------------------


def test_backward_with_assignment_instead_of_accumulation_loses_every_point():
    buggy = answer("ex03_backward", "child.grad += local * node.grad",
                   "child.grad = local * node.grad")
    result = grade("ex03_backward", buggy)
    assert result.score == 0
    assert_named(result, "gradients assigned with = instead of accumulated (+=)")
    assert "got shape (3,) [6, 6, 1]" in result.tests[0].message


# -- other bugs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("gid, old, new, phrase, everywhere, zero", [
    ("ex03_central_difference", "(f(x + h) - f(x - h)) / (2 * h)", "(f(x + h) - f(x)) / h",
     "a forward difference", True, True),
    ("ex03_central_difference", "(f(x + h) - f(x - h)) / (2 * h)", "(f(x + h) - f(x - h)) / h",
     "divided by h instead of 2h", True, True),
    ("ex03_central_difference", "(f(x + h) - f(x - h)) / (2 * h)",
     "(f(x + 1e-6) - f(x - 1e-6)) / 2e-6", "the h argument ignored", False, False),
    ("ex03_value_ops", "(other.data, self.data), \"*\"", "(self.data, other.data), \"*\"",
     "the OTHER factor", False, False),
    ("ex03_value_ops", "(k * self.data ** (k - 1),)", "(k * self.data ** k,)",
     "k * a**k instead of k * a**(k - 1)", True, False),
    ("ex03_value_functions", "(1.0 - t * t,)", "(1.0 - self.data ** 2,)",
     "from the input a instead of 1 - tanh(a)**2 from the output", True, False),
    ("ex03_value_functions", "1.0 if positive else 0.0", "self.data if positive else 0.0",
     "the ReLU's output as its local derivative", True, False),
    ("ex03_backward", "for node in reversed(order):", "for node in order:",
     "instead of in reverse", True, True),
    ("ex03_backward", "    root.grad = 1.0 ", "    pass ", "not set to 1", True, True),
    ("ex03_backward", "        node.grad = 0.0\n", "        pass\n", "not reset to 0", True,
     False),
    ("ex03_topological_sort", "    return order", "    return order[::-1]",
     "the root comes first", True, False),
    ("ex03_topological_sort", "elif node not in visited:", "else:", "appears 2 times", False,
     False),
    ("ex03_gd_step", "p.data -= lr * p.grad", "p.data += lr * p.grad",
     "along the gradient (p.data += lr * p.grad) instead of against it", True, True),
    ("ex03_gd_step", "/ len(xs)", "", "the summed squared error instead of the mean", True,
     True),
    ("ex03_gd_step", "w.grad = b.grad = 0.0 ", "pass ", "the gradients not zeroed", True,
     False),
    ("ex03_mlp_step", "p.data -= lr * p.grad", "p.data += lr * p.grad",
     "along the gradient (p.data += lr * p.grad) instead of against it", True, True),
    ("ex03_mlp_step", "/ len(X)", "", "the summed squared error instead of the mean", True,
     True),
    ("ex03_mlp_step", "model.zero_grad() ", "pass ", "the gradients not zeroed", True, False),
    ("ex03_mlp_step", "model(x)[0].tanh()", "model(x)[0]",
     "the tanh on the network's output forgotten", True, True),
    ("ex03_mlp_step", "for p in model.parameters():",
     "for p in [w for layer in model.layers for ws, _ in layer for w in ws]:",
     "the biases not updated", True, True),
])
def test_a_planted_bug_loses_points_and_is_named(gid, old, new, phrase, everywhere, zero):
    result = grade(gid, answer(gid, old, new))
    assert result.score < POINTS[gid]
    if zero:
        assert result.score == 0, result.lines
    assert_named(result, phrase, everywhere)


def test_a_recursive_topological_sort_fails_only_the_deep_chain():
    source = '''
def topological_sort(root):
    order, visited = [], set()
    def visit(node):
        if node not in visited:
            visited.add(node)
            for child in node.children:
                visit(child)
            order.append(node)
    visit(root)
    return order
'''
    namespace = {}
    exec(source, namespace)
    result = grade("ex03_topological_sort", namespace["topological_sort"])
    failed = [test for test in result.tests if not test.passed]
    assert [test.name for test in failed] == [
        "a chain 5000 operations deep, without a RecursionError"]
    assert "use a loop with an explicit stack" in failed[0].message
    assert result.score == pytest.approx(POINTS["ex03_topological_sort"] * 5 / 6)


def test_a_reversed_breadth_first_order_is_named():
    source = '''
def topological_sort(root):
    order, seen = [root], {root}
    for node in order:
        for child in node.children:
            if child not in seen:
                seen.add(child)
                order.append(child)
    return order[::-1]
'''
    namespace = {}
    exec(source, namespace)
    result = grade("ex03_topological_sort", namespace["topological_sort"])
    assert result.score < POINTS["ex03_topological_sort"]
    assert_named(result, "reversed breadth-first order", everywhere=False)


def test_the_backward_part_does_not_depend_on_value_internals():
    """A backward() that calls root.backward() (Value's own) cannot pass: the nodes are not
    Values."""
    namespace = {}
    exec("def backward(root, order):\n    root.backward()\n", namespace)
    result = grade("ex03_backward", namespace["backward"])
    assert result.score == 0
    assert all("AttributeError" in test.message for test in result.tests)


# -- end to end: the grader on a submission with one planted bug --------------------------------


def test_the_grader_takes_exactly_the_points_of_the_buggy_part(tmp_path):
    nb = with_bug(notebook(), "ex03_backward_answer", "child.grad += local * node.grad",
                  "child.grad = local * node.grad")
    sources = parse_sources({EX.path.name: EX.path.read_bytes()})
    # graded without error, the file unchanged
    report = EX.grade_submission(tmp_path, without_outputs(nb), sources,
                                 filename=f"{NAME}-student.ipynb")
    scores, backward = part_report(report, "ex03_backward")
    assert scores == {**POINTS, "ex03_backward": 0.0}
    assert any("gradients assigned with = instead of accumulated" in line
               for line in backward.messages)


@pytest.mark.parametrize("gid", ["ex03_gd_step", "ex03_mlp_step"])
def test_a_loss_returned_as_a_value_gets_a_clear_message(gid):
    result = grade(gid, answer(gid, "return loss.data", "return loss"))
    assert result.score == 0
    assert all("return loss.data, a float" in test.message for test in result.tests)
