"""Exercise notebooks from solution notebooks, with nbgrader's markers but without nbgrader.

The solution notebook is the single source. In its solution cells (code: the grader grades
code only, and nbgrader refuses an answer in markdown that is not graded by hand) the answer sits
between ``### BEGIN SOLUTION`` and ``### END SOLUTION``; the exercise gets ``# YOUR CODE HERE``
and ``raise NotImplementedError()`` at the same indent instead.
Grade cells may hold ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS``: removed from the
exercise, restored by the grader. Outputs and execution counts are cleared, and the cells the
student must not change are locked the way nbgrader's ``generate_assignment`` locks them
(``editable``/``deletable`` false). The solution's link to the exercise (:func:`navigation`)
becomes the exercise's link to the solution.
"""

import ast
import copy
import re
from pathlib import Path

from .notebook import (SCHEMA_VERSION, describe_cell, dumps, exercise_name, grade_id, is_grade,
                       is_solution, nbgrader, reads)
from .registry import GRADE_ID, UnknownPartError, get_part

__all__ = ["InvalidNotebook", "navigation", "validate", "exercise_source", "make_exercise",
           "make_exercises"]

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")


# Where a course notebook links to: its lesson, and the other version of itself. Relative links,
# so that they work in JupyterLab and on GitHub alike.
_NAVIGATION = {
    "solution": "**The same exercises without answers:** [exercises/{name}.ipynb]"
                "(../exercises/{name}.ipynb)",
    "exercise": "**Worked solutions (try first):** [solutions/{name}.ipynb]"
                "(../solutions/{name}.ipynb)",
}
_TO_EXERCISE = re.compile(re.escape(_NAVIGATION["solution"])
                          .replace(re.escape("{name}"), r"(?P<name>[A-Za-z0-9_-]+)", 1)
                          .replace(re.escape("{name}"), "(?P=name)"))


def navigation(name, kind):
    """The line a course notebook ``name`` ("01_forward_pass") shows under its title, in the
    solution (``kind="solution"``) or in the exercise generated from it (``"exercise"``)."""
    return f"**Lesson:** [lessons/{name}.ipynb](../lessons/{name}.ipynb) · " + \
        _NAVIGATION[kind].format(name=name)


class InvalidNotebook(ValueError):
    """A solution notebook breaks the rules; ``problems`` lists every broken rule."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def _regions(lines, begin, end):
    """(first, last) line indices of each begin...end region; ValueError if unbalanced."""
    regions, start = [], None
    for number, line in enumerate(lines):
        # A substring test, as nbgrader does: the marker may follow code or other comments.
        if begin in line:
            if start is not None:
                raise ValueError(f"line {number + 1}: {begin!r} inside another region "
                                 f"(opened on line {start + 1})")
            start = number
        elif end in line:
            if start is None:
                raise ValueError(f"line {number + 1}: {end!r} without {begin!r}")
            regions.append((start, number))
            start = None
    if start is not None:
        raise ValueError(f"line {start + 1}: {begin!r} is never closed by {end!r}")
    return regions


def _replace(lines, regions, stub):
    """Replace each region by ``stub`` at the indent of its begin marker.

    Returns the new lines and the 1-based numbers of the stub lines that raise.
    """
    out, raising, previous = [], [], 0
    for first, last in regions:
        out += lines[previous:first]
        indent = re.match(r"\s*", lines[first]).group(0)
        for stub_line in stub:
            out.append(indent + stub_line)
            if stub_line.startswith("raise"):
                raising.append(len(out))
        previous = last + 1
    return out + lines[previous:], raising


def exercise_source(cell):
    """The cell's source as the exercise shows it, and the line numbers of inserted raises."""
    if cell.cell_type == "markdown":
        source = _TO_EXERCISE.sub(lambda m: _NAVIGATION["exercise"].format(name=m["name"]),
                                  cell.source)
        cell = {**cell, "source": source}
    lines = cell["source"].split("\n")
    if cell["cell_type"] == "code" and is_grade(cell):
        lines, _ = _replace(lines, _regions(lines, BEGIN_HIDDEN, END_HIDDEN), ())
    if not is_solution(cell):
        return "\n".join(lines), []
    lines, raising = _replace(lines, _regions(lines, BEGIN_SOLUTION, END_SOLUTION), CODE_STUB)
    return "\n".join(lines), raising


