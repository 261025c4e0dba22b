"""How much faster ``poolref.jit`` runs with more threads: one interleaved run, a table.

``python -m asv_bench.jit_threads [--threads 2] [--configs vgg,stem,overlap] [--repeat 7]``

For each configuration of :mod:`asv_bench.compare_torch` it times the compiled forward, the
forward with indices, the backward from indices and the backward from ``x`` with one thread and
with ``--threads`` threads (``poolref.backend("jit", threads=n)``), interleaved, and prints the
median of each and the speed-up ``t(1) / t(n)``; the results of the two thread counts must be
identical (the table says "same" or names what differs). On a machine with fewer free cores
than ``--threads`` the speed-up says so: measure on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from .compare_torch import _duration, interleaved_medians, select_configs

OPS = ("fwd", "fwd+idx", "bwd idx", "bwd x")


def _calls(cfg, threads: int):
    import poolref
    from poolref import jit

    nd, k, s, p = cfg.nd, cfg.kernel_size, cfg.stride, cfg.padding
    rng = np.random.default_rng(0)
    x = rng.standard_normal(cfg.shape, dtype=np.dtype(cfg.dtype))
    g = rng.standard_normal(cfg.out_shape, dtype=np.dtype(cfg.dtype))
    pool, backward = getattr(jit, f"max_pool{nd}d"), getattr(jit, f"max_pool{nd}d_backward")
    idx = pool(x, k, s, p, return_indices=True)[1]

    def on(n, fn):
        def call():
            with poolref.backend("jit", threads=n):
                return fn()

        return call

    ops = {
        "fwd": lambda: pool(x, k, s, p),
        "fwd+idx": lambda: pool(x, k, s, p, return_indices=True),
        "bwd idx": lambda: backward(g, x.shape, k, s, p, indices=idx),
        "bwd x": lambda: backward(g, x, k, s, p),
    }
    return {op: {n: on(n, fn) for n in (1, threads)} for op, fn in ops.items()}


def _same(a, b) -> bool:
    pairs = zip(a, b) if isinstance(a, tuple) else [(a, b)]
    return all(np.array_equal(u, v, equal_nan=True) for u, v in pairs)


def measure(cfg, threads: int, repeat: int) -> list[str]:
    """One table row per operation: both medians, the speed-up, whether the results agree."""
    rows = []
    for op, variants in _calls(cfg, threads).items():
        same = _same(variants[1](), variants[threads]())
        errors: dict = {}
        times = interleaved_medians(
            {n: (fn, None) for n, fn in variants.items()}, repeat, errors, op
        )
        if len(times) < 2:
            rows.append(f"| {cfg.describe()} | {op} | n/a | n/a | n/a | {errors} |")
            continue
        speedup = times[1] / times[threads]
        rows.append(
            f"| {cfg.describe()} | {op} | {_duration(times[1])} | {_duration(times[threads])} "
            f"| {speedup:.2f}x | {'same' if same else 'DIFFERENT'} |"
        )
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m asv_bench.jit_threads", description=__doc__)
    parser.add_argument("--threads", type=int, default=2, help="the thread count to compare with 1")
    parser.add_argument("--configs", default="vgg,stem,overlap", help="as in compare_torch")
    parser.add_argument("--repeat", type=int, default=7, help="interleaved samples, median")
    args = parser.parse_args(argv)
    try:
        import numba
    except ImportError:
        print("needs numba: pip install 'poolref[jit]'", file=sys.stderr)
        return 1
    if args.threads > numba.config.NUMBA_NUM_THREADS:  # type: ignore[attr-defined]
        print(f"numba has {numba.config.NUMBA_NUM_THREADS} threads", file=sys.stderr)  # type: ignore[attr-defined]
        return 1
    print(f"# poolref.jit: 1 thread against {args.threads} ({os.cpu_count()} CPUs)\n")
    print(f"| config | op | 1 thread | {args.threads} threads | speed-up | results |")
    print("|---|---|---|---|---|---|")
    for _, cfg in select_configs(args.configs):
        for row in measure(cfg, args.threads, args.repeat):
            print(row, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
