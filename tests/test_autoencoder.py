"""genlab.models.autoencoder: undercomplete, trained by reconstruction, random codes decode worse than reconstructions.

The mechanisms notebook 01 teaches, proved: the code is smaller than the
image; fitting lowers the reconstruction error on held-out digits; the
sampler's random codes have the training codes' per-dimension statistics
(or N(0, I)); the denoising autoencoder learns to remove the noise; and the
shipped autoencoder's recorded evaluation (FID of decoded random codes) is
reproduced and is far worse than the FID of its reconstructions.
"""

import numpy as np
import pytest

from genlab import config, data, evaluation, pretrained, registry
from genlab.models import autoencoder as ae


@pytest.fixture(scope="module")
def digits():
    (x_train, _), (x_test, _) = data.load("mnist", mode="quick")
    return data.scale_images(x_train, to="sigmoid"), data.scale_images(x_test, to="sigmoid")


def test_builders_are_undercomplete_and_mirror_each_other():
    model = ae.build_autoencoder()
    encoder, decoder = model.get_layer("encoder"), model.get_layer("decoder")
    assert encoder.output_shape == (None, ae.LATENT_DIM) and ae.LATENT_DIM < np.prod(ae.IMAGE_SHAPE)
    assert decoder.input_shape == (None, ae.LATENT_DIM) and decoder.output_shape == (None, *ae.IMAGE_SHAPE)
    assert model.count_params() == encoder.count_params() + decoder.count_params()
    assert decoder.layers[-1].activation.__name__ == "sigmoid"   # pixels in [0, 1]
    assert encoder.layers[-1].activation.__name__ == "linear"    # codes in no particular range
    with pytest.raises(ValueError, match="latent_dim"):
        ae.build_encoder(latent_dim=0)
    with pytest.raises(ValueError, match="divisible"):
        ae.build_decoder(image_shape=(30, 30, 1))


def test_fitting_lowers_the_held_out_reconstruction_error(digits):
    x_train, x_test = digits
    config.seed_everything(0)
    model = ae.compile_autoencoder(ae.build_autoencoder())
    before = float(model.evaluate(x_test[:256], x_test[:256], verbose=0))
    history = ae.fit(model, x_train[:1024], iterations=40, log_every=20, seed=0)
    after = float(model.evaluate(x_test[:256], x_test[:256], verbose=0))
    assert len(history.history["loss"]) == 2                     # one point per log_every batches
    assert model.optimizer.iterations.numpy() == 40
    assert after < 0.75 * before, (before, after)
    # The loss is the mean squared error, ||x - x_hat||^2 / pixels.
    reconstruction = model.predict(x_test[:256], verbose=0)
    assert np.mean((reconstruction - x_test[:256]) ** 2) == pytest.approx(after, rel=1e-3)


def test_sampler_draws_codes_with_the_training_codes_statistics(digits):
    x_train, _ = digits
    model = ae.build_autoencoder()
    sample = ae.sampler(model)                                    # "diagonal"
    codes = model.get_layer("encoder").predict(x_train, batch_size=500, verbose=0)
    np.testing.assert_allclose(sample.mean, codes.mean(axis=0), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(sample.std, codes.std(axis=0), rtol=1e-4, atol=1e-5)
    images = sample(8, seed=3)
    assert images.dtype == np.uint8 and images.shape == (8, 28, 28)
    np.testing.assert_array_equal(images, sample(8, seed=3))
    assert not np.array_equal(images, sample(8, seed=4))
    standard = ae.sampler(model, codes="standard")
    assert np.all(standard.mean == 0) and np.all(standard.std == 1)
    with pytest.raises(ValueError, match="codes"):
        ae.sampler(model, codes="uniform")


def test_corrupt_adds_clipped_gaussian_noise(digits):
    x_train, _ = digits
    clean = x_train[:200]
    noisy = ae.corrupt(clean, noise_std=0.5, seed=1)
    assert noisy.shape == clean.shape and noisy.dtype == np.float32
    assert noisy.min() >= 0.0 and noisy.max() <= 1.0
    np.testing.assert_array_equal(noisy, ae.corrupt(clean, noise_std=0.5, seed=1))
    assert np.mean(np.abs(noisy - clean)) > 0.2                   # heavy noise, even after clipping
    # Where the clean pixel is mid-grey and the noise small, clipping is rare: the noise keeps its std.
    assert 0.19 < np.std(ae.corrupt(np.full((200, 28, 28, 1), 0.5), 0.2, seed=2) - 0.5) < 0.21


@pytest.fixture(scope="module")
def shipped():
    return pretrained.load("autoencoder_mnist")


def test_denoising_training_removes_noise_the_plain_autoencoder_keeps(shipped, digits):
    x_train, x_test = digits
    import keras

    config.seed_everything(0)
    denoiser = ae.compile_autoencoder(ae.build_autoencoder())
    denoiser.set_weights(shipped.get_weights())
    noisy_test = ae.corrupt(x_test[:500], seed=1)
    plain_error = np.mean((shipped.predict(noisy_test, verbose=0) - x_test[:500]) ** 2)
    ae.fit(denoiser, x_train, iterations=60, log_every=60, noise_std=ae.NOISE_STD, seed=0)
    denoised_error = np.mean((denoiser.predict(noisy_test, verbose=0) - x_test[:500]) ** 2)
    assert denoised_error < 0.7 * plain_error, (plain_error, denoised_error)
    keras.backend.clear_session()


def test_shipped_autoencoder_reproduces_its_evaluation_and_reconstructs_far_better_than_it_samples(shipped, digits):
    """The recorded FID of decoded random codes is reproduced; reconstructions of held-out digits beat it."""
    info = pretrained.info("autoencoder_mnist")
    recorded = info["evaluation_check"]
    assert info["settings"]["iterations"] == ae.ITERATIONS["full"]
    assert info["builder"] == f"genlab.models.autoencoder:{ae.SHIPPED_BUILDER}"
    samples = registry.get("autoencoder_mnist").sampler()(recorded["n"], seed=recorded["seed"])
    random_codes = evaluation.evaluate(samples, "mnist", n=recorded["n"], seed=recorded["seed"], which=("FID",))
    fid = {label: float(random_codes[label]["FID"]) for label in random_codes.values}
    assert fid["samples"] == pytest.approx(recorded["values"]["samples"]["FID"], rel=0.02)
    reference = evaluation.references("mnist", recorded["n"], recorded["seed"])[0]     # the digits FID compares with
    reconstructions = data.to_uint8(shipped.predict(data.scale_images(reference, to="sigmoid"), verbose=0),
                                    from_range="sigmoid")
    reconstruction_fid = float(evaluation.evaluate(reconstructions, "mnist", n=recorded["n"], seed=recorded["seed"],
                                                   which=("FID",), references_too=False)["samples"]["FID"])
    # Reconstructions of the reference digits themselves may score below the floor (another real set).
    assert reconstruction_fid < 2 * fid["real train (floor)"]
    assert 5 * reconstruction_fid < fid["samples"] < fid["uniform noise (ceiling)"] / 2
