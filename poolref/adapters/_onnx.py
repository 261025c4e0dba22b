"""ONNX ``MaxPool``: onnxruntime and the ONNX reference evaluator."""

from __future__ import annotations

import numpy as np

from .._params import PoolParams
from ..testing import Behaviour, Candidate, Support
from ._common import _import, _source

#: onnxruntime's MaxPool with the Indices output (CPU EP): see docs/behaviours.md.
#: An empty window's value depends on the dtype there (the lowest finite value
#: for float32/float64 and ints, -inf for float16), so it is not checked.
ONNXRUNTIME = Behaviour(nan="strict", index_format="global", empty_window_value="any")

#: numpy dtype name -> ONNX TensorProto element type, for the types MaxPool (opset 22) accepts.
_ONNX_TYPES = {"float16": 10, "float32": 1, "float64": 11, "int8": 3, "uint8": 2}


def _maxpool_model(onnx, dtype: np.dtype, rank: int, params: PoolParams, opset: int):
    """A one-node ONNX model: ``MaxPool`` with outputs ``Y`` and ``Indices`` and explicit attributes."""
    helper = onnx.helper
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
    return model


def _onnx_forward(run):
    """A forward that adds ``N = 1`` for unbatched input and calls ``run(xb, params) -> (y, idx)``."""

    def forward(x, kernel_size, stride, padding, dilation, ceil_mode):
        params = PoolParams(kernel_size, stride, padding, dilation, ceil_mode)
        batched = x.ndim == len(kernel_size) + 2
        xb = np.ascontiguousarray(x if batched else x[np.newaxis])
        y, idx = run(xb, params)
        return (y, idx) if batched else (y[0], idx[0])

    return forward


def onnxruntime(
    *, providers: tuple[str, ...] = ("CPUExecutionProvider",), opset: int = 22
) -> Candidate:
    """An ONNX ``MaxPool`` node (outputs ``Y`` and ``Indices``) run by onnxruntime.

    The graph has explicit symmetric ``pads``, ``strides``, ``dilations``,
    ``ceil_mode`` and ``storage_order=0``; one session is built per dtype,
    rank and parameter set and cached. Unbatched input gets ``N = 1`` added
    (ONNX needs ``(N, C, ...)``). dtypes: ONNX's float16/32/64, int8 and
    uint8. Declared behaviour (:data:`ONNXRUNTIME`): ``Indices`` are global
    (``(n * C + c) * P + plane``), NaN is kept only when it is the first
    element of its window (``nan="strict"``), and an empty window's value is
    not checked (the lowest *finite* value for float32/float64, ``-inf`` for float16).

    Parameters
    ----------
    providers : tuple of str, optional
        The onnxruntime execution providers, in order of preference
        (default: the CPU provider only).
    opset : int, optional
        The ONNX opset of the model (default 22).

    Returns
    -------
    Candidate
        Ready for :func:`poolref.testing.check_max_pool` or ``poolref verify``.
    """
    onnx = _import("onnx", "onnxruntime", "install it (pip install onnx onnxruntime)")
    ort = _import("onnxruntime", "onnxruntime", "install it (pip install onnx onnxruntime)")
    sessions: dict = {}

    def run(xb: np.ndarray, params: PoolParams):
        key = (xb.dtype.name, xb.ndim, params)
        if key not in sessions:
            model = _maxpool_model(onnx, xb.dtype, xb.ndim, params, opset)
            options = ort.SessionOptions()
            options.log_severity_level = 3
            sessions[key] = ort.InferenceSession(
                model.SerializeToString(), options, providers=list(providers)
            )
        return sessions[key].run(None, {"X": xb})

    support = Support(dtypes=tuple(_ONNX_TYPES))
    return Candidate(
        _onnx_forward(run),
        None,
        support,
        ONNXRUNTIME,
        name=f"onnxruntime {ort.__version__} MaxPool (opset {opset}, {', '.join(providers)})",
        source="__import__('poolref.adapters').adapters.onnxruntime()",
    )


def onnx_reference(*, opset: int = 22) -> Candidate:
    """The same ``MaxPool`` node run by ``onnx.reference.ReferenceEvaluator`` (pure NumPy).

    The evaluator takes a model, not a function: one ``ReferenceEvaluator``
    is built per dtype, rank and parameter set (the model of
    :func:`onnxruntime`) and cached. Declared behaviour: the ONNX
    specification's, as for onnxruntime (:data:`ONNXRUNTIME`: global
    ``Indices``, NaN kept only when first, empty windows unchecked).

    Parameters
    ----------
    opset : int, optional
        The ONNX opset of the model (default 22).

    Returns
    -------
    Candidate
        Ready for :func:`poolref.testing.check_max_pool` or ``poolref verify``.
    """
    onnx = _import("onnx", "onnx-reference", "pip install onnx (or poolref[onnx])")
    reference = _import("onnx.reference", "onnx-reference", "pip install onnx (or poolref[onnx])")
    evaluators: dict = {}

    def run(xb: np.ndarray, params: PoolParams):
        key = (xb.dtype.name, xb.ndim, params)
        if key not in evaluators:
            evaluators[key] = reference.ReferenceEvaluator(
                _maxpool_model(onnx, xb.dtype, xb.ndim, params, opset)
            )
        return evaluators[key].run(None, {"X": xb})

    return Candidate(
        _onnx_forward(run),
        None,
        Support(dtypes=tuple(_ONNX_TYPES)),
        ONNXRUNTIME,
        name=f"onnx {onnx.__version__} reference evaluator MaxPool (opset {opset})",
        source=_source("onnx_reference", f"opset={opset!r}"),
    )
