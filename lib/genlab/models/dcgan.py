"""The book's DCGAN (Elgendy, ch. 8): its builders and its one set of settings.

Notebook 05 (``notebooks/05_dcgan.ipynb``) teaches these two networks layer by
layer, following Elgendy, *Deep Learning for Vision Systems* (Manning, 2020),
ch. 8. They live here as well because the tests, the benchmark
(``benchmarks/dcgan.py``), the registry, the shipped weights and later
notebooks build the same networks. Every DCGAN setting is defined here once
(latent size, image shape, batch size, Adam's learning rate and beta_1,
iterations per mode, the checkpoint name); notebook 05's Hyperparameters cell
imports them and ``tests/test_notebooks.py`` keeps it equal to them.

Both builders return ``keras.Sequential`` models, as the book does, so
``model.summary()`` reads like the book's listing.
"""

from pathlib import Path

import keras
from keras import layers

from genlab import quiet  # noqa: F401  (imports TensorFlow without its start-up logs)

NOTEBOOK = "05_dcgan"
LATENT_DIM = 100
IMAGE_SHAPE = (28, 28, 1)
BATCH_SIZE = 32
LEARNING_RATE, BETA_1 = 2e-4, 0.5     # the DCGAN paper's Adam settings, which the book uses
ITERATIONS = {"quick": 40, "full": 10000}       # config.pick(**ITERATIONS)
SAMPLE_INTERVAL = {"quick": 10, "full": 1000}   # fixed-noise grid every this many iterations
SEED = 42
CURVE_EVERY = 1000   # full-mode runs of this loop (dcgan, mlp_gan, cgan) measure FID every this many iterations
GENERATOR_FILTERS = (128, 64)
DISCRIMINATOR_FILTERS = (32, 64, 128, 256)
# What ships (genlab.pretrained, scripts/train_pretrained.py): the generator, and these settings
# in its manifest.
SHIPPED_BUILDER = "build_generator"
MANIFEST_SETTINGS = ("BATCH_SIZE", "LEARNING_RATE", "BETA_1")


def optimizer():
    """A fresh Adam(LEARNING_RATE, beta_1=BETA_1): one for D, another for the combined model."""
    return keras.optimizers.Adam(learning_rate=LEARNING_RATE, beta_1=BETA_1)


def upsampling_block(filters, momentum=0.8, name=None):
    """The generator's building block: UpSampling2D -> Conv2D -> BatchNorm -> ReLU.

    Doubles height and width (nearest-neighbour upsampling, then a 3x3
    convolution learns to fill in detail). Introduced in notebook 05.

    Args:
        filters: number of convolution filters.
        momentum: BatchNormalization momentum (the book uses 0.8).
        name: optional prefix for the layer names.

    Returns:
        A list of four layers, to be added to a Sequential model in order.
    """
    if filters < 1:
        raise ValueError(f"filters must be a positive integer, got {filters!r}")
    prefix = f"{name}_" if name else ""
    return [
        layers.UpSampling2D(name=f"{prefix}upsample" if name else None),
        layers.Conv2D(filters, kernel_size=3, padding="same", name=f"{prefix}conv" if name else None),
        layers.BatchNormalization(momentum=momentum, name=f"{prefix}bn" if name else None),
        layers.Activation("relu", name=f"{prefix}relu" if name else None),
    ]


