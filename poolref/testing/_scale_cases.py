"""The list of scale cases: the quick recipes, the thorough budget's seam grid, and how each case
is fitted to a candidate's declarations (see :mod:`poolref.testing._scale`)."""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np

from ._scale_grid import grid_specs
from ._scale_lanes import lane_plantable, lane_recipes
from ._scale_sparse import sparse_recipes
from ._scale_spec import ScaleSpec

#: Default memory cap: elements of one scale case's input (the sparse planes above 2^24 fit; the
#: other quick recipes have at most 2^22).
DEFAULT_MAX_ELEMENTS = 1 << 25
#: Per named budget: the default cap on one case, on the sum over a rank's cases, the number of
#: extra draws from the seam grid, and the wall time after which a rank's remaining cases are
#: skipped (a bounded share for slow candidates, e.g. pure-Python loops; the summary lists them).
SCALE_BUDGETS = {
    "quick": {
        "max_elements": DEFAULT_MAX_ELEMENTS,
        "total_elements": 30_000_000,
        "grid": 0,
        "seconds": 30.0,
    },
    "thorough": {
        "max_elements": 1 << 25,
        "total_elements": 160_000_000,
        "grid": 60,
        "seconds": 600.0,
    },
}

# ============================================================================
# The list of cases
# ============================================================================


def _recipe(
    label,
    *,
    W,
    H=1,
    D=1,
    N=1,
    C=1,
    k=2,
    s=None,
    p=0,
    d=1,
    ceil=False,
    layout="C",
    plant=(),
    tile=32,
    dtype="float32",
):
    """A recipe for every rank: the last ``nd`` of ``(D, H, W)``; scalars mean every dimension."""

    def make(nd: int, seed: int) -> ScaleSpec:
        def per_dim(v):
            return tuple(v[-nd:]) if isinstance(v, tuple) else (v,) * nd

        kk = per_dim(k)
        return ScaleSpec(
            shape=(N, C, *(D, H, W)[-nd:]),
            kernel_size=kk,
            stride=kk if s is None else per_dim(s),
            padding=per_dim(p),
            dilation=per_dim(d),
            ceil_mode=ceil,
            dtype=dtype,
            layout=layout,
            plant=tuple(plant),
            tile=tile,
            seed=seed,
            label=label,
        )

    return make


_ALL_HARD = ("ties", "nan", "+inf", "-inf", "-0.0")
_CL = "channels-last"

#: The quick list, in the order it runs (each rank gets all of them).
QUICK = (
    _recipe("2x2 stride 2, output W past 32", W=67, H=34, D=6, N=2, C=3, plant=_ALL_HARD),
    _recipe(
        "3x3 stride 2 padding 1, W = 2*64 + 2",
        W=130,
        H=33,
        D=5,
        N=2,
        C=4,
        k=3,
        s=2,
        p=1,
        plant=("negatives by padding", "-inf", "nan"),
        tile=64,
    ),
    _recipe(
        "3x3 stride 1 padding 1 (overlapping), W = 64 + 1",
        W=65,
        H=20,
        D=4,
        N=2,
        C=3,
        k=3,
        s=1,
        p=1,
        plant=("ties", "-inf", "-0.0"),
        tile=16,
    ),
    _recipe(
        "2x2 stride 2, W = 3*64 + 1, N*C = 5",
        W=193,
        H=66,
        D=6,
        C=5,
        plant=("ties", "+inf", "-inf"),
        tile=64,
    ),
    _recipe(
        "channels-last C = 17, 3x3 stride 2 padding 1",
        W=35,
        H=13,
        D=4,
        N=2,
        C=17,
        k=3,
        s=2,
        p=1,
        layout=_CL,
        plant=("-inf", "negatives by padding", "ties"),
    ),
    _recipe("N*C = 251 (prime), W = 16 + 1", W=17, H=9, D=3, C=251, plant=("-inf", "nan"), tile=16),
    _recipe(
        "kernel 9 stride 8, W = 8*33 + 1",
        W=265,
        H=73,
        D=9,
        C=2,
        k=(3, 9, 9),
        s=(2, 8, 8),
        plant=("ties", "nan", "-inf"),
        tile=64,
    ),
    _recipe(
        "kernel > 255 taps",
        W=294,
        H=67,
        D=15,
        C=2,
        k=(2, 16, 17),
        plant=("ties", "nan", "-inf"),
        tile=128,
    ),
    _recipe("channels-last C = 64", W=33, H=9, D=3, N=2, C=64, layout=_CL, plant=("-inf", "nan")),
    _recipe(
        "stride 3 > kernel 2, W = 3*32 + 2",
        W=98,
        H=35,
        D=7,
        C=3,
        s=3,
        plant=("nan", "-0.0", "+inf"),
    ),
    _recipe(
        "N*C = 4 x 64, 3x3 stride 2, W = 32 + 1",
        W=33,
        H=6,
        D=3,
        N=4,
        C=64,
        k=3,
        s=2,
        plant=("ties", "-inf"),
    ),
    _recipe(
        "3x3 stride 3, W = 3*32 (on the multiple)",
        W=96,
        H=32,
        D=4,
        N=2,
        C=2,
        k=3,
        plant=("ties", "-inf", "nan"),
    ),
    _recipe(
        "2x2 stride 2 ceil_mode, odd W = 2*32 + 1",
        W=65,
        H=33,
        D=5,
        C=3,
        ceil=True,
        plant=("-inf", "+inf"),
    ),
    _recipe(
        "channels-last C = 8, W = 64 + 2",
        W=66,
        H=17,
        D=5,
        C=8,
        k=3,
        s=2,
        p=1,
        layout=_CL,
        plant=("-inf", "negatives by padding"),
    ),
    _recipe(
        "channels-last C = 65, 3x3 stride 1 padding 1",
        W=19,
        H=7,
        D=3,
        N=3,
        C=65,
        k=3,
        s=1,
        p=1,
        layout=_CL,
        plant=("-inf", "ties"),
        tile=16,
    ),
    _recipe(
        "channels-last C = 256",
        W=9,
        H=5,
        D=3,
        N=2,
        C=256,
        layout=_CL,
        plant=("-inf", "nan"),
        tile=8,
    ),
    _recipe(
        "ceil_mode, partial last window, W = 2*64 + 2",
        W=130,
        H=34,
        D=6,
        C=4,
        k=3,
        s=2,
        ceil=True,
        plant=("-inf", "nan"),
        tile=64,
    ),
    _recipe(
        "dilation 2, W = 64 + 1",
        W=65,
        H=20,
        D=5,
        C=2,
        k=3,
        s=1,
        d=2,
        plant=("ties", "-inf"),
        tile=16,
    ),
    _recipe("plane > 2^16", W=257, H=257, D=41, C=3, plant=_ALL_HARD, tile=128),
    _recipe(
        "float16 plane > 2^11, W = 2*32 + 3",
        W=67,
        H=40,
        D=4,
        C=2,
        k=3,
        s=2,
        dtype="float16",
        plant=("ties", "-inf"),
    ),
    _recipe(
        "int8 plane > 2^8, W = 128 + 1",
        W=129,
        H=17,
        D=3,
        C=3,
        k=3,
        s=2,
        dtype="int8",
        plant=("ties", "-inf"),
    ),
    _recipe(
        "plane > 2^24",
        W=4097,
        H=4097,
        D=257,
        plant=("ties", "-inf", "nan"),
        tile=128,
        dtype="uint8",
    ),
)

