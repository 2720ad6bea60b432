"""The variational autoencoder (Kingma & Welling, 2014): its layer, its loss, its builders, its settings.

Notebook 02 (``notebooks/02_vae.ipynb``) teaches the VAE of Lectures 13-14:
an encoder to (mu, log sigma^2), the reparameterization z = mu + sigma * eps,
a decoder, and the loss reconstruction + KL(N(mu, sigma^2) || N(0, I)). The
same pieces live here because the tests (``tests/test_vae.py``), the registry,
the shipped weights (``vae_mnist``) and later notebooks (13 compares its
likelihoods with this ELBO) build the same model. Every VAE setting is defined
here once; notebook 02's Hyperparameters cell reads them.

The VAE models **binarized** digits with a Bernoulli decoder: its
reconstruction term is then an exact negative log-likelihood in nats, so the
ELBO is a genuine lower bound on log p(x) (on grey levels, binary cross-entropy
is not a normalized likelihood). The binarization is the benchmark's
(:func:`genlab.data.load_binarized_mnist`): training digits binarized afresh for
every batch, test digits once with a fixed seed, so the test ELBO and the
importance-weighted estimate (Burda et al. 2016)
stand beside the published figures (:mod:`genlab.marginal_likelihood`).

It also holds the notebook's small fully connected VAE (2-D latent space, the
beta knob, anomaly detection), :class:`Shipped` (the four trained VAEs in the one
shipped file) and :func:`mean_gradient_magnitude`, the sharpness measure of the
notebook's VAE-vs-DCGAN comparison.
"""

import keras
import numpy as np
from keras import layers, ops
from scipy import special

from genlab import quiet  # noqa: F401  (imports TensorFlow without its start-up logs)

NOTEBOOK = "02_vae"
LATENT_DIM = 16
IMAGE_SHAPE = (28, 28, 1)
BATCH_SIZE = 128
LEARNING_RATE = 1e-3
BETA = 1.0                       # weight of the KL term (beta-VAE, Higgins et al. 2017); 1 is the ELBO
ENCODER_FILTERS = (32, 64)
HIDDEN_UNITS = 256                                  # a Dense layer between the convolutions and z, both ways
ITERATIONS = {"quick": 20, "full": 20_000}          # batches; config.pick(**ITERATIONS) (full: 43 passes of 60,000)
# The small fully connected VAEs of the 2-D latent space, the beta knob and anomaly detection.
# Quick mode trains none of them (0): it loads the shipped ones; full mode trains them.
SMALL_HIDDEN_UNITS = 128
SMALL_ITERATIONS = {"quick": 0, "full": 3000}
BETA_KNOB = 4.0                                     # the beta the notebook sets against beta = 1
ANOMALY_LATENT_DIM = 8
NORMAL_DIGITS = (0, 1, 2, 3, 4)                     # the anomaly detector trains on these only
IWAE_SAMPLES = 1000                                 # k of the importance-weighted estimate (Burda et al. 2016)
IWAE_DIGITS = 2000   # test digits for it in the manifest (K = 1,000: ~0.14 s a digit on 2 cores); the ELBO: all
# Published test -log p(x), binarized MNIST, nats: Burda et al., "Importance Weighted Autoencoders", ICLR 2016,
# table 1 (50 latent units, two layers of 200, dynamic binarization, K = 5,000 at test time).
ANCHORS = {"VAE, 1 stochastic layer (Burda et al. 2016)": 86.76, "IWAE, K = 50, same network (same paper)": 84.78}
SEED = 42
# What ships (scripts/train_pretrained.py): the notebook's four VAEs in one file (:class:`Shipped`), these settings.
SHIPPED_BUILDER = "Shipped"
MANIFEST_SETTINGS = ("LATENT_DIM", "BATCH_SIZE", "LEARNING_RATE", "BETA", "HIDDEN_UNITS", "SMALL_ITERATIONS",
                     "BETA_KNOB", "ANOMALY_LATENT_DIM", "NORMAL_DIGITS")


