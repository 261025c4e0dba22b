"""poolref against PyTorch (one thread) on standard pooling shapes, in one run.

Run from the repository root::

    python -m asv_bench.compare_torch                      # 7 configurations, fast and im2col
    python asv_bench/compare_torch.py --configs 1,4 --impl fast --repeat 15
    python -m asv_bench.compare_torch --quick              # smoke run: small batches, 2 repeats
    python -m asv_bench.compare_torch --impl jit,fast --threads 2   # numba backend, 2 threads

What is measured, per configuration and poolref implementation (``--impl``):

* ``fwd``: ``impl.max_pool{n}d(x, k, s, p)`` against ``F.max_pool{n}d`` on the
  contiguous (NCHW) tensor and on a channels-last copy (NLC / NHWC / NDHWC);
* ``fwd-NHWC``: ``impl.max_pool{n}d`` on the same values over channels-last memory (a
  C-contiguous ``(N, *S, C)`` array seen as ``(N, C, *S)``) against torch on its channels-last
  tensor;
* ``bwd-x``: ``impl.max_pool{n}d_backward(g, x, ...)`` (backward from ``x``: the maxima are
  searched again) against torch's forward with indices plus the backward kernel below;
* ``saved``: the forward that keeps what backward needs. With a layer class
  (``impl.MaxPool{n}d(k, s, p).forward(x)``, "via layer") or else the
  functional forward with ``return_indices=True`` ("via idx"), against
  ``F.max_pool{n}d(..., return_indices=True)``;
* ``bwd``: ``layer.backward(g)`` (or ``impl.max_pool{n}d_backward(g, x.shape, ...,
  indices=idx)``) against ``torch.ops.aten.max_pool{2,3}d_with_indices_backward``:
  the kernel autograd runs, timed alone (no graph walk, no ``.grad`` accumulation);
* ``kept``: bytes of the arrays the layer holds between forward and backward
  (every ndarray reachable from its attributes, shared buffers counted once),
  per output element; "+x"/"+y" when one of them is the input or output;
* ``peak``: tracemalloc peak during backward (NumPy reports its buffers to
  tracemalloc), divided by the size of ``grad_input``;
* ``saved peak/x``: tracemalloc peak during the saved forward above the
  arrays it returns, divided by the size of ``x`` (docs/memory.md);
* ``%BW``: (bytes moved / time) over this machine's single-thread copy
  bandwidth, measured in the same run with ``np.copyto`` of arrays much larger
  than the caches (before and after each configuration; the best probe counts,
  as the least disturbed by other jobs). Bytes moved: fwd = x + y; saved =
  x + y + kept state; bwd = grad_output + grad_input + kept state (torch: its
  int64 indices).

``--threads N`` runs torch with ``N`` intra-op threads and poolref inside
``poolref.backend(threads=N)`` (the jit kernels' thread count; the NumPy ones ignore it).

Ratios are poolref time / torch time: below 1 poolref is faster. Every number
is the median over ``--repeat`` samples; the variants of one operation are
sampled round-robin (interleaved), so the slow drifts of a shared machine hit
all of them alike. Each sample is the mean over enough calls to last >= 2 ms.
Outputs are checked against torch first (``check``): values exactly, gradients
to rounding. A missing implementation or feature prints ``n/a`` and a footnote.

This module is imported by ``asv`` when it discovers benchmarks, and
``bench_torch.py`` reuses :func:`measure_config`; it therefore defines no
``time_``/``track_``/``peakmem_`` names and imports torch only when called.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import importlib
import math
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
import types
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

IMPLS = ("fast", "im2col", "naive", "jit")
NAIVE_MAX_ELEMENTS = 50_000  # the loop oracle only runs on tiny inputs
MIN_SAMPLE_S = 2e-3  # one sample = mean over enough calls to last this long
OPS = ("fwd", "fwd_nhwc", "saved", "bwd", "bwd_x")


@dataclass(frozen=True)
class Config:
    """One benchmark shape: ``x`` of ``shape`` pooled with an int kernel/stride/padding."""

    key: str
    label: str
    shape: tuple
    kernel_size: int
    stride: int
    padding: int = 0
    dtype: str = "float32"

    @property
    def nd(self) -> int:
        return len(self.shape) - 2

    @property
    def out_shape(self) -> tuple:
        k, s, p = self.kernel_size, self.stride, self.padding
        return (*self.shape[:2], *((n + 2 * p - k) // s + 1 for n in self.shape[2:]))

    @property
    def overlapping(self) -> bool:
        return self.stride < self.kernel_size

    def describe(self) -> str:
        dims = "×".join(map(str, self.shape))
        pad = f" p{self.padding}" if self.padding else ""
        return f"{self.label} {dims} k{self.kernel_size} s{self.stride}{pad} {self.dtype}"

    def shrunk(self) -> Config:
        """The same configuration with N <= 2 and C <= 8 (for ``--quick``)."""
        n, c, *spatial = self.shape
        return Config(
            self.key,
            self.label,
            (min(n, 2), min(c, 8), *spatial),
            self.kernel_size,
            self.stride,
            self.padding,
            self.dtype,
        )


CONFIGS = (
    Config("vgg", "VGG", (32, 64, 56, 56), 2, 2),
    Config("stem", "ResNet stem", (16, 64, 112, 112), 3, 2, 1),
    Config("overlap", "overlapping", (64, 256, 14, 14), 3, 1, 1),
    Config("tiny", "tiny", (1, 3, 32, 32), 2, 2),
    Config("vgg64", "VGG float64", (32, 64, 56, 56), 2, 2, 0, "float64"),
    Config("1d", "1-D audio", (32, 64, 4096), 3, 2, 1),
    Config("3d", "3-D video", (2, 64, 16, 56, 56), 2, 2),
)


# ----------------------------------------------------------------------------
# Targets (from the asv_bench issue); None = no target for that column.
# ----------------------------------------------------------------------------


#: the compiled backend's own targets (issue 18), where they are stricter than the others'
JIT_TARGETS = {"bwd": 1.0}


def targets(cfg: Config, impl: str | None = None) -> dict:
    """Upper bounds per column for ``cfg`` (and ``impl``): ratios, bytes per output, peak / grad_input."""
    itemsize = np.dtype(cfg.dtype).itemsize
    n_in, n_out = math.prod(cfg.shape), math.prod(cfg.out_shape)
    return {
        "fwd": 0.5,
        "fwd_cl": 2.0,
        "fwd_nhwc": 1.0,
        "saved": 1.0,
        "bwd": 6.0 if cfg.overlapping else 3.0,
        "bwd_x": 1.5,
        "kept": itemsize + 1.0,  # output + 1 byte per output element
        "peak": 1.0 + n_out / n_in,  # grad_input + one output-sized buffer
        "tiny_fwd_s": 10e-6 if cfg.key == "tiny" else None,
        "tiny_bwd_s": 20e-6 if cfg.key == "tiny" else None,
    } | (JIT_TARGETS if impl == "jit" else {})


# ----------------------------------------------------------------------------
# Timing.
# ----------------------------------------------------------------------------


def _sample(fn, prep, number: int) -> float:
    """Mean seconds per call of ``fn`` over ``number`` calls (``prep`` runs untimed before each)."""
    if prep is None:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        return (time.perf_counter() - t0) / number
    total = 0.0
    for _ in range(number):
        prep()
        t0 = time.perf_counter()
        fn()
        total += time.perf_counter() - t0
    return total / number


def interleaved_medians(variants: dict, repeat: int, errors: dict, op: str) -> dict:
    """Median seconds per call for each ``name: (fn, prep)``, sampled round-robin.

    A variant that raises is dropped and its error stored in ``errors["op/name"]``.
    """
    live = {}
    for name, (fn, prep) in variants.items():
        try:
            if prep is not None:
                prep()
            fn()  # warm-up: page faults, caches, lazy imports
            t = _sample(fn, prep, 1)
        except Exception as exc:  # noqa: BLE001 - report, never crash the table
            errors[f"{op}/{name}"] = _short(exc)
            continue
        number = 1 if t >= MIN_SAMPLE_S else min(10_000, math.ceil(MIN_SAMPLE_S / max(t, 1e-7)))
        live[name] = (fn, prep, number)
    names = list(live)
    samples = {name: [] for name in names}
    gc_enabled = gc.isenabled()
    gc.disable()
    try:
        for r in range(max(repeat, 1)):
            shift = r % len(names) if names else 0
            for name in names[shift:] + names[:shift]:
                if name not in live:
                    continue
                try:
                    samples[name].append(_sample(*live[name]))
                except Exception as exc:  # noqa: BLE001
                    errors[f"{op}/{name}"] = _short(exc)
                    del live[name]
    finally:
        if gc_enabled:
            gc.enable()
    return {name: statistics.median(v) for name, v in samples.items() if name in live and v}


def memory_bandwidth(nbytes: int = 1 << 27, repeat: int = 7) -> float:
    """Single-thread copy bandwidth in bytes/s: (read + write bytes) / median time of np.copyto."""
    src = np.ones(nbytes // 8)
    dst = np.zeros_like(src)
    times = []
    for _ in range(max(repeat, 3)):
        t0 = time.perf_counter()
        np.copyto(dst, src)
        times.append(time.perf_counter() - t0)
    return 2 * src.nbytes / statistics.median(times)


# ----------------------------------------------------------------------------
# Memory of a layer.
# ----------------------------------------------------------------------------


def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def kept_state(layer, x: np.ndarray, y: np.ndarray) -> tuple[int, str]:
    """Bytes of the distinct array buffers reachable from ``layer``'s attributes, and a note."""
    found: dict[int, np.ndarray] = {}
    seen: set[int] = set()

    def walk(obj, depth):
        if isinstance(obj, np.ndarray):
            root = _root(obj)
            found[id(root)] = root
            return
        if depth > 5 or id(obj) in seen or isinstance(obj, (type, types.ModuleType, str, bytes)):
            return
        seen.add(id(obj))
        if isinstance(obj, dict):
            for value in obj.values():
                walk(value, depth + 1)
        elif isinstance(obj, (list, tuple, set, frozenset)):
            for value in obj:
                walk(value, depth + 1)
        elif hasattr(obj, "__dict__") and not callable(obj):
            walk(vars(obj), depth + 1)

    walk(vars(layer), 0)
    notes = []
    if any(np.may_share_memory(a, x) for a in found.values()):
        notes.append("+x")
    if any(np.may_share_memory(a, y) for a in found.values()):
        notes.append("+y")
    return sum(a.nbytes for a in found.values()), "".join(notes)


