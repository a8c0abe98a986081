"""make-exercises: exercises generated from solutions, deterministic, and validated."""

import copy
import shutil

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_output

from backproplab.cli import main
from backproplab.grading.generate import (InvalidNotebook, exercise_source, make_exercise,
                                          make_exercises, navigation, validate)
from backproplab.grading.notebook import dumps, grade_id, is_grade, is_solution, reads
from backproplab.grading.notebook import nbgrader as meta
from fixtures.grading.submissions import SOLUTIONS, cell, solution

EXERCISES = SOLUTIONS.parent / "exercises"


def nbgrader(gid, **flags):
    meta = {"schema_version": 3, "grade_id": gid, "grade": False, "solution": False,
            "locked": False, **flags}
    return {"nbgrader": meta}


def notebook_with(*cells):
    nb = solution()
    nb.cells = list(cells)
    return nb


def test_solution_regions_become_stubs_at_the_same_indent():
    exercise = make_exercise(solution())
    assert cell(exercise, "sigmoid_answer").source == (
        'def sigmoid(x):\n    """The logistic function 1 / (1 + e^-x), stable for any x."""\n'
        "    # YOUR CODE HERE\n    raise NotImplementedError()")
    mse = cell(exercise, "mse_answer").source
    assert mse.count("    # YOUR CODE HERE\n    raise NotImplementedError()") == 2
    assert "BEGIN SOLUTION" not in mse and "np.mean" not in mse


def test_hidden_tests_and_outputs_are_cleared():
    nb = solution()
    check_cell = cell(nb, "demo_sigmoid")
    check_cell.outputs = [new_output("stream", name="stdout", text="✓\n")]
    check_cell.execution_count = 7
    check_cell.metadata["execution"] = {"iopub.status.busy": "2024-01-01"}
    exercise = make_exercise(nb)
    assert cell(exercise, "demo_sigmoid").source == 'check("demo_sigmoid", sigmoid)'
    assert all(c.outputs == [] and c.execution_count is None
               for c in exercise.cells if c.cell_type == "code")
    assert "execution" not in cell(exercise, "demo_sigmoid").metadata
    assert check_cell.execution_count == 7, "the solution notebook is left unchanged"
    assert [grade_id(c) for c in exercise.cells] == [grade_id(c) for c in nb.cells]
    assert exercise.metadata.backproplab.exercise == "00_demo"


def test_generation_is_deterministic_and_the_committed_exercise_is_current(tmp_path):
    first = dumps(make_exercise(solution()))
    assert first == dumps(make_exercise(solution()))
    assert first == (EXERCISES / "00_demo.ipynb").read_text(encoding="utf-8")
    assert make_exercises(SOLUTIONS, EXERCISES, check=True) == []
    written = make_exercises(SOLUTIONS, tmp_path)
    assert written == [tmp_path / "00_demo.ipynb"]
    assert make_exercises(SOLUTIONS, tmp_path) == [], "a second run writes nothing"


def test_cli_check_detects_drift_missing_and_stale_exercises(tmp_path, capsys):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    shutil.copytree(SOLUTIONS, solutions)
    shutil.copytree(EXERCISES, exercises)
    args = ["make-exercises", "--solutions", str(solutions), "--out", str(exercises)]
    assert main(args + ["--check"]) == 0
    target = exercises / "00_demo.ipynb"
    target.write_text(target.read_text().replace("# YOUR CODE HERE", "# my code", 1))
    (exercises / "99_gone.ipynb").write_text("{}")
    capsys.readouterr()
    assert main(args + ["--check"]) == 1
    out = capsys.readouterr().out
    assert str(target) in out and "99_gone.ipynb" in out
    assert main(args) == 0 and str(target) in capsys.readouterr().out
    target.unlink()
    assert main(args + ["--check"]) == 1
    assert main(args) == 0
    (exercises / "99_gone.ipynb").unlink()
    assert main(args + ["--check"]) == 0


def test_cli_reports_invalid_solutions_and_missing_folders(tmp_path, capsys):
    bad = solution()
    cell(bad, "demo_mse").metadata.nbgrader["grade_id"] = "demo_sigmoid"
    (tmp_path / "00_demo.ipynb").write_text(dumps(bad))
    assert main(["make-exercises", "--solutions", str(tmp_path), "--out", str(tmp_path)]) == 1
    assert "grade_id 'demo_sigmoid' is already used by cell 5" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["make-exercises", "--solutions", str(tmp_path / "nope")])
    assert exit_info.value.code == 2


def test_the_fixture_solution_is_valid():
    assert validate(solution(), name="00_demo") == []


CODE = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"


