"""Adaptive and fractional pooling targets that crash, hang, exit or support one dtype only.

Each is poolref's correct forward except on one kind of case; the trigger is part of the case
(a NaN in an input whose output is larger, ``Out > In``), so the report must name such a case.
For the isolation and probe tests of ``check_adaptive_max_pool`` / ``check_fractional_max_pool``.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

import poolref


def adaptive(x, output_size):
    return getattr(poolref, f"adaptive_max_pool{len(output_size)}d")(x, output_size, True)


def fractional(x, kernel_size, output_size, random_samples):
    fn = getattr(poolref, f"fractional_max_pool{len(output_size)}d")
    return fn(x, kernel_size, output_size, None, True, random_samples)


def _trigger(x, output_size) -> bool:
    grows = any(o > n for o, n in zip(output_size, x.shape[-len(output_size) :]))
    return grows and x.dtype.kind == "f" and bool(np.isnan(x).any())


def aborts(x, output_size):
    """``os.abort()`` (SIGABRT) on a NaN input with Out > In."""
    if _trigger(x, output_size):
        os.abort()
    return adaptive(x, output_size)


def hangs(x, output_size):
    """Never returns on a NaN input with Out > In (a ``while`` loop on a NaN comparison)."""
    if _trigger(x, output_size):
        time.sleep(3600)
    return adaptive(x, output_size)


def exits(x, output_size):
    """``sys.exit(0)`` on a NaN input with Out > In."""
    if _trigger(x, output_size):
        sys.exit(0)
    return adaptive(x, output_size)


def float32_only(x, output_size):
    """Rejects every dtype but float32 with a clear TypeError (a float32 kernel)."""
    if x.dtype != np.float32:
        msg = f"only float32 is implemented, got {x.dtype}"
        raise TypeError(msg)
    return adaptive(x, output_size)


def fractional_aborts_on_kernel_1(x, kernel_size, output_size, random_samples):
    """``os.abort()`` where a kernel size is 1."""
    if 1 in kernel_size:
        os.abort()
    return fractional(x, kernel_size, output_size, random_samples)


def fractional_float32_only(x, kernel_size, output_size, random_samples):
    """Rejects every dtype but float32."""
    if x.dtype != np.float32:
        msg = f"only float32 is implemented, got {x.dtype}"
        raise TypeError(msg)
    return fractional(x, kernel_size, output_size, random_samples)
