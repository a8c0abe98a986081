"""The grader's pieces on their own, without a kernel: restoring cells, scoring from results,
guarding files, attributing changes made during a parallel batch, naming students."""

import copy
import csv
from pathlib import Path

from nbformat.v4 import new_output

from backproplab.grading.batch import _Run, _suspects, collect_submissions
from backproplab.grading.execute import DIED, ERROR, OK, CellRun
from backproplab.grading.grader import SubmissionReport, find_exercise
from backproplab.grading.notebook import grade_id
from backproplab.grading.protect import FileGuard, Snapshot
from backproplab.grading.report import write_csv, write_feedback
from backproplab.grading.restore import restore_cells
from backproplab.grading.results import RESULT_MIMETYPE
from backproplab.grading.scoring import PartScore, score_parts
from fixtures.grading.submissions import cell, solution

ORDER = ["intro", "imports", None, "sigmoid_answer", "demo_sigmoid", None, "mse_answer",
         "demo_mse", "demo_mse_grad", None, "linear_answer", "demo_linear_grad"]


def ids(nb):
    return [grade_id(c) for c in nb.cells]


def test_deleted_cells_come_back_in_source_order():
    sub = solution()
    sub.cells = [c for c in sub.cells if grade_id(c) not in ("imports", "demo_mse", "demo_sigmoid")]
    restored, notes = restore_cells(sub, solution())
    assert ids(restored) == ORDER
    assert notes == ["locked cell 'imports' was missing: re-inserted",
                     "grading cell 'demo_sigmoid' was missing: re-inserted",
                     "grading cell 'demo_mse' was missing: re-inserted"]
    assert len(sub.cells) == len(ORDER) - 3, "the submission itself is not modified"


def test_edited_and_copied_check_cells_are_restored_and_the_copies_lose_their_id():
    sub = solution()
    cell(sub, "demo_mse").source = "print('trust me')"
    copied = copy.deepcopy(cell(sub, "demo_mse_grad"))
    copied.id, copied.source = "my-copy", "check('demo_mse_grad', lambda p, t: p)"
    sub.cells.insert(3, copied)  # before the real one
    cell(sub, "mse_answer").source = "def mse(p, t):\n    return 0"
    restored, notes = restore_cells(sub, solution())
    assert notes == ["grading cell 'demo_mse' was edited: restored"]
    assert cell(restored, "demo_mse").source == 'check("demo_mse", mse)'
    assert restored.cells[3].source == copied.source
    assert "nbgrader" not in restored.cells[3].metadata
    assert ids(restored).count("demo_mse_grad") == 1
    assert cell(restored, "mse_answer").source.endswith("return 0"), "answers stay the student's"


def test_the_exercise_version_of_a_check_cell_does_not_count_as_edited():
    from backproplab.grading.generate import make_exercise

    assert restore_cells(make_exercise(solution()), solution())[1] == []


def _result(gid, score, max_score=1):
    return new_output("display_data", data={RESULT_MIMETYPE: {
        "grade_id": gid, "score": score, "max_score": max_score, "lines": [f"{gid} ok"]}})


def test_scores_come_only_from_the_restored_grade_cell_with_that_grade_id():
    nb = solution()
    index = {gid: i for i, gid in enumerate(ids(nb)) if gid}
    cell(nb, "sigmoid_answer").outputs = [_result("demo_sigmoid", 1)]  # forged, not a grade cell
    cell(nb, "demo_mse").outputs = [_result("demo_mse_grad", 1)]  # another part's id
    cell(nb, "demo_mse_grad").outputs = [_result("demo_mse_grad", 1, 2),
                                         _result("demo_mse_grad", 9)]
    cell(nb, "demo_linear_grad").outputs = [_result("demo_linear_grad", 1)]
    runs = {i: CellRun(i, OK) for i in range(len(nb.cells))}
    runs[index["demo_linear_grad"]] = CellRun(index["demo_linear_grad"], DIED, "the kernel died")
    parts, notes = score_parts(nb, solution(), runs)
    assert [(p.grade_id, p.score, p.max_score) for p in parts] == [
        ("demo_sigmoid", 0, 2), ("demo_mse", 0, 1), ("demo_mse_grad", 2, 2),
        ("demo_linear_grad", 0, 3)]
    assert parts[1].messages == ["✗ the check cell produced no result"]
    assert parts[2].messages == ["demo_mse_grad ok"], "the last result counts, clipped to 100 %"
    assert parts[3].messages[-1] == "✗ the check cell failed: the kernel died"
    assert notes == [f"cell {index['demo_mse_grad'] + 1} (demo_mse_grad) emitted 2 results; "
                     "the last counts"]


