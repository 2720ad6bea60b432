"""genlab.models.vae: the reparameterization layer, the KL term, the loss, the builders and the shipped VAEs."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from genlab import evaluation, marginal_likelihood, pretrained, registry
from genlab.models import vae


def test_sampling_draws_have_the_requested_mean_and_variance():
    n = 40_000
    mean = np.tile(np.array([[2.0, -1.0, 0.0]], "float32"), (n, 1))
    std = np.array([0.5, 2.0, 1.0], "float32")
    log_var = np.tile(np.log(std ** 2)[None], (n, 1))
    z = np.asarray(vae.Sampling(seed=0)([mean, log_var]))
    assert z.shape == (n, 3)
    # Sample mean within 4 standard errors; sample variance within 4 of its standard errors (2 sigma^4 / n).
    assert np.all(np.abs(z.mean(axis=0) - mean[0]) < 4 * std / np.sqrt(n))
    assert np.all(np.abs(z.var(axis=0) - std ** 2) < 4 * std ** 2 * np.sqrt(2.0 / n))
    # The draws are Gaussian: the standardized values have no skew and no excess kurtosis to speak of.
    standardized = (z - mean[0]) / std
    assert np.all(np.abs((standardized ** 3).mean(axis=0)) < 0.05)
    assert np.all(np.abs((standardized ** 4).mean(axis=0) - 3.0) < 0.15)


def test_sampling_is_differentiable_in_mu_and_sigma_and_seeded():
    mean = tf.Variable(np.zeros((5, 2), "float32"))
    log_var = tf.Variable(np.zeros((5, 2), "float32"))
    layer = vae.Sampling(seed=3)
    with tf.GradientTape(persistent=True) as tape:
        z = layer([mean, log_var])
        total = tf.reduce_sum(z)
    np.testing.assert_allclose(tape.gradient(total, mean), np.ones((5, 2)))          # dz/dmu = 1
    epsilon = z.numpy() - mean.numpy()                                                 # sigma = 1 here
    np.testing.assert_allclose(tape.gradient(total, log_var), 0.5 * epsilon, rtol=1e-5)  # dz/dlog_var = sigma eps / 2
    again = vae.Sampling(seed=3)([mean, log_var]).numpy()
    np.testing.assert_array_equal(z.numpy(), again)
    config = layer.get_config()
    assert config["seed"] == 3 and vae.Sampling.from_config(config).seed == 3


def test_kl_matches_its_closed_form_tfp_and_monte_carlo():
    rng = np.random.default_rng(0)
    mean = rng.normal(size=(7, 4)).astype("float32")
    log_var = rng.normal(scale=0.7, size=(7, 4)).astype("float32")
    ours = np.asarray(vae.kl_divergence(mean, log_var))
    closed = 0.5 * np.sum(np.exp(log_var) + mean ** 2 - 1.0 - log_var, axis=-1)
    np.testing.assert_allclose(ours, closed, rtol=1e-5)
    library = tfp.distributions.kl_divergence(tfp.distributions.Normal(mean, np.exp(0.5 * log_var)),
                                              tfp.distributions.Normal(0.0, 1.0)).numpy().sum(axis=-1)
    np.testing.assert_allclose(ours, library, rtol=1e-4, atol=1e-5)
    # Monte Carlo: E_q[log q(z) - log p(z)] with 200,000 draws per example.
    std = np.exp(0.5 * log_var)
    z = mean + std * rng.normal(size=(200_000, 7, 4))
    log_q = -0.5 * (((z - mean) / std) ** 2 + np.log(2 * np.pi) + log_var)
    log_p = -0.5 * (z ** 2 + np.log(2 * np.pi))
    np.testing.assert_allclose((log_q - log_p).sum(axis=-1).mean(axis=0), ours, atol=0.05)
    assert np.allclose(vae.kl_divergence(np.zeros((2, 3)), np.zeros((2, 3))), 0.0)   # q = prior


def test_reconstruction_loss_is_the_bernoulli_negative_log_likelihood():
    rng = np.random.default_rng(1)
    images = (rng.random((3, 28, 28, 1)) > 0.5).astype("float32")
    logits = rng.normal(size=(3, 28, 28, 1)).astype("float32")
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    expected = -(images * np.log(p) + (1 - images) * np.log(1 - p)).sum(axis=(1, 2, 3))
    np.testing.assert_allclose(np.asarray(vae.reconstruction_loss(images, logits)), expected, rtol=1e-4)


def test_train_step_logs_both_terms_and_minimises_their_weighted_sum():
    model = vae.build_small_vae(2, hidden=16, beta=2.0, seed=0)
    grey = np.random.default_rng(2).integers(0, 256, (256, 28, 28), dtype=np.uint8)
    history = vae.fit(model, grey, 4, seed=0)
    images = vae.as_input((grey > 127).astype(np.uint8))
    logs = {key: values[-1] for key, values in history.history.items()}
    assert set(logs) == {"loss", "reconstruction", "kl"}
    assert logs["loss"] == pytest.approx(logs["reconstruction"] + 2.0 * logs["kl"], rel=1e-4)
    elbo = vae.elbo(model, images[:8])
    assert elbo.shape == (8,) and np.all(elbo < 0)


def test_builders_shapes_and_bad_arguments():
    encoder, decoder = vae.build_encoder(), vae.build_decoder()
    assert encoder.output_shape == [(None, vae.LATENT_DIM), (None, vae.LATENT_DIM)]
    assert decoder.input_shape == (None, vae.LATENT_DIM) and decoder.output_shape == (None, 28, 28, 1)
    with pytest.raises(ValueError):
        vae.build_encoder(latent_dim=0)
    with pytest.raises(ValueError):
        vae.build_decoder(image_shape=(30, 30, 1))
    with pytest.raises(ValueError, match="0/1"):
        vae.as_input(np.zeros((2, 28, 28), "float32"))


def test_sharpness_is_lower_for_blurred_images():
    rng = np.random.default_rng(3)
    images = (rng.random((4, 28, 28)) > 0.7).astype(np.uint8) * 255
    blurred = (images[:, :-1, :-1].astype(float) + images[:, 1:, :-1] + images[:, :-1, 1:] + images[:, 1:, 1:]) / 4
    blurred = np.pad(blurred, ((0, 0), (0, 1), (0, 1))).round().astype(np.uint8)
    assert np.all(vae.mean_gradient_magnitude(blurred) < vae.mean_gradient_magnitude(images))
    assert np.all(vae.mean_gradient_magnitude(np.full((2, 28, 28), 90, np.uint8)) == 0)


def test_the_shipped_vae_scores_what_its_manifest_records():
    """Same VAE, same noise, same real subset: the recorded FID is reproduced, between floor and ceiling."""
    info = pretrained.info("vae_mnist")
    recorded = info["evaluation_check"]
    models = pretrained.load("vae_mnist")
    assert {"vae", "latent_2d", "beta_2d", "anomaly"} <= set(vars(models))
    samples = registry.get("vae_mnist").module().sampler(models)(recorded["n"], seed=recorded["seed"])
    result = evaluation.evaluate(samples, "mnist", n=recorded["n"], seed=recorded["seed"], which=("FID",))
    fid = {label: float(result[label]["FID"]) for label in result.values}
    assert fid["samples"] == pytest.approx(recorded["values"]["samples"]["FID"], rel=0.02)
    assert fid["real train (floor)"] < fid["samples"] < fid["uniform noise (ceiling)"] / 5
    assert info["settings"]["iterations"] == vae.ITERATIONS["full"]


def test_the_shipped_vae_meets_the_benchmark_targets_on_the_fixed_test_digits():
    """Issue 22's targets, from the manifest (ELBO on all 10,000, K = 1,000 on the first IWAE_DIGITS),
    and the ELBO recomputed on quick mode's first 1,000 test digits agrees with it."""
    from genlab import data

    likelihood = pretrained.info("vae_mnist")["likelihood"]
    assert likelihood["n"] == 10_000 and likelihood["importance_weighted"]["samples"] == vae.IWAE_SAMPLES
    assert likelihood["elbo"]["nats"] >= -92.0 and likelihood["importance_weighted"]["nats"] >= -88.0
    assert likelihood["importance_weighted"]["nats"] > likelihood["elbo"]["nats"]
    _, (x_test, _) = data.load_binarized_mnist(mode="quick")
    elbo = vae.elbo(pretrained.load("vae_mnist").vae, vae.as_input(x_test), samples=2).mean()
    assert elbo == pytest.approx(likelihood["elbo"]["nats"], abs=3.0)   # 1,000 of the 10,000 digits


