"""Tests of the harness ``poolref.testing.check_max_pool`` and ``poolref.adapters``.

The harness is only as good as the bugs it catches: every implementation in
``broken.py`` must be caught, with the *default* budget, by the check named
in its entry; every correct implementation must pass (poolref's own; PyTorch
on the CPU, JAX and onnxruntime within their declared behaviours, when
installed).
"""

from __future__ import annotations

import re

import broken
import numpy as np
import pytest

from poolref import adapters, naive, testing
from poolref.testing import Behaviour, Candidate, Support, check_max_pool
from poolref.testing._check import _same_bits
from poolref.testing._expect import _expected

FEW = 25  # Hypothesis examples per rank where a reduced budget is enough (passing candidates)


def _check_tag(exc: AssertionError) -> str:
    first = str(exc).splitlines()[0]
    return re.search(r"\[([^\]]+)\]", first).group(1)


# ----------------------------------------------------------------------------
# Broken implementations are caught, with the default budget
# ----------------------------------------------------------------------------


def test_there_are_at_least_twenty_broken_implementations():
    assert len(broken.BROKEN) >= 20
    assert len({b.bug for b in broken.BROKEN}) == len(broken.BROKEN)


@pytest.mark.parametrize("bad", broken.BROKEN, ids=lambda b: b.bug)
def test_broken_implementation_is_caught_by_the_default_budget(bad):
    # broken.py loops over outputs in Python: the planes above 2^24 elements (the sparse scale
    # cases) would take it hours, and its bugs are logic bugs that smaller cases find
    with pytest.raises(AssertionError) as info:
        check_max_pool(bad.forward, backward=bad.backward, max_elements=2**22)
    found = [d.check for d in info.value.summary.differences]
    assert bad.caught_by in found, str(info.value)


def test_the_bug_free_version_of_broken_passes_the_default_budget():
    # broken.py loops over outputs in Python: its bugs are logic bugs, so no scale cases (test_scale.py)
    summary = check_max_pool(broken.CORRECT.forward, backward=broken.CORRECT.backward, scale=False)
    assert summary.examples == testing.BUDGETS["quick"]
    assert summary.not_covered == ()


@pytest.mark.parametrize(
    "bug", ["nan_first", "ties_last", "grad_assign", "layout_blind", "batch_channel_swap"]
)
def test_the_hypothesis_search_alone_finds_and_shrinks(bug):
    bad = next(b for b in broken.BROKEN if b.bug == bug)
    # nan_first needs two NaNs in one window: with seeds 0-7 the search first fails it at example
    # 161, 103, 34, 73, 223, 71, 74, 192 (seed 0: 161 of the default 200, no margin). 1000 is 4x
    # the worst of those; the search stops at the first failure, so the test costs the same.
    budget = {"nan_first": 1000}.get(bug)
    with pytest.raises(AssertionError) as info:
        check_max_pool(
            bad.forward,
            backward=bad.backward,
            corners=False,
            scale=False,
            seed=0,
            max_examples=budget,
        )
    text = str(info.value)
    assert bad.caught_by in [d.check for d in info.value.summary.differences]
    assert "Hypothesis search (2-D), shrunk" in text
    x_line = next(line for line in text.splitlines() if line.strip().startswith("x = np."))
    assert x_line.count(",") < 40, "the counterexample should be small after shrinking"


# ----------------------------------------------------------------------------
# The report
# ----------------------------------------------------------------------------


def _failure(bad_name: str, **kwargs) -> str:
    bad = next(b for b in broken.BROKEN if b.bug == bad_name)
    with pytest.raises(AssertionError) as info:
        check_max_pool(bad.forward, backward=bad.backward, **kwargs)
    return str(info.value)