def test_a_grade_cell_failing_after_its_check_scores_0_but_keeps_the_lines():
    nb = solution()
    i = ids(nb).index("demo_sigmoid")
    nb.cells[i].outputs = [_result("demo_sigmoid", 2, 2)]
    runs = {i: CellRun(i, ERROR, "AssertionError: sigmoid(-745) must underflow to 0")}
    part = score_parts(nb, solution(), runs)[0][0]
    assert part.score == 0 and part.messages == [
        "demo_sigmoid ok",
        "✗ the check cell failed: AssertionError: sigmoid(-745) must underflow to 0"]


def test_snapshots_copy_compare_and_restore_files(tmp_path):
    copy_dir, tmp_path = tmp_path / "copy", tmp_path / "course"
    (tmp_path / "pkg" / "__pycache__").mkdir(parents=True)
    checks, other = tmp_path / "pkg" / "checks.py", tmp_path / "pkg" / "other.py"
    checks.write_text("answer = 42\n")
    other.write_text("x = 1\n")
    (tmp_path / "notes.txt").write_text("not protected")
    snap = Snapshot(tmp_path, "**/*.py")
    guard = FileGuard([snap])
    assert set(snap.files) == {"pkg/checks.py", "pkg/other.py"} and guard.changes() == []
    snap.write(copy_dir)
    assert snap.changes(copy_dir) == []
    (copy_dir / "pkg" / "checks.py").write_text("answer = 0\n")
    assert snap.changes(copy_dir) == ["pkg/checks.py (modified)"]

    checks.write_text("answer = 'anything'\n")
    other.unlink()
    (tmp_path / "pkg" / "evil.py").write_text("cheat = True\n")
    (tmp_path / "pkg" / "__pycache__" / "x.py").write_text("ignored")
    (tmp_path / "notes.txt").write_text("changed, but not protected")
    assert guard.digest() != guard.original
    assert guard.changes() == [f"{tmp_path}/pkg/checks.py (modified)",
                               f"{tmp_path}/pkg/evil.py (added)",
                               f"{tmp_path}/pkg/other.py (deleted)"]
    stamps = guard.stamps()
    checks.write_text("answer = 'anything'\n")  # the same content again: a new stamp
    assert guard.stamps()[checks] != stamps[checks]
    undone = guard.restore([checks, other, tmp_path / "pkg" / "evil.py"])
    assert checks.read_text() == "answer = 42\n" and other.read_text() == "x = 1\n"
    assert not (tmp_path / "pkg" / "evil.py").exists() and guard.digest() == guard.original
    assert undone[2] == f"{tmp_path}/pkg/other.py restored"
    backup = Path(undone[0].split("(the changed version is in ")[1].rstrip(")"))
    assert (backup / str(tmp_path / "pkg" / "evil.py").lstrip("/")).read_text() == "cheat = True\n"
    assert (backup / str(checks).lstrip("/")).read_text() == "answer = 'anything'\n"


def _run(name, start, end, before="a", after="a"):
    return _Run(name, None, start, end, before, after)


def suspects(*runs, original="a"):
    return sorted(r.task for r in _suspects(runs, -1, original))


def test_one_at_a_time_the_run_during_which_the_files_changed_is_the_suspect():
    assert suspects(_run("x", 0, 1), _run("y", 2, 3, after="b"), _run("z", 4, 5, "b", "b")) == \
        ["y"]
    assert suspects(_run("x", 0, 1), _run("z", 4, 5)) == []


def test_in_parallel_every_run_in_flight_during_the_change_is_a_suspect():
    # The files changed between a's before-check (0) and b's after-check (5): a and b were
    # running, c started after. d ran before the change and saw the files unchanged.
    a, b, c = _run("a", 0, 6, after="b"), _run("b", 1, 5, after="b"), _run("c", 7, 8, "b", "b")
    assert suspects(_run("d", -0.5, 0), a, b, c) == ["a", "b"]


def test_a_change_before_any_run_or_by_a_crashed_worker():
    # Changed before the first check: nobody was running.
    assert suspects(_run("p", 0, 1, "b", "b"), original="a") == []
    # A crashed worker checked nothing: it is a suspect for what changed while it ran.
    crashed = _Run("r", None, 1, 2.5, None, None)
    assert suspects(_run("p", 0, 2), crashed, _run("q", 3, 4, "b", "b")) == ["r"]


def _touch(root, *names):
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("{}")


