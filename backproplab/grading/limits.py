"""What one submission may use, and how the limits are put on the process that runs it."""

import resource
from dataclasses import dataclass

__all__ = ["Limits", "apply_resource_limits"]


@dataclass(frozen=True)
class Limits:
    """Per submission. The CPU limit covers a kernel's whole life."""

    timeout: int = 120  # wall-clock seconds per cell
    memory_mb: int = 2048  # RLIMIT_AS of the kernel
    cpu_seconds: int = 600  # RLIMIT_CPU of the kernel
    cell_output: int = 100_000  # characters of output kept per cell
    total_output: int = 1_000_000  # characters of output kept per notebook
    max_restarts: int = 3  # kernel deaths tolerated before the remaining cells are skipped


def apply_resource_limits(limits):
    """Limit this process, hence the kernels it starts (children inherit rlimits).

    Call it in a worker process dedicated to one submission: the limits cannot be raised again.
    """
    memory = limits.memory_mb * 2 ** 20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # Soft limit: SIGXCPU (kills the kernel); hard limit a little later: SIGKILL.
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
