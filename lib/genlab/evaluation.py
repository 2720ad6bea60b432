"""The one evaluation protocol: a model's samples next to the real floor and the noise ceiling, at one N.

Why it exists: an FID means something only beside the FID of real images
against real images (the floor) and of noise against real images (the
ceiling), measured in the same feature space at the same N. The report,
the benchmark and notebooks 05 and 08 all call :func:`evaluate`, so no figure
is computed twice in two slightly different ways. The metrics themselves
are :mod:`genlab.metrics` (notebook 08 derives them).

The standard, as in the papers a student compares with: N = 10,000 samples
against the 10,000 MNIST test digits, the floor being 10,000 training digits
and the ceiling 10,000 images of uniform noise (:data:`STANDARD_N`). A smaller
N gives other values (FID is biased upwards at small N), so figures are
compared only at one N; quick mode may use :data:`QUICK_N` and says so.

Example::

    from genlab import evaluation
    result = evaluation.evaluate(samples, dataset="mnist", seed=42)   # N = 10,000
    print(result)                       # a table: samples, floor, ceiling x FID, KID, IS, P, R
    float(result["samples"]["FID"])     # one value
"""

import dataclasses

import numpy as np

from genlab import data, features, metrics, quiet  # noqa: F401  (quiet: TensorFlow without its start-up logs)

STANDARD_N = 10_000   # the whole MNIST test set
QUICK_N = 1_000       # quick mode's smaller evaluations (and the tests' reproductions of shipped figures)
EXTRACTOR_FOR = {"mnist": "mnist", "fashion_mnist": "fashion_mnist"}
METRICS = ("FID", "KID", "IS", "precision", "recall")
SAMPLES, FLOOR, CEILING = "samples", "real train (floor)", "uniform noise (ceiling)"


def mode_n(mode=None):
    """The N a notebook evaluates at: :data:`QUICK_N` in quick mode, :data:`STANDARD_N` in full mode."""
    from genlab import config

    return config.pick(quick=QUICK_N, full=STANDARD_N, mode=mode)


def references(dataset, n, seed=0):
    """``(reference, floor, noise)``: uint8 sets of the same N for one evaluation.

    reference: N test images (all 10,000 at the standard N), floor: N training
    images (disjoint from the reference), both drawn at random with ``seed``
    from the whole standard split; noise: N images of uniform random pixels.
    N is capped by the test split.
    """
    (x_train, _), (x_test, _) = data.load(dataset, mode="full")
    rng = np.random.default_rng(seed)
    n = min(int(n), len(x_test), len(x_train))
    reference = x_test[rng.permutation(len(x_test))[:n]]
    floor = x_train[rng.permutation(len(x_train))[:n]]
    noise = rng.integers(0, 256, reference.shape, dtype=np.uint8)
    return reference, floor, noise


def feature_sets(images, extractor):
    """All features the metrics use, from one pass of the extractor: a dict of 2-D float64 arrays.

    "features" (FID, KID), "logits" (IS) and "manifold" (unit-length conv
    features: precision and recall, :mod:`genlab.features` says why).
    """
    model = features.get_extractor(extractor)
    feats, logits, manifold = model.run(images, manifold=True)
    return dict(features=feats.astype(np.float64), logits=logits.astype(np.float64),
                manifold=features.l2_normalize(manifold).astype(np.float64), name=model.name)


def measure(images, reference, extractor, which=METRICS):
    """The metrics in ``which`` for ``images`` against ``reference``, as MetricResults (in order).

    ``images`` and ``reference`` are image arrays, or dicts from :func:`feature_sets`
    (to extract a reference once for several sets).
    """
    unknown = set(which) - set(METRICS)
    if unknown:
        raise ValueError(f"unknown metrics {sorted(unknown)}; choose from {METRICS}")
    real = reference if isinstance(reference, dict) else feature_sets(reference, extractor)
    fake = images if isinstance(images, dict) else feature_sets(images, extractor)
    results = {}
    if "FID" in which:
        results["FID"] = metrics.frechet_distance(real["features"], fake["features"])
    if "KID" in which:
        results["KID"] = metrics.kernel_distance(real["features"], fake["features"])
    if "IS" in which:
        results["IS"] = metrics.classifier_score(fake["logits"])
    if "precision" in which or "recall" in which:
        results["precision"], results["recall"] = metrics.precision_recall(real["manifold"], fake["manifold"])
    return [dataclasses.replace(results[key], extractor=fake["name"]) for key in which]


