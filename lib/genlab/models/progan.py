"""Progressive growing of GANs (Karras et al., ICLR 2018) at MNIST scale: 7x7 -> 14x14 -> 28x28 with fade-in.

Why it exists: the course names progressive growing among the GAN ideas
StyleGAN builds on, and notebook 10 shows it working rather than describing
it: G and D start at 7x7; each new resolution is faded in, its output blended
with the upsampled output of the previous one,

    image = (1 - alpha) * upsample(to_image_previous(h)) + alpha * to_image_new(block_new(upsample(h))),

with alpha rising linearly from 0 to 1 while D mirrors the blend on its input
side and the real digits are blended the same way; then the new resolution
trains on its own ("stabilize"). ``scripts/progressive_growing.py`` trains it
against the same networks trained at 28x28 from the start for the same number
of updates and writes ``progressive_growing.json`` in data/results.

Scale: three resolutions with 64/32/16 feature maps, the non-saturating loss
and minibatch stddev (the paper: 4x4 -> 1024x1024, WGAN-GP, equalized learning
rate and pixel norm, not used here).
"""

import keras
import numpy as np
from keras import layers, ops

from genlab import quiet  # noqa: F401  (imports TensorFlow without its start-up logs)
from genlab.gan.regularizers import MinibatchStdDev

NOTEBOOK = "10_stylegan_concepts"
LATENT_DIM = 64
CHANNELS = (64, 32, 16)            # feature maps at 7x7, 14x14, 28x28
RESOLUTIONS = (7, 14, 28)
BATCH_SIZE = 32
LEARNING_RATE, BETA_1, BETA_2 = 2e-4, 0.5, 0.99
PHASE_ITERATIONS = {"quick": 2, "full": 1200}   # updates of G per phase (five phases, see PHASES)
# (stage, fading): 7x7; fade in 14x14; 14x14 alone; fade in 28x28; 28x28 alone.
PHASES = ((0, False), (1, True), (1, False), (2, True), (2, False))
SEEDS = {"quick": (0,), "full": (0, 1, 2)}
N_EVAL = 2000                      # FID samples at the end of a run (floor and ceiling at the same N)


def _conv(filters, name):
    return layers.Conv2D(filters, 3, padding="same", name=name)


