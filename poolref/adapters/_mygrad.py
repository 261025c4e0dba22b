"""mygrad: ``mygrad.nnet.max_pool`` and mygrad's autograd."""

from __future__ import annotations

import numpy as np

from ..testing import ALL_DTYPES, Behaviour, Candidate, Support
from ._common import _import, _source

#: mygrad's documented and observed rules (docs/adapters.md): the index is
#: ``np.argmax`` over the window (ties: first, NaN: the *first* NaN) and the
#: value is ``np.max`` of the window, whose sign of a ``-0.0``/``+0.0`` tie is
#: not the selected element's.
MYGRAD = Behaviour(nan="first", signed_zero="any")


def mygrad() -> Candidate:
    """``mygrad.nnet.max_pool(x, pool, stride)`` and ``Tensor.backward``.

    mygrad pools the trailing ``len(pool)`` axes of any array, so batched and
    unbatched input both work. Its documentation allows only windows that
    fit inside the input ("the pooling window cannot extend passed the
    boundaries"), and it raises unless they tile it exactly: declared as no
    padding, dilation or ``ceil_mode`` and ``exact_fit=True``. No indices.

    Returns
    -------
    Candidate
        Ready for :func:`poolref.testing.check_max_pool` or ``poolref verify``.
    """
    mg = _import("mygrad", "mygrad", "pip install mygrad (or poolref[mygrad])")
    max_pool = mg.nnet.max_pool

    def forward(x, kernel_size, stride, padding, dilation, ceil_mode):
        return np.asarray(max_pool(x, tuple(kernel_size), tuple(stride), constant=True).data)

    def backward(grad_output, x, kernel_size, stride, padding, dilation, ceil_mode):
        t = mg.Tensor(x.copy())
        max_pool(t, tuple(kernel_size), tuple(stride)).backward(grad_output)
        return np.asarray(t.grad)

    support = Support(
        dtypes=ALL_DTYPES,
        padding=False,
        dilation=False,
        ceil_mode=False,
        indices=False,
        exact_fit=True,
    )
    return Candidate(
        forward,
        backward,
        support,
        MYGRAD,
        name=f"mygrad {mg.__version__} nnet.max_pool",
        source=_source("mygrad"),
    )