def _raises_outside_functions(source, raising):
    """Those of the ``raising`` lines not inside a function body: at module or class level the
    stub would raise as soon as the exercise cell runs, and the notebook would stop there."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython syntax (magics): translate it to Python first
        from IPython.core.inputtransformer2 import TransformerManager

        tree = ast.parse(TransformerManager().transform_cell(source))
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside.update(child.lineno for child in ast.walk(node) if isinstance(child, ast.Raise))
    return [line for line in raising if line not in inside]


def _metadata_problems(cell):
    meta = nbgrader(cell)
    if not meta:
        return
    if meta.get("schema_version") != SCHEMA_VERSION:
        yield f"nbgrader metadata needs schema_version {SCHEMA_VERSION}"
    gid = meta.get("grade_id")
    if any(meta.get(key) for key in ("solution", "grade", "locked")) \
            and not (isinstance(gid, str) and GRADE_ID.match(gid)):
        yield "needs a grade_id made of letters, digits, '_' and '-'"
    if meta.get("grade"):
        yield from _grade_cell_problems(cell, meta)


def _grade_cell_problems(cell, meta):
    points, gid = meta.get("points"), meta.get("grade_id")
    if isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0:
        yield f"a grade cell needs points > 0 (got {points!r})"
    if cell.cell_type != "code":
        yield "grade cells must be code cells (manually graded answers are not supported)"
        return
    if not re.search(rf"""\bcheck\(\s*["']{re.escape(str(gid))}["']""", cell.source):
        yield f"a grade cell must call check({gid!r}, ...): that result is the part's score"
        return
    if not _ends_with_check(cell.source, gid):
        yield (f"a grade cell must end with check({gid!r}, ...): the value of its last line is "
               "the score nbgrader reads (put hidden tests before it, see docs/grading.md)")
        return
    try:
        registered = get_part(gid).points
    except UnknownPartError as exc:
        yield str(exc)
        return
    if registered != points:
        yield f"points {points!r} differ from the {registered!r} of the registered part"


def _ends_with_check(source, gid):
    """Is the last statement of ``source`` the expression ``check("<gid>", ...)``?"""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    last = body[-1].value if body and isinstance(body[-1], ast.Expr) else None
    return isinstance(last, ast.Call) and isinstance(last.func, ast.Name) \
        and last.func.id == "check" and bool(last.args) \
        and isinstance(last.args[0], ast.Constant) and last.args[0].value == gid


def _source_problems(cell):
    lines = cell.source.split("\n")
    try:
        solutions = _regions(lines, BEGIN_SOLUTION, END_SOLUTION)
        hidden = _regions(lines, BEGIN_HIDDEN, END_HIDDEN)
    except ValueError as exc:
        yield str(exc)
        return
    if solutions and not is_solution(cell):
        yield "has solution markers but is not a solution cell (nbgrader.solution is false)"
    if hidden and not is_grade(cell):
        yield "hidden tests are only allowed in grade cells"
    if not is_solution(cell):
        return
    if cell.cell_type != "code":
        yield ("an answer cell must be code: the grader grades code only, and nbgrader refuses "
               "a markdown answer that is not graded by hand")
        return
    if not solutions:
        yield f"a code solution cell needs {BEGIN_SOLUTION!r} / {END_SOLUTION!r} around the answer"
        return
    source, raising = exercise_source(cell)
    try:
        outside = _raises_outside_functions(source, raising)
    except SyntaxError as exc:
        yield (f"the exercise version of this cell is not valid Python "
               f"({exc.msg}, line {exc.lineno})")
        return
    for line in outside:
        yield (f"the solution region replaced on line {line} of the exercise is not inside a "
               "function body: `raise NotImplementedError()` there would stop the notebook")


def validate(nb, name=None):
    """Every broken rule of a solution notebook, as messages ("cell 4 (sigmoid): ...").

    ``name``: the file's stem; when given, ``metadata.backproplab.exercise`` must equal it.
    """
    problems, first_seen = [], {}
    if name is not None and exercise_name(nb) != name:
        problems.append(f"notebook metadata backproplab.exercise must be {name!r} "
                        f"(found {exercise_name(nb)!r})")
    for index, cell in enumerate(nb.cells):
        where = describe_cell(index, cell)
        problems += [f"{where}: {p}" for p in _metadata_problems(cell)]
        problems += [f"{where}: {p}" for p in _source_problems(cell)]
        gid = grade_id(cell)
        if gid is not None and gid in first_seen:
            problems.append(f"{where}: grade_id {gid!r} is already used by cell "
                            f"{first_seen[gid] + 1}")
        first_seen.setdefault(gid, index)
    return problems


def make_exercise(nb):
    """The exercise notebook made from solution notebook ``nb`` (which is left unchanged).

    Raises :class:`InvalidNotebook` listing the problems when ``nb`` breaks the rules.
    """
    problems = validate(nb)
    if problems:
        raise InvalidNotebook(problems)
    exercise = copy.deepcopy(nb)
    exercise.metadata.pop("widgets", None)  # widget state: new random ids on every run
    for cell in exercise.cells:
        cell.source, _ = exercise_source(cell)
        cell.metadata.pop("execution", None)  # timings recorded by nbclient
        cell.metadata.update(_locks(cell))
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return exercise


def _locks(cell):
    """What nbgrader's LockCells (its defaults) sets: an answer cell cannot be deleted; a check
    cell or a locked cell can be neither deleted nor edited (JupyterLab greys them out)."""
    if is_solution(cell):
        return {"deletable": False}
    if is_grade(cell) or nbgrader(cell).get("locked"):
        return {"deletable": False, "editable": False}
    return {}


def make_exercises(solutions_dir, out_dir, check=False):
    """Generate ``out_dir/X.ipynb`` for every ``solutions_dir/X.ipynb``.

    Writes only the files whose text changes and returns their paths; with ``check``, writes
    nothing and returns the exercise files that differ from what generation gives, are
    missing, or have no solution any more. Raises :class:`InvalidNotebook` for bad solutions.
    """
    solutions_dir, out_dir = Path(solutions_dir), Path(out_dir)
    expected, problems = {}, []
    for path in sorted(solutions_dir.glob("*.ipynb")):
        nb = reads(path.read_text(encoding="utf-8"))
        found = validate(nb, name=path.stem)
        problems += [f"{path}: {p}" for p in found]
        if not found:
            expected[out_dir / path.name] = dumps(make_exercise(nb))
    if problems:
        raise InvalidNotebook(problems)
    differing = [target for target, text in expected.items()
                 if not target.exists() or target.read_text(encoding="utf-8") != text]
    if check:
        stale = [p for p in sorted(out_dir.glob("*.ipynb")) if p not in expected]
        return differing + stale
    out_dir.mkdir(parents=True, exist_ok=True)
    for target in differing:
        target.write_text(expected[target], encoding="utf-8")
    return differing
