"""Backward max pooling through the functional API: from stored indices and from the input."""

from __future__ import annotations

from .common import (
    CONFIG_NAMES,
    DTYPES,
    IMPLS,
    NDIMS,
    Benchmark,
    impl_attr,
    impl_module,
    input_shape,
    make_input,
    not_float,
    outside_trimmed_grid,
    pool_args,
    skip_holes,
)

PARAMS = [IMPLS, NDIMS, CONFIG_NAMES, DTYPES]
PARAM_NAMES = ["impl", "ndim", "config", "dtype"]
_holes = skip_holes(PARAMS, PARAM_NAMES, outside_trimmed_grid, not_float)


class MaxPoolBackward(Benchmark):
    """``max_pool{ndim}d_backward(grad_output, x or x.shape, k, s, p[, indices=...])``."""

    params = PARAMS
    param_names = PARAM_NAMES

    def setup(self, impl, ndim, config, dtype):
        module = impl_module(impl)
        pool = impl_attr(module, f"max_pool{ndim}d")
        self.backward = impl_attr(module, f"max_pool{ndim}d_backward")
        self.x = make_input(input_shape(ndim), dtype)
        self.args = pool_args(config)
        y, self.indices = pool(self.x, *self.args, return_indices=True)
        self.grad_output = make_input(y.shape, dtype, seed=1)

    @_holes
    def time_backward_from_indices(self, impl, ndim, config, dtype):
        self.backward(self.grad_output, self.x.shape, *self.args, indices=self.indices)

    @_holes
    def time_backward_from_input(self, impl, ndim, config, dtype):
        self.backward(self.grad_output, self.x, *self.args)

    @_holes
    def peakmem_backward_from_indices(self, impl, ndim, config, dtype):
        self.backward(self.grad_output, self.x.shape, *self.args, indices=self.indices)
