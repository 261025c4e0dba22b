"""Hypothesis profiles for the property suite.

Choose one with ``POOLREF_PROFILE=dev|ci|thorough|mutation`` (default: ``ci``
when the environment variable ``CI`` is set, else ``dev``);
``--hypothesis-profile=NAME`` on the pytest command line still wins.

Every profile names its parent explicitly. ``register_profile`` without a
parent inherits from the *currently loaded* settings, and Hypothesis (>= 6.116)
auto-loads its own ``ci`` profile when ``CI`` is set, so a parentless ``dev``
would silently become derandomized under ``CI=true``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

_default = settings.get_profile("default")
_builtin_ci = settings.get_profile("ci")  # derandomize, database=None, print_blob, deadline=None

# Quick local runs: random, uses the example database so failures replay.
settings.register_profile("dev", _default, max_examples=30, deadline=None)
# CI: deterministic (derandomize implies no database), prints @reproduce_failure blobs.
settings.register_profile(
    "ci",
    _builtin_ci,
    max_examples=50,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
)
# Occasional deep runs: thousands of examples per property.
settings.register_profile(
    "thorough",
    _default,
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
# Mutation testing runs the suite once per mutant: small and deterministic, and no shrinking:
# only *whether* a property fails counts, and shrinking a failure took 4x as long as finding it
# (measured on convert_indices' property, 9.4 s against 2.4 s), past mutmut's wall-clock limit on
# shared cores, so killed mutants were recorded as timeouts.
settings.register_profile(
    "mutation",
    _default,
    max_examples=15,
    derandomize=True,
    database=None,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
)

# HypoFuzz (docs/database.md): random, every example in the shared database POOLREF_DATABASE
# (a directory or redis://host:port[/db]); HypoFuzz fuzzes only tests on the default database.
if os.environ.get("POOLREF_PROFILE") == "fuzz":
    from poolref.testing._database import open_database

    settings.register_profile(
        "fuzz",
        _default,
        deadline=None,
        database=open_database(os.environ.get("POOLREF_DATABASE", ".hypothesis/poolref-fuzz")),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )

settings.load_profile(os.environ.get("POOLREF_PROFILE", "ci" if os.environ.get("CI") else "dev"))


# A target module that exits at import (properties/test_isolation.py runs it in a worker):
# --doctest-modules must not import it here.
collect_ignore = ["crashing_at_import.py"]


if os.environ.get("POOLREF_PROFILE") == "mutation":
    import pytest

    @pytest.fixture(autouse=True)
    def _cold_caches():
        """Empty poolref's argument and geometry caches before each test, under mutmut only.

        mutmut forks every mutant's run from a parent that ran the whole suite, so the children
        inherit full caches: a call answered from them never reaches the mutated function (e.g.
        ``_params._normalize``), and its mutants survived tests that make exactly that call.
        """
        from poolref import _api_checks, _fast_geometry, _params

        _params._normalize_cached.cache_clear()
        _params.output_shape.cache_clear()
        _params.machine_bytes.cache_clear()
        _api_checks._forward_shape.cache_clear()
        _api_checks._backward_shapes.cache_clear()
        _fast_geometry._geometry.entries.clear()
        _fast_geometry._axis_passes.entries.clear()
