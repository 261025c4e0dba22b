"""``check_fractional_sequences``: fractional max pooling whose boundaries the target draws itself.

TensorFlow's ``tf.nn.fractional_max_pool`` takes no samples: it draws each dimension's
boundary sequence with its own generator and returns it (``row_pooling_sequence``,
``col_pooling_sequence``). Such a target is checked in two parts:

1. The sequence itself (:func:`sequence_problems`): ``out + 1`` integers from 0 to ``n``
   with steps ``k = n // out`` or ``k + 1``. ``pseudo_random=False``: exactly ``n % out``
   steps of ``k + 1`` (TF shuffles them). ``pseudo_random=True``: there is one ``u`` in
   ``[0, u_max)`` with ``seq[i] = ceil(alpha * (i + u)) - 1`` for ``0 < i < out``,
   ``alpha = n / out``, ``u_max = min((k + 2) / alpha - 1, (n + 1 - k) / alpha - (out - 1))``
   (TF's ``GeneratePoolingSequencePseudoRandom``; the intervals each ``seq[i]`` allows for
   ``u`` must intersect).
2. The pooling over the boundaries it reported (:func:`max_pool_boundaries`): window ``i``
   holds ``seq[i] .. seq[i + 1] - 1``, or ``seq[i] .. min(seq[i + 1], n - 1)`` with
   ``overlapping=True``; the output is the window's maximum, the gradient goes to its first
   maximum in row-major order (poolref's rule, TF's gradient kernel's ``<`` comparison).

The values are finite unless ``profiles`` asks for more (TF's forward NaN rule is Eigen's
``cwiseMax``, not specified; an all ``-inf`` window is an open question, see
docs/findings.md).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from ._check import _call
from ._report import _array_text, _Failure
from ._summary import Difference, Summary

__all__ = ["check_fractional_sequences", "max_pool_boundaries", "sequence_problems"]


def sequence_problems(seq, n: int, out: int, pseudo_random: bool) -> list[str]:
    """What is wrong with one dimension's boundary sequence (empty: nothing)."""
    seq = [int(v) for v in np.asarray(seq).ravel()]
    if len(seq) != out + 1:
        return [f"has {len(seq)} entries, expected out + 1 = {out + 1}"]
    problems = []
    if seq[0] != 0 or seq[-1] != n:
        problems.append(f"runs from {seq[0]} to {seq[-1]}, expected 0 to {n}")
    k = n // out
    steps = [b - a for a, b in zip(seq, seq[1:])]
    if any(s not in (k, k + 1) for s in steps):
        problems.append(f"has steps {steps}, expected only {k} and {k + 1}")
    elif not pseudo_random and steps.count(k + 1) != n % out:
        problems.append(f"has {steps.count(k + 1)} steps of {k + 1}, expected n % out = {n % out}")
    if pseudo_random and not problems and _pseudo_random_u(seq, n, out) is None:
        problems.append("is not ceil(alpha * (i + u)) - 1 for any one u in [0, u_max)")
    return problems


def _pseudo_random_u(seq, n: int, out: int) -> tuple[float, float] | None:
    """The interval of ``u`` that gives ``seq`` by TF's pseudo-random formula, or None."""
    alpha, k = n / out, n // out
    low, high = 0.0, min((k + 2) / alpha - 1, (n + 1 - k) / alpha - (out - 1))
    eps = 1e-9  # TF computes in double; allow its rounding at an interval's end
    for i in range(1, out):
        a = seq[i] + 1  # = ceil(alpha * (i + u))  <=>  a - 1 < alpha * (i + u) <= a
        low = max(low, (a - 1) / alpha - i)
        high = min(high, a / alpha - i)
    return (low, high) if low < high + eps else None


def max_pool_boundaries(x: np.ndarray, rows, cols, overlapping: bool):
    """Max pooling of NCHW ``x`` over given boundaries: ``(y, first-maximum flat indices)``."""
    n_batch, n_chan, height, width = x.shape
    spans = []
    for seq, size in ((rows, height), (cols, width)):
        seq = [int(v) for v in seq]
        ends = [min(b, size - 1) if overlapping else b - 1 for b in seq[1:]]
        spans.append([range(a, e + 1) for a, e in zip(seq, ends)])
    y = np.empty((n_batch, n_chan, len(spans[0]), len(spans[1])), dtype=x.dtype)
    idx = np.empty(y.shape, dtype=np.int64)
    planes = x.reshape(n_batch, n_chan, -1)
    for (i, r), (j, c) in itertools.product(enumerate(spans[0]), enumerate(spans[1])):
        flat = np.array([h * width + w for h in r for w in c], dtype=np.int64)
        values = planes[:, :, flat]
        best = np.argmax(values, axis=-1)
        y[:, :, i, j] = np.take_along_axis(values, best[..., None], -1)[..., 0]
        idx[:, :, i, j] = flat[best]
    return y, idx


def _gradient(g: np.ndarray, idx: np.ndarray, shape) -> np.ndarray:
    grad = np.zeros((shape[0] * shape[1], math.prod(shape[2:])), dtype=np.float64)
    flat_idx = idx.reshape(grad.shape[0], -1)
    np.add.at(grad, (np.arange(grad.shape[0])[:, None], flat_idx), g.reshape(flat_idx.shape))
    return grad.reshape(shape).astype(g.dtype)


