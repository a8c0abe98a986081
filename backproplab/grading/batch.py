"""Grade many submissions, N at a time, each in its own worker process and its own kernel.

A worker sets the resource limits on itself before starting the kernel (which inherits them),
so the limits never touch the parent. The kernel imports ``backproplab`` from a private copy
(see ``protect.py``), so no submission can change the checks that grade another one.

The course's own grading files (the grading package, the solutions) are hashed before and after
each submission, and not written while the batch runs. If they changed, every submission that was
running between the last check that saw them as before and the first that saw them changed is a
suspect, graded again alone at the end: the files it writes during that run are restored from the
snapshot (the versions replaced kept in a temporary folder) and it is flagged. A change no suspect
repeats came from elsewhere (someone editing the course during the batch): reported, left alone.
"""

import multiprocessing
import os
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path

from .grader import SubmissionReport, grade_file, package_snapshot, parse_sources
from .limits import apply_resource_limits
from .protect import FileGuard, Snapshot

__all__ = ["collect_submissions", "student_names", "grade_batch"]


def _visible(paths):
    return sorted(p for p in paths if not p.name.startswith("."))


def _notebooks(folder):
    """The notebooks directly inside ``folder`` (not .ipynb_checkpoints' copies)."""
    return _visible(p for p in folder.glob("*.ipynb") if p.is_file())


def _subfolders(folder):
    return _visible(p for p in folder.iterdir() if p.is_dir())


def collect_submissions(arguments):
    """[(notebook path, student)] for the command line's files and folders:

    - a notebook: the student is its file name (with its folder when names collide);
    - a folder with notebooks in it: each notebook is a student's, named as above;
    - nbgrader's ``submitted/`` folder, ``<student>/<assignment>/*.ipynb``: named by folder;
    - one student's folder of it, ``<assignment>/*.ipynb``: named by the folder's name.
    """
    found = []  # (path, student or None when named by its file)
    for argument in map(Path, arguments):
        if not argument.is_dir():
            found.append((argument, None))
        elif _notebooks(argument):
            found += [(path, None) for path in _notebooks(argument)]
        elif any(_notebooks(a) for s in _subfolders(argument) for a in _subfolders(s)):
            found += [(path, student.name) for student in _subfolders(argument)
                      for assignment in _subfolders(student) for path in _notebooks(assignment)]
        else:
            found += [(path, argument.resolve().name) for assignment in _subfolders(argument)
                      for path in _notebooks(assignment)]
    names = iter(student_names([path for path, student in found if student is None]))
    return [(path, student or next(names)) for path, student in found]


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
class _Batch:
    """What every worker needs: the solutions, the library snapshot, the guard, the limits."""

    sources: dict
    library: Snapshot
    guard: FileGuard
    limits: object


@dataclass
class _Run:
    """A worker's answer: the report, and the grading files' digests before and after.

    A crashed worker checked nothing (digests None); its times are those the parent saw."""

    task: _Task
    report: SubmissionReport
    start: float
    end: float
    before: str
    after: str


def _worker(task, batch, conn):
    """Body of a worker process: grade one submission between two checks of the files."""
    apply_resource_limits(batch.limits)  # inherited by the kernel this process starts
    before, start = batch.guard.digest(), time.time()
    report = grade_file(task.path, task.student, batch.sources, batch.limits, batch.library)
    end, after = time.time(), batch.guard.digest()
    conn.send(_Run(task, report, start, end, before, after))


def _crashed(task, exitcode, launched):
    report = SubmissionReport(str(task.path), task.student,
                              error=f"the grading worker crashed (exit code {exitcode})")
    return _Run(task, report, launched, time.time(), None, None)


def _run_workers(tasks, jobs, batch, on_done):
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
            process = context.Process(target=_worker, args=(task, batch, sender), daemon=True)
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


def _suspects(runs, started, original):
    """The runs in flight while the grading files changed: between two consecutive checks
    (by any worker; the first is the snapshot at ``started``) that saw different digests."""
    checks = sorted([(started, original)] + [(r.start, r.before) for r in runs if r.before]
                    + [(r.end, r.after) for r in runs if r.after])
    windows = [(t1, t2) for (t1, d1), (t2, d2) in zip(checks, checks[1:]) if d1 != d2]
    return [r for r in runs if any(r.start < t2 and r.end > t1 for t1, t2 in windows)]


def _confirm(suspects, batch, on_done):
    """Grade each suspect again, alone: the course files it writes during that run (even
    with the same content) are its doing; restore them and flag it.

    Returns the new runs and messages for the instructor."""
    runs, messages = [], []
    for task in suspects:
        before = batch.guard.stamps()
        run = _run_workers([task], 1, batch, on_done)[task.index]
        after = batch.guard.stamps()
        written = {path for path in before.keys() | after.keys()
                   if before.get(path) != after.get(path)}
        if written:
            undone = batch.guard.restore(written)
            run.report.flagged = True
            run.report.warnings.append(f"FLAGGED: it wrote the course's grading files: "
                                       f"{'; '.join(undone)}")
            messages += [f"written by {task.student}: {message}" for message in undone]
        runs.append(run)
    messages += [f"changed during the batch, not by a submission (left as it is): {change}"
                 for change in batch.guard.changes()]
    return runs, messages


def grade_batch(paths, source_dir, limits, jobs=None, on_done=None, students=None):
    """Grade the submissions at ``paths`` against the notebooks of ``source_dir``; ``students``
    names them (default: :func:`student_names`).

    Returns (reports in the order of ``paths``, messages about the course's grading files).
    ``on_done(report)`` is called as each submission finishes.
    """
    started = time.time()
    library, solutions = package_snapshot(), Snapshot(source_dir, "*.ipynb")
    guard = FileGuard([Snapshot(library.root / "grading", "**/*.py"), solutions])
    batch = _Batch(parse_sources(solutions.files), library, guard, limits)
    names = students or student_names(paths)
    tasks = [_Task(i, Path(path), name) for i, (path, name) in enumerate(zip(paths, names))]
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(tasks) or 1))
    runs = _run_workers(tasks, jobs, batch, on_done)
    suspects = [r.task for r in _suspects(list(runs.values()), started, guard.original)]
    messages = []
    if suspects:
        confirmed, messages = _confirm(suspects, batch, on_done)
        runs.update({run.task.index: run for run in confirmed})
    return [runs[task.index].report for task in tasks], messages
