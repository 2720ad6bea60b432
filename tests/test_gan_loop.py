"""genlab.gan.train: the alternating loop records, samples, checkpoints, resumes and repeats.

Also the plain ``tf.function`` step the benchmark times the loop against.
"""

import numpy as np
import pytest

from genlab import quiet  # noqa: F401  (TensorFlow without its start-up logs)
from genlab import data, gan

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

from tiny_gan import adam, build, moving_statistics, noise, real_batch, values  # noqa: E402


def run(iterations, checkpoint_dir=None, **kwargs):
    generator, discriminator, combined = build(dropout=0.25)
    (x_train, _), _ = data.load_mnist(mode="quick")
    result = gan.train(generator, discriminator, combined, x_train[:256], iterations=iterations,
                            batch_size=8, sample_interval=2, seed=7, progress=False,
                            checkpoint_dir=checkpoint_dir, **kwargs)
    return result, values(generator.variables + discriminator.variables)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    grids = tmp_path_factory.mktemp("grids")
    return run(4, sample_dir=grids), grids


def test_training_loop_history_and_grids(uninterrupted):
    (result, _), grids = uninterrupted
    assert sorted(result.history) == ["d_acc", "d_loss_fake", "d_loss_real", "g_loss"]
    assert all(len(series) == 4 and np.all(np.isfinite(series)) for series in result.history.values())
    assert result.start == 1 and len(result.seconds) == 4
    assert [iteration for iteration, _ in result.grids] == [2, 4]
    assert result.grids[0][1].shape == (16, 28, 28) and result.grids[0][1].dtype == np.uint8
    assert sorted(p.name for p in grids.iterdir()) == ["iteration_000002.png", "iteration_000004.png"]


def test_checkpoint_resume_repeats_the_same_run(uninterrupted, tmp_path):
    """A fresh run stopped at 2 and resumed to 4 equals the uninterrupted run (same seed)."""
    (reference, weights), _ = uninterrupted
    run(2, tmp_path)
    assert {p.name for p in tmp_path.iterdir()} >= {
        "generator.weights.h5", "discriminator.weights.h5", "state.npz"}
    resumed, resumed_weights = run(4, tmp_path)
    assert resumed.start == 3 and len(resumed.seconds) == 2
    assert resumed.history == reference.history
    assert [it for it, _ in resumed.grids] == [2, 4]
    for a, b in zip(weights, resumed_weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_the_loop_trains_d_and_g_and_g_steps_leave_d_alone():
    """Every combined.train_on_batch inside the loop leaves all of D's weights as D's own step left them."""
    generator, discriminator, combined = build(dropout=0.25)
    d_start, g_start = values(discriminator.weights), values(generator.weights)
    original = combined.train_on_batch
    untouched = []

    def watched(*args, **kwargs):
        before = values(discriminator.weights)
        result = original(*args, **kwargs)
        untouched.append(all(np.array_equal(a, b) for a, b in zip(before, values(discriminator.weights))))
        return result

    combined.train_on_batch = watched
    (x_train, _), _ = data.load_mnist(mode="quick")
    gan.train(generator, discriminator, combined, x_train[:256], iterations=3, batch_size=8,
              sample_interval=None, progress=False)
    assert untouched == [True, True, True]
    d_changed = [not np.array_equal(a, b) for a, b in zip(d_start, values(discriminator.weights))]
    assert all(d_changed), "every D weight, moving statistics included, moves in D's own steps"
    assert all(not np.array_equal(a, b) for a, b in zip(g_start, values(generator.trainable_weights)))


def test_plain_step_updates_d_exactly_as_ds_own_steps_do():
    """The plain step's D equals a D trained by its two updates alone: G's update left D untouched."""
    real, noise_d, noise_g = real_batch(8), noise(8), noise(8, seed=2)
    generator, discriminator, _ = build()
    before_g = values(generator.trainable_weights)
    step = gan.make_plain_train_step(generator, discriminator, adam(), adam())
    losses = step(real, noise_d, noise_g)
    assert len(losses) == 3 and all(np.isfinite(float(loss)) for loss in losses)
    assert all(not np.array_equal(a, b) for a, b in zip(before_g, values(generator.trainable_weights)))

    ref_generator, reference, _ = build()  # same seed: the same initial weights
    optimizer, bce = adam(), keras.losses.BinaryCrossentropy()
    fake = ref_generator(noise_d, training=False)
    for images, label in ((real, 1.0), (fake, 0.0)):
        with tf.GradientTape() as tape:
            loss = bce(np.full((8, 1), label, np.float32), reference(images, training=True))
        weights = reference.trainable_weights
        optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
    assert moving_statistics(discriminator)
    # Graph and eager sum in other orders, and Adam's first step divides by sqrt(v) + 1e-7, so
    # near-zero gradients differ by a few % of a step (2e-4); a G step that moved D, or its
    # moving statistics (momentum 0.8), would differ by a whole step or far more.
    for ours, theirs in zip(values(discriminator.weights), values(reference.weights)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=2e-5)


def test_bad_loop_arguments_raise_value_error():
    generator, discriminator, combined = build()
    images = real_batch(64)
    for kwargs in ({"fakes": "sometimes"}, {"iterations": 0}, {"sample_interval": 0}):
        arguments = dict(iterations=1, progress=False) | kwargs
        with pytest.raises(ValueError):
            gan.train(generator, discriminator, combined, images, **arguments)
    with pytest.raises(ValueError):
        gan.make_plain_train_step(generator, discriminator, adam(), adam(), fakes="sometimes")


def test_fakes_from_the_generator_in_training_mode():
    result, _ = run(2, fakes="training")
    assert all(len(series) == 2 and np.all(np.isfinite(series)) for series in result.history.values())
