"""Bad input: every error is a ValueError/TypeError naming the argument, and inputs stay untouched.

(a) A table of bad calls whose test ids are the calls themselves (Hypothesis's
``test_argument_validation.py`` style); (b) Hypothesis corrupts one argument
of a valid call; (c) no call, valid or not, modifies its array arguments, and
no output shares memory with an input.
"""

from __future__ import annotations

import re

import _assertions as pa
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from poolref import strategies as ps

impls = pytest.mark.parametrize("impl", pa.IMPLEMENTATIONS, ids=pa.impl_id)


class Named:
    """An argument that shows up in the test id under a short name."""

    def __init__(self, name, value):
        self.name, self.value = name, value

    def __repr__(self):
        return self.name


class TensorLike:
    """Not an ndarray, but convertible to one (like a torch tensor)."""

    def __init__(self, array):
        self._array = array

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self._array, dtype=dtype)


X1 = Named("x1", np.arange(12.0).reshape(1, 2, 6))  # (N, C, L)
X2 = Named("x2", np.arange(32.0).reshape(1, 2, 4, 4))  # (N, C, H, W)
X3 = Named("x3", np.arange(54.0).reshape(1, 2, 3, 3, 3))  # (N, C, D, H, W)
G2 = Named("g2", np.ones((1, 2, 2, 2)))  # grad_output of max_pool2d(x2, 2)
I2 = Named("i2", np.array([[[[5, 7], [13, 15]]] * 2]))  # indices of max_pool2d(x2, 2)
Y2 = Named("y2", np.ones((1, 2, 2, 2)))


def _array(name, shape, dtype=np.float64):
    return Named(name, np.zeros(shape, dtype=dtype))


def e(func, *args, raises, match, **kwargs):
    """One row: ``func(*args, **kwargs)`` raises ``raises`` with ``match`` (literal) in its message."""
    shown = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return pytest.param(func, args, kwargs, raises, match, id=f"{func}({', '.join(shown)})")


