"""Put the instructor's locked and grading cells back into a submission before it runs.

A student may edit or delete the check cells (by accident or not); grading must use the real
ones. Every protected cell of the source (locked or grade, and not a solution) replaces the
submission's cell with the same grade_id, or, when that cell was deleted, is re-inserted after
the cell that precedes it in the source.
"""

import copy

from .generate import exercise_source
from .notebook import grade_id, is_grade, is_protected

__all__ = ["restore_cells"]


def _pick(cells, source_cell):
    """Index of the submission cell standing for ``source_cell``: among the cells with its
    grade_id (a copy-pasted cell keeps it), the one with the same cell id, else the first."""
    gid = grade_id(source_cell)
    candidates = [i for i, cell in enumerate(cells) if grade_id(cell) == gid]
    same_id = [i for i in candidates if cells[i].get("id") == source_cell.get("id")]
    return (same_id or candidates or [None])[0]


def _insertion_point(cells, source_cells, position):
    """Just after the submission cell of the nearest earlier source cell it still has."""
    for earlier in reversed(source_cells[:position]):
        gid = grade_id(earlier)
        found = [i for i, cell in enumerate(cells) if gid is not None and grade_id(cell) == gid]
        if found:
            return found[0] + 1
    return 0


def restore_cells(submission, source):
    """A copy of ``submission`` with the protected cells of ``source`` restored.

    Returns the notebook and notes for the report ("grading cell 'demo_mse' was edited").
    """
    nb = copy.deepcopy(submission)
    protected = {grade_id(cell): cell for cell in source.cells if is_protected(cell)}
    chosen = {gid: _pick(nb.cells, cell) for gid, cell in protected.items()}
    cells, notes = [], []
    for index, cell in enumerate(nb.cells):
        gid = grade_id(cell)
        if gid in protected and chosen[gid] == index:
            if cell.source not in (protected[gid].source, exercise_source(protected[gid])[0]):
                notes.append(f"{_kind(protected[gid])} {gid!r} was edited: restored")
            cells.append(copy.deepcopy(protected[gid]))
            continue
        if gid in protected:
            # Another cell with a protected grade_id is the student's copy: it keeps its code
            # but loses the identity, so that only the restored cell counts.
            cell.metadata.pop("nbgrader", None)
        cells.append(cell)
    for position, cell in enumerate(source.cells):
        gid = grade_id(cell)
        if gid in protected and chosen[gid] is None:
            cells.insert(_insertion_point(cells, source.cells, position), copy.deepcopy(cell))
            notes.append(f"{_kind(cell)} {gid!r} was missing: re-inserted")
    nb.cells = cells
    return nb, notes


def _kind(cell):
    return "grading cell" if is_grade(cell) else "locked cell"
