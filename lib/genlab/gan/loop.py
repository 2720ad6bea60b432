"""The book's alternating GAN training loop, with history, fixed-noise grids and checkpoints.

Why it exists: notebook 05 has students write one iteration of Elgendy's
loop (D on a real batch, D on a fake batch, G through the combined model);
running it for thousands of iterations also needs what the book leaves out:
a progress bar, a history for the loss curves, grids of a fixed noise vector
so samples are comparable over time, checkpoints that survive a Colab
disconnect, and seeded randomness so a run (and a resumed run) repeats.
:func:`make_plain_train_step` is the same update in one ``tf.function``, the
reference ``benchmarks/dcgan.py`` times the loop against. The combined model
itself (D frozen for G's step) is :mod:`genlab.gan.combined`; the grids come
from :class:`genlab.callbacks.SampleGrid`, the callback every family's ``fit``
uses too, and ``callbacks=`` takes any other Keras callback. Tested in
``tests/test_gan_loop.py``.
"""

import dataclasses
import os
import time
import weakref
from pathlib import Path

import numpy as np
import tqdm

from genlab import callbacks as callbacks_module
from genlab import data, quiet  # noqa: F401  (quiet: TensorFlow without its start-up logs)
from genlab.gan.combined import training_mode_trainable

import keras  # noqa: E402


@dataclasses.dataclass
class TrainingResult:
    """What :func:`train` returns.

    Attributes:
        history: lists per iteration: d_loss_real, d_loss_fake, d_acc (mean of
            D's accuracy on the real and the fake batch), g_loss.
        grids: ``(iteration, uint8 images)`` of the fixed noise, every sample interval.
        seconds: wall-clock seconds of each iteration run in this call.
        start: the first iteration run in this call (> 1 after a resume).
    """

    history: dict
    grids: list
    seconds: list
    start: int = 1


HISTORY_KEYS = ("d_loss_real", "d_loss_fake", "d_acc", "g_loss")


def _loss_and_accuracy(result):
    values = np.atleast_1d(np.asarray(result, dtype=np.float64))
    return float(values[0]), (float(values[1]) if len(values) > 1 else float("nan"))


def _noise(rng, count, latent_dim):
    return rng.normal(0.0, 1.0, size=(count, latent_dim)).astype(np.float32)


_FAKE_MAKERS = weakref.WeakKeyDictionary()


def _fake_maker(generator, mode):
    """``noise -> fakes`` for D's step: ``predict_on_batch`` (book) or G in training mode."""
    if mode == "predict":
        return generator.predict_on_batch
    if mode != "training":
        raise ValueError(f"fakes must be 'training' or 'predict', got {mode!r}")
    if generator not in _FAKE_MAKERS:  # one tf.function per generator: no retrace per call of train
        import tensorflow as tf

        _FAKE_MAKERS[generator] = tf.function(lambda noise: generator(noise, training=True))
    return _FAKE_MAKERS[generator]


