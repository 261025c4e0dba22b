"""TensorFlow's ``tf.nn.fractional_max_pool``, for :func:`poolref.testing.check_fractional_sequences`."""

from __future__ import annotations

import numpy as np

from ._common import _import

__all__ = ["tensorflow_fractional"]


def tensorflow_fractional(pseudo_random: bool = False, overlapping: bool = False, seed: int = 0):
    """``tf.nn.fractional_max_pool`` on NHWC tensors, with its gradient from one ``GradientTape``.

    TF takes no samples: it draws the boundary sequences itself (``seed`` 0: a new draw every
    call; otherwise deterministic) and returns them, so the check compares its output with the
    maximum over the boundaries it reports (:func:`poolref.testing.check_fractional_sequences`).
    The gradient comes from the same tape as the forward, so it uses the same boundaries.

    Parameters
    ----------
    pseudo_random : bool, optional
        TF's ``pseudo_random`` (the ``ceil(alpha * (i + u))`` sequence; default: a shuffled one).
    overlapping : bool, optional
        TF's ``overlapping`` (each window also holds the next window's first element).
    seed : int, optional
        TF's ``seed``.

    Returns
    -------
    callable
        ``run(x, pooling_ratio, grad_output) -> (y, rows, cols, grad)``, NCHW in and out.

    Raises
    ------
    AdapterUnavailable
        If TensorFlow is not installed.
    """
    tf = _import("tensorflow", "tensorflow", "pip install tensorflow (or tensorflow-cpu)")

    def run(x, pooling_ratio, grad_output=None):
        t = tf.constant(np.ascontiguousarray(np.moveaxis(x, 1, -1)))
        ratio = [1.0, *(float(r) for r in pooling_ratio), 1.0]
        with tf.GradientTape() as tape:
            tape.watch(t)
            y, rows, cols = tf.nn.fractional_max_pool(
                t, ratio, pseudo_random=pseudo_random, overlapping=overlapping, seed=seed
            )
        grad = None
        if grad_output is not None:
            g = tf.constant(np.ascontiguousarray(np.moveaxis(grad_output, 1, -1)))
            grad = np.moveaxis(tape.gradient(y, t, output_gradients=g).numpy(), -1, 1).copy()
        return np.moveaxis(y.numpy(), -1, 1).copy(), rows.numpy(), cols.numpy(), grad

    return run
