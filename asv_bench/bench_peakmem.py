"""Peak memory of every operation, above the arrays it returns, as a multiple of the input size.

``track_peak_ratio`` (asv ``track_``): the tracemalloc peak during one call
(NumPy reports its buffers to tracemalloc) minus the bytes of the arrays the
call returns, divided by the input's bytes (for unpool: by the size of the
pooled input it restores). ``peakmem_call`` is asv's process-RSS peak of the
same call. The table in docs/memory.md comes from ``python -m asv_bench.bench_peakmem``.
"""

from __future__ import annotations

import gc
import sys
import tracemalloc

import numpy as np

from .common import (
    CONFIG_NAMES,
    IMPLS,
    LAYER_IMPLS,
    Benchmark,
    impl_attr,
    impl_module,
    make_input,
    pool_args,
    skip_holes,
)

OPERATIONS = ["forward", "forward_indices", "backward_x", "backward_indices", "unpool", "layer"]
PEAK_DTYPES = ["float32", "float64"]
SHAPE = (4, 16, 128, 128)  # 2-D, 2**20 elements


def _returned_bytes(result) -> int:
    arrays = result if isinstance(result, tuple) else (result,)
    return sum(a.nbytes for a in arrays if isinstance(a, np.ndarray))


def prepare(impl: str, operation: str, config: str, dtype: str, shape=SHAPE):
    """``(call, input_bytes)``: a zero-argument call of one operation on a seeded input."""
    module = impl_module(impl)
    k, s, p = pool_args(config)
    nd = len(shape) - 2
    x = make_input(shape, dtype)
    pool = impl_attr(module, f"max_pool{nd}d")
    y, idx = pool(x, k, s, p, return_indices=True)
    g = np.ones_like(y)
    if operation == "forward":
        return (lambda: pool(x, k, s, p)), x.nbytes
    if operation == "forward_indices":
        return (lambda: pool(x, k, s, p, return_indices=True)), x.nbytes
    backward = impl_attr(module, f"max_pool{nd}d_backward")
    if operation == "backward_x":
        return (lambda: backward(g, x, k, s, p)), x.nbytes
    if operation == "backward_indices":
        return (lambda: backward(g, x.shape, k, s, p, indices=idx)), x.nbytes
    if operation == "unpool":
        unpool = impl_attr(module, f"max_unpool{nd}d")
        return (lambda: unpool(y, idx, k, s, p, output_size=x.shape[2:])), x.nbytes
    layer = impl_attr(module, f"MaxPool{nd}d")(k, s, p)
    return (lambda: layer.forward(x)), x.nbytes


def peak_ratio(call, input_bytes: int) -> float:
    """tracemalloc peak during ``call()`` above what it returns, over ``input_bytes``."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        result = call()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return (peak - _returned_bytes(result)) / input_bytes


def _layer_without_layers(impl: str, operation: str) -> bool:
    """The layer operation applies to implementations with layer classes only."""
    return operation == "layer" and impl not in LAYER_IMPLS


_PARAMS = [IMPLS, OPERATIONS, CONFIG_NAMES, PEAK_DTYPES]
_PARAM_NAMES = ["impl", "operation", "config", "dtype"]
_holes = skip_holes(_PARAMS, _PARAM_NAMES, _layer_without_layers)


class PeakMemory(Benchmark):
    """Peak memory above the outputs, 2-D, ``(4, 16, 128, 128)``."""

    params = _PARAMS
    param_names = _PARAM_NAMES
    unit = "x input"

    def setup(self, impl, operation, config, dtype):
        self.call, self.input_bytes = prepare(impl, operation, config, dtype)

    @_holes
    def track_peak_ratio(self, impl, operation, config, dtype):
        return peak_ratio(self.call, self.input_bytes)

    @_holes
    def peakmem_call(self, impl, operation, config, dtype):
        self.call()


def main(argv=None) -> None:
    """Print the table of ratios (the source of docs/memory.md)."""
    impls = (argv or sys.argv[1:]) or ["fast"]
    print(f"peak above the returned arrays / input bytes, 2-D {SHAPE}")
    print(
        f"{'impl':8} {'operation':18} "
        + " ".join(f"{c + ' ' + d[-2:]:>11}" for c in CONFIG_NAMES for d in PEAK_DTYPES)
    )
    for impl in impls:
        for operation in OPERATIONS:
            try:
                ratios = [
                    peak_ratio(*prepare(impl, operation, c, d))
                    for c in CONFIG_NAMES
                    for d in PEAK_DTYPES
                ]
            except NotImplementedError:
                continue
            print(f"{impl:8} {operation:18} " + " ".join(f"{r:11.2f}" for r in ratios))


if __name__ == "__main__":
    main()
