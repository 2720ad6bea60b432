"""GAN evaluation metrics: FID, KID, Inception/classifier score, precision and recall.

Why this module exists: notebook 08 derives these metrics from their formulas;
afterwards every notebook and the results report (``genlab.report``) call the
same tested implementations. The math goes through TF-GAN's eval functions
(``genlab.tfgan``) where TF-GAN has them; precision/recall is written here.

Every metric takes images or features::

    from genlab import metrics
    fid = metrics.frechet_distance(real_images, fake_images, extractor="mnist")
    print(fid)        # FID = 3.42 (N=1,000 real / 1,000 generated, extractor=mnist)
    float(fid)        # 3.42

2-D arrays are precomputed features (or logits for the scores); 3-D (grey,
N x H x W) or 4-D arrays are images whose features come from ``extractor``
(a name for :func:`genlab.features.get_extractor`, or an extractor object).
Each result records N and the extractor, because FID depends on both: compare
numbers only at the same N with the same extractor.
"""

import dataclasses
from typing import NamedTuple, Optional

import numpy as np

from genlab import features as _features
from genlab import quiet  # noqa: F401  (silences TF before it is imported)


@dataclasses.dataclass(frozen=True)
class MetricResult:
    """One measured metric value, with the sample sizes and extractor that produced it.

    Behaves like a float (``float(r)``, ``f"{r:.2f}"``, ``r < 5``) and prints readably.
    """

    metric: str
    value: float
    n_real: Optional[int]
    n_generated: int
    extractor: str
    std: Optional[float] = None

    def __float__(self):
        return float(self.value)

    def __format__(self, spec):
        return format(self.value, spec) if spec else repr(self)

    def __lt__(self, other):
        return float(self) < float(other)

    def __le__(self, other):
        return float(self) <= float(other)

    def __gt__(self, other):
        return float(self) > float(other)

    def __ge__(self, other):
        return float(self) >= float(other)

    def __repr__(self):
        spread = f" +/- {self.std:.3g}" if self.std is not None else ""
        sizes = (f"N={self.n_real:,} real / {self.n_generated:,} generated"
                 if self.n_real is not None else f"N={self.n_generated:,}")
        return f"{self.metric} = {self.value:.4g}{spread} ({sizes}, extractor={self.extractor})"

    def as_dict(self):
        """The fields as a plain dict (for tables and JSON)."""
        return dataclasses.asdict(self)


class PrecisionRecall(NamedTuple):
    """``precision, recall = metrics.precision_recall(real, fake)``."""

    precision: MetricResult
    recall: MetricResult


def extract(x, extractor="mnist", batch_size=256, value_range="auto", progress=None, logits=False,
            manifold=False):
    """Features (or logits) of images; 2-D input is returned as precomputed features.

    ``logits=True``: the class logits (IS). ``manifold=True``: the unit-length
    conv features that precision/recall use (:mod:`genlab.features`).

    Returns:
        (array float64 (N, D), extractor label for reports).
    """
    x = np.asarray(x)
    if x.ndim == 2:
        return x.astype(np.float64), "precomputed"
    if x.ndim not in (3, 4):
        raise ValueError(f"expected features (N, D) or images (N, H, W[, C]), got shape {x.shape}")
    model = _features.get_extractor(extractor)
    if manifold:
        values = model.manifold_features(x, batch_size=batch_size, value_range=value_range, progress=progress)
        return values.astype(np.float64), model.name
    feats, logit_values = model.run(x, batch_size=batch_size, value_range=value_range, progress=progress)
    return (logit_values if logits else feats).astype(np.float64), model.name


