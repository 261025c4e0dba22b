"""The checks of ``poolref verify TARGET`` as Hypothesis tests that HypoFuzz can fuzz.

:func:`fuzz_tests` builds one ``@given`` test per spatial rank over the same cases the search
draws (:func:`~poolref.testing._search._case_strategy`), checked by the same
:func:`~poolref.testing._check._check_case`. ``poolref fuzz`` writes a pytest module that calls it
and runs HypoFuzz on that module (``poolref/_cli/fuzz.py``).

HypoFuzz fuzzes only tests whose database is the default settings' database, so
:func:`fuzz_tests` loads a Hypothesis profile with the shared database. Every failing case is
saved at once under the same keys ``poolref verify --database`` replays
(``poolref:<target>:<kind>``, the smallest case each process saw per kind), so a fuzz run
stopped at any time keeps what it found, and the next ``poolref verify`` reports it first.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..arrays import PoolCase
from ._database import Store, encode_case, open_database

#: The HypoFuzz health checks that make no sense for these tests (cases are big by design).
_PROFILE = "poolref-fuzz"


def fuzz_tests(argv: Sequence[str], database: str) -> dict:
    """``{"test_<target>_<nd>d": test}`` for ``poolref verify *argv`` with the shared ``database``.

    Parameters
    ----------
    argv : sequence of str
        The arguments of ``poolref verify`` after ``verify``: TARGET and its declaration flags.
    database : str
        A directory or ``redis://host:port[/db]``, shared by every fuzz process.

    Returns
    -------
    dict
        Test functions by name, for a pytest module's globals.
    """
    from hypothesis import HealthCheck, settings

    from .._cli.parser import build_parser
    from .._cli.target import candidate
    from . import _probe
    from ._run_args import _ndims

    args = build_parser().parse_args(["verify", *argv])
    ndim = None if args.ndim is None else [n for ranks in args.ndim for n in ranks]
    cand = candidate(args)
    ndims = _ndims(cand, ndim)
    cand, _ = _probe.probe(cand, ndims[0])  # a capability the target rejects is not fuzzed
    db = open_database(database)
    # parent: Hypothesis's own default profile. Without it the profile inherits the loaded
    # settings, which under CI=true are Hypothesis's derandomized "ci" profile, and HypoFuzz
    # refuses derandomized tests ("sets_derandomize").
    settings.register_profile(
        _PROFILE,
        settings.get_profile("default"),
        derandomize=False,
        database=db,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    settings.load_profile(_PROFILE)
    store = Store(database, cand.label)
    slug = "".join(c if c.isalnum() else "_" for c in cand.label).strip("_")
    return {f"test_{slug}_{nd}d": _fuzz_test(cand, nd, store, db) for nd in ndims}


def _fuzz_test(cand, nd: int, store: Store, db):
    """One rank's test: check a drawn case; save a failing one (the smallest per kind) first."""
    from hypothesis import given, settings

    from . import _infer
    from ._check import _check_case
    from ._report import _Failure
    from ._search import _case_strategy

    smallest: dict[str, bytes] = {}

    def test(case: PoolCase) -> None:
        try:
            _check_case(cand, case)
        except _Failure as failure:
            kind = _infer.kind_of(case, failure)
            value = encode_case(kind, case)
            old = smallest.get(kind)
            if old is None or len(value) < len(old):
                store.save(kind, value)
                if old is not None:
                    store.db.delete(store.key(kind), old)
                smallest[kind] = value
            raise

    test.__name__ = test.__qualname__ = f"fuzz_{nd}d"
    test._hypothesis_internal_add_digest = store.key("fuzz", f"{nd}-D")  # type: ignore[attr-defined]
    return settings(database=db)(given(_case_strategy(nd, cand.support, cand.behaviour))(test))
