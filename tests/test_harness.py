"""The test harness itself (root conftest.py): how nbval's notebook kernels are started."""

import os

import nbval.kernel
import pytest


@pytest.mark.skipif(os.name != "posix", reason="Unix sockets")
def test_nbval_kernels_talk_over_unix_sockets_in_a_short_private_folder():
    km = nbval.kernel.KernelManager(kernel_name="python3")
    assert km.transport == "ipc" and not km.cache_ports
    folder = os.path.dirname(km.ip)
    assert os.path.isdir(folder) and oct(os.stat(folder).st_mode & 0o777) == "0o700"
    assert len(f"{km.ip}-99") < 100  # a Unix socket's path has at most 104 bytes (macOS)