class ProgressiveGenerator(keras.Model):
    """G(z, stage, alpha): images at ``RESOLUTIONS[stage]``, the newest block blended in with ``alpha``."""

    def __init__(self, latent_dim=LATENT_DIM, channels=CHANNELS, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim, self.channels = latent_dim, tuple(channels)
        self.project = keras.Sequential([layers.Dense(7 * 7 * channels[0]), layers.Reshape((7, 7, channels[0])),
                                         layers.LeakyReLU(0.2)], name="project")
        self.blocks = [keras.Sequential([_conv(channels[0], "conv"), layers.LeakyReLU(0.2)], name="block7")]
        for stage in range(1, len(channels)):
            self.blocks.append(keras.Sequential(
                [layers.UpSampling2D(2), _conv(channels[stage], "conv_a"), layers.LeakyReLU(0.2),
                 _conv(channels[stage], "conv_b"), layers.LeakyReLU(0.2)], name=f"block{RESOLUTIONS[stage]}"))
        self.to_image = [layers.Conv2D(1, 1, activation="tanh", name=f"to_image{r}") for r in RESOLUTIONS]
        self.upsample = layers.UpSampling2D(2, name="upsample")

    def build(self, input_shape):
        # Every stage's layers exist from the first call, so one optimizer can know them all.
        for stage in range(len(self.channels)):
            self.call(ops.zeros((1, self.latent_dim)), stage=stage, alpha=0.5)

    def call(self, z, stage=len(CHANNELS) - 1, alpha=1.0):
        h = self.blocks[0](self.project(z))
        previous = h
        for index in range(1, stage + 1):
            previous, h = h, self.blocks[index](h)
        image = self.to_image[stage](h)
        if stage == 0:
            return image
        skip = self.upsample(self.to_image[stage - 1](previous))
        return (1.0 - alpha) * skip + alpha * image


class ProgressiveDiscriminator(keras.Model):
    """D(x, stage, alpha): logits for images at ``RESOLUTIONS[stage]``, mirroring G's blend on the input side."""

    def __init__(self, channels=CHANNELS, **kwargs):
        super().__init__(**kwargs)
        self.from_image = [keras.Sequential([layers.Conv2D(c, 1), layers.LeakyReLU(0.2)], name=f"from_image{r}")
                           for c, r in zip(channels, RESOLUTIONS)]
        self.blocks = [keras.Sequential(
            [_conv(channels[stage], "conv_a"), layers.LeakyReLU(0.2), _conv(channels[stage - 1], "conv_b"),
             layers.LeakyReLU(0.2), layers.AveragePooling2D(2)], name=f"block{RESOLUTIONS[stage]}")
            for stage in range(1, len(channels))]
        self.head = keras.Sequential([MinibatchStdDev(), _conv(channels[0], "conv"), layers.LeakyReLU(0.2),
                                      layers.Flatten(), layers.Dense(1, dtype="float32")], name="head7")
        self.downsample = layers.AveragePooling2D(2, name="downsample")

    def build(self, input_shape):
        for stage, size in enumerate(RESOLUTIONS):
            self.call(ops.zeros((1, size, size, 1)), stage=stage, alpha=0.5)

    def call(self, x, stage=len(CHANNELS) - 1, alpha=1.0):
        h = self.from_image[stage](x)
        if stage > 0:
            h = self.blocks[stage - 1](h)             # blocks[i] takes resolution i + 1 down to i
            h = alpha * h + (1.0 - alpha) * self.from_image[stage - 1](self.downsample(x))
            for index in range(stage - 1, 0, -1):
                h = self.blocks[index - 1](h)
        return self.head(h)


def real_at(images, stage, alpha=1.0):
    """Real digits at ``RESOLUTIONS[stage]`` (average-pooled), blended with the coarser level during a fade-in."""
    x = images
    for _ in range(len(RESOLUTIONS) - 1 - stage):
        x = ops.average_pool(x, 2, 2)
    if stage == 0:
        return x
    coarse = ops.repeat(ops.repeat(ops.average_pool(x, 2, 2), 2, axis=1), 2, axis=2)
    return alpha * x + (1.0 - alpha) * coarse


def schedule(iterations, progressive=True):
    """[(stage, fading, iterations)]: the five phases, or one phase at 28x28 with as many updates in all."""
    if not progressive:
        return [(len(RESOLUTIONS) - 1, False, iterations * len(PHASES))]
    return [(stage, fading, iterations) for stage, fading in PHASES]


def train(images, iterations, seed=0, progressive=True, on_phase=None):
    """Train G and D on ``images`` (float32 in [-1, 1], (N, 28, 28, 1)); returns (G, D).

    ``iterations``: updates per phase (:func:`schedule`); ``progressive=False``
    trains the same networks at 28x28 from the start for as many updates in all.
    ``on_phase(stage, fading, generator)`` is called at the end of each phase.
    """
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    generator, discriminator = ProgressiveGenerator(), ProgressiveDiscriminator()
    g_opt = keras.optimizers.Adam(LEARNING_RATE, beta_1=BETA_1, beta_2=BETA_2)
    d_opt = keras.optimizers.Adam(LEARNING_RATE, beta_1=BETA_1, beta_2=BETA_2)
    loss = keras.losses.BinaryCrossentropy(from_logits=True)
    alpha = tf.Variable(1.0, trainable=False)
    rng = np.random.default_rng([seed, 1])
    steps = {}

    # Both models build every stage on their first call (their build()), and the optimizers know every
    # variable; each step updates the variables its stage uses (the others get no gradient).
    generator(np.zeros((1, LATENT_DIM), "float32"), stage=0)
    discriminator(np.zeros((1, 7, 7, 1), "float32"), stage=0)
    g_opt.build(generator.trainable_variables)
    d_opt.build(discriminator.trainable_variables)

    def update(optimizer, tape, loss_value, model):
        pairs = [(g, v) for g, v in zip(tape.gradient(loss_value, model.trainable_variables), model.trainable_variables)
                 if g is not None]
        optimizer.apply_gradients(pairs)

    def make_step(stage):
        @tf.function
        def step(real, z):
            real = real_at(real, stage, alpha)
            with tf.GradientTape() as tape:
                fake = generator(z, stage=stage, alpha=alpha)
                real_logits = discriminator(real, stage=stage, alpha=alpha)
                fake_logits = discriminator(fake, stage=stage, alpha=alpha)
                d_loss = loss(tf.ones_like(real_logits), real_logits) + loss(tf.zeros_like(fake_logits), fake_logits)
            update(d_opt, tape, d_loss, discriminator)
            with tf.GradientTape() as tape:
                fake_logits = discriminator(generator(z, stage=stage, alpha=alpha), stage=stage, alpha=alpha)
                g_loss = loss(tf.ones_like(fake_logits), fake_logits)      # non-saturating
            update(g_opt, tape, g_loss, generator)
            return d_loss, g_loss
        return step

    for stage, fading, count in schedule(iterations, progressive):
        step = steps.setdefault(stage, make_step(stage))
        for i in range(count):
            alpha.assign((i + 1) / count if fading else 1.0)
            real = images[rng.integers(0, len(images), BATCH_SIZE)]
            z = rng.normal(size=(BATCH_SIZE, LATENT_DIM)).astype("float32")
            step(tf.constant(real), tf.constant(z))
        if on_phase is not None:
            on_phase(stage, fading, generator)
    return generator, discriminator


def generate(generator, n, seed=0, stage=len(RESOLUTIONS) - 1):
    """uint8 (n, r, r) images of ``stage``'s resolution r from seeded noise."""
    from genlab import data

    z = np.random.default_rng(seed).normal(size=(n, LATENT_DIM)).astype("float32")
    images = np.concatenate([np.asarray(generator(z[i:i + 500], stage=stage, alpha=1.0))
                             for i in range(0, n, 500)])
    return data.to_uint8(images).reshape(n, RESOLUTIONS[stage], RESOLUTIONS[stage])


def encode(images):
    """uint8 images as JSON fields (shape, base64 of their bytes): a results file keeps a grid in ~1 KB per image."""
    import base64

    images = np.asarray(images, np.uint8)
    return {"samples_shape": list(images.shape), "samples_base64": base64.b64encode(images.tobytes()).decode()}


def decode(fields):
    """The uint8 images :func:`encode` stored, or None when ``fields`` holds none."""
    import base64

    if "samples_base64" not in fields:
        return None
    return np.frombuffer(base64.b64decode(fields["samples_base64"]), np.uint8).reshape(fields["samples_shape"])
