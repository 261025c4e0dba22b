"""Capability probing: before searching, try each optional capability on one tiny case.

A capability whose probe raises an exception (an ``int8`` input, unbatched input, a Fortran-
ordered array, padding...) is *unsupported*: it is reported (``not supported: int8, uint8
(forward raised OverflowError: ...)``) and not searched, instead of failing the run on a case the
target never claimed to handle. When the support was declared explicitly (or ``strict``), an
unsupported probe is a failure instead. A probe that returns a wrong answer is not judged
here: the corner cases and the search find it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..arrays import PoolCase, distinct_grid
from ._boundary import TargetCrashed, TargetMisbehaved, guarded_call
from ._declare import Candidate, Support


@dataclass(frozen=True)
class Unsupported:
    """A capability the target rejected: which, the support change, and the exception."""

    capability: str
    change: dict
    error: str

    def line(self) -> str:
        return f"{self.capability} ({self.error})"


def _base_x(
    nd: int, dtype: str, *, batched: bool = True, side: int = 4, domain: str = "any"
) -> np.ndarray:
    shape = (1, 2, *(side,) * nd) if batched else (2, *(side,) * nd)
    values = distinct_grid(np.dtype(dtype), int(np.prod(shape)), domain=domain)
    return np.random.default_rng(7).permutation(values).reshape(shape)


def _case(x: np.ndarray, nd: int, k=2, s=None, p=0, d=1, ceil=False) -> PoolCase:
    def per_dim(v):
        return tuple(v) if isinstance(v, tuple) else (v,) * nd

    k = per_dim(k)
    return PoolCase(x, k, k if s is None else per_dim(s), per_dim(p), per_dim(d), ceil)


def _probes(sup: Support, nd: int, base_dtype: str):
    """``(capability, support change, case)`` for every optional capability ``sup`` claims."""
    base = _base_x(nd, base_dtype, domain=sup.values)
    for dtype in sup.dtypes:
        if dtype != base_dtype:
            others = tuple(t for t in sup.dtypes if t != dtype)
            yield dtype, {"dtypes": others}, _case(_base_x(nd, dtype, domain=sup.values), nd)
    if sup.unbatched:
        yield (
            "unbatched input",
            {"unbatched": False},
            _case(_base_x(nd, base_dtype, batched=False, domain=sup.values), nd),
        )
    if sup.non_contiguous:
        yield "non-contiguous input", {"non_contiguous": False}, _case(np.asfortranarray(base), nd)
    if sup.padding:
        yield "padding", {"padding": False}, _case(base, nd, 3, 1, 1)
    if sup.dilation:
        yield "dilation", {"dilation": False}, _case(base, nd, 2, 1, 0, 2)
    if sup.ceil_mode:
        yield (
            "ceil_mode",
            {"ceil_mode": False},
            _case(_base_x(nd, base_dtype, side=5, domain=sup.values), nd, 2, 2, 0, 1, True),
        )
    if nd > 1 and not sup.square and not sup.same_stride:
        stride = tuple(1 + (i % 2) for i in range(nd))
        yield "a stride per dimension", {"same_stride": True}, _case(base, nd, 2, stride)
    if nd > 1 and not sup.square:
        kernel = tuple(2 + (i % 2) for i in range(nd))
        yield "a kernel size per dimension", {"square": True}, _case(base, nd, kernel, 1)


def _call(cand: Candidate, case: PoolCase):
    """The forward on a fresh copy of the probe's input (same strides): a target that writes to
    or reshapes its input must not change the next probe; the checks report that. An exit
    (``sys.exit``) in-process comes back as :class:`TargetCrashed`, as in the checks."""
    x = case.x.copy(order="K")
    args = (x, case.kernel_size, case.stride, case.padding, case.dilation, case.ceil_mode)
    return guarded_call(cand.forward, "forward", args)


def _is_crash(exc: BaseException) -> bool:
    """Crashes, exits, timeouts and misbehaviour of an isolated target are failures, never
    'unsupported': the probe leaves them to the corner cases and the search, which report them."""
    return isinstance(exc, (TargetCrashed, TargetMisbehaved))


def probe(cand: Candidate, nd: int) -> tuple[Candidate, list[Unsupported]]:
    """Try each capability once; return the candidate with the unsupported ones removed.

    The basic case (a float batched C-contiguous input) is not probed: if it raises, the search
    reports it as a failure. Indices: a forward that returns only the output on the basic
    case does not support them.
    """
    sup = cand.support
    floats = [t for t in ("float64", "float32", "float16") if t in sup.dtypes]
    if not floats:
        return cand, []
    base_dtype = floats[0]
    found: list[Unsupported] = []
    try:
        out = _call(cand, _case(_base_x(nd, base_dtype, domain=sup.values), nd))
    except Exception:  # noqa: BLE001 - the basic case failing is the search's to report
        return cand, []
    if sup.indices and not (isinstance(out, (tuple, list)) and len(out) == 2):
        found.append(
            Unsupported("indices", {"indices": False}, "the forward returns the output only")
        )
    for capability, change, case in _probes(sup, nd, base_dtype):
        try:
            _call(cand, case)
        except Exception as exc:  # noqa: BLE001 - any clear exception means "not supported"
            if _is_crash(exc):
                continue
            text = str(exc).splitlines()[0] if str(exc) else ""
            found.append(
                Unsupported(
                    capability, change, f"forward raised {type(exc).__name__}: {text}"[:160]
                )
            )
    return _restrict(cand, found), found


def _restrict(cand: Candidate, found: list[Unsupported]) -> Candidate:
    changes: dict = {}
    dtypes = list(cand.support.dtypes)
    for item in found:
        if "dtypes" in item.change:
            dtypes.remove(item.capability)
        else:
            changes.update(item.change)
    if dtypes != list(cand.support.dtypes):
        changes["dtypes"] = tuple(dtypes)
        changes["backward_dtypes"] = tuple(t for t in cand.support.backward_dtypes if t in dtypes)
    if not changes:
        return cand
    return dataclasses.replace(cand, support=dataclasses.replace(cand.support, **changes))


def describe(found: list[Unsupported]) -> list[str]:
    """One line per reason; dtypes rejected for the same reason share a line."""
    groups: dict[str, list[str]] = {}
    for item in found:
        groups.setdefault(
            item.error.split(":")[0] if "dtypes" in item.change else item.line(), []
        ).append(item.capability)
    lines = []
    for key, names in groups.items():
        if names and names[0] in key:
            lines.append(key)
        else:
            example = next(i for i in found if i.capability == names[0])
            lines.append(f"{', '.join(names)} ({example.error})")
    return lines
