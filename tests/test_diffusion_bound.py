"""Diffusion's variational bound in bits/dim (genlab.models.diffusion_bound), checked where it is known exactly."""

import numpy as np
import pytest

from genlab.models import diffusion, diffusion_bound

SCHEDULE = diffusion.Schedule("cosine", timesteps=40)


def exact_eps_for(image):
    """The noise predictor that is exact when the data is one image: eps = (x_t - sqrt(abar) x*) / sqrt(1 - abar)."""
    target = image.astype(np.float64) / 127.5 - 1.0

    def eps_fn(x_t, t):
        abar = SCHEDULE.alpha_bars[np.asarray(t)].reshape(-1, 1, 1, 1)
        return (x_t - np.sqrt(abar) * target[None, ..., None]) / np.sqrt(1 - abar)

    return eps_fn


def test_bins_are_a_distribution_over_the_256_levels():
    levels = np.arange(256) / 127.5 - 1.0
    for mean, std in [(0.3, 0.01), (-0.99, 0.001), (0.5, 1.0), (2.0, 0.05), (0.1, 1e-4)]:
        log_p = diffusion_bound._log_bin_probability(levels, mean, std)
        assert np.all(np.isfinite(log_p)) and np.exp(log_p).sum() == pytest.approx(1.0, abs=1e-9)


def test_the_exact_predictor_leaves_only_the_prior_and_the_decoder():
    """With the one-image data's exact eps the model's mean is the posterior's: every KL term is 0."""
    image = np.random.default_rng(0).integers(0, 256, (6, 6)).astype(np.uint8)
    eps_fn, rng = exact_eps_for(image), np.random.default_rng(1)
    x0 = image[None, ..., None].astype(np.float64) / 127.5 - 1.0
    kl = [float(diffusion_bound.terms_in_nats(eps_fn, x0, SCHEDULE, np.array([t]), rng)[0]) for t in range(1, 40)]
    assert max(abs(value) for value in kl) < 1e-6
    decoder = float(diffusion_bound.terms_in_nats(eps_fn, x0, SCHEDULE, np.array([0]), rng)[0])
    # The decoder's mean is x0 itself: each pixel's bin holds 2 Phi(h / sigma) - 1 (or Phi(h / sigma) at the ends).
    from scipy.stats import norm

    h, sigma = 1.0 / 255.0, np.sqrt(SCHEDULE.betas[0])
    ends = np.isin(image, (0, 255))
    expected = -(np.log(norm.cdf(h / sigma)) * ends + np.log(2 * norm.cdf(h / sigma) - 1) * ~ends).sum()
    assert decoder == pytest.approx(expected, rel=1e-6)
    total, _, _ = diffusion_bound.bits_per_dim(eps_fn, image[None], SCHEDULE)
    prior = float(diffusion_bound.prior_term_in_nats(x0, SCHEDULE)[0])
    assert total == pytest.approx((prior + expected) / (36 * np.log(2)), rel=1e-6)


def test_a_worse_predictor_has_a_worse_bound_and_the_strided_estimate_is_unbiased():
    images = np.random.default_rng(2).integers(0, 256, (3, 6, 6)).astype(np.uint8)
    exact = exact_eps_for(images[0])
    noisy = lambda x_t, t: exact(x_t, t) * 0.9   # noqa: E731  (a predictor that is a little off)
    full, _, _ = diffusion_bound.bits_per_dim(noisy, images, SCHEDULE, seed=3)
    best, _, _ = diffusion_bound.bits_per_dim(exact, images[:1], SCHEDULE, seed=3)
    assert best < diffusion_bound.bits_per_dim(noisy, images[:1], SCHEDULE, seed=3)[0]
    strided = [diffusion_bound.bits_per_dim(noisy, images, SCHEDULE, terms=5, seed=s, exact_ends=3)[0]
               for s in range(60)]
    spread = np.std(strided) / np.sqrt(len(strided))
    assert abs(np.mean(strided) - full) < 4 * spread + 0.02 * full
