"""backproplab grade, end to end: one batch (--jobs 2, --timeout 3) of honest, buggy and hostile
submissions of the demo course, graded by the CLI exactly as an instructor would run it.

Every hostile submission must be graded to completion, its file left byte-identical, and its
other parts still scored.
"""

import contextlib
import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

import backproplab.grading.parts.demo as demo_parts
from backproplab.cli import main
from backproplab.grading.execute import OK, _GradingClient, execute_notebook
from backproplab.grading.generate import make_exercise
from backproplab.grading.limits import Limits
from fixtures.grading.submissions import SOLUTION, solution, write_submissions

FULL = {"demo_sigmoid": 2, "demo_mse": 1, "demo_mse_grad": 2, "demo_linear_grad": 3}


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextlib.contextmanager
def _tempdir(path):
    """tempfile's folder is ``path`` inside the block (this process only)."""
    saved, tempfile.tempdir = tempfile.tempdir, str(path)
    try:
        yield
    finally:
        tempfile.tempdir = saved


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """Grade every fixture submission in one CLI run; the outputs, and the files' hashes."""
    root = tmp_path_factory.mktemp("grading")
    source = root / "solutions"
    source.mkdir()
    shutil.copy(SOLUTION, source)
    module = demo_parts.__file__
    with open(module, "rb") as f:
        module_bytes = f.read()
    paths = write_submissions(root / "submissions", (module, source / SOLUTION.name))
    before = {name: _digest(path) for name, path in paths.items()}
    out, err = io.StringIO(), io.StringIO()
    backups = root / "tmp"  # where the grader keeps the files it restores: not the real /tmp
    backups.mkdir()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                _tempdir(backups):
            code = main(["grade", str(root / "submissions"), "--source", str(source),
                         "--jobs", "2", "--timeout", "3", "--json", str(root / "report.json"),
                         "--csv", str(root / "gradebook.csv"), "--feedback", str(root / "fb")])
        with open(module, "rb") as f:
            module_after = f.read()
    finally:
        with open(module, "rb") as f:  # never leave the package edited, even if the test fails
            if f.read() != module_bytes:
                with open(module, "wb") as w:
                    w.write(module_bytes)
    report = json.loads((root / "report.json").read_text())
    return {
        "code": code, "out": out.getvalue(), "err": err.getvalue(), "root": root,
        "source": source, "paths": paths, "before": before,
        "module_intact": module_after == module_bytes,
        "source_intact": (source / SOLUTION.name).read_bytes() == SOLUTION.read_bytes(),
        "by_student": {s["student"]: s for s in report["submissions"]}, "report": report,
    }


def scores(batch, student):
    entry = batch["by_student"][student]
    assert entry["error"] is None, entry  # so a failure says why it was not graded
    return {p["grade_id"]: p["score"] for p in entry["parts"]}


def messages(batch, student, gid):
    part = next(p for p in batch["by_student"][student]["parts"] if p["grade_id"] == gid)
    return "\n".join(part["messages"])


def warnings(batch, student):
    return "\n".join(batch["by_student"][student]["warnings"])


def test_the_batch_completes_with_exit_status_0_and_a_score_table(batch):
    assert batch["code"] == 0
    lines = batch["out"].splitlines()
    assert lines[0] == "00_demo" and lines[1].split()[:6] == ["student", *FULL, "total"]
    assert any(line.split()[:6] == ["solution", "2", "1", "2", "3", "8/8"] for line in lines)
    assert any(line.startswith("tamper_course ") and "FLAGGED" in line for line in lines)
    assert "13 submission(s) graded in" in batch["out"]
    assert set(batch["by_student"]) == set(batch["paths"])


def test_every_submission_file_is_left_byte_identical(batch):
    assert {name: _digest(path) for name, path in batch["paths"].items()} == batch["before"]
    assert sorted(p.name for p in batch["paths"]["solution"].parent.iterdir()) == \
        sorted(p.name for p in batch["paths"].values())


def test_the_solution_scores_full_marks(batch):
    entry = batch["by_student"]["solution"]
    assert scores(batch, "solution") == FULL and entry["total"] == entry["max_total"] == 8
    assert entry["warnings"] == [] and entry["error"] is None and entry["seconds"] > 0
    assert "demo_sigmoid (the logistic sigmoid): 2/2 points, all tests passed" in \
        messages(batch, "solution", "demo_sigmoid")


