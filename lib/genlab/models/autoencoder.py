"""The undercomplete convolutional autoencoder of notebook 01: its builders and its one set of settings.

Notebook 01 (``notebooks/01_autoencoders.ipynb``) teaches the autoencoder of
Lectures 13-14: an encoder E: x -> z that squeezes a 28x28 digit (784 numbers)
into a code of LATENT_DIM numbers, a decoder D: z -> x_hat that rebuilds the
image, and the reconstruction loss ||x - x_hat||^2. The same networks live
here because the tests, the registry, the shipped weights
(``scripts/train_pretrained.py autoencoder_mnist``) and the VAE notebook build
them too. Every setting is defined here once; notebook 01's Hyperparameters
cell imports them and ``tests/test_notebooks.py`` keeps it equal to them.

:func:`sampler` decodes *random* latent codes. That is the lecture's
"random z doesn't produce a meaningful image" turned into a measurement: the
registry and ``evaluation.evaluate`` score those images like any generator's,
and notebook 01 sets them beside the reconstructions of held-out digits.
"""

import math

import keras
from keras import layers

from genlab import quiet  # noqa: F401  (imports TensorFlow without its start-up logs)

NOTEBOOK = "01_autoencoders"
IMAGE_SHAPE = (28, 28, 1)
LATENT_DIM = 16                        # 784 pixels -> 16 numbers: undercomplete, 49x fewer
FILTERS = (32, 64)                     # encoder convolutions (stride 2 each: 28 -> 14 -> 7); decoder mirrors
BATCH_SIZE = 64
LEARNING_RATE = 1e-3                   # Adam's default; the reconstruction loss is smooth, no GAN balance to keep
ITERATIONS = {"quick": 40, "full": 3000}          # batches; config.pick(**ITERATIONS)
LOG_EVERY = {"quick": 20, "full": 100}            # batches per Keras "epoch": one loss point, one checkpoint
NOISE_STD = 0.5                        # the denoising autoencoder's Gaussian corruption, on pixels in [0, 1]
DENOISE_ITERATIONS = {"quick": 40, "full": 1000}  # fine-tuning the trained autoencoder on noisy inputs
SEED = 42
# What ships (genlab.pretrained, scripts/train_pretrained.py): the whole autoencoder (encoder and
# decoder, so the notebook can reconstruct as well as decode), with these settings in its manifest.
SHIPPED_BUILDER = "build_autoencoder"
MANIFEST_SETTINGS = ("LATENT_DIM", "BATCH_SIZE", "LEARNING_RATE")


def build_encoder(latent_dim=LATENT_DIM, image_shape=IMAGE_SHAPE, filters=FILTERS, name="encoder"):
    """E: x -> z. Strided 3x3 convolutions with ReLU halve the image per block, then a linear Dense.

    The code layer is linear (no activation): nothing asks the codes to lie in
    any particular range, which is exactly why random codes are hard to choose.

    Args:
        latent_dim: length of the code z (fewer numbers than pixels: undercomplete).
        image_shape: (height, width, channels); height and width divisible by ``2 ** len(filters)``.
        filters: filters per strided convolution.
        name: model name.
    """
    height, width, _ = _check(latent_dim, image_shape, filters)
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=tuple(image_shape), name="image"))
    for index, block_filters in enumerate(filters, start=1):
        model.add(layers.Conv2D(block_filters, 3, strides=2, padding="same", activation="relu",
                                name=f"conv{index}"))
    model.add(layers.Flatten(name="flatten"))
    model.add(layers.Dense(latent_dim, name="code"))
    return model


def build_decoder(latent_dim=LATENT_DIM, image_shape=IMAGE_SHAPE, filters=FILTERS, name="decoder"):
    """D: z -> x_hat. Dense -> Reshape -> stride-2 transposed convolutions -> sigmoid image in [0, 1].

    The mirror image of :func:`build_encoder`: the transposed convolutions
    double height and width per block (7 -> 14 -> 28), and the sigmoid matches
    pixels scaled to [0, 1].

    Args:
        latent_dim: length of the code z.
        image_shape: (height, width, channels) of the reconstruction.
        filters: the encoder's filters (the decoder runs them in reverse).
        name: model name.
    """
    height, width, channels = _check(latent_dim, image_shape, filters)
    factor = 2 ** len(filters)
    start = (height // factor, width // factor, filters[-1])
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=(latent_dim,), name="z"))
    model.add(layers.Dense(start[0] * start[1] * start[2], activation="relu", name="dense"))
    model.add(layers.Reshape(start, name="reshape"))
    for index, block_filters in enumerate(reversed(filters), start=1):
        model.add(layers.Conv2DTranspose(block_filters, 3, strides=2, padding="same", activation="relu",
                                         name=f"deconv{index}"))
    # float32 under any policy (config.use_precision): images leave the model as float32.
    model.add(layers.Conv2D(channels, 3, padding="same", activation="sigmoid", dtype="float32",
                            name="to_image"))
    return model


def build_autoencoder(latent_dim=LATENT_DIM, image_shape=IMAGE_SHAPE, filters=FILTERS, name="autoencoder"):
    """x -> E -> z -> D -> x_hat, with the two halves reachable as ``get_layer("encoder"/"decoder")``."""
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=tuple(image_shape), name="image"))
    model.add(build_encoder(latent_dim, image_shape, filters))
    model.add(build_decoder(latent_dim, image_shape, filters))
    return model


