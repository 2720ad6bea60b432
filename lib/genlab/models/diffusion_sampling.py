"""The samplers of notebook 11's diffusion models: DDPM's ancestral update and DDIM's, over any noise predictor.

Why it exists: a sampler needs only a noise predictor ``eps_fn(x, t)`` and a schedule's
alpha_bar, not the networks or the settings, so it is kept apart from
:mod:`genlab.models.diffusion` (which re-exports these under its own name, the notebook's)
and is shared by the training and measuring modules without an import cycle.
Ho et al. (2020), algorithm 2; Song et al. (2021), eq. 12.
"""

import numpy as np


def ddim_step(x_t, eps, abar_t, abar_prev, eta=0.0, noise=None, clip=None):
    """One DDIM update x_t -> x_s (s < t): predict x0, then re-noise to abar_s (eta=1: DDPM's variance)."""
    x0 = (x_t - np.sqrt(1 - abar_t) * eps) / np.sqrt(abar_t)
    if clip is not None:   # keep the predicted image in range, then use the eps consistent with it
        x0 = np.clip(x0, -clip, clip)
        eps = (x_t - np.sqrt(abar_t) * x0) / np.sqrt(1 - abar_t)
    sigma = eta * np.sqrt((1 - abar_prev) / (1 - abar_t) * (1 - abar_t / abar_prev))
    x_prev = np.sqrt(abar_prev) * x0 + np.sqrt(np.maximum(1 - abar_prev - sigma ** 2, 0.0)) * eps
    return x_prev + (sigma * noise if noise is not None and sigma > 0 else 0.0)


def ddim_sample(eps_fn, shape, schedule, steps, eta=0.0, seed=0, clip=1.0, keep=None):
    """Sample with DDIM over ``steps`` evenly spaced timesteps; ``eps_fn(x, t)`` -> eps (NumPy).

    Returns x_0, or (``keep`` = number of snapshots) (x_0, [x at evenly spaced steps, from x_T]).
    With steps = T and eta = 1 this is DDPM's ancestral sampler with the posterior variance.
    """
    rng = np.random.default_rng(seed)
    times = np.linspace(schedule.timesteps - 1, 0, steps).round().astype(int)
    x = rng.standard_normal(shape).astype(np.float32)
    path = [x]
    for index, t in enumerate(times):
        abar_t = schedule.alpha_bars[t]
        abar_prev = schedule.alpha_bars[times[index + 1]] if index + 1 < len(times) else 1.0
        noise = rng.standard_normal(shape) if eta > 0 else None
        x = ddim_step(x, eps_fn(x, int(t)), abar_t, abar_prev, eta, noise, clip).astype(np.float32)
        path.append(x)
    if keep is None:
        return x
    return x, [path[i] for i in np.linspace(0, len(path) - 1, keep).round().astype(int)]


def ddpm_step(x_t, eps, t, schedule, noise):
    """One ancestral update (Ho et al., algorithm 2): x_{t-1} = (x_t - beta_t / sqrt(1 - abar_t) eps) / sqrt(alpha_t) + sigma_t z.

    sigma_t^2 is the posterior variance beta_t (1 - abar_{t-1}) / (1 - abar_t); no noise at t = 0.
    """
    beta, alpha, abar = schedule.betas[t], schedule.alphas[t], schedule.alpha_bars[t]
    mean = (x_t - beta / np.sqrt(1 - abar) * eps) / np.sqrt(alpha)
    if t == 0:
        return mean
    return mean + np.sqrt(beta * (1 - schedule.alpha_bars[t - 1]) / (1 - abar)) * noise


def ddpm_sample(eps_fn, shape, schedule, seed=0, keep=None):
    """Ancestral sampling over all T steps from x_T ~ N(0, I); ``eps_fn(x, t)`` -> eps (NumPy)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    path = [x]
    for t in range(schedule.timesteps - 1, -1, -1):
        x = ddpm_step(x, eps_fn(x, t), t, schedule, rng.standard_normal(shape)).astype(np.float32)
        path.append(x)
    if keep is None:
        return x
    return x, [path[i] for i in np.linspace(0, len(path) - 1, keep).round().astype(int)]
