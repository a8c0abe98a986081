"""Make sure a Chromium browser is on PATH for the real-browser tests.

Called by ``make test`` before pytest.

* Chromium already on PATH: print nothing, exit 0 (fast no-op).
* Missing, running as root and ``apt-get`` available: ``apt-get update`` then
  ``apt-get install -y --no-install-recommends chromium``, output going to a log
  file; print one line saying what was done.
* Missing and it cannot be installed (not root, no apt-get, install failed):
  print a clear message.  Exit non-zero only when ``CI=true`` (in CI a missing
  browser is a failure); locally exit 0 so the other tests still run (the
  browser test then skips with a clear reason, but fails when ``CI=true``).

Playwright's own ``playwright install`` is deliberately not used: it cannot
download browsers on the machines this course targets; the tests launch the
system Chromium through Playwright's ``executable_path`` instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BROWSER = "chromium"
REPO = Path(__file__).resolve().parent.parent


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def log_path() -> Path:
    art = REPO / "test-artifacts"
    try:
        art.mkdir(parents=True, exist_ok=True)
        return art / "ensure_browser.log"
    except OSError:
        return Path(tempfile.gettempdir()) / "backproplab-ensure_browser.log"


def cannot(reason: str) -> int:
    ci = in_ci()
    verdict = "failing because CI=true" if ci else "browser tests will be skipped"
    print(
        f"ensure_browser: {BROWSER} is not on PATH and {reason}; {verdict}. "
        f"Install it yourself (Debian/Ubuntu: sudo apt-get install chromium).",
        file=sys.stderr if ci else sys.stdout,
    )
    return 1 if ci else 0


def install_with_apt(apt: str) -> int:
    log = log_path()
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    start = time.monotonic()
    with open(log, "w") as out:
        for cmd in (
            [apt, "update"],
            [apt, "install", "-y", "--no-install-recommends", BROWSER],
        ):
            out.write(f"$ {' '.join(cmd)}\n")
            out.flush()
            rc = subprocess.call(cmd, stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, env=env)
            if rc != 0:
                return cannot(f"'{' '.join(cmd)}' failed with exit code {rc} (see {log})")
    found = shutil.which(BROWSER)
    if not found:
        return cannot(f"apt-get installed it but it is still not on PATH (see {log})")
    print(f"ensure_browser: installed {BROWSER} with apt-get in "
          f"{time.monotonic() - start:.0f} s -> {found} (log: {log})")
    return 0


def main() -> int:
    if shutil.which(BROWSER):
        return 0
    apt = shutil.which("apt-get")
    if apt is None:
        return cannot("apt-get is not available to install it")
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return cannot("installing it needs root (apt-get)")
    return install_with_apt(apt)


if __name__ == "__main__":
    sys.exit(main())