def test_report_shows_case_values_and_a_runnable_reproduction():
    text = _failure("zero_padding")
    assert text.startswith("max pooling of broken.zero_padding_forward is wrong [values]: output[")
    for needle in (
        "x.shape=(",
        "x.dtype=",
        "kernel_size=(",
        "stride=(",
        "padding=(",
        "dilation=(",
        "ceil_mode=",
        "found by: corner case",
        "window of that output",
        "expected output =",
        "actual output   =",
        "reproduce:",
    ):
        assert needle in text, needle
    snippet = text.split("reproduce:\n", 1)[1].split("\n\n", 1)[0]  # the first difference
    namespace: dict = {}
    exec(re.sub(r"^    ", "", snippet, flags=re.M), namespace)
    actual, expected = namespace["actual"], namespace["expected"]
    assert not np.array_equal(actual[0], expected[0], equal_nan=True)


def test_gradient_report_reproduces_the_gradient():
    text = _failure("grad_assign")
    assert "[gradient]" in text and "grad_output = np.array(" in text
    snippet = text.split("reproduce:\n", 1)[1].split("\n\n", 1)[0]  # the first difference
    namespace: dict = {}
    exec(re.sub(r"^    ", "", snippet, flags=re.M), namespace)
    assert not np.array_equal(namespace["actual_grad"], namespace["expected_grad"])


def test_report_reproduces_a_non_contiguous_layout():
    text = _failure("layout_blind")
    assert "with_layout(x, 'F'" in text or "with_layout(x, 'transposed'" in text
    snippet = text.split("reproduce:\n", 1)[1].split("\n\n", 1)[0]  # the first difference
    namespace: dict = {}
    exec(re.sub(r"^    ", "", snippet, flags=re.M), namespace)
    assert not np.array_equal(namespace["actual"][0], namespace["expected"][0], equal_nan=True)


def test_search_is_deterministic_when_ci_is_set(monkeypatch):
    monkeypatch.setenv("CI", "true")
    first = _failure("ties_last", corners=False, scale=False)
    second = _failure("ties_last", corners=False, scale=False)
    assert first == second


def test_exceptions_from_the_candidate_are_reported_as_failures():
    def raises(x, *args):
        raise RuntimeError("boom")

    with pytest.raises(AssertionError, match=r"\[forward raised\]: RuntimeError: boom"):
        check_max_pool(raises, max_examples=0)


def test_a_non_deterministic_candidate_is_reported():
    calls = {"n": 0}

    def flaky(x, k, s, p, d, c):
        calls["n"] += 1
        y, i = naive.max_pool2d(x, k, s, p, d, c, return_indices=True)
        if calls["n"] % 7 == 0:
            y = y.copy()
            y.flat[0] = 99 if y.dtype.kind != "u" else 1
        return y, i

    with pytest.raises(AssertionError):
        check_max_pool(flaky, corners=False, scale=False, max_examples=60)


# ----------------------------------------------------------------------------
# Correct implementations pass
# ----------------------------------------------------------------------------

# Candidates built on pure-Python loops (poolref.naive, broken.py) take seconds per scale case:
# they skip the scale cases (NO_SCALE); test_scale.py checks those with kernel-shaped candidates.
NO_SCALE = {"scale": False}
#: poolref's own implementations skip the sparse planes above 2^24 here, as ``poolref verify`` does.
SELF_MAX_ELEMENTS = 1 << 22


@pytest.mark.parametrize("module", ["fast", "im2col", "naive"])
def test_poolref_implementations_pass(module):
    summary = check_max_pool(
        adapters.poolref_module(module),
        ndim=None,
        max_examples=FEW,
        scale=module != "naive",
        max_elements=SELF_MAX_ELEMENTS,  # the sparse planes: test_scale_sparse.py
    )
    assert summary.ndims == (1, 2, 3)
    assert summary.corner_cases > 150


def test_poolref_layer_classes_pass():
    from poolref import fast, im2col

    small = {"max_examples": FEW, "max_elements": SELF_MAX_ELEMENTS}
    check_max_pool(adapters.nn_layers(fast), ndim=None, **small)
    check_max_pool(adapters.layer(im2col.Maxpool, dtypes=testing.ALL_DTYPES), **small)


def test_default_budget_reaches_every_hard_corner():
    summary = check_max_pool(adapters.poolref_module("fast"), max_elements=SELF_MAX_ELEMENTS)
    assert summary.not_covered == ()
    assert set(testing.HARD_CORNERS) <= set(summary.features)
    text = str(summary)
    assert "no counterexample" in text and "covered:" in text


