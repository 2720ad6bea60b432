"""Training notebook 11's noise predictors for the shipped model: the recipe, resumable, with a learning curve.

Why it exists: notebook 11 writes the training step a student reads (the simple
loss of Ho et al., Adam, an EMA of the weights). The shipped U-Net needs more
than that step: hours of CPU split over sessions, so a run that resumes exactly
(the network, its EMA, Adam's moments and the step count are checkpointed; the
batch, timesteps and noise of step i are drawn from (seed, i)); a learning curve
(FID every ``CURVE_EVERY`` steps, :class:`genlab.callbacks.LearningCurve`); and
the recipe choices that ``scripts/diffusion_recipes.py`` measures against each
other at equal budget: what the network predicts (the noise, as in Ho et al.,
or v = sqrt(abar) eps - sqrt(1 - abar) x0, Salimans & Ho 2022), how the
timesteps are weighted (uniformly, or min-SNR-gamma, Hang et al. 2023), a
learning-rate warm-up and cosine decay, gradient clipping (Ho et al. clip at 1).
Every setting is defined in :mod:`genlab.models.diffusion`, which builds its trainers
(``diffusion.recipe``, ``diffusion.trainer``); this module imports none of it.
"""

from pathlib import Path

import keras
import numpy as np
from keras import ops

from genlab import quiet  # noqa: F401  (imports TensorFlow without its start-up logs)

PREDICTIONS = ("eps", "v")
WEIGHTINGS = ("none", "min_snr")


def recipe(base, **changes):
    """``base`` (a complete recipe: ``genlab.models.diffusion.recipe()``) with ``changes`` applied; checks the choices."""
    unknown = set(changes) - set(base)
    if unknown:
        raise ValueError(f"unknown recipe settings {sorted(unknown)}; known: {sorted(base)}")
    result = {**base, **changes}
    if result["prediction"] not in PREDICTIONS or result["weighting"] not in WEIGHTINGS:
        raise ValueError(f"prediction must be one of {PREDICTIONS} and weighting one of {WEIGHTINGS}: {result}")
    return result


def objective(network, x0, t, noise, labels, alpha_bars, prediction="eps", weighting="none", gamma=5.0):
    """The regression loss on one batch: x_t in closed form, the target the network predicts, the step weights.

    ``prediction``: "eps" regresses the noise (Ho et al.'s L_simple); "v" regresses
    v = sqrt(abar) eps - sqrt(1 - abar) x0. ``weighting``: "none" weights every t
    alike; "min_snr" multiplies each step's loss by min(SNR_t, gamma) / SNR_t for eps
    (/ (SNR_t + 1) for v), SNR_t = abar / (1 - abar): the same min(SNR, gamma) weight
    on the x0 error in both cases (Hang et al., 2023).
    """
    t, labels = ops.convert_to_tensor(t, "int32"), ops.convert_to_tensor(labels, "int32")   # NumPy or tensors
    abar = ops.reshape(ops.take(alpha_bars, t), (-1,) + (1,) * (len(x0.shape) - 1))
    x_t = ops.sqrt(abar) * x0 + ops.sqrt(1.0 - abar) * noise
    target = noise if prediction == "eps" else ops.sqrt(abar) * noise - ops.sqrt(1.0 - abar) * x0
    per_image = ops.mean(ops.square(target - network([x_t, t, labels], training=True)),
                         axis=tuple(range(1, len(x0.shape))))
    if weighting == "min_snr":
        snr = ops.reshape(abar / (1.0 - abar), (-1,))
        per_image = per_image * ops.minimum(snr, gamma) / (snr + (1.0 if prediction == "v" else 0.0))
    return ops.mean(per_image)


def eps_from_output(output, x_t, abar, prediction):
    """The noise a network's output implies (NumPy): itself for "eps"; sqrt(abar) v + sqrt(1 - abar) x_t for "v"."""
    if prediction == "eps":
        return output
    return np.sqrt(abar) * output + np.sqrt(1.0 - abar) * x_t


def learning_rate(settings, iterations):
    """Linear warm-up to the rate, then cosine decay to ``final_lr_fraction`` of it at the last step."""
    warmup = min(int(settings["warmup"]), max(int(iterations) - 1, 0))
    return keras.optimizers.schedules.CosineDecay(
        0.0 if warmup else settings["learning_rate"], max(int(iterations) - warmup, 1),
        alpha=settings["final_lr_fraction"], warmup_target=settings["learning_rate"] if warmup else None,
        warmup_steps=warmup)


