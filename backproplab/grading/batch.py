"""Grade many submissions, N at a time, each in its own worker process and its own kernel.

A worker sets the resource limits on itself before starting the kernel (which inherits them),
so the limits never touch the parent. Around each submission the worker checks the grading
files (:class:`~backproplab.grading.protect.FileGuard`) and restores them if they changed.

Who changed them? With one job at a time, the submission whose after-check found the change.
In parallel, a change can only be dated: every submission that was running between the last
check that found the files intact and the check that found them changed is a suspect, and is
graded again alone at the end; that run alone decides whether it is flagged.
"""

import multiprocessing
import os
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path

from .limits import apply_resource_limits
from .grader import SubmissionReport, grade_file, load_sources
from .protect import FileGuard

__all__ = ["collect_notebooks", "student_names", "grade_batch"]


def collect_notebooks(arguments):
    """Files as given, folders as the notebooks directly inside them (a class's submissions)."""
    paths = []
    for argument in map(Path, arguments):
        if argument.is_dir():
            paths += sorted(p for p in argument.glob("*.ipynb") if p.is_file())
        else:
            paths.append(argument)
    return paths


def student_names(paths):
    """One label per submission: the file's stem, with its folder when stems collide."""
    stems = [p.stem for p in paths]
    names = [f"{p.parent.name}/{p.stem}" if stems.count(p.stem) > 1 else p.stem for p in paths]
    return [name if names.count(name) == 1 else f"{name}#{i + 1}" for i, name in enumerate(names)]


@dataclass
class _Task:
    index: int
    path: Path
    student: str


@dataclass
class _Run:
    """A worker's answer: the report, and the file checks before and after (when, changes).

    A crashed worker checked nothing: its changes are None, its times those the parent saw."""

    task: _Task
    report: SubmissionReport
    start: float
    end: float
    changed_before: list
    changed_after: list

    @property
    def changes(self):
        return (self.changed_before or []) + (self.changed_after or [])


def _worker(task, sources, guard, limits, conn):
    """Body of a worker process: grade one submission between two checks of the files."""
    apply_resource_limits(limits)  # inherited by the kernel this process starts
    changed_before, start = guard.restore(), time.time()
    report = grade_file(task.path, task.student, sources, limits)
    changed_after, end = guard.restore(), time.time()
    if changed_after:
        report.warnings.append("grading files changed while this submission ran: "
                               + "; ".join(changed_after))
    conn.send(_Run(task, report, start, end, changed_before, changed_after))


def _crashed(task, exitcode, launched):
    report = SubmissionReport(str(task.path), task.student,
                              error=f"the grading worker crashed (exit code {exitcode})")
    return _Run(task, report, launched, time.time(), None, None)


def _run_workers(tasks, jobs, sources, guard, limits, on_done):
    """Run ``tasks`` with at most ``jobs`` worker processes at once; {task index: _Run}."""
    # Fresh processes forked from a server that has already imported the grader (nbformat
    # alone takes seconds to import): no state inherited from the caller, no import per job.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    queue, running, runs = deque(tasks), {}, {}
    while queue or running:
        while queue and len(running) < jobs:
            task = queue.popleft()
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=_worker, args=(task, sources, guard, limits, sender),
                                      daemon=True)
            process.start()
            sender.close()  # so that the receiver sees EOF if the worker dies
            running[receiver] = (process, task, time.time())
        for receiver in wait(list(running)):
            process, task, launched = running.pop(receiver)
            try:
                run = receiver.recv()
            except EOFError:
                process.join()
                run = _crashed(task, process.exitcode, launched)
            process.join()
            runs[task.index] = run
            if on_done:
                on_done(run.report)
    return runs


def _suspects(runs):
    """Runs that may have changed the grading files (see the module docstring)."""
    checks = [(r.start, r.changed_before) for r in runs] + [(r.end, r.changed_after) for r in runs]
    checks = [(when, changes) for when, changes in checks if changes is not None]
    found = {when for when, changes in checks if changes}
    intact = [when for when, changes in checks if not changes]
    return [r for r in runs
            if any(r.start < when and not any(r.end <= ok < when for ok in intact)
                   for when in found)]


def _overlaps(run, runs):
    return any(other is not run and other.start < run.end and run.start < other.end
               for other in runs)


def grade_batch(paths, source_dir, limits, jobs=None, on_done=None):
    """Grade the submissions at ``paths`` against the notebooks of ``source_dir``.

    Returns (reports in the order of ``paths``, messages about grading files restored).
    ``on_done(report)`` is called as each submission finishes.
    """
    from . import __file__ as package_init

    sources = load_sources(source_dir)
    guard = FileGuard.snapshot([(Path(package_init).parent, "**/*.py"), (source_dir, "*.ipynb")])
    names = student_names(paths)
    tasks = [_Task(i, Path(path), name) for i, (path, name) in enumerate(zip(paths, names))]
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(tasks) or 1))
    runs = _run_workers(tasks, jobs, sources, guard, limits, on_done)
    # Attribute changes made during the parallel run by grading each suspect alone.
    restored = [change for r in runs.values() for change in r.changes]
    finished = list(runs.values())
    again = [r.task for r in _suspects(finished) if _overlaps(r, finished)]
    for run in _run_workers(again, 1, sources, guard, limits, on_done).values():
        runs[run.task.index] = run
        restored += run.changes
    return [runs[task.index].report for task in tasks], restored
