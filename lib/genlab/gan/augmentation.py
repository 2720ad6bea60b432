"""GANs for data augmentation, measured: a classifier trained on few labelled digits, with and without cGAN digits.

Why it exists: the course's exam (Q4, "applications of GANs") says GANs "create
synthetic training data to increase dataset size, helping improve model
performance". Notebook 06 tests that claim instead of repeating it: a small CNN
learns from 100 or 1,000 real labelled digits (balanced), for the same number
of updates, in four arms:

* ``real only``;
* ``real + shifts/rotations``: classical augmentation, the baseline any GAN
  augmentation has to beat;
* ``real + cGAN (same labels)``: half of each batch drawn from a conditional GAN
  trained on *the same* labelled digits only, the honest test of the claim
  (no label the classifier did not have);
* ``real + cGAN (60,000 labels)``: the shipped cGAN, trained on all 60,000
  labelled digits. It hands the classifier knowledge of 60,000 labels through
  its images, so it is an upper bound on what the images carry, not augmentation
  of a small dataset; it is reported as such.

Test accuracy is measured on the 10,000 test digits, for several seeds (the
labelled subset, the initialisation and the synthetic draws change with the
seed). ``scripts/gan_augmentation.py`` writes the table to
``gan_augmentation.json`` in data/results; notebook 06 plots it.
"""

import numpy as np

from genlab import quiet  # noqa: F401  (imports TensorFlow without its start-up logs)
from genlab.data import balanced_subset  # noqa: F401  (the labelled subsets; also notebook 12's DBN)

LABELLED = {"quick": (100,), "full": (100, 1000)}     # real labelled digits, balanced over the 10 classes
SEEDS = {"quick": (0,), "full": (0, 1, 2)}
CLASSIFIER_STEPS = {"quick": 60, "full": 2000}        # updates of the classifier, equal in every arm
BATCH_SIZE = 64                                       # half real, half synthetic in the cGAN arms
LEARNING_RATE = 1e-3
SUBSET_GAN_ITERATIONS = {"quick": 20, "full": 3000}   # cGAN on the labelled digits only (book's loop, batch 32)
SYNTHETIC_PER_CLASS = 500                             # cGAN digits drawn per class for an arm
SHIFT, ROTATION = 0.1, 0.04                           # classical augmentation (fractions of size, of a turn)
ARMS = ("real only", "real + shifts/rotations", "real + cGAN (same labels)", "real + cGAN (60,000 labels)")


def synthetic_digits(generator, per_class=SYNTHETIC_PER_CLASS, seed=0, num_classes=10):
    """(images in [0, 1], labels): ``per_class`` cGAN digits of each class, seeded."""
    from genlab import data
    from genlab.models import cgan

    labels = np.repeat(np.arange(num_classes), per_class)
    return data.to_unit_range(cgan.generate(generator, labels, seed=seed), "tanh"), labels.astype("int32")


def train_classifier(real, synthetic=None, steps=None, seed=0, classical=False, mode=None):
    """Train genlab's small CNN for ``steps`` updates; returns it.

    ``real``, ``synthetic``: (images in [0, 1] (N, 28, 28, 1), int labels). Each
    batch is ``BATCH_SIZE`` real digits (drawn with replacement), or half real and
    half synthetic when ``synthetic`` is given; ``classical`` passes the real
    half through random shifts and rotations. Written as a loop over numpy
    batches rather than ``fit`` on a concatenation: a 100-digit set beside 5,000
    synthetic ones would otherwise be 2 % of what the classifier sees.
    """
    import keras
    import tensorflow as tf
    from keras import layers

    from genlab import config
    from genlab.models import classifier

    steps = steps or config.pick(**CLASSIFIER_STEPS, mode=mode)
    keras.utils.set_random_seed(seed)
    model = classifier.build()
    shift = keras.Sequential([layers.RandomTranslation(SHIFT, SHIFT, seed=seed),
                              layers.RandomRotation(ROTATION, seed=seed)], name="classical")
    optimizer = keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(LEARNING_RATE, steps))
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def step(x_real, y_real, x_fake, y_fake):
        if classical:
            x_real = shift(x_real, training=True)
        x, y = tf.concat([x_real, x_fake], 0), tf.concat([y_real, y_fake], 0)
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss

    rng = np.random.default_rng([seed, 7])
    half = BATCH_SIZE // 2 if synthetic is not None else BATCH_SIZE
    for _ in range(steps):
        i = rng.integers(0, len(real[0]), half)
        if synthetic is not None:
            j = rng.integers(0, len(synthetic[0]), BATCH_SIZE - half)
            x_fake, y_fake = synthetic[0][j], synthetic[1][j]
        else:
            x_fake, y_fake = real[0][:0], real[1][:0]
        step(real[0][i], real[1][i], x_fake, y_fake)
    return model


