"""Assertions and small helpers shared by the property tests.

The assertions follow array-api-tests: check dtype, then shape, then values;
the vectorised comparison runs first and the first differing element is only
looked up on failure. A failure message names that element, the call's
parameters and the input, and a one-line reproduction is attached to the
exception (``exc.add_note``) and to Hypothesis's report (``hypothesis.note``).

The window helpers compute, independently of every implementation, which input
positions each output's window covers; the invariant tests use them.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
from hypothesis import note
from hypothesis.errors import InvalidArgument

from poolref import fast, im2col, naive
from poolref._params import output_shape
from poolref.strategies import PoolCase, array_source
from poolref.testing._corners import TINY
from poolref.testing._expect import _scatter as scatter
from poolref.testing._expect import _window_taps as tap_table

#: The compiled implementation, when numba is installed (None otherwise).
try:
    from poolref import jit
except ImportError:
    jit = None
#: Every implementation, in the order used for test ids (poolref.jit last, when numba imports).
IMPLEMENTATIONS = (fast, im2col, naive) if jit is None else (fast, im2col, naive, jit)
#: The implementations checked against the naive oracle (poolref.jit too when numba imports).
CHECKED = (fast, im2col) if jit is None else (fast, im2col, jit)

#: Per-dtype tolerances for results that may differ by summation order (gradients).
GRAD_TOLERANCE = {
    np.dtype(np.float16): {"rtol": 2e-3, "atol": 2e-3},
    np.dtype(np.float32): {"rtol": 1e-6, "atol": 1e-6},
    np.dtype(np.float64): {"rtol": 1e-12, "atol": 1e-12},
}


def impl_id(module) -> str:
    """Short test id for an implementation module (``fast``, ``im2col``, ``naive``)."""
    return module.__name__.rsplit(".", 1)[-1]


def forward(impl, nd: int):
    return getattr(impl, f"max_pool{nd}d")


def backward(impl, nd: int):
    return getattr(impl, f"max_pool{nd}d_backward")


def unpool(impl, nd: int):
    return getattr(impl, f"max_unpool{nd}d")


def pool(impl, case: PoolCase, x=None, **extra):
    """Call ``impl``'s forward on ``case`` (or on ``x`` with the case's parameters)."""
    return forward(impl, case.nd)(case.x if x is None else x, **case.kwargs(), **extra)


# ----------------------------------------------------------------------------
# Assertions
# ----------------------------------------------------------------------------


def _same_values(actual: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Elementwise "identical": equal and same sign of zero, or both NaN."""
    if actual.dtype.kind != "f" and expected.dtype.kind != "f":
        return actual == expected
    equal = (actual == expected) & (np.signbit(actual) == np.signbit(expected))
    return equal | (np.isnan(actual) & np.isnan(expected))


def _fmt_index(name: str, index) -> str:
    return f"{name}[{', '.join(str(int(i)) for i in index)}]"


def _describe(case: PoolCase | None, func: str | None) -> str:
    if case is None:
        return ""
    x = case.x
    params = ", ".join(f"{k}={v!r}" for k, v in case.kwargs().items())
    return f" [{func or f'max_pool{case.nd}d'}(x.shape={x.shape}, x.dtype={x.dtype}, {params})]"


def _attach(exc: BaseException, snippet: str) -> None:
    # On the exception only: Hypothesis prints exception notes with the failing
    # example, so a hypothesis.note() as well would print the snippet twice.
    exc.add_note(snippet)


def record(label: str, value) -> None:
    """``hypothesis.note`` an intermediate result (printed with the failing example only)."""
    with contextlib.suppress(InvalidArgument):  # not inside a Hypothesis test
        note(f"{label} = {value!r}")


def fail(message: str, *, case: PoolCase | None = None, func: str | None = None, **extra):
    """Raise ``AssertionError(message)`` with the reproduction of ``case`` attached."""
    __tracebackhide__ = True
    exc = AssertionError(message + _describe(case, func))
    if case is not None:
        _attach(exc, "Reproduce with: import numpy as np, poolref; " + case.snippet(func, **extra))
    raise exc


