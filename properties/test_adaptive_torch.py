"""Adaptive max pooling against PyTorch (CPU): values, indices and gradients.

torch implements adaptive max pooling for floating dtypes only, so the integer dtypes
are checked against the oracle alone (``test_adaptive.py``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import poolref
from poolref import strategies as ps

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch
FLOATS = [np.dtype(t) for t in ("float64", "float32", "float16")]


@given(ps.adaptive_cases(dtypes=FLOATS), st.randoms(use_true_random=False))
def test_values_indices_and_gradients_equal_torch(case, random):
    fn = getattr(torch.nn.functional, f"adaptive_max_pool{case.nd}d")
    t = torch.from_numpy(np.array(case.x, copy=True)).requires_grad_()
    size = case.output_size
    if case.nd == 1:  # torch's 1-D form takes no None (2-D and 3-D do)
        size = tuple(case.x.shape[-1] if v is None else v for v in size)
    ty, ti = fn(t, size, return_indices=True)
    y, i = getattr(poolref, f"adaptive_max_pool{case.nd}d")(
        case.x, case.output_size, return_indices=True
    )
    assert np.array_equal(y.view(np.uint8), ty.detach().numpy().view(np.uint8))
    np.testing.assert_array_equal(i, ti.numpy())
    # small integer gradients: every sum is exact, so float64-then-cast equals torch's order
    g = np.array([random.randint(-3, 3) for _ in range(y.size)], dtype=y.dtype).reshape(y.shape)
    ty.backward(torch.from_numpy(g))
    grad = getattr(poolref, f"adaptive_max_pool{case.nd}d_backward")(g, case.x, case.output_size)
    np.testing.assert_array_equal(grad, t.grad.numpy())
