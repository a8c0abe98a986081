"""The ``backproplab`` command (also ``python -m backproplab``).

    backproplab make-exercises [--solutions DIR] [--out DIR] [--check]
    backproplab grade SUBMISSION.ipynb|FOLDER ... [--json F] [--csv F] [--feedback DIR]
                      [--jobs N] [--source DIR] [--timeout SECONDS]
    backproplab gradescope [--out autograder.zip] [--source DIR] [--exercise NAME ...]
                           [--visibility V] [--timeout SECONDS]

The grading machinery (nbclient, IPython) is imported inside the subcommands, so that importing
this module, and ``import backproplab``, stay cheap.
"""

import argparse
import os
import sys
import time
from pathlib import Path

__all__ = ["main", "build_parser"]


def _course_dir():
    """The course checkout: the current folder if it has solutions/, else the folder holding
    the package (an editable install), else the current folder."""
    here = Path.cwd()
    if (here / "solutions").is_dir():
        return here
    package_parent = Path(__file__).resolve().parent.parent
    return package_parent if (package_parent / "solutions").is_dir() else here


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _make_exercises(args, parser):
    from .grading.generate import InvalidNotebook, make_exercises

    course = _course_dir()
    solutions = Path(args.solutions) if args.solutions else course / "solutions"
    out = Path(args.out) if args.out else course / "exercises"
    if not solutions.is_dir():
        parser.error(f"no solutions folder {solutions} (use --solutions)")
    try:
        files = make_exercises(solutions, out, check=args.check)
    except InvalidNotebook as exc:
        print("invalid solution notebooks:", *exc.problems, sep="\n  ", file=sys.stderr)
        return 1
    if args.check:
        if files:
            print("exercise notebooks out of date (run `backproplab make-exercises`):",
                  *files, sep="\n  ")
            return 1
        print(f"exercise notebooks in {out} are up to date")
        return 0
    print(f"wrote {len(files)} exercise notebook(s)", *files, sep="\n  ")
    return 0


def _grade(args, parser):
    from .grading.batch import collect_submissions, grade_batch
    from .grading.limits import Limits
    from .grading.report import score_table, write_csv, write_feedback, write_json
    from .grading.results import format_points

    source = Path(args.source) if args.source else _course_dir() / "solutions"
    if not source.is_dir():
        parser.error(f"no solutions folder {source} (use --source)")
    missing = [name for name in args.submissions if not Path(name).exists()]
    if missing:
        parser.error(f"no such file or folder: {', '.join(missing)}")
    submissions = collect_submissions(args.submissions)
    if not submissions:
        parser.error("no .ipynb files to grade")
    paths, students = zip(*submissions)
    limits = Limits(timeout=args.timeout, memory_mb=args.memory_mb, cpu_seconds=args.cpu_seconds)
    done = set()

    def progress(report):
        step = "graded again alone" if report.file in done else f"{len(done) + 1}/{len(paths)}"
        done.add(report.file)
        print(f"[{step}] {report.student} ({Path(report.file).name}): "
              f"{format_points(report.total)}/{format_points(report.max_total)} in "
              f"{report.seconds:.1f} s", file=sys.stderr)

    started = time.monotonic()
    reports, changed = grade_batch(list(paths), source, limits, args.jobs, progress,
                                   list(students))
    seconds = round(time.monotonic() - started, 2)
    print(score_table(reports))
    print(f"\n{len(reports)} submission(s) graded in {seconds:.1f} s with --jobs {args.jobs}")
    if changed:
        print("WARNING: the course's grading files changed during the batch:",
              *changed, sep="\n  ", file=sys.stderr)
    if args.json:
        write_json(args.json, reports, jobs=args.jobs, seconds=seconds, source=str(source))
    if args.csv:
        write_csv(args.csv, reports)
    if args.feedback:
        write_feedback(args.feedback, reports)
    return 0


