"""Max-pooling targets that end, hang or abuse the process they run in, for the isolation tests.

Each is poolref.fast's correct forward except on one kind of case, where it
does what real code has done: exits (``sys.exit(0)``, ``os._exit(0)``), dies
of a signal (a NULL read through ctypes, ``os.abort()``), hangs, returns a
view of its input, reshapes its input in place, writes into its input, or
reads its input's memory as if it were C-contiguous. The trigger is a
parameter of the case, so the report must name a case that has it.
``crashing_at_import.py`` exits while being imported.
"""

from __future__ import annotations

import ctypes
import os
import sys
import time

import numpy as np

import poolref.fast
from poolref.testing import Candidate, Support


def _pool(x, kernel_size, stride, padding, dilation, ceil_mode):
    fn = getattr(poolref.fast, f"max_pool{len(kernel_size)}d")
    return fn(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def correct(x, kernel_size, stride, padding, dilation, ceil_mode):
    return _pool(x, kernel_size, stride, padding, dilation, ceil_mode)


def exits_on_padding(x, kernel_size, stride, padding, dilation, ceil_mode):
    """``sys.exit(0)`` where padding is used (a "not supported, bye" branch)."""
    if any(padding):
        sys.exit(0)
    return _pool(x, kernel_size, stride, padding, dilation, ceil_mode)


def os_exits_on_dilation(x, kernel_size, stride, padding, dilation, ceil_mode):
    """``os._exit(0)``: no exception, no cleanup, status 0."""
    if any(d > 1 for d in dilation):
        os._exit(0)
    return _pool(x, kernel_size, stride, padding, dilation, ceil_mode)


def segfaults_on_ceil_mode(x, kernel_size, stride, padding, dilation, ceil_mode):
    """A NULL read through ctypes, as a C kernel reading past its buffer would."""
    if ceil_mode:
        ctypes.string_at(0)
    return _pool(x, kernel_size, stride, padding, dilation, ceil_mode)


def aborts_on_float16(x, kernel_size, stride, padding, dilation, ceil_mode):
    """``os.abort()``, as in a failed C assertion or a "double free"."""
    if x.dtype == np.float16:
        os.abort()
    return _pool(x, kernel_size, stride, padding, dilation, ceil_mode)


def hangs_on_kernel_3(x, kernel_size, stride, padding, dilation, ceil_mode):
    """Never returns on a kernel of 3 (a loop whose step never advances)."""
    if 3 in kernel_size:
        time.sleep(3600)
    return _pool(x, kernel_size, stride, padding, dilation, ceil_mode)


def returns_view_for_kernel_1(x, kernel_size, stride, padding, dilation, ceil_mode):
    """Kernel 1, stride 1 is the identity: "optimised" to return the input itself."""
    y, idx = _pool(x, kernel_size, stride, padding, dilation, ceil_mode)
    if all(k == 1 for k in kernel_size) and all(s == 1 for s in stride) and not any(padding):
        return x, idx
    return y, idx


def reshapes_input(x, kernel_size, stride, padding, dilation, ceil_mode):
    """Merges N and C of a C-contiguous batch in place (``x.shape = ...``) and never restores it."""
    nd = len(kernel_size)
    if x.ndim == nd + 2 and x.flags.c_contiguous:
        n, c = x.shape[:2]
        x.shape = (n * c, *x.shape[2:])  # "free" reshape: no copy
        y, idx = _pool(x, kernel_size, stride, padding, dilation, ceil_mode)
        return y.reshape(n, c, *y.shape[1:]), idx.reshape(n, c, *idx.shape[1:])
    return _pool(x, kernel_size, stride, padding, dilation, ceil_mode)


def writes_input(x, kernel_size, stride, padding, dilation, ceil_mode):
    """Pools correctly, then uses the input as scratch space (zeroes it)."""
    y, idx = _pool(x, kernel_size, stride, padding, dilation, ceil_mode)
    x[...] = 0
    return y, idx


def reads_memory_as_c_order(x, kernel_size, stride, padding, dilation, ceil_mode):
    """Reads ``x``'s memory as if it were C-contiguous (a C kernel that ignores strides)."""
    if min(x.strides, default=0) < 0:
        x = x.copy()  # (reading forward from the data pointer would leave the buffer)
    raw = np.lib.stride_tricks.as_strided(x, shape=(x.size,), strides=(x.itemsize,))
    return _pool(raw.reshape(x.shape).copy(), kernel_size, stride, padding, dilation, ceil_mode)


def layout_seen(x, kernel_size, stride, padding, dilation, ceil_mode):
    """Not a pooling: returns the strides and the bytes of the memory ``x`` spans, as the target saw them."""
    low = sum((n - 1) * s for n, s in zip(x.shape, x.strides) if s < 0)
    high = sum((n - 1) * s for n, s in zip(x.shape, x.strides) if s > 0) + x.itemsize
    start = x[
        tuple(slice(n - 1, None) if s < 0 else slice(0, 1) for n, s in zip(x.shape, x.strides))
    ]
    span = np.lib.stride_tricks.as_strided(
        start.reshape(1).view(np.uint8), shape=(high - low,), strides=(1,)
    )
    return np.array(x.strides), span.copy()


def raises_value_error(x, kernel_size, stride, padding, dilation, ceil_mode):
    raise ValueError(f"expected a 4-D array, got {x.ndim}-D")


def two_arguments(x, kernel_size):
    """The wrong signature for a forward."""
    return x


def _stride_2_forward(x, kernel_size, stride, padding, dilation, ceil_mode):
    if any(s != 2 for s in stride):
        raise NotImplementedError(f"stride {stride}: only 2")
    return _pool(x, kernel_size, stride, padding, dilation, ceil_mode)


#: Declares its restriction with a filter that does not pickle (a lambda).
stride_2_only = Candidate(
    _stride_2_forward,
    support=Support(accepts=lambda x, kernel_size, stride, *rest: all(s == 2 for s in stride)),
    name="crashing_targets.stride_2_only",
)