def test_the_generated_exercise_scores_0_and_each_part_says_not_attempted(batch):
    assert scores(batch, "exercise") == dict.fromkeys(FULL, 0)
    assert messages(batch, "exercise", "demo_mse") == \
        "demo_mse (the mean squared error): not attempted yet (0/1 points)"
    assert batch["by_student"]["exercise"]["warnings"] == []


def test_the_generated_exercise_runs_without_error():
    nb = make_exercise(solution())
    with tempfile.TemporaryDirectory() as tmp:
        runs, deaths = execute_notebook(nb, tmp, Limits(timeout=30))
    assert deaths == 0 and {run.status for run in runs.values()} == {OK}
    printed = [o.text for c in nb.cells for o in c.get("outputs", []) if "text" in o]
    assert printed == [f"{line}\n" for line in [
        "demo_sigmoid (the logistic sigmoid): not attempted yet (0/2 points)",
        "demo_mse (the mean squared error): not attempted yet (0/1 points)",
        "demo_mse_grad (the gradient of the mean squared error): not attempted yet (0/2 points)",
        "demo_linear_grad (the backward pass of a linear layer y = x @ W): not attempted yet "
        "(0/3 points)"]]


def test_a_kernel_that_cannot_bind_its_socket_is_started_again(monkeypatch):
    # Kernels talk over Unix sockets in a folder of their own (no TCP port races); a kernel
    # that fails to start anyway is started again. Made certain here: the first kernel's
    # shell socket path is taken by a folder, so it dies before it runs anything.
    created, create = [], _GradingClient.create_kernel_manager

    def create_kernel_manager(client):
        km = create(client)
        if not created:
            km.shell_port = 99
            os.mkdir(f"{km.ip}-99")
        created.append(km)
        return km

    monkeypatch.setattr(_GradingClient, "create_kernel_manager", create_kernel_manager)
    nb = solution()
    with tempfile.TemporaryDirectory() as tmp:
        runs, deaths = execute_notebook(nb, tmp, Limits(timeout=30))
    assert [km.transport for km in created] == ["ipc", "ipc"] and deaths == 0
    assert {run.status for run in runs.values()} == {OK}


def test_a_planted_bug_loses_that_parts_points_and_the_feedback_names_it(batch):
    assert scores(batch, "bug_transposed") == {**FULL, "demo_linear_grad": 1}
    assert "✗ dL/dW = x.T @ grad_out (0/2): looks like a transposed weight gradient" in \
        messages(batch, "bug_transposed", "demo_linear_grad")
    feedback = (batch["root"] / "fb" / "bug_transposed.md").read_text()
    assert "**Score: 6/8**" in feedback and "looks like a transposed weight gradient" in feedback


def test_hostile_infinite_loop_times_out_in_its_part_only(batch):
    assert scores(batch, "infinite_loop") == {**FULL, "demo_sigmoid": 0}
    assert "✗ the check cell failed: timed out after 3 s" in \
        messages(batch, "infinite_loop", "demo_sigmoid")


def test_hostile_10gb_allocation_is_a_memory_error(batch):
    assert scores(batch, "alloc_10gb") == FULL
    assert "MemoryError" in warnings(batch, "alloc_10gb")


def test_hostile_deleted_checks_are_reinserted_and_run(batch):
    assert scores(batch, "deleted_checks") == {**FULL, "demo_mse": 0.5}
    assert "looks like the mean absolute error" in messages(batch, "deleted_checks", "demo_mse")
    assert warnings(batch, "deleted_checks").count("was missing: re-inserted") == 4


def test_hostile_edited_checks_and_forged_results_are_ignored(batch):
    # The edited check cell and a student cell both emit a forged 99/1 result.
    assert scores(batch, "edited_checks") == {**FULL, "demo_mse_grad": 0.5,
                                              "demo_linear_grad": 1}
    assert "grading cell 'demo_mse_grad' was edited: restored" in warnings(batch, "edited_checks")
    assert "forged" not in json.dumps(batch["by_student"]["edited_checks"])


