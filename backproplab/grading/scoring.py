"""Score each part of an executed submission from its own grade cell, and nothing else.

A part's score is the result that ``check()`` emitted in the restored grade cell carrying that
grade_id. A grade cell that raised, timed out, killed the kernel or emitted no result scores 0;
the other parts are scored as usual.
"""

from dataclasses import dataclass, field

from .execute import OK
from .notebook import describe_cell, grade_id, is_grade
from .results import RESULT_MIMETYPE

__all__ = ["PartScore", "score_parts", "cell_problems"]


@dataclass
class PartScore:
    grade_id: str
    score: float
    max_score: float
    messages: list = field(default_factory=list)


def _results(cell, gid):
    """The results check() emitted for ``gid`` in ``cell``."""
    found = []
    for output in cell.get("outputs", []):
        payload = output.get("data", {}).get(RESULT_MIMETYPE)
        if isinstance(payload, dict) and payload.get("grade_id") == gid:
            found.append(payload)
    return found


def _fraction(payload):
    """score / max_score of a result, clipped to [0, 1]; 0 when malformed."""
    try:
        return min(max(float(payload["score"]) / float(payload["max_score"]), 0.0), 1.0)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return 0.0


def _score_cell(gid, points, index, cell, run):
    """The PartScore of grade cell ``cell`` (at ``index``) and its warnings."""
    results = _results(cell, gid)
    warnings = [f"{describe_cell(index, cell)} emitted {len(results)} results; the last counts"
                ] if len(results) > 1 else []
    lines = results[-1].get("lines") if results else []
    lines = [str(line) for line in lines] if isinstance(lines, list) else []
    if run is not None and run.status == OK:
        if not results:
            return PartScore(gid, 0.0, points, ["✗ the check cell produced no result"]), warnings
        return PartScore(gid, round(points * _fraction(results[-1]), 4), points, lines), warnings
    error = run.error if run else "the cell did not run"
    if error.startswith("NotImplementedError"):  # e.g. a hidden test calling the stub
        return PartScore(gid, 0.0, points, lines or [f"{gid}: not attempted yet"]), warnings
    hint = " (did an earlier cell fail? see the notes)" if error.startswith("NameError") else ""
    failed = f"✗ the check cell failed: {error}{hint}"
    return PartScore(gid, 0.0, points, lines + [failed]), warnings


def score_parts(nb, source, runs):
    """One PartScore per grade cell of ``source``, in order, and warnings for the report.

    ``nb``: the executed submission (protected cells restored); ``runs``: its CellRuns.
    """
    where = {grade_id(cell): i for i, cell in enumerate(nb.cells) if is_grade(cell)}
    scores, warnings = [], []
    for cell in source.cells:
        if not is_grade(cell):
            continue
        gid = grade_id(cell)
        index = where[gid]  # restore_cells guarantees it is there
        score, found = _score_cell(gid, float(cell.metadata.nbgrader["points"]), index,
                                   nb.cells[index], runs.get(index))
        scores.append(score)
        warnings += found
    return scores, warnings


def cell_problems(nb, runs):
    """Notes about the cells that did not simply work: errors, timeouts, a dying kernel,
    truncated output. Grade cells included: a student reading the feedback wants them all.
    (NotImplementedError is left out: it means "not attempted", which the parts already say.)"""
    notes = []
    for index in sorted(runs):
        run = runs[index]
        where = describe_cell(index, nb.cells[index])
        if run.status != OK and not run.error.startswith("NotImplementedError"):
            notes.append(f"{where}: {run.status}: {run.error}")
        if run.truncated:
            notes.append(f"{where}: output truncated")
    return notes