def peak_above_result(fn) -> int:
    """tracemalloc peak while ``fn()`` runs, minus the bytes of the arrays it returns."""
    holder = []
    peak = peak_bytes(lambda: holder.append(fn()))
    result = holder[0] if isinstance(holder[0], tuple) else (holder[0],)
    return peak - sum(a.nbytes for a in result if isinstance(a, np.ndarray))


def peak_bytes(fn) -> int:
    """tracemalloc peak of new allocations while ``fn()`` runs (its result included)."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = fn()
        peak = tracemalloc.get_traced_memory()[1] - base
        del result
    finally:
        tracemalloc.stop()
    return peak


# ----------------------------------------------------------------------------
# One configuration.
# ----------------------------------------------------------------------------


@dataclass
class Outcome:
    """Everything measured for one configuration (times are median seconds per call)."""

    cfg: Config
    impls: tuple
    times: dict = field(default_factory=lambda: {op: {} for op in OPS})
    errors: dict = field(default_factory=dict)
    checks: dict = field(default_factory=dict)  # impl -> "ok" | "WRONG ..." | "n/a"
    via: dict = field(default_factory=dict)  # impl -> "layer" | "idx"
    kept: dict = field(default_factory=dict)  # variant -> (bytes, note)
    peak: dict = field(default_factory=dict)  # impl -> bytes
    saved_peak: dict = field(
        default_factory=dict
    )  # impl -> bytes above the saved forward's outputs
    nbytes: dict = field(default_factory=dict)  # "x", "y", "g", "gi" -> bytes
    n_out: int = 0

    def ratio(self, op: str, impl: str, ref: str = "torch") -> float | None:
        a, b = self.times[op].get(impl), self.times[op].get(ref)
        return None if a is None or b is None else a / b

    def moved(self, op: str, variant: str) -> int | None:
        """Bytes an operation must read and write (see the module docstring)."""
        nb = self.nbytes
        kept = self.kept.get(variant, (0, ""))[0]
        if op == "fwd":
            return nb["x"] + nb["y"]
        if op == "saved":
            return nb["x"] + nb["y"] + kept
        return nb["g"] + nb["gi"] + kept


def load_torch(threads: int = 1):
    """torch with ``threads`` intra-op threads (default one), or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    return torch


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ").replace("|", "/")
    return text if len(text) <= 160 else text[:157] + "..."


