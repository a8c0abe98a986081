"""The real nbgrader on the course's notebooks, as docs/instructor_guide.md ("With nbgrader")
tells an instructor to run it: a course folder with ``nbgrader_config.py``, solution notebooks in
``source/ps1/``, ``generate_assignment``, three students' submissions in
``submitted/<student>/ps1/``, ``autograde``, ``generate_feedback``, and ``validate`` as a student
runs it. nbgrader must give exactly the scores of ``backproplab grade`` on the same files:
full marks, 0 for the untouched stub, and the same partial credit for one mistake.

nbgrader starts slowly (10-20 s per command), so the whole round runs in one process through
its API (tests/fixtures/grading/nbgrader_course.py), once for the module.
"""

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from backproplab.cli import main
from fixtures.grading.submissions import SOLUTION as DEMO

if not os.environ.get("CI"):  # in CI, a missing nbgrader is a failure, not a skip
    pytest.importorskip("nbgrader")

ROOT = Path(__file__).resolve().parents[1]
COURSE_NOTEBOOKS = [ROOT / "solutions" / "01_forward_pass.ipynb",
                    ROOT / "solutions" / "02_measuring_error.ipynb", DEMO]
# One mistake in each notebook: a relu that writes into its input (named by the guard), a sum
# for a mean, and a transposed weight gradient; the demo student also uses a textbook sigmoid,
# which warns (overflow) but is right: nbgrader must not zero it for the warning. The demo's
# sigmoid check has a hidden test.
MISTAKES = {
    "01_forward_pass": [["ex01_relu_answer", "return np.maximum(Z, 0)",
                         "Z[Z < 0] = 0\n    return Z"]],
    "02_measuring_error": [["ex02_mse_answer", "np.mean((Y_hat - Y) ** 2)",
                            "np.sum((Y_hat - Y) ** 2)"]],
    "00_demo": [["linear_answer", "x.T @ grad_out", "grad_out.T @ x"],
                ["sigmoid_answer", "    x = np.asarray(x, dtype=float)\n",
                 "    return 1 / (1 + np.exp(-x))\n"]],
}
STUDENTS = {"ada": {}, "bob": "stub", "cy": MISTAKES}
CONFIG = 'c = get_config()\nc.CourseDirectory.course_id = "backproplab"\n'  # the guide's


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course folder after an nbgrader round, nbgrader's results, and backproplab grade's
    JSON report on the same submitted/ folder."""
    root = tmp_path_factory.mktemp("nbgrader") / "course"
    (root / "source" / "ps1").mkdir(parents=True)
    (root / "nbgrader_config.py").write_text(CONFIG)
    for notebook in COURSE_NOTEBOOKS:
        shutil.copy(notebook, root / "source" / "ps1")
    plans = root.parent / "students.json"
    plans.write_text(json.dumps(STUDENTS))
    # nbgrader runs `alembic` as a command: the environment's bin/ must be on PATH (the guide
    # says to activate the virtual environment).
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent),
                                                  os.environ.get("PATH", "")])}
    run = subprocess.run([sys.executable, str(ROOT / "tests" / "fixtures" / "grading" /
                                              "nbgrader_course.py"), str(root), "ps1", str(plans),
                          "01_forward_pass"],
                         capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    nbgrader = json.loads(run.stdout.strip().splitlines()[-1])
    sources = root.parent / "solutions"
    sources.mkdir()
    for notebook in COURSE_NOTEBOOKS:
        shutil.copy(notebook, sources)
    report = root.parent / "report.json"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["grade", str(root / "submitted"), "--source", str(sources), "--jobs", "2",
                     "--json", str(report)]) == 0
    ours = {}
    for entry in json.loads(report.read_text())["submissions"]:
        ours.setdefault(entry["student"], {})[entry["exercise"]] = \
            {part["grade_id"]: part["score"] for part in entry["parts"]}
    return {"root": root, "nbgrader": nbgrader, "ours": ours}


def test_nbgrader_gives_the_scores_of_backproplab_grade_part_by_part(course):
    theirs = course["nbgrader"]["scores"]
    print("\nstudent  notebook          part                    nbgrader  backproplab grade")
    for student in STUDENTS:
        for notebook, parts in theirs[student].items():
            for gid, score in parts.items():
                print(f"{student:8} {notebook:17} {gid:23} {score:8g}  "
                      f"{course['ours'][student][notebook][gid]:g}")
    assert theirs == course["ours"]


def test_the_solution_scores_full_marks_the_stub_0_and_one_mistake_part_of_a_part(course):
    theirs, full = course["nbgrader"]["scores"], course["nbgrader"]["max"]
    for notebook, parts in theirs["ada"].items():
        assert parts == {gid: full[gid] for gid in parts}, notebook
        assert set(theirs["bob"][notebook].values()) == {0}, notebook
    cy = {gid: score for parts in theirs["cy"].values() for gid, score in parts.items()}
    lost = {gid: full[gid] - score for gid, score in cy.items() if score < full[gid]}
    assert lost == {"ex01_relu": 1, "ex02_mse": 2, "demo_linear_grad": 2}, "part by part"


def test_validate_fails_on_the_stub_reports_partial_credit_and_passes_the_solution(course):
    checked = course["nbgrader"]["validate"]  # each student's 01_forward_pass
    parts = len(course["nbgrader"]["scores"]["bob"]["01_forward_pass"])
    assert "Success! Your notebook passes all the tests." in checked["ada"]
    assert f"VALIDATION FAILED ON {parts} CELL(S)!" in checked["bob"]  # every part of the stub
    assert "VALIDATION FAILED ON 1 CELL(S)!" in checked["cy"]
    assert "Partial credit; passed some but not all of the tests" in checked["cy"]


def test_generate_feedback_shows_one_score_per_part_next_to_check_s_lines(course):
    html = Path(course["nbgrader"]["feedback"]["cy"]["01_forward_pass"]).read_text()
    assert "wrote into an array it was given" in html
    scores = re.findall(r"Score: ([\d.]+) / ([\d.]+)", html)
    totals = re.findall(r"ex01_\w+ \(.*?\): (?:not attempted yet \()?([\d.]+)/([\d.]+) points",
                        html)
    parts = course["nbgrader"]["scores"]["cy"]["01_forward_pass"]
    assert len(scores) >= len(totals) == len(parts)
    assert sorted(float(s) for s, _ in totals) == sorted(parts.values())
    assert all((float(s), float(m)) in {(float(a), float(b)) for a, b in scores}
               for s, m in totals)