def test_support_is_respected():
    """A candidate that rejects what it does not support passes when that is declared."""

    def limited(x, k, s, p, d, c):
        if any(p) or any(v != 1 for v in d) or c or x.ndim != 4 or x.dtype != np.float32:
            raise AssertionError("unsupported case generated")
        if not x.flags.c_contiguous:
            raise AssertionError("non-contiguous input generated")
        return naive.max_pool2d(x, k, s, p, d, c)

    support = Support(
        ndims=(2,),
        dtypes=("float32",),
        padding=False,
        dilation=False,
        ceil_mode=False,
        indices=False,
        unbatched=False,
        non_contiguous=False,
    )
    summary = check_max_pool(limited, support=support, max_examples=FEW, **NO_SCALE)
    assert "NaN" in summary.features
    assert "padding" not in summary.features and summary.not_covered == ()


def test_square_and_exact_fit_layers():
    def layer_only(x, k, s, p, d, c):
        assert len(set(k)) == 1 and len(set(s)) == 1
        for n, kk, ss in zip(x.shape[2:], k, s):
            assert (n - kk) % ss == 0
        return naive.max_pool2d(x, k, s)

    support = Support(
        ndims=(2,),
        padding=False,
        dilation=False,
        ceil_mode=False,
        indices=False,
        unbatched=False,
        square=True,
        exact_fit=True,
    )
    check_max_pool(layer_only, support=support, max_examples=FEW, **NO_SCALE)


def test_ties_any_accepts_any_maximum_but_not_a_non_maximum():
    def last_max(x, k, s, p, d, c):
        return broken.pool(x, k, s, p, d, c, frozenset({"ties_last"}))

    check_max_pool(last_max, behaviour=Behaviour(ties="any"), max_examples=FEW, **NO_SCALE)
    with pytest.raises(AssertionError, match=r"\[indices"):
        check_max_pool(
            broken.window_relative_index_forward, behaviour=Behaviour(ties="any"), **NO_SCALE
        )


def test_nan_rules_can_be_declared():
    def first_nan(x, k, s, p, d, c):
        return broken.pool(x, k, s, p, d, c, frozenset({"nan_first"}))

    check_max_pool(first_nan, behaviour=Behaviour(nan="first"), max_examples=FEW, **NO_SCALE)
    with pytest.raises(AssertionError, match=r"\[indices\]"):
        check_max_pool(first_nan, behaviour=Behaviour(nan="last"), max_examples=FEW, **NO_SCALE)


def test_global_index_format():
    def global_index(x, k, s, p, d, c):
        y, i = naive.max_pool2d(x, k, s, p, d, c, return_indices=True)
        if x.ndim == 3:
            i = i + np.arange(x.shape[0]).reshape(-1, 1, 1) * x.shape[-1] * x.shape[-2]
        else:
            n, ch = x.shape[:2]
            i = i + np.arange(n * ch).reshape(n, ch, 1, 1) * x.shape[-1] * x.shape[-2]
        return y, i

    check_max_pool(
        global_index, behaviour=Behaviour(index_format="global"), max_examples=FEW, **NO_SCALE
    )
    with pytest.raises(AssertionError, match=r"\[indices\]"):
        check_max_pool(global_index, max_examples=FEW, **NO_SCALE)


def test_declarations_are_validated():
    with pytest.raises(ValueError, match="ndims"):
        Support(ndims=(4,))
    with pytest.raises(ValueError, match="nan"):
        Behaviour(nan="sometimes")
    with pytest.raises(ValueError, match="backward_dtypes"):
        Support(backward_dtypes=("int8",))
    with pytest.raises(ValueError, match="ndim=3"):
        check_max_pool(broken.correct_forward, ndim=3, support=Support(ndims=(2,)))
    with pytest.raises(ValueError, match="budget"):
        check_max_pool(broken.correct_forward, budget="huge")
    with pytest.raises(TypeError):
        check_max_pool("not callable")