def _load_impl(name: str):
    return importlib.import_module(f"poolref.{name}")


def _torch_side(torch, cfg: Config, x: np.ndarray):
    """Callables for torch NCHW/channels-last forward, forward with indices, and backward."""
    f = torch.nn.functional
    nd, k, s, p = cfg.nd, cfg.kernel_size, cfg.stride, cfg.padding
    pool = getattr(f, f"max_pool{nd}d")
    xt = torch.from_numpy(x)
    if nd == 1:  # NLC: channels innermost, as channels_last does for 2-D/3-D
        x_cl = xt.transpose(1, 2).contiguous().transpose(1, 2)
    else:
        fmt = torch.channels_last if nd == 2 else torch.channels_last_3d
        x_cl = xt.contiguous(memory_format=fmt)
    y, idx = pool(xt, k, s, p, return_indices=True)
    if nd == 1:  # torch's 1-D pool is the 2-D kernel on an (N, C, 1, L) view
        op = torch.ops.aten.max_pool2d_with_indices_backward
        x4, idx4 = xt.unsqueeze(-2), idx.unsqueeze(-2)

        def backward(g):
            return op(g.unsqueeze(-2), x4, [1, k], [1, s], [0, p], [1, 1], False, idx4).squeeze(-2)
    else:
        op = getattr(torch.ops.aten, f"max_pool{nd}d_with_indices_backward")

        def backward(g):
            return op(g, xt, [k] * nd, [s] * nd, [p] * nd, [1] * nd, False, idx)

    return {
        "fwd": lambda: pool(xt, k, s, p),
        "fwd_cl": lambda: pool(x_cl, k, s, p),
        "saved": lambda: pool(xt, k, s, p, return_indices=True),
        "backward": backward,
        "backward_from_x": lambda g: (pool(xt, k, s, p, return_indices=True), backward(g)),
        "y": y.numpy(),
        "idx_bytes": idx.numel() * idx.element_size(),
    }