#: Recipes of the thorough budget only: the dense plane above 2^24 is judged by pooling it with
#: poolref.fast (minutes on a slow candidate); the quick one is sparse (``_scale_sparse``).
THOROUGH_ONLY = ("plane > 2^24",)

#: Where one rank needs other sizes to reach the recipe's seam: (rank, label) -> spec fields.
_RANK_OVERRIDES = {
    (1, "plane > 2^16"): {"spatial": (65537 + 64,)},
    (1, "plane > 2^24"): {"spatial": (2**24 + 3,)},
    (3, "plane > 2^16"): {"spatial": (41, 41, 41)},
    (3, "plane > 2^24"): {"spatial": (257, 257, 257)},
    (1, "kernel > 255 taps"): {"spatial": (907,), "kernel_size": (300,), "stride": (300,)},
}


def _quick_specs(nd: int, seed: int, thorough: bool = False) -> list:
    out = []
    for i, make in enumerate(QUICK + lane_recipes(_recipe) + sparse_recipes()):
        spec = make(nd, seed + i)
        if spec.label in THOROUGH_ONLY and not thorough:
            continue
        override: dict = dict(_RANK_OVERRIDES.get((nd, spec.label), {}))  # type: ignore[call-overload]
        if "spatial" in override:
            override["shape"] = (*spec.shape[:2], *override.pop("spatial"))
        out.append(dataclasses.replace(spec, **override))
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
        if f.startswith("lane ") and not lane_plantable(f, spec, behaviour):
            continue
        if behaviour.ties == "any" and f in (
            "ties",
            "-inf",
            "-0.0",
            "+inf",
            "negatives by padding",
        ):
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
            for n, kk, ss, p, d in zip(
                spec.spatial, spec.kernel_size, spec.stride, spec.padding, spec.dilation
            )
        ]
        spec = dataclasses.replace(spec, shape=(*spec.shape[:2], *sizes))
    if behaviour.ties == "any":
        if spec.sparse:
            return None, "ties='any': a constant plane is all ties"
        if np.dtype(spec.dtype).kind != "f" or spec.dtype == "float16":
            return None, "ties='any' needs distinct values (float32/float64)"
        spec = dataclasses.replace(spec, distinct=True)
    spec = dataclasses.replace(spec, plant=_plantable(spec.plant, spec, behaviour))
    if not spec.valid():
        return None, "not a valid call after fitting the declarations"
    return spec, ""


_LARGER = " (run it with a larger --max-elements or max_elements=)"


def scale_specs(
    nd: int,
    support,
    behaviour,
    budget: str = "quick",
    max_elements: int | None = None,
    seed: int | None = None,
):
    """The scale cases of rank ``nd`` for a candidate: ``(specs, skipped)``.

    ``skipped`` maps a reason (``"plane > 2^16: more elements than max_elements=50,000 (run it
    with a larger --max-elements or max_elements=)"``)
    to a count. Cases are fitted to ``support`` (dtypes, layouts, padding,
    ...) and to ``behaviour`` (see :func:`_plantable`).
    """
    plan: dict = SCALE_BUDGETS[budget]
    cap = plan["max_elements"] if max_elements is None else int(max_elements)
    base = 20260 if seed is None else int(seed)
    specs = _quick_specs(nd, base, budget == "thorough") + grid_specs(
        _recipe, nd, base, plan["grid"]
    )
    kept: list = []
    skipped: Counter = Counter()
    total = 0
    for spec in specs:
        fitted, reason = _fit(spec, support, behaviour)
        if fitted is None:
            skipped[f"{spec.label}: {reason}"] += 1
            continue
        if fitted.elements > cap:
            skipped[f"{spec.label}: more elements than max_elements={cap:,}{_LARGER}"] += 1
            continue
        if total + fitted.elements > plan["total_elements"]:
            skipped[
                f"{spec.label}: over the {budget} budget's {plan['total_elements']:,} elements per rank"
            ] += 1
            continue
        total += fitted.elements
        kept.append(fitted)
    return kept, skipped
