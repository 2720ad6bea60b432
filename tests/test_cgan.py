"""genlab.models.cgan: the label steers G, D judges image and label, D stays frozen in G's step.

Also the conditional path of genlab.gan.train and the shipped conditional generator's
recorded evaluation (FID and class agreement), reproduced.
"""

import numpy as np
import pytest

from genlab import quiet  # noqa: F401  (TensorFlow without its start-up logs)
from genlab import data, evaluation, gan, pretrained, registry
from genlab.models import cgan, dcgan

import keras  # noqa: E402


def values(variables):
    return [np.array(variable.numpy(), copy=True) for variable in variables]


def same(before, variables):
    return all(np.array_equal(old, new.numpy()) for old, new in zip(before, variables))


@pytest.fixture(scope="module")
def models():
    keras.utils.set_random_seed(0)
    return cgan.build_gan()


def test_shapes_and_where_the_label_enters(models):
    generator, discriminator, combined = models
    assert generator.input_shape == [(None, cgan.LATENT_DIM), (None, 1)]
    assert generator.output_shape == (None, 28, 28, 1)
    assert discriminator.input_shape == [(None, 28, 28, 1), (None, 1)]
    assert discriminator.output_shape == (None, 1)
    assert combined.input_shape == [(None, cgan.LATENT_DIM), (None, 1)] and combined.output_shape == (None, 1)
    # G: the Dense layer reads z and the one-hot label (100 + 10 inputs); D: the first
    # convolution reads the image and 10 label maps. Nothing else differs from notebook 05's.
    dense = 7 * 7 * 128
    assert generator.count_params() - dcgan.build_generator().count_params() == cgan.NUM_CLASSES * dense
    assert discriminator.count_params() - dcgan.build_discriminator().count_params() == cgan.NUM_CLASSES * 9 * 32


def test_the_generators_output_depends_on_the_label(models):
    """Same z, different labels: different images (untrained G); same label: the same image."""
    generator = models[0]
    z = np.random.default_rng(0).normal(size=(1, cgan.LATENT_DIM)).astype("float32")
    images = np.stack([generator.predict([z, np.array([[label]])], verbose=0)[0] for label in range(10)])
    differences = [np.abs(images[a] - images[b]).max() for a in range(10) for b in range(a + 1, 10)]
    assert min(differences) > 1e-3
    again = generator.predict([z, np.array([[3]])], verbose=0)[0]
    np.testing.assert_allclose(again, images[3], atol=1e-6)


def test_d_sees_the_label_as_constant_one_hot_maps(models):
    discriminator = models[1]
    probe = keras.Model(discriminator.inputs, discriminator.get_layer("label_maps").output)
    labels = np.array([[0], [7], [9]], np.int32)
    maps = probe.predict([np.zeros((3, 28, 28, 1), np.float32), labels], verbose=0)
    assert maps.shape == (3, 28, 28, 10)
    expected = np.broadcast_to(np.eye(10, dtype=np.float32)[labels[:, 0]][:, None, None, :], maps.shape)
    np.testing.assert_array_equal(maps, expected)


def test_d_is_frozen_in_gs_step_and_trains_in_its_own(models):
    generator, discriminator, combined = models
    rng = np.random.default_rng(1)
    noise = rng.normal(size=(8, cgan.LATENT_DIM)).astype("float32")
    labels = rng.integers(0, 10, (8, 1)).astype(np.int32)
    d_before, g_before = values(discriminator.weights), values(generator.weights)
    combined.train_on_batch([noise, labels], np.ones((8, 1), np.float32))
    assert same(d_before, discriminator.weights), "a G step changed D (weights or moving statistics)"
    assert not same(g_before, generator.weights), "a G step did not change G"
    (x_train, y_train), _ = data.load_mnist(mode="quick")
    images = data.scale_images(x_train[:8])[..., None]
    discriminator.train_on_batch([images, y_train[:8].reshape(-1, 1)], np.ones((8, 1), np.float32))
    assert not same(d_before, discriminator.trainable_weights), "D did not learn in its own step"


def test_the_loop_trains_a_conditional_gan_and_draws_grids_by_class():
    keras.utils.set_random_seed(0)
    generator, discriminator, combined = cgan.build_gan()
    (x_train, y_train), _ = data.load_mnist(mode="quick")
    d_before, g_before = values(discriminator.weights), values(generator.weights)
    result = gan.train(generator, discriminator, combined, x_train[:64], labels=y_train[:64], num_classes=10,
                       iterations=2, batch_size=8, sample_interval=2, fixed_noise=10, progress=False)
    assert all(len(series) == 2 and np.all(np.isfinite(series)) for series in result.history.values())
    assert result.grids[0][1].shape == (10, 28, 28)
    assert not same(d_before, discriminator.weights) and not same(g_before, generator.weights)
    with pytest.raises(ValueError, match="one label per image"):
        gan.train(generator, discriminator, combined, x_train[:64], labels=y_train[:10], iterations=1,
                  progress=False)


def test_class_agreement_and_the_sampler():
    assert cgan.class_agreement([1, 2, 3, 4], [1, 2, 0, 4]) == 0.75
    assert list(cgan.requested_labels(12)) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]
    with pytest.raises(ValueError):
        cgan.class_agreement([1, 2], [1])
    generator = cgan.build_generator()
    sample = cgan.sampler(generator)
    assert sample(4, seed=0).shape == (4, 28, 28) and sample(4, seed=0).dtype == np.uint8
    np.testing.assert_array_equal(sample(4, seed=5), sample(4, seed=5))


@pytest.mark.skipif("cgan_mnist" not in pretrained.names(), reason="cgan_mnist not shipped yet")
def test_the_shipped_conditional_gan_reproduces_its_recorded_evaluation():
    """Same generator, noise, labels and real subset: the recorded FID and class agreement come back."""
    info = pretrained.info("cgan_mnist")
    recorded = info["evaluation_check"]
    generator = registry.get("cgan_mnist").generator()
    samples = cgan.sampler(generator)(recorded["n"], seed=recorded["seed"])
    result = evaluation.evaluate(samples, "mnist", n=recorded["n"], seed=recorded["seed"], which=("FID",))
    fid = {label: float(result[label]["FID"]) for label in result.values}
    assert fid["samples"] == pytest.approx(recorded["values"]["samples"]["FID"], rel=0.02)
    assert fid["real train (floor)"] < fid["samples"] < fid["uniform noise (ceiling)"] / 5
    agreement = info["class_agreement"]
    measured = cgan.measure_agreement(generator, n=agreement["n"], seed=agreement["seed"])
    assert measured["agreement"] == pytest.approx(agreement["agreement"], abs=0.01)
    assert info["settings"]["iterations"] == cgan.ITERATIONS["full"]
