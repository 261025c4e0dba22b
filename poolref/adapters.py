"""Adapters: other max-pooling calling conventions as :class:`poolref.testing.Candidate`.

Each function returns a :class:`~poolref.testing.Candidate` (forward,
backward, what it supports, which implementation-defined rules it follows)
ready for :func:`poolref.testing.check_max_pool` or ``poolref verify``.
Frameworks are imported only when their adapter is called; a missing one
raises :class:`AdapterUnavailable` (an ``ImportError``) with a one-line
message.

=====================  ==================================================================
adapter                what it wraps
=====================  ==================================================================
``poolref_module``     ``poolref.fast`` / ``poolref.im2col`` / ``poolref.naive``
``torch``              ``torch.nn.functional.max_pool{1,2,3}d(..., return_indices=True)``
                       and autograd; ``device="cpu"|"cuda"``, ``memory_format=
                       "contiguous"|"channels_last"``
``jax``                ``jax.lax.reduce_window(x, -inf, lax.max, ...)`` and its VJP
``onnxruntime``        an ONNX ``MaxPool`` node with the ``Indices`` output, run by onnxruntime
``layer``              deepnet-style classes ``Layer(X_dim, size, stride)`` with
                       ``forward(X) -> out`` and ``backward(dout) -> (dX, [])``
=====================  ==================================================================

:data:`NAMED` maps the names ``poolref verify`` accepts (``torch``,
``torch-cuda``, ``torch-channels-last``, ``jax``, ``onnxruntime``, ...) to
these functions.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import numpy as np

from ._params import PoolParams, output_size
from .testing import ALL_DTYPES, FLOAT_DTYPES, Behaviour, Candidate, Support

__all__ = [
    "JAX",
    "NAMED",
    "ONNXRUNTIME",
    "PYTORCH",
    "AdapterUnavailable",
    "jax",
    "layer",
    "nn_layers",
    "named",
    "onnxruntime",
    "poolref_module",
    "torch",
]

#: PyTorch's rules (the default): ties -> first, NaN -> the last NaN, plane indices.
PYTORCH = Behaviour()
#: onnxruntime's MaxPool with the Indices output (CPU EP): see docs/behaviours.md.
#: An empty window's value depends on the dtype there (the lowest finite value
#: for float32/float64 and ints, -inf for float16), so it is not checked.
ONNXRUNTIME = Behaviour(nan="strict", index_format="global", empty_window_value="any")
#: JAX ``lax.reduce_window`` with ``lax.max``: see docs/behaviours.md.
JAX = Behaviour(nan="propagate", signed_zero="any", padding="compared")


class AdapterUnavailable(ImportError):
    """The framework an adapter needs is missing (or, for CUDA, has no device)."""


def _import(module: str, adapter: str, hint: str):
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        msg = f"the {adapter!r} adapter needs {module}, which cannot be imported ({exc}); {hint}"
        raise AdapterUnavailable(msg) from None


# ----------------------------------------------------------------------------
# poolref's own implementations
# ----------------------------------------------------------------------------


def poolref_module(module="fast") -> Candidate:
    """One of poolref's implementations (``"fast"``, ``"im2col"``, ``"naive"`` or a module).

    Follows poolref's own rules, including index ``-1`` for empty windows.
    """
    if isinstance(module, str):
        short = module.removeprefix("poolref.")
        mod = importlib.import_module(f"poolref.{short}")
    else:
        mod = module
        short = mod.__name__.removeprefix("poolref.")

    def forward(x, kernel_size, stride, padding, dilation, ceil_mode):
        fn = getattr(mod, f"max_pool{len(kernel_size)}d")
        return fn(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)

    def backward(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode):
        fn = getattr(mod, f"max_pool{len(kernel_size)}d_backward")
        return fn(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode)

    return Candidate(
        forward,
        backward,
        Support(),
        Behaviour(empty_window_index="-1"),
        name=f"poolref.{short}",
        source=f"__import__('poolref.adapters').adapters.poolref_module({short!r})",
    )


# ----------------------------------------------------------------------------
# PyTorch
# ----------------------------------------------------------------------------


def torch(device: str = "cpu", memory_format: str = "contiguous", *, indices: bool = True) -> Candidate:
    """``torch.nn.functional.max_pool{1,2,3}d`` and its autograd backward.

    Parameters
    ----------
    device : str
        ``"cpu"`` or ``"cuda"`` (``"cuda:1"``...). CUDA supports float dtypes only.
    memory_format : {"contiguous", "channels_last", "preserve"}
        ``"contiguous"``: the input tensor is made contiguous (NCHW), so
        PyTorch's contiguous kernels run. ``"channels_last"``: converted to
        ``torch.channels_last`` (2-D) / ``torch.channels_last_3d`` (3-D);
        only batched 2-D/3-D input. ``"preserve"``: the NumPy array's strides
        reach PyTorch unchanged (``torch.from_numpy``), so PyTorch picks its
        kernel from them (a channels-last-like array runs the channels-last
        kernel).
    indices : bool
        Call with ``return_indices=True`` (default) and check the indices; with
        False the forward takes PyTorch's no-indices path (1-D: integer
        dtypes are not supported there).

    Notes
    -----
    With ``"preserve"`` the tensor shares memory with the NumPy array
    (arrays with negative strides are copied first, which torch requires).
    """
    torch_mod = _import("torch", "torch", "install PyTorch (pip install torch)")
    functional = torch_mod.nn.functional
    if memory_format not in ("contiguous", "channels_last", "preserve"):
        msg = f"torch adapter: memory_format must be 'contiguous', 'channels_last' or 'preserve', got memory_format={memory_format!r}"
        raise ValueError(msg)
    dev = torch_mod.device(device)
    if dev.type == "cuda" and not torch_mod.cuda.is_available():
        msg = f"the torch adapter cannot use device={device!r}: torch.cuda.is_available() is False (no CUDA device or a CPU-only build of torch {torch_mod.__version__})"
        raise AdapterUnavailable(msg)

    def to_tensor(a: np.ndarray):
        if any(s < 0 for s in a.strides):
            a = a.copy()
        t = torch_mod.from_numpy(a).to(dev)
        if memory_format == "contiguous" and t.stride() != _c_strides(t.shape):
            # .contiguous() keeps odd strides on size-1 axes, from which PyTorch may
            # still pick its channels-last kernel; a clone has canonical strides.
            t = t.clone(memory_format=torch_mod.contiguous_format)
        elif memory_format == "channels_last":
            fmt = torch_mod.channels_last if t.dim() == 4 else torch_mod.channels_last_3d
            t = t.contiguous(memory_format=fmt)
        return t

    def forward(x, kernel_size, stride, padding, dilation, ceil_mode):
        fn = getattr(functional, f"max_pool{len(kernel_size)}d")
        with torch_mod.no_grad():
            out = fn(to_tensor(x), kernel_size, stride, padding, dilation, ceil_mode=ceil_mode, return_indices=indices)
        if indices:
            y, idx = out
            return y.cpu().numpy(), idx.cpu().numpy()
        return out.cpu().numpy()

    def backward(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode):
        fn = getattr(functional, f"max_pool{len(kernel_size)}d")
        t = to_tensor(x).detach().requires_grad_(True)
        y = fn(t, kernel_size, stride, padding, dilation, ceil_mode=ceil_mode)
        y.backward(to_tensor(grad_output))
        return t.grad.cpu().numpy()

    cuda = dev.type == "cuda"
    dtypes = FLOAT_DTYPES if cuda else ALL_DTYPES
    accepts = None
    if not indices:
        # the 1-D no-indices path rejects integers (pytorch#136110)
        accepts = lambda x, k, *rest: len(k) > 1 or x.dtype.kind == "f"  # noqa: E731
    channels_last = memory_format == "channels_last"
    support = Support(
        ndims=(2, 3) if channels_last else (1, 2, 3),
        dtypes=dtypes,
        unbatched=not channels_last,
        indices=indices,
        accepts=accepts,
    )
    label = f"torch {torch_mod.__version__} ({device}, {memory_format}{'' if indices else ', no indices'})"
    args = [f"device={device!r}"]
    if memory_format != "contiguous":
        args.append(f"memory_format={memory_format!r}")
    if not indices:
        args.append("indices=False")
    return Candidate(
        forward,
        backward,
        support,
        PYTORCH,
        name=label,
        source=f"__import__('poolref.adapters').adapters.torch({', '.join(args)})",
    )


# ----------------------------------------------------------------------------
# JAX
# ----------------------------------------------------------------------------


def _c_strides(shape) -> tuple[int, ...]:
    """Canonical C-contiguous strides (in elements) for ``shape``."""
    strides, step = [], 1
    for n in reversed(tuple(shape)):
        strides.append(step)
        step *= max(int(n), 1)
    return tuple(reversed(strides))


def _jax_padding(spatial, params: PoolParams):
    """``(lo, hi)`` per spatial dim giving PyTorch's windows (``hi`` may be negative: a crop)."""
    pads = []
    for n, k, s, p, d in zip(spatial, params.kernel_size, params.stride, params.padding, params.dilation):
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
    """
    jax_mod = _import("jax", "jax", "install JAX (pip install jax jaxlib)")
    lax = importlib.import_module("jax.lax")
    jnp = importlib.import_module("jax.numpy")
    if x64 is not None:
        jax_mod.config.update("jax_enable_x64", bool(x64))
    x64_on = bool(jax_mod.config.read("jax_enable_x64"))

    def pool_fn(x_shape, dtype, params: PoolParams):
        lead = len(x_shape) - params.nd
        init = np.array(-np.inf if dtype.kind == "f" else np.iinfo(dtype).min, dtype=dtype)
        pads = [(0, 0)] * lead + _jax_padding(x_shape[lead:], params)

        # A negative end pad (a crop) works in the forward, but the VJP then
        # fails (jax 0.10: "slice limit_indices must be less than or equal to
        # operand shape"), so crop by slicing and pad with >= 0 only.
        crop = (slice(None),) * lead + tuple(slice(0, n + min(hi, 0)) for n, (_, hi) in zip(x_shape[lead:], pads[lead:]))
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

    # One jitted function per (shape, dtype, parameters): a single XLA
    # compilation instead of one per primitive in eager mode (about half the time).
    compiled: dict = {}

    def jitted(kind, x_shape, dtype, params):
        key = (kind, x_shape, dtype.name, params)
        if key not in compiled:
            f = pool_fn(x_shape, dtype, params)
            if kind == "forward":
                compiled[key] = jax_mod.jit(f)
            else:
                compiled[key] = jax_mod.jit(lambda a, g: jax_mod.vjp(f, a)[1](g)[0])
        return compiled[key]

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


# ----------------------------------------------------------------------------
# onnxruntime
# ----------------------------------------------------------------------------

#: numpy dtype name -> ONNX TensorProto element type, for the types MaxPool (opset 22) accepts.
_ONNX_TYPES = {"float16": 10, "float32": 1, "float64": 11, "int8": 3, "uint8": 2}


def onnxruntime(*, providers: tuple[str, ...] = ("CPUExecutionProvider",), opset: int = 22) -> Candidate:
    """An ONNX ``MaxPool`` node (outputs ``Y`` and ``Indices``) run by onnxruntime.

    The graph has explicit symmetric ``pads``, ``strides``, ``dilations``,
    ``ceil_mode`` and ``storage_order=0``; one session is built per dtype,
    rank and parameter set and cached. Unbatched input gets ``N = 1`` added
    (ONNX needs ``(N, C, ...)``). dtypes: ONNX's float16/32/64, int8 and
    uint8. Declared behaviour (:data:`ONNXRUNTIME`): ``Indices`` are global
    (``(n * C + c) * P + plane``), NaN is kept only when it is the first
    element of its window (``nan="strict"``), and an empty window's value is
    not checked (the lowest *finite* value for float32/float64, ``-inf`` for float16).
    """
    onnx = _import("onnx", "onnxruntime", "install it (pip install onnx onnxruntime)")
    ort = _import("onnxruntime", "onnxruntime", "install it (pip install onnx onnxruntime)")
    helper = onnx.helper
    sessions: dict = {}

    def session(dtype: np.dtype, rank: int, params: PoolParams):
        key = (dtype.name, rank, params)
        if key not in sessions:
            elem = _ONNX_TYPES[dtype.name]
            x_info = helper.make_tensor_value_info("X", elem, [f"d{i}" for i in range(rank)])
            y_info = helper.make_tensor_value_info("Y", elem, None)
            i_info = helper.make_tensor_value_info("Indices", onnx.TensorProto.INT64, None)
            node = helper.make_node(
                "MaxPool",
                ["X"],
                ["Y", "Indices"],
                kernel_shape=list(params.kernel_size),
                strides=list(params.stride),
                pads=list(params.padding) * 2,
                dilations=list(params.dilation),
                ceil_mode=int(params.ceil_mode),
                storage_order=0,
            )
            graph = helper.make_graph([node], "maxpool", [x_info], [y_info, i_info])
            model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
            model.ir_version = min(model.ir_version, 10)
            options = ort.SessionOptions()
            options.log_severity_level = 3
            sessions[key] = ort.InferenceSession(model.SerializeToString(), options, providers=list(providers))
        return sessions[key]

    def forward(x, kernel_size, stride, padding, dilation, ceil_mode):
        params = PoolParams(kernel_size, stride, padding, dilation, ceil_mode)
        batched = x.ndim == len(kernel_size) + 2
        xb = np.ascontiguousarray(x if batched else x[np.newaxis])
        y, idx = session(xb.dtype, xb.ndim, params).run(None, {"X": xb})
        return (y, idx) if batched else (y[0], idx[0])

    support = Support(dtypes=tuple(_ONNX_TYPES))
    return Candidate(
        forward,
        None,
        support,
        ONNXRUNTIME,
        name=f"onnxruntime {ort.__version__} MaxPool (opset {opset}, {', '.join(providers)})",
        source="__import__('poolref.adapters').adapters.onnxruntime()",
    )


# ----------------------------------------------------------------------------
# deepnet-style layer classes
# ----------------------------------------------------------------------------


def layer(cls: type, *, dtypes=FLOAT_DTYPES, square: bool = True, name: str | None = None) -> Candidate:
    """A layer class ``cls(X_dim, size, stride)`` with ``forward(X)`` and ``backward(dout) -> (dX, grads)``.

    The deepnet tutorial's convention: ``X_dim = (C, H, W)``, ``size`` and
    ``stride`` ints, ``X`` of shape ``(N, C, H, W)``. One layer is built per
    call (the backward runs ``forward`` first, then ``backward``). Declared
    support: 2-D batched input only, no padding, dilation, ceil_mode or
    indices, ``size``/``stride`` the same in both dimensions (``square``) and
    only sizes where ``(H - size) % stride == 0`` (likewise ``W``).
    """
    label = name or f"{cls.__module__}.{cls.__qualname__}"

    def build(x, kernel_size, stride):
        size = kernel_size[0] if square else tuple(kernel_size)
        step = stride[0] if square else tuple(stride)
        return cls(tuple(int(n) for n in x.shape[1:]), size, step)

    def forward(x, kernel_size, stride, padding, dilation, ceil_mode):
        return build(x, kernel_size, stride).forward(x)

    def backward(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode):
        lyr = build(x, kernel_size, stride)
        lyr.forward(x)
        out = lyr.backward(grad_output)
        return out[0] if isinstance(out, tuple) else out

    support = Support(
        ndims=(2,),
        dtypes=dtypes,
        backward_dtypes=tuple(d for d in FLOAT_DTYPES if d in Support(dtypes=dtypes).dtypes),
        padding=False,
        dilation=False,
        ceil_mode=False,
        indices=False,
        unbatched=False,
        square=square,
        exact_fit=True,
    )
    module, qualname = cls.__module__, cls.__qualname__
    source = f"__import__('poolref.adapters').adapters.layer(__import__('importlib').import_module({module!r}).{qualname})"
    return Candidate(forward, backward, support, PYTORCH, name=label, source=source)


def nn_layers(classes, *, name: str | None = None) -> Candidate:
    """``torch.nn``-style layer classes: ``cls(kernel_size, stride, padding, dilation, ceil_mode)``.

    ``classes`` maps the spatial rank to the class (``{1: MaxPool1d, 2:
    MaxPool2d, 3: MaxPool3d}``) or is a module holding ``MaxPool1d``..
    ``MaxPool3d`` (e.g. :mod:`poolref.fast`). The forward is
    ``layer.forward(x)``; the backward builds a layer, runs ``forward(x)``
    and returns ``layer.backward(grad_output)``. No indices.
    """
    if not isinstance(classes, dict):
        module = classes
        classes = {nd: getattr(module, f"MaxPool{nd}d") for nd in (1, 2, 3) if hasattr(module, f"MaxPool{nd}d")}
        label = name or f"{module.__name__}.MaxPool{{{','.join(str(n) for n in classes)}}}d layers"
    else:
        label = name or "layers " + ", ".join(f"{c.__module__}.{c.__qualname__}" for c in classes.values())
    if not classes:
        msg = "nn_layers: no layer classes given"
        raise ValueError(msg)

    def build(kernel_size, stride, padding, dilation, ceil_mode):
        return classes[len(kernel_size)](kernel_size, stride, padding, dilation, ceil_mode)

    def forward(x, kernel_size, stride, padding, dilation, ceil_mode):
        return build(kernel_size, stride, padding, dilation, ceil_mode).forward(x)

    def backward(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode):
        lyr = build(kernel_size, stride, padding, dilation, ceil_mode)
        lyr.forward(x)
        return lyr.backward(grad_output)

    return Candidate(
        forward,
        backward,
        Support(ndims=tuple(sorted(classes)), indices=False),
        Behaviour(empty_window_index="-1"),
        name=label,
    )


# ----------------------------------------------------------------------------
# Names for ``poolref verify``
# ----------------------------------------------------------------------------

#: Adapter name -> (factory, one-line description).
NAMED: dict[str, tuple[Callable[[], Candidate], str]] = {
    "torch": (lambda: torch("cpu"), "PyTorch on the CPU, contiguous tensors"),
    "torch-channels-last": (
        lambda: torch("cpu", "channels_last"),
        "PyTorch on the CPU, channels_last / channels_last_3d tensors",
    ),
    "torch-preserve": (
        lambda: torch("cpu", "preserve"),
        "PyTorch on the CPU, tensors with the NumPy input's strides (kernel chosen by PyTorch)",
    ),
    "torch-no-indices": (lambda: torch("cpu", indices=False), "PyTorch on the CPU, return_indices=False path"),
    "torch-cuda": (lambda: torch("cuda"), "PyTorch on CUDA, contiguous tensors"),
    "torch-cuda-channels-last": (
        lambda: torch("cuda", "channels_last"),
        "PyTorch on CUDA, channels_last tensors",
    ),
    "jax": (lambda: jax(x64=True), "jax.lax.reduce_window + VJP (x64 enabled)"),
    "onnxruntime": (onnxruntime, "ONNX MaxPool with Indices on onnxruntime's CPU provider"),
    "poolref-fast": (lambda: poolref_module("fast"), "poolref.fast"),
    "poolref-im2col": (lambda: poolref_module("im2col"), "poolref.im2col"),
    "poolref-naive": (lambda: poolref_module("naive"), "poolref.naive (the oracle itself)"),
}


def named(name: str) -> Candidate:
    """The candidate for an adapter name in :data:`NAMED` (``KeyError`` if unknown)."""
    if name not in NAMED:
        msg = f"unknown adapter {name!r}; known: {', '.join(NAMED)}"
        raise KeyError(msg)
    return NAMED[name][0]()
