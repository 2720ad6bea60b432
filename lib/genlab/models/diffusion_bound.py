"""Diffusion's likelihood: the variational bound (ELBO) of a DDPM on 8-bit images, in bits per dimension.

Why it exists: the lecture calls diffusion a likelihood-based model, and the
family table of notebook 13 lists its likelihood as "a bound"; notebook 11
measures that bound, so it can stand beside the PixelCNN's exact NLL and the
flow's dequantized NLL in one unit (bits/dim on the 8-bit test digits).

The bound is Ho et al.'s (2020, eq. 5) for data x_0 on 256 levels scaled to
[-1, 1], as Nichol & Dhariwal (2021) evaluate it:

    -log p(x_0) <= L_T + sum_{t=2..T} L_{t-1} + L_0

* L_T = KL(q(x_T | x_0) || N(0, I)): no parameters, near 0 for a good schedule;
* L_{t-1} = KL(q(x_{t-1} | x_t, x_0) || p(x_{t-1} | x_t)) for t = 2..T: two
  Gaussians; the model's mean comes from the predicted noise, its variance is
  fixed (``variance="posterior"``: the posterior's beta-tilde_t, the choice that
  gives the tighter bound for eps-prediction models; ``"beta"``: beta_t);
* L_0 = -log p(x_0 | x_1): a Gaussian with the model's mean and variance beta_1,
  integrated over each pixel's bin of width 2/255 (the outermost bins reach to
  -inf and +inf), so the bound is on the probability of the discrete digit.

Summing the T - 1 middle terms costs T - 1 network passes per image, too many
for a CPU; :func:`bits_per_dim` evaluates the largest ones exactly (those near
t = 1 and t = T) and ``terms`` of the others (evenly strided, the start drawn at
random per image) weighted by the stride, an unbiased estimate of the sum, and
reports its standard error over images. Timesteps here are
0-based as in :mod:`genlab.models.diffusion` (index i is the paper's t = i + 1).
"""

import numpy as np
from scipy.special import log_ndtr

EXACT_ENDS = 20    # KL terms evaluated exactly at each end of the chain (the largest; see bits_per_dim)


def _normal_kl(mean_a, var_a, mean_b, var_b):
    """KL(N(mean_a, var_a) || N(mean_b, var_b)) per element, in nats."""
    return 0.5 * (np.log(var_b / var_a) + (var_a + (mean_a - mean_b) ** 2) / var_b - 1.0)


def _log_bin_probability(x0, mean, std):
    """log P(pixel in x0's bin) under N(mean, std^2); bins of width 2/255 around the levels in [-1, 1].

    The first bin reaches to -inf and the last to +inf, so the 256 probabilities sum to 1. The
    difference of two CDFs is taken from the nearer tail in logs: in float64 a bin far from the
    mean would otherwise round to probability 0.
    """
    half = 1.0 / 255.0
    upper, lower = (x0 + half - mean) / std, (x0 - half - mean) / std
    first, last = x0 < -1 + 1e-3, x0 > 1 - 1e-3
    upper = np.where(last, np.inf, upper)
    lower = np.where(first, -np.inf, lower)
    # Left of the mean: log Phi(u) + log(1 - Phi(l) / Phi(u)); right of it, the same with the survival function.
    # (Each branch is computed everywhere and may overflow where the other one is used.)
    with np.errstate(divide="ignore"):
        left = log_ndtr(upper) + np.log1p(-np.exp(np.minimum(log_ndtr(lower) - log_ndtr(upper), -1e-300)))
        right = log_ndtr(-lower) + np.log1p(-np.exp(np.minimum(log_ndtr(-upper) - log_ndtr(-lower), -1e-300)))
    return np.where(lower + upper < 0, left, right)


