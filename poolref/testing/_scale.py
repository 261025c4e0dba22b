"""Scale cases: inputs big enough to reach the seams of optimised kernels.

Optimised max-pool kernels are built from a vector body of 8/16/32/64 lanes
plus a scalar tail, row blocks, worker chunks over ``N * C``, a channels-last
path vectorised over ``C``, specialised 2x2/stride-2 paths, merges for large
kernels and indices held in narrow types. Their bugs show only past those
seams, never on the tiny inputs of the corner cases and the Hypothesis search.

A scale case is a :class:`ScaleSpec`: shapes and parameters placed on and
around the seams (``W``, ``H``, ``D`` near ``1..3 x {8, 16, 32, 64, 128}``
``+- {0, 1, kernel - 1}``, output widths crossing a tile, ``N * C`` prime or
a multiple of 2..64, channels-last ``C`` in ``{1, 3, 8, 16, 17, 64, 65,
256}``, planes above ``2^11``, ``2^15``, ``2^16`` and ``2^24`` elements,
kernels above 7 and above 255 taps, stride > kernel), and hard values planted
at chosen positions (ties across a tile boundary, NaN in the last tile,
+-inf, -0.0 beside +0.0, all -inf windows in the tail and the first corner,
negative values next to the padding). :meth:`ScaleSpec.build` makes the
input from a seeded ``np.random.Generator`` in a few whole-array calls.

The expected results come from :mod:`poolref.fast` (values, indices, and
the gradient from ``poolref.fast.max_pool*d_backward``), so the harness's
work per case is a small multiple of the input: no loop over outputs, no
per-output tap table. A failing case is shrunk (fewer planes, then the
smallest size past the seam along each axis) before it is reported.

Where a declared :class:`~poolref.testing.Behaviour` differs from PyTorch's
in a way :mod:`poolref.fast` cannot express, the difference is kept out of
the cases instead (see :func:`_plantable`): no NaN unless ``nan`` is
``"last"`` or ``"propagate"``, no ties (distinct values) with ``ties="any"``,
no lowest values next to padding with ``padding="compared"``, and never an
empty window (no dilation together with padding).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .._params import PoolParams, lowest, output_shape
from ._declare import _import_source
from ._index import FORMAT_TEXT, encode

__all__ = ["DEFAULT_MAX_ELEMENTS", "SCALE_BUDGETS", "ScaleSpec", "run_scale", "scale_specs"]

#: The tile widths whose multiples the sizes sit around.
MULTIPLES = (8, 16, 32, 64, 128)
#: Default memory cap: elements of one scale case's input.
DEFAULT_MAX_ELEMENTS = 1 << 22
#: Per named budget: the default cap on one case, on the sum over a rank's cases, the number of
#: extra draws from the seam grid, and the wall time after which a rank's remaining cases are
#: skipped (a bounded share for slow candidates, e.g. pure-Python loops; the summary lists them).
SCALE_BUDGETS = {
    "quick": {"max_elements": DEFAULT_MAX_ELEMENTS, "total_elements": 12_000_000, "grid": 0, "seconds": 30.0},
    "thorough": {"max_elements": 1 << 25, "total_elements": 160_000_000, "grid": 60, "seconds": 600.0},
}
#: Every feature :meth:`ScaleSpec.build` can plant.
PLANTS = ("ties", "nan", "+inf", "-inf", "-0.0", "negatives by padding")
#: Planted feature -> the seam line it counts under.
_PLANT_SEAMS = {
    "ties": "ties across a tile boundary",
    "nan": "NaN in the last tile",
    "+inf": "+inf in the first and last column",
    "-inf": "all -inf window in the tail",
    "-0.0": "-0.0 beside +0.0 in the last tile",
    "negatives by padding": "negative values next to padding",
}
_CHANNELS = (1, 3, 8, 16, 17, 64, 65, 256)
_FLOAT_ONLY = ("nan", "+inf", "-0.0")  # planted in float inputs only


# ============================================================================
# One case
# ============================================================================


@dataclass(frozen=True)
class ScaleSpec:
    """One scale case, rebuilt exactly by :meth:`build` (reports print it).

    ``shape`` is ``(N, C, *spatial)``; ``layout`` is ``"C"`` or
    ``"channels-last"`` (``C`` innermost in memory); ``plant`` names the hard
    values placed in the input (see :data:`PLANTS`), around the last tile of
    width ``tile`` along the last axis and in the first and last planes.
    """

    shape: tuple
    kernel_size: tuple
    stride: tuple
    padding: tuple = ()
    dilation: tuple = ()
    ceil_mode: bool = False
    dtype: str = "float32"
    layout: str = "C"
    plant: tuple = ()
    tile: int = 32
    distinct: bool = False
    values: str = "any"
    seed: int = 0
    label: str = ""

    def __post_init__(self):
        nd = len(self.kernel_size)
        if not self.padding:
            object.__setattr__(self, "padding", (0,) * nd)
        if not self.dilation:
            object.__setattr__(self, "dilation", (1,) * nd)

    @property
    def nd(self) -> int:
        return len(self.kernel_size)

    @property
    def spatial(self) -> tuple:
        return tuple(self.shape[2:])

    @property
    def elements(self) -> int:
        return math.prod(self.shape)

    @property
    def params(self) -> PoolParams:
        return PoolParams(self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)

    @property
    def out_spatial(self) -> tuple:
        return output_shape(self.spatial, self.params)

    def kargs(self) -> tuple:
        return (self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode)

    def valid(self) -> bool:
        """A legal call with at least one output per dimension and no empty window."""
        if min(self.shape) < 1:
            return False
        for n, k, s, p, d in zip(self.spatial, *self.kargs()[:4]):
            if k < 1 or s < 1 or d < 1 or p < 0 or 2 * p > k or (p and d > 1):
                return False
            if n + 2 * p < d * (k - 1) + 1:
                return False
        return min(self.out_spatial) >= 1

    def build(self) -> np.ndarray:
        """The input: seeded values in a few whole-array calls, hard values planted, laid out."""
        rng = np.random.default_rng([self.seed, *self.shape])
        x = _base_values(rng, np.dtype(self.dtype), self.shape, self.distinct)
        for feature in self.plant:
            if x.dtype.kind == "f" or feature not in _FLOAT_ONLY:
                _PLANTERS[feature](self, x)
        if self.values in ("nonnegative", "positive"):
            x = np.abs(x)
            if self.values == "positive":
                x[x == 0] = 1
        if self.layout == "channels-last":
            order = (0, *range(2, x.ndim), 1)
            x = np.ascontiguousarray(x.transpose(order)).transpose(np.argsort(order))
        return x

    def source(self) -> str:
        """Python source that rebuilds this spec."""
        fields = [f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.name != "label"]
        return f"ScaleSpec({', '.join(fields)})"


def _base_values(rng, dtype: np.dtype, shape, distinct: bool) -> np.ndarray:
    size = math.prod(shape)
    if distinct:
        from ..strategies import distinct_grid

        return rng.permutation(distinct_grid(dtype, size)).reshape(shape)
    if dtype.kind == "f":
        work = np.float64 if dtype == np.float64 else np.float32
        return (rng.standard_normal(size, dtype=work) * 8).astype(dtype).reshape(shape)
    info = np.iinfo(dtype)
    return rng.integers(int(info.min) + 1, int(info.max), size=size, endpoint=True, dtype=dtype).reshape(shape)


def _planes(x: np.ndarray) -> np.ndarray:
    """``x`` as ``(N * C, *spatial)`` (a view: x is C-contiguous while planting)."""
    return x.reshape(-1, *x.shape[2:])


def _chosen(x: np.ndarray) -> list:
    """The planes that get planted features: the first, a middle one and the last."""
    n = _planes(x).shape[0]
    return sorted({0, n // 2, n - 1})


def _last_tile(spec: ScaleSpec) -> int:
    w = spec.spatial[-1]
    start = ((w - 1) // spec.tile) * spec.tile
    return max(0, min(start, w - _eff(spec, -1) - 1))


def _eff(spec: ScaleSpec, axis: int) -> int:
    return spec.dilation[axis] * (spec.kernel_size[axis] - 1) + 1


def _block(spec: ScaleSpec, at_end: bool) -> tuple:
    """Slices covering at least one whole window at the start or the end of every axis."""
    out = []
    for axis, n in enumerate(spec.spatial):
        size = min(n, _eff(spec, axis) + spec.stride[axis])
        out.append(slice(n - size, n) if at_end else slice(0, size))
    return tuple(out)


def _top(x: np.ndarray):
    return x.dtype.type(100) if x.dtype.kind == "f" else np.iinfo(x.dtype).max


def _plant_ties(spec: ScaleSpec, x):
    # equal maxima in columns on both sides of the last tile's first column
    t0 = _last_tile(spec)
    width = _eff(spec, -1) + 1
    for p in _chosen(x):
        _planes(x)[p, ..., max(0, t0 - 1) : t0 - 1 + width] = _top(x)
        _planes(x)[p, ..., : min(width, spec.spatial[-1])] = _top(x)


def _column(plane: np.ndarray, rows: slice, col: int) -> tuple:
    """Index of column ``col`` in the rows ``rows`` of the second-to-last axis (1-D: the element)."""
    return (col,) if plane.ndim == 1 else (Ellipsis, rows, col)


def _plant_nan(spec: ScaleSpec, x):
    t0, w = _last_tile(spec), spec.spatial[-1]
    for p in _chosen(x):
        plane = _planes(x)[p]
        plane[_column(plane, slice(None, None, 3), (t0 + w) // 2)] = np.nan  # in the last tile
        plane[_column(plane, slice(1, None, 4), w - 1)] = np.nan  # two in the last windows
        plane[_column(plane, slice(1, None, 4), max(0, w - 2))] = np.nan


def _plant_inf(spec: ScaleSpec, x):
    for p in _chosen(x):
        plane = _planes(x)[p]
        plane[_column(plane, slice(None, None, 5), 0)] = np.inf
        plane[_column(plane, slice(2, None, 5), spec.spatial[-1] - 1)] = np.inf


def _plant_neg_inf(spec: ScaleSpec, x):
    low = lowest(x.dtype)
    for p in _chosen(x):
        _planes(x)[p][_block(spec, True)] = low
        _planes(x)[p][_block(spec, False)] = low


def _plant_signed_zero(spec: ScaleSpec, x):
    t0 = _last_tile(spec)
    sl = (*_block(spec, False)[:-1], slice(t0, t0 + _eff(spec, -1) + spec.stride[-1]))
    for p in _chosen(x):
        region = _planes(x)[p][sl]
        region[...] = 0.0
        region[..., ::2] = -0.0


def _plant_negatives(spec: ScaleSpec, x):
    for axis, (n, pad) in enumerate(zip(spec.spatial, spec.padding)):
        if pad:
            for sl in (slice(0, _eff(spec, axis)), slice(max(0, n - _eff(spec, axis)), n)):
                index = (Ellipsis, sl, *(slice(None),) * (spec.nd - axis - 1))
                region = x[index]
                if x.dtype.kind == "f":
                    region[...] = -np.abs(region) - 1
                elif x.dtype.kind == "i":
                    region[...] = np.minimum(region, -1 - np.abs(region // 2))


_PLANTERS = {
    "ties": _plant_ties,
    "nan": _plant_nan,
    "+inf": _plant_inf,
    "-inf": _plant_neg_inf,
    "-0.0": _plant_signed_zero,
    "negatives by padding": _plant_negatives,
}


def seams_of(spec: ScaleSpec) -> list:
    """The seam names a case exercises (the summary's coverage lines count them)."""
    seams = []
    names = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}[spec.nd]
    for name, n, o in zip(names, spec.spatial, spec.out_spatial):
        for m in MULTIPLES:
            if n > m and n % m:
                seams.append(f"{name} crossed a multiple of {m}")
            if name == names[-1] and o > m and o % m:
                seams.append(f"output {name} crossed a multiple of {m}")
    n_planes = spec.shape[0] * spec.shape[1]
    if n_planes >= 5 and all(n_planes % q for q in range(2, math.isqrt(n_planes) + 1)):
        seams.append("N*C prime >= 5")
    for q in (8, 64):
        if n_planes % q == 0:
            seams.append(f"N*C a multiple of {q}")
    if n_planes >= 100:
        seams.append("N*C >= 100")
    if spec.layout == "channels-last":
        c = spec.shape[1]
        seams.append("channels-last")
        seams += [f"channels-last C >= {q}" for q in (8, 64) if c >= q]
        if c > 8 and c % 8:
            seams.append("channels-last C > 8, not a multiple of 8")
    plane = math.prod(spec.spatial)
    seams += [f"plane > 2^{b}" for b in (11, 15, 16, 24) if plane > 2**b]
    k = spec.kernel_size
    if max(k) > 7:
        seams.append("kernel wider than 7")
    if math.prod(k) > 255:
        seams.append("kernel > 255 taps")
    if any(s > kk for s, kk in zip(spec.stride, k)):
        seams.append("stride > kernel")
    if spec.nd == 2 and k == (2, 2) and spec.stride == (2, 2):
        seams.append("2x2 stride 2")
    if any(s < _eff(spec, a) for a, s in enumerate(spec.stride)):
        seams.append("overlapping windows")
    if spec.ceil_mode:
        seams.append("ceil_mode")
    floats = np.dtype(spec.dtype).kind == "f"
    for f in spec.plant:
        if (f != "negatives by padding" or any(spec.padding)) and (floats or f not in _FLOAT_ONLY):
            seams.append(_PLANT_SEAMS[f])
    return seams


