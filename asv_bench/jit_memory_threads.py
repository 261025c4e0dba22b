"""What the machine gives a memory-bound kernel with more threads: one interleaved run, a table.

``python -m asv_bench.jit_memory_threads [--threads 2] [--mib 51] [--repeat 15]``

The backward from indices writes a fresh ``grad_input`` and scatters into it: it is bound by
memory traffic and by the page faults of the new array, not by arithmetic. This script times,
with one thread and with ``--threads`` numba threads (interleaved, medians):

- ``fill``: zeroing a preallocated array of ``--mib`` MiB (write bandwidth alone);
- ``new + fill``: ``np.empty`` of that size, then zeroing it (the page faults too), with NumPy's
  transparent-huge-page advice on (its default on Linux) and off.

A speed-up well under the thread count in the first row means that a memory-bound kernel cannot
scale further on this machine, whoever writes it (``asv_bench/jit_threads.py`` prints torch's
speed-up on the same operations for the same reason). Defines no ``time_``/``track_`` names:
asv imports it and finds no benchmark.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from .jit_threads import numba_with


def _kernels():
    from numba import njit, prange

    @njit(parallel=True, cache=False)
    def zero(a):
        for i in prange(a.shape[0]):
            a[i] = 0.0

    return zero


def _huge_pages(on: bool) -> None:
    from numpy._core import multiarray

    multiarray._set_madvise_hugepage(on)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m asv_bench.jit_memory_threads")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--mib", type=float, default=51.0, help="array size (the stem: 51)")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    numba = numba_with(args.threads)
    if numba is None:
        return 1
    zero = _kernels()
    n = int(args.mib * 2**20) // 4
    pre = np.empty(n, dtype=np.float32)
    zero(pre)  # compiled, pages faulted in
    ops = {
        "fill": lambda: zero(pre),
        "new + fill, huge pages": lambda: (_huge_pages(True), zero(np.empty(n, np.float32))),
        "new + fill, no huge pages": lambda: (_huge_pages(False), zero(np.empty(n, np.float32))),
    }
    samples: dict = {(op, t): [] for op in ops for t in (1, args.threads)}
    try:
        for _ in range(args.repeat):
            for op, fn in ops.items():
                for t in (1, args.threads):
                    numba.set_num_threads(t)
                    start = time.perf_counter()
                    fn()
                    samples[op, t].append(time.perf_counter() - start)
    finally:
        _huge_pages(True)
    print(
        f"# {args.mib:g} MiB float32, 1 thread against {args.threads}, medians of {args.repeat}\n"
    )
    print(f"| op | 1 thread | {args.threads} threads | speed-up |")
    print("|---|---|---|---|")
    for op in ops:
        one = statistics.median(samples[op, 1])
        many = statistics.median(samples[op, args.threads])
        print(f"| {op} | {one * 1e3:.2f} ms | {many * 1e3:.2f} ms | {one / many:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
