"""Mode coverage: how many of the data's modes a generator's samples hit.

Why it exists: a collapsed generator can have a low loss and sharp samples
while drawing only a few kinds of thing, and an FID mixes that up with blur.
Counting modes makes collapse visible on its own. Two data sets have modes
you can count: the ring of 8 Gaussians (:func:`genlab.data.ring_of_gaussians`),
where a sample hits the nearest centre if it lies within ``k`` standard
deviations of it (the usual 3-sigma rule of Metz et al. 2017 and Srivastava
et al. 2017), and MNIST, where the project's classifier names a sample's class
if it is confident enough. Notebooks 04 and 07 count with these functions;
:class:`genlab.gan.monitor.TrainingMonitor` plots them over training.

Example::

    from genlab import data
    from genlab.gan import coverage
    result = coverage.ring_coverage(samples, data.ring_centres(), std=0.05)
    result.covered, result.share, result.counts
"""

import dataclasses

import numpy as np


@dataclasses.dataclass
class Coverage:
    """What the counting functions return.

    Attributes:
        counts: int array (modes,): samples assigned to each mode.
        covered: number of modes with at least ``min_count`` samples.
        modes: number of modes.
        hits: share of the samples assigned to some mode (the rest are off every
            mode: too far from every centre, or not confidently any class).
        share: ``covered / modes``.
    """

    counts: np.ndarray
    covered: int
    modes: int
    hits: float

    @property
    def share(self):
        return self.covered / self.modes

    def __str__(self):
        return (f"{self.covered} of {self.modes} modes covered; {self.hits:.0%} of samples on a mode; "
                f"counts {self.counts.tolist()}")


def _summarise(assigned, modes, min_count):
    """``assigned``: mode index per sample, -1 for none."""
    if min_count < 1:
        raise ValueError(f"min_count must be at least 1, got {min_count}")
    assigned = np.asarray(assigned)
    counts = np.bincount(assigned[assigned >= 0], minlength=modes)[:modes]
    hits = float(np.mean(assigned >= 0)) if len(assigned) else 0.0
    return Coverage(counts.astype(int), int(np.sum(counts >= min_count)), int(modes), hits)


def nearest_mode(samples, centres, radius):
    """Index of the nearest centre per sample, or -1 if that centre is farther than ``radius``.

    Args:
        samples: float (N, D) points.
        centres: float (modes, D) mode centres.
        radius: the largest distance that still counts as a hit.
    """
    samples = np.asarray(samples, np.float64)
    centres = np.asarray(centres, np.float64)
    if samples.ndim != 2 or centres.ndim != 2 or samples.shape[1] != centres.shape[1]:
        raise ValueError(f"samples (N, D) and centres (modes, D) must agree, got {samples.shape}, {centres.shape}")
    distances = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=-1)
    nearest = np.argmin(distances, axis=1)
    return np.where(distances[np.arange(len(samples)), nearest] <= radius, nearest, -1)


def ring_coverage(samples, centres, std, k=3.0, min_count=1):
    """Modes of a ring of Gaussians hit by ``samples``: within ``k * std`` of the nearest centre.

    Args:
        samples: float (N, 2) generated points.
        centres: float (modes, 2), e.g. :func:`genlab.data.ring_centres`.
        std: the standard deviation of each Gaussian of the real data.
        k: how many standard deviations count as a hit (3: "high-quality" samples).
        min_count: samples a mode needs to count as covered.
    """
    if std <= 0 or k <= 0:
        raise ValueError(f"std and k must be positive, got std={std}, k={k}")
    return _summarise(nearest_mode(samples, centres, k * std), len(centres), min_count)


def class_coverage(probabilities, threshold=0.9, min_count=1):
    """Classes hit by samples, from class probabilities (N, classes): confident predictions only.

    A sample counts for class c when the classifier gives c a probability of
    at least ``threshold``; unsure samples (blurry, half one digit and half
    another) count for none.
    """
    probabilities = np.asarray(probabilities, np.float64)
    if probabilities.ndim != 2:
        raise ValueError(f"probabilities must be (N, classes), got {probabilities.shape}")
    best = np.argmax(probabilities, axis=1)
    assigned = np.where(probabilities[np.arange(len(best)), best] >= threshold, best, -1)
    return _summarise(assigned, probabilities.shape[1], min_count)


def mnist_coverage(images, threshold=0.9, min_count=1, extractor="mnist"):
    """Digit classes hit by generated images, as named by the project's MNIST classifier.

    Args:
        images: uint8 (N, 28, 28[, 1]) or floats in [-1, 1].
        threshold: the classifier's smallest probability that names a class.
        min_count: samples a class needs to count as covered.
        extractor: the feature extractor whose logits classify (see :mod:`genlab.features`).
    """
    from genlab import features

    logits = features.get_extractor(extractor).logits(images)
    logits = logits - logits.max(axis=1, keepdims=True)
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return class_coverage(probabilities, threshold, min_count)
