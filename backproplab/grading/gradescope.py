"""Large classes on Gradescope: an autograder zip in Gradescope's documented layout
(https://gradescope-autograders.readthedocs.io/en/latest/specs/), and what it runs.

The zip (:func:`build_autograder`, ``backproplab gradescope``) holds, at its root:

- ``setup.sh``, run once as root when Gradescope builds the image: Python and a virtual
  environment in ``/autograder/venv`` with the course installed from its wheel;
- ``run_autograder``, run for each submission in its own container: it calls :func:`run`;
- ``backproplab-<version>-py3-none-any.whl``, the course's package, written here from the
  package's own files;
- ``solutions/*.ipynb``, the solution notebooks that hold the real checks;
- ``autograder.json``, the settings (the visibility of the results, the limits).

:func:`run` grades the notebook in ``<root>/submission`` with the same grader as
``backproplab grade`` and writes ``<root>/results/results.json``: one test per part (name,
score, max_score, status, the lines ``check()`` printed, visibility), the total and the
execution time. The root is ``/autograder`` on Gradescope; ``AUTOGRADER_ROOT`` moves it (tests).
"""

import base64
import hashlib
import importlib.metadata
import io
import json
import sys
import time
import zipfile
from pathlib import Path

from .grader import package_snapshot
from .limits import Limits

__all__ = ["build_autograder", "wheel_files", "run", "results_json"]

VISIBILITY = ("visible", "after_due_date", "after_published", "hidden")

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu, with
# Python >= 3.10): the course's package and its dependencies go into /autograder/venv.
set -euo pipefail
apt-get update
apt-get install -y --no-install-recommends python3 python3-venv python3-pip
python3 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --upgrade pip
/autograder/venv/bin/python -m pip install /autograder/source/{wheel}
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for each submission, in its own container: it grades the notebook in
# submission/ with backproplab's grader and writes results/results.json.
# AUTOGRADER_ROOT replaces /autograder (for tests); BACKPROPLAB_PYTHON the venv's python.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
cd "$ROOT"
exec "${BACKPROPLAB_PYTHON:-$ROOT/venv/bin/python}" -m backproplab.grading.gradescope "$ROOT"
"""


# -- the zip --------------------------------------------------------------------------------


def _record_hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def wheel_files():
    """(wheel file name, {path in the wheel: bytes}): the installed package as a pure-Python
    wheel (PEP 427), its metadata from the installed distribution."""
    meta = importlib.metadata.metadata("backproplab")
    name, version = meta["Name"], meta["Version"]
    info = f"{name}-{version}.dist-info"
    metadata = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}",
                f"Summary: {meta['Summary']}", f"Requires-Python: {meta['Requires-Python']}"]
    metadata += [f"Provides-Extra: {e}" for e in meta.get_all("Provides-Extra") or []]
    metadata += [f"Requires-Dist: {r}" for r in meta.get_all("Requires-Dist") or []]
    files = {f"backproplab/{path}": data for path, data in package_snapshot().files.items()}
    files[f"{info}/METADATA"] = ("\n".join(metadata) + "\n").encode()
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: backproplab\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    files[f"{info}/entry_points.txt"] = b"[console_scripts]\nbackproplab = backproplab.cli:main\n"
    record = [f"{path},{_record_hash(data)},{len(data)}" for path, data in files.items()]
    files[f"{info}/RECORD"] = ("\n".join(record + [f"{info}/RECORD,,"]) + "\n").encode()
    return f"{name}-{version}-py3-none-any.whl", files


def _zip_bytes(files, executable=()):
    """A zip of ``files`` ({name: bytes}), with fixed dates (the same input gives the same
    bytes) and the ``executable`` names marked executable."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            entry = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            entry.external_attr = (0o100755 if name in executable else 0o100644) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    return buffer.getvalue()


