"""CycleGAN (Zhu et al. 2017) scaled to 28x28 MNIST: unpaired translation between bold and plain digits.

Why it exists: notebook 09 (``notebooks/09_image_to_image.ipynb``) teaches
unpaired image-to-image translation after pix2pix's paired one. Two domains
are built from the offline digits so that no image of one has its partner in
the other: X = *bold* digits (strokes thickened by a 3x3 maximum filter) made
from the first half of the training digits, Y = plain MNIST digits, the second
half. The notebook writes the losses and the training step out (the lesson);
the tests, the registry and the shipped weights
(``data/pretrained/cyclegan_mnist.weights.h5``) need the same code, so it
lives here, with every setting defined once (the notebook's CycleGAN settings
cell reads them; ``tests/test_notebooks.py`` keeps it equal to them).

Notation as in the paper: G: X -> Y and F: Y -> X are the generators, D_Y
judges G's outputs against plain digits and D_X F's against bold ones.
Kept from the paper: the least-squares (LSGAN) adversarial loss,
lambda_cycle = 10, the identity loss weighted 0.5 * lambda_cycle, Adam(2e-4,
0.5). Changed for a CPU: batches of 32 (the paper: 1), pix2pix's small U-Net
and 16x16 PatchGAN (:mod:`genlab.models.pix2pix`) instead of the paper's
ResNet generator and 70x70 PatchGAN, and no pool of past fakes for D.

What ships is a composite model holding both generators (:func:`build_shipped`);
:func:`sampler` translates held-out bold digits into the MNIST domain with G.
"""

import numpy as np

import keras

from genlab import quiet  # noqa: F401  (imports TensorFlow without its start-up logs)
from genlab.models import pix2pix

NOTEBOOK = "09_image_to_image"
IMAGE_SHAPE = pix2pix.IMAGE_SHAPE
BOLD_SIZE = 3                      # the maximum filter that thickens strokes (domain X)
BATCH_SIZE = 32
LEARNING_RATE, BETA_1 = 2e-4, 0.5  # Zhu et al. 2017
CYCLE_WEIGHT = 10.0                # lambda_cycle (Zhu et al. 2017)
IDENTITY_WEIGHT = 0.5 * CYCLE_WEIGHT   # the paper's identity term: 0.5 * lambda_cycle
GENERATOR_FILTERS = (16, 32, 64)   # pix2pix's U-Net, narrower: CycleGAN runs four generator passes a step
DISCRIMINATOR_FILTERS = (16, 32)
ITERATIONS = {"quick": 5, "full": 2000}    # config.pick(**ITERATIONS); quick runs the step eagerly (notebook 09)
SEED = 42
N_EVAL = 1000
# What ships (genlab.pretrained, scripts/train_pretrained.py): both generators in one model.
SHIPPED_BUILDER = "build_shipped"
MANIFEST_SETTINGS = ("BATCH_SIZE", "LEARNING_RATE", "BETA_1", "CYCLE_WEIGHT", "IDENTITY_WEIGHT", "BOLD_SIZE")


def optimizer():
    """A fresh Adam(LEARNING_RATE, beta_1=BETA_1): one per network."""
    return keras.optimizers.Adam(learning_rate=LEARNING_RATE, beta_1=BETA_1)


def embolden(images, size=BOLD_SIZE):
    """Thicker strokes: each pixel becomes the maximum of its ``size`` x ``size`` neighbourhood.

    Works on any array (N, H, W[, C]) whose strokes are the high values (uint8, or [-1, 1] floats).
    """
    images = np.asarray(images)
    pad = size // 2
    widths = [(0, 0), (pad, pad), (pad, pad)] + [(0, 0)] * (images.ndim - 3)
    padded = np.pad(images, widths, mode="edge")
    height, width = images.shape[1:3]
    return np.max([padded[:, i:i + height, j:j + width] for i in range(size) for j in range(size)], axis=0)


def domains(dataset="mnist", split="train", mode=None):
    """``(x, y)`` float32 (N, 28, 28, 1) in [-1, 1]: bold digits (X) and plain digits (Y), unpaired.

    On the training split X is made from the first half of the digits and Y is the
    second half, so no digit appears in both. On the test split X is the bold version
    of every held-out digit and Y the digits themselves (pairs, for measuring only).
    """
    from genlab import data

    (x_train, _), (x_test, _) = data.load(dataset, mode=mode)
    if split == "train":
        half = len(x_train) // 2
        return data.scale_images(embolden(x_train[:half])), data.scale_images(x_train[half:])
    return data.scale_images(embolden(x_test)), data.scale_images(x_test)


