"""Run notebooks top to bottom and store them with their outputs, the way the course keeps them.

    python tools/run_notebook.py lessons/05_gradient_descent.ipynb [more.ipynb ...]
    python tools/run_notebook.py --foreign lessons/05_gradient_descent.ipynb

Each notebook runs in a fresh kernel of this environment (one BLAS thread, as the tests run
it), in its own folder, and is written back with every output, no widget state and no
execution timestamps, in nbformat's layout plus a final newline (what the repository holds).
It prints the kernel's wall time per notebook. An error in a cell stops that notebook and
leaves its file unchanged.

``--foreign`` runs in the foreign floating-point environment of ``tools/foreign_fp.py``
instead and writes nothing: it prints every cell tagged ``nbval-check-output`` whose output
differs from the stored one, which is what the test suite's second pass would fail on.
"""

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).parent))
import foreign_fp  # noqa: E402

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def execute(path, env=None):
    """The notebook at ``path`` executed in a fresh kernel (an nbformat node); raises on error."""
    nb = nbformat.read(path, as_version=4)
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=False,
                       store_widget_state=False,
                       resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    return nb


def _text(cell):
    """What nbval-lax compares, roughly: every output's text, figures left out, as one string
    (nbval coalesces consecutive stream outputs: where the kernel splits a cell's printing into
    chunks depends on timing)."""
    parts = []
    for out in cell.get("outputs", []):
        if "text" in out:
            parts.append(out["text"])
        for key, value in out.get("data", {}).items():
            if key not in ("image/png", "image/jpeg", "application/vnd.jupyter.widget-view+json"):
                parts.append(value if isinstance(value, str) else "".join(value))
    return "".join(parts)


def main(argv):
    foreign = "--foreign" in argv
    env = foreign_fp.describe()[0] if foreign else None
    for arg in [a for a in argv if not a.startswith("--")]:
        path = Path(arg)
        start = time.perf_counter()
        nb = execute(path, env)
        seconds = time.perf_counter() - start
        if not foreign:
            path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
            print(f"{path}: ran in {seconds:.1f} s, written")
            continue
        stored = nbformat.read(path, as_version=4)
        code_new = [c for c in nb.cells if c.cell_type == "code"]
        code_old = [c for c in stored.cells if c.cell_type == "code"]
        bad = [i for i, (new, old) in enumerate(zip(code_new, code_old))
               if "nbval-check-output" in old.metadata.get("tags", [])
               and _text(new) != _text(old)]
        print(f"{path}: ran in {seconds:.1f} s (foreign); "
              + (f"checked code cells that differ: {bad}" if bad else "every checked cell agrees"))
        for i in bad:
            print(f"--- Cell {i} stored:\n{_text(code_old[i])}"
                  f"--- Cell {i} foreign:\n{_text(code_new[i])}")


if __name__ == "__main__":
    main(sys.argv[1:])
