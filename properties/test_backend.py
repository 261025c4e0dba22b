"""The backend switch (poolref._backend): the choice, the thread count, and the routing of calls.

Runs with and without numba: the numba-less paths are simulated by marking numba as absent.
"""

from __future__ import annotations

import types

import numpy as np
import pytest

import poolref
from poolref import _backend, _fast_kernels

X = np.array([[1.0, 3.0, 2.0, 0.0]])


@pytest.fixture
def no_numba(monkeypatch):
    monkeypatch.setattr(_backend, "_NUMBA", [False])


@pytest.fixture
def with_numba(monkeypatch):
    monkeypatch.setattr(_backend, "_NUMBA", [True])


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    monkeypatch.delenv("POOLREF_BACKEND", raising=False)
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)


def test_auto_is_jit_with_numba_and_numpy_without(no_numba):
    assert _backend.requested() == "auto"
    assert _backend.active() == "numpy"
    _backend._NUMBA[:] = [True]
    assert _backend.active() == "jit"


def test_numpy_is_numpy_even_with_numba(with_numba):
    with poolref.backend("numpy"):
        assert _backend.active() == "numpy"
    assert _backend.active() == "jit"


def test_jit_without_numba_is_a_clear_import_error(no_numba, monkeypatch):
    with (
        pytest.raises(ImportError, match=r'needs numba.*pip install "poolref\[jit\]"'),
        poolref.backend("jit"),
    ):
        pass
    monkeypatch.setenv("POOLREF_BACKEND", "jit")
    with pytest.raises(ImportError, match="needs numba"):
        poolref.max_pool1d(X, 2)
    with pytest.raises(ImportError, match="needs numba"):
        _backend.require_numba()


def test_without_numba_everything_is_fast(no_numba):
    np.testing.assert_array_equal(poolref.max_pool1d(X, 2), [[3.0, 2.0]])
    with poolref.backend("auto"):
        assert _backend.active() == "numpy"


def test_numba_available_is_looked_up_once(monkeypatch):
    monkeypatch.setattr(_backend, "_NUMBA", [])
    found = _backend.numba_available()
    assert [found] == _backend._NUMBA
    try:
        import numba  # noqa: F401
    except ImportError:
        assert found is False
    else:
        assert found is True
    _backend._NUMBA[:] = [not found]
    assert _backend.numba_available() is (not found)


def test_a_numba_that_imports_counts_as_present(monkeypatch):
    """Whether or not numba is installed here (the mutation gate's environment has none)."""
    import sys
    import types

    monkeypatch.setattr(_backend, "_NUMBA", [])
    monkeypatch.setitem(sys.modules, "numba", types.ModuleType("numba"))
    assert _backend.numba_available() is True
    assert _backend._NUMBA == [True]


def test_a_numba_that_fails_to_import_counts_as_absent(monkeypatch):
    import sys

    monkeypatch.setattr(_backend, "_NUMBA", [])
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba raises ImportError
    assert _backend.numba_available() is False
    assert _backend.active() == "numpy"


def test_environment_variable(monkeypatch, with_numba):
    monkeypatch.setenv("POOLREF_BACKEND", "numpy")
    assert _backend.requested() == "numpy"
    assert _backend.active() == "numpy"
    with poolref.backend("jit"):
        assert _backend.active() == "jit"  # the context manager wins over the variable
    monkeypatch.setenv("POOLREF_BACKEND", "gpu")
    with pytest.raises(ValueError, match=r"POOLREF_BACKEND='gpu' is not a backend; choose one of"):
        _backend.active()


def test_bad_names_and_threads():
    with (
        pytest.raises(ValueError, match=r"name='cuda' is not a backend; choose one of 'auto'"),
        poolref.backend("cuda"),
    ):
        pass
    for bad in (True, 1.0, "2"):
        with (
            pytest.raises(TypeError, match=rf"threads must be an int, got threads={bad!r}"),
            poolref.backend("numpy", threads=bad),
        ):
            pass
    with (
        pytest.raises(ValueError, match=r"threads must be >= 1, got threads=0"),
        poolref.backend("numpy", threads=0),
    ):
        pass