#: The first cases: pooling ratio 1 (every window one element), one row, output 1.
_CORNERS = (((1, 1, 2, 3), (1.0, 1.0)), ((1, 1, 1, 4), (1.0, 2.0)), ((1, 2, 3, 3), (2.5, 2.9)))


def _cases(n_cases: int, dtypes, seed: int):
    rng = np.random.default_rng(seed)
    for shape, ratio in _CORNERS[:n_cases]:
        yield rng.permutation(math.prod(shape)).astype(dtypes[0]).reshape(shape), ratio
    for i in range(n_cases - len(_CORNERS)):
        dtype = np.dtype(dtypes[i % len(dtypes)])
        shape = (int(rng.integers(1, 3)), int(rng.integers(1, 3)), *rng.integers(2, 12, 2))
        drawn = rng.uniform(1.0, 3.0, 2)
        pair = tuple(min(float(r), float(s) - 0.01) for r, s in zip(drawn, shape[2:]))
        size = math.prod(shape)
        values = rng.permutation(size) if i % 2 else rng.integers(0, 4, size)  # distinct / ties
        yield values.astype(dtype).reshape(shape), pair


def _check_one(run, x, ratio, pseudo_random, overlapping) -> None:
    g_shape = tuple(int(s // r) for s, r in zip(x.shape[2:], ratio))
    g = (np.random.default_rng(x.size).integers(-8, 9, (*x.shape[:2], *g_shape)) / 4).astype(
        x.dtype if x.dtype.kind == "f" else np.float64
    )
    y, rows, cols, grad = _call(
        run, "forward", (x.copy(), ratio, g if x.dtype.kind == "f" else None)
    )
    for name, seq, size, out in (
        ("rows", rows, x.shape[2], g_shape[0]),
        ("cols", cols, x.shape[3], g_shape[1]),
    ):
        problems = sequence_problems(seq, size, out, pseudo_random)
        if problems:
            raise _Failure(
                "sequence",
                f"the {name} sequence {[int(v) for v in np.asarray(seq)]} " + "; ".join(problems),
            )
    want_y, want_i = max_pool_boundaries(x, rows, cols, overlapping)
    y = np.asarray(y)
    if y.shape != want_y.shape or y.dtype != want_y.dtype or not np.array_equal(y, want_y):
        raise _Failure("values", f"output {_array_text(y)}, expected {_array_text(want_y)}")
    if grad is not None:
        want_g = _gradient(g, want_i, x.shape)
        if not np.allclose(np.asarray(grad), want_g, rtol=2.0**-9, atol=0):
            raise _Failure(
                "gradient",
                f"gradient {_array_text(np.asarray(grad))}, expected {_array_text(want_g)}",
            )


def check_fractional_sequences(
    run: Callable,
    *,
    pseudo_random: bool,
    overlapping: bool,
    name: str = "candidate",
    dtypes: Sequence = ("float64", "float32"),
    n_cases: int = 100,
    seed: int = 0,
) -> Summary:
    """Check a fractional max pooling that draws its own boundaries, given the ones it reports.

    Parameters
    ----------
    run : callable
        ``run(x, pooling_ratio, grad_output)`` returning ``(y, rows, cols, grad)``: ``x`` is
        NCHW, ``pooling_ratio`` a pair of floats ``>= 1``, ``rows`` and ``cols`` the boundary
        sequences it used, ``grad`` the gradient for ``grad_output`` (None when
        ``grad_output`` is None: integer input).
    pseudo_random, overlapping : bool
        The target's mode (which sequences and windows are expected).
    name : str, optional
        The label in reports.
    dtypes : sequence of dtype, optional
        Input dtypes to check.
    n_cases : int, optional
        Cases: three fixed ones (pooling ratio 1, one row, output 1), then random ones
        (shapes 2..11, ratios in [1, 3), distinct values and ties).
    seed : int, optional
        Seed of the cases.

    Returns
    -------
    Summary
        One difference per failing check (``sequence``, ``values``, ``gradient``...), first
        case first.
    """
    start = time.perf_counter()
    found: dict[str, Difference] = {}
    for i, (x, ratio) in enumerate(_cases(n_cases, list(dtypes), seed)):
        try:
            _check_one(run, x, ratio, pseudo_random, overlapping)
        except _Failure as failure:
            if failure.check not in found:
                report = (
                    f"fractional max pooling of {name} is wrong [{failure.check}]: {failure.detail}\n"
                    f"  found by: case {i + 1} of {n_cases} (seed={seed})\n"
                    f"  x = {_array_text(x, limit=3000)}\n  pooling_ratio = {ratio!r}, "
                    f"pseudo_random={pseudo_random}, overlapping={overlapping}"
                )
                found[failure.check] = Difference(
                    failure.check, failure.check, failure.detail, report, f"case {i + 1}"
                )
    return Summary(
        name=name,
        ndims=(2,),
        corner_cases=n_cases,
        seconds=time.perf_counter() - start,
        differences=list(found.values()),
    )