def _missing(module, name: str):
    """A stand-in for a function the implementation lacks: calling it explains, so the cell is n/a."""

    def call(*args, **kwargs):
        msg = f"{module.__name__} has no {name}"
        raise NotImplementedError(msg)

    return call


def _impl_side(mod, cfg: Config, x: np.ndarray, g: np.ndarray):
    """Callables for one poolref implementation, plus how it keeps state ("layer" or "idx")."""
    nd, k, s, p = cfg.nd, cfg.kernel_size, cfg.stride, cfg.padding
    names = (f"max_pool{nd}d", f"max_pool{nd}d_backward")
    pool, pool_backward = (getattr(mod, n, None) or _missing(mod, n) for n in names)
    layer_cls = getattr(mod, f"MaxPool{nd}d", None)
    x_nhwc = np.moveaxis(np.ascontiguousarray(np.moveaxis(x, 1, -1)), -1, 1)
    side = {
        "fwd": lambda: pool(x, k, s, p),
        "fwd_nhwc": lambda: pool(x_nhwc, k, s, p),
        "bwd_x": lambda: pool_backward(g, x, k, s, p),
    }
    if layer_cls is not None:
        layer = layer_cls(k, s, p)
        side.update(via="layer", layer=layer, saved=lambda: layer.forward(x))
        side["prepare_backward"] = lambda: layer.forward(x)
        side["backward"] = lambda: layer.backward(g)
    else:
        state = {}

        def prepare():
            state["idx"] = pool(x, k, s, p, return_indices=True)[1]

        side.update(via="idx", saved=lambda: pool(x, k, s, p, return_indices=True))
        side["prepare_backward"] = prepare
        side["backward"] = lambda: pool_backward(g, x.shape, k, s, p, indices=state["idx"])
        side["state"] = state
    return side