def test_folders_expand_to_their_notebooks_and_students_are_named_by_file(tmp_path):
    _touch(tmp_path, "b.ipynb", "a.ipynb", "notes.txt", "g2/a.ipynb",
           ".ipynb_checkpoints/a-checkpoint.ipynb")
    found = collect_submissions([tmp_path, tmp_path / "g2" / "a.ipynb"])
    assert [(p.relative_to(tmp_path).as_posix(), student) for p, student in found] == [
        ("a.ipynb", f"{tmp_path.name}/a"), ("b.ipynb", "b"), ("g2/a.ipynb", "g2/a")]


def test_nbgrader_s_submitted_tree_names_each_student_by_folder(tmp_path):
    """submitted/<student>/<assignment>/<notebook>.ipynb, as nbgrader collects it."""
    submitted = tmp_path / "submitted"
    _touch(submitted, "alice/ps1/01_forward_pass.ipynb", "alice/ps1/02_measuring_error.ipynb",
           "alice/ps1/timestamp.txt", "alice/ps1/.ipynb_checkpoints/01-checkpoint.ipynb",
           "alice/ps2/01_forward_pass.ipynb", "bob/ps1/01_forward_pass.ipynb", "carol/ps1/x.txt")
    expected = [("alice/ps1/01_forward_pass.ipynb", "alice"),
                ("alice/ps1/02_measuring_error.ipynb", "alice"),
                ("alice/ps2/01_forward_pass.ipynb", "alice"),
                ("bob/ps1/01_forward_pass.ipynb", "bob")]
    found = collect_submissions([submitted])
    assert [(p.relative_to(submitted).as_posix(), s) for p, s in found] == expected
    found = collect_submissions([submitted / "alice", submitted / "bob" / "ps1"])
    assert [(p.relative_to(submitted).as_posix(), s) for p, s in found] == [
        *expected[:3], ("bob/ps1/01_forward_pass.ipynb", "01_forward_pass")]


def test_the_gradebook_has_one_row_per_student_and_feedback_one_file_per_submission(tmp_path):
    def report(student, exercise, file, gid, score):
        return SubmissionReport(file, student, exercise, [PartScore(gid, score, 2.0)], score, 2.0)
    reports = [report("alice", "01_a", "s/alice/ps1/01_a.ipynb", "p1", 2.0),
               report("alice", "02_b", "s/alice/ps1/02_b.ipynb", "p2", 1.0),
               report("alice", "01_a", "s/alice/ps2/01_a.ipynb", "p1", 0.5),
               report("bob", "01_a", "s/bob/ps1/01_a.ipynb", "p1", 1.5)]
    write_csv(tmp_path / "book.csv", reports)
    rows = list(csv.reader((tmp_path / "book.csv").open()))
    assert rows[0] == ["student", "file", "exercise", "p1", "p2", "total", "max_total", "flagged",
                       "error"]
    assert [row[:1] + row[3:7] for row in rows[1:]] == [
        ["alice", "2.0", "1.0", "3.0", "4.0"], ["alice#2", "0.5", "", "0.5", "2.0"],
        ["bob", "1.5", "", "1.5", "2.0"]]
    paths = write_feedback(tmp_path / "fb", reports)
    assert [p.name for p in paths] == ["alice-01_a.md", "alice-02_b.md", "alice-01_a-2.md",
                                       "bob.md"]


def test_the_exercise_is_found_from_metadata_then_file_name():
    names = {"00_demo": None, "03_mlp": None, "03_mlp_extra": None}
    nb = solution()
    assert find_exercise(nb, "whatever.ipynb", names) == "00_demo"
    nb.metadata.backproplab.exercise = "99_unknown"
    assert find_exercise(nb, "03_mlp_extra-alice.ipynb", names) == "03_mlp_extra"
    assert find_exercise(None, "alice.ipynb", names) is None
    assert find_exercise(None, "alice.ipynb", {"00_demo": None}) == "00_demo"


def test_numpy_1_warning_about_a_failed_comparison_gets_the_axis_hint():
    """NumPy 1.x answers `a == b` for unbroadcastable shapes with False and a warning where
    NumPy 2 raises: the note names the likely cause either way."""
    import warnings as _warnings

    from backproplab.grading.feedback import describe_warning

    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        _warnings.warn("elementwise comparison failed; this will raise an error in the future.",
                       DeprecationWarning)
    note = describe_warning(caught[0])
    assert note.startswith("note: DeprecationWarning: elementwise comparison failed")
    assert "wrong axis" in note