V, T = ValueError, TypeError
BAD_CALLS = [
    # wrong rank
    e("max_pool1d", _array("zeros((6,))", (6,)), 2, raises=V, match="x.shape=(6,)"),
    e("max_pool1d", X2, 2, raises=V, match="x.shape=(1, 2, 4, 4)"),
    e("max_pool2d", _array("zeros((4, 4))", (4, 4)), 2, raises=V, match="x.shape=(4, 4)"),
    e("max_pool2d", X3, 2, raises=V, match="x.shape=(1, 2, 3, 3, 3)"),
    e("max_pool3d", X1, 2, raises=V, match="x.shape=(1, 2, 6)"),
    # kernel_size / stride / dilation < 1, negative or too large padding
    e("max_pool2d", X2, 0, raises=V, match="kernel_size=0"),
    e("max_pool2d", X2, -1, raises=V, match="kernel_size=-1"),
    e("max_pool2d", X2, (2, 0), raises=V, match="kernel_size=(2, 0)"),
    e("max_pool1d", X1, 2, stride=0, raises=V, match="stride=0"),
    e("max_pool2d", X2, 2, stride=(1, -1), raises=V, match="stride=(1, -1)"),
    e("max_pool3d", X3, 2, stride=-2, raises=V, match="stride=-2"),
    e("max_pool2d", X2, 2, dilation=0, raises=V, match="dilation=0"),
    e("max_pool1d", X1, 2, dilation=-1, raises=V, match="dilation=-1"),
    e("max_pool2d", X2, 2, padding=-1, raises=V, match="padding=-1"),
    e("max_pool2d", X2, 3, padding=2, raises=V, match="padding=2"),
    e("max_pool2d", X2, 3, padding=(0, 2), raises=V, match="padding=(0, 2)"),
    e("max_pool1d", X1, 1, padding=1, raises=V, match="padding=1"),
    e("max_pool3d", X3, 2, padding=(0, 0, 2), raises=V, match="padding=(0, 0, 2)"),
    # computed output size < 1
    e("max_pool2d", X2, 5, raises=V, match="kernel_size=(5, 5)"),
    e("max_pool1d", X1, 4, dilation=2, raises=V, match="dilation=(2,)"),
    e("max_pool3d", X3, (1, 1, 4), raises=V, match="kernel_size=(1, 1, 4)"),
    # bool / float / str parameters
    e("max_pool2d", X2, True, raises=T, match="kernel_size=True"),
    e("max_pool2d", X2, 2.0, raises=T, match="kernel_size=2.0"),
    e("max_pool2d", X2, "2", raises=T, match="kernel_size='2'"),
    e("max_pool2d", X2, (2, 2.5), raises=T, match="kernel_size=(2, 2.5)"),
    e("max_pool2d", X2, 2, stride=1.5, raises=T, match="stride=1.5"),
    e("max_pool2d", X2, 2, stride=False, raises=T, match="stride=False"),
    e("max_pool2d", X2, 2, padding=True, raises=T, match="padding=True"),
    e("max_pool2d", X2, 2, padding=(0.0, 0), raises=T, match="padding=(0.0, 0)"),
    e("max_pool2d", X2, 2, dilation="1", raises=T, match="dilation='1'"),
    e("max_pool2d", X2, 2, dilation=None, raises=T, match="dilation=None"),
    e("max_pool2d", X2, None, raises=T, match="kernel_size=None"),
    # tuples of the wrong length
    e("max_pool2d", X2, (2, 2, 2), raises=V, match="kernel_size=(2, 2, 2)"),
    e("max_pool2d", X2, (), raises=V, match="kernel_size=()"),
    e("max_pool1d", X1, (2, 2), raises=V, match="kernel_size=(2, 2)"),
    e("max_pool2d", X2, 2, stride=(1, 1, 1), raises=V, match="stride=(1, 1, 1)"),
    e("max_pool3d", X3, 2, padding=(0, 0), raises=V, match="padding=(0, 0)"),
    e("max_pool2d", X2, 2, dilation=(1, 1, 1), raises=V, match="dilation=(1, 1, 1)"),
    # ceil_mode / return_indices not bool
    e("max_pool2d", X2, 2, ceil_mode=1, raises=T, match="ceil_mode=1"),
    e("max_pool2d", X2, 2, ceil_mode=None, raises=T, match="ceil_mode=None"),
    e("max_pool1d", X1, 2, ceil_mode="True", raises=T, match="ceil_mode='True'"),
    e("max_pool2d", X2, 2, return_indices=1, raises=T, match="return_indices=1"),
    e("max_pool3d", X3, 2, return_indices=None, raises=T, match="return_indices=None"),
    # not an array
    e("max_pool1d", Named("[[0.0, 1.0]]", [[0.0, 1.0]]), 2, raises=T, match="x of type list"),
    e(
        "max_pool2d",
        Named("TensorLike(x2)", TensorLike(X2.value)),
        2,
        raises=T,
        match="x of type TensorLike",
    ),
    e(
        "max_pool2d",
        Named("np.float64(1.0)", np.float64(1.0)),
        1,
        raises=T,
        match="x of type float64",
    ),
    # unsupported dtypes
    e(
        "max_pool2d",
        _array("x2.astype(object)", (1, 2, 4, 4), object),
        2,
        raises=T,
        match="x.dtype=object",
    ),
    e(
        "max_pool2d",
        _array("x2.astype(complex)", (1, 2, 4, 4), complex),
        2,
        raises=T,
        match="x.dtype=complex128",
    ),
    e(
        "max_pool2d",
        _array("x2.astype(bool)", (1, 2, 4, 4), bool),
        2,
        raises=T,
        match="x.dtype=bool",
    ),
    e(
        "max_pool1d",
        _array("x1.astype(uint16)", (1, 2, 6), np.uint16),
        2,
        raises=T,
        match="x.dtype=uint16",
    ),
    e(
        "max_pool3d",
        _array("x3.astype(uint32)", (1, 2, 3, 3, 3), np.uint32),
        2,
        raises=T,
        match="x.dtype=uint32",
    ),
    # C = 0 or an empty spatial dimension
    e(
        "max_pool2d",
        _array("zeros((2, 0, 4, 4))", (2, 0, 4, 4)),
        2,
        raises=V,
        match="x.shape=(2, 0, 4, 4)",
    ),
    e("max_pool2d", _array("zeros((0, 4, 4))", (0, 4, 4)), 2, raises=V, match="x.shape=(0, 4, 4)"),
    e("max_pool1d", _array("zeros((1, 1, 0))", (1, 1, 0)), 1, raises=V, match="x.shape=(1, 1, 0)"),
    e(
        "max_pool3d",
        _array("zeros((1, 1, 2, 0, 2))", (1, 1, 2, 0, 2)),
        1,
        raises=V,
        match="x.shape=(1, 1, 2, 0, 2)",
    ),
    # backward: grad_output of the wrong shape or dtype, non-float dtypes, bad indices
    e(
        "max_pool2d_backward",
        _array("ones((1, 2, 3, 3))", (1, 2, 3, 3)),
        X2,
        2,
        raises=V,
        match="grad_output.shape=(1, 2, 3, 3)",
    ),
    e(
        "max_pool2d_backward",
        _array("ones((2, 2))", (2, 2)),
        X2,
        2,
        raises=V,
        match="grad_output.shape=(2, 2)",
    ),
    e(
        "max_pool2d_backward",
        _array("g2.astype(float32)", (1, 2, 2, 2), np.float32),
        X2,
        2,
        raises=T,
        match="grad_output.dtype=float32",
    ),
    e(
        "max_pool2d_backward",
        _array("g2.astype(int64)", (1, 2, 2, 2), np.int64),
        _array("x2.astype(int64)", (1, 2, 4, 4), np.int64),
        2,
        raises=T,
        match="grad_output.dtype=int64",
    ),
    e(
        "max_pool2d_backward",
        G2,
        _array("x2.astype(int64)", (1, 2, 4, 4), np.int64),
        2,
        raises=T,
        match="x.dtype=int64",
    ),
    e(
        "max_pool1d_backward",
        _array("g.astype(uint8)", (1, 2, 3), np.uint8),
        _array("x1.astype(uint8)", (1, 2, 6), np.uint8),
        2,
        raises=T,
        match="grad_output.dtype=uint8",
    ),
    e(
        "max_pool2d_backward",
        Named("[[1.0]]", [[1.0]]),
        X2,
        2,
        raises=T,
        match="grad_output of type list",
    ),
    e(
        "max_pool2d_backward",
        G2,
        Named("(1, 2, 4, 4)", (1, 2, 4, 4)),
        2,
        raises=T,
        match="x of type tuple",
    ),
    e("max_pool2d_backward", G2, X2, 0, raises=V, match="kernel_size=0"),
    e("max_pool2d_backward", G2, X2, 2, stride=0, raises=V, match="stride=0"),
    e(
        "max_pool2d_backward",
        G2,
        X2,
        2,
        indices=Named("i2.astype(int32)", I2.value.astype(np.int32)),
        raises=T,
        match="indices.dtype=int32",
    ),
    e(
        "max_pool2d_backward",
        G2,
        X2,
        2,
        indices=Named("i2[..., :1]", I2.value[..., :1]),
        raises=V,
        match="indices.shape=(1, 2, 2, 1)",
    ),
    e(
        "max_pool2d_backward",
        G2,
        X2,
        2,
        indices=Named("i2 with 16", np.where(I2.value == 15, 16, I2.value)),
        raises=V,
        match="]=16",
    ),
    e(
        "max_pool2d_backward",
        G2,
        X2,
        2,
        indices=Named("i2 with -2", np.where(I2.value == 5, -2, I2.value)),
        raises=V,
        match="indices[0, 0, 0, 0]=-2",
    ),
    e(
        "max_pool2d_backward",
        G2,
        X2,
        2,
        indices=Named("i2.tolist()", I2.value.tolist()),
        raises=T,
        match="indices of type list",
    ),
    # unpool: indices of the wrong shape/dtype/range, output_size out of range or wrong length
    e(
        "max_unpool2d",
        Y2,
        Named("i2[..., :1]", I2.value[..., :1]),
        2,
        raises=V,
        match="indices.shape=(1, 2, 2, 1)",
    ),
    e(
        "max_unpool2d",
        Y2,
        Named("i2.astype(int32)", I2.value.astype(np.int32)),
        2,
        raises=T,
        match="indices.dtype=int32",
    ),
    e(
        "max_unpool2d",
        Y2,
        Named("i2.astype(float)", I2.value.astype(float)),
        2,
        raises=T,
        match="indices.dtype=float64",
    ),
    e(
        "max_unpool2d",
        Y2,
        Named("i2 with 16", np.where(I2.value == 15, 16, I2.value)),
        2,
        raises=V,
        match="]=16",
    ),
    e(
        "max_unpool2d",
        Y2,
        Named("i2 with -2", np.where(I2.value == 5, -2, I2.value)),
        2,
        raises=V,
        match="indices[0, 0, 0, 0]=-2",
    ),
    e("max_unpool2d", Y2, I2, 2, output_size=(6, 6), raises=V, match="output_size=(6, 6)"),
    e("max_unpool2d", Y2, I2, 2, output_size=(2, 4), raises=V, match="output_size=(2, 4)"),
    e("max_unpool2d", Y2, I2, 2, output_size=(4,), raises=V, match="output_size=(4,)"),
    e(
        "max_unpool2d",
        Y2,
        I2,
        2,
        output_size=(1, 1, 2, 4, 4),
        raises=V,
        match="output_size=(1, 1, 2, 4, 4)",
    ),
    e("max_unpool2d", Y2, I2, 2, output_size=(4.0, 4), raises=T, match="output_size=(4.0, 4)"),
    e("max_unpool2d", Y2, I2, 2, output_size="44", raises=T, match="output_size='44'"),
    e("max_unpool2d", Y2, I2, 0, raises=V, match="kernel_size=0"),
    e("max_unpool2d", Y2, I2, 2, stride=0, raises=V, match="stride=0"),
    e("max_unpool2d", Y2, I2, 2, padding=2, raises=V, match="padding=2"),
    e(
        "max_unpool2d",
        _array("y2.astype(bool)", (1, 2, 2, 2), bool),
        I2,
        2,
        raises=T,
        match="y.dtype=bool",
    ),
    e(
        "max_unpool2d",
        _array("ones((2, 2))", (2, 2)),
        Named("zeros((2, 2), int64)", np.zeros((2, 2), np.int64)),
        2,
        raises=V,
        match="y.shape=(2, 2)",
    ),
    e(
        "max_unpool1d",
        Named("[[1.0]]", [[1.0]]),
        Named("[[0]]", np.zeros((1, 1), np.int64)),
        2,
        raises=T,
        match="y of type list",
    ),
    e(
        "max_unpool2d",
        _array("ones((1, 1, 1, 1))", (1, 1, 1, 1)),
        Named("zeros((1, 1, 1, 1), int64)", np.zeros((1, 1, 1, 1), np.int64)),
        2,
        padding=1,
        raises=V,
        match="padding=(1, 1)",
    ),
]


