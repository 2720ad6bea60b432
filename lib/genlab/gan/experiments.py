"""One configurable GAN trainer for the case study "D too strong" and its remedies.

Why it exists: notebook 07 and ``scripts/gan_remedies.py`` compare a dozen
variants of one GAN (a too-strong D, then one remedy at a time) over several
seeds on the same budget; they must run the same code, or the shipped table
would not be the notebook's. :class:`Settings` holds every knob (D steps per G
step, D pre-training, the two learning rates, the loss, label targets,
gradient penalty, spectral normalization, minibatch stddev and minibatch
discrimination, feature matching, dropout, MLP or conv networks from
:mod:`genlab.gan.study_nets`); :func:`run` trains one variant with a ``tf.function`` step (the ring
of Gaussians runs thousands of iterations in seconds on a CPU) and records
through :class:`genlab.gan.monitor.TrainingMonitor`; :func:`compare` runs
variants x seeds and returns the rows of one table (means and per-seed
values), :func:`gradient_vs_confidence` measures the mechanism: G's gradient
norm against D(G(z)) for the saturating and non-saturating losses while D
is trained against a fixed G. The networks are small (MLPs, and a small
conv GAN for MNIST), so the study fits a CPU; the variants' settings live in
:mod:`genlab.models.gan_challenges`. Tested in ``tests/test_gan_experiments.py``.

Example::

    from genlab.gan import experiments
    result = experiments.run(experiments.Settings(dataset="ring", iterations=500, d_steps=5), seed=0)
    result.summary()
"""

import dataclasses
import time

import numpy as np

from genlab import data, quiet  # noqa: F401  (quiet: TensorFlow without its start-up logs)
from genlab.gan import losses, monitor, regularizers
from genlab.gan.study_nets import NETWORKS, build_discriminator, build_generator  # noqa: F401

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