# ============================================================================
# The list of cases
# ============================================================================


def _recipe(label, *, W, H=1, D=1, N=1, C=1, k=2, s=None, p=0, d=1, ceil=False, layout="C",
            plant=(), tile=32, dtype="float32"):
    """A recipe for every rank: the last ``nd`` of ``(D, H, W)``; scalars mean every dimension."""

    def make(nd: int, seed: int) -> ScaleSpec:
        def per_dim(v):
            return tuple(v[-nd:]) if isinstance(v, tuple) else (v,) * nd

        kk = per_dim(k)
        return ScaleSpec(
            shape=(N, C, *(D, H, W)[-nd:]), kernel_size=kk, stride=kk if s is None else per_dim(s),
            padding=per_dim(p), dilation=per_dim(d), ceil_mode=ceil, dtype=dtype, layout=layout,
            plant=tuple(plant), tile=tile, seed=seed, label=label,
        )

    return make


_ALL_HARD = ("ties", "nan", "+inf", "-inf", "-0.0")
_CL = "channels-last"

#: The quick list, in the order it runs (each rank gets all of them).
QUICK = (
    _recipe("2x2 stride 2, output W past 32", W=67, H=34, D=6, N=2, C=3, plant=_ALL_HARD),
    _recipe("3x3 stride 2 padding 1, W = 2*64 + 2", W=130, H=33, D=5, N=2, C=4, k=3, s=2, p=1,
            plant=("negatives by padding", "-inf", "nan"), tile=64),
    _recipe("3x3 stride 1 padding 1 (overlapping), W = 64 + 1", W=65, H=20, D=4, N=2, C=3, k=3, s=1, p=1,
            plant=("ties", "-inf", "-0.0"), tile=16),
    _recipe("2x2 stride 2, W = 3*64 + 1, N*C = 5", W=193, H=66, D=6, C=5, plant=("ties", "+inf", "-inf"), tile=64),
    _recipe("channels-last C = 17, 3x3 stride 2 padding 1", W=35, H=13, D=4, N=2, C=17, k=3, s=2, p=1,
            layout=_CL, plant=("-inf", "negatives by padding", "ties")),
    _recipe("N*C = 251 (prime), W = 16 + 1", W=17, H=9, D=3, C=251, plant=("-inf", "nan"), tile=16),
    _recipe("kernel 9 stride 8, W = 8*33 + 1", W=265, H=73, D=9, C=2, k=(3, 9, 9), s=(2, 8, 8), plant=("ties", "nan", "-inf"), tile=64),
    _recipe("kernel > 255 taps", W=294, H=67, D=15, C=2, k=(2, 16, 17), plant=("ties", "nan", "-inf"), tile=128),
    _recipe("channels-last C = 64", W=33, H=9, D=3, N=2, C=64, layout=_CL, plant=("-inf", "nan")),
    _recipe("stride 3 > kernel 2, W = 3*32 + 2", W=98, H=35, D=7, C=3, s=3, plant=("nan", "-0.0", "+inf")),
    _recipe("N*C = 4 x 64, 3x3 stride 2, W = 32 + 1", W=33, H=6, D=3, N=4, C=64, k=3, s=2, plant=("ties", "-inf")),
    _recipe("3x3 stride 3, W = 3*32 (on the multiple)", W=96, H=32, D=4, N=2, C=2, k=3, plant=("ties", "-inf", "nan")),
    _recipe("2x2 stride 2 ceil_mode, odd W = 2*32 + 1", W=65, H=33, D=5, C=3, ceil=True, plant=("-inf", "+inf")),
    _recipe("channels-last C = 8, W = 64 + 2", W=66, H=17, D=5, C=8, k=3, s=2, p=1, layout=_CL,
            plant=("-inf", "negatives by padding")),
    _recipe("channels-last C = 65, 3x3 stride 1 padding 1", W=19, H=7, D=3, N=3, C=65, k=3, s=1, p=1,
            layout=_CL, plant=("-inf", "ties"), tile=16),
    _recipe("channels-last C = 256", W=9, H=5, D=3, N=2, C=256, layout=_CL, plant=("-inf", "nan"), tile=8),
    _recipe("ceil_mode, partial last window, W = 2*64 + 2", W=130, H=34, D=6, C=4, k=3, s=2, ceil=True,
            plant=("-inf", "nan"), tile=64),
    _recipe("dilation 2, W = 64 + 1", W=65, H=20, D=5, C=2, k=3, s=1, d=2, plant=("ties", "-inf"), tile=16),
    _recipe("plane > 2^16", W=257, H=257, D=41, C=3, plant=_ALL_HARD, tile=128),
    _recipe("float16 plane > 2^11, W = 2*32 + 3", W=67, H=40, D=4, C=2, k=3, s=2, dtype="float16", plant=("ties", "-inf")),
    _recipe("int8 plane > 2^8, W = 128 + 1", W=129, H=17, D=3, C=3, k=3, s=2, dtype="int8", plant=("ties", "-inf")),
    _recipe("plane > 2^24", W=4097, H=4097, D=257, plant=("ties", "-inf", "nan"), tile=128, dtype="uint8"),
)

