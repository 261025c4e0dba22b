"""The scale cases of ``poolref.testing``: kernel-shaped bugs are caught, the correct kernel passes.

Every kernel in ``broken_kernels.py`` hides its bug behind a seam of an
optimised kernel (a 16-lane tile, a worker split over N*C, the channels-last
path, a 2x2 specialisation, a large-kernel merge, a narrow index type). The
corner cases and the Hypothesis search never reach those seams; the scale
cases must, with the default budget, in well under a minute each. The test
ids name the seam.
"""

from __future__ import annotations

import re
import time

import broken_kernels as bk
import numpy as np
import pytest

from poolref import adapters
from poolref.testing import Behaviour, Candidate, ScaleSpec, Support, check_max_pool
from poolref.testing import _scale as sc

DEFAULT = [k for k in bk.BROKEN if k.budget == "quick"]


def _tag(text: str) -> str:
    return re.search(r"\[([^\]]+)\]", text.splitlines()[0]).group(1)


def _id(kernel) -> str:
    return f"{kernel.seam} ({kernel.bug})"


def test_at_least_fifteen_kernel_bugs_run_with_the_default_budget():
    assert len(DEFAULT) >= 15
    assert len({k.bug for k in bk.BROKEN}) == len(bk.BROKEN)


@pytest.mark.parametrize("kernel", DEFAULT, ids=_id)
def test_kernel_bug_is_caught_by_the_scale_cases(kernel):
    start = time.perf_counter()
    with pytest.raises(AssertionError) as info:
        check_max_pool(kernel.candidate, ndim=kernel.ndim)
    seconds = time.perf_counter() - start
    text = str(info.value)
    assert _tag(text) == kernel.caught_by, text
    assert "found by: scale case" in text, text  # not by a corner case or the small search
    assert seconds < 60, f"took {seconds:.0f} s"


def test_a_plane_above_2_24_runs_at_the_default_budget_and_the_dense_one_in_thorough():
    for nd in (1, 2, 3):
        quick = {s.label: s for s in sc.scale_specs(nd, Support(), Behaviour())[0]}
        sparse = quick["plane > 2^24, constant with planted maxima"]
        assert sparse.sparse and np.prod(sparse.spatial) > 2**24
        assert "plane > 2^24" not in quick  # the dense one pools 2^24 elements to judge them
        thorough = {s.label for s in sc.scale_specs(nd, Support(), Behaviour(), "thorough")[0]}
        assert {"plane > 2^24", sparse.label} <= thorough
    _, skipped = sc.scale_specs(1, Support(), Behaviour(), max_elements=1 << 22)
    assert skipped == {
        "plane > 2^24, constant with planted maxima: more elements than max_elements=4,194,304"
        " (run it with a larger --max-elements or max_elements=)": 1
    }
    _, skipped = sc.scale_specs(1, Support(), Behaviour(ties="any"))
    assert skipped[
        "plane > 2^24, constant with planted maxima: ties='any': a constant plane is all ties"
    ]


def test_the_correct_tiled_kernel_passes_every_rank():
    summary = check_max_pool(bk.CORRECT.candidate, ndim=None)
    assert summary.scale.cases >= 3 * 15
    assert summary.not_covered == ()


def test_the_report_shows_a_shrunk_case_and_rebuilds_it():
    kernel = next(k for k in bk.BROKEN if k.bug == "tail_off_by_one")
    with pytest.raises(AssertionError) as info:
        check_max_pool(kernel.candidate, corners=False, max_examples=0)
    text = str(info.value)
    shape = eval(re.search(r"x\.shape=(\([0-9, ]+\)) \(N, C", text).group(1))
    assert shape[:2] == (1, 1) and np.prod(shape) < 200, (
        text
    )  # one plane, one row past the 16-lane tile
    assert "then made smaller" in text and "output W crossed a multiple of 16" in text
    snippet = text.split("reproduce:\n", 1)[1]
    namespace: dict = {}
    exec(re.sub(r"^    ", "", snippet, flags=re.M), namespace)
    assert not np.array_equal(namespace["actual"][0], namespace["expected"][0], equal_nan=True)


# ----------------------------------------------------------------------------
# The cases themselves
# ----------------------------------------------------------------------------


def test_the_quick_cases_reach_every_seam_of_the_issue():
    seams = set()
    for nd in (1, 2, 3):
        specs, _ = sc.scale_specs(nd, Support(), Behaviour())
        for spec in specs:
            seams.update(sc.seams_of(spec))
    for needed in (
        "W crossed a multiple of 32",
        "W crossed a multiple of 128",
        "output W crossed a multiple of 16",
        "H crossed a multiple of 64",
        "D crossed a multiple of 8",
        "N*C prime >= 5",
        "N*C a multiple of 64",
        "N*C >= 100",
        "channels-last C >= 8",
        "channels-last C >= 64",
        "channels-last C > 8, not a multiple of 8",
        "plane > 2^11",
        "plane > 2^15",
        "plane > 2^16",
        "kernel wider than 7",
        "kernel > 255 taps",
        "stride > kernel",
        "2x2 stride 2",
        "ties across a tile boundary",
        "NaN in the last tile",
        "all -inf window in the tail",
        "-0.0 beside +0.0 in the last tile",
        "negative values next to padding",
    ):
        assert needed in seams, needed