def test_hostile_syntax_error_costs_only_the_parts_it_breaks(batch):
    assert scores(batch, "syntax_error") == {**FULL, "demo_mse": 0, "demo_mse_grad": 0}
    assert "NameError: name 'mse' is not defined (did an earlier cell fail?" in \
        messages(batch, "syntax_error", "demo_mse")
    assert "SyntaxError" in warnings(batch, "syntax_error")


def test_hostile_os_exit_restarts_the_kernel_and_later_parts_are_graded(batch):
    assert scores(batch, "os_exit") == FULL
    assert "the kernel exited with status 1" in warnings(batch, "os_exit")
    assert "the kernel died 1 time(s) and was restarted" in warnings(batch, "os_exit")


def test_hostile_100mb_of_output_is_capped(batch):
    assert scores(batch, "print_100mb") == FULL
    # Depending on the machine's load the cell is truncated, or also times out.
    assert "output truncated" in warnings(batch, "print_100mb")
    assert (batch["root"] / "report.json").stat().st_size < 200_000


def test_hostile_edit_of_the_checks_it_can_see_changes_only_its_private_copy(batch):
    entry = batch["by_student"]["tamper_copy"]
    assert entry["flagged"] and scores(batch, "tamper_copy") == FULL
    assert "FLAGGED: it changed the grading files it was given (its own copy of backproplab): " \
        "grading/parts/demo.py (modified)" in warnings(batch, "tamper_copy")


def test_hostile_edit_of_the_course_files_is_undone_and_flagged(batch):
    assert batch["module_intact"] and batch["source_intact"]
    entry = batch["by_student"]["tamper_course"]
    assert entry["flagged"] and scores(batch, "tamper_course") == FULL
    assert "FLAGGED: it wrote the course's grading files: " in warnings(batch, "tamper_course")
    assert f"demo.py restored (the changed version is in {batch['root']}/tmp/backproplab-changed-" \
        in warnings(batch, "tamper_course")
    assert "00_demo.ipynb restored" in warnings(batch, "tamper_course")
    assert "written by tamper_course: " in batch["err"]
    flagged = sorted(s for s, entry in batch["by_student"].items() if entry["flagged"])
    assert flagged == ["tamper_copy", "tamper_course"]


def test_hostile_not_a_notebook_scores_0_with_a_reason(batch):
    entry = batch["by_student"]["not_json"]
    assert entry["error"].startswith("not a valid notebook (NotJSONError")
    assert entry["total"] == 0 and entry["max_total"] == 8 and entry["exercise"] == "00_demo"


def test_gradebook_and_feedback_files(batch):
    with open(batch["root"] / "gradebook.csv", newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    assert set(rows) == set(batch["paths"])
    assert [rows["bug_transposed"][k] for k in [*FULL, "total", "max_total", "flagged"]] == \
        ["2.0", "1.0", "2.0", "1.0", "6.0", "8.0", "0"]
    assert rows["tamper_course"]["flagged"] == "1"
    assert sorted(p.stem for p in (batch["root"] / "fb").iterdir()) == sorted(batch["paths"])
    feedback = (batch["root"] / "fb" / "deleted_checks.md").read_text()
    assert feedback.startswith("# Feedback for deleted_checks: 00_demo\n\n**Score: 7.5/8**")
    assert "## demo_mse: 0.5/1" in feedback and "## Notes" in feedback


def test_usage_errors_exit_with_status_2(tmp_path, capsys):
    for argv in (["grade", str(tmp_path / "missing.ipynb")], ["grade", str(tmp_path)],
                 ["grade", str(SOLUTION), "--source", str(tmp_path / "none")],
                 ["grade", str(SOLUTION), "--jobs", "0"], ["frobnicate"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 2, argv


def test_python_dash_m_and_cheap_imports():
    help_text = subprocess.run([sys.executable, "-m", "backproplab", "grade", "--help"],
                               capture_output=True, text=True, check=True).stdout
    assert "--jobs N" in help_text and "--timeout SECONDS" in help_text
    code = ("import sys, backproplab, backproplab.cli; "
            "print([m for m in ('backproplab.grading', 'nbclient') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
