"""Progressive growing (genlab.models.progan): the fade-in blends are what the paper says, on both sides."""

import numpy as np
import pytest
from keras import ops

from genlab.models import progan


@pytest.fixture(scope="module")
def networks():
    generator, discriminator = progan.ProgressiveGenerator(), progan.ProgressiveDiscriminator()
    generator(np.zeros((1, progan.LATENT_DIM), "float32"), stage=0)
    discriminator(np.zeros((1, 7, 7, 1), "float32"), stage=0)
    return generator, discriminator


def test_the_first_call_builds_every_stage(networks):
    generator, discriminator = networks
    assert all(layer.built for layer in generator.blocks + generator.to_image + discriminator.blocks)
    assert len(generator.trainable_variables) == 2 + 2 + 4 + 4 + 3 * 2


def upsample(x):
    return np.repeat(np.repeat(np.asarray(x), 2, axis=1), 2, axis=2)


def test_generator_fades_from_the_upsampled_coarse_image_to_the_new_block(networks):
    generator, _ = networks
    z = np.random.default_rng(0).normal(size=(3, progan.LATENT_DIM)).astype("float32")
    for stage in (1, 2):
        coarse = generator(z, stage=stage - 1, alpha=1.0)
        new = generator(z, stage=stage, alpha=1.0)
        assert new.shape == (3, progan.RESOLUTIONS[stage], progan.RESOLUTIONS[stage], 1)
        np.testing.assert_allclose(generator(z, stage=stage, alpha=0.0), upsample(coarse), atol=1e-6)
        np.testing.assert_allclose(generator(z, stage=stage, alpha=0.25),
                                   0.75 * upsample(coarse) + 0.25 * np.asarray(new), atol=1e-5)


def test_discriminator_at_alpha_zero_sees_the_downsampled_image_through_the_previous_stage(networks):
    _, discriminator = networks
    x = np.random.default_rng(1).uniform(-1, 1, (4, 28, 28, 1)).astype("float32")
    for stage in (2, 1):
        size = progan.RESOLUTIONS[stage]
        x_stage = np.asarray(progan.real_at(x, stage))
        assert x_stage.shape == (4, size, size, 1)
        coarse = np.asarray(ops.average_pool(x_stage, 2, 2))
        np.testing.assert_allclose(discriminator(x_stage, stage=stage, alpha=0.0),
                                   discriminator(coarse, stage=stage - 1, alpha=1.0), atol=1e-5)
        assert not np.allclose(discriminator(x_stage, stage=stage, alpha=1.0),
                               discriminator(coarse, stage=stage - 1, alpha=1.0), atol=1e-5)


def test_real_digits_fade_the_same_way_and_average_pool_to_each_resolution():
    x = np.random.default_rng(2).uniform(-1, 1, (2, 28, 28, 1)).astype("float32")
    assert np.asarray(progan.real_at(x, 0)).shape == (2, 7, 7, 1)
    np.testing.assert_allclose(progan.real_at(x, 0)[0, 0, 0, 0], x[0, :4, :4, 0].mean(), atol=1e-6)
    faded = np.asarray(progan.real_at(x, 2, alpha=0.0))
    np.testing.assert_allclose(faded, upsample(progan.real_at(x, 1)), atol=1e-6)
    np.testing.assert_allclose(progan.real_at(x, 2, alpha=1.0), x, atol=1e-6)


def test_both_schedules_make_as_many_updates_and_the_progressive_one_grows():
    progressive, direct = progan.schedule(10), progan.schedule(10, progressive=False)
    assert sum(count for *_, count in progressive) == sum(count for *_, count in direct) == 50
    assert [stage for stage, *_ in progressive] == [0, 1, 1, 2, 2] and direct[0][:2] == (2, False)
    assert [fading for _, fading, _ in progressive] == [False, True, False, True, False]


def test_training_visits_every_phase_and_kept_samples_survive_the_results_file():
    images = np.random.default_rng(3).uniform(-1, 1, (64, 28, 28, 1)).astype("float32")
    seen = []
    generator, _ = progan.train(images, 1, seed=0, on_phase=lambda stage, fading, g: seen.append((stage, fading)))
    assert seen == list(progan.PHASES)
    grid = progan.generate(generator, 5, seed=1)
    assert grid.shape == (5, 28, 28) and grid.dtype == np.uint8
    assert np.array_equal(progan.decode(progan.encode(grid)), grid) and progan.decode({}) is None
