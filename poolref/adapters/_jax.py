"""JAX: ``jax.lax.reduce_window`` with ``lax.max`` and its VJP."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from .._params import PoolParams, output_size
from ..testing import ALL_DTYPES, FLOAT_DTYPES, Behaviour, Candidate, Support
from ._common import _import

#: JAX ``lax.reduce_window`` with ``lax.max``: see docs/behaviours.md.
JAX = Behaviour(nan="propagate", signed_zero="any", padding="compared")


def _jax_padding(spatial, params: PoolParams):
    """``(lo, hi)`` per spatial dim giving PyTorch's windows (``hi`` may be negative: a crop)."""
    pads = []
    for n, k, s, p, d in zip(
        spatial, params.kernel_size, params.stride, params.padding, params.dilation
    ):
        o = output_size(n, k, s, p, d, params.ceil_mode)
        eff = d * (k - 1) + 1
        pads.append((p, (o - 1) * s + eff - n - p))
    return pads


def jax(*, x64: bool | None = None) -> Candidate:
    """``jax.lax.reduce_window(x, lowest, lax.max, ...)`` and its VJP (``jax.vjp``).

    There are no indices. ``ceil_mode`` is emulated with extra (or negative)
    end padding so the windows are PyTorch's. Declared behaviour
    (:data:`JAX`): NaN propagates but the gradient goes to the element after
    a NaN (``nan="propagate"``); the padding is the init value and is
    compared (``padding="compared"``); ``max(-0.0, +0.0)`` is ``+0.0``
    (``signed_zero="any"``). The VJP is not implemented with window dilation
    (``Support(backward_dilation=False)``).

    Parameters
    ----------
    x64 : bool, optional
        Set ``jax_enable_x64`` (a process-wide JAX setting). By default the
        current setting is kept; float64/int64 are supported only with it on.

    Returns
    -------
    Candidate
        Ready for :func:`poolref.testing.check_max_pool` or ``poolref verify``.
    """
    jax_mod = _import("jax", "jax", "install JAX (pip install jax jaxlib)")
    lax = importlib.import_module("jax.lax")
    jnp = importlib.import_module("jax.numpy")
    if x64 is not None:
        jax_mod.config.update("jax_enable_x64", bool(x64))
    x64_on = bool(jax_mod.config.read("jax_enable_x64"))
    jitted = _jit_cache(jax_mod, lax)

    def forward(x, kernel_size, stride, padding, dilation, ceil_mode):
        params = PoolParams(kernel_size, stride, padding, dilation, ceil_mode)
        return np.asarray(jitted("forward", x.shape, x.dtype, params)(jnp.asarray(x)))

    def backward(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode):
        params = PoolParams(kernel_size, stride, padding, dilation, ceil_mode)
        fn = jitted("backward", x.shape, x.dtype, params)
        return np.asarray(fn(jnp.asarray(x), jnp.asarray(grad_output)))

    dtypes = ALL_DTYPES if x64_on else tuple(d for d in ALL_DTYPES if not d.endswith("64"))
    support = Support(
        dtypes=dtypes,
        backward_dtypes=tuple(d for d in FLOAT_DTYPES if d in dtypes),
        indices=False,
        backward_dilation=False,
    )
    return Candidate(
        forward,
        backward,
        support,
        JAX,
        budget_scale=0.1,  # every new shape is compiled (~0.1 s forward, ~0.3 s VJP)
        name=f"jax {jax_mod.__version__} lax.reduce_window ({jax_mod.default_backend()}, x64 {'on' if x64_on else 'off'})",
        source=f"__import__('poolref.adapters').adapters.jax(x64={x64_on!r})",
    )


def _pool_fn(
    lax: ModuleType, x_shape: tuple[int, ...], dtype: np.dtype, params: PoolParams
) -> Callable[[Any], Any]:
    """``f(a)``: ``lax.reduce_window`` max pooling of an array of this shape and dtype."""
    lead = len(x_shape) - params.nd
    init = np.array(-np.inf if dtype.kind == "f" else np.iinfo(dtype).min, dtype=dtype)
    pads = [(0, 0)] * lead + _jax_padding(x_shape[lead:], params)

    # A negative end pad (a crop) works in the forward, but the VJP then
    # fails (jax 0.10: "slice limit_indices must be less than or equal to
    # operand shape"), so crop by slicing and pad with >= 0 only.
    crop = (slice(None),) * lead + tuple(
        slice(0, n + min(hi, 0)) for n, (_, hi) in zip(x_shape[lead:], pads[lead:])
    )
    pads = [(lo, max(hi, 0)) for lo, hi in pads]

    def f(a):
        return lax.reduce_window(
            a[crop],
            init,
            lax.max,
            window_dimensions=(1,) * lead + params.kernel_size,
            window_strides=(1,) * lead + params.stride,
            padding=pads,
            window_dilation=(1,) * lead + params.dilation,
        )

    return f


def _jit_cache(
    jax_mod: ModuleType, lax: ModuleType
) -> Callable[[str, tuple[int, ...], np.dtype, PoolParams], Any]:
    """``jitted(kind, x_shape, dtype, params)``: the compiled ``"forward"`` or ``"backward"`` (VJP).

    One jitted function per (shape, dtype, parameters): a single XLA compilation
    instead of one per primitive in eager mode (about half the time).
    """
    compiled: dict[tuple[str, tuple[int, ...], str, PoolParams], Any] = {}

    def jitted(kind: str, x_shape: tuple[int, ...], dtype: np.dtype, params: PoolParams) -> Any:
        key = (kind, x_shape, dtype.name, params)
        if key not in compiled:
            f = _pool_fn(lax, x_shape, dtype, params)
            if kind == "forward":
                compiled[key] = jax_mod.jit(f)
            else:
                compiled[key] = jax_mod.jit(lambda a, g: jax_mod.vjp(f, a)[1](g)[0])
        return compiled[key]

    return jitted