def train(generator, discriminator, combined, images, iterations, batch_size=32, sample_interval=200,
          seed=42, fixed_noise=16, sample_dir=None, checkpoint_dir=None, checkpoint_interval=None,
          resume=True, progress=True, fakes="predict", callbacks=(), labels=None, num_classes=None):
    """Train a GAN the book's way: per iteration, D on real then fake, then G via ``combined``.

    Each iteration draws ``batch_size`` random training images (label 1) and
    as many generated ones (label 0, from ``generator.predict_on_batch`` as
    the book's ``generator.predict``), calls ``discriminator.train_on_batch``
    on each, then ``combined.train_on_batch(noise, ones)``. With ``labels``
    (a conditional GAN, notebook 06) the real batch comes with its labels, the
    fakes and G's step draw labels uniformly from ``num_classes``, and every
    call passes ``[images or noise, labels]``. Randomness comes
    from ``numpy.random.default_rng([seed, iteration])``, so a run, and a
    resumed run, can be repeated.

    Args:
        generator, discriminator: the two Keras models; D compiled on its own.
        combined: the model from :func:`genlab.gan.build_combined`.
        images: uint8 (N, H, W[, C]) training images, or floats already in [-1, 1].
        iterations: the last iteration to run (the book calls these "epochs").
        batch_size: images per batch (book: 32).
        sample_interval: every this many iterations (and at the last), G draws the
            fixed noise into ``grids`` (and ``sample_dir/iteration_XXXXXX.png``);
            None: no grids.
        seed: the seed of this run.
        fixed_noise: number of fixed noise vectors, or an array (n, latent_dim).
        sample_dir: where to save the grids as PNG (None: keep them in memory only).
        checkpoint_dir: where to save G, D, optimizers and history (None: no checkpoints).
        checkpoint_interval: iterations between checkpoints (default: ``sample_interval``).
        resume: continue from the checkpoint in ``checkpoint_dir`` if there is one.
        progress: show a tqdm progress bar.
        fakes: how D's fake batch is generated: "predict" (the book's
            ``generator.predict``: G's BatchNormalization on moving statistics) or
            "training" (G in training mode, batch statistics, as in G's own step).
        callbacks: more Keras callbacks; each gets ``on_train_batch_end(iteration, logs)``
            with the iteration's losses, and ``set_model(combined)``.
        labels: integer class labels of ``images`` (N,) for a conditional GAN whose G takes
            ``[z, label]`` and D ``[image, label]``; None: an unconditional GAN (the book's).
        num_classes: the number of classes fake labels are drawn from (default: max label + 1).
            The fixed-noise grids use labels 0, 1, 2, ... in turn.

    Raises:
        ValueError: D has no trainable weights (e.g. the book's ``D.trainable = False``).
    """
    if iterations < 1 or batch_size < 1 or (sample_interval is not None and sample_interval < 1):
        raise ValueError("iterations and batch_size must be positive integers, and sample_interval "
                         "a positive integer or None")
    if not discriminator.trainable or not discriminator.trainable_weights:
        raise ValueError(
            "the discriminator has no trainable weights, so its train_on_batch would not learn "
            "(Keras 3 reads `trainable` when the step is traced). Keep discriminator.trainable = "
            "True: the combined model from gan.build_combined freezes D for G's step by itself.")
    x = np.asarray(images)
    x = data.scale_images(x) if x.dtype == np.uint8 else x.astype(np.float32)
    if x.ndim == 3:
        x = x[..., np.newaxis]
    conditional = labels is not None
    latent_dim = int(generator.inputs[0].shape[-1])
    if np.ndim(fixed_noise) == 0:
        fixed_noise = _noise(np.random.default_rng([seed, 0]), int(fixed_noise), latent_dim)
    fixed_inputs = fixed_noise
    if conditional:
        labels = np.asarray(labels).astype(np.int32).reshape(-1, 1)
        if len(labels) != len(x):
            raise ValueError(f"labels must hold one label per image: {len(labels)} labels, {len(x)} images")
        num_classes = int(num_classes or labels.max() + 1)
        fixed_inputs = [fixed_noise, (np.arange(len(fixed_noise)) % num_classes).astype(np.int32).reshape(-1, 1)]
    history = {key: [] for key in HISTORY_KEYS}
    grids, start = [], 1
    checkpoint_interval = checkpoint_interval or sample_interval or iterations
    if checkpoint_dir is not None and resume and (Path(checkpoint_dir) / STATE_FILE).exists():
        start, history, grids = load_checkpoint(checkpoint_dir, generator, discriminator, combined)
        start += 1
    make_fakes = _fake_maker(generator, fakes)
    grid = callbacks_module.SampleGrid(lambda: generator.predict_on_batch(fixed_inputs), sample_interval,
                                       directory=sample_dir, step=start - 1)
    grid.grids = grids
    hooks = keras.callbacks.CallbackList(([grid] if sample_interval else []) + list(callbacks), model=combined)
    hooks.on_train_begin()
    ones = np.ones((batch_size, 1), np.float32)
    zeros = np.zeros((batch_size, 1), np.float32)
    seconds = []
    bar = tqdm.trange(start, iterations + 1, disable=not progress, desc="iterations",
                      initial=start - 1, total=iterations, mininterval=1.0)
    for iteration in bar:
        began = time.perf_counter()
        rng = np.random.default_rng([seed, iteration])
        index = rng.integers(0, len(x), batch_size)
        real, fake_input, g_input = x[index], _noise(rng, batch_size, latent_dim), None
        if conditional:  # real images with their labels; fakes and G's step with uniform labels
            fake_labels = rng.integers(0, num_classes, (batch_size, 1)).astype(np.int32)
            real, fake_input = [real, labels[index]], [fake_input, fake_labels]
            g_input = [_noise(rng, batch_size, latent_dim),
                       rng.integers(0, num_classes, (batch_size, 1)).astype(np.int32)]
        fake = make_fakes(fake_input)
        if conditional:
            fake = [fake, fake_labels]
        d_loss_real, d_acc_real = _loss_and_accuracy(discriminator.train_on_batch(real, ones))
        d_loss_fake, d_acc_fake = _loss_and_accuracy(discriminator.train_on_batch(fake, zeros))
        if g_input is None:
            g_input = _noise(rng, batch_size, latent_dim)
        g_loss, _ = _loss_and_accuracy(combined.train_on_batch(g_input, ones))
        logs = dict(zip(HISTORY_KEYS, (d_loss_real, d_loss_fake, 0.5 * (d_acc_real + d_acc_fake), g_loss)))
        for key, value in logs.items():
            history[key].append(value)
        hooks.on_train_batch_end(iteration, logs)
        if iteration == iterations:
            hooks.on_train_end(logs)  # the last grid, before the last checkpoint saves it
        if sample_interval and iteration % sample_interval == 0:
            bar.set_postfix(d_loss=f"{0.5 * (d_loss_real + d_loss_fake):.3f}",
                            d_acc=f"{logs['d_acc']:.2f}", g_loss=f"{g_loss:.3f}", refresh=False)
        if checkpoint_dir is not None and (iteration % checkpoint_interval == 0 or iteration == iterations):
            save_checkpoint(checkpoint_dir, iteration, generator, discriminator, combined, history, grids)
        seconds.append(time.perf_counter() - began)
    return TrainingResult(history=history, grids=grids, seconds=seconds, start=start)


