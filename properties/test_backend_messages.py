"""The backend switch's messages and ``poolref.jit``'s lazy import, exactly (with or without numba)."""

import importlib

import pytest

import poolref
from poolref import _backend


def test_an_unknown_backend_is_named_with_the_choices():
    with pytest.raises(ValueError) as info, poolref.backend("cuda"):
        pass
    assert str(info.value) == (
        "poolref.backend: name='cuda' is not a backend; choose one of 'auto', 'jit', 'numpy'"
    )


def test_an_unknown_backend_in_the_environment_is_named(monkeypatch):
    monkeypatch.setenv("POOLREF_BACKEND", "fastest")
    with pytest.raises(ValueError, match=r"^POOLREF_BACKEND='fastest' is not a backend; choose"):
        _backend.requested()


def test_asking_for_jit_without_numba_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(_backend, "numba_available", lambda: False)
    with pytest.raises(ImportError) as info:
        _backend.require_numba()
    assert str(info.value) == (
        "poolref: the 'jit' backend needs numba, which is not installed; "
        'pip install "poolref[jit]" (or use POOLREF_BACKEND=numpy)'
    )


def test_poolref_jit_is_the_module_imported_on_first_access():
    # poolref.__getattr__ itself: once poolref.jit is imported, the package attribute is set
    # and attribute access no longer reaches it
    if not _backend.numba_available():  # poolref.jit's own clear message
        with pytest.raises(ImportError, match=r"^poolref: the 'jit' backend needs numba"):
            poolref.__getattr__("jit")
        return
    assert poolref.__getattr__("jit") is importlib.import_module("poolref.jit")


def test_any_other_missing_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError) as info:
        poolref.no_such_thing
    assert str(info.value) == "module 'poolref' has no attribute 'no_such_thing'"