def measure_config(cfg: Config, impls, repeat: int, torch=None, *, memory: bool = True) -> Outcome:
    """Check, time and (with ``memory``) measure the memory of ``impls`` and torch on ``cfg``.

    ``torch`` is the module from :func:`load_torch` or None (then no ratios).
    """
    out = Outcome(cfg, tuple(impls))
    rng = np.random.default_rng(0)
    x = rng.standard_normal(cfg.shape, dtype=np.dtype(cfg.dtype))
    g = rng.standard_normal(cfg.out_shape, dtype=np.dtype(cfg.dtype))
    out.n_out = g.size
    out.nbytes = {"x": x.nbytes, "y": g.nbytes, "g": g.nbytes, "gi": x.nbytes}
    variants = {op: {} for op in OPS}

    ref_y = ref_gi = None
    if torch is not None:
        try:
            t = _torch_side(torch, cfg, x)
            ref_y = t["y"]
            ref_gi = t["backward"](torch.from_numpy(g)).numpy()
            gt = torch.from_numpy(g)
            variants["fwd"]["torch"] = (t["fwd"], None)
            variants["fwd"]["torch-CL"] = (t["fwd_cl"], None)
            variants["fwd_nhwc"]["torch-CL"] = (t["fwd_cl"], None)
            variants["bwd_x"]["torch"] = (lambda: t["backward_from_x"](gt), None)
            variants["saved"]["torch"] = (t["saved"], None)
            variants["bwd"]["torch"] = (lambda: t["backward"](gt), None)
            out.kept["torch"] = (t["idx_bytes"], "+x")
        except Exception as exc:  # noqa: BLE001
            out.errors["torch"] = _short(exc)
    else:
        out.errors["torch"] = "torch is not installed: no ratios"

    for name in impls:
        if name == "naive" and x.size > NAIVE_MAX_ELEMENTS:
            out.checks[name] = "n/a"
            out.errors[name] = (
                f"skipped: the loop oracle runs only on <= {NAIVE_MAX_ELEMENTS} elements"
            )
            continue
        try:
            mod = _load_impl(name)
            side = _impl_side(mod, cfg, x, g)
        except Exception as exc:  # noqa: BLE001
            out.checks[name] = "n/a"
            out.errors[name] = _short(exc)
            continue
        out.via[name] = side["via"]
        out.checks[name] = _check(side, ref_y, ref_gi, x.dtype, out.errors, name)
        variants["fwd"][name] = (side["fwd"], None)
        variants["saved"][name] = (side["saved"], None)
        variants["fwd_nhwc"][name] = (side["fwd_nhwc"], None)
        variants["bwd_x"][name] = (side["bwd_x"], None)
        try:
            side["prepare_backward"]()
            side["backward"]()
            side["backward"]()  # a second call must work too, else re-run forward before each
            prep = None
        except Exception:  # noqa: BLE001
            prep = side["prepare_backward"]
        variants["bwd"][name] = (side["backward"], prep)
        if not memory:
            continue
        try:
            if side["via"] == "layer":
                out.kept[name] = kept_state(side["layer"], x, side["layer"].forward(x))
            else:
                side["prepare_backward"]()
                out.kept[name] = (side["state"]["idx"].nbytes, "")
            out.peak[name] = peak_bytes(side["backward"])
            out.saved_peak[name] = peak_above_result(side["saved"])
        except Exception as exc:  # noqa: BLE001
            out.errors[f"mem/{name}"] = _short(exc)

    for op in OPS:
        out.times[op] = interleaved_medians(variants[op], repeat, out.errors, op)
    return out


