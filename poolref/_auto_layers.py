"""The ``poolref.MaxPool1d/2d/3d`` layers: :mod:`poolref.fast`'s, on the active backend.

Under the ``"jit"`` backend (:func:`poolref.backend`, numba installed) ``forward`` runs the
compiled kernel with indices and keeps them (int32 where a plane has fewer than 2**31
elements: 4 bytes per output), and ``backward`` scatters by them with the compiled kernel.
Under ``"numpy"`` they are :mod:`poolref.fast`'s layers exactly (one tap code per output, one
byte for kernels of up to 255 taps). The backend is chosen at each ``forward``; ``backward``
follows whatever that ``forward`` kept. float16 always takes the NumPy path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import _backend, fast

__all__ = ["MaxPool1d", "MaxPool2d", "MaxPool3d"]

#: the largest plane whose flat indices fit int32
_INT32_PLANE = 2**31 - 1


class _OnTheActiveBackend(fast._MaxPoolNd):
    """Mixed in before a :mod:`poolref.fast` layer: its forward and backward on the active backend."""

    def _pool_and_save(self, xb: NDArray[Any], out_spatial: tuple[int, ...]):
        if xb.dtype == np.float16 or _backend.active() != "jit":
            return super()._pool_and_save(xb, out_spatial)
        plane = int(np.prod(xb.shape[2:], dtype=np.int64))
        index_dtype = np.int32 if plane <= _INT32_PLANE else np.int64
        return _backend._jit_cores()._forward(xb, self.params, True, index_dtype)

    def _backward_saved(self, gb: NDArray[Any], saved, input_shape: tuple[int, ...]):
        if saved.dtype.kind == "u":  # the NumPy path's unsigned tap codes
            return super()._backward_saved(gb, saved, input_shape)
        return _backend._jit_cores()._backward_from_indices(gb, saved, input_shape, self.params)


def _doc(layer: type) -> str:  # pragma: no mutate
    # the NumPy layer's text, with the import and the bytes kept made backend-neutral
    text = (layer.__doc__ or "").replace("from poolref.fast import", "from poolref import")
    text = text.replace(
        ">>> layer.saved_nbytes                            # one byte per output element\n4\n",
        "",
    )
    return text.replace(
        "``forward(x)`` returns the same values as",
        "Under the jit backend (numba installed) the compiled kernels run and ``forward``\n"
        "keeps int32 indices instead (4 bytes per output element).\n"
        "``forward(x)`` returns the same values as",
        1,
    )


class MaxPool1d(_OnTheActiveBackend, fast.MaxPool1d):
    __doc__ = _doc(fast.MaxPool1d)


class MaxPool2d(_OnTheActiveBackend, fast.MaxPool2d):
    __doc__ = _doc(fast.MaxPool2d)


class MaxPool3d(_OnTheActiveBackend, fast.MaxPool3d):
    __doc__ = _doc(fast.MaxPool3d)