#: Where one rank needs other sizes to reach the recipe's seam: (rank, label) -> spec fields.
_RANK_OVERRIDES = {
    (1, "plane > 2^16"): {"spatial": (65537 + 64,)},
    (1, "plane > 2^24"): {"spatial": (2**24 + 3,)},
    (3, "plane > 2^16"): {"spatial": (41, 41, 41)},
    (3, "plane > 2^24"): {"spatial": (257, 257, 257)},
    (1, "kernel > 255 taps"): {"spatial": (907,), "kernel_size": (300,), "stride": (300,)},
}


def _quick_specs(nd: int, seed: int) -> list:
    out = []
    for i, make in enumerate(QUICK):
        spec = make(nd, seed + i)
        override = dict(_RANK_OVERRIDES.get((nd, spec.label), {}))
        if "spatial" in override:
            override["shape"] = (*spec.shape[:2], *override.pop("spatial"))
        out.append(dataclasses.replace(spec, **override))
    return out


_GRID_KERNELS = ((2, 2, 0), (3, 2, 1), (3, 1, 1), (2, 1, 0), (5, 3, 2), (4, 4, 0), (2, 3, 0), (9, 7, 4), (11, 11, 0))
_GRID_PLANES = (1, 2, 3, 7, 13, 16, 31, 64, 96, 127, 192, 251, 256)


