"""genlab.training: the alternating loop records, samples, checkpoints, resumes and repeats.

Also the plain ``tf.function`` step the benchmark times the loop against.
"""

import numpy as np
import pytest

import genlab  # noqa: F401  (quiet TensorFlow first)
from genlab import data, training

from tiny_gan import adam, build, moving_statistics, noise, real_batch, values  # noqa: E402


def run(iterations, checkpoint_dir=None, **kwargs):
    generator, discriminator, combined = build(dropout=0.25)
    (x_train, _), _ = data.load_mnist(source="shipped")
    result = training.train(generator, discriminator, combined, x_train[:256], iterations=iterations,
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


def test_plain_step_matches_the_mechanism():
    generator, discriminator, _ = build()
    step = training.make_plain_train_step(generator, discriminator, adam(), adam())
    d_stats = moving_statistics(discriminator)
    before_g = values(generator.trainable_weights)
    losses = step(real_batch(8), noise(8), noise(8, seed=2))
    assert len(losses) == 3 and all(np.isfinite(float(loss)) for loss in losses)
    after_d_step = values(d_stats)
    assert all(not np.array_equal(a, b) for a, b in zip(before_g, values(generator.trainable_weights)))
    assert after_d_step and all(np.all(np.isfinite(a)) for a in after_d_step)


def test_bad_loop_arguments_raise_value_error():
    generator, discriminator, combined = build()
    images = real_batch(64)
    for kwargs in ({"fakes": "sometimes"}, {"iterations": 0}, {"sample_interval": 0}):
        arguments = dict(iterations=1, progress=False) | kwargs
        with pytest.raises(ValueError):
            training.train(generator, discriminator, combined, images, **arguments)
    with pytest.raises(ValueError):
        training.make_plain_train_step(generator, discriminator, adam(), adam(), fakes="sometimes")


def test_fakes_from_the_generator_in_training_mode():
    result, _ = run(2, fakes="training")
    assert all(len(series) == 2 and np.all(np.isfinite(series)) for series in result.history.values())
