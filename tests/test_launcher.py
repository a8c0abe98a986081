"""course.py: the two commands on every operating system, and what `make lab` serves.

The per-platform paths are unit tests (this machine is Linux; Windows' layout is checked by
name). The last test starts the real JupyterLab server the way `make lab` does (through
course.py, headless), asks its contents API for the root folder, and stops it by its
process id.
"""

import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("course", ROOT / "course.py")
course = importlib.util.module_from_spec(spec)
spec.loader.exec_module(course)


@pytest.mark.parametrize("platform, expected", [
    ("linux", "bin/python"), ("darwin", "bin/python"), ("win32", "Scripts/python.exe"),
    ("cygwin", "bin/python"),
])
def test_venv_python_per_platform(platform, expected):
    assert course.venv_python(Path("v"), platform) == Path("v") / expected


def test_install_is_needed_until_stamped_and_again_after_pyproject_changes(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[project]\n")
    venv = tmp_path / ".venv"
    venv.mkdir()
    assert course.needs_install(venv, pyproject)
    stamp = venv / ".installed"
    stamp.touch()
    os.utime(pyproject, (time.time() - 10, time.time() - 10))
    assert not course.needs_install(venv, pyproject)
    os.utime(pyproject, (time.time() + 10, time.time() + 10))
    assert course.needs_install(venv, pyproject)


def test_lab_opens_the_whole_course_at_the_start_page():
    cmd = course.lab_command(Path("py"), ["--no-browser"], is_root=False)
    assert cmd[:3] == ["py", "-m", "jupyterlab"]
    assert f"--ServerApp.root_dir={ROOT}" in cmd
    assert "--LabApp.default_url=/lab/tree/START_HERE.ipynb" in cmd
    assert "--allow-root" not in cmd and cmd[-1] == "START_HERE.ipynb"
    assert "--allow-root" in course.lab_command(Path("py"), is_root=True)


def test_makefile_and_ci_go_through_the_launcher():
    makefile = (ROOT / "Makefile").read_text()
    assert "course.py $@" in makefile
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    for command in ("make lab", "make test", "python course.py lab", "python course.py test"):
        assert command in readme, f"the README does not give `{command}`"


def test_the_start_page_links_every_lesson_exercise_and_solution():
    readme = (ROOT / "README.md").read_text()
    page = json.loads((ROOT / course.START_PAGE).read_text())
    text = "\n".join("".join(c["source"]) for c in page["cells"])
    lessons = sorted(set(p for p in __import__("re").findall(
        r"\]\((lessons/\d\d_[a-z_0-9]+\.ipynb)\)", readme)))
    assert lessons
    for lesson in lessons:
        stem = Path(lesson).name
        for folder in ("lessons", "exercises", "solutions"):
            link = f"({folder}/{stem})"
            assert link in text, f"the start page does not link {folder}/{stem}"
            assert (ROOT / folder / stem).exists()


def _get(url, timeout=5):
    """(status, headers, body) of a GET that does not follow redirects."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(os.name != "posix", reason="stops the server with POSIX signals")
def test_make_lab_serves_lessons_exercises_and_solutions(tmp_path):
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve() or course.needs_install():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("CI must run the tests in the course's own .venv")
        pytest.skip("run from the course's .venv (make test), so that course.py installs nothing")
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
               JUPYTER_DATA_DIR=str(tmp_path / "data"))
    log = open(tmp_path / "server.log", "w")
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "course.py"), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
         "--LabApp.news_url=None", f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
         f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if _get(f"{base}/api/status?token={token}")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "JupyterLab did not answer within 90 s"
            time.sleep(0.3)
        status, _, body = _get(f"{base}/api/contents?token={token}")
        assert status == 200
        names = {item["name"]: item["type"] for item in json.loads(body)["content"]}
        for folder in ("lessons", "exercises", "solutions"):
            assert names.get(folder) == "directory", f"{folder}/ not served: {sorted(names)}"
        assert names.get("START_HERE.ipynb") == "notebook"
        status, headers, _ = _get(f"{base}/?token={token}")
        assert status in (301, 302) and "START_HERE.ipynb" in headers["Location"]
    finally:
        server.send_signal(signal.SIGTERM)  # course.py became the server: the same PID
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    assert server.returncode is not None