def test_hard_values_are_planted_where_the_seams_are():
    spec = ScaleSpec((2, 3, 20, 67), (2, 2), (2, 2), plant=("ties", "nan", "-inf", "-0.0"), tile=32)
    x = spec.build()
    assert x.shape == spec.shape and x.dtype == np.float32
    last = x[1, 2]
    assert (
        np.isnan(last[:, 32:]).any() and not np.isnan(x[0, 1]).any()
    )  # NaN in the last tile of chosen planes
    assert np.isneginf(last[-4:, -4:]).all() and np.isneginf(last[:4, :4]).all()
    zeros = last[last == 0]
    assert np.signbit(zeros).any() and (~np.signbit(zeros)).any()
    assert (
        last[4:16, 63:65] == 100
    ).all()  # equal maxima on both sides of column 64, the last tile's start
    again = spec.build()
    assert np.array_equal(x, again, equal_nan=True)  # seeded: reports can rebuild it


def test_channels_last_cases_have_channels_innermost():
    spec = ScaleSpec((2, 17, 5, 9), (2, 2), (2, 2), layout="channels-last")
    x = spec.build()
    assert x.strides[1] == x.itemsize and not x.flags.c_contiguous


@pytest.mark.parametrize(
    ("behaviour", "forbidden"),
    [
        (Behaviour(nan="first"), "nan"),
        (Behaviour(nan="untested"), "nan"),
        (Behaviour(ties="any"), "ties"),
    ],
    ids=["nan-first", "nan-untested", "ties-any"],
)
def test_cases_avoid_what_fast_cannot_judge(behaviour, forbidden):
    specs, _ = sc.scale_specs(2, Support(), behaviour)
    assert specs
    for spec in specs:
        assert forbidden not in spec.plant
        x = spec.build()
        if forbidden == "nan":
            assert not np.isnan(x).any() if x.dtype.kind == "f" else True
        else:
            for p in x.reshape(x.shape[0] * x.shape[1], -1)[:3]:
                values = p[~np.isnan(p)]
                assert np.unique(values).size == values.size


def test_declared_limits_and_layouts_are_respected():
    support = Support(
        max_batch=2, max_channels=4, non_contiguous=False, dtypes=("float64",), padding=False
    )
    specs, skipped = sc.scale_specs(2, support, Behaviour())
    assert specs
    for spec in specs:
        assert spec.shape[0] <= 2 and spec.shape[1] <= 4
        assert spec.layout == "C" and spec.dtype == "float64" and not any(spec.padding)
    assert any("channels-last" in reason for reason in skipped)


def test_max_elements_caps_memory_and_the_summary_says_what_was_skipped():
    summary = check_max_pool(
        adapters.poolref_module("im2col"), corners=False, max_examples=0, max_elements=50_000
    )
    assert summary.scale.cases > 5
    larger = " (run it with a larger --max-elements or max_elements=)"
    assert all(reason.endswith("max_elements=50,000" + larger) for reason in summary.scale.skipped)
    text = str(summary)
    assert "skipped: plane > 2^16: more elements than max_elements=50,000" in text
    assert "W crossed a multiple of 32:" in text and "channels-last C >= 64:" in text
    with pytest.raises(ValueError, match="max_elements=0"):
        check_max_pool(adapters.poolref_module("im2col"), max_elements=0)


def test_a_declared_index_format_is_checked_at_scale():
    """A global-index candidate passes when declared so, and fails as a plane-index one."""
    import poolref.fast

    def global_index(x, k, s, p, d, ceil):
        y, idx = poolref.fast.max_pool2d(x, k, s, p, d, ceil, return_indices=True)
        plane = int(np.prod(x.shape[2:]))
        return y, idx + (np.arange(x.shape[0] * x.shape[1]) * plane).reshape(
            x.shape[0], x.shape[1], 1, 1
        )

    cand = Candidate(global_index, support=Support(unbatched=False))
    check_max_pool(cand, corners=False, max_examples=0, behaviour=Behaviour(index_format="global"))
    with pytest.raises(AssertionError, match=r"\[indices\]"):
        check_max_pool(cand, corners=False, max_examples=0)


def test_the_cli_caps_memory_with_max_elements(capsys):
    from poolref.__main__ import main

    args = [
        "verify",
        "broken_kernels:tail_off_by_one_forward",
        "--backward",
        "broken_kernels:tail_off_by_one_backward",
        "--dtypes",
        "float32",
        "--ndim",
        "2",
        "--examples",
        "0",
    ]
    assert (
        main([*args, "--max-elements", "600"]) == 0
    )  # every scale case is over the cap: the bug hides
    out = capsys.readouterr().out
    assert "scale: 0 cases" in out and "more elements than max_elements=600" in out
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "found by: scale case" in out and "[values]" in out
    assert main([*args, "--max-elements", "0"]) == 2
