"""pytest at the repository root: what ``--doctest-modules`` collects from ``poolref/``.

The compiled backend's modules import numba at import time; where numba is not installed
(README command 2 installs none) their doctests are not collected, instead of failing to import.
"""

from poolref._backend import numba_available

collect_ignore = (
    []
    if numba_available()
    else [
        "poolref/jit.py",
        "poolref/_jit_cores.py",
        "poolref/_jit_kernels.py",
        "poolref/_jit_fast.py",
    ]
)
