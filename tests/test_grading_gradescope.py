"""backproplab gradescope: an autograder zip in Gradescope's documented layout, and its
run_autograder run as Gradescope runs it, in a temporary directory laid out like /autograder
(https://gradescope-autograders.readthedocs.io/en/latest/specs/):

    /autograder/source/          the zip, extracted
    /autograder/run_autograder   copied from it
    /autograder/submission/      the student's upload
    /autograder/results/results.json   what run_autograder must write

setup.sh needs root and the network (apt, PyPI); here the course is installed from the zip's
wheel with ``pip install --no-deps --target`` and run_autograder is pointed at this Python, so
the test proves that the wheel alone holds what grading needs.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from backproplab.cli import main
from backproplab.grading.generate import make_exercise
from backproplab.grading.gradescope import run
from backproplab.grading.notebook import dumps
from fixtures.grading.submissions import SOLUTIONS, solution
from exercise_support import with_bug

FULL = {"demo_sigmoid": 2, "demo_mse": 1, "demo_mse_grad": 2, "demo_linear_grad": 3}
SUBMISSIONS = {
    "full": lambda: solution(),
    "empty": lambda: make_exercise(solution()),
    "one_mistake": lambda: with_bug(solution(), "linear_answer", "x.T @ grad_out",
                                    "grad_out.T @ x"),
}


@pytest.fixture(scope="module")
def autograder(tmp_path_factory):
    """The zip, and a Gradescope-like root with it extracted and the wheel installed."""
    base = tmp_path_factory.mktemp("gradescope")
    archive = base / "autograder.zip"
    assert main(["gradescope", "--out", str(archive), "--source", str(SOLUTIONS),
                 "--visibility", "after_published", "--timeout", "300"]) == 0
    root = base / "autograder"
    with zipfile.ZipFile(archive) as z:
        z.extractall(root / "source")
        modes = {info.filename: info.external_attr >> 16 for info in z.infolist()}
    for name in ("run_autograder", "setup.sh"):
        (root / "source" / name).chmod(modes[name] & 0o777)
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")  # as Gradescope does
    (wheel,) = (root / "source").glob("*.whl")
    site = base / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                          "--no-index", "--target", str(site), str(wheel)],
                         capture_output=True, text=True)
    assert pip.returncode == 0, pip.stderr
    return {"zip": archive, "root": root, "site": site, "modes": modes}


@pytest.fixture(scope="module")
def graded(autograder):
    """Gradescope's runs of the three submissions, each in a container of its own (here: a
    copy of the root, all three at once): {name: (results.json, stdout)}."""
    runs = {}
    for name, make in SUBMISSIONS.items():
        root = autograder["root"].parent / f"container-{name}"
        shutil.copytree(autograder["root"], root, symlinks=True)
        (root / "submission").mkdir()
        (root / "submission" / "my_notebook.ipynb").write_text(dumps(make()))
        env = {**os.environ, "AUTOGRADER_ROOT": str(root), "BACKPROPLAB_PYTHON": sys.executable,
               "PYTHONPATH": str(autograder["site"])}
        runs[name] = (root, subprocess.Popen([str(root / "run_autograder")], env=env,
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                             text=True))
    results = {}
    for name, (root, process) in runs.items():
        stdout, stderr = process.communicate(timeout=180)
        assert process.returncode == 0, stderr[-2000:]
        results[name] = json.loads((root / "results" / "results.json").read_text()), stdout
    return results


def test_the_zip_has_gradescope_s_layout(autograder):
    with zipfile.ZipFile(autograder["zip"]) as z:
        names = set(z.namelist())
    wheel = next(n for n in names if n.endswith(".whl"))
    assert names == {"setup.sh", "run_autograder", "autograder.json", wheel,
                     "solutions/00_demo.ipynb"}
    assert wheel.startswith("backproplab-") and wheel.endswith("-py3-none-any.whl")
    assert all(autograder["modes"][n] & 0o111 for n in ("setup.sh", "run_autograder"))
    setup = (autograder["root"] / "source" / "setup.sh").read_text()
    assert f"pip install /autograder/source/{wheel}" in setup
    settings = json.loads((autograder["root"] / "source" / "autograder.json").read_text())
    assert settings["visibility"] == "after_published" and settings["timeout"] == 300


@pytest.mark.parametrize("name, scores", [
    ("full", FULL), ("empty", dict.fromkeys(FULL, 0)),
    ("one_mistake", {**FULL, "demo_linear_grad": 1})])
def test_run_autograder_writes_one_test_per_part(autograder, graded, name, scores):
    results, stdout = graded[name]
    assert f"from {autograder['site'] / 'backproplab'}" in stdout, "graded by the wheel's copy"
    assert [t["name"].split(":")[0] for t in results["tests"]] == list(scores)
    assert {t["name"].split(":")[0]: t["score"] for t in results["tests"]} == scores
    assert [t["max_score"] for t in results["tests"]] == list(FULL.values())
    assert results["score"] == sum(scores.values())
    assert isinstance(results["execution_time"], int) and results["execution_time"] >= 0
    assert {t["visibility"] for t in results["tests"]} == {"after_published"}
    assert results["output"].startswith("Graded my_notebook.ipynb as exercise 00_demo.")
    linear = results["tests"][-1]
    assert linear["name"] == "demo_linear_grad: the backward pass of a linear layer y = x @ W"
    expected = {"full": "3/3 points, all tests passed", "empty": "not attempted yet",
                "one_mistake": "looks like a transposed weight gradient"}[name]
    assert expected in linear["output"]
    assert linear["status"] == ("passed" if scores["demo_linear_grad"] == 3 else "failed")


def test_a_submission_without_a_notebook_scores_0_and_says_why(autograder, tmp_path):
    root = tmp_path / "autograder"
    shutil.copytree(autograder["root"] / "source", root / "source")
    (root / "submission").mkdir()
    (root / "submission" / "notes.txt").write_text("I forgot the notebook")
    results = run(root)
    assert results["score"] == 0 and results["tests"] == []
    assert "No notebook (.ipynb) in the submission" in results["output"]
    assert json.loads((root / "results" / "results.json").read_text()) == results


def test_unknown_exercises_and_visibilities_are_usage_errors(tmp_path):
    for extra in (["--exercise", "99_nope"], ["--visibility", "sometimes"]):
        with pytest.raises(SystemExit) as exit_info:
            main(["gradescope", "--out", str(tmp_path / "a.zip"), "--source", str(SOLUTIONS),
                  *extra])
        assert exit_info.value.code == 2
