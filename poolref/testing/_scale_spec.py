"""One scale case: :class:`ScaleSpec` (shape, parameters, planted values, seed), how its input is
built and planted, and the names of the seams it exercises (see :mod:`poolref.testing._scale`)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from .._params import PoolParams, lowest, output_shape

#: The tile widths whose multiples the sizes sit around.
MULTIPLES = (8, 16, 32, 64, 128)
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

    Parameters
    ----------
    shape : tuple of int
        ``(N, C, *spatial)``.
    kernel_size, stride : tuple of int
        One entry per spatial dimension.
    padding, dilation : tuple of int, optional
        One entry per spatial dimension (default: 0 and 1 everywhere).
    ceil_mode : bool, optional
        PyTorch's ``ceil_mode``.
    dtype : str, optional
        The input's dtype name (default ``"float32"``).
    layout : {"C", "channels-last"}, optional
        Memory layout: C order, or ``C`` innermost in memory.
    plant : tuple of str, optional
        The hard values placed in the input (see :data:`PLANTS`), around the
        last tile along the last axis and in the first and last planes.
    tile : int, optional
        The tile width the plants are placed around (default 32).
    distinct : bool, optional
        Draw distinct values (no ties).
    values : {"any", "finite", "nonnegative", "positive"}, optional
        The value domain (``Support.values``).
    seed : int, optional
        Seed of the value generator.
    label : str, optional
        The seam the case is about, for reports and the summary.
    sparse : bool, optional
        A constant plane with a few planted maxima and one lowest window, judged without pooling
        the plane (``poolref.testing._scale_sparse``); needs disjoint windows (stride >= kernel,
        no padding, dilation or ceil_mode) and ignores ``plant`` and ``distinct``.
    """

    shape: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...] = ()
    dilation: tuple[int, ...] = ()
    ceil_mode: bool = False
    dtype: str = "float32"
    layout: str = "C"
    plant: tuple[str, ...] = ()
    tile: int = 32
    distinct: bool = False
    values: str = "any"
    seed: int = 0
    label: str = ""
    sparse: bool = False

    def __post_init__(self) -> None:
        nd = len(self.kernel_size)
        if not self.padding:
            object.__setattr__(self, "padding", (0,) * nd)
        if not self.dilation:
            object.__setattr__(self, "dilation", (1,) * nd)

    @property
    def nd(self) -> int:
        """Number of spatial dimensions."""
        return len(self.kernel_size)

    @property
    def spatial(self) -> tuple[int, ...]:
        """The spatial sizes, ``shape[2:]``."""
        return tuple(self.shape[2:])

    @property
    def elements(self) -> int:
        """Number of input elements."""
        return math.prod(self.shape)

    @property
    def params(self) -> PoolParams:
        """The parameters in their normalised form."""
        return PoolParams(
            self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode
        )

    @property
    def out_spatial(self) -> tuple[int, ...]:
        """The output's spatial sizes."""
        return output_shape(self.spatial, self.params)

    def kargs(
        self,
    ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...], bool]:
        """``(kernel_size, stride, padding, dilation, ceil_mode)``: a candidate's arguments after ``x``."""
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
        if self.sparse:
            from ._scale_sparse import build

            return build(self)
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
        fields = [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in dataclasses.fields(self)
            if f.name != "label"
        ]
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
    return rng.integers(
        int(info.min) + 1, int(info.max), size=size, endpoint=True, dtype=dtype
    ).reshape(shape)


def _planes(x: np.ndarray) -> np.ndarray:
    """``x`` as ``(N * C, *spatial)`` (a view: x is C-contiguous while planting)."""
    return x.reshape(-1, *x.shape[2:])


def _chosen(x: np.ndarray) -> list[int]:
    """The planes that get planted features: the first, a middle one and the last."""
    n = _planes(x).shape[0]
    return sorted({0, n // 2, n - 1})


def _last_tile(spec: ScaleSpec) -> int:
    w = spec.spatial[-1]
    start = ((w - 1) // spec.tile) * spec.tile
    return max(0, min(start, w - _eff(spec, -1) - 1))


def _eff(spec: ScaleSpec, axis: int) -> int:
    return spec.dilation[axis] * (spec.kernel_size[axis] - 1) + 1


def _block(spec: ScaleSpec, at_end: bool) -> tuple[slice, ...]:
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


def seams_of(spec: ScaleSpec) -> list[str]:
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
