"""The package's promises about itself: cheap import, layering, two-command setup."""

import ast
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PKG = ROOT / "backproplab"

# Level of each module: a module may import only from its own level or below.
LEVELS = {
    "_validate": 0, "scalar": 0, "scalar_nn": 0, "functional": 0, "init": 0, "losses": 0,
    "optim": 0, "data": 0, "metrics": 0,
    "layers": 1, "recurrent": 1,
    "gradcheck": 2, "train": 2, "diagnostics": 2, "curvature": 2,
    "plotting": 3, "grading": 3, "experiments": 3,
    "widgets": 4, "cli": 4, "__main__": 4,
}


def test_import_is_cheap():
    code = ("import sys, backproplab; heavy = [m for m in ('matplotlib', 'matplotlib.pyplot', "
            "'ipywidgets', 'nbclient', 'IPython') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]", f"import backproplab loaded {out}"


def _imports_of(path):
    """Top-level backproplab modules imported by a source file (relative or absolute)."""
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]  # ("backproplab", ...)
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                targets = [base + tuple(node.module.split("."))] if node.module else \
                    [base + (alias.name,) for alias in node.names]
            else:
                targets = [tuple((node.module or "").split("."))]
        elif isinstance(node, ast.Import):
            targets = [tuple(alias.name.split(".")) for alias in node.names]
        else:
            continue
        found.update(t[1] for t in targets if len(t) > 1 and t[0] == "backproplab")
    return found


def _module_files():
    for path in sorted(PKG.glob("*.py")):
        if path.stem != "__init__":
            yield path.stem, path
    for sub in sorted(p for p in PKG.iterdir() if (p / "__init__.py").exists()):
        for path in sorted(sub.rglob("*.py")):
            yield sub.name, path


@pytest.mark.parametrize("name,path", list(_module_files()), ids=lambda v: str(v))
def test_no_module_imports_upward(name, path):
    assert name in LEVELS, f"{name} has no level in the layering table; add it"
    for dep in _imports_of(path):
        if dep in LEVELS and dep != name:
            assert LEVELS[dep] <= LEVELS[name], (
                f"{path.relative_to(ROOT)} (level {LEVELS[name]}) imports {dep} "
                f"(level {LEVELS[dep]}): nothing imports upward")


def test_readme_commands_are_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_oldest_tested_versions_are_the_declared_floors():
    """tools/oldest-constraints.txt (what `python course.py oldest` tests) pins each direct
    dependency to its floor in pyproject.toml: the floor's release, at its last patch when
    the floor names no patch."""
    import re

    text = (ROOT / "pyproject.toml").read_text()
    floors = dict(re.findall(r'"([A-Za-z0-9_.-]+)>=([0-9.]+)', text))
    floors.pop("setuptools", None)
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==([0-9.]+)$",
                           (ROOT / "tools" / "oldest-constraints.txt").read_text(), re.M))
    assert set(pins) == set(floors), f"pinned {sorted(pins)} but pyproject has {sorted(floors)}"
    for name, floor in floors.items():
        assert pins[name].startswith(floor) and (
            pins[name] == floor or pins[name][len(floor)] == "."), (name, floor, pins[name])