def test_threads_default_environment_and_nesting(monkeypatch):
    assert _backend.threads() == 1
    monkeypatch.setenv("NUMBA_NUM_THREADS", "3")
    assert _backend.threads() == 3
    with poolref.backend("numpy", threads=1):
        assert _backend.threads() == 1
        with poolref.backend("numpy"):
            assert _backend.threads() == 1  # inherited from the enclosing block
        with poolref.backend("numpy", threads=2):
            assert _backend.threads() == 2
        assert _backend.threads() == 1
    assert _backend.threads() == 3


def test_choice_is_restored_after_an_exception(with_numba):
    with pytest.raises(RuntimeError), poolref.backend("numpy", threads=2):
        raise RuntimeError
    assert _backend.requested() == "auto"
    assert _backend.threads() == 1


CORES = ("_forward", "_backward_from_input", "_backward_from_indices", "_unpool")
ARITY = {"_forward": 3, "_backward_from_input": 3, "_backward_from_indices": 4, "_unpool": 3}


@pytest.mark.parametrize("core", CORES)
def test_each_core_routes_to_the_active_backend(core, monkeypatch):
    import types

    calls = []
    fake_jit = types.SimpleNamespace(
        **{name: (lambda *a, name=name: calls.append(("jit", name, a))) for name in CORES}
    )
    monkeypatch.setattr(_backend, "_jit_cores", lambda: fake_jit)
    monkeypatch.setattr(_fast_kernels, core, lambda *a: calls.append(("numpy", core, a)))
    args = tuple(range(ARITY[core]))  # the router passes its arguments on unchanged
    monkeypatch.setattr(_backend, "_NUMBA", [True])
    getattr(_backend, core)(*args)
    with poolref.backend("numpy"):
        getattr(_backend, core)(*args)
    assert calls == [("jit", core, args), ("numpy", core, args)]


def test_the_public_functions_use_the_switch(no_numba):
    assert repr(poolref.max_pool2d.__self__).startswith("<poolref functions of poolref (automatic")
    y, idx = poolref.max_pool1d(X, 2, return_indices=True)
    np.testing.assert_array_equal(idx, [[1, 2]])
    grad = poolref.max_pool1d_backward(np.ones((1, 2)), X, 2)
    np.testing.assert_array_equal(grad, [[0.0, 1.0, 1.0, 0.0]])
    np.testing.assert_array_equal(poolref.max_unpool1d(y, idx, 2), [[0.0, 3.0, 2.0, 0.0]])


def test_import_poolref_does_not_import_numba():
    import subprocess
    import sys

    code = "import sys, poolref; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'poolref' has no attribute 'nope'"):
        poolref.nope


def test_the_environment_is_read_on_every_call_and_an_empty_value_is_not_auto(monkeypatch):
    monkeypatch.delenv("POOLREF_BACKEND", raising=False)
    assert _backend._getenv("POOLREF_BACKEND") is None
    monkeypatch.setenv("POOLREF_BACKEND", "numpy")
    assert _backend.requested() == "numpy"
    monkeypatch.setenv("POOLREF_BACKEND", "jit")
    assert _backend.requested() == "jit"  # a change is seen at once
    monkeypatch.setenv("POOLREF_BACKEND", "")
    with pytest.raises(ValueError, match=r"^POOLREF_BACKEND='' is not a backend"):
        _backend.requested()
    monkeypatch.setenv("NUMBA_NUM_THREADS", "2")
    assert _backend.threads() == 2 and _backend._getenv("NUMBA_NUM_THREADS") == "2"


def test_the_compiled_cores_are_imported_once_and_kept(monkeypatch):
    imported = []
    fake = types.SimpleNamespace(
        import_module=lambda name: imported.append(name) or types.SimpleNamespace(name=name)
    )
    monkeypatch.setattr(_backend, "importlib", fake)
    monkeypatch.setattr(_backend, "_JIT_CORES", [])
    first = _backend._jit_cores()
    assert first.name == "poolref._jit_cores" and _backend._jit_cores() is first
    assert imported == ["poolref._jit_cores"]  # the second call did not import again