LOSSES = ("non_saturating", "saturating", "wgan_gp")
LOG_KEYS = ("d_loss", "d_acc_real", "d_acc_fake", "g_loss", "g_grad_norm", "d_fake_prob")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every knob of one variant. ``dataclasses.replace(settings, d_steps=1)`` makes another."""

    dataset: str = "ring"          # "ring" (8 Gaussians, 2-D) or "mnist" (flat 784 pixels)
    network: str = "mlp"           # or "conv" / "conv-no-bn" (MNIST only): genlab.gan.study_nets builds them
    iterations: int = 2000         # G updates: the budget every variant shares
    batch_size: int = 64
    latent_dim: int = 16
    hidden: int = 128              # width of each hidden layer of G and D
    g_lr: float = 2e-4
    d_lr: float = 2e-4
    beta_1: float = 0.5
    beta_2: float = 0.999
    d_steps: int = 1               # D (critic) updates per G update: n_critic in WGAN-GP
    d_pretrain: int = 0            # D updates against the untrained G before G starts
    loss: str = "non_saturating"   # or "saturating" (the minimax game's own) or "wgan_gp"
    gp_weight: float = 10.0        # lambda of the gradient penalty (WGAN-GP only)
    real_label: float = 1.0        # 0.9: one-sided label smoothing
    fake_label: float = 0.0        # 0.1 with real 0.9: two-sided (the section plan's)
    spectral_norm: bool = False
    minibatch_std: bool = False
    minibatch_discrimination: bool = False   # Salimans et al. 2016's layer before D's output
    feature_matching: bool = False
    dropout: float = 0.0           # in D, after each hidden layer
    ring_std: float = 0.05

    def __post_init__(self):
        if self.dataset not in ("ring", "mnist"):
            raise ValueError(f"dataset must be 'ring' or 'mnist', got {self.dataset!r}")
        if self.network not in NETWORKS or (self.network != "mlp" and self.dataset != "mnist"):
            raise ValueError(f"network must be one of {NETWORKS} (the conv ones for mnist only), got {self.network!r}")
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if min(self.iterations, self.batch_size, self.d_steps) < 1 or self.d_pretrain < 0:
            raise ValueError("iterations, batch_size and d_steps must be positive, d_pretrain >= 0")


def _bce(target, logits):
    """Mean sigmoid cross-entropy against a constant target (0.9, 0.1: smoothed labels)."""
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.fill(tf.shape(logits), target),
                                                                  logits=logits))


class Trainer:
    """G, D, their optimizers and ``tf.function`` steps for one :class:`Settings` and seed."""

    def __init__(self, settings, seed=0, x_train=None):
        self.settings, self.seed = settings, seed
        keras.utils.set_random_seed(seed)
        self.generator, self.discriminator = build_generator(settings), build_discriminator(settings)
        adam = dict(beta_1=settings.beta_1, beta_2=settings.beta_2)
        self.g_optimizer = keras.optimizers.Adam(settings.g_lr, **adam)
        self.d_optimizer = keras.optimizers.Adam(settings.d_lr, **adam)
        self.rng = tf.random.Generator.from_seed(seed)
        if settings.dataset == "mnist":
            if x_train is None:
                x_train = data.load_mnist()[0][0]
            self.x = tf.constant(data.scale_images(np.asarray(x_train)).reshape(len(x_train), -1))
        self.centres = tf.constant(data.ring_centres())
        self.g_optimizer.build(self.generator.trainable_weights)     # variables exist before the loop is traced
        self.d_optimizer.build(self.discriminator.trainable_weights)
        self.d_step = tf.function(self._d_step)
        self.iterations = tf.function(self._iterations)

    def _iterations(self, count):
        """``count`` iterations in one graph (a tf.while_loop): logs (count, len(LOG_KEYS))."""
        out = tf.TensorArray(tf.float32, size=count)
        for i in tf.range(count):
            logs = self._iteration()
            out = out.write(i, tf.stack([tf.cast(logs[key], tf.float32) for key in LOG_KEYS]))
        return out.stack()

    def real_batch(self):
        b = self.settings.batch_size
        if self.settings.dataset == "mnist":
            return tf.gather(self.x, self.rng.uniform([b], 0, tf.shape(self.x)[0], tf.int32))
        which = self.rng.uniform([b], 0, len(self.centres), tf.int32)
        return tf.gather(self.centres, which) + self.settings.ring_std * self.rng.normal([b, 2])

    def noise(self, n=None):
        return self.rng.normal([n or self.settings.batch_size, self.settings.latent_dim])

    def _d_step(self):
        s = self.settings
        real, z = self.real_batch(), self.noise()
        with tf.GradientTape() as tape:
            fake = self.generator(z, training=True)
            real_logits = self.discriminator(real, training=True)[0]
            fake_logits = self.discriminator(fake, training=True)[0]
            if s.loss == "wgan_gp":
                loss = losses.wasserstein_discriminator(real_logits, fake_logits)
                loss += s.gp_weight * regularizers.gradient_penalty(self.discriminator, real, fake)
            else:
                loss = _bce(s.real_label, real_logits) + _bce(s.fake_label, fake_logits)
        weights = self.discriminator.trainable_weights
        self.d_optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return dict(d_loss=loss, d_acc_real=tf.reduce_mean(tf.cast(real_logits > 0, tf.float32)),
                    d_acc_fake=tf.reduce_mean(tf.cast(fake_logits < 0, tf.float32)))

    def generator_loss(self, fake_logits, fake_features=None, real_features=None, loss=None):
        s = self.settings
        loss = loss or s.loss
        if s.feature_matching and fake_features is not None:
            return regularizers.feature_matching(real_features, fake_features)
        if loss == "wgan_gp":
            return losses.wasserstein_generator(fake_logits)
        if loss == "saturating":
            return losses.saturating_generator(fake_logits)
        return losses.non_saturating_generator(fake_logits)

    def _iteration(self):
        d_logs = [self._d_step() for _ in range(self.settings.d_steps)][-1]
        z = self.noise()
        real_features = self.discriminator(self.real_batch(), training=True)[1] if self.settings.feature_matching \
            else None
        with tf.GradientTape() as tape:
            fake_logits, fake_features = self.discriminator(self.generator(z, training=True), training=True)
            g_loss = self.generator_loss(fake_logits, fake_features, real_features)
        weights = self.generator.trainable_weights
        gradients = tape.gradient(g_loss, weights)
        self.g_optimizer.apply_gradients(zip(gradients, weights))
        return dict(d_logs, g_loss=g_loss, g_grad_norm=tf.linalg.global_norm(gradients),
                    d_fake_prob=tf.reduce_mean(tf.sigmoid(fake_logits)))

    def sample(self, n):
        """n samples of G on fresh noise, as numpy (N, 2) or (N, 784) in [-1, 1]."""
        z = np.random.default_rng([self.seed, 7]).normal(size=(n, self.settings.latent_dim)).astype("float32")
        return self.generator.predict(z, batch_size=1000, verbose=0)

    def generator_gradient_norm(self, loss, n=256):
        """||grad of G's loss w.r.t. G's weights|| and mean D(G(z)) on n fresh samples (no update)."""
        z = self.noise(n)
        with tf.GradientTape() as tape:
            fake_logits = self.discriminator(self.generator(z, training=True), training=False)[0]
            g_loss = self.generator_loss(fake_logits, loss=loss)
        gradients = tape.gradient(g_loss, self.generator.trainable_weights)
        return float(tf.linalg.global_norm(gradients)), float(tf.reduce_mean(tf.sigmoid(fake_logits)))


def evaluator_for(settings, n=None, seed=0):
    """The monitor's evaluator of a dataset: FD and ring modes, or FID and MNIST classes, at N."""
    if settings.dataset == "ring":
        return _cached(("ring", n or 1000, settings.ring_std, seed),
                       lambda: monitor.RingEvaluator(n or 1000, std=settings.ring_std, seed=seed))
    return _cached(("mnist", n or 500, seed), lambda: monitor.ImageEvaluator(n or 500, "mnist", seed=seed))


