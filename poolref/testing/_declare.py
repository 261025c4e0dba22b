"""What a candidate declares: :class:`Support` (what it implements), :class:`Behaviour`
(which implementation-defined rules it follows) and :class:`Candidate` (the callables with both)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .._params import BACKWARD_DTYPES, FORWARD_DTYPES
from ._index import INDEX_FORMATS

#: Every dtype poolref's forward accepts (names).
ALL_DTYPES = tuple(t.name for t in FORWARD_DTYPES)
#: Every dtype poolref's backward accepts.
FLOAT_DTYPES = tuple(t.name for t in BACKWARD_DTYPES)

#: The value domains of ``Support.values``.
VALUE_DOMAINS = ("any", "finite", "nonnegative", "positive")

#: The largest N and C of the corner cases and the Hypothesis search unless Support declares less.
SMALL_PLANES = 3

#: Hypothesis examples per spatial rank for each named budget (the corner cases always run).
BUDGETS = {"quick": 200, "thorough": 2000}

_NAN_RULES = ("last", "first", "strict", "propagate", "ignore", "untested")


def _dtype_names(values, name: str) -> tuple[str, ...]:
    if isinstance(values, (str, np.dtype, type)):
        values = (values,)
    out = []
    for value in values:
        try:
            dtype = np.dtype(value)
        except TypeError:
            msg = f"{name} must contain dtypes, got {value!r}"
            raise TypeError(msg) from None
        if dtype.name not in ALL_DTYPES:
            msg = f"{name}: {dtype.name} is not one of poolref's dtypes {ALL_DTYPES}"
            raise ValueError(msg)
        out.append(dtype.name)
    return tuple(dict.fromkeys(out))


def _in_domain(x: np.ndarray, domain: str) -> bool:
    """True if every element of ``x`` lies in the value domain ``domain``."""
    if domain == "any" or x.size == 0:
        return True
    if x.dtype.kind == "f" and not np.isfinite(x).all():
        return False
    if domain == "nonnegative":
        return bool((x >= 0).all())
    if domain == "positive":
        return bool((x > 0).all())
    return True


@dataclass(frozen=True)
class Support:
    """What a candidate implements; cases outside it are never generated.

    Every argument is also an attribute of the same name.

    Parameters
    ----------
    ndims : tuple of {1, 2, 3}
        Spatial ranks.
    dtypes : tuple of str
        Input dtypes of the forward (names, e.g. ``"float32"``).
    backward_dtypes : tuple of str
        The dtypes for which the backward is checked (ignored without a backward).
    padding, dilation, ceil_mode : bool
        Whether padding > 0, dilation > 1 and ``ceil_mode=True`` may be used.
    indices : bool
        The forward returns ``(output, indices)``.
    unbatched : bool
        ``(C, *spatial)`` input is accepted (the output is then unbatched too).
    non_contiguous : bool
        Any memory layout is accepted (Fortran order, channels-last, strided
        views, negative strides). If False only C-contiguous arrays are passed.
    backward_dilation : bool
        The backward works with dilation > 1 (JAX's does not).
    square : bool
        Only ``kernel_size`` and ``stride`` equal in every dimension.
    same_stride : bool
        Only ``stride`` equal in every dimension (kernels may differ).
    values : {"any", "finite", "nonnegative", "positive"}
        The values the candidate handles: any value of the dtype (default),
        no NaN or infinity, only values ``>= 0``, or only values ``> 0``.
        Cases are generated inside the domain, never filtered.
    exact_fit : bool
        Only input sizes the windows tile exactly: ``(L + 2p - eff) % stride == 0``.
    max_batch, max_channels : int or None
        Upper bounds for ``N`` and ``C`` in every generated case. None (the
        default) declares no limit: the corner cases and the Hypothesis
        search still keep ``N, C <= 3`` (:data:`SMALL_PLANES`), while the
        scale cases use ``N * C`` up to a few hundred. An int holds for
        all three, scale cases included.
    accepts : callable or None
        Extra filter ``accepts(x, kernel_size, stride, padding, dilation,
        ceil_mode) -> bool`` for anything the fields above cannot say (``x``
        is the input array). Prefer the fields: they are generated within,
        while ``accepts`` rejects what was drawn and slows the search.
    """

    ndims: tuple[int, ...] = (1, 2, 3)
    dtypes: tuple[str, ...] = ALL_DTYPES
    backward_dtypes: tuple[str, ...] = FLOAT_DTYPES
    padding: bool = True
    dilation: bool = True
    ceil_mode: bool = True
    indices: bool = True
    unbatched: bool = True
    non_contiguous: bool = True
    backward_dilation: bool = True
    square: bool = False
    same_stride: bool = False
    values: str = "any"
    exact_fit: bool = False
    max_batch: int | None = None
    max_channels: int | None = None
    accepts: Callable[..., object] | None = None

    def __post_init__(self) -> None:
        ndims = (self.ndims,) if isinstance(self.ndims, int) else tuple(self.ndims)
        if not ndims or any(n not in (1, 2, 3) for n in ndims):
            msg = (
                f"Support: ndims must be a non-empty subset of (1, 2, 3), got ndims={self.ndims!r}"
            )
            raise ValueError(msg)
        object.__setattr__(self, "ndims", tuple(sorted(set(ndims))))
        dtypes = _dtype_names(self.dtypes, "Support.dtypes")
        if not dtypes:
            msg = "Support: dtypes must not be empty"
            raise ValueError(msg)
        object.__setattr__(self, "dtypes", dtypes)
        backward = _dtype_names(self.backward_dtypes, "Support.backward_dtypes")
        if any(d not in FLOAT_DTYPES for d in backward):
            msg = f"Support: backward_dtypes must be float dtypes, got backward_dtypes={backward!r}"
            raise ValueError(msg)
        object.__setattr__(self, "backward_dtypes", backward)
        if self.values not in VALUE_DOMAINS:
            msg = f"Support: values must be one of {VALUE_DOMAINS}, got values={self.values!r}"
            raise ValueError(msg)
        for name in ("max_batch", "max_channels"):
            value = getattr(self, name)
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < 1
            ):
                msg = f"Support: {name} must be None or an int >= 1, got {name}={value!r}"
                raise ValueError(msg)

    def allows(
        self,
        x: np.ndarray,
        kernel_size: tuple[int, ...],
        stride: tuple[int, ...],
        padding: tuple[int, ...],
        dilation: tuple[int, ...],
        ceil_mode: bool,
    ) -> bool:
        """True if the call ``f(x, kernel_size, ...)`` is within this support."""
        nd = len(kernel_size)
        if nd not in self.ndims or x.dtype.name not in self.dtypes:
            return False
        if x.ndim == nd + 1 and not self.unbatched:
            return False
        max_n, max_c = self.max_batch or x.shape[0], self.max_channels or x.shape[-nd - 1]
        if x.ndim == nd + 2 and (x.shape[0] > max_n or x.shape[1] > max_c):
            return False
        if x.ndim == nd + 1 and x.shape[0] > max_c:
            return False
        if not self.padding and any(padding):
            return False
        if not self.dilation and any(d != 1 for d in dilation):
            return False
        if not self.ceil_mode and ceil_mode:
            return False
        if not self.non_contiguous and not x.flags.c_contiguous:
            return False
        if self.square and (len(set(kernel_size)) > 1 or len(set(stride)) > 1):
            return False
        if self.same_stride and len(set(stride)) > 1:
            return False
        if not _in_domain(x, self.values):
            return False
        if self.exact_fit:
            for n, k, s, p, d in zip(x.shape[-nd:], kernel_size, stride, padding, dilation):
                if (n + 2 * p - d * (k - 1) - 1) % s:
                    return False
        if self.accepts is not None:
            return bool(self.accepts(x, kernel_size, stride, padding, dilation, ceil_mode))
        return True


#: The catalogue of named rules: every Behaviour field with a fixed set of values (the first is
#: PyTorch's). The CLI's behaviour flags are generated from it.
BEHAVIOUR_RULES = {
    "ties": ("first", "any"),
    "nan": _NAN_RULES,
    "nan_backward": (None, *_NAN_RULES),
    "index_format": INDEX_FORMATS,
    "signed_zero": ("index", "any"),
    "empty_window_value": ("lowest", "lowest_finite", "any"),
    "empty_window_index": ("any", "-1"),
    "padding": ("skipped", "compared", "zero"),
}


@dataclass(frozen=True)
class Behaviour:
    """The implementation-defined rules a candidate follows (PyTorch's by default).

    Where a rule is declared ``"any"``/``"propagate"``, the harness still
    checks what every reasonable implementation agrees on (the value, that an
    index points at a maximum of its window) and skips only the
    implementation-defined part; the gradient of such windows is not checked
    (their ``grad_output`` entries are set to zero).

    Every argument is also an attribute of the same name.

    Parameters
    ----------
    ties : {"first", "any"}
        Which of several equal maxima is selected (index and gradient):
        the first in row-major window order (PyTorch, ONNX, TF, JAX's
        gradient), or any of them.
    nan : {"last", "first", "strict", "propagate", "ignore", "untested"}
        ``"last"``: a window holding NaN gives NaN, index of its *last* NaN
        (PyTorch). ``"first"``: NaN, index of the first NaN (``np.argmax``).
        ``"strict"``: start from the first valid element and move only to a
        strictly greater one, so a NaN is kept only when it comes first
        (onnxruntime's Indices path, TF ``max_pool_with_argmax``).
        ``"propagate"``: NaN, but index and gradient are unspecified (JAX).
        ``"ignore"``: NaN is skipped like padding (TF's forward; all-NaN
        windows unchecked). ``"untested"``: no NaN is ever generated.
    nan_backward : str or None
        The NaN rule of the gradient when it differs from the forward's
        (one of the ``nan`` rules; None: the same as ``nan``). TensorFlow's
        forward ignores NaN while its gradient follows another rule.
    index_format : {"plane", "global", "window", "nhwc", "nhwc_batch"}
        ``"plane"``: flat row-major index inside each ``(n, c)`` plane of the
        unpadded input (PyTorch). ``"global"``: ``(n * C + c) * P + plane``
        over the whole tensor (ONNX ``Indices``, ``storage_order=0``).
        ``"window"``: the position inside the window, row-major over the
        kernel taps (chainer). ``"nhwc"``: ``plane * C + c``, flat over a
        channels-last sample (TF ``max_pool_with_argmax``); ``"nhwc_batch"``:
        ``(n * P + plane) * C + c`` (its ``include_batch_in_index=True``).
    index_dtype : str or None
        Required dtype of the indices (``"int64"``), or None for any integer dtype.
    signed_zero : {"index", "any"}
        ``"index"``: the output is the input *at the selected index*, so a
        ``-0.0``/``+0.0`` tie keeps the sign of the selected one. ``"any"``:
        the sign of a zero output is not checked.
    empty_window_value : {"lowest", "lowest_finite", "any"}
        Output of a window with no valid tap (only with dilation > 1 and
        padding): the dtype's lowest value, ``-inf`` / ``iinfo.min``
        (PyTorch, JAX), the lowest finite value (onnxruntime), or unchecked.
    empty_window_index : {"any", "-1"}
        ``"any"`` (default): the index of an empty window is not compared and
        the backward is not called for inputs that have one (PyTorch returns
        an out-of-range index there and its backward writes out of bounds).
        ``"-1"``: the index must be -1 and the backward must skip it (poolref).
    padding : {"skipped", "compared", "zero"}
        ``"skipped"``: padded positions are never selected (PyTorch, ONNX, TF).
        ``"compared"``: padding holds the dtype's lowest value and takes part
        in the comparison (JAX ``reduce_window``), so in a window whose maximum
        equals that value the index and gradient are unspecified.
        ``"zero"``: padding holds 0 and takes part (``np.pad`` then max):
        a padded window's output is at least 0, and where it is 0 the index
        and gradient are unspecified.
    """

    ties: str = "first"
    nan: str = "last"
    nan_backward: str | None = None
    index_format: str = "plane"
    index_dtype: str | None = "int64"
    signed_zero: str = "index"
    empty_window_value: str = "lowest"
    empty_window_index: str = "any"
    padding: str = "skipped"

    def __post_init__(self) -> None:
        for name, choices in BEHAVIOUR_RULES.items():
            value = getattr(self, name)
            if value not in choices:
                msg = f"Behaviour: {name} must be one of {choices}, got {name}={value!r}"
                raise ValueError(msg)
        if self.index_dtype is not None:
            object.__setattr__(
                self, "index_dtype", _dtype_names(self.index_dtype, "Behaviour.index_dtype")[0]
            )

    @property
    def gradient_rules(self) -> Behaviour:
        """The rules the gradient follows (``nan`` replaced by ``nan_backward`` if set)."""
        if self.nan_backward is None or self.nan_backward == self.nan:
            return self
        return dataclasses.replace(self, nan=self.nan_backward, nan_backward=None)

    def differences(self) -> list[str]:
        """The fields that differ from PyTorch's rules, as ``name=value`` strings."""
        default = Behaviour()
        return [
            f"{f.name}={getattr(self, f.name)!r}"
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        ]


@dataclass(frozen=True)
class Candidate:
    """A max-pooling implementation under test, with its declarations.

    Every argument is also an attribute of the same name.

    Parameters
    ----------
    forward : callable
        ``forward(x, kernel_size, stride, padding, dilation, ceil_mode)``: the
        pooled output, or ``(output, indices)`` when ``support.indices``.
        ``x`` is a NumPy array, the parameters are tuples of ints with one
        entry per spatial dimension and ``ceil_mode`` is a bool.
    backward : callable or None, optional
        ``backward(grad_output, x, kernel_size, stride, padding, dilation,
        ceil_mode)``: the gradient with respect to ``x``. None (the default):
        no backward is checked.
    support : Support, optional
        What it implements (default: everything, ``Support()``).
    behaviour : Behaviour, optional
        The implementation-defined rules it follows (default: PyTorch's).
    name : str or None, optional
        The label in messages (default: the forward's qualified name).
    source : str or None, optional
        A Python expression that rebuilds the candidate, used in the
        reproduction snippet, e.g. ``"poolref.adapters.torch(device='cpu')"``.
    budget_scale : float, optional
        Scales the named budgets' Hypothesis examples (not the corner cases)
        for candidates with a high cost per new shape (JAX compiles every
        one); an explicit ``max_examples`` ignores it. Default 1.0.
    """

    forward: Callable[..., object]
    backward: Callable[..., object] | None = None
    support: Support = field(default_factory=Support)
    behaviour: Behaviour = field(default_factory=Behaviour)
    name: str | None = None
    source: str | None = None
    budget_scale: float = 1.0

    @property
    def label(self) -> str:
        """The name in messages: ``name``, else the forward's qualified name."""
        return self.name or _callable_name(self.forward) or "candidate"


def _callable_name(fn) -> str | None:
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if qualname is None:
        qualname = type(fn).__name__
    if module and module not in ("__main__", "builtins"):
        return f"{module}.{qualname}"
    return qualname


def _import_source(fn, role: str) -> str:
    """Snippet lines that bind ``role`` to ``fn`` (an import when possible)."""
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if module and qualname and module != "__main__" and "<" not in qualname:
        head, _, tail = qualname.partition(".")
        if tail:
            return f"from {module} import {head}\n{role} = {qualname}"
        return f"from {module} import {qualname} as {role}"
    return f"{role} = ...  # your {role} function ({_callable_name(fn)})"


# ============================================================================
# Windows, the reference, and what is checked where
# ============================================================================