def _grid_specs(nd: int, seed: int, count: int) -> list:
    """``count`` seeded draws from the grid of seams (the thorough budget's extra cases)."""
    rng = np.random.default_rng([seed, nd, 7])
    out = []
    for i in range(count):
        k, s, p = _GRID_KERNELS[rng.integers(len(_GRID_KERNELS))]
        m = int(rng.choice(MULTIPLES))
        delta = int(rng.choice((-1, 0, 1, k - 1)))
        w = max(k, m * int(rng.integers(1, 4)) + delta)
        h = max(k, int(rng.choice((1, 2, 3))) * int(rng.choice(MULTIPLES[:3])) + int(rng.choice((-1, 0, 1))))
        dd = max(k, int(rng.integers(k, 2 * k + 3)))
        layout = "C"
        if nd > 1 and rng.random() < 0.35:
            layout, c, n = _CL, int(rng.choice(_CHANNELS)), int(rng.integers(1, 4))
        else:
            planes = int(rng.choice(_GRID_PLANES))
            n = next(q for q in (4, 3, 2, 1) if planes % q == 0)
            c = planes // n
        plant = tuple(f for f in PLANTS if rng.random() < 0.5)
        ceil = bool(rng.random() < 0.25)
        make = _recipe(f"grid {i}", W=w, H=h, D=dd, N=n, C=c, k=k, s=s, p=p, ceil=ceil, layout=layout,
                       plant=plant, tile=m)
        out.append(make(nd, seed + 1000 + i))
    return out


def _plantable(plant: tuple, spec: ScaleSpec, behaviour) -> tuple:
    """The planted features that keep the case inside what :mod:`poolref.fast` can judge."""
    floats = np.dtype(spec.dtype).kind == "f"
    keep = []
    for f in plant:
        if f in ("nan", "+inf", "-0.0") and not floats:
            continue
        if spec.values != "any" and f in ("nan", "+inf", "-inf", "negatives by padding"):
            continue
        if spec.values == "positive" and f == "-0.0":
            continue
        if f == "nan" and behaviour.nan not in ("last", "propagate"):
            continue
        if behaviour.ties == "any" and f in ("ties", "-inf", "-0.0", "+inf", "negatives by padding"):
            continue
        if behaviour.padding == "compared" and f == "-inf" and any(spec.padding):
            continue
        keep.append(f)
    return tuple(keep)


def _limits(support) -> tuple:
    """Declared bounds on N and C for scale cases (None: none declared).

    ``Support.max_batch``/``max_channels`` of None (the default) bound only
    the small search (to 3); an int is a declared limit and holds here too.
    """
    return getattr(support, "max_batch", None), getattr(support, "max_channels", None)


