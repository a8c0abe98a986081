"""pytest set-up for the whole repository (unit tests and the notebooks nbval runs).

One BLAS thread per process: the test workers and the notebook kernels they start already
share the machine's cores, and oversubscribed OpenBLAS threads made small matrix products
10-100x slower on a 2-core machine. Kernels inherit this environment when they start.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