_EVALUATORS = {}


def _cached(key, make):
    """Reference features and floor/ceiling computed once per (dataset, N, seed) in a process."""
    if key not in _EVALUATORS:
        _EVALUATORS[key] = make()
    return _EVALUATORS[key]


@dataclasses.dataclass
class Result:
    """What :func:`run` returns: the trained trainer, its monitor, and the seconds it took."""

    settings: Settings
    seed: int
    trainer: Trainer
    monitor: monitor.TrainingMonitor
    seconds: float

    def summary(self, tail=0.2):
        """Final metric, coverage, and D's accuracy and G's gradient norm over the last ``tail`` of the run."""
        history, last = self.monitor.history, self.monitor.evaluations[-1]
        k = max(1, int(len(self.monitor.iterations) * tail))
        mean = lambda key: float(np.nanmean(history[key][-k:]))   # noqa: E731
        d_acc = 0.5 * (np.asarray(history["d_acc_real"]) + np.asarray(history["d_acc_fake"]))
        half = len(d_acc) // 2
        return {self.monitor.evaluator.metric: last[self.monitor.evaluator.metric], "covered": last["covered"],
                "hits": last["hits"], "d_acc_real": mean("d_acc_real"), "d_acc_fake": mean("d_acc_fake"),
                "d_acc_std": float(np.std(d_acc[half:])), "g_grad_norm": float(np.median(history["g_grad_norm"][-k:])),
                "d_fake_prob": mean("d_fake_prob"), "seconds": self.seconds}


