"""genlab.tfgan makes TF-GAN's metrics and losses usable on TF >= 2.16 (where its import fails)."""

import subprocess
import sys

import numpy as np
import scipy.linalg
import tensorflow as tf

from genlab.tfgan import tfgan_eval, tfgan_losses


def test_plain_import_really_fails_so_the_shim_is_needed():
    # If this starts passing (a fixed TF-GAN release), genlab.tfgan can be simplified.
    result = subprocess.run([sys.executable, "-c", "import tensorflow_gan"], capture_output=True, text=True)
    assert result.returncode != 0 and "estimator" in result.stderr


def _features(seed, shift=0.0, n=400, d=8):
    return np.random.default_rng(seed).normal(loc=shift, size=(n, d)).astype(np.float32)


def test_frechet_distance_matches_scipy():
    a, b = _features(0), _features(1, shift=0.3)
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    expected = np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a + cov_b - 2 * scipy.linalg.sqrtm(cov_a @ cov_b).real)
    got = float(tfgan_eval.frechet_classifier_distance_from_activations(a, b))
    assert np.isclose(got, expected, rtol=1e-3)


def test_classifier_score_and_kernel_distance_run():
    logits = np.zeros((100, 10), np.float32)  # uniform predictions: score 1
    assert np.isclose(float(tfgan_eval.classifier_score_from_logits(logits)), 1.0, atol=1e-5)
    confident = np.eye(10, dtype=np.float32)[np.arange(100) % 10] * 50  # certain and balanced: score 10
    assert np.isclose(float(tfgan_eval.classifier_score_from_logits(confident)), 10.0, rtol=1e-3)
    kid_same = float(tfgan_eval.kernel_classifier_distance_from_activations(
        tf.constant(_features(0)), tf.constant(_features(2))))
    kid_shifted = float(tfgan_eval.kernel_classifier_distance_from_activations(
        tf.constant(_features(0)), tf.constant(_features(2, shift=1.0))))
    assert abs(kid_same) < 0.05 < kid_shifted


def test_sliced_wasserstein_and_losses_run():
    images = tf.random.stateless_uniform((4, 32, 32, 3), seed=(1, 2))
    distances = tfgan_eval.sliced_wasserstein_distance(images, images, resolution_min=16)
    assert len(distances) >= 1
    real_logits = tf.constant([[3.0], [2.0]])
    fake_logits = tf.constant([[-3.0], [-2.0]])
    d_loss = float(tfgan_losses.wargs.minimax_discriminator_loss(real_logits, fake_logits))
    # D is winning: the non-saturating ("modified") G loss is large, the
    # minimax G loss (minus D's loss on fakes) is near zero from below.
    g_loss = float(tfgan_losses.wargs.modified_generator_loss(fake_logits))
    minimax_g_loss = float(tfgan_losses.wargs.minimax_generator_loss(fake_logits))
    assert 0 < d_loss < g_loss
    assert -d_loss < minimax_g_loss < 0
