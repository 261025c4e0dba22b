"""One run tells the whole truth: every distinct difference, the rule that explains each,
what the target does not support, and machine-readable results (issue: `poolref verify`).

The targets are in ``targets.py``: written the way users write them, not built from poolref.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
import targets

from poolref.testing import Support, check_max_pool


def _summary_of_failure(target, **kwargs):
    with pytest.raises(AssertionError) as info:
        check_max_pool(target, **kwargs)
    return info.value.summary, str(info.value)


# ----------------------------------------------------------------------------
# Capability probing: no false alarm on the most common kind of target
# ----------------------------------------------------------------------------


def test_a_correct_float_only_nchw_target_passes_with_no_declarations():
    summary = check_max_pool(targets.float_nchw)
    text = "\n".join(summary.unsupported)
    assert "int8" in text and "uint8" in text and "TypeError" in text
    assert "unbatched input" in text and "indices" in text
    assert "not supported: " in str(summary)
    assert summary.examples > 0 and summary.corner_cases > 0


def test_the_same_target_with_one_realistic_bug_still_fails():
    summary, text = _summary_of_failure(targets.float_nchw_zero_padding)
    assert {d.check for d in summary.failed} <= {"values", "output shape"}
    assert "values: next to padding" in {d.kind for d in summary.failed}
    assert "reproduce:" in text


def test_an_explicit_support_turns_an_unsupported_capability_into_a_failure():
    summary, _ = _summary_of_failure(
        targets.float_nchw, support=Support(ndims=(2,), dtypes=("float64", "int8")), max_examples=5
    )
    assert {d.kind for d in summary.failed} >= {"unsupported: int8", "unsupported: indices"}


def test_strict_without_a_support_fails_on_the_first_rejected_capability():
    summary, _ = _summary_of_failure(targets.float_nchw, strict=True, max_examples=5)
    assert "unsupported: unbatched input" in {d.kind for d in summary.failed}


# ----------------------------------------------------------------------------
# Behaviour inference
# ----------------------------------------------------------------------------


def test_auto_accepts_named_rules_and_prints_the_profile():
    summary = check_max_pool(targets.numpy_style, behaviour="auto")
    assert summary.profile == "nan=first signed_zero=any"
    assert "profile: nan=first signed_zero=any" in str(summary)
    assert {d.rule for d in summary.differences} == {"nan='first'", "signed_zero='any'"}
    assert not summary.failed


def test_pytorch_mode_fails_on_rule_differences_and_names_the_rule():
    summary, text = _summary_of_failure(targets.numpy_style)
    assert {d.kind for d in summary.failed} == {"indices: NaN window", "values: signed zero"}
    assert "explained by the named rule nan='first'" in text
    assert "explained by the named rule signed_zero='any'" in text


def test_auto_lists_two_bugs_and_a_rule_difference_in_one_run():
    summary, text = _summary_of_failure(targets.numpy_style_two_bugs, behaviour="auto")
    failed = {d.check for d in summary.failed}
    assert {"output shape", "output dtype"} <= failed
    assert all(d.rule is None for d in summary.failed)
    assert "nan='first'" in {d.rule for d in summary.differences if not d.failed}
    assert "distinct difference" in text
    assert text.index("[output shape]") < text.index("[output dtype]") or "output dtype" in text


# ----------------------------------------------------------------------------
# Machine-readable results
# ----------------------------------------------------------------------------


def test_json_carries_the_verdict_profile_and_every_difference():
    summary, _ = _summary_of_failure(targets.numpy_style_two_bugs, behaviour="auto")
    data = json.loads(summary.to_json())
    assert data["verdict"] == "FAIL"
    assert data["profile"].startswith("nan=first")
    assert len(data["differences"]) == len(summary.differences)
    assert all(
        {"kind", "check", "detail", "report", "found_by", "rule", "failed"} <= set(d)
        for d in data["differences"]
    )


def test_junit_xml_has_a_testcase_per_difference_and_the_failures_counted():
    summary, _ = _summary_of_failure(targets.numpy_style_two_bugs, behaviour="auto")
    root = ET.fromstring(summary.to_junit_xml())
    assert root.tag == "testsuite"
    cases = root.findall("testcase")
    assert len(cases) == len(summary.differences) == int(root.get("tests"))
    failures = [c for c in cases if c.find("failure") is not None]
    assert len(failures) == len(summary.failed) == int(root.get("failures"))
    for case in cases:
        assert case.get("name") and case.get("classname")
    for case in failures:
        assert case.find("failure").get("message")


def test_a_passing_run_gives_one_passing_junit_testcase():
    summary = check_max_pool(targets.float_nchw, max_examples=5)
    root = ET.fromstring(summary.to_junit_xml())
    assert root.get("failures") == "0" and len(root.findall("testcase")) == 1


# ----------------------------------------------------------------------------
# Budgets
# ----------------------------------------------------------------------------


def test_max_cases_samples_the_corner_cases_too():
    summary = check_max_pool(targets.float_nchw, max_cases=20)
    assert summary.corner_cases + summary.examples <= 20
    assert summary.corner_cases >= 1


def test_a_time_budget_stops_starting_new_cases():
    summary = check_max_pool(targets.float_nchw, time_budget=0.001)
    assert summary.examples + summary.corner_cases < 20


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"max_cases": 0}, "max_cases=0"),
        ({"time_budget": -1}, "time_budget=-1"),
        ({"behaviour": "rust"}, "behaviour='rust'"),
    ],
)
def test_bad_budget_arguments_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        check_max_pool(targets.float_nchw, **kwargs)