def build_generator(latent_dim=LATENT_DIM, image_shape=IMAGE_SHAPE, filters=GENERATOR_FILTERS,
                    momentum=0.8, name="generator"):
    """The book's DCGAN generator: z -> Dense -> Reshape -> upsampling blocks -> tanh image.

    Args:
        latent_dim: length of the noise vector z (book: 100).
        image_shape: (height, width, channels) of the images to produce;
            height and width must be divisible by ``2 ** len(filters)``.
        filters: filters of each upsampling block (book: 128, 64); the Dense
            layer feeds ``filters[0]`` feature maps of size H/4 x W/4 (for two blocks).
        momentum: BatchNormalization momentum (book: 0.8).
        name: model name.

    Returns:
        A ``keras.Sequential`` with input (latent_dim,) and
        output ``image_shape`` in [-1, 1].
    """
    height, width, channels = _check_image_shape(image_shape)
    if latent_dim < 1:
        raise ValueError(f"latent_dim must be a positive integer, got {latent_dim!r}")
    factor = 2 ** len(filters)
    if not filters or height % factor or width % factor:
        raise ValueError(
            f"image_shape {tuple(image_shape)} must have height and width divisible by "
            f"2**len(filters) = {factor} (one doubling per upsampling block)"
        )
    start = (height // factor, width // factor, filters[0])
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=(latent_dim,), name="z"))
    model.add(layers.Dense(start[0] * start[1] * start[2], activation="relu", name="dense"))
    model.add(layers.Reshape(start, name="reshape"))
    for index, block_filters in enumerate(filters, start=1):
        for layer in upsampling_block(block_filters, momentum=momentum, name=f"block{index}"):
            model.add(layer)
    model.add(layers.Conv2D(channels, kernel_size=3, padding="same", name="to_image"))
    # float32 under any policy (config.use_precision): the images leave the model as float32,
    # not as bfloat16 arrays that NumPy and matplotlib handle badly. No weights: same parameters.
    model.add(layers.Activation("tanh", dtype="float32", name="tanh"))
    return model


def build_discriminator(image_shape=IMAGE_SHAPE, filters=DISCRIMINATOR_FILTERS, dropout=0.25,
                        momentum=0.8, name="discriminator"):
    """The book's DCGAN discriminator: strided convolutions -> one sigmoid unit.

    Block 1: Conv2D(stride 2) -> LeakyReLU(0.2) -> Dropout. Blocks 2..n add
    BatchNormalization after the convolution; block 2 is followed by the
    book's ZeroPadding2D (7x7 -> 8x8 for MNIST); the last block has stride 1.
    Then Flatten -> Dense(1, sigmoid): the probability that the image is real.

    Args:
        image_shape: (height, width, channels) of the input images.
        filters: filters per block (book: 32, 64, 128, 256).
        dropout: dropout rate after each block (book: 0.25).
        momentum: BatchNormalization momentum (book: 0.8).
        name: model name.
    """
    _check_image_shape(image_shape)
    if not filters:
        raise ValueError("filters must name at least one convolution block")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=tuple(image_shape), name="image"))
    last = len(filters)
    for index, block_filters in enumerate(filters, start=1):
        strides = 1 if (index == last and last > 1) else 2
        model.add(layers.Conv2D(block_filters, kernel_size=3, strides=strides, padding="same",
                                name=f"block{index}_conv"))
        if index == 2:
            model.add(layers.ZeroPadding2D(padding=((0, 1), (0, 1)), name="block2_pad"))
        if index > 1:
            model.add(layers.BatchNormalization(momentum=momentum, name=f"block{index}_bn"))
        model.add(layers.LeakyReLU(negative_slope=0.2, name=f"block{index}_leaky_relu"))
        if dropout:
            model.add(layers.Dropout(dropout, name=f"block{index}_dropout"))
    model.add(layers.Flatten(name="flatten"))
    # float32 under any policy, as Keras' mixed-precision guide advises for an output that feeds
    # a loss: a bfloat16 sigmoid cannot represent probabilities between 0.996 and 1.
    model.add(layers.Dense(1, activation="sigmoid", dtype="float32", name="real_probability"))
    return model


def _check_image_shape(image_shape):
    if len(image_shape) != 3 or any(int(size) < 1 for size in image_shape):
        raise ValueError(f"image_shape must be (height, width, channels), got {image_shape!r}")
    return tuple(int(size) for size in image_shape)


def build_gan(latent_dim=LATENT_DIM, image_shape=IMAGE_SHAPE):
    """``(generator, discriminator, combined)`` with the book's settings, ready for ``gan.train``.

    D is compiled on its own (binary cross-entropy, accuracy, :func:`optimizer`);
    the combined model z -> G -> D, with D frozen for G's step, gets its own optimizer.
    """
    from genlab import gan

    generator = build_generator(latent_dim, image_shape)
    discriminator = build_discriminator(image_shape)
    discriminator.compile(loss="binary_crossentropy", optimizer=optimizer(), metrics=["accuracy"])
    return generator, discriminator, gan.build_combined(generator, discriminator, optimizer())


def train(dataset="mnist", mode=None, seed=SEED, checkpoint_dir=None, iterations=None, progress=False):
    """Train the DCGAN with notebook 05's settings for ``mode``; returns the generator.

    Used by the registry (``genlab report --retrain``) and ``scripts/train_pretrained.py``
    (the shipped weights), so both train exactly what notebook 05's full mode trains.
    """
    import sys

    return train_family(sys.modules[__name__], dataset, mode, seed, checkpoint_dir, iterations, progress)


def train_family(family, dataset="mnist", mode=None, seed=None, checkpoint_dir=None, iterations=None,
                 progress=False, checkpoint_interval=500, labels=False):
    """Train a family built on the book's GAN (this one, genlab.models.mlp_gan, genlab.models.cgan).

    ``family`` provides ``build_gan()``, ``ITERATIONS``, ``BATCH_SIZE`` and ``SEED``
    (and ``NUM_CLASSES`` with ``labels=True``, which passes the digits' labels
    to the loop); returns the trained generator.
    """
    from genlab import config, data, gan

    from genlab import callbacks

    seed = family.SEED if seed is None else seed
    config.seed_everything(seed)
    mode = config.check_mode(mode)
    (x_train, y_train), _ = data.load(dataset, mode=mode)
    generator, discriminator, combined = family.build_gan()
    conditioning = {"labels": y_train, "num_classes": family.NUM_CLASSES} if labels else {}
    iterations = iterations or config.pick(**family.ITERATIONS, mode=mode)
    hooks = []
    if checkpoint_dir is not None and mode == "full":   # a long run records its learning curve (FID, N = 2,000)
        from genlab import evaluation

        def fid(images, n, seed):
            result = evaluation.evaluate(images, dataset, n=n, seed=seed, which=("FID",), references_too=False)
            return result["samples"]["FID"]

        hooks.append(callbacks.LearningCurve(family.sampler(generator), fid, CURVE_EVERY,
                                             Path(checkpoint_dir) / "curve.json", last=iterations))
    gan.train(generator, discriminator, combined, x_train, iterations=iterations, batch_size=family.BATCH_SIZE,
              seed=seed, checkpoint_dir=checkpoint_dir, checkpoint_interval=checkpoint_interval, progress=progress,
              sample_interval=None, callbacks=hooks, **conditioning)
    return generator


def sampler(generator):
    """``sample_fn(n, seed=0, temperature=1.0)`` -> uint8 (n, 28, 28) images from a z -> tanh generator.

    ``temperature`` scales the noise, z ~ N(0, temperature^2 I): below 1 it
    samples nearer the centre of the latent space, trading diversity for
    quality. (BigGAN's truncation trick is a different thing: it redraws the
    entries of z beyond a threshold; notebook 08's exercise 3 writes it.)
    """
    import numpy as np

    from genlab import data

    latent_dim = int(generator.input_shape[-1])

    def sample_fn(n, seed=0, temperature=1.0):
        z = np.random.default_rng(seed).normal(size=(n, latent_dim)).astype("float32") * temperature
        images = generator.predict(z, batch_size=256, verbose=0)
        return data.to_uint8(images).reshape(n, *images.shape[1:3])

    sample_fn.generator = generator  # for samplers of your own, e.g. truncated noise (notebook 08)
    return sample_fn
