"""Notebook files and their nbgrader metadata (schema 3), read and written the same way
everywhere.

Cell metadata, as nbgrader writes it::

    "nbgrader": {"schema_version": 3, "grade_id": "sigmoid", "grade": true, "points": 2,
                 "solution": false, "locked": true}

and the notebook's own ``metadata.backproplab.exercise`` names its solution notebook
("03_chain_rule"), so that a renamed submission still finds its source.
"""

import nbformat

__all__ = ["nbgrader", "grade_id", "is_grade", "is_solution", "is_protected", "exercise_name",
           "reads", "dumps", "describe_cell"]

SCHEMA_VERSION = 3


def nbgrader(cell):
    """The cell's nbgrader metadata ({} when it has none or it is not a dict)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def grade_id(cell):
    return nbgrader(cell).get("grade_id")


def is_grade(cell):
    """An autograder test cell: it carries points and its check() result is the part's score."""
    return bool(nbgrader(cell).get("grade"))


def is_solution(cell):
    """A cell the student writes in."""
    return bool(nbgrader(cell).get("solution"))


def is_protected(cell):
    """A cell the grader restores from the source: locked or grading, and not the student's."""
    meta = nbgrader(cell)
    return bool(meta.get("locked") or meta.get("grade")) and not meta.get("solution")


def exercise_name(nb):
    """``metadata.backproplab.exercise`` ("03_chain_rule"), or None."""
    meta = nb.get("metadata", {}).get("backproplab", {})
    name = meta.get("exercise") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else None


def describe_cell(index, cell):
    """"cell 4 (sigmoid)": how messages point at a cell (1-based, as a person counts)."""
    gid = grade_id(cell)
    return f"cell {index + 1}" + (f" ({gid})" if gid else "")


def reads(text):
    """Parse a notebook (nbformat 4) from text; raises on anything that is not a notebook."""
    return nbformat.reads(text, as_version=4)


def dumps(nb):
    """Deterministic text: the layout Jupyter itself saves (sorted keys, indent 1), so that a
    regenerated file is byte-identical and ``git diff`` stays clean."""
    if nb.get("nbformat_minor", 0) >= 5:  # cell ids exist from nbformat 4.5
        for index, cell in enumerate(nb.cells):
            # nbformat would invent random ids for cells without one; derive stable ones.
            cell.setdefault("id", f"cell-{index}")
    return nbformat.writes(nb, version=4)