def _dtype_for(spec: ScaleSpec, support) -> str | None:
    if spec.dtype in support.dtypes:
        return spec.dtype
    if spec.dtype != "float32" and spec.label.startswith(spec.dtype):
        return None  # a case about that dtype
    wide = ("float32", "float64", "float16", "int32", "int64", "int16")
    return next((d for d in wide if d in support.dtypes), support.dtypes[0])


def _fit(spec: ScaleSpec, support, behaviour):
    """``spec`` adjusted to the candidate's declarations, or ``(None, reason)``."""
    nd = spec.nd
    dtype = _dtype_for(spec, support)
    if dtype is None:
        return None, f"{spec.dtype} not supported"
    changes: dict = {"dtype": dtype}
    k, s = spec.kernel_size, spec.stride
    if support.square and (len(set(k)) > 1 or len(set(s)) > 1):
        changes["kernel_size"], changes["stride"] = (k[-1],) * nd, (s[-1],) * nd
    if support.same_stride and len(set(s)) > 1:
        changes["stride"] = (s[-1],) * nd
    changes["values"] = support.values
    if not support.padding or behaviour.padding == "zero":  # fast cannot judge zero padding
        changes["padding"] = (0,) * nd
    if not support.dilation:
        changes["dilation"] = (1,) * nd
    if not support.ceil_mode:
        changes["ceil_mode"] = False
    if spec.layout != "C" and not support.non_contiguous:
        return None, "channels-last: non_contiguous not supported"
    n, c = spec.shape[:2]
    max_n, max_c = _limits(support)
    if (max_n is not None and n > max_n) or (max_c is not None and c > max_c):
        n, c = min(n, max_n or n), min(c, max_c or c)
        changes["shape"] = (n, c, *spec.spatial)
    spec = dataclasses.replace(spec, **changes)
    if support.exact_fit:
        sizes = [
            n - (n + 2 * p - (d * (kk - 1) + 1)) % ss
            for n, kk, ss, p, d in zip(spec.spatial, spec.kernel_size, spec.stride, spec.padding, spec.dilation)
        ]
        spec = dataclasses.replace(spec, shape=(*spec.shape[:2], *sizes))
    if behaviour.ties == "any":
        if np.dtype(spec.dtype).kind != "f" or spec.dtype == "float16":
            return None, "ties='any' needs distinct values (float32/float64)"
        spec = dataclasses.replace(spec, distinct=True)
    spec = dataclasses.replace(spec, plant=_plantable(spec.plant, spec, behaviour))
    if not spec.valid():
        return None, "not a valid call after fitting the declarations"
    return spec, ""


def scale_specs(nd: int, support, behaviour, budget: str = "quick", max_elements: int | None = None,
                seed: int | None = None):
    """The scale cases of rank ``nd`` for a candidate: ``(specs, skipped)``.

    ``skipped`` maps a reason (``"plane > 2^24: over max_elements=4194304"``)
    to a count. Cases are fitted to ``support`` (dtypes, layouts, padding,
    ...) and to ``behaviour`` (see :func:`_plantable`).
    """
    plan = SCALE_BUDGETS[budget]
    cap = plan["max_elements"] if max_elements is None else int(max_elements)
    base = 20260 if seed is None else int(seed)
    specs = _quick_specs(nd, base) + _grid_specs(nd, base, plan["grid"])
    kept, skipped, total = [], Counter(), 0
    for spec in specs:
        fitted, reason = _fit(spec, support, behaviour)
        if fitted is None:
            skipped[f"{spec.label}: {reason}"] += 1
            continue
        if fitted.elements > cap:
            skipped[f"{spec.label}: more elements than max_elements={cap:,}"] += 1
            continue
        if total + fitted.elements > plan["total_elements"]:
            skipped[f"{spec.label}: over the {budget} budget's {plan['total_elements']:,} elements per rank"] += 1
            continue
        total += fitted.elements
        kept.append(fitted)
    return kept, skipped


# ============================================================================
# Checking one case against poolref.fast
# ============================================================================


class ScaleFailure(AssertionError):
    """A check failed on a scale case; ``where`` is the first bad position (batched coordinates)."""

    def __init__(self, check: str, detail: str, *, where=None, extra: str = "", grad_output=None):
        super().__init__(f"[{check}] {detail}")
        self.check, self.detail, self.where, self.extra = check, detail, where, extra
        self.grad_output = grad_output


def _fast(nd: int, backward: bool = False):
    from .. import fast

    return getattr(fast, f"max_pool{nd}d" + ("_backward" if backward else ""))


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    view = np.dtype(f"u{a.dtype.itemsize}")
    return bool(np.array_equal(a.view(view), b.view(view)))


def _first(bad: np.ndarray) -> tuple:
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(bad)), bad.shape))


def _fmt(value) -> str:
    value = value.item() if hasattr(value, "item") else value
    return "nan" if isinstance(value, float) and math.isnan(value) else repr(value)


def _window_text(spec: ScaleSpec, xb: np.ndarray, where: tuple, limit: int = 24) -> str:
    """The taps of one output's window (proportional to the window, not the input)."""
    n, c, *o = where
    per_dim = []
    for oi, k, s, p, d, length in zip(o, *spec.kargs()[:4], spec.spatial):
        start = oi * s - p
        per_dim.append([start + j * d for j in range(k)])
    items = []
    for coords in itertools.product(*per_dim):
        if len(items) == limit:
            items.append("...")
            break
        if all(0 <= q < length for q, length in zip(coords, spec.spatial)):
            flat = int(np.ravel_multi_index(coords, spec.spatial))
            items.append(f"{_fmt(xb[(n, c, *coords)])} @{flat} {tuple(coords)}")
        else:
            items.append("pad")
    return f"window of output[{', '.join(map(str, where))}] (value @plane index (coordinates)): " + ", ".join(items)


