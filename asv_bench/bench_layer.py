"""Layer classes ``MaxPool{1,2,3}d``: forward keeps a small per-output state, backward uses it."""

from __future__ import annotations

from .common import (
    CONFIG_NAMES,
    FLOAT_DTYPES,
    IMPLS,
    NDIMS,
    Benchmark,
    impl_attr,
    impl_module,
    input_shape,
    lacks_layers,
    make_input,
    outside_trimmed_grid,
    pool_args,
    skip_holes,
)
from .compare_torch import kept_state, peak_bytes

PARAMS = [IMPLS, NDIMS, CONFIG_NAMES, FLOAT_DTYPES]
PARAM_NAMES = ["impl", "ndim", "config", "dtype"]
_holes = skip_holes(PARAMS, PARAM_NAMES, outside_trimmed_grid, lacks_layers)


class MaxPoolLayer(Benchmark):
    """``layer = MaxPool{ndim}d(k, s, p)``; ``layer.forward(x)``; ``layer.backward(grad_output)``.

    Implementations without the layer classes are skipped. The two ``track_``
    benchmarks are exact memory numbers (not timings): the bytes the layer
    holds between forward and backward per output element, and the
    tracemalloc peak during backward divided by the size of ``grad_input``.
    """

    params = PARAMS
    param_names = PARAM_NAMES

    def setup(self, impl, ndim, config, dtype):
        layer_class = impl_attr(impl_module(impl), f"MaxPool{ndim}d")
        self.layer = layer_class(*pool_args(config))
        self.x = make_input(input_shape(ndim), dtype)
        self.y = self.layer.forward(self.x)
        self.grad_output = make_input(self.y.shape, dtype, seed=1)

    @_holes
    def time_forward(self, impl, ndim, config, dtype):
        self.layer.forward(self.x)

    @_holes
    def time_backward(self, impl, ndim, config, dtype):
        self.layer.backward(self.grad_output)

    @_holes
    def peakmem_backward(self, impl, ndim, config, dtype):
        self.layer.backward(self.grad_output)

    @_holes
    def track_kept_bytes_per_output(self, impl, ndim, config, dtype):
        return kept_state(self.layer, self.x, self.y)[0] / self.y.size

    track_kept_bytes_per_output.unit = "bytes/output"

    @_holes
    def track_backward_peak_over_grad_input(self, impl, ndim, config, dtype):
        return peak_bytes(lambda: self.layer.backward(self.grad_output)) / self.x.nbytes

    track_backward_peak_over_grad_input.unit = "ratio"
