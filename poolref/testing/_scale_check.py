"""Checking one scale case against :mod:`poolref.fast`, shrinking a failing one, and its report
(see :mod:`poolref.testing._scale`)."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np

from . import _scale_sparse
from ._boundary import TargetCrashed, TargetMisbehaved, guarded_call
from ._declare import _import_source
from ._index import FORMAT_TEXT, encode
from ._scale_spec import MULTIPLES, ScaleSpec, seams_of

# ============================================================================
# Checking one case against poolref.fast
# ============================================================================


class ScaleFailure(AssertionError):
    """A check failed on a scale case; ``where`` is the first bad position (batched coordinates)."""

    def __init__(self, check: str, detail: str, *, where=None, extra: str = "", grad_output=None):
        super().__init__(f"[{check}] {detail}")
        self.check, self.detail, self.where, self.extra = check, detail, where, extra
        self.grad_output = grad_output


def _crash_failure(exc, grad_output=None) -> ScaleFailure:
    """A crash, exit, timeout or misbehaviour of the target as the scale case's failure."""
    detail = str(exc) if isinstance(exc, TargetCrashed) else exc.detail
    failure = ScaleFailure(exc.check, detail, grad_output=grad_output)
    failure.crash = getattr(exc, "kind", None)  # type: ignore[attr-defined]
    return failure


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
    for oi, k, s, p, d, _length in zip(o, *spec.kargs()[:4], spec.spatial):
        start = oi * s - p
        per_dim.append([start + j * d for j in range(k)])
    items: list = []
    for coords in itertools.product(*per_dim):
        if len(items) == limit:
            items.append("...")
            break
        if all(0 <= q < length for q, length in zip(coords, spec.spatial)):
            flat = int(np.ravel_multi_index(coords, spec.spatial))
            where_x = (n, c, *coords)
            items.append(f"{_fmt(xb[where_x])} @{flat} {tuple(coords)}")
        else:
            items.append("pad")
    return (
        f"window of output[{', '.join(map(str, where))}] (value @plane index (coordinates)): "
        + ", ".join(items)
    )


def _neighbourhood(name: str, a: np.ndarray, where: tuple) -> str:
    """``a`` along its last axis around ``where`` (5 entries either side)."""
    lo = max(0, where[-1] - 5)
    row = a[where[:-1]][lo : where[-1] + 6]
    return f"{name}[{', '.join(map(str, where[:-1]))}, {lo}:{lo + row.size}] = {np.array2string(row, separator=', ')}"


def _quarters(shape, dtype, seed: int) -> np.ndarray:
    """Quarter-integer gradients in +-[0.25, 8] from a seed (exact sums in float32/float64).

    For float64 each also has bits below float32's resolution (``k * 2**-40``, ``k < 2**16``):
    a backward that accumulates or rounds them in float32 loses them visibly, while float64
    sums of a few stay exact.
    """
    rng = np.random.default_rng([seed, 4])
    magnitude = rng.integers(1, 33, size=shape) / 4
    if np.dtype(dtype) == np.float64:
        magnitude = magnitude + rng.integers(1, 2**16, size=shape) * 2.0**-40
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
    if spec.sparse:  # a constant plane above 2^24: the expectation is arithmetic, not pooled
        y_exp, i_exp = _scale_sparse.expected(spec)
    else:
        y_exp, i_exp = _fast(spec.nd)(x, *kargs, return_indices=True)
    checked = (
        ~np.isnan(y_exp)
        if (cand.behaviour.nan == "propagate" and y_exp.dtype.kind == "f")
        else None
    )
    x_before = x.copy(order="K")
    try:
        out = guarded_call(cand.forward, "forward", (x, *kargs))
    except (TargetCrashed, TargetMisbehaved) as exc:
        raise _crash_failure(exc) from None
    except Exception as exc:  # noqa: BLE001 - report whatever the candidate raised
        raise ScaleFailure("forward raised", f"{type(exc).__name__}: {exc}") from None
    if not _same_bits(x, x_before):
        raise ScaleFailure("input modified", "the forward changed its input x")
    y, idx = out if isinstance(out, (tuple, list)) and len(out) == 2 else (out, None)
    if cand.support.indices and idx is None:
        raise ScaleFailure(
            "indices missing", "Support(indices=True) but the forward returned only the output"
        )
    y = np.asarray(y)
    if y.shape != y_exp.shape:
        raise ScaleFailure("output shape", f"output.shape={y.shape}, expected {y_exp.shape}")
    if y.dtype != y_exp.dtype:
        raise ScaleFailure(
            "output dtype", f"output.dtype={y.dtype}, expected {y_exp.dtype} (the input's dtype)"
        )
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
        zero = (
            " (signed zero: the output must be the input at the selected index)"
            if e[where] == 0 == y[where]
            else ""
        )
        raise ScaleFailure(
            "values",
            f"output[{', '.join(map(str, where))}] = {_fmt(y[where])}, expected {_fmt(e[where])}{zero}",
            where=where,
            extra="\n".join(
                [
                    _window_text(spec, x, where),
                    _neighbourhood("expected output", e, where),
                    _neighbourhood("actual output  ", y, where),
                ]
            ),
        )