def _unwrap(value):
    return value.value if isinstance(value, Named) else value


@impls
@pytest.mark.parametrize(("func", "args", "kwargs", "raises", "match"), BAD_CALLS)
def test_bad_call_raises_naming_the_argument(impl, func, args, kwargs, raises, match):
    args = [_unwrap(a) for a in args]
    kwargs = {k: _unwrap(v) for k, v in kwargs.items()}
    with pytest.raises((ValueError, TypeError), match=re.escape(match)) as info:
        getattr(impl, func)(*args, **kwargs)
    assert info.type is raises, (
        f"raised {info.type.__name__}, but should raise {raises.__name__}: {info.value}"
    )


# ----------------------------------------------------------------------------
# (b) Hypothesis corrupts one argument of a valid call
# ----------------------------------------------------------------------------

PARAMS = ("kernel_size", "stride", "padding", "dilation")


@st.composite
def invalid_calls(draw):
    """``(case, kind, kwargs, x, name)``: a valid case with exactly one argument made invalid."""
    kind = draw(st.sampled_from(["forward", "backward"]), label="function")
    dtypes = ("float64", "float32", "int32") if kind == "forward" else ("float64", "float32")
    case = draw(ps.pool_cases(dtypes=dtypes, max_elements=96), label="valid case")
    kwargs = case.kwargs()
    x = case.x
    name = draw(st.sampled_from([*PARAMS, "ceil_mode", "return_indices", "x"]), label="argument")
    nd = case.nd
    if name in PARAMS:
        lowest_valid = 0 if name == "padding" else 1
        bad = draw(
            st.one_of(
                st.integers(-3, lowest_valid - 1),  # too small
                st.sampled_from(
                    [True, False, 1.0, 2.5, "2", b"2", None if name != "stride" else "x"]
                ),
                st.lists(st.integers(lowest_valid, 2), min_size=nd + 1, max_size=nd + 3).map(tuple),
                st.integers(-3, lowest_valid - 1).map(lambda v: (*(kwargs[name][1:]), v)),
                st.just("too large") if name == "padding" else st.nothing(),
            ),
            label="bad value",
        )
        if bad == "too large":
            bad = tuple(k // 2 + 1 for k in case.kernel_size)
        kwargs[name] = bad
    elif name in ("ceil_mode", "return_indices"):
        bad = draw(st.sampled_from([0, 1, None, "True", 1.0, (True,)]), label="bad value")
        if kind == "backward" and name == "return_indices":
            name = "ceil_mode"
        kwargs[name] = bad
    else:
        choice = draw(st.sampled_from(["list", "rank", "dtype", "channels"]), label="bad input")
        if choice == "list":
            x = x.tolist()
            name = "x of type"
        elif choice == "rank":
            x = (
                x.reshape(x.shape[:1] + (1,) * (nd + 2) + x.shape[1:])
                if draw(st.booleans())
                else x.ravel()[:1]
            )
            name = "x.shape="
        elif choice == "dtype":
            with np.errstate(invalid="ignore"):
                x = x.astype(draw(st.sampled_from([bool, complex, object, np.uint16, np.uint64])))
            name = "x.dtype="
        else:
            x = x[(Ellipsis, slice(0, 0), *([slice(None)] * nd))]
            name = "x.shape="
    return case, kind, kwargs, x, name


def _call(impl, case, kind, kwargs, x):
    if kind == "forward":
        return pa.forward(impl, case.nd)(x, **kwargs)
    kwargs = dict(kwargs)
    kwargs.pop("return_indices", None)
    g = np.ones(pa.pool(impl, case).shape, dtype=case.x.dtype)  # the valid call's grad_output
    return pa.backward(impl, case.nd)(g, x, **kwargs)


def _same_contents(a: np.ndarray, b: np.ndarray) -> bool:
    """Bitwise equal (NaN included); object arrays: the very same objects."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype == object:
        return all(u is v for u, v in zip(a.ravel(), b.ravel()))
    return a.tobytes() == b.tobytes()


@impls
@given(call=invalid_calls())
def test_invalid_argument_raises_value_or_type_error_naming_it(impl, call):
    case, kind, kwargs, x, name = call
    before = np.copy(x) if isinstance(x, np.ndarray) else None
    with pytest.raises((ValueError, TypeError)) as info:
        _call(impl, case, kind, kwargs, x)
    needle = name if not name.isidentifier() else f"{name}="
    assert needle in str(info.value), f"message does not name {needle!r}: {info.value}"
    if before is not None:
        assert _same_contents(x, before), f"the call modified its input: {x!r} was {before!r}"


# ----------------------------------------------------------------------------
# (c) inputs are never modified; outputs never alias inputs
# ----------------------------------------------------------------------------


def _readonly(a):
    view = a.view()
    view.flags.writeable = False
    return view


def _check_call(func_name, result, inputs, case):
    """Every input equals its snapshot, and no output shares memory with an input."""
    __tracebackhide__ = True
    outputs = result if isinstance(result, tuple) else (result,)
    for name, (array, snapshot) in inputs.items():
        pa.assert_pool_equal(
            array, snapshot, case=case, name=f"{name} after {func_name}", func=func_name
        )
        for i, out in enumerate(outputs):
            pa.check(
                not np.shares_memory(out, array),
                f"output {i} of {func_name} shares memory with its input {name}",
                case=case,
                func=func_name,
            )


@impls
@given(case=ps.pool_cases(max_elements=128))
def test_calls_never_modify_inputs_and_outputs_never_alias_them(impl, case):
    # read-only views: an in-place write raises; the snapshots catch anything else
    x = _readonly(case.x)
    inputs = {"x": (x, case.x.copy())}
    fname = f"max_pool{case.nd}d"
    y, idx = result = pa.forward(impl, case.nd)(x, **case.kwargs(), return_indices=True)
    _check_call(fname, result, inputs, case)
    pa.check(not np.shares_memory(y, idx), "y shares memory with indices", case=case)
    _check_call(fname, pa.forward(impl, case.nd)(x, **case.kwargs()), inputs, case)
    y_ro, idx_ro = _readonly(y), _readonly(idx)
    if case.x.dtype.kind == "f":
        bname = f"max_pool{case.nd}d_backward"
        g = _readonly(np.ones_like(y))
        grad_inputs = {**inputs, "grad_output": (g, np.ones_like(y))}
        _check_call(bname, pa.backward(impl, case.nd)(g, x, **case.kwargs()), grad_inputs, case)
        grad_inputs["indices"] = (idx_ro, idx.copy())
        _check_call(
            bname,
            pa.backward(impl, case.nd)(g, x, **case.kwargs(), indices=idx_ro),
            grad_inputs,
            case,
        )
    if case.dilation == (1,) * case.nd:
        uname = f"max_unpool{case.nd}d"
        out = pa.unpool(impl, case.nd)(
            y_ro,
            idx_ro,
            case.kernel_size,
            case.stride,
            case.padding,
            output_size=case.x.shape[-case.nd :],
        )
        _check_call(uname, out, {"y": (y_ro, y.copy()), "indices": (idx_ro, idx.copy())}, case)