def test_candidate_declarations_can_be_overridden():
    # scale=False: broken.correct_forward pools with Python loops, so its quick-budget scale
    # cases took 220 s of the suite; the declarations are what this test is about
    cand = Candidate(broken.correct_forward, support=Support(ndims=(1,)))
    summary = check_max_pool(cand, ndim=1, max_examples=5, name="renamed", scale=False)
    assert summary.name == "renamed" and summary.ndims == (1,)


# ----------------------------------------------------------------------------
# Frameworks (skipped when not installed)
# ----------------------------------------------------------------------------


def test_torch_cpu_passes_within_its_declared_behaviour():
    pytest.importorskip("torch")
    summary = check_max_pool(adapters.torch("cpu"), ndim=None, max_examples=FEW)
    assert "backward" in summary.features and "indices" in summary.features


def test_torch_channels_last_3d_all_neg_inf_index_bug_is_found():
    """torch 2.13 CPU: max_pool3d's channels_last_3d kernel drops the depth offset
    from the index of an all -inf window (docs/behaviours.md)."""
    torch = pytest.importorskip("torch")
    if not torch.__version__.startswith("2.13"):
        pytest.skip("checked on torch 2.13 only")
    with pytest.raises(AssertionError) as info:
        check_max_pool(adapters.torch("cpu", "channels_last"), ndim=3, max_examples=0)
    text = str(info.value)
    assert "[indices]" in text and "-np.inf" in text


def test_torch_adapter_missing_cuda_is_a_clear_error():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(adapters.AdapterUnavailable, match="cuda"):
        adapters.torch("cuda")


def test_missing_framework_raises_adapter_unavailable(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(adapters.AdapterUnavailable, match="onnxruntime"):
        adapters.onnxruntime()


def test_jax_passes_within_its_declared_behaviour():
    pytest.importorskip("jax")
    check_max_pool(adapters.jax(x64=True), ndim=1, max_examples=5)


def test_jax_fails_pytorch_rules():
    pytest.importorskip("jax")
    cand = adapters.jax(x64=True)
    with pytest.raises(AssertionError, match=r"\[(values|gradient)\]"):
        check_max_pool(cand, behaviour=Behaviour(), ndim=1, max_examples=0)


def test_onnxruntime_passes_within_its_declared_behaviour():
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    check_max_pool(adapters.onnxruntime(), ndim=(1, 3), max_examples=FEW)


def test_onnxruntime_fails_pytorch_rules():
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    with pytest.raises(AssertionError, match=r"\[indices\]"):
        check_max_pool(adapters.onnxruntime(), behaviour=Behaviour(), max_examples=0)


# ----------------------------------------------------------------------------
# The harness's own reading of the rules
# ----------------------------------------------------------------------------


def test_window_analysis_matches_the_oracle():
    """The harness's own reading of PyTorch's rules is poolref.naive's (so it need not run it per case)."""
    from hypothesis import given, settings

    from poolref.strategies import pool_cases

    @settings(max_examples=60, deadline=None)
    @given(pool_cases())
    def check(case):
        xb = case.x if case.batched else case.x[None]
        exp = _expected(xb, case.params, Behaviour())
        y, idx = getattr(naive, f"max_pool{case.nd}d")(xb, **case.kwargs(), return_indices=True)
        assert _same_bits(np.ascontiguousarray(y), exp.y)
        np.testing.assert_array_equal(idx, exp.index)

    check()


def test_corner_cases_are_fresh_arrays_that_keep_their_strides():
    # a candidate that writes to (or reshapes) its input must not change later runs' cases,
    # nor the TINY rows that the property suite uses as @examples
    from poolref.testing._corners import TINY

    for nd in (1, 2, 3):
        first, second = testing.corner_cases(nd), testing.corner_cases(nd)
        rows = dict(TINY)
        for (name, a), (_, b) in zip(first, second):
            assert not np.shares_memory(a.x, b.x), name
            if name in rows:
                assert not np.shares_memory(a.x, rows[name].x), name
                if a.x.shape == rows[name].x.shape:  # the TINY row, not a catalogue namesake
                    assert a.x.strides == rows[name].x.strides, name
