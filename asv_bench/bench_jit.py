"""The compiled backend (``poolref.jit``, numba): forward, indices, both backwards, two layouts.

Not discovered where numba is not installed. ``layout`` is ``"NCHW"`` (C-contiguous) or
``"NHWC"`` (C-contiguous ``(N, *S, C)`` memory seen as ``(N, C, *S)``, the channels-last
loop order). Every kernel is compiled (or loaded from numba's disk cache) in ``setup``, so the
timings are of warm calls on one thread.
"""

from __future__ import annotations

import importlib

import numpy as np

from .common import (
    CONFIG_NAMES,
    NDIMS,
    Benchmark,
    impl_attr,
    impl_module,
    input_shape,
    make_input,
    pool_args,
    skip_benchmark_if,
)

try:  # an installed numba that fails to import counts as absent, as in poolref itself
    importlib.import_module("numba")
    NO_NUMBA = False
except ImportError:
    NO_NUMBA = True
LAYOUTS = ["NCHW", "NHWC"]
PARAMS = [NDIMS, CONFIG_NAMES, LAYOUTS]
PARAM_NAMES = ["ndim", "config", "layout"]


def laid_out(x: np.ndarray, layout: str) -> np.ndarray:
    """``x`` itself, or the same values over channels-last memory."""
    if layout == "NCHW":
        return x
    return np.moveaxis(np.ascontiguousarray(np.moveaxis(x, 1, -1)), -1, 1)


class JitPool(Benchmark):
    """``poolref.jit.max_pool{ndim}d`` and its backward on a ``2**19``-element float32 input."""

    params = PARAMS
    param_names = PARAM_NAMES

    def setup(self, ndim, config, layout):
        # without numba asv never discovers these; a direct call measures poolref.fast instead
        jit = impl_module("fast" if NO_NUMBA else "jit")
        self.pool = impl_attr(jit, f"max_pool{ndim}d")
        self.backward = impl_attr(jit, f"max_pool{ndim}d_backward")
        self.x = laid_out(make_input(input_shape(ndim), "float32"), layout)
        self.args = pool_args(config)
        y, self.idx = self.pool(self.x, *self.args, return_indices=True)  # compiles
        self.g = laid_out(make_input(y.shape, "float32", seed=1), layout)
        self.pool(self.x, *self.args)
        self.backward(self.g, self.x, *self.args)
        self.backward(self.g, self.x.shape, *self.args, indices=self.idx)

    @skip_benchmark_if(NO_NUMBA)
    def time_forward(self, ndim, config, layout):
        self.pool(self.x, *self.args)

    @skip_benchmark_if(NO_NUMBA)
    def time_forward_with_indices(self, ndim, config, layout):
        self.pool(self.x, *self.args, return_indices=True)

    @skip_benchmark_if(NO_NUMBA)
    def time_backward_from_indices(self, ndim, config, layout):
        self.backward(self.g, self.x.shape, *self.args, indices=self.idx)

    @skip_benchmark_if(NO_NUMBA)
    def time_backward_from_input(self, ndim, config, layout):
        self.backward(self.g, self.x, *self.args)

    @skip_benchmark_if(NO_NUMBA)
    def peakmem_forward_with_indices(self, ndim, config, layout):
        self.pool(self.x, *self.args, return_indices=True)


class JitLayer(Benchmark):
    """``poolref.MaxPool{ndim}d`` on the jit backend: forward (keeping int32 indices), backward."""

    params = [NDIMS, CONFIG_NAMES]
    param_names = ["ndim", "config"]

    def setup(self, ndim, config):
        poolref = importlib.import_module("poolref")
        layer_class = getattr(poolref, f"MaxPool{ndim}d", None)
        if layer_class is None:  # pragma: no cover - commits before the layers
            raise NotImplementedError
        self.layer = layer_class(*pool_args(config))
        self.x = make_input(input_shape(ndim), "float32")
        y = self.layer.forward(self.x)  # compiles
        self.g = make_input(y.shape, "float32", seed=1)
        self.layer.backward(self.g)

    @skip_benchmark_if(NO_NUMBA)
    def time_layer_forward(self, ndim, config):
        self.layer.forward(self.x)

    @skip_benchmark_if(NO_NUMBA)
    def time_layer_backward(self, ndim, config):
        self.layer.backward(self.g)

    @skip_benchmark_if(NO_NUMBA)
    def track_layer_saved_bytes_per_output(self, ndim, config):
        return self.layer.saved_nbytes / self.g.size

    track_layer_saved_bytes_per_output.unit = "bytes/output"
