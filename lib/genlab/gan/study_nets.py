"""The networks of notebook 07's study: small MLPs (ring, MNIST) and a small DCGAN-style conv GAN (MNIST).

Why it exists: :mod:`genlab.gan.experiments` trains every variant of the
case study "D too strong" with one trainer; the variants differ in D's
options (spectral normalization, dropout, minibatch stddev, minibatch
discrimination), and the builders here add them the same way to each
network, so a remedy means the same thing on the ring, on the MNIST MLP and
on the conv GAN. Every network works on flat vectors (2 ring coordinates or
784 pixels in [-1, 1]); the conv networks reshape inside, so the trainer, the
evaluators and the gradient penalty need not know which network runs.
"""

from genlab import quiet  # noqa: F401  (quiet: TensorFlow without its start-up logs)
from genlab.gan import regularizers

import keras  # noqa: E402

NETWORKS = ("mlp", "conv", "conv-no-bn")   # "conv-no-bn": the conv GAN without G's batch normalization
CONV_FILTERS = (32, 64)      # D's two stride-2 convolutions (28 -> 14 -> 7); G mirrors them


def build_generator(settings):
    """z -> 2-D point (ring) or 784 pixels in [-1, 1] (MNIST): an MLP, or for ``network="conv"`` a small DCGAN G."""
    if settings.network != "mlp":
        return _conv_generator(settings, batch_norm=settings.network == "conv")
    out, activation = (2, None) if settings.dataset == "ring" else (784, "tanh")
    h = settings.hidden
    return keras.Sequential([keras.Input((settings.latent_dim,)),
                             keras.layers.Dense(h), keras.layers.LeakyReLU(0.2),
                             keras.layers.Dense(2 * h if settings.dataset == "mnist" else h),
                             keras.layers.LeakyReLU(0.2),
                             keras.layers.Dense(out, activation=activation)], name="generator")


def _conv_generator(settings, batch_norm=True):
    """DCGAN's G (Radford et al. 2016) at MNIST size: Dense -> 7x7 maps -> two stride-2 transposed convs, BN + ReLU.

    ``batch_norm=False`` drops the two BatchNormalization layers (the layers before them get
    their biases back): the same G without the normalization DCGAN credits with stable training.
    """
    wide, narrow = CONV_FILTERS[1], CONV_FILTERS[0]

    def normalize():
        return [keras.layers.BatchNormalization()] if batch_norm else []

    return keras.Sequential([
        keras.Input((settings.latent_dim,)),
        keras.layers.Dense(7 * 7 * wide, use_bias=not batch_norm), *normalize(), keras.layers.ReLU(),
        keras.layers.Reshape((7, 7, wide)),
        keras.layers.Conv2DTranspose(narrow, 4, strides=2, padding="same", use_bias=not batch_norm),
        *normalize(), keras.layers.ReLU(),
        keras.layers.Conv2DTranspose(1, 4, strides=2, padding="same", activation="tanh"),
        keras.layers.Reshape((784,))], name="generator")


def build_discriminator(settings):
    """x -> [logit, features]: no sigmoid (the losses take logits; WGAN's critic is the same net).

    The features (the last hidden layer) serve feature matching. The
    options wrap every Dense and Conv layer in spectral normalization, add
    dropout after each hidden layer, and put a minibatch stddev feature or
    minibatch discrimination features before the output layer. The MLP has
    two hidden layers; the conv D (``network="conv"``) two stride-2
    convolutions with LeakyReLU, as DCGAN's, then a Dense layer of ``hidden`` units.
    """
    width = 2 if settings.dataset == "ring" else 784

    def wrap(layer):
        return keras.layers.SpectralNormalization(layer) if settings.spectral_norm else layer

    def hidden(x, layer):
        x = keras.layers.LeakyReLU(0.2)(wrap(layer)(x))
        return keras.layers.Dropout(settings.dropout)(x) if settings.dropout else x

    x = inputs = keras.Input((width,))
    if settings.network != "mlp":
        x = keras.layers.Reshape((28, 28, 1))(x)
        for filters in CONV_FILTERS:
            x = hidden(x, keras.layers.Conv2D(filters, 4, strides=2, padding="same"))
        x = hidden(keras.layers.Flatten()(x), keras.layers.Dense(settings.hidden))
    else:
        h = settings.hidden
        for units in ((2 * h, h) if settings.dataset == "mnist" else (h, h)):
            x = hidden(x, keras.layers.Dense(units))
    features = x
    if settings.minibatch_std:
        x = regularizers.MinibatchStdDev()(x)
    if settings.minibatch_discrimination:
        x = regularizers.MinibatchDiscrimination()(x)
    return keras.Model(inputs, [wrap(keras.layers.Dense(1))(x), features], name="discriminator")
