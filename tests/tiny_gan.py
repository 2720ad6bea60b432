"""Tiny GANs for the tests of genlab.gan and genlab.training: built in a second on the CPU."""

import numpy as np

from genlab import quiet  # noqa: F401  (TensorFlow without its start-up logs)
from genlab import data, gan
from genlab.models import dcgan

import keras  # noqa: E402

LATENT = 8


def adam():
    return dcgan.optimizer()


def build(book=False, dropout=0.0, seed=0):
    """(G, D, combined), D compiled on its own as in the book."""
    keras.utils.set_random_seed(seed)
    if book:
        generator, discriminator = dcgan.build_generator(), dcgan.build_discriminator()
    else:
        generator = dcgan.build_generator(latent_dim=LATENT, filters=(8, 4))
        discriminator = dcgan.build_discriminator(filters=(4, 8, 8, 8), dropout=dropout)
    discriminator.compile(loss="binary_crossentropy", optimizer=adam(), metrics=["accuracy"])
    return generator, discriminator, gan.build_combined(generator, discriminator, adam())


def values(variables):
    return [np.array(variable.numpy(), copy=True) for variable in variables]


def moving_statistics(model):
    return [variable for variable in model.weights if "moving" in variable.path]


def noise(count, latent=LATENT, seed=1):
    return np.random.default_rng(seed).normal(size=(count, latent)).astype("float32")


def real_batch(count):
    (x_train, _), _ = data.load_mnist(mode="quick")
    return data.scale_images(x_train[:count])