def _check(side, ref_y, ref_gi, dtype, errors, name) -> str:
    """Compare the implementation with torch: values exactly, gradients to rounding."""
    if ref_y is None:
        return "n/a"
    problems, failed = [], False
    for what, fn, ref in (("fwd", side["fwd"], ref_y), ("saved", side["saved"], ref_y)):
        try:
            y = fn()
            y = y[0] if isinstance(y, tuple) else y
            if y.shape != ref.shape or not np.array_equal(y, ref, equal_nan=True):
                problems.append(f"{what} values differ")
        except Exception as exc:  # noqa: BLE001
            errors[f"check/{name}/{what}"] = _short(exc)
            failed = True
    try:
        side["prepare_backward"]()
        gi = side["backward"]()
        tol = 1e-5 if dtype == np.float32 else 1e-12
        if gi.shape != ref_gi.shape or not np.allclose(gi, ref_gi, rtol=tol, atol=tol):
            problems.append("bwd differs")
    except Exception as exc:  # noqa: BLE001
        errors[f"check/{name}/bwd"] = _short(exc)
        failed = True
    if problems:
        errors[f"check/{name}"] = "; ".join(problems)
        return "WRONG"
    return "partly n/a" if failed else "ok"


# ----------------------------------------------------------------------------
# Report.
# ----------------------------------------------------------------------------


def _mark(value, bound, fmt="{:.2f}") -> str:
    if value is None:
        return "n/a"
    text = fmt.format(value)
    if bound is None:
        return text
    return f"{text} {'✓' if value <= bound else '✗'}"


def _duration(seconds) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _percent_bw(out: Outcome, op: str, variant: str, bandwidth: float) -> str:
    t = out.times[op].get(variant)
    if t is None or not bandwidth:
        return "n/a"
    return f"{100 * out.moved(op, variant) / t / bandwidth:.0f}%"


