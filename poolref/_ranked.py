"""One public function per rank from one typed body, for the adaptive and fractional pools.

``ranked(body, nd, name, module, doc)`` returns ``body`` with its first two arguments (the rank
and the function's name, for messages) bound: a type checker sees the rest of ``body``'s
signature (``Callable[P, R]`` through :data:`typing.Concatenate`), :func:`inspect.signature`
sees it too (``__signature__``), and the name, module and docstring are the public ones. So each
kind of function has its signature written once, in its body, and its text once, in
:mod:`poolref._adaptive_docstrings`, however many ranks it has (the fixed-window pools do the same
with :class:`poolref._api.Implementation`).

The closure is built at import time, where mutmut's call-time switching could never activate a
mutant of it (``# pragma: no mutate block``); the bodies are module-level functions, mutated as
any other.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def ranked(
    body: Callable[Concatenate[int, str, P], R], nd: int, name: str, module: str, doc: str
) -> Callable[P, R]:  # pragma: no mutate block
    """``body`` with ``nd`` and ``name`` bound, named ``module.name``, documented by ``doc``."""

    signature = inspect.signature(body)
    shown = signature.replace(parameters=list(signature.parameters.values())[2:])

    def function(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return body(nd, name, *args, **kwargs)
        except TypeError:
            try:  # arguments that do not fit: say so with the public name, not the body's
                shown.bind(*args, **kwargs)
            except TypeError as exc:
                msg = f"{name}(): {exc}"
                raise TypeError(msg) from None
            raise

    public: Any = function
    public.__signature__ = shown
    public.__name__ = public.__qualname__ = name
    public.__module__ = module
    public.__doc__ = doc
    return function
