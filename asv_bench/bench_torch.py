"""Speed ratio poolref / PyTorch (one thread), so the history shows the ratio, not only times.

All ratios are measured in ``setup_cache``, once per run, in one process, with
the poolref and torch variants interleaved (``compare_torch.measure_config``,
medians); each ``track_`` benchmark then reports one number. Inputs are the
suite's float32 ``2**19``-element arrays. Where torch is not installed (the
virtualenv environments asv builds per commit have no torch: record these
with ``asv run --python=same``, see docs/benchmarks.md) the class is not
even discovered (``skip_benchmark_if``), so nothing is logged as skipped.
"""

from __future__ import annotations

import importlib.util
import sys

from . import common
from .common import (
    CONFIG_NAMES,
    IMPLS,
    NDIMS,
    Benchmark,
    SkipNotImplemented,
    input_shape,
    pool_args,
    skip_benchmark_if,
)
from .compare_torch import Config, load_torch, measure_config

#: discovered only where torch can be imported; the check does not import it
_needs_torch = skip_benchmark_if(importlib.util.find_spec("torch") is None)


class TorchRatio(Benchmark):
    """poolref time / torch time, float32: forward, forward vs channels-last, forward-with-saved, backward.

    ``forward_saved`` is ``MaxPool{n}d.forward`` where the implementation has
    the layer classes, else the forward with ``return_indices=True``; it is
    compared with torch's forward with indices. ``backward`` is the layer's
    backward (or the functional backward from indices) against torch's
    ``max_pool{2,3}d_with_indices_backward`` kernel.
    """

    params = [IMPLS, NDIMS, CONFIG_NAMES]
    param_names = ["impl", "ndim", "config"]
    unit = "ratio"
    timeout = 300

    def setup_cache(self):
        torch = load_torch()
        if torch is None:
            return {}  # not None: asv passes a None cache to nobody, and setup's arity would break
        ratios = {}
        smoke = common.SMOKE  # the meta-test: one configuration, one sample
        for ndim in NDIMS[:1] if smoke else NDIMS:
            for config in CONFIG_NAMES[:1] if smoke else CONFIG_NAMES:
                cfg = Config(config, f"{ndim}-D", input_shape(ndim), *pool_args(config))
                out = measure_config(
                    cfg, IMPLS, repeat=1 if smoke else 7, torch=torch, memory=False
                )
                for impl in IMPLS:
                    if out.checks.get(impl) == "WRONG":
                        print(
                            f"warning: poolref.{impl} disagrees with torch on {cfg.describe()}: "
                            f"{out.errors.get(f'check/{impl}')}",
                            file=sys.stderr,
                        )
                    ratios[impl, ndim, config] = {
                        "forward": out.ratio("fwd", impl),
                        "forward_channels_last": out.ratio("fwd", impl, "torch-CL"),
                        "forward_saved": out.ratio("saved", impl),
                        "backward": out.ratio("bwd", impl),
                        "why": "; ".join(f"{k}: {v}" for k, v in out.errors.items() if impl in k),
                    }
        return ratios

    def setup(self, ratios, impl, ndim, config):
        # empty when torch failed to load; partial in smoke mode (the meta-test)
        self.ratios = ratios.get((impl, ndim, config))

    def _ratio(self, op):
        if self.ratios is None:
            raise SkipNotImplemented("torch could not be loaded, or not measured (smoke mode)")
        value = self.ratios[op]
        if value is None:
            raise SkipNotImplemented(self.ratios["why"] or f"no {op} ratio")
        return value

    @_needs_torch
    def track_forward(self, ratios, impl, ndim, config):
        return self._ratio("forward")

    @_needs_torch
    def track_forward_vs_channels_last(self, ratios, impl, ndim, config):
        return self._ratio("forward_channels_last")

    @_needs_torch
    def track_forward_saved(self, ratios, impl, ndim, config):
        return self._ratio("forward_saved")

    @_needs_torch
    def track_backward(self, ratios, impl, ndim, config):
        return self._ratio("backward")
