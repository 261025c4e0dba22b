"""poolref's own implementations and layer-class conventions as candidates."""

from __future__ import annotations

import importlib
from types import ModuleType

from ..testing import FLOAT_DTYPES, Behaviour, Candidate, Support
from ._common import PYTORCH


def poolref_module(module: str | ModuleType = "fast") -> Candidate:
    """One of poolref's implementations (``"fast"``, ``"im2col"``, ``"naive"`` or a module).

    Follows poolref's own rules, including index ``-1`` for empty windows.

    Parameters
    ----------
    module : str or module, optional
        The implementation: ``"fast"`` (default), ``"im2col"``, ``"naive"``
        (with or without the ``"poolref."`` prefix), or the module itself.

    Returns
    -------
    Candidate
        Ready for :func:`poolref.testing.check_max_pool` or ``poolref verify``.
    """
    if isinstance(module, str):
        short = module.removeprefix("poolref.")
        mod = importlib.import_module(f"poolref.{short}")
    else:
        mod = module
        short = mod.__name__.removeprefix("poolref.")

    def forward(x, kernel_size, stride, padding, dilation, ceil_mode):
        fn = getattr(mod, f"max_pool{len(kernel_size)}d")
        return fn(x, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)

    def backward(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode):
        fn = getattr(mod, f"max_pool{len(kernel_size)}d_backward")
        return fn(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode)

    return Candidate(
        forward,
        backward,
        Support(),
        Behaviour(empty_window_index="-1"),
        name=f"poolref.{short}",
        source=f"__import__('poolref.adapters').adapters.poolref_module({short!r})",
    )


def layer(
    cls: type,
    *,
    dtypes: tuple[str, ...] = FLOAT_DTYPES,
    square: bool = True,
    name: str | None = None,
) -> Candidate:
    """A layer class ``cls(X_dim, size, stride)`` with ``forward(X)`` and ``backward(dout) -> (dX, grads)``.

    The deepnet tutorial's convention: ``X_dim = (C, H, W)``, ``size`` and
    ``stride`` ints, ``X`` of shape ``(N, C, H, W)``. One layer is built per
    call (the backward runs ``forward`` first, then ``backward``). Declared
    support: 2-D batched input only, no padding, dilation, ceil_mode or
    indices, ``size``/``stride`` the same in both dimensions (``square``) and
    only sizes where ``(H - size) % stride == 0`` (likewise ``W``).

    Parameters
    ----------
    dtypes : tuple of str, optional
        The input dtypes it supports (default: the float dtypes).
    square : bool, optional
        True (default): ``size`` and ``stride`` are ints, the same in both
        dimensions. False: they are passed as tuples, one entry per dimension.
    name : str, optional
        The label in messages (default: the class's qualified name).

    Returns
    -------
    Candidate
        Ready for :func:`poolref.testing.check_max_pool` or ``poolref verify``.
    """
    label = name or f"{cls.__module__}.{cls.__qualname__}"

    def build(x, kernel_size, stride):
        size = kernel_size[0] if square else tuple(kernel_size)
        step = stride[0] if square else tuple(stride)
        return cls(tuple(int(n) for n in x.shape[1:]), size, step)

    def forward(x, kernel_size, stride, padding, dilation, ceil_mode):
        return build(x, kernel_size, stride).forward(x)

    def backward(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode):
        lyr = build(x, kernel_size, stride)
        lyr.forward(x)
        out = lyr.backward(grad_output)
        return out[0] if isinstance(out, tuple) else out

    support = Support(
        ndims=(2,),
        dtypes=dtypes,
        backward_dtypes=tuple(d for d in FLOAT_DTYPES if d in Support(dtypes=dtypes).dtypes),
        padding=False,
        dilation=False,
        ceil_mode=False,
        indices=False,
        unbatched=False,
        square=square,
        exact_fit=True,
    )
    module, qualname = cls.__module__, cls.__qualname__
    source = f"__import__('poolref.adapters').adapters.layer(__import__('importlib').import_module({module!r}).{qualname})"
    return Candidate(forward, backward, support, PYTORCH, name=label, source=source)


def nn_layers(classes: dict[int, type] | ModuleType, *, name: str | None = None) -> Candidate:
    """``torch.nn``-style layer classes: ``cls(kernel_size, stride, padding, dilation, ceil_mode)``.

    The forward is ``layer.forward(x)``; the backward builds a layer, runs
    ``forward(x)`` and returns ``layer.backward(grad_output)``. No indices.

    Parameters
    ----------
    classes : dict of int to type, or module
        The spatial rank -> the class (``{1: MaxPool1d, 2: MaxPool2d, 3:
        MaxPool3d}``), or a module holding ``MaxPool1d``..``MaxPool3d`` (e.g.
        :mod:`poolref.fast`); the ranks it has are the ranks declared.
    name : str, optional
        The label in messages (default: the classes' qualified names).

    Returns
    -------
    Candidate
        Ready for :func:`poolref.testing.check_max_pool` or ``poolref verify``.
    """
    if not isinstance(classes, dict):
        module = classes
        classes = {
            nd: getattr(module, f"MaxPool{nd}d")
            for nd in (1, 2, 3)
            if hasattr(module, f"MaxPool{nd}d")
        }
        label = name or f"{module.__name__}.MaxPool{{{','.join(str(n) for n in classes)}}}d layers"
    else:
        label = name or "layers " + ", ".join(
            f"{c.__module__}.{c.__qualname__}" for c in classes.values()
        )
    if not classes:
        msg = "nn_layers: no layer classes given"
        raise ValueError(msg)

    def build(kernel_size, stride, padding, dilation, ceil_mode):
        return classes[len(kernel_size)](kernel_size, stride, padding, dilation, ceil_mode)

    def forward(x, kernel_size, stride, padding, dilation, ceil_mode):
        return build(kernel_size, stride, padding, dilation, ceil_mode).forward(x)

    def backward(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode):
        lyr = build(kernel_size, stride, padding, dilation, ceil_mode)
        lyr.forward(x)
        return lyr.backward(grad_output)

    return Candidate(
        forward,
        backward,
        Support(ndims=tuple(sorted(classes)), indices=False),
        Behaviour(empty_window_index="-1"),
        name=label,
    )
