"""Forward max pooling through the functional API, with and without indices."""

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
    trim_grid,
)


class MaxPoolForward(Benchmark):
    """``max_pool{ndim}d(x, k, s, p)`` on a ``2**19``-element input."""

    params = [IMPLS, NDIMS, CONFIG_NAMES, DTYPES]
    param_names = ["impl", "ndim", "config", "dtype"]

    def setup(self, impl, ndim, config, dtype):
        trim_grid(ndim, dtype)
        self.pool = impl_attr(impl_module(impl), f"max_pool{ndim}d")
        self.x = make_input(input_shape(ndim), dtype)
        self.args = pool_args(config)

    def time_forward(self, impl, ndim, config, dtype):
        self.pool(self.x, *self.args)

    def time_forward_with_indices(self, impl, ndim, config, dtype):
        self.pool(self.x, *self.args, return_indices=True)

    def peakmem_forward(self, impl, ndim, config, dtype):
        self.pool(self.x, *self.args)

    def peakmem_forward_with_indices(self, impl, ndim, config, dtype):
        self.pool(self.x, *self.args, return_indices=True)
