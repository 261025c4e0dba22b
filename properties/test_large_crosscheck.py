"""fast and im2col agree exactly on large inputs, on the seams of optimised kernels.

The harness's scale cases (``poolref.testing._scale``) are judged by
``poolref.fast``; this property is what makes that judge trustworthy at
scale: ``fast`` (strided views per tap) and ``im2col`` (one column matrix)
share no window code, and must give the same values (sign of zero and NaN
included), the same indices, and gradients within the summation-order bound
of ``_assertions.summation_tolerance``.

Sizes sit on the seams (W, H, D around ``1..3 x {8, 16, 32, 64, 128} +- {0,
1, k - 1}``, N*C up to 256 with primes and multiples of 2..64, channels-last
layouts, planes up to ~300x300, kernels above 7 and above 255 taps, stride >
kernel) with the scale cases' planted values. Under the ``ci`` profile the
inputs stay small (at most 200,000 elements, 12 examples); under
``POOLREF_PROFILE=thorough`` they go wide (up to 3,000,000 elements, 300
examples).
"""

from __future__ import annotations

import dataclasses
import math
import os

import _assertions as pa
import numpy as np
from hypothesis import given, note, settings
from hypothesis import strategies as st

from poolref import fast, im2col
from poolref.testing import ScaleSpec
from poolref.testing._scale import MULTIPLES, PLANTS

THOROUGH = os.environ.get("POOLREF_PROFILE") == "thorough"
MAX_ELEMENTS = 3_000_000 if THOROUGH else 200_000
EXAMPLES = 300 if THOROUGH else 12
PLANES = (1, 2, 3, 5, 7, 8, 13, 16, 31, 32, 64, 96, 127, 128, 192, 251, 256)
CHANNELS_LAST_C = (1, 3, 8, 16, 17, 64, 65, 256)
DTYPES = ("float32", "float64", "float16", "int8", "int32", "uint8")


@st.composite
def _dim(draw, big_kernel: bool):
    """``(size, kernel, stride, padding, dilation)`` for one dimension, the size on a seam."""
    k = draw(st.sampled_from((17, 16, 12) if big_kernel else (1, 2, 2, 3, 3, 4, 5, 8, 9)))
    s = draw(st.sampled_from((k, k, max(1, k - 1), 1, 2, k + 1)))
    d = draw(st.sampled_from((1, 1, 1, 2))) if k > 1 and not big_kernel else 1
    p = draw(st.integers(0, k // 2)) if d == 1 else 0
    m = draw(st.sampled_from(MULTIPLES))
    size = m * draw(st.integers(1, 3)) + draw(st.sampled_from((-1, 0, 1, k - 1)))
    return max(size, d * (k - 1) + 1), k, s, p, d


@st.composite
def large_cases(draw):
    nd = draw(st.sampled_from((1, 2, 3)))
    big = draw(st.booleans()) and nd >= 2 and draw(st.booleans())  # > 255 taps sometimes
    dims = [draw(_dim(big and i >= nd - 2)) for i in range(nd)]
    if draw(st.booleans()) and nd >= 2:
        layout, c = "channels-last", draw(st.sampled_from(CHANNELS_LAST_C))
        n = draw(st.integers(1, 3))
    else:
        layout, planes = "C", draw(st.sampled_from(PLANES))
        n = draw(st.sampled_from([q for q in (1, 2, 4, 8) if planes % q == 0]))
        c = planes // n
    spec = ScaleSpec(
        shape=(n, c, *(dim[0] for dim in dims)),
        kernel_size=tuple(dim[1] for dim in dims),
        stride=tuple(dim[2] for dim in dims),
        padding=tuple(dim[3] for dim in dims),
        dilation=tuple(dim[4] for dim in dims),
        ceil_mode=draw(st.booleans()),
        dtype=draw(st.sampled_from(DTYPES)),
        layout=layout,
        plant=tuple(f for f in PLANTS if draw(st.booleans())),
        tile=draw(st.sampled_from(MULTIPLES)),
        seed=draw(st.integers(0, 2**16)),
    )
    shrink = 0  # keep within the memory cap (and im2col's column matrix within a few times that)
    while spec.elements > MAX_ELEMENTS or _im2col_work(spec) > 8 * MAX_ELEMENTS or not spec.valid():
        shrink += 1
        if shrink > 40:
            return draw(st.nothing())
        spec = _smaller(spec)
    return spec


def _im2col_work(spec: ScaleSpec) -> int:
    return spec.shape[0] * spec.shape[1] * math.prod(spec.kernel_size) * math.prod(spec.out_spatial)


def _smaller(spec: ScaleSpec) -> ScaleSpec:
    """Halve the largest of N, C and the spatial sizes (keeping every size a legal one)."""
    shape = list(spec.shape)
    axis = int(np.argmax(shape))
    shape[axis] = max(1, shape[axis] // 2)
    for i, (k, d) in enumerate(zip(spec.kernel_size, spec.dilation)):
        shape[2 + i] = max(shape[2 + i], d * (k - 1) + 1)
    if tuple(shape) == spec.shape:  # only the sizes the kernel needs are left: shrink the kernel
        return ScaleSpec(
            spec.shape, (2,) * spec.nd, (2,) * spec.nd, dtype=spec.dtype, seed=spec.seed
        )
    return dataclasses.replace(spec, shape=tuple(shape))


@settings(max_examples=EXAMPLES, deadline=None)
@given(spec=large_cases())
def test_fast_and_im2col_agree_exactly_on_large_inputs(spec):
    note(f"spec = {spec.source()}")
    x = spec.build()
    kwargs = dict(zip(("kernel_size", "stride", "padding", "dilation", "ceil_mode"), spec.kargs()))
    y_fast, i_fast = pa.forward(fast, spec.nd)(x, **kwargs, return_indices=True)
    y_im2col, i_im2col = pa.forward(im2col, spec.nd)(x, **kwargs, return_indices=True)
    pa.assert_pool_equal(y_im2col, y_fast, case=None, name="y")
    pa.assert_pool_equal(i_im2col, i_fast, case=None, name="indices")
    if x.dtype.kind != "f":
        return
    g = np.random.default_rng(spec.seed).uniform(-100, 100, size=y_fast.shape).astype(x.dtype)
    grad_fast = pa.backward(fast, spec.nd)(g, x, **kwargs)
    grad_im2col = pa.backward(im2col, spec.nd)(g, x, **kwargs)
    atol = pa.summation_tolerance(g, i_fast, x.shape, spec.nd)
    pa.assert_pool_close(grad_im2col, grad_fast, case=None, name="grad_input", atol=atol)