def build_generator(name="generator"):
    """One CycleGAN generator: pix2pix's U-Net with :data:`GENERATOR_FILTERS`."""
    return pix2pix.build_generator(IMAGE_SHAPE, GENERATOR_FILTERS, name=name)


def build_discriminator(name="discriminator"):
    """One CycleGAN discriminator: pix2pix's PatchGAN, unconditional (it sees one image)."""
    return pix2pix.build_discriminator(IMAGE_SHAPE, DISCRIMINATOR_FILTERS, conditional=False, name=name)


def build_shipped(generator_g=None, generator_f=None):
    """The composite that ships: ``[x, y] -> [G(x), F(y)]``, the generators as its layers "G" and "F"."""
    generator_g = generator_g or build_generator("G")
    generator_f = generator_f or build_generator("F")
    x = keras.Input(shape=IMAGE_SHAPE, name="bold")
    y = keras.Input(shape=IMAGE_SHAPE, name="plain")
    return keras.Model([x, y], [generator_g(x), generator_f(y)], name="cyclegan")


def _mean_absolute(a, b):
    return keras.ops.mean(keras.ops.abs(a - b))


def cycle_loss(x, cycled_x, y, cycled_y):
    """||F(G(x)) - x||_1 + ||G(F(y)) - y||_1 (batch means): each image must come back from the round trip."""
    return _mean_absolute(cycled_x, x) + _mean_absolute(cycled_y, y)


def identity_loss(x, same_x, y, same_y):
    """||F(x) - x||_1 + ||G(y) - y||_1: an image already in a generator's target domain should pass unchanged."""
    return _mean_absolute(same_x, x) + _mean_absolute(same_y, y)


def generator_adversarial_loss(fake_logits):
    """LSGAN: G wants D's output on its fakes to be 1, (D(G(x)) - 1)^2."""
    return keras.ops.mean(keras.ops.square(fake_logits - 1.0))


def discriminator_loss(real_logits, fake_logits):
    """LSGAN, halved as in the paper: ((D(y) - 1)^2 + D(G(x))^2) / 2."""
    return 0.5 * (keras.ops.mean(keras.ops.square(real_logits - 1.0)) + keras.ops.mean(keras.ops.square(fake_logits)))


def make_train_step(generator_g, generator_f, discriminator_x, discriminator_y, optimizers,
                    cycle_weight=CYCLE_WEIGHT, identity_weight=IDENTITY_WEIGHT):
    """A ``tf.function`` ``step(x, y) -> dict of losses``: one update of G and F (together), D_X and D_Y.

    ``optimizers``: a dict with keys "generators", "D_X", "D_Y".
    """
    import tensorflow as tf

    generator_weights = generator_g.trainable_weights + generator_f.trainable_weights

    @tf.function
    def step(x, y):
        x, y = tf.convert_to_tensor(x), tf.convert_to_tensor(y)
        with tf.GradientTape(persistent=True) as tape:
            fake_y, fake_x = generator_g(x, training=True), generator_f(y, training=True)
            cycled_x, cycled_y = generator_f(fake_y, training=True), generator_g(fake_x, training=True)
            same_x, same_y = generator_f(x, training=True), generator_g(y, training=True)
            logits_fake_y, logits_fake_x = discriminator_y(fake_y, training=True), discriminator_x(fake_x, training=True)
            adversarial = generator_adversarial_loss(logits_fake_y) + generator_adversarial_loss(logits_fake_x)
            cycle = cycle_loss(x, cycled_x, y, cycled_y)
            identity = identity_loss(x, same_x, y, same_y)
            g_total = adversarial + cycle_weight * cycle + identity_weight * identity
            d_y = discriminator_loss(discriminator_y(y, training=True), logits_fake_y)
            d_x = discriminator_loss(discriminator_x(x, training=True), logits_fake_x)
        for loss, weights, key in ((g_total, generator_weights, "generators"),
                                   (d_x, discriminator_x.trainable_weights, "D_X"),
                                   (d_y, discriminator_y.trainable_weights, "D_Y")):
            optimizers[key].apply_gradients(zip(tape.gradient(loss, weights), weights))
        del tape
        return {"g_adversarial": adversarial, "cycle": cycle, "identity": identity, "d_x": d_x, "d_y": d_y}

    return step


