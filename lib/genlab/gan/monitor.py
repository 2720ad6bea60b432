"""The GAN training monitor: D's accuracy on real and fake, G's gradient norm, FID and mode coverage, live.

Why it exists: the lecture's case study is diagnosed from four signals, and
a loss curve shows none of them directly: D's accuracy on real and on fake
images (near 1 and 1: D has won), the norm of G's gradient (near 0: G gets no
signal), the FID over time against its floor and ceiling at the same N (high
and flat: samples stay poor), and the share of modes the samples hit (low:
collapse). :class:`TrainingMonitor` is a Keras callback that records them and
redraws a 4-panel figure while training runs; it works with
``gan.train(..., callbacks=[monitor])`` (which passes each iteration's
``d_loss_real, d_loss_fake, d_acc, g_loss``) and with the experiment loop of
:mod:`genlab.gan.experiments` (which also passes ``d_acc_real``,
``d_acc_fake``, ``g_grad_norm`` and ``d_fake_prob``). Without an IPython
display (scripts, CI) it records and never draws. The evaluators measure
samples: :class:`RingEvaluator` (2-D points, Fréchet distance on their
distances to the ring's centres, and modes of the ring) and :class:`ImageEvaluator` (FID in the
MNIST classifier's features and classes covered), each with a real-vs-real
floor and a noise ceiling at the same N, computed once.

Example::

    from genlab.gan import monitor
    watch = monitor.TrainingMonitor(monitor.ImageEvaluator(n=500),
                                    sample=lambda n: generator.predict(noise[:n]), every=200)
    gan.train(generator, discriminator, combined, x_train, 2000, callbacks=[watch])
    watch.plot()
"""

import numpy as np

from genlab import data, metrics, quiet  # noqa: F401  (quiet: TensorFlow without its start-up logs)
from genlab.gan import coverage

import keras  # noqa: E402


