"""pytest set-up for the whole repository (unit tests and the notebooks nbval runs).

One BLAS thread per process: the test workers and the notebook kernels they start already
share the machine's cores, and oversubscribed OpenBLAS threads made small matrix products
10-100x slower on a 2-core machine. Kernels inherit this environment when they start.

Two passes over every notebook with checked outputs (cells tagged ``nbval-check-output``):
nbval's own, and a *foreign floating-point* pass (node ids ``<notebook>[foreign-fp]::Cell N``)
whose kernel starts with numpy's SIMD dispatch lowered and OpenBLAS on another kernel
(``tools/foreign_fp.py``), against the same stored outputs. A checked number that depends on
the last bits of a float, and so would differ on a student's CPU, fails the second pass.
``-k "not foreign"`` runs the native pass only; ``-k foreign`` the foreign one.

nbval's kernels talk over Unix sockets in a folder of this process's own instead of TCP ports,
as the grader's do (``backproplab.grading.execute.on_unix_sockets`` says why).
"""

import atexit
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbval.kernel
from jupyter_client.manager import KernelManager
from nbval.plugin import IPyNbFile

from backproplab.grading.execute import on_unix_sockets

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, str(Path(__file__).parent / "tools"))
import foreign_fp  # noqa: E402  (tools/ is not a package)

if os.name == "posix":
    _SOCKETS = tempfile.mkdtemp(prefix="bpl-")  # short: a socket's path has at most 104 bytes
    atexit.register(shutil.rmtree, _SOCKETS, ignore_errors=True)

    class _SocketKernelManager(KernelManager):
        """jupyter_client's KernelManager on Unix sockets in this process's folder."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            on_unix_sockets(self, _SOCKETS)

    nbval.kernel.KernelManager = _SocketKernelManager

FOREIGN = "foreign-fp"
_foreign = {}  # env and description, computed once per process


def _foreign_env():
    if not _foreign:
        _foreign["env"], _foreign["line"] = foreign_fp.describe()
    return _foreign["env"]


def _has_checked_outputs(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return any("nbval-check-output" in c.get("metadata", {}).get("tags", []) for c in cells)


class ForeignNotebook(IPyNbFile):
    """nbval's notebook collector, with a kernel that rounds like another CPU."""

    def setup(self):
        saved = dict(os.environ)
        os.environ.update(_foreign_env())  # the kernel process copies os.environ at launch
        try:
            super().setup()
        finally:
            os.environ.clear()
            os.environ.update(saved)


def pytest_collect_file(file_path, parent):
    if (file_path.suffix == ".ipynb" and parent.config.option.nbval_lax
            and _has_checked_outputs(file_path)):
        name = f"{file_path.name}[{FOREIGN}]"
        rel = file_path.relative_to(parent.config.rootpath).as_posix()
        return ForeignNotebook.from_parent(parent, path=file_path, name=name,
                                           nodeid=f"{rel}[{FOREIGN}]")


def pytest_report_header(config):
    _foreign_env()
    return f"foreign floating-point pass: {_foreign['line']}"
