"""The thorough budget's extra scale cases: seeded draws from a grid of seams (see
:mod:`poolref.testing._scale`)."""

from __future__ import annotations

import numpy as np

from ._scale_spec import _CHANNELS, MULTIPLES, PLANTS

_CL = "channels-last"

_GRID_KERNELS = (
    (2, 2, 0),
    (3, 2, 1),
    (3, 1, 1),
    (2, 1, 0),
    (5, 3, 2),
    (4, 4, 0),
    (2, 3, 0),
    (9, 7, 4),
    (11, 11, 0),
)
_GRID_PLANES = (1, 2, 3, 7, 13, 16, 31, 64, 96, 127, 192, 251, 256)


def grid_specs(recipe, nd: int, seed: int, count: int) -> list:
    """``count`` seeded draws from the grid of seams (the thorough budget's extra cases).

    ``recipe`` is :func:`._scale_cases._recipe` (passed in: no import cycle).
    """
    rng = np.random.default_rng([seed, nd, 7])
    out = []
    for i in range(count):
        k, s, p = _GRID_KERNELS[rng.integers(len(_GRID_KERNELS))]
        m = int(rng.choice(MULTIPLES))
        delta = int(rng.choice((-1, 0, 1, k - 1)))
        w = max(k, m * int(rng.integers(1, 4)) + delta)
        h = max(
            k,
            int(rng.choice((1, 2, 3))) * int(rng.choice(MULTIPLES[:3]))
            + int(rng.choice((-1, 0, 1))),
        )
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
        make = recipe(
            f"grid {i}",
            W=w,
            H=h,
            D=dd,
            N=n,
            C=c,
            k=k,
            s=s,
            p=p,
            ceil=ceil,
            layout=layout,
            plant=plant,
            tile=m,
        )
        out.append(make(nd, seed + 1000 + i))
    return out
