"""The remedies do what they claim (genlab.gan.regularizers)."""

import numpy as np
import pytest

from genlab.gan import regularizers

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402


def linear_critic(weight):
    critic = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, use_bias=True)])
    critic.layers[0].set_weights([np.asarray(weight, np.float32).reshape(2, 1), np.zeros(1, np.float32)])
    return critic


def test_gradient_penalty_is_zero_for_a_1_lipschitz_critic_and_positive_otherwise():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(64, 2)).astype("float32"), rng.normal(size=(64, 2)).astype("float32")
    unit = linear_critic([0.6, 0.8])                     # gradient norm 1 everywhere
    assert float(regularizers.gradient_penalty(unit, real, fake)) == pytest.approx(0.0, abs=1e-6)
    steep = linear_critic([3.0, 4.0])                    # gradient norm 5: penalty (5 - 1)^2 = 16
    assert float(regularizers.gradient_penalty(steep, real, fake)) == pytest.approx(16.0, rel=1e-4)
    flat = linear_critic([0.0, 0.0])                     # gradient norm 0: penalty 1
    assert float(regularizers.gradient_penalty(flat, real, fake)) == pytest.approx(1.0, rel=1e-4)


def test_gradient_penalty_of_a_nonlinear_critic_on_given_interpolates():
    critic = lambda x, training=False: tf.reduce_sum(tf.square(x), axis=1, keepdims=True)   # gradient 2x
    real = np.array([[1.0, 0.0], [0.0, 2.0]], np.float32)
    fake = np.zeros((2, 2), np.float32)
    # eps = 0.5: x_hat = (0.5, 0) and (0, 1); gradient norms 1 and 2 -> ((1-1)^2 + (2-1)^2) / 2
    value = regularizers.gradient_penalty(critic, real, fake, epsilon=[0.5, 0.5])
    assert float(value) == pytest.approx(0.5, rel=1e-5)


def test_spectral_normalization_makes_the_largest_singular_value_one():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((16,)), keras.layers.Dense(32, name="a"), keras.layers.Dense(1, name="b")])
    normalized = regularizers.spectral_normalize(model, power_iterations=1)
    assert [type(layer).__name__ for layer in normalized.layers] == ["SpectralNormalization"] * 2
    kernel = normalized.layers[0].layer.kernel
    kernel.assign(kernel * 7.0)                          # make it far from 1 first
    assert regularizers.largest_singular_value(kernel) > 2.0
    x = np.random.default_rng(0).normal(size=(8, 16)).astype("float32")
    for _ in range(100):                                  # power iterations converge over training calls
        normalized(x, training=True)
    assert regularizers.largest_singular_value(normalized.layers[0].layer.kernel) == pytest.approx(1.0, abs=0.02)


def test_minibatch_stddev_appends_the_batch_spread():
    layer = regularizers.MinibatchStdDev()
    same = np.ones((4, 3), np.float32)
    out = layer(same).numpy()
    assert out.shape == (4, 4) and np.allclose(out[:, 3], 0.0, atol=1e-3)      # collapsed batch: stddev 0
    spread = np.array([[0.0], [2.0]], np.float32)                               # stddev 1
    assert np.allclose(layer(spread).numpy()[:, 1], 1.0, atol=1e-4)
    images = np.random.default_rng(0).normal(size=(8, 5, 5, 2)).astype("float32")
    grouped = regularizers.MinibatchStdDev(group_size=4)
    assert tuple(grouped(images).shape) == (8, 5, 5, 3)
    assert grouped.compute_output_shape((None, 5, 5, 2)) == (None, 5, 5, 3)
    again = regularizers.MinibatchStdDev.from_config(grouped.get_config())
    assert again.group_size == 4 and again.epsilon == grouped.epsilon
    with pytest.raises(ValueError):
        regularizers.MinibatchStdDev(group_size=1)


def test_feature_matching_is_zero_for_equal_means():
    a = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    assert float(regularizers.feature_matching(a, a[::-1])) == pytest.approx(0.0)
    assert float(regularizers.feature_matching(a, a + 1.0)) == pytest.approx(2.0)


def test_minibatch_discrimination_adds_one_feature_per_kernel_and_sees_a_collapsed_batch():
    layer = regularizers.MinibatchDiscrimination(num_kernels=5, kernel_dim=3, stddev=0.5)
    diverse = np.random.default_rng(0).normal(size=(8, 6)).astype("float32") * 3.0
    same = np.repeat(diverse[:1], 8, axis=0)                                   # G collapsed: one sample, 8 times
    out_diverse, out_same = layer(diverse).numpy(), layer(same).numpy()
    assert out_diverse.shape == (8, 11) and layer.compute_output_shape((None, 6)) == (None, 11)
    assert np.array_equal(out_diverse[:, :6], diverse)                          # the features pass unchanged
    # identical samples: every L1 distance is 0, so each added feature is sum over the 7 others of exp(0) = 7
    assert np.allclose(out_same[:, 6:], 7.0, atol=1e-5)
    assert out_diverse[:, 6:].max() < 3.5                                       # distinct samples are far apart
    # the signal is learned: T gets a gradient through exp(-distance) from a batch that is near-collapsed
    near = same + 0.01 * diverse
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(layer(near)[:, 6:])
    assert float(tf.norm(tape.gradient(total, layer.T))) > 0
    again = regularizers.MinibatchDiscrimination.from_config(layer.get_config())
    assert (again.num_kernels, again.kernel_dim, again.stddev) == (5, 3, 0.5)
    with pytest.raises(ValueError):
        regularizers.MinibatchDiscrimination(num_kernels=0)
    with pytest.raises(ValueError):
        regularizers.MinibatchDiscrimination()(np.zeros((2, 3, 3), "float32"))
