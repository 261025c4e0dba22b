"""The arguments of :func:`check_max_pool` made into what a run needs: the candidate, its
ranks, the number of examples, the seed; and which hard corners apply to a candidate."""

from __future__ import annotations

import dataclasses
import os
import random

from ._declare import BUDGETS, FLOAT_DTYPES, Behaviour, Candidate, Support
from ._summary import HARD_CORNERS


def _candidate(forward, backward, support, behaviour, name) -> tuple[Candidate, bool]:
    """The candidate to check, and whether its support was declared (not probed for)."""
    if isinstance(forward, Candidate):
        cand = forward
        changes = {
            key: value
            for key, value in (
                ("backward", backward),
                ("support", support),
                ("behaviour", behaviour),
                ("name", name),
            )
            if value is not None
        }
        cand = dataclasses.replace(cand, **changes) if changes else cand
        return cand, cand.support != Support()
    if not callable(forward):
        msg = (
            f"check_max_pool: forward must be callable or a Candidate, got {type(forward).__name__}"
        )
        raise TypeError(msg)
    if backward is not None and not callable(backward):
        msg = f"check_max_pool: backward must be callable, got {type(backward).__name__}"
        raise TypeError(msg)
    return Candidate(
        forward, backward, support or Support(), behaviour or Behaviour(), name
    ), support is not None


def _ndims(cand: Candidate, ndim) -> tuple[int, ...]:
    if cand.backward is not None and not callable(cand.backward):
        msg = f"check_max_pool: backward must be callable, got {type(cand.backward).__name__}"
        raise TypeError(msg)
    if ndim is None:
        return cand.support.ndims
    ndims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if not ndims or any(n not in cand.support.ndims for n in ndims):
        msg = f"check_max_pool: ndim={ndim!r} is not within the candidate's support ndims={cand.support.ndims}"
        raise ValueError(msg)
    return ndims


def _examples(cand: Candidate, budget: str, max_examples) -> int:
    if budget not in BUDGETS:
        msg = f"check_max_pool: budget must be one of {tuple(BUDGETS)}, got budget={budget!r}"
        raise ValueError(msg)
    n = (
        max(1, round(BUDGETS[budget] * cand.budget_scale))
        if max_examples is None
        else int(max_examples)
    )
    if n < 0:
        msg = f"check_max_pool: max_examples must be >= 0, got max_examples={max_examples!r}"
        raise ValueError(msg)
    return n


def _seed(seed):
    """The search's seed: the given one, None when derandomized (CI), else a fresh random one."""
    if seed is not None or os.environ.get("CI"):
        return seed
    return random.SystemRandom().randrange(2**32)


def _applicable_corners(cand: Candidate, ndims) -> tuple:
    sup, beh = cand.support, cand.behaviour
    skip = set()
    floats = [d for d in sup.dtypes if d in FLOAT_DTYPES]
    if not sup.unbatched:
        skip.add("unbatched")
    if (sup.max_batch or 2) < 2 or (sup.max_channels or 2) < 2:
        skip.add("N > 1 and C > 1")
    if not floats or sup.values != "any":
        skip |= {"NaN", "+inf", "-inf", "all -inf window"}
    if not floats or sup.values == "positive":
        skip.add("signed zeros")
    if sup.values in ("nonnegative", "positive"):
        skip |= {"negative values next to padding", "-inf"}
    if beh.nan == "untested":
        skip.add("NaN")
    if not sup.padding:
        skip |= {
            "padding",
            "ceil_mode with padding",
            "negative values next to padding",
            "empty window",
        }
    if not sup.dilation:
        skip |= {"dilation", "empty window"}
    if not sup.ceil_mode:
        skip |= {"ceil_mode", "ceil_mode with padding"}
    if max(ndims) < 2 or sup.square:
        skip.add("non-square window")
    if not sup.non_contiguous:
        skip.add("non-contiguous")
    if "float16" not in sup.dtypes:
        skip.add("float16 plane > 2048")
    if "int8" not in sup.dtypes and "uint8" not in sup.dtypes:
        skip.add("8-bit plane > 256")
    if not sup.indices:
        skip.add("indices")
    if cand.backward is None or not sup.backward_dtypes:
        skip.add("backward")
    return tuple(f for f in HARD_CORNERS if f not in skip)


def _check_max_elements(max_elements) -> None:
    if max_elements is None:
        return
    if isinstance(max_elements, bool) or not isinstance(max_elements, int) or max_elements < 1:
        msg = f"check_max_pool: max_elements must be an int >= 1, got max_elements={max_elements!r}"
        raise ValueError(msg)


def _check_behaviour(behaviour) -> None:
    if isinstance(behaviour, str) and behaviour not in ("auto", "pytorch"):
        msg = f"check_max_pool: behaviour must be a Behaviour, 'pytorch' or 'auto', got behaviour={behaviour!r}"
        raise ValueError(msg)