def run(settings, seed=0, evaluate_every=None, n_eval=None, live=False, callbacks=(), x_train=None):
    """Train one variant; D first alone for ``d_pretrain`` steps, then ``iterations`` of d_steps x D + 1 x G.

    The iterations run in chunks of up to 50 inside one ``tf.function`` (a
    while loop), so Python's overhead is paid per chunk, not per step; the
    monitor then gets each iteration's logs, and evaluates at chunk ends.

    Args:
        settings: a :class:`Settings`.
        seed: seeds the weights, the noise and the data batches.
        evaluate_every: evaluate samples (FD/FID, coverage) every this many
            iterations (default: 10 times per run) and at the end.
        n_eval: samples per evaluation (default 1,000 ring points or 500 digits).
        live: redraw the monitor's figure at each evaluation (True, False or "auto").
        callbacks: more Keras callbacks, given ``on_train_batch_end(iteration, logs)``.
    """
    began = time.perf_counter()
    trainer = Trainer(settings, seed, x_train)
    every = evaluate_every or max(1, settings.iterations // 10)
    watch = monitor.TrainingMonitor(evaluator_for(settings, n_eval), trainer.sample, every=every, live=live)
    hooks = keras.callbacks.CallbackList([watch, *callbacks], model=trainer.generator)
    for _ in range(settings.d_pretrain):
        trainer.d_step()
    watch.evaluate(0)
    chunk = max(d for d in range(1, min(every, 50) + 1) if every % d == 0)   # evaluations fall on chunk ends
    done = 0
    while done < settings.iterations:
        count = min(chunk, settings.iterations - done)
        for row in trainer.iterations(tf.constant(count)).numpy():
            done += 1
            hooks.on_train_batch_end(done, dict(zip(LOG_KEYS, map(float, row))))
    if settings.iterations % every:
        watch.evaluate(settings.iterations)
    return Result(settings, seed, trainer, watch, time.perf_counter() - began)


def compare(variants, seeds=(0, 1, 2), progress=None, **run_kwargs):
    """Run each variant over seeds on the same budget; return (rows, results).

    Args:
        variants: dict name -> :class:`Settings`.
        seeds: the seeds every variant runs.
        progress: a function called with a line of text after each run (e.g. print), or None.

    Returns:
        rows: one dict per variant: ``name``, ``mean`` and ``std`` of each summary
            value, and ``per_seed`` (the values of each seed), ready for JSON.
        results: dict (name, seed) -> :class:`Result` (for curves).
    """
    rows, results = [], {}
    for name, settings in variants.items():
        summaries = []
        for seed in seeds:
            result = run(settings, seed, **run_kwargs)
            results[name, seed] = result
            summaries.append(result.summary())
            if progress:
                progress(f"{name} seed {seed}: " + ", ".join(f"{k}={v:.3g}" for k, v in summaries[-1].items()))
        rows.append(row(name, settings, seeds, summaries))
    return rows, results


def row(name, settings, seeds, summaries):
    """One table row from the summaries of a variant's seeds: mean, std (over seeds) and per-seed values.

    Written once so that :func:`compare` and a run resumed seed by seed
    (:mod:`genlab.models.gan_challenges`) make the same rows.
    """
    keys = summaries[0].keys()
    return {"name": name, "settings": dataclasses.asdict(settings), "seeds": list(seeds),
            "mean": {k: float(np.mean([s[k] for s in summaries])) for k in keys},
            "std": {k: float(np.std([s[k] for s in summaries])) for k in keys},
            "per_seed": {k: [float(s[k]) for s in summaries] for k in keys}}


def gradient_vs_confidence(settings, d_steps=300, every=10, seed=0, n=256):
    """Train D alone against a fixed, untrained G and record G's gradient norm under both losses.

    Returns a dict of lists: ``d_fake_prob`` (mean D(G(z))), ``saturating`` and
    ``non_saturating`` (||grad_theta_G L_G||), one entry every ``every`` D steps
    (and before the first). As D grows confident D(G(z)) -> 0: the saturating
    loss's gradient goes to 0 with it, the non-saturating one's does not.
    """
    trainer = Trainer(settings, seed)
    out = {"d_step": [], "d_fake_prob": [], "saturating": [], "non_saturating": []}
    for step in range(d_steps + 1):
        if step % every == 0:
            for loss in ("saturating", "non_saturating"):
                trainer.rng.reset_from_seed(seed + 10_000 + step)        # both losses on the same z
                norm, prob = trainer.generator_gradient_norm(loss, n)
                out[loss].append(norm)
            out["d_step"].append(step)
            out["d_fake_prob"].append(prob)
        if step < d_steps:
            trainer.d_step()
    return out


def table(rows, metric, keys=("covered", "hits", "d_acc_real", "d_acc_fake", "d_acc_std", "g_grad_norm")):
    """Rows of :func:`compare` (or of the shipped JSON) as aligned text: mean ± std over seeds."""
    head = f"{'variant':<48}" + "".join(f"{k:>17}" for k in (metric, *keys))
    lines = [head, "-" * len(head)]
    for row in rows:
        cells = "".join(f"{row['mean'][k]:>10.3g} ±{row['std'][k]:<5.2g}" for k in (metric, *keys))
        lines.append(f"{row['name']:<48}{cells}")
    return "\n".join(lines)