class Trainer:
    """One network, its EMA copy, Adam and the step count, checkpointed together; ``run`` trains to a step.

    Args:
        network: eps_theta (or v_theta), inputs [x_t, t, label].
        iterations: the run's planned length (the learning-rate schedule ends there).
        settings: a :func:`recipe`.
        alpha_bars: the schedule's abar_t (NumPy, index 0..T-1).
        null_label: the label that stands for "no label" (dropped with probability ``p_uncond``).
        seed: the run's seed; step i draws its batch, timesteps, noise and label dropout from (seed, i).
        checkpoint_dir: where the state is saved every ``checkpoint_every`` steps, and resumed from.
    """

    def __init__(self, network, iterations, settings, alpha_bars, null_label, seed, checkpoint_dir=None,
                 checkpoint_every=500):
        import tensorflow as tf

        self.network, self.iterations, self.seed = network, int(iterations), int(seed)
        self.settings, self.null_label, self.checkpoint_every = settings, int(null_label), int(checkpoint_every)
        self.ema = keras.models.clone_model(network)
        self.ema.set_weights(network.get_weights())
        # What the samplers convert the output from (diffusion.guided_eps reads it).
        network.prediction = self.ema.prediction = self.settings["prediction"]
        self.optimizer = keras.optimizers.Adam(learning_rate(self.settings, self.iterations),
                                               global_clipnorm=self.settings["clipnorm"])
        self.optimizer.build(network.trainable_variables)
        self.done = tf.Variable(0, dtype=tf.int64)
        self.folder = None if checkpoint_dir is None else Path(checkpoint_dir)
        self.state = tf.train.Checkpoint(network=network, ema=self.ema, optimizer=self.optimizer, done=self.done)
        if self.folder is not None and tf.train.latest_checkpoint(str(self.folder)):
            self.state.restore(tf.train.latest_checkpoint(str(self.folder))).assert_existing_objects_matched()
        self.alpha_bars = tf.constant(np.asarray(alpha_bars), tf.float32)
        self._step = tf.function(self._train_step)

    def _train_step(self, x0, labels, index):
        import tensorflow as tf

        n, timesteps = tf.shape(x0)[0], self.alpha_bars.shape[0]
        seeds = [tf.stack([tf.constant(self.seed * 4 + k, tf.int64), index]) for k in range(3)]
        t = tf.random.stateless_uniform((n,), seeds[0], 0, timesteps, dtype=tf.int32)
        noise = tf.random.stateless_normal(tf.shape(x0), seeds[1])
        drop = tf.random.stateless_uniform((n,), seeds[2]) < self.settings["p_uncond"]
        labels = tf.where(drop, self.null_label, labels)
        with tf.GradientTape() as tape:
            loss = objective(self.network, x0, t, noise, labels, self.alpha_bars, self.settings["prediction"],
                             self.settings["weighting"], self.settings["min_snr_gamma"])
        weights = self.network.trainable_variables
        self.optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        # The EMA with the usual warm-up (its decay grows to ``ema`` as (1 + i) / (10 + i)), so early curve points mean something.
        step = tf.cast(index, tf.float32)
        decay = tf.minimum(self.settings["ema"], (1.0 + step) / (10.0 + step))
        for average, weight in zip(self.ema.weights, self.network.weights):
            average.assign(decay * average + (1.0 - decay) * weight)
        return loss

    def run(self, x, labels, progress=False, curve=None, until=None):
        """Train on arrays ``x`` (float, the model's range) and int ``labels``; returns the EMA network.

        Trains up to step ``until`` (default: ``iterations``) and checkpoints there, so a later
        :class:`Trainer` on the same folder continues exactly where this one stopped.
        """
        import tensorflow as tf
        from tqdm.auto import tqdm

        batch = int(self.settings["batch_size"])
        manager = None if self.folder is None else tf.train.CheckpointManager(self.state, str(self.folder), max_to_keep=1)
        losses = []
        with tqdm(total=self.iterations, initial=int(self.done.numpy()), desc="diffusion", disable=not progress) as bar:
            last = self.iterations if until is None else min(int(until), self.iterations)
            for index in range(int(self.done.numpy()) + 1, last + 1):
                chosen = np.random.default_rng([self.seed, index]).integers(0, len(x), batch)
                losses.append(float(self._step(x[chosen], labels[chosen], tf.constant(index, tf.int64))))
                self.done.assign(index)
                bar.update(1)
                if index % 100 == 0:
                    bar.set_postfix(loss=f"{np.mean(losses[-100:]):.4f}", refresh=False)
                if manager is not None and (index % self.checkpoint_every == 0 or index == last):
                    manager.save()
                if curve is not None:
                    curve.on_train_batch_end(index)
        return self.ema


def fid_curve(sample_fn, dataset, path, iterations, every):
    """A :class:`genlab.callbacks.LearningCurve` of unconditional samples' FID (N = 2,000) every ``every`` steps."""
    from genlab import callbacks, evaluation

    def fid(images, n, seed):
        return evaluation.evaluate(images, dataset, n=n, seed=seed, which=("FID",), references_too=False)["samples"]["FID"]

    return callbacks.LearningCurve(sample_fn, fid, every, path, last=iterations)
