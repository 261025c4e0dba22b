"""keras 3: ``keras.ops.max_pool`` on whichever backend is installed and selected."""

from __future__ import annotations

import numpy as np

from ..testing import ALL_DTYPES, Behaviour, Candidate, Support
from ._common import _batched, _import, _source, _to_first, _to_last, _unbatch

_HINT = (
    "pip install keras plus a backend (jax, tensorflow or torch); set KERAS_BACKEND to choose it"
)


def _gradient_fn(keras, data_format):
    """``grad(x, g, pool)`` for the active backend, or None (the NumPy backend has no gradient)."""
    backend = keras.backend.backend()
    if backend == "jax":
        jax = _import("jax", "keras", _HINT)

        def grad(x, g, pool):
            return np.asarray(jax.vjp(pool, jax.numpy.asarray(x))[1](jax.numpy.asarray(g))[0])

        return grad
    if backend == "tensorflow":
        tf = _import("tensorflow", "keras", _HINT)

        def grad(x, g, pool):
            t = tf.constant(x)
            with tf.GradientTape() as tape:
                tape.watch(t)
                y = pool(t)
            return tape.gradient(y, t, output_gradients=tf.constant(g)).numpy()

        return grad
    if backend == "torch":
        torch = _import("torch", "keras", _HINT)

        def grad(x, g, pool):
            t = torch.from_numpy(x.copy()).requires_grad_(True)
            pool(t).backward(torch.from_numpy(g.copy()))
            return t.grad.numpy()

        return grad
    return None


def keras(data_format: str = "channels_first") -> Candidate:
    """``keras.ops.max_pool(x, pool_size, strides, "valid", data_format)`` and the backend's gradient.

    Unbatched input gets ``N = 1``. keras has only ``"valid"``/``"same"`` padding and no
    dilation, ceil_mode or indices: declared as no padding, dilation,
    ``ceil_mode`` or indices. The gradient comes from the active backend
    (``jax.vjp``, ``tf.GradientTape`` or torch autograd); the NumPy backend
    has none, so there the backward is not checked. On the JAX backend
    float64 and int64 are declared only when ``jax_enable_x64`` is on (JAX
    computes them in 32 bits otherwise). Behaviour: the
    backend's max (``jax`` and ``numpy``: NaN propagates, index unspecified;
    signed zeros unspecified).

    Parameters
    ----------
    data_format : {"channels_first", "channels_last"}
        ``"channels_first"`` (default) passes the NCHW input as it is;
        ``"channels_last"`` transposes it to NHWC first.

    Returns
    -------
    Candidate
        Ready for :func:`poolref.testing.check_max_pool` or ``poolref verify``.
    """
    if data_format not in ("channels_first", "channels_last"):
        msg = f"keras adapter: data_format must be 'channels_first' or 'channels_last', got data_format={data_format!r}"
        raise ValueError(msg)
    keras_mod = _import("keras", "keras", _HINT)
    try:
        ops = keras_mod.ops
        backend = keras_mod.backend.backend()
    except ImportError as exc:  # the backend itself is missing (e.g. the NumPy backend needs jax)
        from ._common import AdapterUnavailable

        msg = f"the 'keras' adapter cannot load its backend ({str(exc).splitlines()[0]}); {_HINT}"
        raise AdapterUnavailable(msg) from None
    last = data_format == "channels_last"
    grad = _gradient_fn(keras_mod, data_format)

    def layout(a, nd):
        ab, batched = _batched(a, nd)
        return np.ascontiguousarray(_to_last(ab) if last else ab), batched

    def restore(a, batched):
        a = np.asarray(a)
        return _unbatch(_to_first(a) if last else a, batched).copy()

    def pool_of(kernel_size, stride):
        return lambda t: ops.max_pool(t, tuple(kernel_size), tuple(stride), "valid", data_format)

    def forward(x, kernel_size, stride, padding, dilation, ceil_mode):
        xb, batched = layout(x, len(kernel_size))
        return restore(ops.convert_to_numpy(pool_of(kernel_size, stride)(xb)), batched)

    def backward(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode):
        nd = len(kernel_size)
        xb, batched = layout(x, nd)
        gb, _ = layout(grad_output, nd)
        return restore(grad(xb, gb, pool_of(kernel_size, stride)), batched)

    dtypes = ALL_DTYPES
    if backend == "jax" and not _import("jax", "keras", _HINT).config.read("jax_enable_x64"):
        # JAX computes float64/int64 in 32 bits unless x64 is enabled (JAX_ENABLE_X64=1)
        dtypes = tuple(d for d in ALL_DTYPES if not d.endswith("64"))
    support = Support(dtypes=dtypes, padding=False, dilation=False, ceil_mode=False, indices=False)
    return Candidate(
        forward,
        backward if grad is not None else None,
        support,
        Behaviour(nan="propagate", signed_zero="any"),
        budget_scale=0.25,
        name=f"keras {keras_mod.__version__} ops.max_pool ({backend} backend, {data_format})",
        source=_source("keras", f"data_format={data_format!r}"),
    )
