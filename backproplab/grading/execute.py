"""Run a notebook in a Jupyter kernel that a student's code cannot take down with it.

Each cell gets a wall-clock timeout (interrupt, then kill the kernel if the interrupt does not
stop it); the kernel inherits the address-space and CPU-time limits of this process
(:func:`~backproplab.grading.limits.apply_resource_limits`); output is
capped per cell and in total; when the kernel dies (``os._exit``, the CPU limit, an OOM kill)
the cell is marked, a fresh kernel silently re-runs the earlier cells that worked, and the
following cells run as usual, so later parts are still graded.
"""

import copy
import logging
import os
import signal
import subprocess
import tempfile
from collections import deque
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass

from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbclient.util import ensure_async

from .results import RESULT_MIMETYPE

__all__ = ["CellRun", "execute_notebook", "OK", "ERROR", "TIMEOUT", "DIED", "SKIPPED"]

# Outcome of a code cell.
OK, ERROR, TIMEOUT, DIED, SKIPPED = "ok", "error", "timeout", "died", "skipped"

_LOG = logging.getLogger(__name__)
_LOG.addHandler(logging.NullHandler())  # nbclient logs every timeout: the report says it better

# check() results are kept outside the output caps, within reason (a forged flood is not).
_RESULT_SIZE, _RESULTS_PER_CELL = 50_000, 10

# Tries to start a kernel before a submission is reported as ungradable.
_START_ATTEMPTS = 3

# The kernel's environment besides the grading flag: one BLAS thread (jobs run in parallel, and
# each thread reserves address space that counts against the memory limit), two malloc arenas.
_KERNEL_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "MALLOC_ARENA_MAX": "2", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}


@dataclass
class CellRun:
    """How a code cell went: OK, ERROR (it raised), TIMEOUT, DIED (took the kernel down) or
    SKIPPED; ``error`` is "NameError: name 'x' is not defined" and the like."""

    index: int
    status: str
    error: str = ""
    truncated: bool = False


def _death_reason(code):
    if code is None:
        return "the kernel died"
    if code < 0:
        name = signal.Signals(-code).name
        hint = {"SIGKILL": " (killed: out of memory?)", "SIGXCPU": " (CPU time limit reached)"}
        return f"the kernel was killed by {name}{hint.get(name, '')}"
    return f"the kernel exited with status {code} (os._exit or sys.exit in a thread?)"


def _output_size(content):
    """Characters an output message would add to the notebook."""
    size = len(content.get("text", "")) + sum(len(line) for line in content.get("traceback", []))
    return size + sum(len(value) if isinstance(value, str) else len(repr(value))
                      for value in content.get("data", {}).values())


class _GradingClient(NotebookClient):
    """nbclient with output caps, an interrupt-then-kill timeout, and a silent mode."""

    def __init__(self, nb, limits, sockets):
        super().__init__(nb, timeout=limits.timeout, interrupt_on_timeout=True,
                         allow_errors=True, store_widget_state=False, record_timing=False,
                         kernel_name="python3", log=_LOG,
                         shutdown_kernel="immediate",  # nothing to save: 0.3 s less per job
                         # Parallel kernels would queue on one shared history database.
                         extra_arguments=["--HistoryManager.enabled=False"])
        self.limits = limits
        self.sockets = sockets  # a folder of this client's own, for the kernel's sockets
        self.silent = False  # re-running earlier cells: outputs are dropped
        self.cell_chars, self.total_chars = {}, 0
        self.results = {}  # check() results kept per cell
        self.truncated = set()
        self.reply = None
        self.timed_out = self.interrupted = False
        self.on_cell_executed = self._remember_reply

    def create_kernel_manager(self):
        """nbclient's kernel manager, on Unix sockets in this client's own folder."""
        return on_unix_sockets(super().create_kernel_manager(), self.sockets)

    def _remember_reply(self, cell, cell_index, execute_reply):
        self.reply = execute_reply

    def output(self, outs, msg, display_id, cell_index):
        if self.silent:
            return None
        content = msg["content"]
        size = _output_size(content)
        if RESULT_MIMETYPE in content.get("data", {}) and size < _RESULT_SIZE \
                and self.results.get(cell_index, 0) < _RESULTS_PER_CELL:
            # A check() result is kept even when the student's code printed too much.
            self.results[cell_index] = self.results.get(cell_index, 0) + 1
            return super().output(outs, msg, display_id, cell_index)
        used = self.cell_chars.get(cell_index, 0)
        room = min(self.limits.cell_output - used, self.limits.total_output - self.total_chars)
        if size > room:
            if cell_index in self.truncated:
                return None
            self.truncated.add(cell_index)
            if msg["msg_type"] != "stream":
                return None
            content["text"] = content["text"][:max(room, 0)] + \
                f"\n[output truncated: more than {self.limits.cell_output} characters]\n"
            size = max(room, 0)
        self.cell_chars[cell_index] = used + size
        self.total_chars += size
        return super().output(outs, msg, display_id, cell_index)

    async def _async_handle_timeout(self, timeout, cell=None):
        # First time: interrupt (KeyboardInterrupt in the cell). If the cell still has not
        # returned a timeout later (a long C call ignores SIGINT), kill the kernel: the caller
        # restarts one.
        self.timed_out = True
        if self.interrupted:
            await ensure_async(self.km.shutdown_kernel(now=True))
            raise DeadKernelError("killed after an interrupt did not stop the cell")
        self.interrupted = True
        await ensure_async(self.km.interrupt_kernel())
        return None

    def run_cell(self, index, cell=None):
        """Run code cell ``index`` (or ``cell`` in its place) and say how it went;
        DeadKernelError if the kernel died."""
        self.reply, self.timed_out, self.interrupted = None, False, False
        self.execute_cell(cell or self.nb.cells[index], index)
        truncated = index in self.truncated
        if self.timed_out:
            return CellRun(index, TIMEOUT, f"timed out after {self.timeout} s", truncated)
        content = (self.reply or {}).get("content", {})
        if content.get("status") == "error":
            error = ": ".join(filter(None, [content.get("ename"), content.get("evalue")]))
            return CellRun(index, ERROR, error, truncated)
        return CellRun(index, OK, "", truncated)

    def replay(self, index):
        """Re-run cell ``index`` to rebuild the kernel's state, leaving the notebook as it was."""
        original = self.nb.cells[index]
        self.silent = True
        try:
            self.run_cell(index, copy.deepcopy(original))  # execute_cell clears the outputs
        finally:
            self.silent = False
            self.nb.cells[index] = original  # execute_cell stores the cell it ran

    def run_cells(self, pending, worked, runs):
        """In the current kernel: replay the cells in ``worked``, then run ``pending`` in order,
        recording each in ``runs``. Returns False when the kernel died (or was killed)."""
        try:
            for index in worked:
                self.replay(index)
        except DeadKernelError:  # a cell that worked before did not this time: try again
            return False
        while pending:
            index = pending.popleft()
            try:
                runs[index] = self.run_cell(index)
            except DeadKernelError:
                if self.timed_out:
                    reason = (f"timed out after {self.timeout} s and did not stop when "
                              "interrupted: the kernel was restarted")
                    runs[index] = CellRun(index, TIMEOUT, reason)
                else:
                    runs[index] = CellRun(index, DIED, _death_reason(self._exit_code()))
                runs[index].truncated = index in self.truncated
                return False
            if runs[index].status == OK:
                worked.append(index)
        return True

    def _exit_code(self):
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        return process.poll() if process is not None else None


