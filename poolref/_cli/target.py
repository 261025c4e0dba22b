"""``TARGET`` and ``--backward`` resolved into a :class:`~poolref.testing.Candidate`.

:func:`candidate` runs in the worker process (by default) or in this one (``--in-process``): a
problem is a :class:`~.common.UsageError`, which the worker sends back with its one line.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import inspect
import os
import sys
from typing import TYPE_CHECKING, Any

from .common import DECLARATION_FLAGS, UsageError, behaviour_rules, rule_dest

if TYPE_CHECKING:
    from ..testing import Candidate


def _resolve(spec: str, what: str) -> Any:
    """The object ``module:attribute`` names (``what`` is the flag, for the messages)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        msg = f"{what} {spec!r} must look like module:attribute"
        raise UsageError(msg)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # like `python -m`: modules in the current directory
    try:
        obj = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - report any import problem in one line
        msg = f"cannot import module {module_name!r} (from {what} {spec!r}): {type(exc).__name__}: {exc}"
        raise UsageError(msg) from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            msg = f"module {module_name!r} has no attribute {attr!r} (from {what} {spec!r})"
            raise UsageError(msg) from None
    return obj


def _check_signature(fn: Any, call: str, what: str) -> None:
    """A usage error if ``fn`` cannot take the harness's positional arguments (``call``)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # builtins and some C functions have none: let the call decide
        return
    try:
        signature.bind(*range(call.count(",") + 1))
    except TypeError as exc:
        msg = f"{what} cannot be called as {call}: {exc} (its signature is {signature})"
        raise UsageError(msg) from None


def _check_signatures(cand: Candidate, args: argparse.Namespace) -> None:
    """The forward (and ``--backward``) take the harness's positional arguments."""
    _check_signature(
        cand.forward,
        "f(x, kernel_size, stride, padding, dilation, ceil_mode)",
        f"TARGET {args.target!r}",
    )
    if args.backward:
        call = "b(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode)"
        _check_signature(cand.backward, call, f"--backward {args.backward!r}")


def _csv(value: str) -> tuple[str, ...]:
    """``float32, float64`` as ``("float32", "float64")``."""
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _named_or_resolved(target: str) -> Candidate:
    """The candidate ``TARGET`` names: an adapter, or a function, a layer class or a Candidate."""
    from .. import adapters, testing

    if ":" not in target:
        if target not in adapters.NAMED:
            msg = (
                f"unknown TARGET {target!r}: use module:function, module:Class, or one of the "
                f"adapters {', '.join(adapters.NAMED)}"
            )
            raise UsageError(msg)
        try:
            return adapters.named(target)
        except adapters.AdapterUnavailable as exc:
            raise UsageError(str(exc)) from None
    obj = _resolve(target, "TARGET")
    if isinstance(obj, testing.Candidate):
        return obj
    if isinstance(obj, type):
        _check_signature(obj, "Class(X_dim, size, stride)", f"TARGET {target!r}")
        return adapters.layer(obj)
    if callable(obj):
        return testing.Candidate(obj, name=target)
    msg = f"TARGET {target!r} is a {type(obj).__name__}, not a function, class or Candidate"
    raise UsageError(msg)


def _support_changes(args: argparse.Namespace) -> dict[str, Any]:
    """The Support fields the declaration flags set."""
    changes: dict[str, Any] = {
        field: False for flag, field in DECLARATION_FLAGS.items() if getattr(args, flag)
    }
    if args.square:
        changes["square"] = True
    if args.exact_fit:
        changes["exact_fit"] = True
    if args.same_stride:
        changes["same_stride"] = True
    if args.values is not None:
        changes["values"] = args.values
    if args.dtypes is not None:
        changes["dtypes"] = dtypes = _csv(args.dtypes)
        if args.backward_dtypes is None:
            changes["backward_dtypes"] = tuple(d for d in dtypes if d.startswith("float"))
    if args.backward_dtypes is not None:
        changes["backward_dtypes"] = _csv(args.backward_dtypes)
    return changes


def _declared(cand: Candidate, args: argparse.Namespace) -> Candidate:
    """``cand`` with the support and behaviour the flags declare (they override its own)."""
    changes = _support_changes(args)
    behaviour = {
        name: getattr(args, rule_dest(name))
        for name in behaviour_rules()
        if getattr(args, rule_dest(name)) is not None
    }
    try:
        if changes:
            cand = dataclasses.replace(cand, support=dataclasses.replace(cand.support, **changes))
        if behaviour:
            cand = dataclasses.replace(
                cand, behaviour=dataclasses.replace(cand.behaviour, **behaviour)
            )
    except (TypeError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    return cand


def candidate(args: argparse.Namespace) -> Candidate:
    """The candidate the command line describes: TARGET, ``--backward`` and the declarations."""
    cand = _named_or_resolved(args.target)
    if args.backward:
        backward = _resolve(args.backward, "--backward")
        if not callable(backward):
            msg = f"--backward {args.backward!r} is not callable"
            raise UsageError(msg)
        cand = dataclasses.replace(cand, backward=backward)
    _check_signatures(cand, args)
    return _declared(cand, args)
