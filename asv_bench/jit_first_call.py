"""The compiled backend's first-call cost: ``python -m asv_bench.jit_first_call``.

Times ``import poolref``, the first ``max_pool2d`` (it imports numba and compiles, or loads from
numba's disk cache, the forward kernel), the first call with indices (the same kernel) and the
first two backwards, on float32 ``(2, 3, 8, 8)`` with ``kernel_size=2``. Run it twice with the
same fresh ``NUMBA_CACHE_DIR`` for the cold and the warm numbers (docs/jit.md). Defines no
``time_``/``track_`` names: asv imports it and finds no benchmark.
"""

from __future__ import annotations

import time


def main() -> int:
    t0 = time.perf_counter()
    import numpy as np

    import poolref

    t1 = time.perf_counter()
    x = np.random.default_rng(0).random((2, 3, 8, 8), dtype=np.float32)
    poolref.max_pool2d(x, 2)
    t2 = time.perf_counter()
    y, idx = poolref.max_pool2d(x, 2, return_indices=True)
    t3 = time.perf_counter()
    poolref.max_pool2d_backward(np.ones_like(y), x, 2)
    poolref.max_pool2d_backward(np.ones_like(y), x.shape, 2, indices=idx)
    t4 = time.perf_counter()
    print(
        f"backend {poolref._backend.active()}: import poolref {t1 - t0:.2f} s | first max_pool2d "
        f"{t2 - t1:.2f} s | with indices {t3 - t2:.3f} s | both backwards {t4 - t3:.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
