"""Scale cases that put hard values in every lane of whole vector tiles (see ``docs/scale.md``).

The quick recipes of :mod:`._scale_cases` plant hard values at a few positions (the last tile,
the first and last column). A vector loop's bug that needs a *hard value* and a *seam* at the
same time (a whole tile whose last window overhangs the edge, a ``>=``/``>`` mismatch between the
value and the index register, a compare done in float32 for float64) shows only when the hard
value sits in the lane the bug lives in. These recipes fill whole planes with one value class
each, so every lane position of every tile meets it:

========================  =====================================================================
plant                     each window of its planes holds
========================  =====================================================================
``lane -0.0``             ``-0.0`` and ``+0.0`` (and some ``-1``): signed-zero ties everywhere
``lane ties``             small integers 0..2: ties in nearly every window
``lane nan``              NaN at 8% of the elements
``lane inf``              ``+inf`` and ``-inf`` at 10% of the elements each
``lane near-ties``        float64 ``1 + k * 2**-40`` (equal once rounded to float32) and 5% of
                          values near ``1e300`` (beyond float32's range)
========================  =====================================================================

Plane ``p`` gets the class ``p % 5``; the shapes sit on the seams of vector widths 8, 16 and 32:
output widths a multiple of the width whose last window overhangs the input by padding or by
``ceil_mode`` (odd input widths with a 2x2 stride-2 window), and row blocks. The inputs are
float64 (a float32-only candidate gets float32, where ``lane near-ties`` is not planted).
"""

from __future__ import annotations

import numpy as np

from ._scale_spec import _PLANT_SEAMS, _PLANTERS, ScaleSpec, _planes

#: The lane plants, in the order of the planes they fill (plane ``p`` gets ``LANE_PLANTS[p % 5]``).
LANE_PLANTS = ("lane -0.0", "lane ties", "lane nan", "lane inf", "lane near-ties")
#: The vector widths whose whole tiles the lane recipes end on.
LANE_WIDTHS = (8, 16, 32)


def _fill(name: str):
    slot = LANE_PLANTS.index(name)

    def plant(spec: ScaleSpec, x: np.ndarray) -> None:
        planes = _planes(x)
        for p in range(slot, planes.shape[0], len(LANE_PLANTS)):
            rng = np.random.default_rng([spec.seed, p, 11])
            _FILLS[name](rng, planes[p])

    return plant


def _zeros(rng, plane: np.ndarray) -> None:
    if plane.dtype.kind == "f":
        plane[...] = rng.choice(np.array([-0.0, 0.0, -1.0]), size=plane.shape, p=[0.45, 0.45, 0.1])


def _ties(rng, plane: np.ndarray) -> None:
    plane[...] = rng.integers(0, 3, size=plane.shape)


def _nan(rng, plane: np.ndarray) -> None:
    if plane.dtype.kind == "f":
        plane[rng.random(plane.shape) < 0.08] = np.nan


def _inf(rng, plane: np.ndarray) -> None:
    if plane.dtype.kind == "f":
        draw = rng.random(plane.shape)
        plane[draw < 0.1] = np.inf
        plane[draw > 0.9] = -np.inf


def _near_ties(rng, plane: np.ndarray) -> None:
    if plane.dtype == np.float64:
        plane[...] = 1.0 + rng.integers(0, 64, size=plane.shape) * 2.0**-40
        big = rng.random(plane.shape) < 0.05
        plane[big] = 1e300 * (1.0 + rng.random(int(big.sum())))


_FILLS = {
    "lane -0.0": _zeros,
    "lane ties": _ties,
    "lane nan": _nan,
    "lane inf": _inf,
    "lane near-ties": _near_ties,
}
_PLANTERS.update({name: _fill(name) for name in LANE_PLANTS})
_PLANT_SEAMS.update(
    {
        "lane -0.0": "-0.0/+0.0 in every lane of a tile",
        "lane ties": "ties in every lane of a tile",
        "lane nan": "NaN in every lane of a tile",
        "lane inf": "+-inf in every lane of a tile",
        "lane near-ties": "float64 below float32 resolution or beyond its range",
    }
)


def lane_plantable(name: str, spec: ScaleSpec, behaviour) -> bool:
    """Whether a lane plant keeps the case inside what :mod:`poolref.fast` can judge."""
    if name == "lane nan":
        return spec.values == "any" and behaviour.nan in ("last", "propagate")
    if behaviour.ties == "any":  # every lane class makes ties (near-ties too, in float64)
        return False
    if name == "lane inf":
        return spec.values == "any"
    if name == "lane -0.0":
        return spec.values != "positive"
    return True


def lane_recipes(recipe) -> tuple:
    """The lane recipes, made with :func:`._scale_cases._recipe` (passed in: no import cycle)."""
    out = []
    for v in LANE_WIDTHS:
        common = {"N": 1, "C": 5, "plant": LANE_PLANTS, "tile": v, "dtype": "float64"}
        out.append(
            recipe(
                f"lanes: output W = 2*{v}, padding overhangs the last whole tile",
                W=4 * v - 1,
                H=7,
                D=3,
                k=3,
                s=2,
                p=1,
                **common,
            )  # fmt: skip
        )
        out.append(
            recipe(
                f"lanes: output W = {v}, 2x2 stride 2 ceil_mode, odd W",
                W=2 * v - 1,
                H=9,
                D=3,
                ceil=True,
                **common,
            )  # fmt: skip
        )
        out.append(
            recipe(
                f"lanes: output W = 2*{v}, 3x3 stride 1 padding 1, row blocks H = 17",
                W=2 * v,
                H=17,
                D=3,
                k=3,
                s=1,
                p=1,
                **common,
            )  # fmt: skip
        )
    return tuple(out)
