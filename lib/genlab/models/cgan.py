"""The conditional DCGAN (Mirza and Osindero, 2014, on the book's DCGAN): builders and settings.

Why it exists: notebook 06 (``notebooks/06_conditional_gan.ipynb``) teaches
how a label enters both players of notebook 05's DCGAN: G(z, y) draws a
digit of the class y asked for, D(x, y) judges whether x is a real image *of
class y*. The tests, the registry, the shipped weights
(``data/pretrained/cgan_mnist.weights.h5``) and the class-agreement measure
need the same networks, so they live here, with every setting defined once;
the notebook's Hyperparameters cell imports them and ``tests/test_notebooks.py``
keeps it equal to them.

How the label enters (one-hot concatenation, the simplest form):

* **G**: the one-hot label (10 numbers) is concatenated to z, so the book's
  generator body sees a vector of length 100 + 10;
* **D**: the one-hot label is tiled to 10 constant 28x28 maps and
  concatenated to the image as extra channels, so the book's discriminator
  body sees 28x28x(1 + 10) and can check the image against the label
  everywhere from its first convolution.

Labels are integer inputs of shape (1,); Keras' ``CategoryEncoding`` makes
the one-hot vector inside the model. The bodies are notebook 05's networks
(:func:`genlab.models.dcgan.build_generator` and ``build_discriminator``),
nested as sub-models. The combined model and the loop are genlab's
(:func:`genlab.gan.build_combined`, :func:`genlab.gan.train` with ``labels=``).
"""

import numpy as np

import keras
from keras import layers

from genlab import quiet  # noqa: F401  (imports TensorFlow without its start-up logs)
from genlab.models import dcgan

NOTEBOOK = "06_conditional_gan"
LATENT_DIM = dcgan.LATENT_DIM        # 100, as in notebook 05
NUM_CLASSES = 10
IMAGE_SHAPE = dcgan.IMAGE_SHAPE
BATCH_SIZE = 32
LEARNING_RATE, BETA_1 = dcgan.LEARNING_RATE, dcgan.BETA_1
ITERATIONS = {"quick": 12, "full": 9000}        # config.pick(**ITERATIONS)
SAMPLE_INTERVAL = {"quick": 6, "full": 500}     # fixed-noise grid (labels 0..9 in turn) every this many
SEED = 42
N_AGREEMENT = 1000                   # generated digits per class-agreement measure (100 per class)
# What ships (genlab.pretrained, scripts/train_pretrained.py): the conditional generator.
SHIPPED_BUILDER = "build_generator"
MANIFEST_SETTINGS = ("BATCH_SIZE", "LEARNING_RATE", "BETA_1", "NUM_CLASSES")


def optimizer():
    """A fresh Adam(LEARNING_RATE, beta_1=BETA_1): one for D, another for the combined model."""
    return keras.optimizers.Adam(learning_rate=LEARNING_RATE, beta_1=BETA_1)


def one_hot(label, num_classes=NUM_CLASSES, name="one_hot"):
    """Integer labels (batch, 1) -> one-hot vectors (batch, num_classes), inside a model."""
    return layers.CategoryEncoding(num_tokens=num_classes, output_mode="one_hot", name=name)(label)


def label_maps(one_hot_label, height, width, name="label_maps"):
    """One-hot vectors (batch, C) -> C constant maps (batch, height, width, C): the label, at every pixel."""
    num_classes = int(one_hot_label.shape[-1])
    maps = layers.Reshape((1, 1, num_classes), name=f"{name}_reshape")(one_hot_label)
    return layers.UpSampling2D(size=(height, width), name=name)(maps)  # repeats each value H x W times


def build_generator(latent_dim=LATENT_DIM, num_classes=NUM_CLASSES, image_shape=IMAGE_SHAPE,
                    name="conditional_generator"):
    """G(z, label): z and the one-hot label, concatenated, into notebook 05's generator.

    Args:
        latent_dim: length of z.
        num_classes: number of classes (labels 0 .. num_classes - 1).
        image_shape: (height, width, channels) of the images.
        name: model name.

    Returns:
        A functional ``keras.Model`` with inputs ``[z (latent_dim,), label (1,) int32]``
        and output ``image_shape`` in [-1, 1].
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes!r}")
    z = keras.Input(shape=(latent_dim,), name="z")
    label = keras.Input(shape=(1,), dtype="int32", name="label")
    conditioned = layers.Concatenate(name="z_and_label")([z, one_hot(label, num_classes)])
    body = dcgan.build_generator(latent_dim + num_classes, image_shape, name="generator_body")
    return keras.Model([z, label], body(conditioned), name=name)


def build_discriminator(num_classes=NUM_CLASSES, image_shape=IMAGE_SHAPE, dropout=0.25,
                        name="conditional_discriminator"):
    """D(image, label): the image with the label as extra constant channels, into notebook 05's D.

    Args:
        num_classes: number of classes.
        image_shape: (height, width, channels) of the images.
        dropout: dropout rate of the body (book: 0.25).
        name: model name.

    Returns:
        A functional ``keras.Model`` with inputs ``[image, label (1,) int32]`` and one
        sigmoid output: the probability that the image is a real image of that class.
    """
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes!r}")
    height, width, channels = (int(size) for size in image_shape)
    image = keras.Input(shape=(height, width, channels), name="image")
    label = keras.Input(shape=(1,), dtype="int32", name="label")
    maps = label_maps(one_hot(label, num_classes), height, width)
    stacked = layers.Concatenate(axis=-1, name="image_and_label")([image, maps])
    body = dcgan.build_discriminator((height, width, channels + num_classes), dropout=dropout,
                                     name="discriminator_body")
    return keras.Model([image, label], body(stacked), name=name)


def build_gan(latent_dim=LATENT_DIM, num_classes=NUM_CLASSES, image_shape=IMAGE_SHAPE):
    """``(generator, discriminator, combined)``, D compiled on its own, ready for ``gan.train(labels=...)``."""
    from genlab import gan

    generator = build_generator(latent_dim, num_classes, image_shape)
    discriminator = build_discriminator(num_classes, image_shape)
    discriminator.compile(loss="binary_crossentropy", optimizer=optimizer(), metrics=["accuracy"])
    return generator, discriminator, gan.build_combined(generator, discriminator, optimizer())


def train(dataset="mnist", mode=None, seed=SEED, checkpoint_dir=None, iterations=None, progress=False):
    """Train the conditional DCGAN with notebook 06's settings for ``mode``; returns the generator."""
    import sys

    return dcgan.train_family(sys.modules[__name__], dataset, mode, seed, checkpoint_dir, iterations, progress,
                              checkpoint_interval=500, labels=True)