@dataclasses.dataclass
class Evaluation:
    """What :func:`evaluate` returns: ``result[label][metric]`` is a MetricResult.

    Labels: "samples", "real train (floor)", "uniform noise (ceiling)".
    """

    dataset: str
    extractor: str
    n: int
    values: dict

    def __getitem__(self, label):
        return self.values[label]

    def rows(self, model="samples"):
        """One dict per (set, metric), the samples' set named ``model`` (for reports and JSON)."""
        return [dict(model=model if label == SAMPLES else label, dataset=self.dataset, metric=metric,
                     extractor=self.extractor, n=self.n, value=float(result), std=result.std)
                for label, by_metric in self.values.items() for metric, result in by_metric.items()]

    def __str__(self):
        metrics_ = list(next(iter(self.values.values())))
        lines = [f"N={self.n:,} per set, {self.extractor} features, against held-out {self.dataset} images",
                 f"{'':<24}" + "".join(f"{m:>11}" for m in metrics_)]
        for label, by_metric in self.values.items():
            lines.append(f"{label:<24}" + "".join(f"{float(by_metric[m]):>11.4g}" for m in metrics_))
        return "\n".join(lines)

    __repr__ = __str__


def evaluate(images, dataset="mnist", n=STANDARD_N, seed=0, which=METRICS, references_too=True, extractor=None):
    """Measure ``images`` (uint8, or floats in [-1, 1]) with the floor and ceiling at the same N.

    Args:
        images: generated images, at least ``n`` of them (the first ``n`` are used).
        dataset: "mnist" or "fashion_mnist": the real images and the extractor.
        n: samples per set (default the standard 10,000); capped by the test split.
        seed: chooses the real subsets and the noise.
        which: the metrics, a subset of :data:`METRICS`.
        references_too: also measure the floor and the ceiling (False: samples only).
        extractor: a feature extractor name or object (default: the dataset's classifier).
    """
    if dataset not in EXTRACTOR_FOR:
        raise ValueError(f"dataset must be one of {tuple(EXTRACTOR_FOR)}, got {dataset!r}")
    reference, floor, noise = references(dataset, n, seed)
    images = np.asarray(images)
    if len(images) < len(reference):
        raise ValueError(f"need at least {len(reference)} generated images, got {len(images)}")
    extractor = extractor or EXTRACTOR_FOR[dataset]
    sets = {SAMPLES: images[:len(reference)]}
    if references_too:
        sets.update({FLOOR: floor, CEILING: noise})
    real = feature_sets(reference, extractor)   # once, for every set
    values = {label: dict(zip(which, measure(feature_sets(x, extractor), real, extractor, which)))
              for label, x in sets.items()}
    name = next(iter(values[SAMPLES].values())).extractor
    return Evaluation(dataset, name, len(reference), values)


def remeasure_shipped(name, model=None, which=METRICS, references_too=True, record="evaluation_check"):
    """A shipped model's recorded evaluation again, with that record's N and seed.

    ``record``: "evaluation_check" (N = 1,000: what each family's test reproduces
    quickly) or "evaluation" (the standard N = 10,000: the slow tests).
    ``model``: the loaded model, if the caller has it.
    """
    from genlab import pretrained, registry

    recorded = pretrained.info(name)[record]
    entry = registry.get(name)
    model = pretrained.load(name) if model is None else model
    samples = entry.module().sampler(model)(recorded["n"], seed=recorded["seed"])
    return evaluate(samples, entry.dataset, n=recorded["n"], seed=recorded["seed"], which=which,
                    references_too=references_too)