def build_autograder(out, source_dir, exercises=None, visibility="visible", limits=Limits()):
    """Write the autograder zip to ``out`` with the solution notebooks of ``source_dir`` (only
    ``exercises``, a list of names, when given). Returns the names in the zip."""
    if visibility not in VISIBILITY:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITY)}, got {visibility!r}")
    solutions = sorted(Path(source_dir).glob("*.ipynb"))
    if exercises:
        unknown = sorted(set(exercises) - {p.stem for p in solutions})
        if unknown:
            raise ValueError(f"no solution notebook for {', '.join(unknown)} in {source_dir}")
        solutions = [p for p in solutions if p.stem in exercises]
    if not solutions:
        raise ValueError(f"no solution notebooks in {source_dir}")
    wheel, wheel_content = wheel_files()
    settings = {"visibility": visibility, "timeout": limits.timeout,
                "memory_mb": limits.memory_mb, "cpu_seconds": limits.cpu_seconds}
    files = {"setup.sh": SETUP_SH.format(wheel=wheel).encode(),
             "run_autograder": RUN_AUTOGRADER.encode(),
             wheel: _zip_bytes(wheel_content),
             "autograder.json": (json.dumps(settings, indent=1) + "\n").encode(),
             **{f"solutions/{p.name}": p.read_bytes() for p in solutions}}
    Path(out).write_bytes(_zip_bytes(files, executable=("setup.sh", "run_autograder")))
    return sorted(files)


# -- a submission ---------------------------------------------------------------------------


def _find_notebook(folder, exercises):
    """The notebook to grade in Gradescope's submission folder (subfolders too, not
    checkpoints): one named like an exercise if there is one, else the first; and the others."""
    found = sorted(p for p in Path(folder).rglob("*.ipynb")
                   if not any(part.startswith(".") for part in p.relative_to(folder).parts))
    named = [p for p in found if any(name in p.stem for name in exercises)]
    chosen = (named or found or [None])[0]
    return chosen, [p for p in found if p != chosen]


def results_json(report, visibility, seconds, output):
    """Gradescope's results.json for one graded submission (a SubmissionReport)."""
    from .registry import get_part

    tests = []
    for part in report.parts:
        try:
            title = get_part(part.grade_id).title
        except KeyError:
            title = part.grade_id
        tests.append({"name": f"{part.grade_id}: {title}", "score": part.score,
                      "max_score": part.max_score,
                      "status": "passed" if part.score >= part.max_score else "failed",
                      "output": "\n".join(part.messages), "visibility": visibility})
    return {"score": report.total, "execution_time": round(seconds), "output": output,
            "visibility": visibility, "stdout_visibility": "hidden", "tests": tests}


def run(root):
    """Grade the submission under ``root`` (Gradescope's /autograder) and write
    ``root/results/results.json``; returns that dict."""
    from .grader import grade_file, parse_sources
    from .limits import apply_resource_limits
    from .protect import Snapshot
    from .report import feedback_markdown

    started = time.monotonic()
    root = Path(root)
    settings = json.loads((root / "source" / "autograder.json").read_text())
    visibility = settings.get("visibility", "visible")
    limits = Limits(**{k: settings[k] for k in ("timeout", "memory_mb", "cpu_seconds")
                       if k in settings})
    source = root / "source" / "solutions"
    names = [p.stem for p in source.glob("*.ipynb")]
    notebook, ignored = _find_notebook(root / "submission", names)
    if notebook is None:
        results = {"score": 0.0, "execution_time": round(time.monotonic() - started),
                   "output": "No notebook (.ipynb) in the submission: upload your exercise "
                             "notebook.", "visibility": visibility, "tests": []}
    else:
        # One submission per container: this process is the grading worker (no batch, no
        # worker pool: 4-5 s less per submission), limited as `backproplab grade` limits one.
        apply_resource_limits(limits)
        report = grade_file(notebook, notebook.stem,
                            parse_sources(Snapshot(source, "*.ipynb").files), limits)
        output = [f"Graded {notebook.relative_to(root / 'submission')} as exercise "
                  f"{report.exercise or '(unknown)'}."]
        output += [f"Ignored (one notebook is graded): {p.relative_to(root / 'submission')}"
                   for p in ignored]
        if report.error:
            output.append(f"This submission could not be graded: {report.error}")
        output += [f"Note: {warning}" for warning in report.warnings]
        print(feedback_markdown(report))  # Gradescope keeps stdout for the instructor
        results = results_json(report, visibility, time.monotonic() - started, "\n".join(output))
    (root / "results").mkdir(parents=True, exist_ok=True)
    (root / "results" / "results.json").write_text(json.dumps(results, indent=1,
                                                              ensure_ascii=False) + "\n")
    return results


if __name__ == "__main__":  # run_autograder: python -m backproplab.grading.gradescope ROOT
    print(f"backproplab {importlib.metadata.version('backproplab')} from "
          f"{Path(__file__).resolve().parent.parent}")
    run(sys.argv[1] if len(sys.argv) > 1 else "/autograder")
