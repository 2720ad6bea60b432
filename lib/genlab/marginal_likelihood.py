"""Estimates of log p(x) where the likelihood is an integral over latent variables.

A VAE's p(x) = integral of p(x | z) p(z) dz has no closed form; its ELBO is a lower
bound. Importance sampling with the encoder as proposal gives a tighter one that
approaches log p(x) as the number of draws K grows (Burda, Grosse & Salakhutdinov,
"Importance Weighted Autoencoders", ICLR 2016), the figure VAE papers report on
binarized MNIST. It lives apart from ``genlab.models.vae`` because it is an
evaluation tool, tested against an exact integral (``tests/test_vae.py``), not a
part of the model; notebook 02's exercise 2 derives it in NumPy.
"""

import numpy as np


def importance_weighted(model, images, samples=1000, seed=0, batch_size=None, progress=False):
    """The importance-weighted estimate of log p(x) per image, in nats (Burda et al., 2016).

    ``model``: a genlab VAE (``.encoder``: x -> (mu, log sigma^2); ``.decoder``: z ->
    Bernoulli logits), or a collection with a ``.vae``.

    log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x) with K = ``samples`` draws z_k ~ q(z|x):
    a lower bound on log p(x) in expectation that tightens as K grows (K = 1 is the
    ELBO), the usual way to report a VAE's test log-likelihood. ``images``: float32
    {0, 1} (N, 28, 28, 1). Notebook 02's exercise 2 writes the same estimate in numpy;
    this one decodes many draws per call (a ``tf.function``), for K = 1,000 on 10,000 digits.
    """
    import tensorflow as tf
    from scipy.special import logsumexp

    model = getattr(model, "vae", model)
    images = np.asarray(images, np.float32)
    chunk = min(samples, 100)                       # draws decoded together per image
    batch_size = batch_size or max(1, 2000 // chunk)
    rng = np.random.default_rng(seed)
    log_2pi = float(np.log(2.0 * np.pi))

    @tf.function(reduce_retracing=True)
    def log_weights(x, mean, log_var, epsilon):     # x (B, H, W, 1); epsilon (B, C, D) -> (B, C)
        z = mean[:, None] + tf.exp(0.5 * log_var)[:, None] * epsilon
        n, c = tf.shape(epsilon)[0], tf.shape(epsilon)[1]
        logits = model.decoder(tf.reshape(z, (n * c, -1)), training=False)
        logits = tf.reshape(logits, tf.concat([[n, c], tf.shape(x)[1:]], 0))
        targets = tf.broadcast_to(x[:, None], tf.shape(logits))
        log_px = -tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(targets, logits), axis=[2, 3, 4])
        log_pz = -0.5 * tf.reduce_sum(tf.square(z) + log_2pi, axis=-1)
        log_qz = -0.5 * tf.reduce_sum(tf.square(epsilon) + log_2pi + log_var[:, None], axis=-1)
        return log_px + log_pz - log_qz

    batches = range(0, len(images), batch_size)
    if progress:
        from tqdm.auto import tqdm
        batches = tqdm(batches, desc=f"importance-weighted estimate, K = {samples:,}", unit="batch")
    result = []
    for start in batches:
        x = images[start:start + batch_size]
        mean, log_var = (np.asarray(t) for t in model.encoder(x, training=False))
        weights = [log_weights(x, mean, log_var,
                               rng.standard_normal((len(x), min(chunk, samples - done), mean.shape[-1]),
                                                   dtype=np.float32)).numpy().astype(np.float64)
                   for done in range(0, samples, chunk)]
        result.append(logsumexp(np.concatenate(weights, axis=1), axis=1) - np.log(samples))
    return np.concatenate(result)
