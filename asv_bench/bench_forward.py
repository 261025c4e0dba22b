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
    outside_trimmed_grid,
    pool_args,
    skip_holes,
)

PARAMS = [IMPLS, NDIMS, CONFIG_NAMES, DTYPES]
PARAM_NAMES = ["impl", "ndim", "config", "dtype"]
_holes = skip_holes(PARAMS, PARAM_NAMES, outside_trimmed_grid)


class MaxPoolForward(Benchmark):
    """``max_pool{ndim}d(x, k, s, p)`` on a ``2**19``-element input."""

    params = PARAMS
    param_names = PARAM_NAMES

    def setup(self, impl, ndim, config, dtype):
        self.pool = impl_attr(impl_module(impl), f"max_pool{ndim}d")
        self.x = make_input(input_shape(ndim), dtype)
        self.args = pool_args(config)

    @_holes
    def time_forward(self, impl, ndim, config, dtype):
        self.pool(self.x, *self.args)

    @_holes
    def time_forward_with_indices(self, impl, ndim, config, dtype):
        self.pool(self.x, *self.args, return_indices=True)

    @_holes
    def peakmem_forward(self, impl, ndim, config, dtype):
        self.pool(self.x, *self.args)

    @_holes
    def peakmem_forward_with_indices(self, impl, ndim, config, dtype):
        self.pool(self.x, *self.args, return_indices=True)