def _same_dtype_and_shape(actual, expected, *, case, name, func, **extra):
    """Both as arrays, after failing on a dtype or shape difference (checked before values)."""
    __tracebackhide__ = True
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    if actual.dtype != expected.dtype:
        fail(
            f"{name}.dtype={actual.dtype}, but should be {expected.dtype}",
            case=case,
            func=func,
            **extra,
        )
    if actual.shape != expected.shape:
        fail(
            f"{name}.shape={actual.shape}, but should be {expected.shape}",
            case=case,
            func=func,
            **extra,
        )
    return actual, expected


def assert_pool_equal(
    actual, expected, *, case: PoolCase | None, name: str, func: str | None = None, **extra
):
    """``actual`` is ``expected`` exactly: dtype, shape, values (NaN equal to NaN, sign of zero).

    ``case`` and ``func`` describe the call that produced ``actual``; ``extra``
    keywords (``return_indices=True``, ...) go into the reproduction snippet.
    """
    __tracebackhide__ = True
    actual, expected = _same_dtype_and_shape(
        actual, expected, case=case, name=name, func=func, **extra
    )
    same = _same_values(actual, expected)
    if not np.all(same):
        bad = np.argwhere(~same)
        first = tuple(bad[0])
        fail(
            f"{_fmt_index(name, first)}={actual[first].item()!r}, but should be {expected[first].item()!r} "
            f"({len(bad)} of {actual.size} elements differ; shape {actual.shape}, dtype {actual.dtype})",
            case=case,
            func=func,
            **extra,
        )


def assert_pool_close(
    actual,
    expected,
    *,
    case: PoolCase | None,
    name: str,
    func: str | None = None,
    atol=None,
    **extra,
):
    """Like :func:`assert_pool_equal` for values, but within :data:`GRAD_TOLERANCE`.

    ``atol`` (a scalar or an array shaped like ``actual``, e.g. from
    :func:`summation_tolerance`) replaces the table's tolerances.
    """
    __tracebackhide__ = True
    actual, expected = _same_dtype_and_shape(
        actual, expected, case=case, name=name, func=func, **extra
    )
    tol = GRAD_TOLERANCE[actual.dtype] if atol is None else {"rtol": 0.0, "atol": atol}
    close = np.isclose(actual, expected, equal_nan=True, **tol)
    if not np.all(close):
        bad = np.argwhere(~close)
        first = tuple(bad[0])
        fail(
            f"{_fmt_index(name, first)}={actual[first].item()!r}, but should be {expected[first].item()!r} "
            f"within {'the summation bound' if atol is not None else tol} "
            f"({len(bad)} of {actual.size} elements differ)",
            case=case,
            func=func,
            **extra,
        )


def check(
    condition, message: str, *, case: PoolCase | None = None, func: str | None = None, **extra
):
    """``assert condition`` with the case's description and reproduction on failure."""
    __tracebackhide__ = True
    if not condition:
        fail(message, case=case, func=func, **extra)


# ----------------------------------------------------------------------------
# Windows, computed from the definition (no implementation code involved)
# ----------------------------------------------------------------------------


def output_sizes(case: PoolCase) -> tuple[int, ...]:
    """PyTorch's output size per dimension (the one rule, :func:`poolref._params.output_shape`)."""
    return output_shape(case.x.shape[-case.nd :], case.params)


def window_taps(case: PoolCase):
    """Tap positions of every window, from the harness's one tap table.

    Returns ``(flat, valid)``, both of shape ``(*O, K)`` with
    ``K = prod(kernel_size)``: ``flat`` is the row-major flat index of each
    tap in the unpadded plane (0 where invalid) and ``valid`` says whether
    the tap lies inside the input. Taps are in row-major window order, which
    is also increasing ``flat`` order among the valid ones.
    """
    out, taps = tap_table(case.x.shape[-case.nd :], case.params)
    valid = taps >= 0
    k_total = math.prod(case.kernel_size)
    return np.where(valid, taps, 0).reshape(*out, k_total), valid.reshape(*out, k_total)


def batched(x: np.ndarray, nd: int) -> np.ndarray:
    """View ``x`` as ``(N, C, *spatial)``."""
    return x if x.ndim == nd + 2 else x[np.newaxis]