def terms_in_nats(eps_fn, x0, schedule, t, rng, variance="posterior"):
    """Per image, the bound's term at 0-based timestep ``t`` (an int array, one per image), in nats.

    ``t == 0`` gives L_0 (the discrete decoder); ``t >= 1`` gives the KL term L_t of the
    0-based index (the paper's L_{t-1} at its t = index + 1). ``eps_fn(x_t, t)`` -> predicted noise.
    """
    x0 = np.asarray(x0, np.float64)
    t = np.asarray(t)
    shape = (-1,) + (1,) * (x0.ndim - 1)
    abar = schedule.alpha_bars[t].reshape(shape)
    abar_prev = np.where(t > 0, schedule.alpha_bars[np.maximum(t - 1, 0)], 1.0).reshape(shape)
    beta, alpha = schedule.betas[t].reshape(shape), schedule.alphas[t].reshape(shape)
    noise = rng.standard_normal(x0.shape)
    x_t = np.sqrt(abar) * x0 + np.sqrt(1 - abar) * noise
    eps = np.asarray(eps_fn(x_t.astype(np.float32), t.astype(np.int32)), np.float64)
    model_mean = (x_t - beta / np.sqrt(1 - abar) * eps) / np.sqrt(alpha)
    axes = tuple(range(1, x0.ndim))
    decoder = -_log_bin_probability(x0, model_mean, np.sqrt(beta)).sum(axis=axes)
    posterior_var = beta * (1 - abar_prev) / (1 - abar)
    posterior_mean = (np.sqrt(abar_prev) * beta / (1 - abar) * x0
                      + np.sqrt(alpha) * (1 - abar_prev) / (1 - abar) * x_t)
    model_var = np.maximum(posterior_var, 1e-20) if variance == "posterior" else beta
    kl = _normal_kl(posterior_mean, np.maximum(posterior_var, 1e-20), model_mean, model_var).sum(axis=axes)
    return np.where(t == 0, decoder, kl)


def prior_term_in_nats(x0, schedule):
    """L_T per image: KL(q(x_T | x_0) || N(0, I)), in nats."""
    x0 = np.asarray(x0, np.float64)
    abar = schedule.alpha_bars[-1]
    return _normal_kl(np.sqrt(abar) * x0, 1 - abar, 0.0, 1.0).sum(axis=tuple(range(1, x0.ndim)))


def bits_per_dim(eps_fn, levels, schedule, terms=None, seed=0, batch=250, variance="posterior", exact_ends=EXACT_ENDS):
    """(mean bits/dim, its standard error over images, per-image bits/dim) of uint8 images ``levels``.

    ``terms``: how many of the T - 1 KL terms to evaluate per image (None: all of them,
    exact but T - 1 network passes). Otherwise the first and last ``exact_ends`` KL terms are
    evaluated exactly (they are the largest and vary most: the terms fall roughly as 1/t from
    t = 1, and the cosine schedule's last steps are large) and ``terms`` of the ones between,
    evenly strided with a random start per image and weighted by the stride: an unbiased
    estimate of their sum. L_0 and L_T are always computed exactly.
    """
    rng = np.random.default_rng(seed)
    levels = np.asarray(levels)
    x0 = levels.reshape(len(levels), *levels.shape[1:3], -1).astype(np.float64) / 127.5 - 1.0
    dims = int(np.prod(x0.shape[1:]))
    last = schedule.timesteps - 1                        # KL terms at 0-based t = 1 .. T-1
    if terms is None or terms >= last - 2 * exact_ends:
        exact, low, high, terms = list(range(1, last + 1)), 1, 1, 0
    else:
        exact = list(range(1, exact_ends + 1)) + list(range(last - exact_ends + 1, last + 1))
        low, high = exact_ends + 1, last - exact_ends + 1    # strided over low .. high - 1
    stride = (high - low) / terms if terms else 0.0
    totals = np.zeros(len(x0))
    for start in range(0, len(x0), batch):
        part = x0[start:start + batch]
        n = len(part)
        total = prior_term_in_nats(part, schedule) + terms_in_nats(eps_fn, part, schedule, np.zeros(n, int), rng,
                                                                   variance)
        for t in exact:
            total = total + terms_in_nats(eps_fn, part, schedule, np.full(n, t), rng, variance)
        offsets = rng.uniform(0.0, stride, n)
        for k in range(terms):
            t = low + np.minimum(np.floor(offsets + k * stride).astype(int), high - low - 1)
            total = total + stride * terms_in_nats(eps_fn, part, schedule, t, rng, variance)
        totals[start:start + n] = total
    per_image = totals / (dims * np.log(2.0))
    error = float(per_image.std(ddof=1) / np.sqrt(len(per_image))) if len(per_image) > 1 else float("nan")
    return float(per_image.mean()), error, per_image