def _tiny_vae(seed=0):
    """A VAE on 2x2 binary images with a 1-D latent: p(x) can be integrated numerically."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    images = keras.Input((2, 2, 1))
    hidden = layers.Dense(8, activation="tanh")(layers.Flatten()(images))
    encoder = keras.Model(images, [layers.Dense(1)(hidden), layers.Dense(1)(hidden)])
    z = keras.Input((1,))
    decoder = keras.Model(z, layers.Reshape((2, 2, 1))(layers.Dense(4)(layers.Dense(8, activation="tanh")(z))))
    # Larger decoder weights: p(x | z) then changes a lot with z, and p(x) is far from uniform.
    decoder.set_weights([3.0 * w for w in decoder.get_weights()])
    # q(z | x) = N(0.5, 1.5^2) for every x: wider than the posterior, so the weights p(x, z) / q(z | x)
    # are bounded and K draws pin log p(x) down, while log p(z) - log q(z | x) is not zero.
    weights = encoder.get_weights()
    weights[2][:], weights[3][:] = 0.0, 0.5          # z_mean: kernel, bias
    weights[4][:], weights[5][:] = 0.0, np.log(1.5 ** 2)   # z_log_var
    encoder.set_weights(weights)
    return vae.VAE(encoder, decoder, seed=seed)


def test_the_importance_weighted_estimate_approaches_the_exact_log_likelihood():
    """On 2x2 images and a 1-D z, log p(x) = log of an integral that quadrature computes exactly enough."""
    model = _tiny_vae()
    images = np.array([[(k >> bit) & 1 for bit in range(4)] for k in range(16)], np.float32).reshape(16, 2, 2, 1)
    grid = np.linspace(-9.0, 9.0, 20_001)[:, None]
    logits = np.asarray(model.decoder(grid.astype(np.float32)), np.float64).reshape(len(grid), 4)             # (grid, pixels)
    x = images.reshape(16, 4).astype(np.float64)
    log_px_given_z = (x[:, None] * -np.logaddexp(0, -logits) + (1 - x[:, None]) * -np.logaddexp(0, logits)).sum(-1)
    log_prior = -0.5 * (grid[:, 0] ** 2 + np.log(2 * np.pi))
    from scipy.special import logsumexp
    exact = logsumexp(log_px_given_z + log_prior, axis=1) + np.log(grid[1, 0] - grid[0, 0])   # (16,)
    assert abs(logsumexp(exact)) < 1e-6              # the 16 images' probabilities sum to 1
    assert exact.max() - exact.min() > 1.0           # and differ: the check is not of a uniform p(x)
    k5000 = marginal_likelihood.importance_weighted(model, images, samples=5000, seed=0)
    tiled = np.tile(images, (500, 1, 1, 1))           # 500 single draws per image
    k1 = marginal_likelihood.importance_weighted(model, tiled, samples=1, seed=0).reshape(500, 16).mean(axis=0)
    np.testing.assert_allclose(k5000, exact, atol=0.05)
    # K = 1 is the ELBO on average: below log p(x) by the gap KL(q || posterior).
    elbo = vae.elbo(model, tiled).reshape(500, 16).mean(axis=0)
    assert np.all(elbo <= exact) and abs(k1.mean() - elbo.mean()) < 0.15
    assert np.mean(exact - k5000) < np.mean(exact - elbo) - 0.1