def train(dataset="mnist", mode=None, seed=SEED, checkpoint_dir=None, iterations=None, progress=False):
    """Train CycleGAN with notebook 09's settings for ``mode``; returns :func:`build_shipped`'s composite.

    ``checkpoint_dir`` is accepted for the registry's interface; runs are short, nothing is resumed.
    """
    import tqdm

    from genlab import config

    config.seed_everything(seed)
    x_all, y_all = domains(dataset, mode=config.check_mode(mode))
    generator_g, generator_f = build_generator("G"), build_generator("F")
    discriminator_x, discriminator_y = build_discriminator("D_X"), build_discriminator("D_Y")
    optimizers = {"generators": optimizer(), "D_X": optimizer(), "D_Y": optimizer()}
    step = make_train_step(generator_g, generator_f, discriminator_x, discriminator_y, optimizers)
    iterations = iterations or config.pick(**ITERATIONS, mode=mode)
    for iteration in tqdm.trange(iterations, disable=not progress, desc="CycleGAN", mininterval=2.0):
        rng = np.random.default_rng([seed, iteration])  # x and y drawn independently: unpaired
        step(x_all[rng.integers(0, len(x_all), BATCH_SIZE)], y_all[rng.integers(0, len(y_all), BATCH_SIZE)])
    return build_shipped(generator_g, generator_f)


def sampler(model, dataset="mnist"):
    """``sample_fn(n, seed=0)`` -> uint8 (n, 28, 28): G's translations of held-out bold digits into plain MNIST.

    The held-out digits are taken in a permutation drawn from ``seed``, repeated if ``n`` is larger.
    """
    from genlab import data

    generator_g = model.get_layer("G")
    bold, _ = domains(dataset, split="test", mode="full")   # the evaluation's reference: the whole test set

    def sample_fn(n, seed=0):
        order = np.random.default_rng(seed).permutation(len(bold))
        return data.to_uint8(generator_g.predict(bold[order[np.arange(n) % len(bold)]], batch_size=250, verbose=0))

    sample_fn.generator = generator_g
    return sample_fn


def measure(model, dataset="mnist", n=N_EVAL):
    """Cycle error and what it cannot see, on held-out digits.

    Returns:
        dict: "cycle_error" (mean |F(G(x)) - x| and |G(F(y)) - y|, [-1, 1] units), "from_truth"
        (|F(y) - x| and |G(x) - y|: the second half of each round trip fed the true partner instead),
        "l1_to_truth" (|G(x) - y| for the bold digit's own plain version, which training
        never pairs, beside |x - y| of doing nothing) and "accuracy" (the project classifier
        on y, x and G(x)).
    """
    from genlab import data, features

    _, (_, y_test) = data.load(dataset)
    bold, plain = (array[:n] for array in domains(dataset, split="test"))
    generator_g, generator_f = model.get_layer("G"), model.get_layer("F")
    fake_y, fake_x = generator_g.predict(bold, verbose=0, batch_size=250), generator_f.predict(plain, verbose=0, batch_size=250)
    cycled_x = generator_f.predict(fake_y, verbose=0, batch_size=250)
    cycled_y = generator_g.predict(fake_x, verbose=0, batch_size=250)
    classifier = features.get_extractor(dataset)

    def accuracy(images):
        return round(float(np.mean(classifier.predict(data.to_uint8(images)) == y_test[:len(images)])), 4)

    def l1(a, b):
        return round(float(np.mean(np.abs(a - b))), 4)

    return {"n": int(len(bold)),
            "cycle_error": {"x_to_y_to_x": l1(cycled_x, bold), "y_to_x_to_y": l1(cycled_y, plain)},
            # The second half of each round trip fed the *true* partner instead (held-out x and y are
            # pairs): if the generators' own outputs come back better, they carry a code real digits lack.
            "from_truth": {"F(y) to x": l1(fake_x, bold), "G(x) to y": l1(fake_y, plain)},
            "l1_to_truth": {"G(x)": l1(fake_y, plain), "x (no translation)": l1(bold, plain)},
            "accuracy": {"plain y": accuracy(plain), "bold x": accuracy(bold), "G(x)": accuracy(fake_y)},
            "classifier": f"genlab {dataset} classifier (genlab.features)"}


def extra_evaluation(model, dataset="mnist", seed=SEED):
    """What scripts/train_pretrained.py records beside FID: cycle error, L1 to the unseen truth, accuracy."""
    return {"translation": measure(model, dataset)}
