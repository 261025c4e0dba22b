"""The example database: every counterexample is saved under the target's keys and replayed
first in later runs (directory and Redis), read-only mode, bad URLs, a Redis that goes away."""

from __future__ import annotations

import importlib.util
import os

import broken
import numpy as np
import pytest
import redis_server
from hypothesis import given, settings
from hypothesis.database import InMemoryExampleDatabase

from poolref import strategies as ps
from poolref.testing import check_max_pool
from poolref.testing._database import decode, encode_case, encode_scale
from poolref.testing._scale_spec import ScaleSpec

# Nothing but the database can find the bug in a run with no corner, scale or search case.
REPLAY_ONLY = {"ndim": 2, "corners": False, "scale": False, "max_examples": 0}
FIND = {"ndim": 2, "scale": False, "max_examples": 0}  # corner cases only: finds nan_first


def _fails(forward, **kwargs):
    with pytest.raises(AssertionError) as info:
        check_max_pool(forward, **kwargs)
    return info.value.summary  # type: ignore[attr-defined]


def _files(path) -> list:
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs)


def test_a_corner_case_counterexample_is_replayed_first_from_a_directory(tmp_path):
    db = str(tmp_path / "db")
    first = _fails(broken.nan_first_forward, database=db, **FIND)
    assert "corner case" in first.failed[0].found_by
    check_max_pool(broken.CORRECT.forward, database=db, **REPLAY_ONLY)  # another target's keys
    again = _fails(broken.nan_first_forward, database=db, **REPLAY_ONLY)
    assert [d.kind for d in again.failed] == [d.kind for d in first.failed]
    assert again.failed[0].found_by.startswith("database replay (1 of ")
    assert "poolref:broken.nan_first_forward:" in again.failed[0].found_by


def test_a_search_counterexample_is_replayed(tmp_path):
    db = str(tmp_path / "db")
    search = {"ndim": 2, "corners": False, "scale": False, "max_examples": 400, "seed": 1}
    first = _fails(broken.nan_first_forward, database=db, **search)
    assert "Hypothesis search" in first.failed[0].found_by
    again = _fails(broken.nan_first_forward, database=db, **REPLAY_ONLY)
    assert again.failed[0].found_by.startswith("database replay (1 of 1")


def test_read_only_replays_and_writes_nothing(tmp_path):
    db = tmp_path / "db"
    db.mkdir()
    _fails(broken.nan_first_forward, database=str(db), read_only=True, **FIND)
    assert _files(db) == []
    _fails(broken.nan_first_forward, database=str(db), **FIND)
    stored = _files(db)
    again = _fails(broken.nan_first_forward, database=str(db), read_only=True, **REPLAY_ONLY)
    assert again.failed[0].found_by.startswith("database replay")
    assert _files(db) == stored


def test_a_passing_target_is_not_failed_by_an_empty_database(tmp_path):
    summary = check_max_pool(broken.CORRECT.forward, database=InMemoryExampleDatabase(), **FIND)
    assert not summary.failed


@pytest.mark.parametrize(
    ("database", "message"),
    [
        ("redis://127.0.0.1:1/0", "is unreachable"),
        ("redis://127.0.0.1:notaport", "is not a directory or a URL"),
        ("redis://127.0.0.1:6379/x", "is not a directory or a URL"),
        ("http://example.invalid/db", "is not a directory or a URL"),
        (3, "database must be"),
    ],
)
def test_a_bad_database_is_an_error_before_any_case(database, message):
    calls = []

    def forward(*args):
        calls.append(args)
        return broken.CORRECT.forward(*args)

    if message == "is unreachable" and importlib.util.find_spec("redis") is None:
        message = r"needs redis: pip install 'poolref\[redis\]'"  # still before any case
    with pytest.raises((ValueError, TypeError, ImportError), match=message):
        check_max_pool(forward, database=database, **FIND)
    assert calls == []


def test_read_only_needs_an_existing_directory(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        check_max_pool(broken.CORRECT.forward, database=str(tmp_path / "no"), read_only=True)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is not a directory"):
        check_max_pool(broken.CORRECT.forward, database=str(tmp_path / "file"))


@settings(max_examples=25)
@given(ps.pool_cases(layouts=ps.LAYOUTS, max_elements=96))
def test_a_stored_case_has_the_same_bytes_strides_and_parameters(case):
    kind, back = decode(encode_case("values: ties", case))
    assert kind == "values: ties"
    assert back.x.strides == case.x.strides and back.x.dtype == case.x.dtype
    np.testing.assert_array_equal(back.x, case.x)
    assert tuple(back[1:]) == tuple(case[1:])


def test_a_stored_scale_case_is_the_same_spec():
    spec = ScaleSpec((2, 3, 9, 40), (3, 2), (2, 2), (1, 0), (1, 2), True, "float16", plant=("nan",))
    assert decode(encode_scale("values: scale case", spec)) == ("values: scale case", spec)
    assert decode(b"not a poolref case") is None


# ---- Redis ------------------------------------------------------------------


@pytest.fixture
def redis_url(tmp_path):
    server = redis_server.start(str(tmp_path))
    if server is None:
        if redis_server.required():
            pytest.fail("POOLREF_REQUIRE_REDIS=1 but redis-server could not start")
        pytest.skip("no redis-server here (pip install -e '.[redis]')")
    try:
        yield server
    finally:
        server.stop()


def test_a_counterexample_is_replayed_first_from_redis(redis_url):
    first = _fails(broken.nan_first_forward, database=redis_url.url, **FIND)
    again = _fails(broken.nan_first_forward, database=redis_url.url, **REPLAY_ONLY)
    assert [d.kind for d in again.failed] == [d.kind for d in first.failed]
    assert again.failed[0].found_by.startswith("database replay (1 of ")


def test_redis_going_away_mid_run_loses_no_counterexample(redis_url):
    def forward(*args):  # the server dies at the first call (the capability probe)
        if redis_url.process.poll() is None:
            redis_url.stop()
        return broken.nan_first_forward(*args)

    with pytest.raises(AssertionError) as info:
        check_max_pool(forward, database=redis_url.url, **FIND)
    text = str(info.value)
    assert info.value.summary.failed[0].check == "indices"  # type: ignore[attr-defined]
    assert "max pooling of" in text and "[indices]" in text
    assert f"database {redis_url.url} failed during the run" in text
    assert "not saved: indices" in text


def test_a_scale_case_counterexample_is_replayed(tmp_path):
    import broken_kernels as bk

    db = str(tmp_path / "db")
    kernel = bk.BROKEN[0]  # tail_off_by_one: only the scale cases catch it
    first = _fails(kernel.candidate, ndim=kernel.ndim, corners=False, max_examples=0, database=db)
    assert "scale case" in first.failed[0].found_by
    again = _fails(
        kernel.candidate, ndim=kernel.ndim, corners=False, scale=False, max_examples=0, database=db
    )
    assert again.failed[0].found_by.startswith("database replay (1 of 1")
    assert again.failed[0].check == first.failed[0].check
