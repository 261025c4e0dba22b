"""How much faster ``poolref.jit`` runs with more threads: one interleaved run, a table.

``python -m asv_bench.jit_threads [--threads 2] [--configs vgg,stem,overlap] [--repeat 7] [--no-torch]``

For each configuration of :mod:`asv_bench.compare_torch` it times the compiled forward, the
forward with indices, the backward from indices and the backward from ``x`` with one thread and
with ``--threads`` threads (``poolref.backend("jit", threads=n)``), interleaved, and prints the
median of each and the speed-up ``t(1) / t(n)``; the results of the two thread counts must be
identical (the table says "same" or names what differs). On a machine with fewer free cores
than ``--threads`` the speed-up says so: measure on an otherwise idle machine.

When torch is installed, the same run times torch's op with 1 and ``--threads`` intra-op threads
(``torch.set_num_threads``), interleaved with poolref's, and prints torch's speed-up beside
poolref's: what the machine allows for that op (an op bound by memory bandwidth scales only as
far as the machine's bandwidth does, whoever implements it). ``--no-torch`` leaves it out.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from .compare_torch import _duration, _torch_side, interleaved_medians, load_torch, select_configs

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


def _torch_calls(torch, cfg, threads: int):
    """torch's op per name of :data:`OPS`, as ``{n: call}`` with ``n`` intra-op threads."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(cfg.shape, dtype=np.dtype(cfg.dtype))
    g = torch.from_numpy(rng.standard_normal(cfg.out_shape, dtype=np.dtype(cfg.dtype)))
    side = _torch_side(torch, cfg, x)
    ops = {
        "fwd": side["fwd"],
        "fwd+idx": side["saved"],
        "bwd idx": lambda: side["backward"](g),
        "bwd x": lambda: side["backward_from_x"](g),
    }

    def on(n, fn):
        def call():
            torch.set_num_threads(n)
            return fn()

        return call

    return {op: {n: on(n, fn) for n in (1, threads)} for op, fn in ops.items()}


def _same(a, b) -> bool:
    pairs = zip(a, b) if isinstance(a, tuple) else [(a, b)]
    return all(np.array_equal(u, v, equal_nan=True) for u, v in pairs)


def measure(cfg, threads: int, repeat: int, torch=None) -> list[str]:
    """One table row per operation: both medians, the speed-up, whether the results agree.

    With ``torch``, torch's op is timed in the same interleaved run and its speed-up is added.
    """
    rows = []
    theirs = _torch_calls(torch, cfg, threads) if torch is not None else {}
    for op, variants in _calls(cfg, threads).items():
        same = _same(variants[1](), variants[threads]())
        errors: dict = {}
        timed = {("poolref", n): (fn, None) for n, fn in variants.items()}
        timed.update({("torch", n): (fn, None) for n, fn in theirs.get(op, {}).items()})
        times = interleaved_medians(timed, repeat, errors, op)
        if torch is not None:
            torch.set_num_threads(1)
        mine = [times.get(("poolref", n)) for n in (1, threads)]
        if None in mine:
            rows.append(f"| {cfg.describe()} | {op} | n/a | n/a | n/a | {errors} |")
            continue
        row = (
            f"| {cfg.describe()} | {op} | {_duration(mine[0])} | {_duration(mine[1])} "
            f"| {mine[0] / mine[1]:.2f}x | {'same' if same else 'DIFFERENT'} |"
        )
        if torch is not None:
            t1, tn = times.get(("torch", 1)), times.get(("torch", threads))
            row += f" {t1 / tn:.2f}x |" if t1 and tn else f" n/a {errors} |"
        rows.append(row)
    return rows


def numba_with(threads: int):
    """numba, or None after saying on stderr why not: it is not installed, or it started with
    fewer than ``threads`` threads (``NUMBA_NUM_THREADS``)."""
    try:
        import numba
    except ImportError:
        print("needs numba: pip install 'poolref[jit]'", file=sys.stderr)
        return None
    if threads > numba.config.NUMBA_NUM_THREADS:  # type: ignore[attr-defined]
        print(f"numba has {numba.config.NUMBA_NUM_THREADS} threads", file=sys.stderr)  # type: ignore[attr-defined]
        return None
    return numba


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m asv_bench.jit_threads", description=__doc__)
    parser.add_argument("--threads", type=int, default=2, help="the thread count to compare with 1")
    parser.add_argument("--configs", default="vgg,stem,overlap", help="as in compare_torch")
    parser.add_argument("--repeat", type=int, default=7, help="interleaved samples, median")
    parser.add_argument("--no-torch", action="store_true", help="leave out torch's speed-up")
    args = parser.parse_args(argv)
    if numba_with(args.threads) is None:
        return 1
    torch = None if args.no_torch else load_torch()
    print(f"# poolref.jit: 1 thread against {args.threads} ({os.cpu_count()} CPUs)\n")
    head = f"| config | op | 1 thread | {args.threads} threads | speed-up | results |"
    print(head + (" torch's speed-up |" if torch is not None else ""))
    print("|---|---|---|---|---|---|" + ("---|" if torch is not None else ""))
    for _, cfg in select_configs(args.configs):
        for row in measure(cfg, args.threads, args.repeat, torch):
            print(row, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
