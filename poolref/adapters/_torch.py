"""PyTorch: ``torch.nn.functional.max_pool{1,2,3}d`` and autograd."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from ..testing import ALL_DTYPES, FLOAT_DTYPES, Candidate, Support
from ._common import PYTORCH, AdapterUnavailable, _c_strides, _import


def torch(
    device: str = "cpu", memory_format: str = "contiguous", *, indices: bool = True
) -> Candidate:
    """``torch.nn.functional.max_pool{1,2,3}d`` and its autograd backward.

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
    forward, backward = _torch_calls(
        torch_mod, _tensor_maker(torch_mod, dev, memory_format), indices
    )
    support = _torch_support(cuda=dev.type == "cuda", memory_format=memory_format, indices=indices)
    label = f"torch {torch_mod.__version__} ({device}, {memory_format}{'' if indices else ', no indices'})"
    args = [f"device={device!r}"]
    if memory_format != "contiguous":
        args.append(f"memory_format={memory_format!r}")
    if not indices:
        args.append("indices=False")
    return Candidate(
        forward,
        backward,
        support,
        PYTORCH,
        name=label,
        source=f"__import__('poolref.adapters').adapters.torch({', '.join(args)})",
    )


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
    torch_mod: ModuleType, to_tensor: Callable[[np.ndarray], Any], indices: bool
) -> tuple[Callable[..., Any], Callable[..., np.ndarray]]:
    """The candidate's forward (``max_pool{nd}d`` without autograd) and backward (autograd)."""
    functional = torch_mod.nn.functional

    def forward(x, kernel_size, stride, padding, dilation, ceil_mode):
        fn = getattr(functional, f"max_pool{len(kernel_size)}d")
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
        fn = getattr(functional, f"max_pool{len(kernel_size)}d")
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