def unpool_kwargs(case: PoolCase) -> dict:
    """Keywords of ``max_unpool{nd}d`` for ``case``: its kernel, stride, padding and ``x``'s size.

    Unpool has no dilation; ``x``'s own spatial size is always a valid ``output_size`` when d = 1.
    """
    return {
        "kernel_size": case.kernel_size,
        "stride": case.stride,
        "padding": case.padding,
        "output_size": case.x.shape[-case.nd :],
    }


def gather(x: np.ndarray, indices: np.ndarray, nd: int) -> np.ndarray:
    """``out[n, c, o] = x[n, c].flat[indices[n, c, o]]`` (index -1 reads element 0)."""
    xb = batched(x, nd)
    ib = batched(indices, nd)
    planes = xb.reshape(*xb.shape[:2], -1)
    taken = np.take_along_axis(planes, np.maximum(ib, 0).reshape(*ib.shape[:2], -1), axis=2)
    return taken.reshape(indices.shape)


def window_values(case: PoolCase):
    """``(values, valid, flat)``: every window's taps, shape ``(N, C, *O, K)`` for values."""
    flat, valid = window_taps(case)
    xb = batched(case.x, case.nd)
    planes = xb.reshape(*xb.shape[:2], -1)
    values = planes[:, :, np.where(valid, flat, 0)]
    return values, valid, flat


def scatter_add(grad_output: np.ndarray, indices: np.ndarray, input_shape, nd: int) -> np.ndarray:
    """Backward by definition (the harness's ``np.add.at`` in float64), cast to ``grad_output``'s dtype."""
    gb = batched(grad_output, nd)
    ib = batched(indices, nd)
    shape_b = tuple(input_shape) if len(input_shape) == nd + 2 else (1, *input_shape)
    total = scatter(gb, ib, ib != -1, shape_b)
    return total.reshape(input_shape).astype(grad_output.dtype)


def summation_tolerance(grad_output, indices, input_shape, nd: int) -> np.ndarray:
    """Per input element, how far two summation orders may be apart: ``(n + 1) * eps * sum|g|``.

    ``n`` gradients of total magnitude ``S`` land on the element; any order of
    ``n - 1`` additions in the dtype (or a wider one) plus the final rounding is
    within ``(n + 1) * eps * S`` of the exact sum.
    """
    magnitude = scatter_add(np.abs(grad_output).astype(np.float64), indices, input_shape, nd)
    counts = scatter_add(np.ones(grad_output.shape), indices, input_shape, nd)
    return (counts + 1) * np.finfo(grad_output.dtype).eps * magnitude


def integer_gradients(shape, dtype, seed: int, lo: int = -4, hi: int = 4) -> np.ndarray:
    """Small integer-valued gradients from a seed: every partial sum is exact in any float dtype."""
    return np.random.default_rng(seed).integers(lo, hi + 1, size=shape).astype(dtype)


def empty_windows(indices: np.ndarray) -> bool:
    """Whether any window has no valid tap (poolref's index -1)."""
    return bool((indices == -1).any())


def source(x) -> str:
    """Python source for an array (re-exported for messages)."""
    return array_source(np.asarray(x))


# ----------------------------------------------------------------------------
# Hard corners, run as explicit examples (every time, before the generated ones)
# ----------------------------------------------------------------------------


#: Cases that random generation reaches only now and then (several NaN in one window, ties,
#: signed zeros, the lowest value next to padding, empty windows, ceil-mode edges): the smallest
#: rows of the harness's corner catalogue, run as explicit examples before the generated ones.
HARD_CASES = tuple(case for _, case in TINY)


def with_hard_cases(predicate=lambda case: True, **other_arguments):
    """Add every :data:`HARD_CASES` entry accepted by ``predicate`` as an ``@example(case=...)``.

    ``other_arguments`` complete the example for tests that take more than ``case``.
    """
    from hypothesis import example

    def decorate(test):
        for case in reversed(HARD_CASES):
            if predicate(case):
                test = example(case=case, **other_arguments)(test)
        return test

    return decorate


def is_float(case: PoolCase) -> bool:
    return case.x.dtype.kind == "f"


def has_nan_or_signed_zero(case: PoolCase) -> bool:
    x = case.x
    return x.dtype.kind == "f" and bool(np.isnan(x).any() or (np.signbit(x) & (x == 0)).any())
