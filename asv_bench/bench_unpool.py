"""max_unpool: scatter the pooled values back to their indices."""

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


class MaxUnpool(Benchmark):
    """``max_unpool{ndim}d(y, indices, k, s, p, output_size=x's spatial size)``."""

    params = PARAMS
    param_names = PARAM_NAMES

    def setup(self, impl, ndim, config, dtype):
        module = impl_module(impl)
        pool = impl_attr(module, f"max_pool{ndim}d")
        self.unpool = impl_attr(module, f"max_unpool{ndim}d")
        x = make_input(input_shape(ndim), dtype)
        self.args = pool_args(config)
        # the padded configs' default unpool size is one short of x: ask for x's size
        self.output_size = x.shape[2:]
        self.y, self.indices = pool(x, *self.args, return_indices=True)

    @_holes
    def time_unpool(self, impl, ndim, config, dtype):
        self.unpool(self.y, self.indices, *self.args, output_size=self.output_size)

    @_holes
    def peakmem_unpool(self, impl, ndim, config, dtype):
        self.unpool(self.y, self.indices, *self.args, output_size=self.output_size)
