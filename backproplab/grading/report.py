"""The grader's outputs: a score table for the terminal, a JSON report, a CSV gradebook and one
markdown feedback file per student, all from the same SubmissionReports."""

import csv
import json
import re
from dataclasses import asdict
from pathlib import Path

from .results import format_points

__all__ = ["score_table", "write_json", "write_csv", "write_feedback", "feedback_markdown"]


def _part_ids(reports):
    """Every part of the batch, in order of first appearance (a batch may mix exercises)."""
    return list(dict.fromkeys(part.grade_id for r in reports for part in r.parts))


def _remark(report):
    remark = report.error or (f"{len(report.warnings)} warning(s)" if report.warnings else "")
    return f"FLAGGED, {remark}" if report.flagged else remark


def _table(reports):
    ids = _part_ids(reports)
    header = ["student", *ids, "total", "seconds", "remarks"]
    rows = []
    for r in reports:
        scores = {part.grade_id: format_points(part.score) for part in r.parts}
        rows.append([r.student, *(scores.get(i, "-") for i in ids),
                     f"{format_points(r.total)}/{format_points(r.max_total)}",
                     f"{r.seconds:.1f}", _remark(r)])
    widths = [max(len(str(row[c])) for row in [header, *rows]) for c in range(len(header) - 1)]
    return "\n".join("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)) + "  " + row[-1]
                     for row in [header, *rows])


def score_table(reports):
    """Plain-text tables, one per exercise: one row per student, one column per part."""
    exercises = dict.fromkeys(r.exercise for r in reports)
    return "\n\n".join(f"{exercise or 'unknown exercise'}\n"
                       + _table([r for r in reports if r.exercise == exercise])
                       for exercise in exercises)


def write_json(path, reports, **batch):
    """Per submission: file, student, exercise, parts (score, max, messages), total, seconds,
    warnings, error; ``batch`` adds top-level facts (jobs, seconds)."""
    data = {**batch, "submissions": [asdict(r) for r in reports]}
    Path(path).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _students(reports):
    """The reports grouped into gradebook rows: a student's submissions of different exercises
    (nbgrader's tree) share a row; a second submission of the same parts gets a row of its own."""
    rows = []  # (student label, [reports])
    for r in reports:
        ids = {part.grade_id for part in r.parts}
        mine = [group for name, group in rows if group[0].student == r.student]
        free = next((g for g in mine if ids.isdisjoint(p.grade_id for x in g for p in x.parts)),
                    None)
        if free is not None:
            free.append(r)
        else:
            rows.append((r.student if not mine else f"{r.student}#{len(mine) + 1}", [r]))
    return rows


def write_csv(path, reports):
    """The gradebook: one row per student, one column per part, then total and maximum
    (a student's several exercises in one row; several files and exercises joined by "; ")."""
    ids = _part_ids(reports)
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["student", "file", "exercise", *ids, "total", "max_total", "flagged",
                      "error"])
        for student, group in _students(reports):
            scores = {part.grade_id: part.score for r in group for part in r.parts}
            out.writerow([student, "; ".join(r.file for r in group),
                          "; ".join(r.exercise or "" for r in group),
                          *(scores.get(i, "") for i in ids),
                          round(sum(r.total for r in group), 4),
                          round(sum(r.max_total for r in group), 4),
                          int(any(r.flagged for r in group)),
                          "; ".join(r.error for r in group if r.error)])


def feedback_markdown(report):
    """What a student reads: the total, then per part the same lines check() printed."""
    lines = [f"# Feedback for {report.student}: {report.exercise or 'unknown exercise'}", "",
             f"**Score: {format_points(report.total)}/{format_points(report.max_total)}**", ""]
    if report.error:
        lines += [f"This submission could not be graded: {report.error}", ""]
    for part in report.parts:
        lines += [f"## {part.grade_id}: {format_points(part.score)}/"
                  f"{format_points(part.max_score)}", ""]
        lines += [f"- {message.strip()}" for message in part.messages] or ["- not graded"]
        lines.append("")
    if report.warnings:
        lines += ["## Notes", ""] + [f"- {warning}" for warning in report.warnings] + [""]
    return "\n".join(lines)


def write_feedback(folder, reports):
    """One markdown file per submission in ``folder``: ``<student>.md``, or
    ``<student>-<exercise>.md`` for a student with several; returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths, count = [], {}
    for r in reports:
        count[r.student] = count.get(r.student, 0) + 1
    for r in reports:
        name = r.student if count[r.student] == 1 else \
            f"{r.student}-{r.exercise or Path(r.file).stem}"
        path = folder / (re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".md")
        path = _unused(path, paths)
        path.write_text(feedback_markdown(r), encoding="utf-8")
        paths.append(path)
    return paths


def _unused(path, taken):
    """``path``, or ``path`` with -2, -3... before its suffix if an earlier file took it."""
    candidate, n = path, 1
    while candidate in taken:
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate
