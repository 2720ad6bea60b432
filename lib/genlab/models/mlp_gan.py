"""The course's first GAN: fully connected networks, on MNIST and on a ring of 8 Gaussians.

Notebook 04 (``notebooks/04_gan_basics.ipynb``) teaches these networks layer
by layer. They follow the section plan's "gan_basics" example: a Dense
generator 100 -> 256 -> 512 -> 1024 -> 784 ending in ``tanh``, and a Dense
discriminator 784 -> 512 -> 256 -> 1 ending in a ``sigmoid``, trained with
the book's alternating loop (:func:`genlab.gan.train`). The same builders, at
2-D size, make the ring-of-Gaussians GAN whose decision surface notebook 04
draws. They live here as well because the tests, the registry and the shipped
weights build the same networks, and every setting is defined here once
(notebook 04's Hyperparameters cell reads them; ``tests/test_notebooks.py``
keeps it equal to them).

The discriminator's sigmoid is a layer of its own after a ``Dense(1)``, so
``discriminator.layers[-2].output`` is D's **logit** (the pre-sigmoid score the
losses of :mod:`genlab.gan.losses` take).

The generator has 1,493,520 parameters (1,486,352 in its Dense layers), 6.0 MB in float32: over the 5 MB a
shipped file may weigh. Its shipped weights are stored in float16
(``STORAGE_DTYPE``; :mod:`genlab.pretrained` casts them back to float32 on
load), and the manifest records the FID of both.
"""

import keras
from keras import layers

from genlab import quiet  # noqa: F401  (imports TensorFlow without its start-up logs)
from genlab.models import dcgan

NOTEBOOK = "04_gan_basics"
LATENT_DIM = 100
IMAGE_SHAPE = (28, 28, 1)
GENERATOR_UNITS = (256, 512, 1024)      # the section plan's generator
DISCRIMINATOR_UNITS = (512, 256)        # the section plan's discriminator
# The section plan's example uses ReLU everywhere and no dropout. Trained so (10,000 iterations,
# 2026-11-28) D won (accuracy 0.95, g_loss 8) and G collapsed to one blot (FID 318, the noise
# ceiling 311). So, as in Keras-GAN's gan.py and the DCGAN recipe: LeakyReLU(0.2) in both,
# BatchNormalization(0.8) in G, and dropout in D (0.3, the low end of the plan's 0.3 to 0.5).
NEGATIVE_SLOPE = 0.2
BATCH_NORM_MOMENTUM = 0.8
DROPOUT = 0.3
BATCH_SIZE = 64
LEARNING_RATE, BETA_1 = 2e-4, 0.5       # the DCGAN paper's Adam settings, as in notebook 05
ITERATIONS = {"quick": 60, "full": 6000}        # config.pick(**ITERATIONS); full: ~5 min on 2 idle CPU cores
SAMPLE_INTERVAL = {"quick": 20, "full": 1000}   # fixed-noise grid every this many iterations
SEED = 42

# The 2-D GAN on genlab.data.ring_of_gaussians: the same builders, small.
RING_LATENT_DIM = 2
RING_UNITS = (128, 128)                  # hidden units of G and of D
RING_BATCH_SIZE = 256
RING_LEARNING_RATE = 2e-3
RING_ITERATIONS = {"quick": 600, "full": 3000}
RING_SNAPSHOTS = 4                      # decision surface and samples drawn this many times
RING_NEGATIVE_SLOPE = 0.0               # plain ReLU: as many ring modes as LeakyReLU(0.2) or more, every seed
                                        # (scripts/ring_activation.py -> data/results/ring_activation.json)

# What ships (genlab.pretrained, scripts/train_pretrained.py): the generator, in float16, and these
# settings in its manifest.
SHIPPED_BUILDER = "build_generator"
MANIFEST_SETTINGS = ("BATCH_SIZE", "LEARNING_RATE", "BETA_1", "GENERATOR_UNITS", "DROPOUT")
STORAGE_DTYPE = "float16"


def optimizer(learning_rate=LEARNING_RATE):
    """A fresh Adam(learning_rate, beta_1=BETA_1): one for D, another for the combined model."""
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=BETA_1)


