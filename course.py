#!/usr/bin/env python3
"""The course's commands, on Linux, macOS and Windows, with nothing but Python >= 3.10.

    python course.py lab         install everything into .venv, open the course in JupyterLab
    python course.py test        install everything into .venv, run the whole test suite
    python course.py bench       the benchmarks (benchmarks/run.py)
    python course.py exercises   regenerate exercises/ from solutions/
    python course.py oldest      the test suite with the oldest versions pyproject.toml allows
                                 (tools/oldest-constraints.txt), in .venv-oldest, on Python
                                 3.10 (or $OLDEST_PYTHON)
    python course.py clean       remove .venv, .venv-oldest and test-artifacts/

``make lab``, ``make test`` ... call this file; on Windows, where ``make`` is rarely
installed, run it directly (``py course.py lab``). Arguments after the command go to
JupyterLab (``lab``) or pytest (``test``), e.g. ``python course.py lab --no-browser``.

The virtual environment is made once, with the running Python, and reinstalled when
``pyproject.toml`` is newer than its stamp. Only the standard library is used here.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
START_PAGE = "START_HERE.ipynb"


def venv_python(venv=VENV, platform=sys.platform):
    """The venv's Python: ``Scripts\\python.exe`` on Windows, ``bin/python`` elsewhere."""
    if platform.startswith("win"):
        return Path(venv) / "Scripts" / "python.exe"
    return Path(venv) / "bin" / "python"


def needs_install(venv=VENV, pyproject=ROOT / "pyproject.toml"):
    """True if the venv has no stamp, or pyproject.toml changed after the last install."""
    stamp = Path(venv) / ".installed"
    return not stamp.exists() or stamp.stat().st_mtime < Path(pyproject).stat().st_mtime


def run(*cmd):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    code = subprocess.call([str(c) for c in cmd], cwd=ROOT)
    if code:
        sys.exit(code)


def install(venv=VENV, base_python=sys.executable, constraints=()):
    """Make ``venv`` and install the course with its test tools into it, unless it is current.
    ``constraints``: pip's ``-c FILE`` arguments."""
    if not needs_install(venv):
        return venv_python(venv)
    if sys.version_info < (3, 10):
        sys.exit(f"backproplab needs Python >= 3.10; this is {sys.version.split()[0]}")
    python = venv_python(venv)
    if not python.exists():
        run(base_python, "-m", "venv", venv)
    run(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(python, "-m", "pip", "install", "--quiet", *constraints, "-e", ".[test]")
    (Path(venv) / ".installed").touch()
    return python


def lab_command(python, extra=(), is_root=None):
    """The JupyterLab command: the whole course as its root, opening at the start page."""
    if is_root is None:
        is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    return [str(python), "-m", "jupyterlab", f"--ServerApp.root_dir={ROOT}",
            f"--LabApp.default_url=/lab/tree/{START_PAGE}",
            *(["--allow-root"] if is_root else []), *extra, START_PAGE]


def lab(extra):
    cmd = lab_command(install(), extra)
    print("+", " ".join(cmd), flush=True)
    os.chdir(ROOT)
    if os.name == "posix":  # become the server: its process id is this one
        os.execv(cmd[0], cmd)
    sys.exit(subprocess.call(cmd))


def test(extra, python=None):
    python = python or install()
    run(python, ROOT / "tools" / "ensure_browser.py")
    # conftest.py pins every test process and notebook kernel to one BLAS thread.
    run(python, "-m", "pytest", "-n", os.environ.get("JOBS", "2"), "--dist", "loadscope", *extra)


def oldest(extra):
    """The whole suite with the oldest allowed versions: are pyproject.toml's floors true?"""
    base = os.environ.get("OLDEST_PYTHON") or shutil.which("python3.10")
    if not base:
        sys.exit("course.py oldest needs Python 3.10: put python3.10 on PATH or set OLDEST_PYTHON")
    constraints = ("-c", ROOT / "tools" / "oldest-constraints.txt")
    test(extra, install(ROOT / ".venv-oldest", base, constraints))


def main(argv):
    commands = {
        "lab": lab,
        "test": test,
        "bench": lambda extra: run(install(), ROOT / "benchmarks" / "run.py", *extra),
        "exercises": lambda extra: run(install(), "-m", "backproplab", "make-exercises", *extra),
        "oldest": oldest,
        "clean": lambda extra: [shutil.rmtree(ROOT / d, ignore_errors=True)
                                for d in (".venv", ".venv-oldest", "test-artifacts")],
    }
    if not argv or argv[0] not in commands:
        sys.exit(__doc__)
    commands[argv[0]](argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