class RingEvaluator:
    """Fréchet distance in a ring feature space, and modes covered, for samples of the ring of Gaussians.

    The features of a point are its distances to the 8 centres, the ring's
    analogue of a classifier's features for FID. On the raw coordinates a
    Gaussian fit cannot tell the ring from uniform noise (same mean, similar
    covariance: FD 0.24 against a floor of 0.002 at N=1,000); on the
    distances the noise ceiling is about 600 times the floor.

    Args:
        n: points per evaluation (samples, floor and ceiling alike).
        modes, radius, std: the ring (as :func:`genlab.data.ring_of_gaussians`).
        k: a sample hits a mode within ``k * std`` of its centre.
        min_count: samples a mode needs to count as covered (default 1 % of n, so
            uniform noise, which lands a few points near every centre, covers none).
        seed: chooses the reference, floor and ceiling sets.
    """

    metric = "FD"

    def __init__(self, n=1000, modes=8, radius=2.0, std=0.05, k=3.0, min_count=None, seed=0):
        self.n, self.modes, self.radius, self.std, self.k = int(n), modes, radius, std, k
        self.min_count = max(1, self.n // 100) if min_count is None else min_count
        self.centres = data.ring_centres(modes, radius)
        self.reference = self.features(data.ring_of_gaussians(self.n, modes, radius, std, seed=seed + 1))
        floor = data.ring_of_gaussians(self.n, modes, radius, std, seed=seed + 2)
        noise = np.random.default_rng(seed + 3).uniform(-radius * 1.5, radius * 1.5, (self.n, 2))
        self.floor = self(floor)
        self.ceiling = self(noise)

    def features(self, samples):
        """Distances (N, modes) of each point to each centre."""
        samples = np.asarray(samples, np.float64).reshape(len(samples), -1)
        return np.linalg.norm(samples[:, None, :] - self.centres[None, :, :], axis=-1)

    def __call__(self, samples):
        samples = np.asarray(samples, np.float64).reshape(len(samples), -1)[: self.n]
        covered = coverage.ring_coverage(samples, self.centres, self.std, self.k, self.min_count)
        return {self.metric: float(metrics.frechet_distance(self.reference, self.features(samples))),
                "covered": covered.covered, "modes": covered.modes, "hits": covered.hits}


class ImageEvaluator:
    """FID in the project classifier's features, and classes covered, for generated images.

    The reference, floor and ceiling are :func:`genlab.evaluation.references` at
    the same N (held-out digits; training digits; uniform noise), so the
    values are those of :func:`genlab.evaluation.evaluate`; features of the
    reference are computed once.

    Args:
        n: images per evaluation (at most the 1,000 held-out digits of the shipped subset).
        dataset: "mnist" or "fashion_mnist".
        threshold: classifier confidence that names a sample's class (coverage).
        min_count: samples a class needs to count as covered (default 1 % of n).
        seed: chooses the reference sets.
    """

    metric = "FID"

    def __init__(self, n=500, dataset="mnist", threshold=0.9, min_count=None, seed=0):
        from genlab import evaluation

        reference, floor, noise = evaluation.references(dataset, n, seed)
        self.n, self.dataset, self.threshold = len(reference), dataset, threshold
        self.min_count = max(1, self.n // 100) if min_count is None else min_count
        self.extractor = evaluation.EXTRACTOR_FOR[dataset]
        self.reference = metrics.extract(reference, self.extractor)[0]
        self.floor = self(floor)
        self.ceiling = self(noise)

    def __call__(self, images):
        from genlab import features

        images = np.asarray(images)
        if images.ndim == 2:                                # flat (N, 784) from an MLP generator
            side = int(round(np.sqrt(images.shape[1])))
            images = images.reshape(len(images), side, side)
        feats, logits = features.get_extractor(self.extractor).run(images[: self.n])
        logits = logits - logits.max(axis=1, keepdims=True)
        covered = coverage.class_coverage(np.exp(logits) / np.exp(logits).sum(1, keepdims=True), self.threshold,
                                           self.min_count)
        return {self.metric: float(metrics.frechet_distance(self.reference, feats.astype(np.float64))),
                "covered": covered.covered, "modes": covered.modes, "hits": covered.hits}


def _can_display():
    """True inside a Jupyter kernel (a live figure can be redrawn); False in scripts and plain pytest."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        return False
    return shell is not None and getattr(shell, "kernel", None) is not None


class TrainingMonitor(keras.callbacks.Callback):
    """Record D's accuracy, G's gradient norm, FID and coverage during GAN training; draw them live.

    Args:
        evaluator: a :class:`RingEvaluator` or :class:`ImageEvaluator` (or any
            callable samples -> dict with ``evaluator.metric``, "covered",
            "modes", and ``floor``/``ceiling`` attributes); None: no evaluations.
        sample: ``n -> samples`` of the generator; None: after ``set_model(combined)``,
            the combined model's generator on fixed noise.
        every: evaluate every this many iterations (call :meth:`evaluate` for others, e.g. 0).
        live: redraw the figure at each evaluation: True, False, or "auto"
            (only in a Jupyter kernel, so a script or CI run never draws).
        smooth: moving-average window of the per-iteration curves in the plot.

    Attributes:
        history: dict key -> list of per-iteration values (the logs it was given).
        iterations: the iteration number of each history entry.
        evaluations: list of dicts (iteration, metric, covered, modes, hits).
    """

    def __init__(self, evaluator=None, sample=None, every=100, live="auto", smooth=1, seed=0):
        super().__init__()
        if every < 1:
            raise ValueError(f"every must be a positive integer, got {every}")
        self.evaluator, self.sample, self.every, self.smooth, self.seed = evaluator, sample, int(every), smooth, seed
        self.live = _can_display() if live == "auto" else bool(live)
        self.history, self.iterations, self.evaluations = {}, [], []
        self._handle = None

    def set_model(self, model):
        super().set_model(model)
        generator = getattr(model, "generator", None)
        if self.sample is None and generator is not None and self.evaluator is not None:
            noise = np.random.default_rng(self.seed).normal(size=(self.evaluator.n, generator.input_shape[-1]))
            self.sample = lambda n: generator.predict(noise[:n].astype("float32"), batch_size=500, verbose=0)

    def on_train_batch_end(self, batch, logs=None):
        iteration = int(batch)
        self.iterations.append(iteration)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, [np.nan] * (len(self.iterations) - 1)).append(float(value))
        for values in self.history.values():   # a key missing this time: keep the lists aligned
            if len(values) < len(self.iterations):
                values.append(np.nan)
        if self.evaluator is not None and self.sample is not None and iteration % self.every == 0:
            self.evaluate(iteration)

    def evaluate(self, iteration):
        """Measure the generator now and record it (and redraw, when live)."""
        result = dict(self.evaluator(self.sample(self.evaluator.n)), iteration=int(iteration))
        self.evaluations.append(result)
        if self.live:
            self._redraw()
        return result

    def series(self, key):
        """(iterations, values) of one recorded key, as arrays ("FID"/"FD"/"covered" from the evaluations)."""
        if key in self.history:
            return np.asarray(self.iterations), np.asarray(self.history[key], np.float64)
        return (np.asarray([e["iteration"] for e in self.evaluations]),
                np.asarray([e[key] for e in self.evaluations], np.float64))

    def _redraw(self):
        from IPython import display

        import matplotlib.pyplot as plt

        figure = self.plot()
        if self._handle is None:
            self._handle = display.display(figure, display_id=True)
        else:
            self._handle.update(figure)
        plt.close(figure)

    def plot(self, title=None, axes=None):
        """The four panels: D's accuracy (real, fake), G's gradient norm, FID with floor/ceiling, coverage."""
        import matplotlib.pyplot as plt

        if axes is None:
            figure, axes = plt.subplots(1, 4, figsize=(15, 3.2))
        figure = axes[0].figure
        window = max(1, int(self.smooth))

        def smoothed(values):
            values = np.asarray(values, np.float64)
            if window == 1 or len(values) < window:
                return values
            return np.convolve(values, np.ones(window) / window, mode="valid")

        for key, label in (("d_acc_real", "on real"), ("d_acc_fake", "on fake"), ("d_acc", "mean")):
            if key in self.history and not np.all(np.isnan(self.history[key])):
                values = smoothed(self.history[key])
                axes[0].plot(self.iterations[len(self.iterations) - len(values):], values, label=label)
        axes[0].set(title="D's accuracy", xlabel="iteration", ylim=(-0.05, 1.05))
        axes[0].legend(fontsize=8)
        if "g_grad_norm" in self.history:
            values = smoothed(self.history["g_grad_norm"])
            axes[1].semilogy(self.iterations[len(self.iterations) - len(values):], values)
        axes[1].set(title="G's gradient norm", xlabel="iteration")
        if self.evaluations:
            metric = self.evaluator.metric
            steps, values = self.series(metric)
            axes[2].plot(steps, values, "o-", label="samples")
            axes[2].axhline(self.evaluator.floor[metric], color="green", ls="--", label="floor (real)")
            axes[2].axhline(self.evaluator.ceiling[metric], color="red", ls="--", label="ceiling (noise)")
            axes[2].set_yscale("log")
            axes[2].legend(fontsize=8)
            steps, covered = self.series("covered")
            axes[3].plot(steps, covered, "o-")
            axes[3].set(ylim=(-0.3, self.evaluations[-1]["modes"] + 0.3))
            axes[2].set(title=f"{metric}, N={self.evaluator.n}", xlabel="iteration")
            axes[3].set(title=f"modes covered (of {self.evaluations[-1]['modes']})", xlabel="iteration")
        if title:
            figure.suptitle(title)
        figure.tight_layout()
        return figure
