"""The collection's models, registered for the results report and notebook 08.

Why this module exists: ``genlab report`` and notebook 08 evaluate "every
model the collection has"; each notebook's model joins with one
:func:`genlab.report.register` call here, giving how to train it in the chosen
mode and how to load its checkpoint. Imported by :func:`genlab.report.registered`.
"""

import functools
from pathlib import Path

from genlab import paths, report

DCGAN_ITERATIONS = {"quick": 100, "full": 5000}


def _dcgan_models():
    from genlab import gan, models

    import keras

    generator = models.build_generator()
    discriminator = models.build_discriminator()
    discriminator.compile(loss="binary_crossentropy", metrics=["accuracy"],
                          optimizer=keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5))
    combined = gan.build_combined(generator, discriminator)
    return generator, discriminator, combined


def generator_sampler(generator):
    """``sample_fn(n, seed, temperature=1.0)`` -> uint8 (n, 28, 28) from a z -> tanh-image generator.

    ``temperature`` scales the noise z ~ N(0, I): below 1 it samples nearer the
    mode (the "truncation trick"), trading diversity for quality.
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


def train_dcgan(mode, seed=0, checkpoint=None, dataset="mnist", iterations=None):
    """Train notebook 05's DCGAN (the book's settings, batch 32) and return its sampler."""
    from genlab import config, data, training

    config.seed_everything(seed)
    (x_train, _), _ = data.load(dataset)
    generator, discriminator, combined = _dcgan_models()
    training.train(generator, discriminator, combined, x_train, iterations or DCGAN_ITERATIONS[mode],
                   batch_size=32, seed=seed, checkpoint_dir=checkpoint, progress=False,
                   sample_interval=10**9)
    return generator_sampler(generator)


def load_dcgan(checkpoint):
    """The sampler of a DCGAN checkpoint written by :func:`genlab.training.train`."""
    from genlab import models

    weights = Path(checkpoint) / "generator.weights.h5"
    if not weights.exists():
        raise FileNotFoundError(weights)
    generator = models.build_generator()
    generator.load_weights(weights)
    return generator_sampler(generator)


# Notebook 05 saves its run in build/checkpoints/05_dcgan_<dataset>_<mode>: use it when it is
# there (read only); otherwise train into the report's own checkpoint. Fashion-MNIST (the book's
# dataset) needs a download: offline the report lists it as skipped.
for _dataset in ("mnist", "fashion_mnist"):
    report.register(f"dcgan_{_dataset}", dataset=_dataset,
                    train_fn=functools.partial(train_dcgan, dataset=_dataset), load_fn=load_dcgan,
                    checkpoint=[paths.BUILD_DIR / "checkpoints" / f"05_dcgan_{_dataset}_{{mode}}",
                                paths.BUILD_DIR / "checkpoints" / f"report_dcgan_{_dataset}_{{mode}}"],
                    notebook="05_dcgan")
