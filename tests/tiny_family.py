"""A tiny model family for the tests of scripts/train_pretrained.py: a real GAN run that takes seconds.

It trains tests/tiny_gan.py's small GAN with the book's loop (genlab.gan.train),
checkpointing every 10 iterations, and slows each iteration down by
``TINY_SLEEP`` seconds so a test can kill a run midway. Each executed
iteration is appended to the file ``$TINY_LOG`` (if set), so a test can count
what a resumed run did again.
"""

import os
import time

import keras

import tiny_gan
from genlab import gan, registry
from genlab.models import dcgan

SEED = 3
ITERATIONS = {"quick": 20, "full": 120}
MANIFEST_SETTINGS = ("CHECKPOINT_INTERVAL",)
CHECKPOINT_INTERVAL = 10
SHIPPED_BUILDER = "build_generator"
ENTRY = registry.Entry("tiny_mnist", "mnist", __name__, "05_dcgan", pretrained="tiny_mnist")


def build_generator():
    return tiny_gan.build(seed=SEED)[0]


def _note(iteration, logs=None):
    time.sleep(float(os.environ.get("TINY_SLEEP", "0")))
    if os.environ.get("TINY_LOG"):
        with open(os.environ["TINY_LOG"], "a", encoding="utf-8") as log:
            log.write(f"{iteration}\n")


def train(dataset="mnist", mode=None, seed=SEED, checkpoint_dir=None, iterations=None, progress=False):
    generator, discriminator, combined = tiny_gan.build(seed=seed)
    images = tiny_gan.real_batch(256)
    gan.train(generator, discriminator, combined, images, iterations=iterations, batch_size=8, seed=seed,
              checkpoint_dir=checkpoint_dir, checkpoint_interval=CHECKPOINT_INTERVAL, sample_interval=None,
              progress=progress, callbacks=[keras.callbacks.LambdaCallback(on_train_batch_end=_note)])
    return generator


sampler = dcgan.sampler
