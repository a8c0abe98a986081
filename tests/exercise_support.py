"""Helpers for the tests of a course's notebooks: tests/test_exercises_NN.py (one per exercise)
and the demo course's submissions (tests/fixtures/grading/submissions.py).

A test module names its solution notebook once, ``EX = Exercise("01_forward_pass")``, and takes
from it the notebook as committed, its answer cells run in-process (after ``with_bug`` has
planted a student's bug in one of them), and the real grader run on it end to end.
tests/test_course.py checks every part of every notebook this way, with the objects its grade
cell passes to check() (``checked_names``).

Imported as ``exercise_support``: pytest (import mode "prepend", no __init__.py in tests/) puts
tests/ on sys.path before it imports a test module there, and tests/conftest.py has this module's
asserts rewritten like a test module's.
"""

import ast
import warnings
from pathlib import Path

import pytest

import backproplab
from backproplab.grading import check
from backproplab.grading.grader import grade_file
from backproplab.grading.limits import Limits
from backproplab.grading.notebook import dumps, grade_id, is_grade, is_solution, reads
from backproplab.grading.protect import Snapshot

ROOT = Path(__file__).resolve().parents[1]


def cell(nb, gid):
    """The cell of ``nb`` whose grade_id is ``gid``."""
    return next(c for c in nb.cells if grade_id(c) == gid)


def with_bug(nb, gid, old, new):
    """``nb`` with ``old`` replaced by ``new`` in answer cell ``gid`` (``old`` must be there)."""
    target = cell(nb, gid)
    assert old in target.source, (gid, old)
    target.source = target.source.replace(old, new)
    return nb


def without_outputs(nb):
    """``nb`` with every code cell's outputs and execution count cleared."""
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
    return nb


def stored_grade_outputs(nb):
    """(grade_id, points, the text it printed) of each grade cell, from the stored outputs."""
    return [(grade_id(c), c.metadata.nbgrader["points"],
             "".join(o.get("text", "") for o in c.outputs)) for c in nb.cells if is_grade(c)]


def checked_names(c):
    """(grade_id, names of the student's objects) that grade cell ``c`` checks: its source must
    be the one call ``check("<grade_id>", <name>, ...)``."""
    (statement,) = ast.parse(c.source).body
    call = statement.value
    assert isinstance(call, ast.Call) and isinstance(call.func, ast.Name), c.source
    assert call.func.id == "check" and not call.keywords, c.source
    gid, *names = call.args
    assert isinstance(gid, ast.Constant) and isinstance(gid.value, str), c.source
    assert names and all(isinstance(name, ast.Name) for name in names), c.source
    return gid.value, [name.id for name in names]


def check_quietly(gid, *objs):
    """check() on the part's objects, with every warning recorded: none may escape. Returns the
    result and its lines as one text."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = check(gid, *objs)
    assert not caught, [str(w.message) for w in caught]
    return result, "\n".join(result.lines)


def assert_named(result, phrase, everywhere=True):
    """The mistake is named in every failed test (everywhere) or in at least one."""
    failed = [test for test in result.tests if not test.passed]
    assert failed, "the buggy answer passed every test"
    named = [phrase in test.message for test in failed]
    assert all(named) if everywhere else any(named), [t.message for t in failed]


def assert_every_mistake_named(gid, mistakes, partial=()):
    """Each buggy answer of ``mistakes`` ({name: answer}) scores 0 on part ``gid`` and every
    one of its tests names it; those in ``partial`` (invisible on some test: a typo in Adam's
    bias correction changes nothing at t = 1) lose points and every failed test names them."""
    for name, buggy in mistakes.items():
        result, text = check_quietly(gid, buggy)
        failed = [test for test in result.tests if not test.passed]
        assert result.score == 0 or (name in partial and failed), text
        assert all(name in test.message for test in failed), text


def part_report(report, gid):
    """{grade_id: score} of a submission's report, and the report of its part ``gid``."""
    scores = {p.grade_id: p.score for p in report.parts}
    return scores, next(p for p in report.parts if p.grade_id == gid)


class Exercise:
    """The solution notebook ``folder/<name>.ipynb``.

    ``setup`` is the source run before the answer cells; by default the notebook's own setup
    cell, the cell ``exNN_imports`` of exercise NN.
    """

    def __init__(self, name, folder=ROOT / "solutions", setup=None):
        self.name, self.path, self.setup = name, Path(folder) / f"{name}.ipynb", setup
        self._grade_cells = {}

    def notebook(self):
        """The solution notebook as committed (a fresh copy each time)."""
        return reads(self.path.read_text(encoding="utf-8"))

    def run_answers(self, nb, answers=None):
        """The namespace after the setup cell and every answer cell of ``nb`` (or only the
        cells whose grade_ids are listed in ``answers``), run here in-process."""
        namespace = {}
        setup = self.setup
        if setup is None:
            setup = cell(nb, f"ex{self.name[:2]}_imports").source
        exec(setup, namespace)
        if answers is None:
            cells = [c for c in nb.cells if is_solution(c) and c.cell_type == "code"]
        else:
            cells = [cell(nb, gid) for gid in answers]
        for c in cells:
            exec(c.source, namespace)
        return namespace

    def _grade_cell(self, gid):
        if gid not in self._grade_cells:
            self._grade_cells[gid] = cell(self.notebook(), gid)
        return self._grade_cells[gid]

    def grade(self, gid, namespace):
        """check() on the objects of ``namespace`` that grade cell ``gid`` passes to check(),
        every warning recorded (none may escape). Returns the result and its text."""
        names = checked_names(self._grade_cell(gid))[1]
        return check_quietly(gid, *(namespace[name] for name in names))

    def assert_planted_bug(self, bug, others=(), tol=1e-9):
        """Plant ``bug`` = (answer cell, old text, buggy text, grade_id, phrase, points kept)
        in the solution and run its answers: part grade_id keeps exactly those points and its
        text names ``phrase``; every part in ``others`` keeps all its points."""
        answer, old, new, gid, phrase, kept = bug
        namespace = self.run_answers(with_bug(self.notebook(), answer, old, new))
        result, text = self.grade(gid, namespace)
        assert result.score == pytest.approx(kept, abs=tol), text
        assert phrase in text, text
        for other in others:
            if other != gid:  # every other part of the same submission keeps its points
                points = self._grade_cell(other).metadata.nbgrader["points"]
                assert self.grade(other, namespace)[0].score == points

    def answer_object(self, answer, name, old=None, new=None):
        """The object ``name`` that the answer cell ``answer`` defines, run after the setup
        cell, with ``old`` replaced by ``new`` in it first (when given)."""
        nb = self.notebook()
        if old is not None:
            with_bug(nb, answer, old, new)
        return self.run_answers(nb, [answer])[name]

    def grade_submission(self, tmp_path, nb, sources=None, *, timeout=60,
                         filename="student.ipynb"):
        """The real grader (kernel, restored cells, scoring) on ``nb`` saved as a student's
        ``tmp_path/filename``, against ``sources`` (default: this solution notebook). The
        grading must not fail nor change the file; returns the report."""
        path = tmp_path / filename
        path.write_text(dumps(nb), encoding="utf-8")
        before = path.read_bytes()
        library = Snapshot(Path(backproplab.__file__).parent, "**/*")  # the kernel's own copy
        sources = {self.name: self.notebook()} if sources is None else sources
        report = grade_file(path, "student", sources, Limits(timeout=timeout), library)
        assert report.error is None, report.error
        assert path.read_bytes() == before
        return report