def on_unix_sockets(km, folder):
    """Make the kernel manager ``km`` talk to its kernel over Unix sockets in ``folder`` (an
    absolute path, short: a socket's path has at most 104 bytes) instead of TCP ports; ``km``.

    jupyter_client picks free TCP ports before the kernel binds them, and with many kernels
    starting at once (parallel jobs, test workers) another process can take one in between
    (jupyter_client#487): the kernel dies, or the client waits a minute for an answer from a
    kernel that is not its own. A socket file of one's own has no such race.
    """
    km.transport, km.cache_ports = "ipc", False
    km.ip = os.path.join(folder, "kernel")
    return km


@contextmanager
def _started_kernel(client, **kwargs):
    """``client.setup_kernel(**kwargs)``, starting the kernel again (with a new kernel manager)
    when it fails to start before it has run anything: a busy or odd machine's doing, not the
    student's, so a submission must not score 0 for it."""
    for attempt in range(1, _START_ATTEMPTS + 1):
        kernel = ExitStack()
        try:
            kernel.enter_context(client.setup_kernel(**kwargs))
        except Exception as exc:  # RuntimeError("Kernel died before replying...") and the like
            _LOG.warning("the kernel failed to start (attempt %d): %s", attempt, exc)
            if client.km is not None:  # nbclient drops it when the client failed, not always
                with suppress(Exception):
                    client._cleanup_kernel()
            client.km = client.kc = None  # a fresh kernel manager, with sockets of its own
            if attempt == _START_ATTEMPTS:
                raise
            continue
        with kernel:  # shut down when the body is done
            yield
        return


def execute_notebook(nb, cwd, limits, env=None):
    """Execute the code cells of ``nb`` in place (outputs stored in it), in a kernel whose
    working directory is ``cwd``. Returns ({cell index: CellRun}, number of kernel deaths).

    ``env``: extra environment variables for the kernel.
    """
    kernel_env = {**os.environ, **_KERNEL_ENV, **(env or {})}
    pending = deque(i for i, cell in enumerate(nb.cells)
                    if cell.cell_type == "code" and cell.source.strip())
    runs, worked, deaths = {}, [], 0
    # A short path of its own: a Unix socket's path may not exceed 104-108 bytes.
    with tempfile.TemporaryDirectory(prefix="bpl-") as sockets:
        client = _GradingClient(nb, limits, sockets)
        while pending:
            # The kernel's own stdout/stderr (not the notebook's) would litter the terminal.
            with _started_kernel(client, cwd=str(cwd), env=kernel_env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
                if client.run_cells(pending, worked, runs):
                    break
            deaths += 1
            if deaths > limits.max_restarts:
                for index in pending:
                    runs[index] = CellRun(index, SKIPPED, "not run: the kernel died too often")
                break
    return runs, deaths