def accuracy(model, images01, labels):
    """Share of ``images01`` (in [0, 1]) the classifier labels correctly."""
    logits = model.predict(images01, batch_size=1000, verbose=0)
    return float(np.mean(np.argmax(logits, axis=1) == labels))


def train_subset_cgan(images_uint8, labels, iterations, seed=0):
    """notebook 06's conditional GAN trained (the book's loop) on the labelled digits alone; returns G."""
    from genlab import config, gan
    from genlab.models import cgan

    config.seed_everything(seed)
    generator, discriminator, combined = cgan.build_gan()
    gan.train(generator, discriminator, combined, images_uint8, iterations=iterations,
              batch_size=cgan.BATCH_SIZE, seed=seed, sample_interval=None, progress=False,
              labels=labels, num_classes=cgan.NUM_CLASSES)
    return generator


def experiment(labelled, seed, shipped_generator, mode=None, dataset="mnist", on_arm=None):
    """Test accuracy of each arm of :data:`ARMS` for one subset size and seed: ``{arm: accuracy}``.

    ``shipped_generator``: the cGAN trained on all labels (``None`` skips that arm).
    ``on_arm(arm, accuracy, seconds)`` is called after each arm (progress, saving).
    """
    import time

    from genlab import config, data

    (x_train, y_train), (x_test, y_test) = data.load(dataset, mode=config.check_mode(mode))
    chosen = balanced_subset(y_train, labelled // 10, seed=seed)
    real = data.to_unit_range(x_train[chosen]), y_train[chosen].astype("int32")
    test = data.to_unit_range(x_test)
    results = {}
    for arm in ARMS:
        began = time.perf_counter()
        synthetic, classical = None, arm == ARMS[1]
        if arm == ARMS[2]:
            generator = train_subset_cgan(x_train[chosen], y_train[chosen],
                                          config.pick(**SUBSET_GAN_ITERATIONS, mode=mode), seed=seed)
            synthetic = synthetic_digits(generator, seed=seed)
        elif arm == ARMS[3]:
            if shipped_generator is None:
                continue
            synthetic = synthetic_digits(shipped_generator, seed=seed)
        model = train_classifier(real, synthetic, seed=seed, classical=classical, mode=mode)
        results[arm] = accuracy(model, test, y_test)
        if on_arm is not None:
            on_arm(arm, results[arm], time.perf_counter() - began)
    return results


def summary(rows):
    """Per (labelled, arm): mean and sample standard deviation of the accuracy over seeds."""
    table = {}
    for labelled in sorted({row["labelled"] for row in rows}):
        for arm in ARMS:
            values = [row["accuracy"][arm] for row in rows if row["labelled"] == labelled and arm in row["accuracy"]]
            if values:
                table.setdefault(str(labelled), {})[arm] = {
                    "mean": round(float(np.mean(values)), 4),
                    "std": round(float(np.std(values, ddof=1)), 4) if len(values) > 1 else 0.0,
                    "seeds": len(values)}
    return table
