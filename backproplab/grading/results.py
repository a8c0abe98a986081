"""What a check produces: one result per test, one per part, and their JSON form.

The same :class:`PartResult` is printed by ``check()`` in the notebook, travels to the grader
as a display output (mimetype :data:`RESULT_MIMETYPE`) and ends up in the reports, so that the
student, the gradebook and the feedback files all see the same numbers and messages.
"""

from dataclasses import asdict, dataclass, field

__all__ = ["RESULT_MIMETYPE", "TestResult", "PartResult", "format_points", "score_text"]

# A vendor mimetype: front ends that do not know it show nothing, the grader finds it by name.
RESULT_MIMETYPE = "application/vnd.backproplab.grade+json"

# Status of a test or a part.
PASSED, FAILED, NOT_ATTEMPTED, ERROR = "passed", "failed", "not attempted", "error"


def format_points(x):
    """2 -> "2", 0.6667 -> "0.67": points read as whole numbers whenever they are."""
    x = round(float(x), 2)
    return str(int(x)) if x == int(x) else f"{x:g}"


def score_text(x):
    """A score as the graders count it, to 4 decimals: 2 -> "2", 2/3 -> "0.6667"."""
    x = round(float(x), 4)
    return str(int(x)) if x == int(x) else repr(x)


@dataclass
class TestResult:
    """One test of a part: its name, its points and, when it did not pass, why."""

    __test__ = False  # not a pytest test class despite its name

    name: str
    status: str  # PASSED, FAILED, NOT_ATTEMPTED or ERROR
    points: float  # points earned
    max_points: float
    message: str = ""  # why it failed ("" when passed)
    notes: list = field(default_factory=list)  # e.g. numpy warnings raised by the student
    gate: bool = False  # a requirement without points: failed, every other test scores 0

    @property
    def passed(self):
        return self.status == PASSED


@dataclass
class PartResult:
    """The outcome of ``check(grade_id, ...)``: score, maximum, the tests and the printed lines."""

    grade_id: str
    score: float
    max_score: float
    status: str  # PASSED (all tests), FAILED (some), NOT_ATTEMPTED or ERROR (checks could not run)
    tests: list = field(default_factory=list)
    lines: list = field(default_factory=list)  # exactly what check() printed

    def __repr__(self):
        # Short and deterministic: it is what a notebook shows when check() ends a cell.
        return (f"<PartResult {self.grade_id}: {format_points(self.score)}/"
                f"{format_points(self.max_score)} points>")

    def __str__(self):
        return "\n".join(self.lines)

    def _repr_pretty_(self, printer, cycle):
        # What a notebook shows when check() ends a cell, and what nbgrader reads: a grade
        # cell whose value is a number scores that number (anything else scores full marks).
        printer.text(score_text(self.score))

    def to_json(self):
        """A JSON-ready dict (the payload the grader reads)."""
        return asdict(self)
