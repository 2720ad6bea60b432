"""Mode coverage is counted right on hand-made samples (genlab.gan.coverage)."""

import numpy as np
import pytest

from genlab import data
from genlab.gan import coverage

CENTRES = data.ring_centres(8, radius=2.0)


def test_ring_coverage_counts_hand_made_samples():
    # two samples on mode 0, one on mode 3, one 0.1 off mode 5 (inside 3 x 0.05), one far from all
    samples = np.array([CENTRES[0], CENTRES[0] + [0.01, 0.0], CENTRES[3], CENTRES[5] + [0.0, 0.1], [0.0, 0.0]])
    result = coverage.ring_coverage(samples, CENTRES, std=0.05, k=3)
    assert result.counts.tolist() == [2, 0, 0, 1, 0, 1, 0, 0]
    assert result.covered == 3 and result.modes == 8 and result.share == 3 / 8
    assert result.hits == pytest.approx(4 / 5)


def test_ring_coverage_radius_and_min_count():
    samples = np.array([CENTRES[1] + [0.2, 0.0]])
    assert coverage.ring_coverage(samples, CENTRES, std=0.05, k=3).covered == 0     # 0.2 > 0.15
    assert coverage.ring_coverage(samples, CENTRES, std=0.05, k=5).covered == 1     # 0.2 <= 0.25
    everywhere = np.repeat(CENTRES, 2, axis=0)
    assert coverage.ring_coverage(everywhere, CENTRES, std=0.05).covered == 8
    assert coverage.ring_coverage(everywhere, CENTRES, std=0.05, min_count=3).covered == 0


def test_real_ring_samples_cover_every_mode():
    result = coverage.ring_coverage(data.ring_of_gaussians(2000, std=0.05, seed=1), CENTRES, std=0.05)
    assert result.covered == 8 and result.hits > 0.98   # 2-D: 1 - exp(-9/2) = 98.9 % lie within 3 sigma


def test_class_coverage_needs_confidence():
    probabilities = np.full((4, 10), 0.01)
    probabilities[0, 2] = probabilities[1, 2] = 0.91
    probabilities[2, 7] = 0.95
    probabilities[3, 4] = 0.5                       # unsure: counts for no class
    result = coverage.class_coverage(probabilities, threshold=0.9)
    assert result.counts[2] == 2 and result.counts[7] == 1 and result.counts.sum() == 3
    assert result.covered == 2 and result.share == pytest.approx(0.2) and result.hits == pytest.approx(0.75)


def test_bad_arguments():
    with pytest.raises(ValueError):
        coverage.ring_coverage(np.zeros((3, 3)), CENTRES, std=0.05)
    with pytest.raises(ValueError):
        coverage.ring_coverage(np.zeros((3, 2)), CENTRES, std=0.0)
