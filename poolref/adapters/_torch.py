"""PyTorch: ``torch.nn.functional.max_pool{1,2,3}d`` and autograd."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

import numpy as np

from ..testing import ALL_DTYPES, FLOAT_DTYPES, Candidate, Support
from ._common import PYTORCH, AdapterUnavailable, _c_strides, _import


def torch(
    device: str = "cpu",
    memory_format: str = "contiguous",
    *,
    indices: bool = True,
    fn: Callable[..., Any] | Mapping[int, Callable[..., Any]] | None = None,
    name: str | None = None,
) -> Candidate:
    """``torch.nn.functional.max_pool{1,2,3}d`` (or any callable like it) and its autograd backward.

    Parameters
    ----------
    device : str
        ``"cpu"`` or ``"cuda"`` (``"cuda:1"``...). CUDA supports float dtypes only.
    memory_format : {"contiguous", "channels_last", "preserve"}
        ``"contiguous"``: the input tensor is made contiguous (NCHW), so
        PyTorch's contiguous kernels run. ``"channels_last"``: converted to
        ``torch.channels_last`` (2-D) / ``torch.channels_last_3d`` (3-D);
        only batched 2-D/3-D input. ``"preserve"``: the NumPy array's strides
        reach PyTorch unchanged (``torch.from_numpy``), so PyTorch picks its
        kernel from them (a channels-last-like array runs the channels-last
        kernel).
    indices : bool
        Call with ``return_indices=True`` (default) and check the indices; with
        False the forward takes PyTorch's no-indices path (1-D: integer
        dtypes are not supported there).
    fn : callable or mapping of int to callable, optional
        What to check instead of ``torch.nn.functional.max_pool{nd}d``: any
        callable with its signature, ``fn(input, kernel_size, stride, padding,
        dilation, ceil_mode=..., return_indices=...)`` (e.g.
        ``torch.compile(F.max_pool2d)``), used for every rank; or a mapping from
        the spatial rank to such a callable (``{2: compiled_2d}``), which also
        limits the ranks checked to its keys. The backward is autograd through
        ``fn``.
    name : str, optional
        The label in reports (default: the torch version, device and format,
        and ``fn``'s name).

    Returns
    -------
    Candidate
        Ready for :func:`poolref.testing.check_max_pool` or ``poolref verify``.

    Notes
    -----
    With ``"preserve"`` the tensor shares memory with the NumPy array
    (arrays with negative strides are copied first, which torch requires).
    """
    torch_mod = _import("torch", "torch", "install PyTorch (pip install torch)")
    if memory_format not in ("contiguous", "channels_last", "preserve"):
        msg = f"torch adapter: memory_format must be 'contiguous', 'channels_last' or 'preserve', got memory_format={memory_format!r}"
        raise ValueError(msg)
    dev = torch_mod.device(device)
    if dev.type == "cuda" and not torch_mod.cuda.is_available():
        msg = f"the torch adapter cannot use device={device!r}: torch.cuda.is_available() is False (no CUDA device or a CPU-only build of torch {torch_mod.__version__})"
        raise AdapterUnavailable(msg)
    pick = _chooser(torch_mod, fn)
    forward, backward = _torch_calls(
        torch_mod, _tensor_maker(torch_mod, dev, memory_format), indices, pick
    )
    support = _torch_support(cuda=dev.type == "cuda", memory_format=memory_format, indices=indices)
    if isinstance(fn, Mapping):
        support = dataclasses.replace(
            support, ndims=tuple(sorted(nd for nd in fn if nd in support.ndims))
        )
    label = f"torch {torch_mod.__version__} ({device}, {memory_format}{'' if indices else ', no indices'})"
    if fn is not None:
        label = name or f"{_fn_name(fn)} under {label}"
    args = [f"device={device!r}"]
    if memory_format != "contiguous":
        args.append(f"memory_format={memory_format!r}")
    if not indices:
        args.append("indices=False")
    source = f"__import__('poolref.adapters').adapters.torch({', '.join(args)})"
    return Candidate(
        forward,
        backward,
        support,
        PYTORCH,
        name=name or label,
        source=None if fn is not None else source,
    )


def _fn_name(fn: Any) -> str:
    if isinstance(fn, Mapping):
        return ", ".join(f"{nd}-D: {_fn_name(f)}" for nd, f in sorted(fn.items()))
    inner = getattr(fn, "_torchdynamo_orig_callable", fn)  # a torch.compile wrapper
    prefix = "torch.compile " if inner is not fn else ""
    return prefix + getattr(inner, "__qualname__", type(inner).__name__)


def _chooser(torch_mod: ModuleType, fn: Any) -> Callable[[int], Callable[..., Any]]:
    """``pick(nd)``: the callable that pools ``nd`` spatial dimensions."""
    functional = torch_mod.nn.functional
    if fn is None:
        return lambda nd: getattr(functional, f"max_pool{nd}d")
    if isinstance(fn, Mapping):
        table = dict(fn)
        for nd, f in table.items():
            if nd not in (1, 2, 3) or not callable(f):
                msg = f"torch adapter: fn must map ranks 1, 2, 3 to callables, got fn={fn!r}"
                raise TypeError(msg)
        return lambda nd: table[nd]
    if not callable(fn):
        msg = f"torch adapter: fn must be a callable or a mapping of ranks to callables, got fn={fn!r}"
        raise TypeError(msg)
    return lambda nd: fn


def _tensor_maker(
    torch_mod: ModuleType, dev: Any, memory_format: str
) -> Callable[[np.ndarray], Any]:
    """``to_tensor(a)``: the array on ``dev``, in the memory format the adapter was asked for."""

    def to_tensor(a: np.ndarray) -> Any:
        if any(s < 0 for s in a.strides):
            a = a.copy()
        t = torch_mod.from_numpy(a).to(dev)
        if memory_format == "contiguous" and t.stride() != _c_strides(t.shape):
            # .contiguous() keeps odd strides on size-1 axes, from which PyTorch may
            # still pick its channels-last kernel; a clone has canonical strides.
            t = t.clone(memory_format=torch_mod.contiguous_format)
        elif memory_format == "channels_last":
            fmt = torch_mod.channels_last if t.dim() == 4 else torch_mod.channels_last_3d
            t = t.contiguous(memory_format=fmt)
        return t

    return to_tensor


def _torch_calls(
    torch_mod: ModuleType,
    to_tensor: Callable[[np.ndarray], Any],
    indices: bool,
    pick: Callable[[int], Callable[..., Any]],
) -> tuple[Callable[..., Any], Callable[..., np.ndarray]]:
    """The candidate's forward (``pick(nd)`` without autograd) and backward (autograd)."""

    def forward(x, kernel_size, stride, padding, dilation, ceil_mode):
        fn = pick(len(kernel_size))
        with torch_mod.no_grad():
            out = fn(
                to_tensor(x),
                kernel_size,
                stride,
                padding,
                dilation,
                ceil_mode=ceil_mode,
                return_indices=indices,
            )
        if indices:
            y, idx = out
            return y.cpu().numpy(), idx.cpu().numpy()
        return out.cpu().numpy()

    def backward(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode):
        fn = pick(len(kernel_size))
        t = to_tensor(x).detach().requires_grad_(True)
        y = fn(t, kernel_size, stride, padding, dilation, ceil_mode=ceil_mode)
        y.backward(to_tensor(grad_output))
        return t.grad.cpu().numpy()

    return forward, backward


def _torch_support(*, cuda: bool, memory_format: str, indices: bool) -> Support:
    """CUDA: float dtypes only; channels-last: batched 2-D/3-D only; no indices: no 1-D integers."""
    accepts = None
    if not indices:
        # the 1-D no-indices path rejects integers (pytorch#136110)
        accepts = lambda x, k, *rest: len(k) > 1 or x.dtype.kind == "f"
    channels_last = memory_format == "channels_last"
    return Support(
        ndims=(2, 3) if channels_last else (1, 2, 3),
        dtypes=FLOAT_DTYPES if cuda else ALL_DTYPES,
        unbatched=not channels_last,
        indices=indices,
        accepts=accepts,
    )


#: The dtypes ``torch_compile`` checks by default: each dtype is another compilation (seconds).
COMPILE_DTYPES = ("float32", "float64", "int8")


def torch_compile(
    dynamic: bool = True, backend: str = "inductor", dtypes: tuple[str, ...] = COMPILE_DTYPES
) -> Candidate:
    """``torch.compile(torch.nn.functional.max_pool{1,2,3}d)`` on the CPU, and autograd through it.

    Parameters
    ----------
    dynamic : bool
        Compile with dynamic shapes (default True): one compilation serves
        many shapes, so a check costs a few compilations (seconds each) rather
        than one per case. False recompiles for every new shape (minutes).
    backend : str
        The ``torch.compile`` backend (default ``"inductor"``, which on the
        CPU needs a C++ compiler).
    dtypes : tuple of str
        The dtypes checked (default float32, float64 and int8: every dtype is
        another compilation per rank and flag combination; pass
        ``poolref.testing.ALL_DTYPES`` for all of them, at minutes per dtype).

    Returns
    -------
    Candidate
        The compiled functions under :func:`torch`'s declarations (contiguous
        tensors), labelled ``torch.compile(..., backend=...)``, with
        ``budget_scale=0.1`` (a tenth of the Hypothesis examples: every new
        dtype, rank or flag combination is a compilation of seconds).
    """
    torch_mod = _import("torch", "torch", "install PyTorch (pip install torch)")
    functional = torch_mod.nn.functional
    compiled = {
        nd: _without_recompile_limit(
            torch_mod,
            torch_mod.compile(
                getattr(functional, f"max_pool{nd}d"), dynamic=dynamic, backend=backend
            ),
        )
        for nd in (1, 2, 3)
    }
    label = f"torch.compile(max_pool{{1,2,3}}d, backend={backend!r}, dynamic={dynamic}) of torch {torch_mod.__version__} (cpu)"
    cand = torch("cpu", fn=compiled, name=label)
    cand = dataclasses.replace(
        cand,
        support=dataclasses.replace(
            cand.support,
            dtypes=tuple(dtypes),
            backward_dtypes=tuple(d for d in dtypes if d in cand.support.backward_dtypes),
        ),
    )
    source = f"__import__('poolref.adapters').adapters.torch_compile(dynamic={dynamic!r}, backend={backend!r}, dtypes={tuple(dtypes)!r})"
    return dataclasses.replace(cand, source=source, budget_scale=COMPILE_BUDGET_SCALE)


#: Share of the Hypothesis budget ``torch_compile`` asks for: its cases cost compilations.
COMPILE_BUDGET_SCALE = 0.1

#: Recompilations allowed per compiled function while the harness calls it: every dtype, rank,
#: batching and flag combination is one, and past torch's default limit (8) dynamo silently
#: falls back to eager PyTorch, which would check eager instead of the compiled code.
RECOMPILE_LIMIT = 1024


def _without_recompile_limit(
    torch_mod: ModuleType, compiled: Callable[..., Any]
) -> Callable[..., Any]:
    """``compiled`` called with dynamo's recompile limits raised to :data:`RECOMPILE_LIMIT`."""
    patch = torch_mod._dynamo.config.patch(
        recompile_limit=RECOMPILE_LIMIT, accumulated_recompile_limit=RECOMPILE_LIMIT
    )

    def call(*args: Any, **kwargs: Any) -> Any:
        with patch:
            return compiled(*args, **kwargs)

    call.__qualname__ = (
        f"torch.compile {getattr(compiled, '_torchdynamo_orig_callable', compiled).__name__}"
    )
    return call