def ratio_table(outcomes, bandwidth: float) -> list[str]:
    """Markdown table: one target row and one row per implementation (and torch) per config."""
    head = (
        "| # | config | impl | via | check | fwd/torch | fwd/torch-CL | fwd-NHWC/torch-CL "
        "| saved/torch-idx | bwd/torch | bwd-x/torch-idx+bwd | kept B/out | bwd peak/gi | saved peak/x | %BW fwd | %BW saved | %BW bwd |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for num, out in outcomes:
        cfg, tg = out.cfg, targets(out.cfg)
        bwd_target = f"≤ {tg['bwd']:g}" + (
            f" (jit ≤ {JIT_TARGETS['bwd']:g})" if "jit" in out.impls else ""
        )
        lines.append(
            f"| {num} | {cfg.describe()} | target | | | ≤ {tg['fwd']:g} | ≤ {tg['fwd_cl']:g} "
            f"| ≤ {tg['fwd_nhwc']:g} | ≤ {tg['saved']:g} | {bwd_target} | ≤ {tg['bwd_x']:g} | ≤ {tg['kept']:g} | ≤ {tg['peak']:.3g} | ≤ 1 | | | |"
        )
        if "torch" in out.times["fwd"]:
            kept = out.kept.get("torch", (0, ""))
            lines.append(
                f"| | | torch | idx | ref | 1 | {_mark(out.ratio('fwd', 'torch', 'torch-CL'), None)} "
                "| 1 | 1 | 1 | 1 "
                f"| {kept[0] / out.n_out:.2g} {kept[1]} | | | {_percent_bw(out, 'fwd', 'torch', bandwidth)} "
                f"| {_percent_bw(out, 'saved', 'torch', bandwidth)} | {_percent_bw(out, 'bwd', 'torch', bandwidth)} |"
            )
        for impl in out.impls:
            tg = targets(cfg, impl)
            kept = out.kept.get(impl)
            kept_text = (
                "n/a"
                if kept is None
                else f"{_mark(kept[0] / out.n_out, tg['kept'], '{:.3g}')} {kept[1]}".rstrip()
            )
            peak = out.peak.get(impl)
            peak_text = _mark(None if peak is None else peak / out.nbytes["gi"], tg["peak"])
            saved_peak = out.saved_peak.get(impl)
            saved_peak_text = _mark(
                None if saved_peak is None else saved_peak / out.nbytes["x"], 1.0
            )
            lines.append(
                f"| | | {impl} | {out.via.get(impl, 'n/a')} | {out.checks.get(impl, 'n/a')} "
                f"| {_mark(out.ratio('fwd', impl), tg['fwd'])} "
                f"| {_mark(out.ratio('fwd', impl, 'torch-CL'), tg['fwd_cl'])} "
                f"| {_mark(out.ratio('fwd_nhwc', impl, 'torch-CL'), tg['fwd_nhwc'])} "
                f"| {_mark(out.ratio('saved', impl), tg['saved'])} "
                f"| {_mark(out.ratio('bwd', impl), tg['bwd'])} "
                f"| {_mark(out.ratio('bwd_x', impl), tg['bwd_x'])} | {kept_text} | {peak_text} | {saved_peak_text} "
                f"| {_percent_bw(out, 'fwd', impl, bandwidth)} | {_percent_bw(out, 'saved', impl, bandwidth)} "
                f"| {_percent_bw(out, 'bwd', impl, bandwidth)} |"
            )
    return lines


def absolute_table(outcomes) -> list[str]:
    """Markdown table of the absolute medians (tiny config: with its µs targets)."""
    lines = [
        "| # | config | variant | fwd | fwd-NHWC | saved | bwd | bwd-x |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for num, out in outcomes:
        tg = targets(out.cfg)
        names = [n for n in ("torch", "torch-CL") if n in out.times["fwd"]] + list(out.impls)
        for i, name in enumerate(names):
            fwd, nhwc, saved, bwd, bwd_x = (out.times[op].get(name) for op in OPS)
            is_impl = name in out.impls
            fwd_text = _duration(fwd)
            bwd_text = _duration(bwd)
            if is_impl and tg["tiny_fwd_s"] is not None and fwd is not None:
                fwd_text += f" {'✓' if fwd < tg['tiny_fwd_s'] else '✗'} (< 10 µs)"
            if is_impl and tg["tiny_bwd_s"] is not None and bwd is not None:
                bwd_text += f" {'✓' if bwd < tg['tiny_bwd_s'] else '✗'} (< 20 µs)"
            label = f"| {num} | {out.cfg.key} " if i == 0 else "| | "
            lines.append(
                f"{label}| {name} | {fwd_text} | {_duration(nhwc)} | {_duration(saved)} "
                f"| {bwd_text} | {_duration(bwd_x)} |"
            )
    return lines


def _git_state(rel_path: str) -> str:
    root = Path(__file__).resolve().parents[1]
    try:
        log = subprocess.run(
            [
                "git",
                "-C",
                str(root),
                "log",
                "-1",
                "--format=%h %cd",
                "--date=short",
                "--",
                rel_path,
            ],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", rel_path],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown (no git)"
    if status.startswith("??"):
        return "untracked (not committed yet)"
    if not log:
        return "not in git"
    return log + (" + uncommitted changes" if status else "")


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def select_configs(spec: str) -> list[tuple[int, Config]]:
    """``"all"`` or comma-separated numbers (1-based) and/or keys, e.g. ``"1,tiny,3d"``."""
    numbered = list(enumerate(CONFIGS, start=1))
    if spec.strip() == "all":
        return numbered
    chosen = []
    for item in (s.strip() for s in spec.split(",") if s.strip()):
        match = [(n, c) for n, c in numbered if item == str(n) or item == c.key]
        if not match:
            keys = ", ".join(f"{n}={c.key}" for n, c in numbered)
            msg = f"--configs: unknown configuration {item!r}; choose from {keys} or 'all'"
            raise SystemExit(msg)
        chosen.extend(m for m in match if m not in chosen)
    return chosen


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m asv_bench.compare_torch",
        description="Ratios of poolref implementations to torch (1 thread), memory kept and "
        "fraction of memory bandwidth, as a markdown table.",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="interleaved samples per variant, median reported (default 7; 2 with --quick)",
    )
    parser.add_argument(
        "--configs",
        default="all",
        help="'all' or comma-separated numbers/keys: "
        + ", ".join(f"{n}={c.key}" for n, c in enumerate(CONFIGS, start=1)),
    )
    parser.add_argument(
        "--impl",
        default="fast,im2col",
        help=f"comma-separated poolref implementations among {', '.join(IMPLS)} "
        "(naive runs on the tiny configuration only)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: N <= 2, C <= 8, 2 repeats, small bandwidth probe",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="intra-op threads for torch and for poolref's jit kernels (default 1)",
    )
    parser.add_argument(
        "--adaptive",
        action="store_true",
        help="also the adaptive max pooling rows (asv_bench/compare_torch_adaptive.py)",
    )
    args = parser.parse_args(argv)
    impls = [s.strip() for s in args.impl.split(",") if s.strip()]
    unknown = [s for s in impls if s not in IMPLS]
    if unknown:
        parser.error(f"--impl: unknown implementation(s) {unknown}; choose from {', '.join(IMPLS)}")
    repeat = args.repeat if args.repeat is not None else (2 if args.quick else 7)
    configs = select_configs(args.configs)
    if args.quick:
        configs = [(n, c.shrunk()) for n, c in configs]

    # before anything is imported: the code measured is the code on disk now
    sources = {impl: _git_state(f"poolref/{impl}.py") for impl in impls}
    if args.threads < 1:
        parser.error(f"--threads must be >= 1, got --threads {args.threads}")
    torch = load_torch() if args.threads == 1 else load_torch(args.threads)
    import poolref

    started = time.perf_counter()
    probe_bytes = 1 << 25 if args.quick else 1 << 27
    probes = [memory_bandwidth(probe_bytes, 3 if args.quick else 7)]
    outcomes = []
    for num, cfg in configs:
        print(f"measuring {num}: {cfg.describe()} ...", file=sys.stderr, flush=True)
        with poolref.backend("auto", threads=args.threads):
            outcomes.append((num, measure_config(cfg, impls, repeat, torch)))
        probes.append(memory_bandwidth(probe_bytes, 3 if args.quick else 5))
    # the machine is shared: the least disturbed probe is the best estimate of its bandwidth
    bandwidth = max(probes)

    print(f"# poolref vs torch ({datetime.date.today()}, {platform.node()}, {_cpu_name()})\n")
    print(
        f"- numpy {np.__version__}, torch {torch.__version__ + f' ({args.threads} thread(s))' if torch else 'not installed'}, "
        f"poolref jit threads={args.threads}, "
        f"Python {platform.python_version()}; repeat={repeat} interleaved, medians"
        + ("; --quick: N <= 2, C <= 8" if args.quick else "")
    )
    for impl, state in sources.items():
        print(f"- poolref/{impl}.py: {state}")
    print(
        f"- single-thread copy bandwidth (np.copyto of 2 x {probe_bytes >> 20} MiB, read + write): "
        f"{bandwidth / 1e9:.1f} GB/s, the best of {len(probes)} probes (before and after each configuration; "
        f"lowest {min(probes) / 1e9:.1f})"
    )
    print(f"- measured in {time.perf_counter() - started:.1f} s\n")
    print(
        "Ratios = poolref time / torch time (lower is better; ✓ meets the target row above it). "
        "kept B/out = bytes held between forward and backward per output element. "
        "bwd peak/gi = tracemalloc peak during backward / grad_input bytes; "
        "saved peak/x = tracemalloc peak during the saved forward above its outputs / x bytes.\n"
    )
    big = [str(num) for num, out in outcomes if max(out.nbytes.values()) > 32 << 20]
    if big:
        print(
            "Configs "
            + ", ".join(big)
            + " allocate arrays over 32 MiB: glibc malloc maps those fresh "
            "on every call, so each call also pays their page faults (torch and poolref alike).\n"
        )
    print("\n".join(ratio_table(outcomes, bandwidth)))
    print("\nAbsolute medians per call:\n")
    print("\n".join(absolute_table(outcomes)))
    notes = [(num, key, msg) for num, out in outcomes for key, msg in out.errors.items()]
    if notes:
        print("\nNotes (why a cell is n/a or WRONG):\n")
        for num, key, msg in notes:
            print(f"- config {num}, {key}: {msg}")
    if args.adaptive:  # adaptive max pooling against torch's, in the same run
        try:
            from . import compare_torch_adaptive
        except ImportError:  # run as a script: asv_bench/ is on sys.path
            import compare_torch_adaptive  # type: ignore[no-redef]

        print("\n## Adaptive max pooling\n", flush=True)
        return compare_torch_adaptive.main(["--repeat", str(repeat)] + ["--quick"] * args.quick)
    return 0


if __name__ == "__main__":
    if __package__ in (
        None,
        "",
    ):  # `python asv_bench/compare_torch.py`: find poolref in the checkout
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.exit(main())
