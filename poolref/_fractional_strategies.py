"""Hypothesis strategies for fractional max pooling (re-exported by :mod:`poolref.strategies`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ._strategy_args import DTYPE_ORDER, profiles_for

__all__ = ["FractionalCase", "fractional_cases", "samples_dtype"]


def samples_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype of the samples for an input dtype: the input's own float dtype, else float64."""
    dtype = np.dtype(dtype)
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


@dataclass(frozen=True)
class FractionalCase:
    """One valid fractional max pooling call with given samples.

    Parameters
    ----------
    x : numpy.ndarray
        Input of shape ``(N, C, *spatial)`` or ``(C, *spatial)``.
    kernel_size : tuple of int
        The window size, one entry per spatial dimension.
    output_size : tuple of int
        The output size; ``output_size + kernel_size - 1 <= input size`` in every dimension.
    random_samples : numpy.ndarray
        Samples in ``[0, 1)`` of shape ``(N, C, nd)`` (``(1, C, nd)`` for unbatched input), of
        ``x``'s float dtype (float64 for integer ``x``), in PyTorch's order (2-D: W, H).
    profile : str
        The value profile the elements were drawn from.
    """

    x: np.ndarray
    kernel_size: tuple[int, ...]
    output_size: tuple[int, ...]
    random_samples: np.ndarray
    profile: str

    @property
    def nd(self) -> int:
        """Number of spatial dimensions."""
        return len(self.output_size)


def fractional_cases(
    *,
    ndims: Sequence[int] = (2, 3),
    dtypes: Sequence[np.dtype] | None = None,
    profiles: Sequence[str] | None = None,
    max_side: int = 7,
    full_span: bool = True,
) -> st.SearchStrategy[FractionalCase]:
    """Strategy for valid fractional max pooling cases with given samples.

    Parameters
    ----------
    ndims : sequence of int, optional
        Spatial ranks to draw from (2, 3).
    dtypes : sequence of dtype, optional
        The dtypes to draw from; default every forward dtype.
    profiles : sequence of str, optional
        Value profiles (``"ties"``, ``"nan"``, ...); default every profile valid for the dtype.
    max_side : int, optional
        Largest input side.
    full_span : bool, optional
        Draw ``output_size + kernel_size - 1 == input size`` too (PyTorch's 3-D form rejects it).

    Returns
    -------
    SearchStrategy[FractionalCase]
        Cases that shrink towards small float64 inputs, kernel 1, output size 1 and samples 0;
        samples 0 and the largest float below 1 are drawn often.
    """
    chosen = [np.dtype(t) for t in dtypes] if dtypes is not None else list(DTYPE_ORDER)
    return st.composite(_draw)(tuple(ndims), tuple(chosen), profiles, max_side, full_span)


def _samples(dtype: np.dtype, shape: tuple[int, ...]):
    near_one = np.nextafter(dtype.type(1), dtype.type(0))
    width = 8 * dtype.itemsize
    elements = st.one_of(
        st.just(0.0),
        st.just(float(near_one)),
        st.floats(0, 1, exclude_max=True, width=width),  # type: ignore[arg-type]
    )
    return hnp.arrays(dtype, shape, elements=elements)


def _draw(draw, ndims, dtypes, profiles, max_side, full_span) -> FractionalCase:
    from . import strategies  # late: strategies re-exports this module

    nd = draw(st.sampled_from(ndims))
    dtype = draw(st.sampled_from(dtypes))
    allowed = [p for p in profiles_for(dtype) if profiles is None or p in profiles]
    profile = draw(st.sampled_from(allowed))
    spatial, kernel, out = [], [], []
    for _ in range(nd):
        n = draw(st.integers(1 if full_span else 2, max_side))
        k = draw(st.integers(1, n if full_span else n - 1))
        o = draw(st.integers(1, n - k + 1 if full_span else n - k))
        spatial.append(n)
        kernel.append(k)
        out.append(o)
    lead = draw(st.sampled_from([(1, 1), (2, 1), (1, 2), (2, 2), (2,), (1,)]))
    shape = (*lead, *spatial)
    if profile == "distinct":
        x = draw(strategies._arrays(dtype, shape, profile))
    else:
        elements = strategies._cached_values(dtype, profile, "any")
        x = draw(hnp.arrays(dtype, shape, elements=elements, fill=st.nothing()))
    planes = lead if len(lead) == 2 else (1, lead[0])
    u = draw(_samples(samples_dtype(dtype), (*planes, nd)))
    return FractionalCase(x, tuple(kernel), tuple(out), u, profile)