@pytest.mark.parametrize("cells,problem", [
    ([new_code_cell(CODE, metadata=nbgrader("a", solution=True)),
      new_code_cell(CODE, metadata=nbgrader("a", solution=True))],
     "cell 2 (a): grade_id 'a' is already used by cell 1"),
    ([new_code_cell('check("demo_mse", f)', metadata=nbgrader("demo_mse", grade=True))],
     "cell 1 (demo_mse): a grade cell needs points > 0 (got None)"),
    ([new_code_cell('check("demo_mse", f)',
                    metadata=nbgrader("demo_mse", grade=True, points=5))],
     "cell 1 (demo_mse): points 5 differ from the 1 of the registered part"),
    ([new_code_cell("print('no check')", metadata=nbgrader("demo_mse", grade=True, points=1))],
     "a grade cell must call check('demo_mse', ...)"),
    ([new_code_cell('check("demo_mse", f)\n### BEGIN HIDDEN TESTS\nassert f(1)\n'
                    '### END HIDDEN TESTS', metadata=nbgrader("demo_mse", grade=True, points=1))],
     "a grade cell must end with check('demo_mse', ...): the value of its last line is the "
     "score nbgrader reads"),
    ([new_code_cell('check("nope", f)', metadata=nbgrader("nope", grade=True, points=1))],
     "no graded part 'nope'"),
    ([new_markdown_cell("essay", metadata=nbgrader("essay", grade=True, solution=True,
                                                   points=1))],
     "grade cells must be code cells"),
    ([new_markdown_cell("essay", metadata=nbgrader("essay", solution=True))],
     "an answer cell must be code"),
    ([new_code_cell(CODE, metadata={"nbgrader": {"grade_id": "a", "solution": True}})],
     "cell 1 (a): nbgrader metadata needs schema_version 3"),
    ([new_code_cell(CODE, metadata=nbgrader("bad id!", solution=True))],
     "needs a grade_id made of letters"),
    ([new_code_cell(CODE.replace("    ### END SOLUTION", ""),
                    metadata=nbgrader("a", solution=True))],
     "line 2: '### BEGIN SOLUTION' is never closed"),
    ([new_code_cell(CODE.replace("    ### BEGIN SOLUTION\n", ""),
                    metadata=nbgrader("a", solution=True))],
     "line 3: '### END SOLUTION' without '### BEGIN SOLUTION'"),
    ([new_code_cell(CODE.replace("return x", "### BEGIN SOLUTION"),
                    metadata=nbgrader("a", solution=True))],
     "line 3: '### BEGIN SOLUTION' inside another region (opened on line 2)"),
    ([new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION",
                    metadata=nbgrader("a", solution=True))],
     "the solution region replaced on line 2 of the exercise is not inside a function body"),
    ([new_code_cell("class Layer:\n    ### BEGIN SOLUTION\n    size = 3\n    ### END SOLUTION",
                    metadata=nbgrader("a", solution=True))],
     "not inside a function body"),
    ([new_code_cell("x = 1", metadata=nbgrader("a", solution=True))],
     "a code solution cell needs '### BEGIN SOLUTION'"),
    ([new_code_cell(CODE, metadata=nbgrader("a", locked=True))],
     "has solution markers but is not a solution cell"),
    ([new_code_cell("### BEGIN HIDDEN TESTS\nassert True\n### END HIDDEN TESTS",
                    metadata=nbgrader("a", locked=True))],
     "hidden tests are only allowed in grade cells"),
    ([new_code_cell("def f(:\n    ### BEGIN SOLUTION\n    pass\n    ### END SOLUTION",
                    metadata=nbgrader("a", solution=True))],
     "the exercise version of this cell is not valid Python"),
])
def test_validation_rejects(cells, problem):
    nb = notebook_with(*cells)
    problems = validate(nb)
    assert any(problem in p for p in problems), problems
    with pytest.raises(InvalidNotebook):
        make_exercise(nb)


def test_validation_accepts_methods_nested_functions_and_magics():
    method = ("%matplotlib inline\nclass Layer:\n    def forward(self, x):\n"
              "        if x:\n            ### BEGIN SOLUTION\n            return x\n"
              "            ### END SOLUTION")
    nb = notebook_with(new_code_cell(method, metadata=nbgrader("layer", solution=True)))
    assert validate(nb) == []
    assert make_exercise(nb).cells[0].source.endswith(
        "        if x:\n            # YOUR CODE HERE\n            raise NotImplementedError()")


def test_notebook_name_must_match_its_metadata():
    assert validate(solution(), name="01_other") == [
        "notebook metadata backproplab.exercise must be '01_other' (found '00_demo')"]


def test_validation_does_not_modify_the_notebook():
    nb = solution()
    before = copy.deepcopy(nb)
    validate(nb)
    make_exercise(nb)
    assert nb == before and reads(dumps(nb)) == before


def test_locked_cells_are_locked_as_nbgrader_locks_them():
    """nbgrader's LockCells defaults: an answer cell cannot be deleted; a check cell or a locked
    cell can be neither deleted nor edited; a plain cell stays as it is."""
    nb = make_exercise(solution())
    for c in nb.cells:
        locks = {k: c.metadata[k] for k in ("editable", "deletable") if k in c.metadata}
        if is_solution(c):
            assert locks == {"deletable": False}, grade_id(c)
        elif is_grade(c) or meta(c).get("locked"):
            assert locks == {"editable": False, "deletable": False}, grade_id(c)
        else:
            assert locks == {}, c.source
    assert {"editable", "deletable"}.isdisjoint(cell(solution(), "demo_sigmoid").metadata)


def test_the_solution_link_to_the_exercise_becomes_the_exercise_link_to_the_solution():
    intro = new_markdown_cell(f"# Title\n\n{navigation('07_x', 'solution')}\n\nText.",
                              metadata=nbgrader("intro", locked=True))
    source, _ = exercise_source(intro)
    assert source == f"# Title\n\n{navigation('07_x', 'exercise')}\n\nText."
    assert "](../lessons/07_x.ipynb)" in source and "](../solutions/07_x.ipynb)" in source
    assert "exercises/" not in source
    code = new_code_cell(f"# {navigation('07_x', 'solution')}")
    assert exercise_source(code)[0] == code.source, "only markdown is rewritten"