def build_generator(latent_dim=LATENT_DIM, units=GENERATOR_UNITS, output_shape=IMAGE_SHAPE,
                    activation="tanh", batch_norm=True, negative_slope=NEGATIVE_SLOPE, name="generator"):
    """The section plan's generator: z -> [Dense -> BatchNorm -> LeakyReLU] x 3 -> Dense(tanh) -> Reshape.

    Args:
        latent_dim: length of the noise vector z (section plan: 100).
        units: hidden layer widths (section plan: 256, 512, 1024).
        output_shape: shape of one sample, e.g. (28, 28, 1) or (2,) for the ring.
        activation: the output layer's activation: "tanh" for images in
            [-1, 1]; None (linear) for points of the ring, which lies at radius 2.
        batch_norm: BatchNormalization(BATCH_NORM_MOMENTUM) after each hidden Dense layer.
        negative_slope: the hidden LeakyReLU's slope below 0 (0: ReLU).
        name: model name.

    Returns:
        A ``keras.Sequential`` from (latent_dim,) to ``output_shape``.
    """
    _check_units(units)
    if latent_dim < 1:
        raise ValueError(f"latent_dim must be a positive integer, got {latent_dim!r}")
    size = 1
    for dimension in output_shape:
        size *= int(dimension)
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=(latent_dim,), name="z"))
    for index, width in enumerate(units, start=1):
        model.add(layers.Dense(width, name=f"dense{index}"))
        if batch_norm:
            model.add(layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=f"bn{index}"))
        model.add(layers.LeakyReLU(negative_slope=negative_slope, name=f"leaky_relu{index}"))
    # float32 under any policy (config.use_precision): samples leave the model as float32.
    model.add(layers.Dense(size, activation=activation, dtype="float32", name="output"))
    model.add(layers.Reshape(tuple(output_shape), name="reshape"))
    return model


def build_discriminator(input_shape=IMAGE_SHAPE, units=DISCRIMINATOR_UNITS, dropout=DROPOUT,
                        negative_slope=NEGATIVE_SLOPE, name="discriminator"):
    """The section plan's discriminator: Flatten -> [Dense -> LeakyReLU -> Dropout] x 2 -> Dense(1) -> sigmoid.

    The last Dense layer's output is D's logit; the sigmoid turns it into the
    probability that the input is real.

    Args:
        input_shape: shape of one sample, e.g. (28, 28, 1) or (2,).
        units: hidden layer widths (section plan: 512, 256).
        dropout: dropout rate after each hidden layer (0: none).
        negative_slope: the hidden LeakyReLU's slope below 0 (0: ReLU).
        name: model name.
    """
    _check_units(units)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=tuple(input_shape), name="sample"))
    model.add(layers.Flatten(name="flatten"))
    for index, width in enumerate(units, start=1):
        model.add(layers.Dense(width, name=f"dense{index}"))
        model.add(layers.LeakyReLU(negative_slope=negative_slope, name=f"leaky_relu{index}"))
        if dropout:
            model.add(layers.Dropout(dropout, name=f"dropout{index}"))
    model.add(layers.Dense(1, dtype="float32", name="logit"))
    model.add(layers.Activation("sigmoid", dtype="float32", name="real_probability"))
    return model


def logits_model(discriminator):
    """The same D without its sigmoid: sample -> logit (shares D's weights)."""
    return keras.Model(discriminator.inputs[0], discriminator.layers[-2].output, name="discriminator_logits")


def _check_units(units):
    if not units or any(int(width) < 1 for width in units):
        raise ValueError(f"units must be a non-empty sequence of positive widths, got {units!r}")


def build_gan(latent_dim=LATENT_DIM, sample_shape=IMAGE_SHAPE, generator_units=GENERATOR_UNITS,
              discriminator_units=DISCRIMINATOR_UNITS, learning_rate=LEARNING_RATE, activation="tanh",
              batch_norm=True, dropout=DROPOUT, negative_slope=NEGATIVE_SLOPE):
    """``(generator, discriminator, combined)``, ready for ``gan.train``.

    D is compiled on its own (binary cross-entropy, accuracy, Adam); the
    combined model z -> G -> D, with D frozen for G's step, gets its own Adam.
    """
    from genlab import gan

    generator = build_generator(latent_dim, generator_units, sample_shape, activation=activation,
                                batch_norm=batch_norm, negative_slope=negative_slope)
    discriminator = build_discriminator(sample_shape, discriminator_units, dropout=dropout,
                                        negative_slope=negative_slope)
    discriminator.compile(loss="binary_crossentropy", optimizer=optimizer(learning_rate), metrics=["accuracy"])
    return generator, discriminator, gan.build_combined(generator, discriminator, optimizer(learning_rate))


def build_ring_gan():
    """The ring-of-Gaussians GAN: 2-D noise -> 2-D points, linear output; plain ReLU, no BatchNorm or dropout."""
    return build_gan(RING_LATENT_DIM, (2,), RING_UNITS, RING_UNITS, RING_LEARNING_RATE, activation=None,
                     batch_norm=False, dropout=0.0, negative_slope=RING_NEGATIVE_SLOPE)


def train(dataset="mnist", mode=None, seed=SEED, checkpoint_dir=None, iterations=None, progress=False):
    """Train the MNIST GAN with notebook 04's settings for ``mode``; returns the generator.

    Used by the registry and ``scripts/train_pretrained.py`` (the shipped
    weights), so both train exactly what notebook 04's full mode trains.
    """
    import sys

    return dcgan.train_family(sys.modules[__name__], dataset, mode, seed, checkpoint_dir, iterations, progress,
                              checkpoint_interval=1000)


def sampler(generator):
    """``sample_fn(n, seed=0, temperature=1.0)`` -> uint8 (n, 28, 28) images (as :func:`genlab.models.dcgan.sampler`)."""
    return dcgan.sampler(generator)