def _pair(real, generated, extractor, batch_size, value_range, progress, manifold=False):
    real_f, real_name = extract(real, extractor, batch_size, value_range, progress, manifold=manifold)
    gen_f, gen_name = extract(generated, extractor, batch_size, value_range, progress, manifold=manifold)
    if real_f.shape[1] != gen_f.shape[1]:
        raise ValueError(f"feature sizes differ: real {real_f.shape}, generated {gen_f.shape}")
    if min(len(real_f), len(gen_f)) < 2:
        raise ValueError("need at least 2 real and 2 generated samples")
    names = {real_name, gen_name} - {"precomputed"}
    return real_f, gen_f, (names.pop() if names else "precomputed")


def frechet_distance(real, generated, extractor="mnist", batch_size=256, value_range="auto", progress=None):
    """Fréchet (Inception) Distance between Gaussians fitted to real and generated features.

    The squared 2-Wasserstein (Fréchet) distance between the two Gaussians:
    FID = |mu_r - mu_g|^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2)); 0 for identical
    distributions, lower is better. Biased upwards at small N.
    """
    import tensorflow as tf

    from genlab.tfgan import tfgan_eval

    real_f, gen_f, name = _pair(real, generated, extractor, batch_size, value_range, progress)
    value = tfgan_eval.frechet_classifier_distance_from_activations(
        tf.constant(real_f, tf.float64), tf.constant(gen_f, tf.float64))
    return MetricResult("FID", max(float(value), 0.0), len(real_f), len(gen_f), name)


def kernel_distance(real, generated, extractor="mnist", subset_size=1000, seed=0, batch_size=256,
                    value_range="auto", progress=None):
    """Kernel Inception Distance: unbiased squared MMD with the cubic polynomial kernel.

    The samples are shuffled (``np.random.default_rng(seed).permutation``,
    real first) and split into disjoint subsets of at most ``subset_size``
    (TF-GAN's block estimator); the value is the mean over subsets and ``std``
    its standard error (None with one subset). Unbiased: about 0, possibly
    slightly negative, for samples from one distribution, even at small N.
    """
    import tensorflow as tf

    from genlab.tfgan import tfgan_eval

    real_f, gen_f, name = _pair(real, generated, extractor, batch_size, value_range, progress)
    rng = np.random.default_rng(seed)
    real_f, gen_f = real_f[rng.permutation(len(real_f))], gen_f[rng.permutation(len(gen_f))]
    value, std = tfgan_eval.kernel_classifier_distance_and_std_from_activations(
        tf.constant(real_f, tf.float64), tf.constant(gen_f, tf.float64), max_block_size=subset_size)
    std = float(std)
    return MetricResult("KID", float(value), len(real_f), len(gen_f), name,
                        std=None if np.isnan(std) else std)


def classifier_score(images, extractor="mnist", splits=10, seed=0, batch_size=256,
                     value_range="auto", progress=None):
    """Inception/classifier score exp(E_x KL(p(y|x) || p(y))), mean over ``splits``.

    Between 1 and the number of classes; higher is better (confident
    predictions and all classes present). Published IS uses InceptionV3 and
    10 splits. A 2-D input is taken as logits. The samples are shuffled
    (``np.random.default_rng(seed).permutation``) before splitting, so a
    class-sorted set is scored fairly. ``std`` is the spread over splits.
    """
    from genlab.tfgan import tfgan_eval

    logits, name = extract(images, extractor, batch_size, value_range, progress, logits=True)
    if not 1 <= splits <= len(logits):
        raise ValueError(f"splits must be between 1 and N={len(logits)}, got {splits}")
    logits = logits[np.random.default_rng(seed).permutation(len(logits))]
    scores = [float(tfgan_eval.classifier_score_from_logits(part))
              for part in np.array_split(logits, splits)]
    return MetricResult("IS", float(np.mean(scores)), None, len(logits), name,
                        std=float(np.std(scores)) if splits > 1 else None)


def inception_score(images, extractor="inception", splits=10, **kwargs):
    """The Inception Score proper (InceptionV3; needs its weights, e.g. on Colab).

    Offline, use :func:`classifier_score` with the shipped MNIST classifier.
    """
    return classifier_score(images, extractor=extractor, splits=splits, **kwargs)


