"""poolref's adaptive max pooling against PyTorch (one thread), in one run.

Run from the repository root::

    python -m asv_bench.compare_torch_adaptive               # 4 configurations, 5 repeats
    python -m asv_bench.compare_torch_adaptive --quick       # smoke run: small batches, 2 repeats
    python -m asv_bench.compare_torch_adaptive --configs resnet,1d --repeat 9

Per configuration (float32, contiguous):

* ``fwd``: ``poolref.adaptive_max_pool{n}d(x, out)`` against ``F.adaptive_max_pool{n}d(t, out)``;
* ``fwd+idx``: the same with ``return_indices=True`` on both sides;
* ``bwd``: ``poolref.adaptive_max_pool{n}d_backward(g, x.shape, out, indices=idx)`` against
  ``torch.ops.aten.adaptive_max_pool{2,3}d_backward(g, t, idx)`` (the kernel autograd runs,
  timed alone; 1-D runs through the 2-D kernel on a view, as ``F.adaptive_max_pool1d`` does).

Ratios are poolref time / torch time (below 1 poolref is faster). Every number is the median
over ``--repeat`` samples; the variants of one operation are sampled round-robin
(interleaved), so the drifts of a shared machine hit all of them alike; one sample is the mean
over enough calls to last >= 2 ms. Before timing, the outputs are checked against torch in the
same run: values and indices exactly, gradients to rounding (``check`` column).

Defines no ``time_``/``track_`` names (asv imports every module of asv_bench) and imports
torch only when run.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from dataclasses import dataclass

import numpy as np

MIN_SAMPLE_S = 2e-3


@dataclass(frozen=True)
class Config:
    """One measured shape: name, input shape ``(N, C, *spatial)`` and output size."""

    name: str
    shape: tuple[int, ...]
    out: tuple[int, ...]

    @property
    def nd(self) -> int:
        return len(self.out)

    def describe(self) -> str:
        spatial = "x".join(map(str, self.shape[2:]))
        return f"{self.nd}-D {'x'.join(map(str, self.shape[:2]))}x{spatial} -> {'x'.join(map(str, self.out))}"


CONFIGS = (
    Config("resnet", (32, 64, 56, 56), (7, 7)),
    Config("uneven", (16, 64, 112, 112), (13, 13)),
    Config("1d", (32, 64, 4096), (100,)),
    Config("3d", (2, 64, 16, 56, 56), (4, 7, 7)),
)


def _sample(fn, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def interleaved_medians(variants: dict, repeat: int) -> dict:
    """Median seconds per call of each variant, sampled round-robin."""
    numbers = {}
    for name, fn in variants.items():
        once = _sample(fn, 1)
        numbers[name] = max(1, int(MIN_SAMPLE_S / max(once, 1e-9)))
    samples: dict = {name: [] for name in variants}
    for _ in range(repeat):
        for name, fn in variants.items():
            samples[name].append(_sample(fn, numbers[name]))
    return {name: statistics.median(s) for name, s in samples.items()}


def _ops(cfg: Config, torch):
    import poolref

    F = torch.nn.functional
    rng = np.random.default_rng(0)
    x = rng.standard_normal(cfg.shape, dtype=np.float32)
    t = torch.from_numpy(x)
    fwd = getattr(poolref, f"adaptive_max_pool{cfg.nd}d")
    bwd = getattr(poolref, f"adaptive_max_pool{cfg.nd}d_backward")
    tfwd = getattr(F, f"adaptive_max_pool{cfg.nd}d")
    y, idx = fwd(x, cfg.out, return_indices=True)
    ty, ti = tfwd(t, cfg.out, return_indices=True)
    g = rng.standard_normal(y.shape, dtype=np.float32)
    tg = torch.from_numpy(g)
    if cfg.nd == 1:  # F.adaptive_max_pool1d runs the 2-D kernel on (N, C, 1, L)

        def tbwd():
            return torch.ops.aten.adaptive_max_pool2d_backward(
                tg.unsqueeze(-2), t.unsqueeze(-2), ti.unsqueeze(-2)
            ).squeeze(-2)
    else:
        kernel = getattr(torch.ops.aten, f"adaptive_max_pool{cfg.nd}d_backward")

        def tbwd():
            return kernel(tg, t, ti)

    grad = bwd(g, x.shape, cfg.out, indices=idx)
    same = (
        np.array_equal(y, ty.numpy())
        and np.array_equal(idx, ti.numpy())
        and np.allclose(grad, tbwd().numpy(), rtol=1e-6, atol=1e-6)
    )
    ops = {
        "fwd": (lambda: fwd(x, cfg.out), lambda: tfwd(t, cfg.out)),
        "fwd+idx": (
            lambda: fwd(x, cfg.out, return_indices=True),
            lambda: tfwd(t, cfg.out, return_indices=True),
        ),
        "bwd": (lambda: bwd(g, x.shape, cfg.out, indices=idx), tbwd),
    }
    return ops, same


def main(argv: list[str] | None = None) -> int:
    """Measure, check and print the markdown table; the exit status (1 if a check failed)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--configs", help="comma-separated names: " + ",".join(c.name for c in CONFIGS)
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="batch 2, 2 repeats (smoke run)")
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    chosen = [c for c in CONFIGS if args.configs is None or c.name in args.configs.split(",")]
    repeat = 2 if args.quick else args.repeat
    print(f"poolref adaptive max pooling vs torch {torch.__version__} (1 thread), float32, "
          f"numpy {np.__version__}, {platform.machine()}, median of {repeat}\n")  # fmt: skip
    print("| configuration | op | poolref ms | torch ms | ratio | check |")
    print("|---|---|---:|---:|---:|---|")
    failed = False
    for cfg in chosen:
        if args.quick:
            cfg = Config(cfg.name, (2, 4, *cfg.shape[2:]), cfg.out)
        ops, same = _ops(cfg, torch)
        failed |= not same
        for op, (ours, theirs) in ops.items():
            m = interleaved_medians({"poolref": ours, "torch": theirs}, repeat)
            print(
                f"| {cfg.describe()} | {op} | {m['poolref'] * 1e3:.2f} | {m['torch'] * 1e3:.2f} | "
                f"{m['poolref'] / m['torch']:.2f} | {'equal' if same else 'DIFFERENT'} |"
            )
            sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
