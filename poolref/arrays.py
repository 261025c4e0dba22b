"""Test arrays and cases without Hypothesis: distinct grids, memory layouts, source text.

Shared by :mod:`poolref.strategies` (which re-exports everything here) and the harness
:mod:`poolref.testing`, which must run its corner cases without drawing anything.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import DTypeLike

from ._params import PoolParams

__all__ = [
    "LAYOUTS",
    "PoolCase",
    "array_source",
    "distinct_grid",
    "layout_name",
    "layout_of",
    "with_layout",
]

#: Memory layouts understood by :func:`pool_cases`, all with the same logical values:
#: ``"C"`` C-contiguous; ``"F"`` a Fortran-ordered copy; ``"transposed"`` a
#: channels-last buffer viewed back in ``(N, C, *spatial)`` order (PyTorch's
#: ``channels_last``); ``"strided"`` every other element of a larger buffer
#: (step 2 along every axis; the skipped elements hold the dtype's largest
#: value, so reading them changes the result); ``"reversed"`` a buffer flipped
#: along every axis viewed back (negative strides).
LAYOUTS = ("C", "F", "transposed", "strided", "reversed")


def _scalar_source(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "np.nan"
        if math.isinf(value):
            return "np.inf" if value > 0 else "-np.inf"
        return repr(value)  # keeps -0.0; exact for every float16/32/64 value
    return repr(value)


def _nested_source(items: Any) -> str:
    if isinstance(items, list):
        return "[" + ", ".join(_nested_source(item) for item in items) + "]"
    return _scalar_source(items)


def array_source(x: np.ndarray) -> str:
    """Python source that rebuilds ``x``'s values, shape and dtype exactly.

    ``eval`` it with ``import numpy as np``; NaN and infinities are written as
    ``np.nan``/``np.inf`` and ``-0.0`` keeps its sign. The memory layout is not
    reproduced (it never changes a correct result).

    Parameters
    ----------
    x : array_like
        The array to write out.

    Returns
    -------
    str
        ``np.array([...], dtype=np.<name>)``, or ``np.empty(shape, dtype=...)`` when empty.

    Examples
    --------
    >>> import numpy as np
    >>> array_source(np.array([[1.0, np.nan, -0.0]], dtype=np.float32))
    'np.array([[1.0, np.nan, -0.0]], dtype=np.float32)'
    """
    x = np.asarray(x)
    body = _nested_source(x.tolist())
    if x.size == 0:
        return f"np.empty({x.shape!r}, dtype=np.{x.dtype.name})"
    return f"np.array({body}, dtype=np.{x.dtype.name})"


def layout_name(x: np.ndarray) -> str:
    """A short description of ``x``'s memory layout, for messages.

    Parameters
    ----------
    x : numpy.ndarray
        Any array.

    Returns
    -------
    str
        ``"C-contiguous"``, ``"F-contiguous"`` or ``"non-contiguous, strides=(...)"``.
    """
    if x.flags.c_contiguous:
        return "C-contiguous"
    if x.flags.f_contiguous:
        return "F-contiguous"
    return f"non-contiguous, strides={x.strides}"


class PoolCase(NamedTuple):
    """One valid pooling call: an input ``x`` and normalised parameters.

    Every parameter is a tuple with one entry per spatial dimension (the
    ``ceil_mode`` flag excepted), so ``f(case.x, **case.kwargs())`` is a valid
    call of the matching ``max_pool{nd}d``.

    Parameters
    ----------
    x : numpy.ndarray
        The input, ``(N, C, *spatial)`` or unbatched ``(C, *spatial)``.
    kernel_size : tuple of int
        Window size, one entry per spatial dimension.
    stride : tuple of int
        Step between windows.
    padding : tuple of int
        Implicit padding on both sides.
    dilation : tuple of int
        Spacing between the taps of a window.
    ceil_mode : bool
        Ceil instead of floor in the output-size formula.
    """

    x: np.ndarray
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    ceil_mode: bool

    @property
    def nd(self) -> int:
        """Number of spatial dimensions (1, 2 or 3)."""
        return len(self.kernel_size)

    @property
    def params(self) -> PoolParams:
        """The parameters as the one normalised form every implementation uses."""
        return PoolParams(
            tuple(self.kernel_size),
            tuple(self.stride),
            tuple(self.padding),
            tuple(self.dilation),
            bool(self.ceil_mode),
        )

    @property
    def batched(self) -> bool:
        """True for ``(N, C, *spatial)`` input, False for unbatched ``(C, *spatial)``."""
        return self.x.ndim == self.nd + 2

    def kwargs(self) -> dict[str, Any]:
        """``kernel_size``, ``stride``, ``padding``, ``dilation`` and ``ceil_mode`` as keywords."""
        return {
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "dilation": self.dilation,
            "ceil_mode": self.ceil_mode,
        }

    def snippet(self, func: str | None = None, *, module: str = "poolref", **extra: Any) -> str:
        """A one-line Python call reproducing this case, e.g. ``poolref.max_pool2d(np.array(...), ...)``.

        ``func`` defaults to ``max_pool{nd}d``; ``extra`` keywords (for
        example ``return_indices=True``) are appended.
        """
        func = func or f"max_pool{self.nd}d"
        kw = {**self.kwargs(), **extra}
        args = ", ".join(f"{k}={v!r}" for k, v in kw.items())
        return f"{module}.{func}({array_source(self.x)}, {args})"

    def __repr__(self) -> str:
        kw = ", ".join(f"{k}={v!r}" for k, v in self.kwargs().items())
        text = f"PoolCase(x={array_source(self.x)}, {kw})"
        if not self.x.flags.c_contiguous:
            text += f"  # x: {layout_name(self.x)}"
        return text


def _exact_int_limit(dtype: np.dtype) -> int:
    """Largest ``m`` such that every integer in ``[-m, m]`` is exact in ``dtype``."""
    if dtype.kind == "f":
        return 2 ** (np.finfo(dtype).nmant + 1)
    info = np.iinfo(dtype)
    return min(-int(info.min), int(info.max)) if info.min < 0 else int(info.max)


def distinct_grid(dtype: DTypeLike, n: int, *, domain: str = "any") -> np.ndarray:
    """``n`` distinct values of ``dtype`` in increasing order, centred on zero where possible.

    Integers while the dtype holds them exactly (float16: up to 2048 in
    magnitude, so up to 4097 values); beyond that, float16 uses consecutive
    representable values (every finite float16 is distinct); 8-bit integers
    have only 256 values, so larger ``n`` repeat them cyclically.

    Parameters
    ----------
    dtype : dtype-like
        One of the forward dtypes.
    n : int
        Number of values.
    domain : {"any", "finite", "nonnegative", "positive"}, optional
        ``"nonnegative"`` (or ``"positive"``) keeps the grid at ``>= 0``
        (``> 0``); ``"any"`` and ``"finite"`` change nothing (the grid is finite).

    Returns
    -------
    numpy.ndarray
        One-dimensional, ``n`` values of ``dtype``.

    Raises
    ------
    ValueError
        More float16 values than there are finite float16 numbers.
    """
    dtype = np.dtype(dtype)
    if domain in ("nonnegative", "positive"):
        wide = distinct_grid(dtype, 2 * n + 2)
        kept = wide[wide > 0] if domain == "positive" else wide[wide >= 0]
        return np.resize(kept, n)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        width = int(info.max) - int(info.min) + 1
        if n > width:
            return np.resize(np.arange(int(info.min), int(info.max) + 1, dtype=dtype), n)
        lo = max(int(info.min), -(n // 2))
        lo = min(lo, int(info.max) - n + 1)
        return np.arange(lo, lo + n).astype(dtype)
    limit = _exact_int_limit(dtype)
    if n <= 2 * limit + 1:
        return np.arange(-(n // 2), n - n // 2, dtype=np.float64).astype(dtype)
    # float16 only (within any sensible size): every finite float16, in order.
    bits = np.arange(0, 0x7C00, dtype=np.uint16)
    positive = bits.view(np.float16)  # 0, subnormals, normals up to 65504
    finite = np.concatenate([-positive[:0:-1], positive])
    if n > finite.size:
        msg = f"cannot draw n={n} distinct float16 values (only {finite.size} exist)"
        raise ValueError(msg)
    mid = finite.size // 2
    start = max(0, min(mid - n // 2, finite.size - n))
    return finite[start : start + n].astype(dtype)


def with_layout(x: np.ndarray, layout: str, *, channel_axis: int = 1) -> np.ndarray:
    """An array with ``x``'s logical values (and shape) in the memory layout ``layout``.

    Parameters
    ----------
    x : numpy.ndarray
        The values.
    layout : str
        One of :data:`LAYOUTS`.
    channel_axis : int, optional
        The axis that ``"transposed"`` moves last (1 for batched input, 0 for unbatched).

    Returns
    -------
    numpy.ndarray
        Equal to ``x``, in the requested layout; never shares memory with ``x``.

    Raises
    ------
    ValueError
        ``layout`` is not one of :data:`LAYOUTS`.
    """
    if layout not in LAYOUTS:
        msg = f"layout={layout!r} is not one of {LAYOUTS!r}"
        raise ValueError(msg)
    if layout == "C":
        return np.array(x, order="C", copy=True)
    if layout == "F":
        return np.array(x, order="F", copy=True)
    if layout == "transposed":
        order = [a for a in range(x.ndim) if a != channel_axis] + [channel_axis]
        buffer = np.array(x.transpose(order), order="C", copy=True)
        return buffer.transpose(np.argsort(order))
    if layout == "reversed":
        flip = (slice(None, None, -1),) * x.ndim
        return np.array(x[flip], order="C", copy=True)[flip]
    # strided
    garbage = np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).max
    buffer = np.full(tuple(2 * n for n in x.shape), garbage, dtype=x.dtype)
    step = (slice(None, None, 2),) * x.ndim
    buffer[step] = x
    return buffer[step]


def layout_of(x: np.ndarray, *, channel_axis: int = 1) -> str | None:
    """The :data:`LAYOUTS` entry whose strides ``x`` has, or None for any other layout.

    Compares strides with those :func:`with_layout` gives a fresh C-ordered copy, never
    ``np.ascontiguousarray(x)``: NumPy calls an array with negative strides on size-1 axes
    "contiguous" and would not copy it, although a consumer of the strides (MLX, a kernel)
    sees the difference.

    Parameters
    ----------
    x : numpy.ndarray
        Any array.
    channel_axis : int, optional
        As in :func:`with_layout`.

    Returns
    -------
    str or None
        The layout's name, or None if ``x``'s strides match none of them.
    """
    base = np.array(x, order="C", copy=True)
    for layout in LAYOUTS:
        if with_layout(base, layout, channel_axis=channel_axis).strides == x.strides:
            return layout
    return None
