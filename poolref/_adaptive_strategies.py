"""Hypothesis strategies for adaptive max pooling (re-exported by :mod:`poolref.strategies`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ._strategy_args import DTYPE_ORDER, profiles_for

__all__ = ["AdaptiveCase", "adaptive_cases"]


@dataclass(frozen=True)
class AdaptiveCase:
    """One valid adaptive max pooling call: an input and its ``output_size``.

    Parameters
    ----------
    x : numpy.ndarray
        Input of shape ``(N, C, *spatial)`` or ``(C, *spatial)``.
    output_size : tuple of int or None
        One entry per spatial dimension; None keeps the input's size.
    profile : str
        The value profile the elements were drawn from.
    """

    x: np.ndarray
    output_size: tuple[int | None, ...]
    profile: str

    @property
    def nd(self) -> int:
        """Number of spatial dimensions."""
        return len(self.output_size)


def adaptive_cases(
    *,
    ndims: Sequence[int] = (1, 2, 3),
    dtypes: Sequence[np.dtype] | None = None,
    profiles: Sequence[str] | None = None,
    max_side: int = 7,
    max_output: int = 9,
    allow_none: bool = True,
) -> st.SearchStrategy[AdaptiveCase]:
    """Strategy for valid adaptive max pooling cases, ``Out < In``, ``Out = In`` and ``Out > In``.

    Parameters
    ----------
    ndims : sequence of int, optional
        Spatial ranks to draw from (1, 2, 3).
    dtypes : sequence of dtype, optional
        The dtypes to draw from; default every forward dtype.
    profiles : sequence of str, optional
        Value profiles (``"ties"``, ``"nan"``, ...); default every profile valid for the dtype.
    max_side : int, optional
        Largest input side.
    max_output : int, optional
        Largest output side.
    allow_none : bool, optional
        Draw None entries of ``output_size`` (keep the input's size).

    Returns
    -------
    SearchStrategy[AdaptiveCase]
        Cases that shrink towards small float64 inputs and output size 1.
    """
    chosen = [np.dtype(t) for t in dtypes] if dtypes is not None else list(DTYPE_ORDER)
    return st.composite(_draw)(
        tuple(ndims), tuple(chosen), profiles, max_side, max_output, allow_none
    )


def _draw(draw, ndims, dtypes, profiles, max_side, max_output, allow_none) -> AdaptiveCase:
    from . import strategies  # late: strategies re-exports this module

    nd = draw(st.sampled_from(ndims))
    dtype = draw(st.sampled_from(dtypes))
    allowed = [p for p in profiles_for(dtype) if profiles is None or p in profiles]
    profile = draw(st.sampled_from(allowed))
    spatial = tuple(draw(st.integers(1, max_side)) for _ in range(nd))
    lead = draw(st.sampled_from([(1, 1), (2, 1), (1, 2), (2,), (1,)]))
    shape = (*lead, *spatial)
    if profile == "distinct":
        x = draw(strategies._arrays(dtype, shape, profile))
    else:
        elements = strategies._cached_values(dtype, profile, "any")
        x = draw(hnp.arrays(dtype, shape, elements=elements, fill=st.nothing()))
    entry = st.integers(1, max_output)
    if allow_none:
        entry = st.one_of(entry, st.none())
    output_size = tuple(draw(entry) for _ in range(nd))
    return AdaptiveCase(x=x, output_size=output_size, profile=profile)