def _squared_distances(a, b):
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(sq, 0.0)


def _knn_radii(x, k, block):
    """Squared distance from each point to its k-th nearest other point."""
    radii = np.empty(len(x))
    for start in range(0, len(x), block):
        d = _squared_distances(x[start:start + block], x)
        radii[start:start + block] = np.partition(d, k, axis=1)[:, k]  # column 0 is the point itself
    return radii


_RADII_CACHE = {}


def _knn_radii_cached(x, k, block):
    """:func:`_knn_radii`, remembered for the last few sets: one evaluation compares three sets
    (samples, floor, ceiling) with the same real features, whose radii are half its cost at N = 10,000."""
    import hashlib

    key = (x.shape, k, hashlib.blake2b(np.ascontiguousarray(x).tobytes(), digest_size=16).hexdigest())
    if key not in _RADII_CACHE:
        if len(_RADII_CACHE) >= 4:
            _RADII_CACHE.pop(next(iter(_RADII_CACHE)))
        _RADII_CACHE[key] = _knn_radii(x, k, block)
    return _RADII_CACHE[key]


def _limit(radii):
    return radii * (1 + 1e-9) + 1e-12  # tolerance: duplicates and rounding


def _fraction_inside(points, centres, radii, block):
    """Fraction of ``points`` inside at least one ball (centre, radius)."""
    inside = np.zeros(len(points), dtype=bool)
    limit = _limit(radii)
    for start in range(0, len(points), block):
        d = _squared_distances(points[start:start + block], centres)
        inside[start:start + block] = (d <= limit[None, :]).any(axis=1)
    return float(inside.mean())


def _inside_both_ways(generated, real, gen_radii, real_radii, block):
    """(fraction of generated points in the real balls, fraction of real points in the generated balls).

    The same as two calls of :func:`_fraction_inside`, from one pass over the cross distances.
    """
    gen_inside = np.zeros(len(generated), dtype=bool)
    real_inside = np.zeros(len(real), dtype=bool)
    real_limit, gen_limit = _limit(real_radii), _limit(gen_radii)
    for start in range(0, len(generated), block):
        d = _squared_distances(generated[start:start + block], real)
        gen_inside[start:start + block] = (d <= real_limit[None, :]).any(axis=1)
        real_inside |= (d <= gen_limit[start:start + block, None]).any(axis=0)
    return float(gen_inside.mean()), float(real_inside.mean())


def precision_recall(real, generated, extractor="mnist", k=3, block=1024, batch_size=256,
                     value_range="auto", progress=None):
    """Improved precision and recall (Kynkaanniemi et al., 2019) with k-NN manifolds.

    Each sample set's manifold is the union of balls around its points, each
    reaching that point's k-th nearest neighbour. Precision: fraction of
    generated samples inside the real manifold (quality). Recall: fraction of
    real samples inside the generated manifold (diversity). TF-GAN has no
    such metric (it predates the paper), so it is written here in NumPy,
    blockwise so 10,000 x 10,000 distances never sit in memory at once.

    Images are compared on the extractor's *manifold* features (the
    classifier's conv features scaled to unit length), not on FID's 128-d
    features, on which uniform noise scores precision 1.0 (why:
    :mod:`genlab.features`; notebook 08 measures it). 2-D arrays are used as
    given.
    """
    real_f, gen_f, name = _pair(real, generated, extractor, batch_size, value_range, progress, manifold=True)
    if k >= min(len(real_f), len(gen_f)):
        raise ValueError(f"k={k} needs more than k samples in each set")
    precision, recall = _inside_both_ways(gen_f, real_f, _knn_radii(gen_f, k, block),
                                          _knn_radii_cached(real_f, k, block), block)
    n_r, n_g = len(real_f), len(gen_f)
    return PrecisionRecall(MetricResult("precision", precision, n_r, n_g, name),
                           MetricResult("recall", recall, n_r, n_g, name))
