"""A *foreign floating-point* environment: this machine made to round like another CPU.

The same code, numpy and seed give different last bits on different CPUs, because

* numpy picks a SIMD kernel for exp, log, tanh, sums ... by CPU feature at import time
  (AVX-512, AVX2 and SSE versions round differently), and
* OpenBLAS picks a matrix-product kernel per CPU (Haswell, SkylakeX, Zen, Nehalem ...),
  and each adds up in its own order.

A student's laptop differs from the machine that stored a lesson's outputs in both. To prove
that no checked output depends on them, the test suite runs every lesson twice (root
``conftest.py``): natively, and in a kernel started with the environment below, which

* lowers numpy's SIMD dispatch to the baseline: ``NPY_DISABLE_CPU_FEATURES`` names every
  dispatch target this CPU has above it (read from numpy, not hard-coded: ``X86_V3 X86_V4
  AVX512_ICL AVX512_SPR`` with numpy 2.4 on an AVX-512 x86-64, ``AVX2 FMA3 ...`` with numpy
  1.x, ``ASIMDHP ...`` on ARM), and
* forces OpenBLAS onto another kernel with ``OPENBLAS_CORETYPE`` (``Nehalem`` on x86-64,
  ``ARMV8`` on ARM; when that is the native kernel already, ``Sandybridge`` / ``NEOVERSEN1``).

Run ``python tools/foreign_fp.py`` to print the environment and confirm, in a fresh process,
that both changes took effect. It needs numpy; threadpoolctl (a test dependency) reports the
OpenBLAS kernel. With a BLAS other than OpenBLAS (Accelerate on macOS, MKL) only the numpy
half applies.
"""

import json
import os
import platform
import subprocess
import sys

# OpenBLAS kernel to force, and the second choice when the first is the native one.
_CORETYPES = {"x86_64": ("Nehalem", "Sandybridge"), "AMD64": ("Nehalem", "Sandybridge"),
              "aarch64": ("ARMV8", "NEOVERSEN1"), "arm64": ("ARMV8", "NEOVERSEN1")}

_PROBE = """
import json, numpy
try:
    from numpy._core import _multiarray_umath as m
except ImportError:  # numpy 1.x
    from numpy.core import _multiarray_umath as m
try:
    import threadpoolctl
    blas = [i.get("architecture") for i in threadpoolctl.threadpool_info()
            if i.get("internal_api") == "openblas"]
except ImportError:
    blas = []
print(json.dumps({"dispatch": list(m.__cpu_dispatch__),
                  "on": sorted(k for k, v in m.__cpu_features__.items() if v),
                  "openblas": blas[0] if blas else None}))
"""


def probe(env=None):
    """What a fresh Python started with ``env`` sees: numpy's dispatch targets, the CPU
    features numpy uses, and the OpenBLAS kernel (None without OpenBLAS/threadpoolctl)."""
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def foreign_env(native=None):
    """The variables to add to ``os.environ`` for the foreign pass, as a dict."""
    native = native or probe()
    disable = [f for f in native["dispatch"] if f in native["on"]]
    first, second = _CORETYPES.get(platform.machine(), (None, None))
    env = {}
    if disable:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(disable)
    if native["openblas"] and first:
        env["OPENBLAS_CORETYPE"] = second if native["openblas"] == first else first
    return env


def describe():
    """(env, one line saying what changed), checked in a process started with ``env``."""
    native = probe()
    env = foreign_env(native)
    foreign = probe({**os.environ, **env})
    lost = [f for f in native["on"] if f not in foreign["on"]]
    parts = []
    if env.get("NPY_DISABLE_CPU_FEATURES"):
        parts.append(f"numpy SIMD dispatch without {env['NPY_DISABLE_CPU_FEATURES']} "
                     f"({len(lost)} CPU features off)")
    if env.get("OPENBLAS_CORETYPE"):
        parts.append(f"OpenBLAS kernel {native['openblas']} -> {foreign['openblas']}")
    return env, "; ".join(parts) or "nothing to change on this machine"


if __name__ == "__main__":
    env, line = describe()
    print(line)
    for key, value in env.items():
        print(f"{key}={value!r}" if " " in value else f"{key}={value}")
