"""genlab.gan.losses: the values students compute by hand, and the saturating loss's vanishing gradient.

Issue 11 ("Done means"): the saturating generator loss's gradient is smaller
than the non-saturating one's when D(G(z)) is near 0. Proved here twice: with
respect to D's logits, and with respect to G's weights through a real D.
"""

import numpy as np
import pytest
import tensorflow as tf

from genlab import gan
from genlab.models import mlp_gan


def _gradient(loss_fn, logits):
    logits = tf.constant(logits, tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        loss = loss_fn(logits)
    return float(loss), tape.gradient(loss, logits).numpy()


def test_generator_losses_are_the_formulas():
    d_fake = np.array([0.01, 0.2, 0.5, 0.9], np.float32)
    logits = gan.losses.logit(d_fake)
    assert float(gan.losses.saturating_generator(logits)) == pytest.approx(np.mean(np.log(1 - d_fake)), rel=1e-5)
    assert float(gan.losses.non_saturating_generator(logits)) == pytest.approx(-np.mean(np.log(d_fake)), rel=1e-5)


@pytest.mark.parametrize("d_fake", [1e-4, 1e-3, 0.01])
def test_saturating_gradient_vanishes_where_d_rejects_fakes(d_fake):
    """d/dl log(1 - sigmoid(l)) = -D(G(z)) -> 0, while d/dl -log sigmoid(l) = -(1 - D(G(z))) -> -1."""
    logits = np.full(16, np.log(d_fake / (1 - d_fake)), np.float32)
    _, saturating = _gradient(gan.losses.saturating_generator, logits)
    _, non_saturating = _gradient(gan.losses.non_saturating_generator, logits)
    assert np.allclose(saturating, -d_fake / 16, rtol=1e-3)          # mean over the batch of 16
    assert np.allclose(non_saturating, -(1 - d_fake) / 16, rtol=1e-3)
    assert np.linalg.norm(saturating) < 0.02 * np.linalg.norm(non_saturating)


def test_and_the_other_way_round_where_d_is_fooled():
    logits = np.full(16, np.log(0.99 / 0.01), np.float32)
    _, saturating = _gradient(gan.losses.saturating_generator, logits)
    _, non_saturating = _gradient(gan.losses.non_saturating_generator, logits)
    assert np.linalg.norm(non_saturating) < np.linalg.norm(saturating)


def test_through_d_the_saturating_loss_gives_g_a_vanishing_gradient():
    """A D that rejects G's fakes confidently (D(G(z)) ~ 3e-4): G's weight gradient, both losses."""
    tf.keras.utils.set_random_seed(0)
    generator = mlp_gan.build_generator(8, (32, 32), (2,), activation=None, batch_norm=False)
    discriminator = mlp_gan.build_discriminator((2,), (32, 32), dropout=0.0)   # one function for both losses
    logits_of = mlp_gan.logits_model(discriminator)
    noise = tf.random.normal((64, 8), seed=1)
    # Shift D's logit so that it rejects whatever G makes: D(G(z)) = sigmoid(l - 8), near 0.
    bias = discriminator.get_layer("logit").bias
    bias.assign(bias - 8.0 - float(tf.reduce_max(logits_of(generator(noise)))))
    d_fake = discriminator(generator(noise)).numpy()
    assert d_fake.max() < 1e-3

    norms = {}
    for name, loss_fn in (("saturating", gan.losses.saturating_generator),
                          ("non_saturating", gan.losses.non_saturating_generator)):
        with tf.GradientTape() as tape:
            loss = loss_fn(logits_of(generator(noise, training=True), training=True))
        gradients = tape.gradient(loss, generator.trainable_weights)
        norms[name] = float(tf.linalg.global_norm(gradients))
    assert norms["non_saturating"] > 0
    assert norms["saturating"] < 1e-2 * norms["non_saturating"]
    # The ratio is D(G(z)) / (1 - D(G(z))) per sample: below the largest D(G(z)) here.
    assert norms["saturating"] / norms["non_saturating"] < d_fake.max() / (1 - d_fake.max()) + 1e-6
