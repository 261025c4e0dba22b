"""How a failure reads: the failing check, the case, the window at the first difference, and a
snippet that reproduces it."""

from __future__ import annotations

import math
import zlib
from typing import TYPE_CHECKING

import numpy as np

from ..arrays import array_source, layout_of
from ._declare import Candidate, _import_source

if TYPE_CHECKING:
    from ._expect import _Expected


class _Failure(AssertionError):
    """A check failed on one case; ``check`` names the check, ``detail`` says how."""

    def __init__(self, check: str, detail: str, *, extra: str = "", grad_output=None, where=None):
        super().__init__(f"[{check}] {detail}")
        self.check = check
        self.detail = detail
        self.extra = extra
        self.grad_output = grad_output
        self.where = where  # batched position of the first difference (output or input element)


def _fmt_index(name: str, index) -> str:
    return f"{name}[{', '.join(str(int(i)) for i in index)}]"


def _fmt_scalar(value) -> str:
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value)
    return repr(value)


def _array_text(a: np.ndarray, limit: int = 400) -> str:
    text = array_source(np.asarray(a))
    if len(text) > limit:
        return f"<{a.dtype} array of shape {a.shape}; too large to show>"
    return text


def _layout_of(x: np.ndarray, batched: bool) -> str | None:
    """Name of the :data:`poolref.arrays.LAYOUTS` entry that gives ``x``'s strides."""
    return layout_of(x, channel_axis=1 if batched else 0)


def _window_description(exp: _Expected, pos: tuple, n_chan: int, batched: bool, spatial) -> str:
    """Human-readable taps of the window of output ``pos`` (batched coordinates)."""
    n, c, *o = pos
    o_flat = int(np.ravel_multi_index(tuple(o), exp.y.shape[2:])) if o else 0
    taps = exp.taps[o_flat]
    values = exp.window_values[n * n_chan + c, o_flat]
    items = []
    for t, v in zip(taps, values):
        if t < 0:
            items.append("pad")
        else:
            coords = np.unravel_index(int(t), spatial)
            items.append(f"{_fmt_scalar(v)} @{int(t)} {tuple(int(i) for i in coords)}")
    plane = f"x[{n}, {c}]" if batched else f"x[{c}]"
    return (
        f"window of that output in {plane} (value @plane index (coordinates), row-major): "
        + ", ".join(items)
    )


# ============================================================================
# One case
# ============================================================================


def _array_line(name: str, a: np.ndarray) -> str:
    return f"{name} = {_array_text(a)}"


def _reproduction(cand: Candidate, case, failure: _Failure, batched: bool) -> str:
    x = case.x
    nd = case.nd
    kargs = f"{case.kernel_size!r}, {case.stride!r}, {case.padding!r}, {case.dilation!r}, {case.ceil_mode!r}"
    lines = ["import numpy as np", "import poolref.naive"]
    if cand.source:
        lines.append(f"candidate = {cand.source}")
        lines.append("forward, backward = candidate.forward, candidate.backward")
    else:
        lines.append(_import_source(cand.forward, "forward"))
        if cand.backward is not None and failure.grad_output is not None:
            lines.append(_import_source(cand.backward, "backward"))
    lines.append(
        f"x = {_array_text(np.ascontiguousarray(x), limit=10**9) if x.size <= 300 else _big_array_source(x)}"
    )
    layout = _layout_of(x, batched)
    if layout not in (None, "C"):
        lines.append("from poolref.strategies import with_layout")
        lines.append(
            f"x = with_layout(x, {layout!r}, channel_axis={1 if batched else 0})  # same values, other strides"
        )
    lines.append(f"actual = forward(x, {kargs})")
    lines.append(f"expected = poolref.naive.max_pool{nd}d(x, {kargs}, return_indices=True)")
    if failure.grad_output is not None:
        g = failure.grad_output
        lines.append(
            f"grad_output = {_array_text(np.ascontiguousarray(g), limit=10**9) if g.size <= 300 else _big_array_source(g)}"
        )
        lines.append(f"actual_grad = backward(grad_output, x, {kargs})")
        lines.append(
            f"expected_grad = poolref.naive.max_pool{nd}d_backward(grad_output, x, {kargs})"
        )
    return "\n".join("    " + line for line in lines)


def _big_array_source(x: np.ndarray) -> str:
    """Source for a large array: its values are a permutation we cannot print, so rebuild by bytes."""
    import base64

    data = base64.b64encode(zlib.compress(np.ascontiguousarray(x).tobytes())).decode()
    return (
        f"np.frombuffer(__import__('zlib').decompress(__import__('base64').b64decode({data!r})), "
        f"dtype=np.{x.dtype.name}).reshape({x.shape!r}).copy()"
    )


def _report(cand: Candidate, case, failure: _Failure, found_by: str) -> str:
    x = case.x
    nd = case.nd
    batched = x.ndim == nd + 2
    layout = _layout_of(x, batched)
    layout_text = {"C": "C-contiguous", None: f"strides {x.strides}"}.get(
        layout, f"layout {layout!r} (non-contiguous)"
    )
    lines = [
        f"max pooling of {cand.label} is wrong [{failure.check}]: {failure.detail}",
        f"  case: max_pool{nd}d on x.shape={x.shape} ({'N, C' if batched else 'C'}, {'spatial'}), "
        f"x.dtype={x.dtype}, {layout_text}",
        f"        kernel_size={case.kernel_size}, stride={case.stride}, padding={case.padding}, "
        f"dilation={case.dilation}, ceil_mode={case.ceil_mode}",
        f"  found by: {found_by}",
    ]
    diff = cand.behaviour.differences()
    if diff:
        lines.append("  declared behaviour: " + ", ".join(diff))
    lines.append(f"  x = {_array_text(np.ascontiguousarray(x))}")
    if failure.extra:
        lines.extend("  " + line for line in failure.extra.splitlines())
    lines.append("  reproduce:")
    lines.append(_reproduction(cand, case, failure, batched))
    return "\n".join(lines)


def distinct_report(failed: list, problem: str | None = None) -> str:
    """The first difference's report, then each further distinct difference's, numbered.

    ``failed`` is sorted, most severe first; ``problem`` is what went wrong with the example
    database during the run, if anything.
    """
    blocks = [failed[0].report]
    if len(failed) > 1:
        blocks.append(f"\n{len(failed) - 1} more distinct difference(s), each shrunk on its own:")
        for i, diff in enumerate(failed[1:], 2):
            blocks.append(f"\n--- difference {i} of {len(failed)}: {diff.kind}\n{diff.report}")
    if problem:
        blocks.append("\n" + problem)
    return "\n".join(blocks)