def generate(generator, labels, seed=0, temperature=1.0):
    """Images in [-1, 1] of the given integer ``labels`` (one noise vector each, seeded)."""
    labels = np.asarray(labels, np.int32).reshape(-1, 1)
    latent_dim = int(generator.inputs[0].shape[-1])
    z = np.random.default_rng(seed).normal(size=(len(labels), latent_dim)).astype("float32") * temperature
    return generator.predict([z, labels], batch_size=256, verbose=0)


def sampler(generator):
    """``sample_fn(n, seed=0, temperature=1.0, labels=None)`` -> uint8 (n, 28, 28) images.

    Without ``labels`` the classes are drawn uniformly (seeded), so the registry
    and :mod:`genlab.evaluation` compare the samples with the real digits' mix.
    """
    from genlab import data

    def sample_fn(n, seed=0, temperature=1.0, labels=None):
        if labels is None:
            labels = np.random.default_rng([seed, 1]).integers(0, NUM_CLASSES, n)
        images = generate(generator, labels, seed=seed, temperature=temperature)
        return data.to_uint8(images).reshape(n, *images.shape[1:3])

    sample_fn.generator = generator
    return sample_fn


def requested_labels(n=N_AGREEMENT, num_classes=NUM_CLASSES):
    """0, 1, ..., 9, 0, 1, ...: ``n`` requested classes, as even as ``n`` allows."""
    return np.arange(n) % num_classes


def class_agreement(predicted, requested):
    """Share of generated digits whose predicted class is the requested one (0..1)."""
    predicted, requested = np.asarray(predicted).ravel(), np.asarray(requested).ravel()
    if predicted.shape != requested.shape or not len(predicted):
        raise ValueError(f"need as many predictions as requests, got {predicted.shape} and {requested.shape}")
    return float(np.mean(predicted == requested))


def code_class_agreement(codes, predicted, num_classes=NUM_CLASSES):
    """InfoGAN's code-to-class agreement: the best one-to-one matching of codes to classes.

    The code values carry no names, so code 3 may draw the digit 7. Count how
    often each code is classified as each class, match codes to classes one to
    one so that the matched counts are largest (the Hungarian algorithm,
    ``scipy.optimize.linear_sum_assignment``), and return the matched share.

    Returns:
        ``(agreement, mapping)``: the share (0..1) and ``mapping[code] = class``.
    """
    from scipy.optimize import linear_sum_assignment

    codes, predicted = np.asarray(codes).ravel(), np.asarray(predicted).ravel()
    if codes.shape != predicted.shape or not len(codes):
        raise ValueError(f"need one prediction per code, got {codes.shape} and {predicted.shape}")
    counts = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(counts, (codes, predicted), 1)
    rows, columns = linear_sum_assignment(counts, maximize=True)
    return float(counts[rows, columns].sum() / len(codes)), dict(zip(rows.tolist(), columns.tolist()))


def measure_agreement(generator, n=N_AGREEMENT, seed=SEED, dataset="mnist"):
    """The project classifier's verdict on ``n`` digits requested evenly over the classes.

    Returns:
        dict with "agreement" (share labelled as requested), "per_class" (list of shares),
        "n" and "classifier".
    """
    from genlab import features

    requested = requested_labels(n)
    samples = sampler(generator)(n, seed=seed, labels=requested)
    predicted = features.get_extractor(dataset).predict(samples)
    per_class = [class_agreement(predicted[requested == k], requested[requested == k])
                 for k in range(NUM_CLASSES)]
    return {"agreement": round(class_agreement(predicted, requested), 4),
            "per_class": [round(value, 4) for value in per_class], "n": int(n), "seed": int(seed),
            "classifier": f"genlab {dataset} classifier (genlab.features)"}


def extra_evaluation(generator, dataset="mnist", seed=SEED):
    """What scripts/train_pretrained.py records beside FID: the class agreement."""
    return {"class_agreement": measure_agreement(generator, seed=seed, dataset=dataset)}
