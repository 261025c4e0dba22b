"""The loop oracle ``poolref.naive`` on tiny inputs (it is slow on purpose)."""

from __future__ import annotations

from .common import CONFIG_NAMES, NDIMS, Benchmark, impl_module, make_input, pool_args

#: (1, 2, *spatial) float64 inputs of a few hundred elements: ~1-50 ms per call
NAIVE_SPATIAL = {1: (128,), 2: (12, 12), 3: (6, 6, 6)}


class NaiveOracle(Benchmark):
    """Forward, backward and unpool of ``poolref.naive`` on ``(1, 2, *NAIVE_SPATIAL[ndim])``."""

    params = [NDIMS, CONFIG_NAMES]
    param_names = ["ndim", "config"]

    def setup(self, ndim, config):
        module = impl_module("naive")
        self.pool = getattr(module, f"max_pool{ndim}d")
        self.backward = getattr(module, f"max_pool{ndim}d_backward")
        self.unpool = getattr(module, f"max_unpool{ndim}d")
        self.x = make_input((1, 2, *NAIVE_SPATIAL[ndim]), "float64")
        self.args = pool_args(config)
        self.y, self.indices = self.pool(self.x, *self.args, return_indices=True)
        self.grad_output = make_input(self.y.shape, "float64", seed=1)

    def time_forward(self, ndim, config):
        self.pool(self.x, *self.args)

    def time_forward_with_indices(self, ndim, config):
        self.pool(self.x, *self.args, return_indices=True)

    def time_backward_from_indices(self, ndim, config):
        self.backward(self.grad_output, self.x.shape, *self.args, indices=self.indices)

    def time_unpool(self, ndim, config):
        self.unpool(self.y, self.indices, *self.args, output_size=self.x.shape[2:])