def as_input(binary):
    """uint8 {0, 1} images (N, 28, 28) -> the network's float32 input (N, 28, 28, 1)."""
    binary = np.asarray(binary)
    if binary.dtype != np.uint8 or binary.max(initial=0) > 1:
        raise ValueError("as_input expects uint8 0/1 images (data.load_binarized_mnist's test digits)")
    return (binary[..., np.newaxis] if binary.ndim == 3 else binary).astype(np.float32)


class Sampling(layers.Layer):
    """The reparameterization trick: z = mu + sigma * eps with eps ~ N(0, I) and sigma = exp(log_var / 2).

    Sampling z ~ N(mu, sigma^2) directly has no gradient with respect to mu and
    sigma; written this way the randomness sits in eps, which does not depend on
    the encoder, so gradients flow through mu and sigma.

    Args:
        seed: seed of the layer's own random stream (None: a random one).
        **kwargs: standard Layer arguments (name, dtype, ...).

    Example:
        >>> z = Sampling(seed=0)([np.zeros((4, 2)), np.zeros((4, 2))])   # 4 draws from N(0, I)

    Reference:
        Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014, section 2.4.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        mean, log_var = inputs
        epsilon = keras.random.normal(ops.shape(mean), dtype=mean.dtype, seed=self.seed_generator)
        return mean + ops.exp(0.5 * log_var) * epsilon

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def kl_divergence(mean, log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) per example, in nats (closed form, summed over latent dims).

    0.5 * sum(sigma^2 + mu^2 - 1 - log sigma^2): zero exactly when mu = 0 and sigma = 1.
    """
    return 0.5 * ops.sum(ops.exp(log_var) + ops.square(mean) - 1.0 - log_var, axis=-1)


def reconstruction_loss(images, logits):
    """-log p(x | z) per example for binary images under a Bernoulli decoder, in nats (summed over pixels)."""
    per_pixel = ops.binary_crossentropy(images, logits, from_logits=True)
    return ops.sum(ops.reshape(per_pixel, (ops.shape(per_pixel)[0], -1)), axis=-1)


def build_encoder(latent_dim=LATENT_DIM, image_shape=IMAGE_SHAPE, filters=ENCODER_FILTERS, hidden=HIDDEN_UNITS,
                  name="encoder"):
    """x -> (mu, log sigma^2): strided ReLU convolutions, a ReLU Dense layer (``hidden`` units; 0: none),
    then two linear Dense heads.

    log sigma^2 rather than sigma: any real number is a valid log-variance, so the
    head needs no activation and sigma = exp(log_var / 2) is always positive.
    """
    if latent_dim < 1:
        raise ValueError(f"latent_dim must be a positive integer, got {latent_dim!r}")
    images = keras.Input(shape=tuple(image_shape), name="image")
    x = images
    for index, block_filters in enumerate(filters, start=1):
        x = layers.Conv2D(block_filters, 3, strides=2, padding="same", activation="relu", name=f"conv{index}")(x)
    x = layers.Flatten(name="flatten")(x)
    if hidden:
        x = layers.Dense(hidden, activation="relu", name="hidden")(x)
    mean = layers.Dense(latent_dim, name="z_mean")(x)
    log_var = layers.Dense(latent_dim, name="z_log_var")(x)
    return keras.Model(images, [mean, log_var], name=name)