def _compare_indices(spec, x, idx, expected, y_exp, behaviour, checked):
    if idx.shape != expected.shape:
        raise ScaleFailure("indices shape", f"indices.shape={idx.shape}, expected {expected.shape}")
    if behaviour.index_dtype is not None and idx.dtype != np.dtype(behaviour.index_dtype):
        raise ScaleFailure(
            "indices dtype", f"indices.dtype={idx.dtype}, expected {behaviour.index_dtype}"
        )
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
            "indices",
            f"indices[{', '.join(map(str, where))}] = {int(idx[where])}, expected {int(expected[where])}",
            where=where,
            extra="\n".join(
                [
                    f"index format: {FORMAT_TEXT[fmt]}",
                    _window_text(spec, x, where),
                    _neighbourhood("expected indices", expected, where),
                    _neighbourhood("actual indices  ", idx, where),
                ]
            ),
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
    try:
        grad = guarded_call(cand.backward, "backward", (g_call, x, *spec.kargs()))
    except (TargetCrashed, TargetMisbehaved) as exc:
        raise _crash_failure(exc, grad_output=g) from None
    except Exception as exc:  # noqa: BLE001
        raise ScaleFailure(
            "backward raised", f"{type(exc).__name__}: {exc}", grad_output=g
        ) from None
    if not _same_bits(x, x_before):
        raise ScaleFailure("input modified", "the backward changed its input x", grad_output=g)
    if not _same_bits(g_call, g_before):
        raise ScaleFailure(
            "grad_output modified", "the backward changed grad_output", grad_output=g
        )
    grad = np.asarray(grad)
    if grad.shape != x.shape or grad.dtype != x.dtype:
        raise ScaleFailure(
            "gradient shape" if grad.shape != x.shape else "gradient dtype",
            f"grad_input.shape={grad.shape}, dtype={grad.dtype}; expected {x.shape}, {x.dtype}",
            grad_output=g,
        )
    wrong = _wrong_gradient(spec, x, grad, g, i_exp)
    if wrong is not None:
        where, expected = wrong
        raise ScaleFailure(
            "gradient",
            f"grad_input[{', '.join(map(str, where))}] = {_fmt(grad[where])}, expected {_fmt(expected[where])}",
            where=where,
            grad_output=g,
            extra="\n".join(
                [
                    _neighbourhood("expected grad_input", expected, where),
                    _neighbourhood("actual grad_input  ", grad, where),
                ]
            ),
        )


def _wrong_gradient(spec, x, grad, g, i_exp):
    """``(first wrong position, expected gradient)``, or None when the gradient is right.

    A sparse case's windows are disjoint: each element gets at most one output's gradient, so
    ``grad`` is gathered at the indices and counted elsewhere, with no plane-size float64 arrays.
    """
    if spec.sparse:
        where = _scale_sparse.wrong_gradient(spec, grad, g, i_exp, _EPS[spec.dtype])
        if where is None:
            return None
        return where, _scale_sparse.expected_backward(spec, g, i_exp)
    expected = _fast(spec.nd, backward=True)(g, x, *spec.kargs())
    bound = _summation_bound(spec, g, i_exp)
    bad = ~(np.abs(grad.astype(np.float64) - expected.astype(np.float64)) <= bound)
    return (_first(bad), expected) if bad.any() else None


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
    """Greedily the smallest spec that still fails the same check (at most ``budget`` attempts).

    A crash or a timeout is not shrunk: every try would restart (or wait for) the target; nor is
    a sparse case (its size is its seam: a smaller plane is below 2^24).
    """
    if getattr(failure, "crash", None) or spec.sparse:
        return spec, failure
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
        return [
            f"candidate = {cand.source}",
            "forward, backward = candidate.forward, candidate.backward",
        ]
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
    snippet = [
        "import numpy as np",
        "import poolref.fast",
        "from poolref.testing import ScaleSpec",
        *_import_lines(cand, failure),
        f"spec = {spec.source()}",
        "x = spec.build()",
        f"actual = forward(x, {kargs})",
        f"expected = poolref.fast.max_pool{nd}d(x, {kargs}, return_indices=True)",
    ]
    if failure.grad_output is not None:
        snippet += [
            f"grad_output = __import__('poolref.testing._scale_check').testing._scale_check._quarters(expected[0].shape, x.dtype, {spec.seed})",
            f"actual_grad = backward(grad_output, x, {kargs})",
            f"expected_grad = poolref.fast.max_pool{nd}d_backward(grad_output, x, {kargs})",
        ]
    lines.append("  reproduce:")
    lines += ["    " + line for line in snippet]
    return "\n".join(lines)
