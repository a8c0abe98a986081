"""Every lesson in the README's course map follows docs/lesson_standard.md."""

import json
import pathlib
import re

import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import lesson_time  # noqa: E402  (the rule for a lesson's stated time)

README = (ROOT / "README.md").read_text()
LESSONS = sorted(set(re.findall(r"\]\((lessons/\d\d_[a-z_]+\.ipynb)\)", README)))

# The headings every lesson has, in this order (docs/lesson_standard.md).
SECTIONS = ["What you will learn", "Common mistakes", "Check yourself", "Summary", "Next"]


def _load(rel):
    return json.loads((ROOT / rel).read_text())


def _headings(nb):
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                m = re.match(r"(#+)\s+(.*)", line)
                if m:
                    yield len(m.group(1)), m.group(2).strip()


def test_course_map_lists_nine_lessons():
    assert [p.split("/")[1][:2] for p in LESSONS] == [f"{i:02d}" for i in range(1, 10)]


@pytest.mark.parametrize("rel", LESSONS)
def test_lesson_has_standard_sections_in_order(rel):
    headings = list(_headings(_load(rel)))
    assert headings and headings[0][0] == 1, "a lesson starts with one level-1 title"
    h2 = [text for level, text in headings if level == 2]
    positions = []
    for section in SECTIONS:
        matches = [i for i, text in enumerate(h2) if text.lower().startswith(section.lower())]
        assert matches, f"{rel} has no '## {section}' heading"
        positions.append(matches[0])
    assert positions == sorted(positions), f"{rel}: sections out of order: {h2}"
    assert len(h2) >= len(SECTIONS) + 3, f"{rel}: too few content sections: {h2}"


@pytest.mark.parametrize("rel", LESSONS)
def test_lesson_front_matter(rel):
    text = "\n".join("".join(c["source"]) for c in _load(rel)["cells"][:4]
                     if c["cell_type"] == "markdown")
    assert re.search(r"\*\*Time:\*\*\s*about \d+", text), f"{rel}: no '**Time:** about N' line"
    assert "Prerequisites" in text, f"{rel}: no prerequisites"
    learn = text.split("What you will learn", 1)[1]
    bullets = [l for l in learn.splitlines() if re.match(r"\s*([-*]|\d+\.)\s", l)]
    assert 3 <= len(bullets) <= 8, f"{rel}: expected 3–5 objectives, found {len(bullets)}"


@pytest.mark.parametrize("rel", LESSONS)
def test_readme_time_is_the_lessons_own(rel):
    text = "\n".join("".join(c["source"]) for c in _load(rel)["cells"][:4])
    minutes = re.search(r"\*\*Time:\*\*\s*about (\d+)", text).group(1)
    row = next(line for line in README.splitlines() if f"]({rel})" in line)
    assert row.rstrip(" |").endswith(f"{minutes} min"), f"README says {row!r}, lesson {minutes}"


@pytest.mark.parametrize("rel", LESSONS)
def test_stated_time_follows_the_rule(rel):
    rule, stated = lesson_time.lesson_minutes(ROOT / rel), lesson_time.stated_minutes(ROOT / rel)
    assert stated == rule, (f"{rel} says about {stated} minutes; the rule of "
                            f"tools/lesson_time.py gives {rule}: run it with --write")


@pytest.mark.parametrize("rel", LESSONS)
def test_instructor_guide_schedules_the_rule_times(rel):
    rows = lesson_time.guide_rows()
    assert rel in rows, f"the instructor guide's schedule has no row for {rel}"
    reading, exercise, points = rows[rel]
    assert reading == lesson_time.lesson_minutes(ROOT / rel), (rel, reading)
    assert (exercise, points) == (lesson_time.exercise_minutes(ROOT / rel),
                                  lesson_time.exercise_points(ROOT / rel)), (rel, exercise, points)
    solution = ROOT / "solutions" / pathlib.Path(rel).name
    assert lesson_time.stated_minutes(solution, default=None) in (
        None, lesson_time.exercise_minutes(ROOT / rel)), f"{solution.name}'s own time line"


@pytest.mark.parametrize("rel", LESSONS)
def test_lesson_is_a_chapter_with_checked_numbers(rel):
    cells = _load(rel)["cells"]
    checked = [c for c in cells if "nbval-check-output" in c.get("metadata", {}).get("tags", [])]
    assert len(checked) >= 5, f"{rel}: only {len(checked)} nbval-check-output cells"
    assert all(c.get("outputs") for c in checked), f"{rel}: a checked cell has no stored output"
    assert len(cells) > 25, f"{rel}: {len(cells)} cells; a lesson is a chapter"
    markdown = sum(c["cell_type"] == "markdown" for c in cells)
    assert markdown >= len(cells) / 3, f"{rel}: too little explanation"


@pytest.mark.parametrize("rel", LESSONS)
def test_lesson_stored_outputs_are_clean_and_small(rel):
    path = ROOT / rel
    nb = _load(rel)
    assert path.stat().st_size < 3_000_000, f"{rel} is {path.stat().st_size} bytes"
    assert "widgets" not in nb.get("metadata", {}), f"{rel} stores widget state"
    images = 0
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        assert cell.get("execution_count") is not None, f"{rel}: a code cell was not run"
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{rel}: stored error {out.get('ename')}"
            assert out.get("name") != "stderr", (
                f"{rel}: stderr output stored: {''.join(out.get('text', ''))[:200]}")
            images += "image/png" in out.get("data", {})
    assert images >= 3, f"{rel}: only {images} figures"