def _check(latent_dim, image_shape, filters):
    if int(latent_dim) < 1:
        raise ValueError(f"latent_dim must be a positive integer, got {latent_dim!r}")
    if len(image_shape) != 3 or any(int(size) < 1 for size in image_shape):
        raise ValueError(f"image_shape must be (height, width, channels), got {image_shape!r}")
    factor = 2 ** len(filters)
    if not filters or image_shape[0] % factor or image_shape[1] % factor:
        raise ValueError(f"image_shape {tuple(image_shape)} must have height and width divisible by "
                         f"2**len(filters) = {factor} (one halving per convolution)")
    return tuple(int(size) for size in image_shape)


def compile_autoencoder(model):
    """Adam(LEARNING_RATE) on the mean squared error ||x - x_hat||^2 / pixels (the lecture's loss)."""
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="mse")
    return model


def corrupt(images, noise_std=NOISE_STD, seed=0):
    """Images in [0, 1] plus Gaussian noise of std ``noise_std``, clipped back to [0, 1] (float32)."""
    import numpy as np

    images = np.asarray(images, dtype=np.float32)
    noise = np.random.default_rng(seed).normal(0.0, noise_std, images.shape).astype(np.float32)
    return np.clip(images + noise, 0.0, 1.0)


def fit(model, images, iterations, log_every, noise_std=None, seed=SEED, callbacks=(), validation=None):
    """Train ``model`` for ``iterations`` batches of BATCH_SIZE on images in [0, 1]; returns the History.

    The input is the target (an autoencoder). With ``noise_std`` the input is
    the image plus fresh Gaussian noise, clipped to [0, 1], and the target the
    clean image (a denoising autoencoder); fresh noise per batch means the
    network never sees the same corruption twice. One Keras "epoch" is
    ``log_every`` batches, so the history has one point, and a checkpoint
    callback one save, per ``log_every`` batches whatever the training set's size.
    """
    import tensorflow as tf

    from genlab import data

    images = images if images.ndim == 4 else images[..., None]
    dataset = data.to_dataset(images, BATCH_SIZE, to=None, seed=seed, repeat=True)
    if noise_std:
        dataset = dataset.map(lambda clean: (tf.clip_by_value(
            clean + tf.random.normal(tf.shape(clean), stddev=noise_std, seed=seed), 0.0, 1.0), clean))
    else:
        dataset = dataset.map(lambda clean: (clean, clean))
    return model.fit(dataset, epochs=math.ceil(iterations / log_every),
                     steps_per_epoch=log_every, callbacks=list(callbacks), validation_data=validation, verbose=0)


def train(dataset="mnist", mode=None, seed=SEED, checkpoint_dir=None, iterations=None, progress=False):
    """Train the autoencoder with notebook 01's settings for ``mode``; returns it, uncompiled.

    Used by the registry (``genlab report --retrain``) and ``scripts/train_pretrained.py``
    (the shipped weights), so both train exactly what notebook 01's full mode trains.
    """
    from genlab import callbacks, config, data

    config.seed_everything(seed)
    (x_train, _), (x_test, _) = data.load(dataset, mode=config.check_mode(mode))
    model = compile_autoencoder(build_autoencoder())
    held_out = data.scale_images(x_test, to="sigmoid")
    fit(model, data.scale_images(x_train, to="sigmoid"),
        iterations=iterations or config.pick(**ITERATIONS, mode=mode),
        log_every=config.pick(**LOG_EVERY, mode=mode), seed=seed,
        callbacks=callbacks.standard(checkpoint_dir, progress=progress), validation=(held_out, held_out))
    # An uncompiled copy: its weights file holds the network only, not Adam's two moments per
    # weight (a third of the size), and it is what SHIPPED_BUILDER() builds and loads.
    trained = build_autoencoder()
    trained.set_weights(model.get_weights())
    return trained


CODES = ("diagonal", "standard")


def code_statistics(autoencoder, dataset="mnist"):
    """Per-dimension mean and standard deviation of the training digits' codes, as float32 arrays."""
    from genlab import data

    (x_train, _), _ = data.load(dataset)
    codes = autoencoder.get_layer("encoder").predict(data.scale_images(x_train, to="sigmoid"),
                                                     batch_size=500, verbose=0)
    return codes.mean(axis=0), codes.std(axis=0)


def sampler(autoencoder, codes="diagonal", dataset="mnist"):
    """``sample_fn(n, seed=0, temperature=1.0)`` -> uint8 (n, 28, 28): the decoder applied to random codes.

    An autoencoder has no prior over z, so "random" needs a choice:

    - ``"diagonal"`` (default, the fair one): each coordinate drawn from a normal
      with the mean and standard deviation the encoder gives the training
      digits in that coordinate, independently. Every code is in the right
      range, yet the decoded images are poor: the training codes fill a
      thin, clustered region that a box-shaped cloud mostly misses.
    - ``"standard"``: z ~ N(0, I), what a VAE samples from. The autoencoder's
      codes have their own scale, so this is worse still.

    ``temperature`` scales the spread about the mean (the noise for "standard").
    """
    import numpy as np

    from genlab import data

    if codes not in CODES:
        raise ValueError(f"codes must be one of {CODES}, got {codes!r}")
    decoder = autoencoder.get_layer("decoder")
    latent_dim = int(decoder.input_shape[-1])
    if codes == "diagonal":
        mean, std = code_statistics(autoencoder, dataset)
    else:
        mean, std = np.zeros(latent_dim, np.float32), np.ones(latent_dim, np.float32)

    def sample_fn(n, seed=0, temperature=1.0):
        noise = np.random.default_rng(seed).normal(size=(n, latent_dim)).astype("float32")
        z = mean + std * temperature * noise
        images = decoder.predict(z.astype("float32"), batch_size=256, verbose=0)
        return data.to_uint8(images, from_range="sigmoid").reshape(n, *images.shape[1:3])

    sample_fn.decoder = decoder
    sample_fn.mean, sample_fn.std = mean, std
    return sample_fn