# --- Checkpoints with resume --------------------------------------------------------------------

STATE_FILE = "state.npz"


def _optimizer_variables(model):
    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_weights)
    return optimizer.variables


def save_checkpoint(directory, iteration, generator, discriminator, combined, history, grids=()):
    """Save G and D (``generator.weights.h5``, ``discriminator.weights.h5``) and the run's state.

    ``state.npz`` holds the iteration, every variable of G and D (including
    dropout seeds), both optimizers' variables, the history and the grids, so
    :func:`load_checkpoint` can continue the run where it stopped.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    generator.save_weights(directory / "generator.weights.h5")
    discriminator.save_weights(directory / "discriminator.weights.h5")
    arrays = {"iteration": np.int64(iteration),
              "grid_iterations": np.array([it for it, _ in grids], np.int64),
              "grids": np.array([grid for _, grid in grids], np.uint8)}
    for prefix, variables in (("g", generator.variables), ("d", discriminator.variables),
                              ("d_opt", _optimizer_variables(discriminator)),
                              ("g_opt", _optimizer_variables(combined))):
        for index, variable in enumerate(variables):
            arrays[f"{prefix}/{index}"] = np.asarray(variable.numpy())
    for key, values in history.items():
        arrays[f"history/{key}"] = np.asarray(values, np.float64)
    temporary = directory / f"tmp_{STATE_FILE}"
    np.savez(temporary, **arrays)
    os.replace(temporary, directory / STATE_FILE)


def load_checkpoint(directory, generator, discriminator, combined):
    """Restore what :func:`save_checkpoint` wrote; returns ``(iteration, history, grids)``."""
    with np.load(Path(directory) / STATE_FILE) as arrays:
        for prefix, variables in (("g", generator.variables), ("d", discriminator.variables),
                                  ("d_opt", _optimizer_variables(discriminator)),
                                  ("g_opt", _optimizer_variables(combined))):
            for index, variable in enumerate(variables):
                variable.assign(arrays[f"{prefix}/{index}"])
        history = {key[len("history/"):]: arrays[key].tolist()
                   for key in arrays.files if key.startswith("history/")}
        grids = list(zip(arrays["grid_iterations"].tolist(), list(arrays["grids"])))
        return int(arrays["iteration"]), history, grids


# --- A plain tf.function step: the benchmark's reference ----------------------------------------

def make_plain_train_step(generator, discriminator, d_optimizer, g_optimizer, fakes="predict"):
    """The same alternating update as :func:`train` in one ``tf.function`` (no Keras fit machinery).

    Returns ``step(real, noise_d, noise_g) -> (d_loss_real, d_loss_fake, g_loss)``:
    fakes from G (inference mode for ``fakes="predict"``, training mode for
    "training", as in :func:`train`), D updated on real then fake, then G
    updated through D in training mode with D's moving statistics restored.
    ``benchmarks/dcgan.py`` times it against the genlab loop.
    """
    import tensorflow as tf

    if fakes not in ("predict", "training"):
        raise ValueError(f"fakes must be 'training' or 'predict', got {fakes!r}")
    bce = keras.losses.BinaryCrossentropy()
    with training_mode_trainable(discriminator):
        d_state = [v for v in discriminator.weights if not v.trainable]

    def d_update(images, labels):
        with tf.GradientTape() as tape:
            loss = bce(labels, discriminator(images, training=True))
        weights = discriminator.trainable_weights
        d_optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        return loss

    @tf.function
    def step(real, noise_d, noise_g):
        count = tf.shape(real)[0]
        ones, zeros = tf.ones((count, 1)), tf.zeros((count, 1))
        fake = generator(noise_d, training=fakes == "training")
        d_loss_real = d_update(real, ones)
        d_loss_fake = d_update(fake, zeros)
        saved = [tf.identity(v.value) for v in d_state]
        with tf.GradientTape() as tape:
            g_loss = bce(ones, discriminator(generator(noise_g, training=True), training=True))
        weights = generator.trainable_weights
        g_optimizer.apply_gradients(zip(tape.gradient(g_loss, weights), weights))
        for variable, value in zip(d_state, saved):
            variable.assign(value)
        return d_loss_real, d_loss_fake, g_loss

    return step
