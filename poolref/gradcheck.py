"""Numerical gradient checks for piecewise-linear functions such as max pooling.

JAX-style: instead of building the full Jacobian, compare one directional
derivative with the vector-Jacobian product the code under test computes,

    <vjp(cotangent), tangent>  ==  <cotangent, (f(x + eps*t) - f(x - eps*t)) / (2*eps)>

for random ``tangent`` and ``cotangent``. The cost is two evaluations of
``f`` whatever the size of ``x``.

Max pooling is not differentiable where a window's maximum is tied, so the
check is only meaningful on inputs whose distinct values are much further
apart than the perturbation: :func:`check_vjp` verifies that precondition
and refuses inputs that violate it. Within one linear piece a central
difference is exact up to rounding, so tolerances can be tight.

Why not SciPy here: SciPy is not a dependency of poolref (only of its
tests). ``scipy.optimize.approx_fprime`` builds the whole gradient with one
forward difference per element (cost grows with ``x.size``), and
``scipy.differentiate.derivative`` refines an adaptive sequence of steps
(starting at 0.5) with Richardson extrapolation, which assumes a smooth
function; on a piecewise-linear one, a large first step can cross a kink. The
test suite does use ``approx_fprime`` as an independent full-gradient check
on tiny inputs, where its cost does not matter.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: A function of a float64 array (what the checks call): its result is converted with ``np.asarray``.
_ArrayFunction = Callable[[NDArray[np.float64]], ArrayLike]

__all__ = ["GRADIENT_TOLERANCE", "check_vjp", "numerical_jvp", "numerical_vjp"]

#: Default tolerances for :func:`check_vjp` (the check runs in float64).
GRADIENT_TOLERANCE = {"rtol": 1e-7, "atol": 1e-9}


def numerical_jvp(
    f: _ArrayFunction, x: np.ndarray, tangent: np.ndarray, *, eps: float = 1e-3
) -> np.ndarray:
    """Central difference of ``f`` at ``x`` along ``tangent``, in float64.

    Parameters
    ----------
    f : callable
        ``f(x) -> array``; called twice, with float64 input.
    x, tangent : numpy.ndarray
        Point and direction, same shape.
    eps : float, optional
        Step along ``tangent``.

    Returns
    -------
    numpy.ndarray
        ``(f(x + eps * tangent) - f(x - eps * tangent)) / (2 * eps)``.
    """
    x = np.asarray(x, dtype=np.float64)
    tangent = np.asarray(tangent, dtype=np.float64)
    if tangent.shape != x.shape:
        msg = f"tangent.shape={tangent.shape} must equal x.shape={x.shape}"
        raise ValueError(msg)
    plus = np.asarray(f(x + eps * tangent), dtype=np.float64)
    minus = np.asarray(f(x - eps * tangent), dtype=np.float64)
    return (plus - minus) / (2 * eps)


def numerical_vjp(
    f: _ArrayFunction, x: np.ndarray, cotangent: np.ndarray, *, eps: float = 1e-3
) -> np.ndarray:
    """Gradient of ``<cotangent, f(x)>`` by central differences, one element at a time.

    ``2 * x.size`` evaluations of ``f``: for small inputs only.

    Parameters
    ----------
    f : callable
        ``f(x) -> array``; called with float64 input.
    x : numpy.ndarray
        The point.
    cotangent : numpy.ndarray
        Weights of ``f(x)``'s elements, shaped like ``f(x)``.
    eps : float, optional
        Step of each central difference.

    Returns
    -------
    numpy.ndarray
        The gradient, float64, shaped like ``x``.
    """
    x = np.asarray(x, dtype=np.float64)
    cotangent = np.asarray(cotangent, dtype=np.float64)
    grad = np.zeros_like(x)
    basis = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        basis[i] = 1.0
        grad[i] = np.vdot(cotangent, numerical_jvp(f, x, basis, eps=eps))
        basis[i] = 0.0
    return grad


def _smallest_gap(x: np.ndarray) -> float:
    finite = np.unique(x[np.isfinite(x)])
    if finite.size < 2:
        return np.inf
    return float(np.min(np.diff(finite)))


def check_vjp(
    f: _ArrayFunction,
    f_vjp: _ArrayFunction,
    x: np.ndarray,
    *,
    eps: float = 1e-3,
    rtol: float | None = None,
    atol: float | None = None,
    rng: np.random.Generator | None = None,
) -> None:
    """Assert that ``f_vjp`` is the vector-Jacobian product of ``f`` at ``x``.

    Parameters
    ----------
    f : callable
        ``f(x) -> y`` with finite float output.
    f_vjp : callable
        ``f_vjp(cotangent) -> gradient`` shaped like ``x`` (for pooling: the
        backward with ``grad_output=cotangent``).
    x : numpy.ndarray
        The point; converted to float64. Its distinct finite values must be at
        least ``4 * eps * max|tangent|`` apart, so that the perturbation never
        reorders two elements (checked).
    eps : float, optional
        Finite-difference step.
    rtol, atol : float, optional
        Tolerances; default :data:`GRADIENT_TOLERANCE`.
    rng : numpy.random.Generator, optional
        Source of the random tangent and cotangent (standard normal); default
        ``np.random.default_rng(0)``, so the check is deterministic.

    Raises
    ------
    ValueError
        If the precondition on ``x`` does not hold or ``f(x)`` is not finite.
    AssertionError
        If the two inner products differ.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    rtol = GRADIENT_TOLERANCE["rtol"] if rtol is None else rtol
    atol = GRADIENT_TOLERANCE["atol"] if atol is None else atol
    x = np.array(x, dtype=np.float64)
    y = np.asarray(f(x), dtype=np.float64)
    if not np.isfinite(y).all():
        msg = "check_vjp needs finite outputs f(x); mask empty windows (-inf) first"
        raise ValueError(msg)
    tangent = rng.standard_normal(x.shape)
    cotangent = rng.standard_normal(y.shape)
    gap = _smallest_gap(x)
    needed = 4 * eps * (np.max(np.abs(tangent)) if tangent.size else 0.0)
    if not gap > needed:
        msg = (
            f"check_vjp needs distinct values at least {needed:.3g} apart (4 * eps * max|tangent|); "
            f"the smallest gap in x is {gap:.3g}: max pooling is not differentiable at ties"
        )
        raise ValueError(msg)
    numerical = float(np.vdot(cotangent, numerical_jvp(f, x, tangent, eps=eps)))
    analytic = float(np.vdot(np.asarray(f_vjp(cotangent), dtype=np.float64), tangent))
    if not np.isclose(analytic, numerical, rtol=rtol, atol=atol):
        msg = (
            f"<vjp(cotangent), tangent>={analytic!r}, but the central difference "
            f"<cotangent, jvp(tangent)> is {numerical!r} (eps={eps}, rtol={rtol}, atol={atol})"
        )
        raise AssertionError(msg)
