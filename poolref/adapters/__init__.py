"""Adapters: other max-pooling calling conventions as :class:`poolref.testing.Candidate`.

Each function returns a :class:`~poolref.testing.Candidate` (forward,
backward, what it supports, which implementation-defined rules it follows)
ready for :func:`poolref.testing.check_max_pool` or ``poolref verify``.
Frameworks are imported only when their adapter is called; a missing one
raises :class:`AdapterUnavailable` (an ``ImportError``) with a one-line
message naming the package to install. One module per framework; the
declarations of each are explained in ``docs/adapters.md``.

=====================  ==================================================================
adapter                what it wraps
=====================  ==================================================================
``poolref_module``     ``poolref.fast`` / ``poolref.im2col`` / ``poolref.naive``
``torch``              ``torch.nn.functional.max_pool{1,2,3}d(..., return_indices=True)``
                       and autograd; ``device="cpu"|"cuda"``, ``memory_format=
                       "contiguous"|"channels_last"``; ``fn=`` any callable with
                       ``F.max_pool{nd}d``'s signature (e.g. a ``torch.compile`` result)
``torch_compile``      ``torch.compile(F.max_pool{1,2,3}d, dynamic=True)`` (inductor, CPU)
``jax``                ``jax.lax.reduce_window(x, -inf, lax.max, ...)`` and its VJP
``onnxruntime``        an ONNX ``MaxPool`` node with the ``Indices`` output, run by onnxruntime
``onnx_reference``     the same node run by ``onnx.reference.ReferenceEvaluator``
``tensorflow``         ``tf.nn.max_pool{1,2,3}d`` (NHWC) and ``tf.GradientTape``
``tensorflow_argmax``  ``tf.nn.max_pool_with_argmax`` (2-D, NHWC indices) and its gradient
``keras``              ``keras.ops.max_pool`` on the installed backend, channels first or last
``mygrad``             ``mygrad.nnet.max_pool`` and mygrad's autograd
``mlx``                ``mlx.nn.MaxPool{1,2,3}d`` (channels last) and ``mlx.core.vjp``
``tinygrad``           ``Tensor.max_pool2d`` and tinygrad's autograd
``paddle``             ``paddle.nn.functional.max_pool{1,2,3}d(..., return_mask=True)``
``chainer``            ``chainer.functions.max_pooling_nd`` (see docs/adapters.md)
``layer``              deepnet-style classes ``Layer(X_dim, size, stride)`` with
                       ``forward(X) -> out`` and ``backward(dout) -> (dX, [])``
=====================  ==================================================================

:data:`NAMED` maps the names ``poolref verify`` accepts (``torch``,
``torch-cuda``, ``tensorflow``, ``mygrad``, ...) to these functions, and
:data:`REQUIRES` to the modules each needs (:func:`importable` tells
whether they are there without importing them).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

from ..testing import Candidate
from ._adaptive import keras_adaptive, paddle_adaptive, torch_adaptive, torch_fractional
from ._common import PYTORCH, AdapterUnavailable
from ._jax import JAX, jax
from ._keras import keras
from ._layers import layer, nn_layers, poolref_module
from ._mlx import MLX, mlx
from ._mygrad import MYGRAD, mygrad
from ._onnx import ONNXRUNTIME, onnx_reference, onnxruntime
from ._paddle import paddle
from ._tensorflow import TENSORFLOW, tensorflow, tensorflow_argmax
from ._tf_fractional import tensorflow_fractional
from ._tinygrad import tinygrad
from ._torch import torch, torch_compile

__all__ = [
    "JAX",
    "MLX",
    "MYGRAD",
    "NAMED",
    "ONNXRUNTIME",
    "PYTORCH",
    "CALL_TIMEOUT",
    "REQUIRES",
    "TENSORFLOW",
    "AdapterUnavailable",
    "importable",
    "jax",
    "keras",
    "keras_adaptive",
    "layer",
    "mlx",
    "mygrad",
    "named",
    "nn_layers",
    "onnx_reference",
    "onnxruntime",
    "paddle",
    "paddle_adaptive",
    "poolref_module",
    "tensorflow",
    "tensorflow_argmax",
    "tensorflow_fractional",
    "tinygrad",
    "torch",
    "torch_compile",
    "torch_adaptive",
    "torch_fractional",
]

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
    "torch-no-indices": (
        lambda: torch("cpu", indices=False),
        "PyTorch on the CPU, return_indices=False path",
    ),
    "torch-compile": (
        torch_compile,
        "torch.compile(F.max_pool{1,2,3}d, dynamic=True) on inductor, CPU (needs a C++ compiler; "
        "compiles take seconds each)",
    ),
    "torch-cuda": (lambda: torch("cuda"), "PyTorch on CUDA, contiguous tensors"),
    "torch-cuda-channels-last": (
        lambda: torch("cuda", "channels_last"),
        "PyTorch on CUDA, channels_last tensors",
    ),
    "jax": (lambda: jax(x64=True), "jax.lax.reduce_window + VJP (x64 enabled)"),
    "onnxruntime": (onnxruntime, "ONNX MaxPool with Indices on onnxruntime's CPU provider"),
    "tensorflow": (tensorflow, "tf.nn.max_pool1d/2d/3d (NHWC) + GradientTape"),
    "tensorflow-argmax": (
        tensorflow_argmax,
        "tf.nn.max_pool_with_argmax (2-D, NHWC-flat indices) + GradientTape",
    ),
    "onnx-reference": (
        onnx_reference,
        "ONNX MaxPool with Indices on onnx.reference.ReferenceEvaluator",
    ),
    "mygrad": (mygrad, "mygrad.nnet.max_pool + mygrad autograd (no padding, exact tiling)"),
    "keras": (keras, "keras.ops.max_pool, channels_first, on the selected backend (KERAS_BACKEND)"),
    "keras-channels-last": (
        lambda: keras("channels_last"),
        "keras.ops.max_pool, channels_last, on the selected backend (KERAS_BACKEND)",
    ),
    "mlx": (mlx, "mlx.nn.MaxPool1d/2d/3d (channels last, CPU) + mlx.core.vjp"),
    "paddle": (paddle, "paddle.nn.functional.max_pool1d/2d/3d with return_mask, CPU, + autograd"),
    "tinygrad": (
        tinygrad,
        "tinygrad Tensor.max_pool2d (any rank) with return_indices + autograd; compiles per shape",
    ),
    "poolref-fast": (lambda: poolref_module("fast"), "poolref.fast"),
    "poolref-im2col": (lambda: poolref_module("im2col"), "poolref.im2col"),
    "poolref-naive": (lambda: poolref_module("naive"), "poolref.naive (the oracle itself)"),
}

#: Adapter name -> the top-level modules it imports (what ``poolref verify --list`` looks for).
REQUIRES: dict[str, tuple[str, ...]] = {
    **{name: ("torch",) for name in NAMED if name.startswith("torch")},
    "jax": ("jax",),
    "onnxruntime": ("onnx", "onnxruntime"),
    "tensorflow": ("tensorflow",),
    "tensorflow-argmax": ("tensorflow",),
    "onnx-reference": ("onnx",),
    "mygrad": ("mygrad",),
    "mlx": ("mlx",),
    "keras": ("keras",),
    "paddle": ("paddle",),
    "tinygrad": ("tinygrad",),
    "keras-channels-last": ("keras",),
    **{name: () for name in NAMED if name.startswith("poolref")},
}

#: Adapter name -> the seconds one call may take before ``poolref verify`` counts it as a hang,
#: where the worker's 60 s default is too short: a compile is part of a call, and one inductor
#: compile on a loaded 2-core machine passed 60 s (the timeout killed the worker, and its
#: compiled code with it). ``--timeout`` overrides it.
CALL_TIMEOUT: dict[str, float] = {"torch-compile": 900.0}


def importable(name: str) -> tuple[bool, list[str]]:
    """Whether adapter ``name``'s modules can be found, and the missing ones (nothing is imported).

    Parameters
    ----------
    name : str
        An adapter name, a key of :data:`NAMED` (an unknown name needs no modules).

    Returns
    -------
    found : bool
        Every module in ``REQUIRES[name]`` can be found.
    missing : list of str
        The modules that cannot be found.
    """
    missing = [m for m in REQUIRES.get(name, ()) if importlib.util.find_spec(m) is None]
    return not missing, missing


def named(name: str) -> Candidate:
    """The candidate for an adapter name in :data:`NAMED`.

    Parameters
    ----------
    name : str
        A key of :data:`NAMED` (``"torch"``, ``"jax"``, ``"poolref-fast"`` ...).

    Returns
    -------
    Candidate
        What the adapter's factory returns.

    Raises
    ------
    KeyError
        If ``name`` is not a key of :data:`NAMED`.
    """
    if name not in NAMED:
        msg = f"unknown adapter {name!r}; known: {', '.join(NAMED)}"
        raise KeyError(msg)
    return NAMED[name][0]()
