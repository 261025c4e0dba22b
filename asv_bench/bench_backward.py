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
    pool_args,
    require_float,
    trim_grid,
)


class MaxPoolBackward(Benchmark):
    """``max_pool{ndim}d_backward(grad_output, x or x.shape, k, s, p[, indices=...])``."""

    params = [IMPLS, NDIMS, CONFIG_NAMES, DTYPES]
    param_names = ["impl", "ndim", "config", "dtype"]

    def setup(self, impl, ndim, config, dtype):
        trim_grid(ndim, dtype)
        require_float(dtype, "backward")
        module = impl_module(impl)
        pool = impl_attr(module, f"max_pool{ndim}d")
        self.backward = impl_attr(module, f"max_pool{ndim}d_backward")
        self.x = make_input(input_shape(ndim), dtype)
        self.args = pool_args(config)
        y, self.indices = pool(self.x, *self.args, return_indices=True)
        self.grad_output = make_input(y.shape, dtype, seed=1)

    def time_backward_from_indices(self, impl, ndim, config, dtype):
        self.backward(self.grad_output, self.x.shape, *self.args, indices=self.indices)

    def time_backward_from_input(self, impl, ndim, config, dtype):
        self.backward(self.grad_output, self.x, *self.args)

    def peakmem_backward_from_indices(self, impl, ndim, config, dtype):
        self.backward(self.grad_output, self.x.shape, *self.args, indices=self.indices)
