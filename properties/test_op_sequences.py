"""check_fractional_sequences: the boundary sequences TensorFlow reports are checked for their own
invariants, and the pooling over them against a max over those boundaries."""

from __future__ import annotations

import math

import numpy as np
import pytest

from poolref.testing import check_fractional_sequences
from poolref.testing._sequences import max_pool_boundaries, sequence_problems


def _pseudo_random(n, out, u):
    alpha = n / out
    return [0, *(math.ceil(alpha * (i + u)) - 1 for i in range(1, out)), n]


def test_sequence_invariants():
    assert sequence_problems([0, 2, 3, 5], 5, 3, pseudo_random=False) == []
    assert "runs from 1" in sequence_problems([1, 2, 3, 5], 5, 3, False)[0]
    assert "steps" in sequence_problems([0, 3, 4, 5], 5, 3, False)[0]
    assert "entries" in sequence_problems([0, 5], 5, 3, False)[0]
    # u = 0 with an integer alpha gives a step of 0 (TF draws u in [0, u_max): almost never 0)
    assert "steps [0, 1, 1, 2]" in sequence_problems(_pseudo_random(4, 4, 0.0), 4, 4, True)[0]


@pytest.mark.parametrize(("n", "out"), [(5, 3), (23, 10), (10, 9), (7, 2), (9, 3)])
def test_the_pseudo_random_formula_is_recognised(n, out):
    alpha, k = n / out, n // out
    u_max = min((k + 2) / alpha - 1, (n + 1 - k) / alpha - (out - 1))
    for u in np.linspace(0, u_max, 7, endpoint=False)[1:]:
        assert sequence_problems(_pseudo_random(n, out, u), n, out, True) == []
    shuffled = [0, *np.cumsum([k + 1] * (n % out) + [k] * (out - n % out))]
    if shuffled != _pseudo_random(n, out, 0.0) and n % out:
        problems = sequence_problems(shuffled, n, out, True)
        assert problems == [] or "for any one u" in problems[0]


def test_max_pool_boundaries_windows():
    x = np.arange(20.0).reshape(1, 1, 4, 5)
    y, idx = max_pool_boundaries(x, [0, 2, 4], [0, 3, 5], overlapping=False)
    assert y.tolist() == [[[[7.0, 9.0], [17.0, 19.0]]]] and idx.tolist() == [[[[7, 9], [17, 19]]]]
    y, _ = max_pool_boundaries(x, [0, 1, 4], [0, 2, 5], overlapping=True)  # also the next start
    assert y.tolist() == [[[[7.0, 9.0], [17.0, 19.0]]]]


def _fake(pseudo_random, overlapping, shift=0):
    """A fractional pool that draws boundaries like TF, written with poolref's reference."""
    rng = np.random.default_rng(0)

    def run(x, ratio, g):
        seqs = []
        for n, r in zip(x.shape[2:], ratio):
            out = int(n // r)
            k = n // out
            steps = [k + 1] * (n % out) + [k] * (out - n % out)
            if pseudo_random:
                seq = _pseudo_random(n, out, 0.3 * min((k + 2) / (n / out) - 1, 1.0))
            else:
                seq = [0, *np.cumsum(rng.permutation(steps)).tolist()]
            seqs.append(seq)
        y, idx = max_pool_boundaries(x, seqs[0], [v + shift for v in seqs[1]], overlapping)
        return y, seqs[0], seqs[1], None

    return run


def test_a_correct_pool_passes_and_wrong_windows_fail():
    for pr in (False, True):
        s = check_fractional_sequences(
            _fake(pr, False), pseudo_random=pr, overlapping=False, n_cases=30
        )
        assert s.verdict == "PASS", s.failed[0].report
    s = check_fractional_sequences(
        _fake(False, False), pseudo_random=False, overlapping=True, n_cases=30
    )
    assert [d.check for d in s.failed] == ["values"]


@pytest.mark.slow
def test_tensorflow_fractional():
    pytest.importorskip("tensorflow")
    from poolref.adapters import tensorflow_fractional

    for pr in (False, True):
        s = check_fractional_sequences(
            tensorflow_fractional(pr, True, seed=7), pseudo_random=pr, overlapping=True, n_cases=20
        )
        # TF 2.21: the forward and its sequences are right; its gradient refuses ratio 1
        # ("Pooling region has more elements than the input tensor", docs/findings.md)
        assert [d.check for d in s.failed] == ["forward raised"]
        assert "Pooling region has more elements" in s.failed[0].detail