def _neighbourhood(name: str, a: np.ndarray, where: tuple) -> str:
    """``a`` along its last axis around ``where`` (5 entries either side)."""
    lo = max(0, where[-1] - 5)
    row = a[where[:-1]][lo : where[-1] + 6]
    return f"{name}[{', '.join(map(str, where[:-1]))}, {lo}:{lo + row.size}] = {np.array2string(row, separator=', ')}"


def _quarters(shape, dtype, seed: int) -> np.ndarray:
    """Quarter-integer gradients in +-[0.25, 8] from a seed (exact sums in float32/float64)."""
    rng = np.random.default_rng([seed, 4])
    magnitude = rng.integers(1, 33, size=shape) / 4
    return np.where(rng.random(shape) < 0.5, -magnitude, magnitude).astype(dtype)


def _like(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``a`` (C-contiguous, x's shape family) in x's channels-last layout when x has one."""
    if x.flags.c_contiguous or a.ndim < 3:
        return a
    order = (0, *range(2, a.ndim), 1)
    return np.ascontiguousarray(a.transpose(order)).transpose(np.argsort(order))


def check_case(cand, spec: ScaleSpec, x: np.ndarray) -> list:
    """Every check on one scale case; raise :class:`ScaleFailure` on the first problem. Returns its seams."""
    kargs = spec.kargs()
    y_exp, i_exp = _fast(spec.nd)(x, *kargs, return_indices=True)
    checked = ~np.isnan(y_exp) if (cand.behaviour.nan == "propagate" and y_exp.dtype.kind == "f") else None
    x_before = x.copy(order="K")
    try:
        out = cand.forward(x, *kargs)
    except Exception as exc:  # noqa: BLE001 - report whatever the candidate raised
        raise ScaleFailure("forward raised", f"{type(exc).__name__}: {exc}") from None
    if not _same_bits(x, x_before):
        raise ScaleFailure("input modified", "the forward changed its input x")
    y, idx = (out if isinstance(out, (tuple, list)) and len(out) == 2 else (out, None))
    if cand.support.indices and idx is None:
        raise ScaleFailure("indices missing", "Support(indices=True) but the forward returned only the output")
    y = np.asarray(y)
    if y.shape != y_exp.shape:
        raise ScaleFailure("output shape", f"output.shape={y.shape}, expected {y_exp.shape}")
    if y.dtype != y_exp.dtype:
        raise ScaleFailure("output dtype", f"output.dtype={y.dtype}, expected {y_exp.dtype} (the input's dtype)")
    _compare_values(spec, x, y, y_exp, cand.behaviour)
    if cand.support.indices:
        _compare_indices(spec, x, np.asarray(idx), i_exp, y_exp, cand.behaviour, checked)
    _check_backward(cand, spec, x, x_before, y_exp, i_exp, checked)
    return seams_of(spec)


def _compare_values(spec, x, y, e, behaviour):
    if e.dtype.kind == "f":
        same = (y == e) | (np.isnan(y) & np.isnan(e))
        if behaviour.signed_zero == "index":
            same &= ~((e == 0) & (np.signbit(y) != np.signbit(e)))
    else:
        same = y == e
    if not same.all():
        where = _first(~same)
        zero = " (signed zero: the output must be the input at the selected index)" if e[where] == 0 == y[where] else ""
        raise ScaleFailure(
            "values", f"output[{', '.join(map(str, where))}] = {_fmt(y[where])}, expected {_fmt(e[where])}{zero}",
            where=where,
            extra="\n".join([_window_text(spec, x, where), _neighbourhood("expected output", e, where),
                             _neighbourhood("actual output  ", y, where)]),
        )


def _compare_indices(spec, x, idx, expected, y_exp, behaviour, checked):
    if idx.shape != expected.shape:
        raise ScaleFailure("indices shape", f"indices.shape={idx.shape}, expected {expected.shape}")
    if behaviour.index_dtype is not None and idx.dtype != np.dtype(behaviour.index_dtype):
        raise ScaleFailure("indices dtype", f"indices.dtype={idx.dtype}, expected {behaviour.index_dtype}")
    if idx.dtype.kind not in "iu":
        raise ScaleFailure("indices dtype", f"indices.dtype={idx.dtype}, expected an integer dtype")
    fmt = behaviour.index_format
    expected = _encode(spec, expected, fmt)
    bad = idx.astype(np.int64) != expected
    if checked is not None:
        bad &= checked
    if bad.any():
        where = _first(bad)
        raise ScaleFailure(
            "indices", f"indices[{', '.join(map(str, where))}] = {int(idx[where])}, expected {int(expected[where])}",
            where=where,
            extra="\n".join([f"index format: {FORMAT_TEXT[fmt]}", _window_text(spec, x, where),
                             _neighbourhood("expected indices", expected, where),
                             _neighbourhood("actual indices  ", idx, where)]),
        )


def _encode(spec: ScaleSpec, plane_index: np.ndarray, fmt: str) -> np.ndarray:
    """Expected plane indices in the candidate's format; ``"window"`` by per-dimension arithmetic."""
    if fmt != "window":
        return encode(plane_index, fmt, math.prod(spec.spatial), None)
    coords = np.unravel_index(np.maximum(plane_index, 0), spec.spatial)
    position = np.zeros(plane_index.shape, dtype=np.int64)
    for axis, (q, k, s, p, d) in enumerate(zip(coords, *spec.kargs()[:4])):
        view = [1] * plane_index.ndim
        view[2 + axis] = plane_index.shape[2 + axis]
        start = (np.arange(plane_index.shape[2 + axis]) * s - p).reshape(view)
        position = position * k + (q - start) // d
    return np.where(plane_index >= 0, position, plane_index)


_EPS = {"float16": 2.0**-10, "float32": 2.0**-23, "float64": 2.0**-52}


def _check_backward(cand, spec, x, x_before, y_exp, i_exp, checked):
    sup = cand.support
    if cand.backward is None or spec.dtype not in sup.backward_dtypes:
        return
    if not sup.backward_dilation and any(d > 1 for d in spec.dilation):
        return
    g = _quarters(y_exp.shape, x.dtype, spec.seed)
    if cand.behaviour.gradient_rules.nan not in ("last", "untested") and y_exp.dtype.kind == "f":
        checked = ~np.isnan(y_exp)  # fast routes a NaN window's gradient to its last NaN
    if checked is not None:
        g = np.where(checked, g, np.zeros((), dtype=x.dtype))
    g_call = _like(g, x)
    g_before = g_call.copy(order="K")
    expected = _fast(spec.nd, backward=True)(g, x, *spec.kargs())
    try:
        grad = cand.backward(g_call, x, *spec.kargs())
    except Exception as exc:  # noqa: BLE001
        raise ScaleFailure("backward raised", f"{type(exc).__name__}: {exc}", grad_output=g) from None
    if not _same_bits(x, x_before):
        raise ScaleFailure("input modified", "the backward changed its input x", grad_output=g)
    if not _same_bits(g_call, g_before):
        raise ScaleFailure("grad_output modified", "the backward changed grad_output", grad_output=g)
    grad = np.asarray(grad)
    if grad.shape != x.shape or grad.dtype != x.dtype:
        raise ScaleFailure("gradient shape" if grad.shape != x.shape else "gradient dtype",
                           f"grad_input.shape={grad.shape}, dtype={grad.dtype}; expected {x.shape}, {x.dtype}", grad_output=g)
    bound = _summation_bound(spec, g, i_exp)
    bad = ~(np.abs(grad.astype(np.float64) - expected.astype(np.float64)) <= bound)
    if bad.any():
        where = _first(bad)
        raise ScaleFailure(
            "gradient", f"grad_input[{', '.join(map(str, where))}] = {_fmt(grad[where])}, expected {_fmt(expected[where])}",
            where=where, grad_output=g,
            extra="\n".join([_neighbourhood("expected grad_input", expected, where),
                             _neighbourhood("actual grad_input  ", grad, where)]),
        )


def _summation_bound(spec, g, indices) -> np.ndarray:
    """Per input element ``(n + 1) * eps * sum|g|`` over the ``n`` gradients routed to it (0 if none)."""
    n_planes, plane = spec.shape[0] * spec.shape[1], math.prod(spec.spatial)
    local = indices.reshape(n_planes, -1)
    flat = local + (np.arange(n_planes, dtype=np.int64) * plane)[:, None]
    weights = np.abs(g.astype(np.float64)).reshape(n_planes, -1)
    keep = (local >= 0) & (weights > 0)
    counts = np.bincount(flat[keep], minlength=n_planes * plane)
    magnitude = np.bincount(flat[keep], weights=weights[keep], minlength=n_planes * plane)
    bound = (counts + 1) * _EPS[spec.dtype] * magnitude
    return bound.reshape(spec.shape)


# ============================================================================
# Shrinking, the report, and the run
# ============================================================================


def _allowed(cand, spec: ScaleSpec, x: np.ndarray) -> bool:
    return cand.support.allows(x, *spec.kargs())


def _attempt(cand, spec: ScaleSpec, check: str):
    """``(spec, failure)`` if ``spec`` is a valid case that fails the same check, else None."""
    if not spec.valid():
        return None
    x = spec.build()
    if not _allowed(cand, spec, x):
        return None
    try:
        check_case(cand, spec, x)
    except ScaleFailure as failure:
        return (spec, failure) if failure.check == check else None
    except Exception:  # noqa: BLE001 - e.g. the oracle rejecting a size; not a smaller counterexample
        return None
    return None


def _smaller_sizes(n: int, seam_sizes: tuple) -> list:
    """Sizes below ``n`` to try, smallest first: small ones, sizes around the seams, n // 2, n - 1."""
    near = {m * j + delta for m in seam_sizes for j in (1, 2, 3) for delta in (-1, 0, 1, 2)}
    return sorted({q for q in (*range(1, 9), *near, n // 2, n - 1) if 1 <= q < n})


def _shrink_options(spec: ScaleSpec):
    """Smaller specs, in the order tried: fewer planes first, then each axis from the last."""
    n, c = spec.shape[:2]
    for new_n in _smaller_sizes(n, ()):
        yield dataclasses.replace(spec, shape=(new_n, c, *spec.spatial))
    for new_c in _smaller_sizes(c, (8, 16, 64)):
        yield dataclasses.replace(spec, shape=(n, new_c, *spec.spatial))
    for axis in reversed(range(spec.nd)):
        for size in _smaller_sizes(spec.spatial[axis], MULTIPLES):
            spatial = list(spec.spatial)
            spatial[axis] = size
            yield dataclasses.replace(spec, shape=(n, c, *spatial))


def shrink(cand, spec: ScaleSpec, failure: ScaleFailure, budget: int = 80):
    """Greedily the smallest spec that still fails the same check (at most ``budget`` attempts)."""
    best, best_failure, tries = spec, failure, 0
    improved = True
    while improved and tries < budget:
        improved = False
        for option in _shrink_options(best):
            if option.elements >= best.elements:
                continue
            tries += 1
            got = _attempt(cand, option, best_failure.check)
            if got is not None:
                best, best_failure = got
                improved = True
                break
            if tries >= budget:
                break
    return best, best_failure


def _array_text(x: np.ndarray) -> str:
    from ..strategies import array_source

    if x.size > 300:
        return f"<{x.dtype} array of shape {x.shape}; rebuilt by the snippet below>"
    return array_source(np.ascontiguousarray(x))


def _import_lines(cand, failure: ScaleFailure) -> list:
    if cand.source:
        return [f"candidate = {cand.source}", "forward, backward = candidate.forward, candidate.backward"]
    lines = [_import_source(cand.forward, "forward")]
    if cand.backward is not None and failure.grad_output is not None:
        lines.append(_import_source(cand.backward, "backward"))
    return lines


def report(cand, spec: ScaleSpec, failure: ScaleFailure, found_by: str) -> str:
    """The failure message: what failed, the (shrunk) case, the seams, and a snippet that rebuilds it."""
    x = spec.build()
    nd = spec.nd
    layout = "C-contiguous" if spec.layout == "C" else "channels-last (non-contiguous)"
    kargs = ", ".join(repr(a) for a in spec.kargs())
    lines = [
        f"max pooling of {cand.label} is wrong [{failure.check}]: {failure.detail}",
        f"  case: max_pool{nd}d on x.shape={spec.shape} (N, C, spatial), x.dtype={spec.dtype}, {layout}",
        f"        kernel_size={spec.kernel_size}, stride={spec.stride}, padding={spec.padding}, "
        f"dilation={spec.dilation}, ceil_mode={spec.ceil_mode}",
        f"  found by: {found_by}",
        f"  seams: {', '.join(seams_of(spec)) or 'none'}",
    ]
    diff = cand.behaviour.differences()
    if diff:
        lines.append("  declared behaviour: " + ", ".join(diff))
    lines.append(f"  x = {_array_text(x)}")
    lines += ["  " + line for line in failure.extra.splitlines()]
    snippet = ["import numpy as np", "import poolref.fast", "from poolref.testing import ScaleSpec",
               *_import_lines(cand, failure), f"spec = {spec.source()}", "x = spec.build()",
               f"actual = forward(x, {kargs})",
               f"expected = poolref.fast.max_pool{nd}d(x, {kargs}, return_indices=True)"]
    if failure.grad_output is not None:
        snippet += [f"grad_output = __import__('poolref.testing._scale').testing._scale._quarters(expected[0].shape, x.dtype, {spec.seed})",
                    f"actual_grad = backward(grad_output, x, {kargs})",
                    f"expected_grad = poolref.fast.max_pool{nd}d_backward(grad_output, x, {kargs})"]
    lines.append("  reproduce:")
    lines += ["    " + line for line in snippet]
    return "\n".join(lines)


@dataclass
class ScaleRun:
    """What the scale cases of one or more ranks did (for the summary)."""

    cases: int = 0
    elements: int = 0
    seconds: float = 0.0
    seams: Counter = dataclasses.field(default_factory=Counter)
    skipped: Counter = dataclasses.field(default_factory=Counter)


def run_scale(cand, nd: int, *, budget: str = "quick", max_elements: int | None = None, seed: int | None = None,
              say=lambda message: None, into: ScaleRun | None = None) -> ScaleRun:
    """Run rank ``nd``'s scale cases on ``cand``; raise ``AssertionError`` with a shrunk report on a failure."""
    run = into if into is not None else ScaleRun()
    start = time.perf_counter()
    specs, skipped = scale_specs(nd, cand.support, cand.behaviour, budget, max_elements, seed)
    run.skipped.update(skipped)
    limit = SCALE_BUDGETS[budget]["seconds"]
    for i, spec in enumerate(specs, 1):
        if time.perf_counter() - start > limit:
            run.skipped[f"{spec.label}: over the {budget} budget's {limit:.0f} s per rank"] += 1
            continue
        x = spec.build()
        if not _allowed(cand, spec, x):
            run.skipped[f"{spec.label}: outside the declared support"] += 1
            continue
        try:
            run.seams.update(check_case(cand, spec, x))
        except ScaleFailure as failure:
            del x
            small, small_failure = shrink(cand, spec, failure)
            found = f"scale case {spec.label!r} ({i} of {len(specs)}, {nd}-D, x.shape={spec.shape})"
            if small is not spec:
                found += ", then made smaller"
            say(f"{nd}-D scale cases: counterexample in {spec.label!r}")
            raise AssertionError(report(cand, small, small_failure, found)) from None
        run.cases += 1
        run.elements += spec.elements
    run.seconds += time.perf_counter() - start
    say(f"{nd}-D scale cases: {len(specs)} passed")
    return run


def coverage_lines(run: ScaleRun, width: int = 100) -> list:
    """``"W crossed a multiple of 32: 14 cases; plane > 2^24: 1 case; ..."`` wrapped to ``width``."""
    def key(item):
        return re.sub(r"\d+", lambda m: f"{int(m.group()):09d}", item[0])

    items = [f"{name}: {count} case{'s' if count != 1 else ''}" for name, count in sorted(run.seams.items(), key=key)]
    lines, current = [], ""
    for item in items:
        if current and len(current) + len(item) + 2 > width:
            lines.append(current + ";")
            current = ""
        current = f"{current}; {item}" if current else item
    if current:
        lines.append(current)
    return lines


def summary_lines(run: ScaleRun) -> list:
    """The summary's scale lines: cases and time, the seams exercised, what was skipped."""
    lines = [f"scale: {run.cases} cases, {run.elements / 1e6:.1f} M input elements, {run.seconds:.1f} s"]
    lines += ["  seams: " + line if i == 0 else "         " + line for i, line in enumerate(coverage_lines(run, 92))]
    for reason, count in sorted(run.skipped.items()):
        lines.append(f"  skipped: {reason}" + (f" ({count} cases)" if count > 1 else ""))
    return lines