def build_decoder(latent_dim=LATENT_DIM, image_shape=IMAGE_SHAPE, filters=ENCODER_FILTERS[::-1], hidden=HIDDEN_UNITS,
                  name="decoder"):
    """z -> Bernoulli logits of every pixel: Dense layers, Reshape, Conv2DTranspose blocks, a 3x3 Conv2D.

    It returns logits, not probabilities: the loss uses them directly
    (numerically stable), and ``ops.sigmoid`` turns them into the mean image.
    """
    height, width, channels = (int(size) for size in image_shape)
    factor = 2 ** len(filters)
    if height % factor or width % factor:
        raise ValueError(f"image_shape {tuple(image_shape)}: height and width must be divisible by {factor}")
    start = (height // factor, width // factor, filters[0])
    z = keras.Input(shape=(latent_dim,), name="z")
    x = layers.Dense(hidden, activation="relu", name="hidden")(z) if hidden else z
    x = layers.Dense(start[0] * start[1] * start[2], activation="relu", name="dense")(x)
    x = layers.Reshape(start, name="reshape")(x)
    for index, block_filters in enumerate(filters, start=1):
        x = layers.Conv2DTranspose(block_filters, 3, strides=2, padding="same", activation="relu",
                                   name=f"upconv{index}")(x)
    logits = layers.Conv2D(channels, 3, padding="same", dtype="float32", name="logits")(x)
    return keras.Model(z, logits, name=name)


class VAE(keras.Model):
    """Encoder, Sampling and decoder, trained on -ELBO = reconstruction + beta * KL (both logged).

    Args:
        encoder: x -> [mu, log_var]; decoder: z -> logits.
        beta: weight of the KL term (1: the ELBO).
        seed: seed of the Sampling layer.
    """

    def __init__(self, encoder, decoder, beta=BETA, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder, self.beta, self.seed = encoder, decoder, float(beta), seed
        self.sampling = Sampling(seed=seed, name="sampling")
        self.trackers = {key: keras.metrics.Mean(name=key) for key in ("loss", "reconstruction", "kl")}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, images, training=False):
        mean, log_var = self.encoder(images, training=training)
        return self.decoder(self.sampling([mean, log_var]), training=training)

    def terms(self, images, training=False):
        """Per-example (reconstruction, KL) in nats, with one z drawn per image."""
        mean, log_var = self.encoder(images, training=training)
        logits = self.decoder(self.sampling([mean, log_var]), training=training)
        return reconstruction_loss(images, logits), kl_divergence(mean, log_var)

    def _update(self, reconstruction, kl):
        loss = ops.mean(reconstruction) + self.beta * ops.mean(kl)
        for key, value in (("loss", loss), ("reconstruction", ops.mean(reconstruction)), ("kl", ops.mean(kl))):
            self.trackers[key].update_state(value)
        return loss

    def train_step(self, images):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = self._update(*self.terms(images, training=True))
        gradients = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_weights))
        return {key: tracker.result() for key, tracker in self.trackers.items()}

    def test_step(self, images):
        self._update(*self.terms(images))
        return {key: tracker.result() for key, tracker in self.trackers.items()}


def build_vae(latent_dim=LATENT_DIM, beta=BETA, seed=SEED, image_shape=IMAGE_SHAPE):
    """The notebook's VAE (uncompiled): ``build_encoder`` + :class:`Sampling` + ``build_decoder``."""
    model = VAE(build_encoder(latent_dim, image_shape), build_decoder(latent_dim, image_shape),
                beta=beta, seed=seed, name="vae")
    model(np.zeros((1, *image_shape), "float32"))   # built, so its weights can be saved and loaded
    return model


def build_small_vae(latent_dim=2, hidden=SMALL_HIDDEN_UNITS, beta=BETA, seed=SEED, image_shape=IMAGE_SHAPE,
                    name="small_vae"):
    """A small fully connected VAE (Flatten, Dense, heads; Dense, Dense logits) that trains in seconds on a CPU.

    The notebook trains it for the 2-D latent space and for anomaly detection.
    """
    size = int(np.prod(image_shape))
    images = keras.Input(shape=tuple(image_shape), name="image")
    x = layers.Dense(hidden, activation="relu", name="hidden")(layers.Flatten(name="flatten")(images))
    encoder = keras.Model(images, [layers.Dense(latent_dim, name="z_mean")(x),
                                   layers.Dense(latent_dim, name="z_log_var")(x)], name="small_encoder")
    z = keras.Input(shape=(latent_dim,), name="z")
    x = layers.Dense(hidden, activation="relu", name="hidden")(z)
    logits = layers.Reshape(tuple(image_shape), name="reshape")(layers.Dense(size, dtype="float32", name="logits")(x))
    model = VAE(encoder, keras.Model(z, logits, name="small_decoder"), beta=beta, seed=seed, name=name)
    model(np.zeros((1, *image_shape), "float32"))
    return model