def _gradescope(args, parser):
    from .grading.gradescope import build_autograder
    from .grading.limits import Limits

    source = Path(args.source) if args.source else _course_dir() / "solutions"
    if not source.is_dir():
        parser.error(f"no solutions folder {source} (use --source)")
    limits = Limits(timeout=args.timeout, memory_mb=args.memory_mb, cpu_seconds=args.cpu_seconds)
    try:
        names = build_autograder(args.out, source, args.exercise, args.visibility, limits)
    except ValueError as exc:
        parser.error(str(exc))
    print(f"wrote {args.out}: upload it as the autograder of a Gradescope programming "
          "assignment", *names, sep="\n  ")
    return 0


def _add_limits(command):
    from .grading.limits import Limits  # cheap: no nbclient

    command.add_argument("--timeout", type=_positive_int, default=Limits.timeout,
                         metavar="SECONDS", help=f"per cell (default: {Limits.timeout})")
    command.add_argument("--memory-mb", type=_positive_int, default=Limits.memory_mb,
                         metavar="MB",
                         help=f"address-space limit of a kernel (default: {Limits.memory_mb})")
    command.add_argument("--cpu-seconds", type=_positive_int, default=Limits.cpu_seconds,
                         metavar="SECONDS",
                         help=f"CPU-time limit of a kernel (default: {Limits.cpu_seconds})")


def build_parser():
    parser = argparse.ArgumentParser(prog="backproplab", description="backproplab course tools")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    make = commands.add_parser(
        "make-exercises", help="generate exercises/ from solutions/",
        description="Generate the exercise notebooks from the solution notebooks: answers "
                    "become `raise NotImplementedError()`, hidden tests and outputs go.")
    make.add_argument("--solutions", metavar="DIR", help="solution notebooks (default: solutions/)")
    make.add_argument("--out", metavar="DIR", help="exercise notebooks (default: exercises/)")
    make.add_argument("--check", action="store_true",
                      help="write nothing; exit 1 listing the exercises that are out of date")
    make.set_defaults(handler=_make_exercises)

    grade = commands.add_parser(
        "grade", help="grade submitted notebooks",
        description="Grade submissions safely (each in its own kernel, with limits) and in "
                    "parallel. Exit status 0 once grading is done, whatever the scores.")
    grade.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                       help="a notebook; a folder of notebooks; or nbgrader's submitted/ "
                            "folder (<student>/<assignment>/*.ipynb), or one student's folder "
                            "of it: students are then named by folder")
    grade.add_argument("--json", metavar="REPORT.json", help="write the full report as JSON")
    grade.add_argument("--csv", metavar="GRADEBOOK.csv", help="write one row per student")
    grade.add_argument("--feedback", metavar="DIR", help="write one markdown file per student")
    grade.add_argument("--jobs", type=_positive_int, default=os.cpu_count() or 1, metavar="N",
                       help="submissions graded at once (default: the number of CPUs)")
    grade.add_argument("--source", metavar="DIR",
                       help="solution notebooks holding the real checks (default: solutions/)")
    _add_limits(grade)
    grade.set_defaults(handler=_grade)

    gradescope = commands.add_parser(
        "gradescope", help="write an autograder zip for Gradescope",
        description="Write an autograder zip in Gradescope's layout (setup.sh, run_autograder, "
                    "the course as a wheel, the solution notebooks): each submission is graded "
                    "by the same grader as `backproplab grade`, in its own container.")
    gradescope.add_argument("--out", default="autograder.zip", metavar="ZIP",
                            help="the zip to write (default: autograder.zip)")
    gradescope.add_argument("--source", metavar="DIR",
                            help="solution notebooks (default: solutions/)")
    gradescope.add_argument("--exercise", action="append", metavar="NAME",
                            help="only this exercise, e.g. 01_forward_pass (repeatable; "
                                 "default: all)")
    gradescope.add_argument("--visibility", default="visible",
                            choices=["visible", "after_due_date", "after_published", "hidden"],
                            help="when students see the results (default: visible)")
    _add_limits(gradescope)
    gradescope.set_defaults(handler=_gradescope)
    return parser


def main(argv=None):
    """Entry point of the ``backproplab`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return args.handler(args, parser)
