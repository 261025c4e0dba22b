"""The deepnet tutorial's ``Maxpool(X_dim, size, stride)`` layer, with PyTorch's selection rules.

A drop-in replacement for the tutorial's layer, built on the im2col
implementation's column matrix (:mod:`poolref._im2col_columns`): its forward
takes the argmax down the columns, its backward writes the gradient into the
argmax rows of a zero column matrix and folds it back with ``col2im``. Also
importable as ``poolref.im2col.Maxpool``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._api import Size
from ._im2col_columns import _fold, _pool_columns
from ._im2col_windows import _is_int, _ntuple
from ._params import BACKWARD_DTYPES, FORWARD_DTYPES, PoolParams, check_array

__all__ = ["Maxpool"]


class Maxpool:
    """The deepnet tutorial's 2-D max-pool layer, with PyTorch's selection rules.

    A drop-in replacement for the tutorial's ``Maxpool``: same constructor,
    attributes and ``forward``/``backward`` methods, but ``size`` and
    ``stride`` may differ between height and width, the output size is
    computed with integer arithmetic, and ties and NaN follow PyTorch (first
    maximum; last NaN).

    Parameters
    ----------
    X_dim : tuple of 3 ints
        ``(C, H, W)`` of one input sample.
    size : int or tuple of 2 ints
        Window size, ``(height, width)`` if a tuple.
    stride : int or tuple of 2 ints
        Step between windows.

    Attributes
    ----------
    params : list
        ``[]``: a max-pool layer has nothing to learn.
    out_dim : tuple of 3 ints
        ``(C, h_out, w_out)``.
    size, stride : int or tuple of 2 ints
        As given (an int stays an int, a list becomes a tuple).
    h_out, w_out : int
        Output height and width, ``(H - size) // stride + 1``.
    d_X, h_X, w_X : int
        ``C``, ``H``, ``W`` (the tutorial's names).
    n_X : int or None
        Batch size of the last ``forward``.

    Raises
    ------
    ValueError
        ``"Invalid dimensions! ..."`` where the tutorial raises it: the
        window does not tile the input exactly, ``(H - size) % stride != 0``
        (likewise for ``W``), or it is larger than the input. A ``ValueError``
        is an ``Exception``, so the tutorial's ``except Exception`` still
        catches it. Other bad arguments raise ``TypeError``/``ValueError``
        naming them.

    Examples
    --------
    >>> X = np.array([[[[1., 9., 2., 0.],
    ...                 [4., 3., 8., 7.],
    ...                 [0., 6., 5., 5.],
    ...                 [2., 1., 3., 4.]]]])          # (N, C, H, W) = (1, 1, 4, 4)
    >>> pool = Maxpool((1, 4, 4), size=2, stride=2)
    >>> pool.out_dim
    (1, 2, 2)
    >>> pool.forward(X)[0, 0]
    array([[9., 8.],
           [6., 5.]])
    >>> dX, grads = pool.backward(np.ones((1, 1, 2, 2)))
    >>> dX[0, 0], grads                              # the tie 5, 5 routes to the first
    (array([[0., 1., 0., 0.],
           [0., 0., 1., 0.],
           [0., 1., 1., 0.],
           [0., 0., 0., 0.]]), [])
    """

    params: list[NDArray[Any]]
    out_dim: tuple[int, int, int]
    size: int | tuple[int, ...]
    stride: int | tuple[int, ...]
    h_out: int
    w_out: int
    d_X: int
    h_X: int
    w_X: int
    n_X: int | None
    # the last forward's index table, argmax rows and number of column rows, for backward
    _index: NDArray[np.int64]
    _max_rows: NDArray[np.intp] | None
    _n_rows: int | None

    def __init__(self, X_dim: tuple[int, ...] | list[int], size: Size, stride: Size) -> None:
        msg = f"Maxpool: X_dim must be (C, H, W), three positive ints, got X_dim={X_dim!r}"
        if not isinstance(X_dim, (tuple, list)):
            raise TypeError(msg)
        if len(X_dim) != 3 or not all(_is_int(v) and v >= 1 for v in X_dim):
            raise ValueError(msg)
        self.d_X, self.h_X, self.w_X = (int(v) for v in X_dim)
        kernel = _ntuple(size, 2, "size", "Maxpool", 1)
        steps = _ntuple(stride, 2, "stride", "Maxpool", 1)
        self.params = []
        # _ntuple let only an int or a tuple/list of ints through: a list is kept as a tuple
        self.size = tuple(size) if isinstance(size, (tuple, list)) else size
        self.stride = tuple(stride) if isinstance(stride, (tuple, list)) else stride
        bad = [
            f"{name}={length}"
            for name, length, k, s in zip(("H", "W"), (self.h_X, self.w_X), kernel, steps)
            if k > length or (length - k) % s != 0
        ]
        if bad:
            msg = (
                f"Invalid dimensions! (X_dim - size) / stride + 1 must be a positive integer, got "
                f"X_dim={tuple(X_dim)!r}, size={size!r}, stride={stride!r} (fails for {', '.join(bad)})"
            )
            raise ValueError(msg)
        self.h_out = (self.h_X - kernel[0]) // steps[0] + 1
        self.w_out = (self.w_X - kernel[1]) // steps[1] + 1
        self.out_dim = (self.d_X, self.h_out, self.w_out)
        self._params = PoolParams(
            kernel, steps, (0, 0), (1, 1), False
        )  # the tutorial: no padding or dilation
        self.n_X = None  # batch size of the last forward (the tutorial's attribute)
        self._max_rows = None  # argmax rows of the last forward, kept for backward
        self._n_rows = None

    def __repr__(self) -> str:
        return f"Maxpool(X_dim={(self.d_X, self.h_X, self.w_X)!r}, size={self.size!r}, stride={self.stride!r})"

    def forward(self, X: NDArray[Any]) -> NDArray[Any]:
        """Pool ``X`` of shape ``(N, C, H, W)``, keeping what ``backward`` needs.

        Parameters
        ----------
        X : numpy.ndarray
            Shape ``(N, *X_dim)``, of a float (float16/32/64) or integer
            (int8/16/32/64, uint8) dtype. Not modified.

        Returns
        -------
        numpy.ndarray
            Shape ``(N, C, h_out, w_out)`` and ``X``'s dtype: the maximum of
            every window (the first one on ties, NaN if the window holds one).

        Raises
        ------
        TypeError
            ``X`` is not a plain ``numpy.ndarray`` or its dtype is not supported.
        ValueError
            ``X.shape`` is not ``(N, *X_dim)``.
        """
        X = check_array(X, "X", "Maxpool.forward", FORWARD_DTYPES)
        if X.ndim != 4 or X.shape[1:] != (self.d_X, self.h_X, self.w_X):
            msg = (
                f"Maxpool.forward: X must have shape (N, {self.d_X}, {self.h_X}, {self.w_X}) "
                f"(N, *X_dim), got X.shape={X.shape}"
            )
            raise ValueError(msg)
        cols, self._index, rows, out_spatial = _pool_columns(X, self._params)
        self.n_X = X.shape[0]
        self._max_rows = rows
        self._n_rows = cols.shape[0]
        out = cols[rows.ravel(), np.arange(rows.size)]
        return out.reshape(X.shape[0], self.d_X, *out_spatial)

    def backward(self, dout: NDArray[Any]) -> tuple[NDArray[Any], list[NDArray[Any]]]:
        """Gradient of the last ``forward`` for ``dout``; returns ``(dX, [])``.

        Each ``dout`` element goes to the element its window selected;
        overlapping windows add up.

        Parameters
        ----------
        dout : numpy.ndarray
            The gradient of the last output, of its shape ``(n_X, *out_dim)``
            and a float dtype (float16/32/64).

        Returns
        -------
        dX : numpy.ndarray
            The gradient of the last ``X``: its shape and ``dout``'s dtype.
        grads : list
            ``[]``: a max-pool layer has no parameters (the tutorial's second
            return value).

        Raises
        ------
        RuntimeError
            ``forward`` has not run yet.
        TypeError
            ``dout`` is not a plain ``numpy.ndarray`` or its dtype is not a float.
        ValueError
            ``dout.shape`` is not the last output's shape.
        """
        rows, n_rows, n_X = self._max_rows, self._n_rows, self.n_X
        if rows is None or n_rows is None or n_X is None:  # all three are set by forward
            msg = "Maxpool.backward: called before forward(); run forward(X) first"
            raise RuntimeError(msg)
        dout = check_array(dout, "dout", "Maxpool.backward", BACKWARD_DTYPES)
        expected = (n_X, *self.out_dim)
        if dout.shape != expected:
            msg = f"Maxpool.backward: dout.shape={dout.shape} does not match the last output's shape {expected}"
            raise ValueError(msg)
        dX_col = np.zeros((n_rows, rows.size), dtype=np.float64)
        dX_col[rows.ravel(), np.arange(rows.size)] = dout.reshape(-1)
        shape = (n_X * self.d_X, 1, self.h_X, self.w_X)
        dX = _fold(dX_col, self._index, shape, "col2im")
        return dX.reshape(n_X, self.d_X, self.h_X, self.w_X).astype(dout.dtype), []
