"""The real course, as an instructor would use it: the nine exercise notebooks are valid,
their student versions are exactly what the generator produces, and the grader gives every
solution full marks and every untouched exercise zero.

Every part of every notebook, checked in-process (its answer cells run here): the solution
scores the grade cell's points, its stored output says so, and the generated exercise is "not
attempted yet". The student's objects are the ones the grade cell passes to check()."""

import contextlib
import io
import json
import pathlib
import re

import pytest

from backproplab.cli import main
from backproplab.grading.generate import make_exercise, make_exercises, navigation, validate
from backproplab.grading.notebook import grade_id, is_grade, reads
from backproplab.grading.registry import get_part
from backproplab.grading.results import NOT_ATTEMPTED, PASSED
from exercise_support import (Exercise, cell, check_quietly, checked_names,
                              stored_grade_outputs)

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOLUTIONS, EXERCISES = ROOT / "solutions", ROOT / "exercises"
NOTEBOOKS = sorted(p.name for p in SOLUTIONS.glob("*.ipynb"))


def _grade_cells(path):
    return [c for c in reads(path.read_text(encoding="utf-8")).cells if is_grade(c)]


# (notebook, grade_id) of every graded part of the course
PARTS = [pytest.param(name[:-6], grade_id(c), id=grade_id(c))
         for name in NOTEBOOKS for c in _grade_cells(SOLUTIONS / name)]


def test_one_exercise_notebook_per_lesson():
    lessons = sorted(p.name for p in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
    assert NOTEBOOKS == lessons and len(NOTEBOOKS) == 9
    assert sorted(p.name for p in EXERCISES.glob("*.ipynb")) == NOTEBOOKS


def test_parts_are_many_unique_and_carry_their_registered_points():
    ids, total = [], 0
    for name in NOTEBOOKS:
        cells = _grade_cells(SOLUTIONS / name)
        assert 4 <= len(cells) <= 12, f"{name}: {len(cells)} graded parts"
        for cell in cells:
            points = cell.metadata.nbgrader["points"]
            assert points > 0 and points == get_part(grade_id(cell)).points
            ids.append(grade_id(cell))
            total += points
    assert len(ids) >= 40, f"{len(ids)} graded parts in the course"
    assert len(ids) == len(set(ids)), "grade_ids must be unique across the course"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"({len(ids)} graded parts, {total:g} points in all" in readme, (
        f"the README should say {len(ids)} graded parts, {total:g} points")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_solution_notebook_validates(name):
    assert validate(reads((SOLUTIONS / name).read_text(encoding="utf-8")), name[:-6]) == []


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_each_exercise_links_to_its_lesson_and_solution_and_each_solution_back(name):
    """Under the title of each notebook: its lesson, and the other version of itself (relative
    links, so that they work in JupyterLab and on GitHub)."""
    for folder, kind in ((SOLUTIONS, "solution"), (EXERCISES, "exercise")):
        links = navigation(name[:-6], kind)
        intro = reads((folder / name).read_text(encoding="utf-8")).cells[0]
        assert intro.cell_type == "markdown" and links in intro.source, (folder, intro.source)
        targets = re.findall(r"\]\((\.\./[^)]+)\)", links)
        assert [t.split("/")[1] for t in targets] == \
            ["lessons", "exercises" if kind == "solution" else "solutions"]
        assert all((folder / target).resolve().is_file() for target in targets), targets


def test_committed_exercises_are_exactly_what_the_generator_produces():
    assert make_exercises(SOLUTIONS, EXERCISES, check=True) == []


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    report = tmp_path_factory.mktemp("course") / "report.json"
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["grade", str(SOLUTIONS), str(EXERCISES), "--source", str(SOLUTIONS),
                     "--jobs", "2", "--json", str(report)])
    assert code == 0
    subs = json.loads(report.read_text())["submissions"]
    return {pathlib.Path(s["file"]).parent.name + "/" + pathlib.Path(s["file"]).name: s
            for s in subs}


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_solution_scores_full_marks(graded, name):
    entry = graded[f"solutions/{name}"]
    assert entry["error"] is None and entry["warnings"] == []
    assert entry["total"] == entry["max_total"] > 0
    assert all(p["score"] == p["max_score"] for p in entry["parts"])


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_untouched_exercise_scores_zero_without_errors(graded, name):
    entry = graded[f"exercises/{name}"]
    assert entry["error"] is None and entry["warnings"] == []
    assert entry["total"] == 0 and entry["max_total"] > 0
    for part in entry["parts"]:
        assert "not attempted yet" in "\n".join(part["messages"]), part["grade_id"]


@pytest.mark.parametrize("name, gid", PARTS)
class TestEveryPart:
    """Each part in-process: check() on the objects its grade cell names, with no warning."""

    @staticmethod
    def _grade(name, gid, make=lambda nb: nb):
        """The part's check() on the answers of the solution notebook, or of ``make(it)``;
        returns the result, its text and the grade cell's points."""
        ex = Exercise(name)
        nb = ex.notebook()
        grade_cell = cell(nb, gid)
        checked, names = checked_names(grade_cell)
        assert checked == gid, grade_cell.source
        namespace = ex.run_answers(make(nb))
        result, text = check_quietly(gid, *(namespace[n] for n in names))
        return result, text, grade_cell.metadata.nbgrader["points"]

    def test_the_solution_scores_full_marks(self, name, gid):
        result, text, points = self._grade(name, gid)
        assert (result.score, result.max_score, result.status) == (points, points, PASSED), text

    def test_the_stored_solution_output_shows_full_marks(self, name, gid):
        stored = {g: (points, text) for g, points, text in
                  stored_grade_outputs(Exercise(name).notebook())}
        points, text = stored[gid]
        assert f"{gid} (" in text and f": {points}/{points} points, all tests passed" in text

    def test_the_exercise_is_not_attempted(self, name, gid):
        result, text, points = self._grade(name, gid, make_exercise)
        assert result.status == NOT_ATTEMPTED and result.score == 0, text
        assert text == f"{gid} ({get_part(gid).title}): not attempted yet (0/{points} points)"