def elbo(model, images, samples=1):
    """Per-example ELBO estimate in nats (average over ``samples`` draws of z): a lower bound on log p(x)."""
    total = 0.0
    for _ in range(samples):
        reconstruction, kl = model.terms(images)
        total = total + np.asarray(reconstruction) + np.asarray(kl)
    return -total / samples


def fit(model, images, iterations, seed=SEED, checkpoint_dir=None, progress=False, batch_size=BATCH_SIZE):
    """Train ``model`` (compiled here with Adam(LEARNING_RATE)) for ``iterations`` batches of ``images``.

    ``images``: uint8 grey levels (N, 28, 28); every batch is binarized afresh
    (:func:`genlab.data.binarized_dataset`), as the benchmark's models are trained.

    Returns the Keras History: loss, reconstruction and kl per epoch.
    """
    from genlab import callbacks, data

    iterations = int(iterations)
    # Epochs of equal length that add up to exactly ``iterations`` batches, each at most one pass.
    steps = max(d for d in range(1, min(iterations, len(images) // batch_size) + 1) if iterations % d == 0)
    dataset = data.binarized_dataset(images, batch_size, seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE))
    return model.fit(dataset, epochs=iterations // steps, steps_per_epoch=steps, verbose=0, shuffle=False,
                     callbacks=callbacks.standard(checkpoint_dir, progress=progress))


class Shipped(keras.Model):
    """The four VAEs notebook 02 shows, kept together so that one weights file (``vae_mnist``) ships them.

    Attributes: ``vae`` (the convolutional VAE, LATENT_DIM), ``latent_2d`` (small, 2-D latent),
    ``beta_2d`` (the same with beta = BETA_KNOB) and ``anomaly`` (small, trained on NORMAL_DIGITS only).

    Args:
        seed: seed of the models' Sampling layers.
        **kwargs: standard Model arguments.
    """

    def __init__(self, seed=SEED, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.vae = build_vae(seed=seed)
        self.latent_2d = build_small_vae(2, seed=seed, name="latent_2d")
        self.beta_2d = build_small_vae(2, beta=BETA_KNOB, seed=seed, name="beta_2d")
        self.anomaly = build_small_vae(ANOMALY_LATENT_DIM, seed=seed, name="anomaly")
        self.built = True

    def call(self, images, training=False):
        return self.vae(images, training=training)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def train(dataset="mnist", mode=None, seed=SEED, checkpoint_dir=None, iterations=None, progress=False):
    """Train notebook 02's models with its settings for ``mode``; returns a :class:`Shipped`.

    The main VAE trains ``iterations`` (default ITERATIONS) batches on all digits; the
    small ones SMALL_ITERATIONS each, the anomaly model on NORMAL_DIGITS only; every
    batch is binarized afresh (:func:`genlab.data.load_binarized_mnist`). Used by the
    registry and ``scripts/train_pretrained.py`` (the shipped ``vae_mnist``).
    """
    from pathlib import Path

    from genlab import config, data

    config.seed_everything(seed)
    if dataset != "mnist":
        raise ValueError("the VAE trains on binarized MNIST only")
    (x_train, y_train), _ = data.load_binarized_mnist(mode=config.check_mode(mode))
    models = Shipped(seed=seed)
    small = config.pick(**SMALL_ITERATIONS, mode=mode)
    plan = [(models.vae, x_train, iterations or config.pick(**ITERATIONS, mode=mode)),
            (models.latent_2d, x_train, small), (models.beta_2d, x_train, small),
            (models.anomaly, x_train[np.isin(y_train, NORMAL_DIGITS)], small)]
    for model, images, steps in plan:
        if steps:
            fit(model, images, steps, seed=seed, progress=progress,
                checkpoint_dir=None if checkpoint_dir is None else Path(checkpoint_dir) / model.name)
    # A fresh collection with the trained weights: saving it stores no optimizer state (half the bytes).
    shipped = Shipped(seed=seed)
    for name in ("vae", "latent_2d", "beta_2d", "anomaly"):
        getattr(shipped, name).set_weights(getattr(models, name).get_weights())
    return shipped


def likelihood(model, dataset="mnist", seed=SEED, samples=IWAE_SAMPLES, mode="full", digits=IWAE_DIGITS):
    """The test figures a manifest records (scripts/train_pretrained.py), in nats, on binarized MNIST.

    The ELBO (one draw of z per digit) on the fixed binarized test digits (all 10,000 in
    full mode, quick mode's first 1,000 otherwise) and the importance-weighted estimate with
    ``samples`` draws (K = 1,000, as Burda et al.) on the first ``digits`` of them, each with
    its standard error.
    """
    from genlab import config, data, marginal_likelihood

    if dataset != "mnist":
        raise ValueError("the VAE's likelihood is measured on binarized MNIST only")
    config.seed_everything(seed)
    _, (x_test, _) = data.load_binarized_mnist(mode=mode)
    x = as_input(x_test)
    inner = getattr(model, "vae", model)
    bound = np.concatenate([elbo(inner, x[i:i + 1000]) for i in range(0, len(x), 1000)])
    estimate = marginal_likelihood.importance_weighted(inner, x[:digits], samples=samples, seed=seed, progress=True)
    nats = np.prod(IMAGE_SHAPE) * np.log(2)

    def figure(values):
        return {"nats": round(float(values.mean()), 2),
                "standard_error": round(float(values.std(ddof=1) / np.sqrt(len(values))), 2),
                "bits_per_dim": round(float(-values.mean() / nats), 4)}

    return {"metric": "test log-likelihood (nats)", "value": figure(estimate)["nats"],
            "elbo": figure(bound), "importance_weighted": {**figure(estimate), "samples": samples, "n": len(estimate),
                                                           "elbo_same_digits": figure(bound[:digits])},
            "anchors_nats": ANCHORS, "data": "binarized MNIST test digits (data.load_binarized_mnist, fixed seed "
                    f"{data.BINARIZED_TEST_SEED}), 28x28", "n": len(x),
            "exact": f"lower bounds on log p(x): the ELBO (1 draw of z), importance-weighted (K = {samples:,})"}


def decode(model_or_decoder, z, mean=True, seed=0):
    """Images from latent codes: the decoder's mean (Bernoulli probabilities), or (``mean=False``) a draw of it."""
    decoder = getattr(model_or_decoder, "decoder", model_or_decoder)
    logits = decoder.predict(np.asarray(z, dtype="float32"), batch_size=500, verbose=0)
    probabilities = special.expit(logits.astype(np.float64))   # the sigmoid, without overflow warnings
    if not mean:
        probabilities = (np.random.default_rng(seed).random(probabilities.shape) < probabilities).astype(np.float64)
    return probabilities.astype(np.float32)


def sampler(model):
    """``sample_fn(n, seed=0, temperature=1.0, mean=True)`` -> uint8 (n, 28, 28): decode z ~ N(0, temperature^2 I).

    ``mean=True`` shows each decoded Bernoulli mean (the usual VAE picture);
    ``mean=False`` draws every pixel from it (the model's actual samples).
    """
    from genlab import data

    model = getattr(model, "vae", model)   # a Shipped collection samples from its main VAE
    latent_dim = int(model.decoder.input_shape[-1])

    def sample_fn(n, seed=0, temperature=1.0, mean=True):
        z = np.random.default_rng(seed).normal(size=(n, latent_dim)).astype("float32") * temperature
        return data.to_uint8(decode(model, z, mean=mean, seed=seed), from_range="sigmoid")

    sample_fn.model = model
    return sample_fn


def mean_gradient_magnitude(images):
    """Sharpness: the mean length of the finite-difference gradient of each image, grey levels in [0, 1].

    A blurred edge spreads one step of brightness over several pixels, so its
    gradients are smaller: lower values mean blurrier images. Returns one value per image.
    """
    from genlab import data

    x = data.to_unit_range(images)[..., 0].astype(np.float64)
    dy = x[:, 1:, :-1] - x[:, :-1, :-1]
    dx = x[:, :-1, 1:] - x[:, :-1, :-1]
    return np.sqrt(dx ** 2 + dy ** 2).mean(axis=(1, 2))
