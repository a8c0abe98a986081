"""Grade one submission: read it once, find its solution notebook, restore the protected cells,
run it in a temporary directory, and score every part.

The submission file is only ever read (once); the kernel works in a temporary directory on a
copy, so nothing the student's code does there can touch the original.
"""

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .check import GRADING_ENV
from .execute import execute_notebook
from .notebook import exercise_name, is_grade, reads
from .protect import Snapshot
from .restore import restore_cells
from .scoring import PartScore, cell_problems, score_parts

__all__ = ["SubmissionReport", "parse_sources", "find_exercise", "package_snapshot", "grade_file"]


@dataclass
class SubmissionReport:
    """Everything the reports need about one graded submission."""

    file: str
    student: str
    exercise: str = None
    parts: list = field(default_factory=list)  # PartScore, in the source's order
    total: float = 0.0
    max_total: float = 0.0
    seconds: float = 0.0
    warnings: list = field(default_factory=list)
    error: str = None  # why it could not be graded at all (then every part scores 0)
    flagged: bool = False  # it changed the grading files (see the warnings)


def parse_sources(files):
    """{exercise name: solution notebook} from {"03_mlp.ipynb": bytes}."""
    return {Path(name).stem: reads(data.decode("utf-8")) for name, data in sorted(files.items())}


def find_exercise(nb, filename, names):
    """Which exercise a submission is: its ``metadata.backproplab.exercise``, else the longest
    exercise name within the file name ("03_mlp-alice.ipynb" is "03_mlp"), else the only
    exercise there is; None if none of these."""
    name = exercise_name(nb) if nb is not None else None
    if name in names:
        return name
    stem = Path(filename).stem
    within = [candidate for candidate in names if candidate in stem]
    if within:
        return max(within, key=len)
    return next(iter(names)) if len(names) == 1 else None


def package_snapshot():
    """The backproplab package's files, in memory: what a submission's kernel imports."""
    return Snapshot(Path(__file__).resolve().parent.parent, "**/*")


def _zero_scores(source):
    return [PartScore(cell.metadata.nbgrader["grade_id"], 0.0,
                      float(cell.metadata.nbgrader["points"]))
            for cell in source.cells if is_grade(cell)]


def _parse(data):
    """(notebook, None) or (None, reason) for the bytes of a submission."""
    try:
        return reads(data.decode("utf-8")), None
    except Exception as exc:  # bad JSON, bad encoding, JSON that is not a notebook...
        reason = " ".join(str(exc).split())[:200]
        return None, f"not a valid notebook ({type(exc).__name__}: {reason})"


def _grade(report, data, filename, sources, limits, library):
    nb, invalid = _parse(data)
    report.exercise = find_exercise(nb, filename, sources)
    if report.exercise is None:
        report.error = invalid or ("cannot tell which exercise this is: no "
                                   "metadata.backproplab.exercise and no exercise name "
                                   f"({', '.join(sources) or 'none'}) in the file name")
        return
    source = sources[report.exercise]
    report.parts = _zero_scores(source)
    report.max_total = sum(part.max_score for part in report.parts)
    if invalid:
        report.error = invalid
        return
    merged, restored = restore_cells(nb, source)
    with tempfile.TemporaryDirectory(prefix="backproplab-grade-") as tmp:
        # The kernel runs in here, next to a copy of the submission (never the original),
        # and imports backproplab from its own copy: editing it changes nothing for others.
        (Path(tmp) / filename).write_bytes(data)
        copy = Path(tmp) / "lib" / "backproplab"
        library.write(copy)
        path = os.pathsep.join(filter(None, [str(copy.parent), os.environ.get("PYTHONPATH")]))
        runs, deaths = execute_notebook(merged, tmp, limits,
                                        env={GRADING_ENV: "1", "PYTHONPATH": path})
        tampered = library.changes(copy)
    if tampered:
        report.flagged = True
        report.warnings.append("FLAGGED: it changed the grading files it was given (its own "
                               f"copy of backproplab): {'; '.join(tampered)}")
    report.parts, result_warnings = score_parts(merged, source, runs)
    report.total = round(sum(part.score for part in report.parts), 4)
    report.warnings += restored + result_warnings + cell_problems(merged, runs)
    if deaths:
        report.warnings.append(f"the kernel died {deaths} time(s) and was restarted")


def grade_file(path, student, sources, limits, library=None):
    """Grade the submission at ``path`` against ``sources`` (see :func:`parse_sources`).

    The kernel imports backproplab from a copy of ``library``, a Snapshot of the package
    (default: the package as it is now; a batch takes one snapshot for all submissions).

    Never raises: whatever goes wrong ends up in the report's ``error``, with score 0.
    """
    started = time.monotonic()
    report = SubmissionReport(str(path), student)
    library = library or package_snapshot()
    try:
        data = Path(path).read_bytes()  # the only access to the submission
        _grade(report, data, Path(path).name, sources, limits, library)
    except Exception as exc:  # e.g. a kernel that cannot start: this student gets a reason
        report.error = f"could not be graded: {type(exc).__name__}: {exc}"
        report.total = 0.0
        for part in report.parts:
            part.score = 0.0
    report.seconds = round(time.monotonic() - started, 2)
    return report
