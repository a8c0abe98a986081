"""How long a lesson takes a careful reader, by a stated rule (docs/lesson_standard.md).

    minutes = words of prose / 150          reading technical prose with formulas
            + 0.75 per code cell            read the code, run it, read what it prints
            + 1 per figure                  look at it and find what the text points to
            + 5 per explorer                try what the text suggests
            + 1.5 per check-yourself question   answer before opening the answer
    rounded to the nearest 5 minutes.

An exercise notebook: 4 minutes per point (a 2-point part: read it, write it, run its check,
fix it once), rounded to the nearest 5 minutes.

Counted from the stored notebook: prose is every markdown cell's words (formulas count as
the words they contain); figures are stored PNG outputs; an explorer is a code cell that calls
one of ``backproplab.widgets``' explorer functions and displays it (a widget in its outputs,
not a cell that only reads numbers from one); questions are ``<details>`` blocks under
``## Check yourself``.

    python tools/lesson_time.py            prints the table for every lesson
    python tools/lesson_time.py --write    also writes each lesson's ``**Time:** about N
                                           minutes`` line, the README's course map, and the
                                           instructor guide's workshop schedule

``tests/test_lesson_structure.py`` asserts that the lesson, the README and the instructor
guide all state the times these rules give.
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORDS_PER_MINUTE = 150
PER_CODE_CELL = 0.75
PER_FIGURE = 1.0
PER_EXPLORER = 5.0
PER_QUESTION = 1.5
PER_POINT = 4.0
GUIDE = ROOT / "docs" / "instructor_guide.md"
# A schedule row of the guide: "| ... [NN · title](../lessons/NN_x.ipynb), read N min | ... |
# ... M min (P points) |"
GUIDE_ROW = re.compile(r"\((\.\./lessons/\d\d_[a-z0-9_]+\.ipynb)\)")

EXPLORERS = ("neuron_playground", "learning_rate_explorer", "backprop_stepper",
             "vanishing_gradient_explorer", "overfitting_explorer", "loss_landscape_explorer",
             "rnn_gradient_explorer")
TIME_LINE = re.compile(r"(\*\*Time:\*\*\s*about )(\d+)( minutes)")


def counts(nb):
    """dict of words, code cells, figures, explorers and questions of a notebook (JSON dict)."""
    cells = nb["cells"]
    markdown = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    code = [c for c in cells if c["cell_type"] == "code"]
    calls = re.compile(r"\b(" + "|".join(EXPLORERS) + r")\s*\(")
    text = "\n".join(markdown)
    questions = text.split("## Check yourself", 1)[1] if "## Check yourself" in text else ""
    questions = questions.split("## Summary", 1)[0]
    return {
        "words": sum(len(m.split()) for m in markdown),
        "code": len(code),
        "figures": sum("image/png" in o.get("data", {})
                       for c in code for o in c.get("outputs", [])),
        "explorers": sum(bool(calls.search("".join(c["source"]))) and any(
            "application/vnd.jupyter.widget-view+json" in o.get("data", {})
            for o in c.get("outputs", [])) for c in code),
        "questions": questions.count("<details"),
    }


def minutes(c):
    """The rule, exact (not rounded)."""
    return (c["words"] / WORDS_PER_MINUTE + PER_CODE_CELL * c["code"] + PER_FIGURE * c["figures"]
            + PER_EXPLORER * c["explorers"] + PER_QUESTION * c["questions"])


def lesson_minutes(path):
    """The stated time of the lesson at ``path``: the rule rounded to the nearest 5 minutes."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    return int(5 * round(minutes(counts(nb)) / 5))


def exercise_points(lesson_path):
    """Points of the lesson's exercise notebook (from its solution's grade cells)."""
    solution = ROOT / "solutions" / Path(lesson_path).name
    nb = json.loads(solution.read_text(encoding="utf-8"))
    return sum(c.get("metadata", {}).get("nbgrader", {}).get("points", 0) for c in nb["cells"]
               if c.get("metadata", {}).get("nbgrader", {}).get("grade"))


def exercise_minutes(lesson_path):
    """The exercise's time by the rule: 4 minutes per point, to the nearest 5 minutes."""
    return int(5 * round(PER_POINT * exercise_points(lesson_path) / 5))


def guide_rows():
    """{lesson path relative to the repository: (reading minutes, exercise minutes, points)}
    as the instructor guide's schedule states them."""
    rows = {}
    for line in GUIDE.read_text(encoding="utf-8").splitlines():
        m = GUIDE_ROW.search(line)
        nums = re.search(r"read (\d+) min.*?(\d+) min \((\d+) points\)", line)
        if m and nums:
            rows[m.group(1)[3:]] = tuple(int(g) for g in nums.groups())
    return rows


def _write_guide():
    lines = GUIDE.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        m = GUIDE_ROW.search(line)
        if m and "read " in line:
            lesson = ROOT / m.group(1)[3:]
            line = re.sub(r"read \d+ min", f"read {lesson_minutes(lesson)} min", line)
            lines[i] = re.sub(r"\d+ min \(\d+ points\)",
                              f"{exercise_minutes(lesson)} min ({exercise_points(lesson)} points)",
                              line)
    GUIDE.write_text("\n".join(lines) + "\n", encoding="utf-8")


def stated_minutes(path, default=KeyError):
    """The minutes the notebook's ``**Time:** about N minutes`` line states (in its first
    cells); ``default`` if it states none (KeyError: raise)."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    text = "\n".join("".join(c["source"]) for c in nb["cells"][:4])
    found = TIME_LINE.search(text)
    if found is None:
        if default is KeyError:
            raise KeyError(f"{path} states no '**Time:** about N minutes'")
        return default
    return int(found.group(2))


def _write_time_line(path, new):
    import nbformat  # only for writing, in the layout the repository keeps

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells[:4]:
        if TIME_LINE.search(cell.source):
            cell.source = TIME_LINE.sub(rf"\g<1>{new}\g<3>", cell.source)
            break
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")


def _write(path, new):
    _write_time_line(path, new)
    readme = ROOT / "README.md"
    rel = path.relative_to(ROOT).as_posix()
    lines = [re.sub(r"\d+ min \|\s*$", f"{new} min |", line) if f"]({rel})" in line else line
             for line in readme.read_text(encoding="utf-8").splitlines()]
    readme.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv):
    write = "--write" in argv
    paths = [Path(a) for a in argv if not a.startswith("--")] or sorted(
        (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
    print(f"{'lesson':<46} words code figs expl  q   rule  stated")
    for path in paths:
        path = path.resolve()
        c = counts(json.loads(path.read_text(encoding="utf-8")))
        new = lesson_minutes(path)
        print(f"{path.name:<46} {c['words']:>5} {c['code']:>4} {c['figures']:>4} "
              f"{c['explorers']:>4} {c['questions']:>2} {minutes(c):>6.1f} {stated_minutes(path):>6}")
        if write and new != stated_minutes(path):
            _write(path, new)
            print(f"  -> wrote {new} minutes")
    if write:
        _write_guide()
        for path in paths:  # an exercise's own time line, where it states one
            solution = ROOT / "solutions" / path.name
            if solution.exists() and stated_minutes(solution, default=None) not in (
                    None, exercise_minutes(path)):
                _write_time_line(solution, exercise_minutes(path))


if __name__ == "__main__":
    main(sys.argv[1:])
