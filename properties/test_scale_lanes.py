"""Issue 22: hard values in every lane of whole tiles, and the harness fixes torch.compile showed.

``broken_tiles.py`` holds 2-D kernels whose bugs need a hard value and a seam at once (a whole
tile whose last window overhangs the edge, ``>=``/``>`` registers on signed zeros, NaN dropped
in the body, float32 compares of float64, float32 gradient accumulation). Each must be caught
at the default budget in seconds; the correct kernel, declared with nothing but its support,
passes.
"""

from __future__ import annotations

import time

import broken_tiles as bt
import numpy as np
import pytest

import poolref.fast
from poolref import adapters
from poolref.testing import Support, check_max_pool
from poolref.testing._scale import run_scale

#: Bugs that only the lane cases reach (the other scale cases miss them).
ONLY_LANES = ("overhang", "f32_compare", "f32_backward")


def _first_check(text: str) -> str:
    return text.splitlines()[0].split("[", 1)[1].split("]", 1)[0]


@pytest.mark.parametrize("kernel", bt.BROKEN, ids=lambda k: f"{k.seam} ({k.name})")
def test_lane_kernel_bug_is_caught_at_the_default_budget(kernel):
    start = time.perf_counter()
    with pytest.raises(AssertionError) as info:
        check_max_pool(kernel.candidate, ndim=2)
    seconds = time.perf_counter() - start
    text = str(info.value)
    assert _first_check(text) == kernel.caught_by, text
    assert "found by: scale case" in text, text
    if kernel.bug in ONLY_LANES:
        assert "found by: scale case 'lanes:" in text, text
    assert seconds < 60, f"took {seconds:.0f} s"


def test_the_correct_lane_kernel_passes_declared_with_nothing():
    summary = check_max_pool(bt.CORRECT.candidate, ndim=2)
    seams = summary.scale.seams
    assert seams["float64 below float32 resolution or beyond its range"] >= 9
    assert seams["-0.0/+0.0 in every lane of a tile"] >= 9


def _fast(x, k, s, p, d, ceil_mode):
    return poolref.fast.max_pool2d(x, k, s, p, d, ceil_mode, return_indices=True)


def _fast_backward(g, x, k, s, p, d, ceil_mode):
    return poolref.fast.max_pool2d_backward(g, x, k, s, p, d, ceil_mode)


def _negative_nan(x, k, s, p, d, ceil_mode):
    y, i = _fast(x, k, s, p, d, ceil_mode)
    if y.dtype.kind == "f":
        y = np.where(np.isnan(y), -np.abs(np.full_like(y, np.nan)), y)  # sign bit set, as inductor
    return y, i


def test_the_sign_of_a_nan_is_not_a_difference():
    support = Support(ndims=(2,), dtypes=("float32", "float64"), backward_dtypes=())
    check_max_pool(_negative_nan, support=support, max_examples=20, scale=False)


def _index_into_padding(x, k, s, p, d, ceil_mode):
    y, i = _fast(x, k, s, p, d, ceil_mode)
    if any(p) and y.dtype.kind == "f":
        i = np.where(np.isneginf(y), -1, i)  # inductor: a window at -inf points into the padding
    return y, i


def test_no_rule_explains_an_index_outside_the_input():
    support = Support(ndims=(2,), dtypes=("float64",), backward_dtypes=())
    with pytest.raises(AssertionError) as info:
        check_max_pool(_index_into_padding, support=support, max_examples=0, scale=False)
    text = str(info.value)
    assert "[indices]" in text and "explained by" not in text, text
    with pytest.raises(AssertionError):  # nor does "auto" accept it
        check_max_pool(
            _index_into_padding, support=support, max_examples=0, scale=False, behaviour="auto"
        )


def _crashing_backward(g, x, *args):
    raise RuntimeError("compiled backward failed")


def _wrong_index(x, k, s, p, d, ceil_mode):
    y, i = _fast(x, k, s, p, d, ceil_mode)
    return y, np.zeros_like(i)


def test_every_failing_check_of_a_case_is_reported():
    support = Support(ndims=(2,), dtypes=("float64",), backward_dtypes=("float64",))
    with pytest.raises(AssertionError) as info:
        check_max_pool(
            _wrong_index, backward=_crashing_backward, support=support, max_examples=0, scale=False
        )
    text = str(info.value)
    assert "other checks failing on this case:" in text, text
    assert "[backward raised] RuntimeError: compiled backward failed" in text, text


def test_the_scale_stage_goes_on_after_a_failure_and_counts_every_case():
    bad = bt.BROKEN[0].candidate  # overhang_8: only some lane cases fail
    with pytest.raises(AssertionError) as info:
        check_max_pool(bad, ndim=2, corners=False, max_examples=0)
    scale = info.value.summary.scale
    assert scale.cases >= 25 and 0 < scale.failed < scale.cases
    assert f"{scale.failed} failed" in str(info.value.summary)


def test_the_time_budget_governs_the_scale_cap_and_says_the_flag():
    cand = bt.CORRECT.candidate
    run = run_scale(cand, 2, seconds=1e-9)
    assert run.cases <= 1
    assert any("--time-budget" in reason for reason in run.skipped)
    longer = run_scale(cand, 2, seconds=600)
    assert not any("--time-budget" in reason for reason in longer.skipped)


def test_torch_takes_any_callable_and_names_the_compile_target():
    torch = pytest.importorskip("torch")
    seen = []

    def mine(*args, **kwargs):
        seen.append(len(args[1]))
        return torch.nn.functional.max_pool2d(*args, **kwargs)

    cand = adapters.torch(fn={2: mine})
    assert cand.support.ndims == (2,)
    check_max_pool(cand, ndim=2, max_examples=5, corners=False, scale=False)
    assert seen and set(seen) == {2}
    assert "torch-compile" in adapters.NAMED and adapters.REQUIRES["torch-compile"] == ("torch",)
    with pytest.raises(TypeError, match="fn="):
        adapters.torch(fn=42)


def test_a_compiled_target_gets_a_call_timeout_that_holds_a_compile():
    import argparse

    from poolref._cli.verify import _call_timeout
    from poolref.testing._worker import DEFAULT_TIMEOUT

    def args(target, timeout=None):
        return argparse.Namespace(target=target, timeout=timeout)

    assert _call_timeout(args("torch-compile")) == adapters.CALL_TIMEOUT["torch-compile"] >= 600
    assert _call_timeout(args("torch")) == DEFAULT_TIMEOUT == 60
    assert _call_timeout(args("torch-compile", 5.0)) == 5.0
