"""pix2pix (Isola et al. 2017) scaled to 28x28 MNIST: paired inpainting with a U-Net and a PatchGAN.

Why it exists: notebook 09 (``notebooks/09_image_to_image.ipynb``) teaches
paired image-to-image translation on a task built from the offline digits:
a digit with a masked square (the input) -> the whole digit (the target).
The notebook writes the networks, the losses and the training step out (the
lesson); the tests, the registry, the shipped weights
(``data/pretrained/pix2pix_mnist.weights.h5``) and notebook 09's CycleGAN
(:mod:`genlab.models.cyclegan` reuses both builders) need the same code, so it
lives here too, with every setting defined once; the notebook's settings cell
imports them and ``tests/test_notebooks.py`` keeps it equal to them.

Scaled down from the paper (256x256 facades and maps): the U-Net goes down
28 -> 14 -> 7 (the paper: 256 -> 1) and the PatchGAN's receptive field is
16x16 pixels of the 28x28 digit (the paper's 70x70 of 256x256); see
:func:`receptive_field`. The paper's L1 weight (100) and Adam settings
(2e-4, beta_1 0.5) are kept. The paper's dropout-as-noise is left out: its
authors report that the generator learns to ignore the noise, and without
it the step is deterministic, so the notebook's step can be checked against
this one.
"""

import numpy as np

import keras
from keras import layers

from genlab import quiet  # noqa: F401  (imports TensorFlow without its start-up logs)

NOTEBOOK = "09_image_to_image"
IMAGE_SHAPE = (28, 28, 1)
MASK_SIZE = 12                 # side of the masked square, pixels
MASK_MARGIN = 4                # the square lies at least this far inside the image (where strokes are)
MASK_VALUE = 0.0               # mid-grey in [-1, 1]: neither background (-1) nor stroke (+1)
BATCH_SIZE = 32
LEARNING_RATE, BETA_1 = 2e-4, 0.5   # Isola et al. 2017 (from DCGAN)
L1_WEIGHT = 100.0                   # lambda of the L1 term (Isola et al. 2017)
GENERATOR_FILTERS = (32, 64, 128)   # U-Net: 28x28 -> 14x14 -> 7x7, then a 7x7 bottleneck
DISCRIMINATOR_FILTERS = (32, 64)    # PatchGAN: two 4x4 convolutions, then a 4x4 one to one logit per patch
DISCRIMINATOR_STRIDES = (2, 1, 1)   # of the three 4x4 convolutions: 14x14 patches, each seeing 16x16 pixels
ITERATIONS = {"quick": 20, "full": 4000}   # config.pick(**ITERATIONS)
SEED = 42
N_EVAL = 1000                       # held-out digits for L1, class accuracy and FID
# What ships (genlab.pretrained, scripts/train_pretrained.py): the U-Net generator.
SHIPPED_BUILDER = "build_generator"
MANIFEST_SETTINGS = ("BATCH_SIZE", "LEARNING_RATE", "BETA_1", "L1_WEIGHT", "MASK_SIZE")


def optimizer():
    """A fresh Adam(LEARNING_RATE, beta_1=BETA_1): one for G, another for D."""
    return keras.optimizers.Adam(learning_rate=LEARNING_RATE, beta_1=BETA_1)


def mask_images(images, seed=0, size=MASK_SIZE, margin=MASK_MARGIN, value=MASK_VALUE):
    """The paired task's inputs: each image with one ``size`` x ``size`` square set to ``value``.

    Args:
        images: float images (N, H, W, C) in [-1, 1] (``data.scale_images``).
        seed: chooses each square's position (uniform, ``margin`` pixels or more inside).

    Returns:
        ``(masked, mask)``: float32 arrays of the images' shape; ``mask`` is 1 inside the square.
    """
    images = np.asarray(images, dtype=np.float32)
    n, height, width = images.shape[:3]
    if size < 1 or size + 2 * margin > min(height, width):
        raise ValueError(f"a {size}x{size} square with margin {margin} does not fit in {height}x{width}")
    rng = np.random.default_rng(seed)
    top = rng.integers(margin, height - margin - size + 1, n)
    left = rng.integers(margin, width - margin - size + 1, n)
    rows, cols = np.arange(height)[None, :, None], np.arange(width)[None, None, :]
    inside = ((rows >= top[:, None, None]) & (rows < top[:, None, None] + size)
              & (cols >= left[:, None, None]) & (cols < left[:, None, None] + size))
    mask = np.broadcast_to(inside[..., None], images.shape).astype(np.float32)
    return np.where(mask > 0, np.float32(value), images), mask


def build_generator(image_shape=IMAGE_SHAPE, filters=GENERATOR_FILTERS, name="unet_generator"):
    """The U-Net: two strided 4x4 convolutions down, a bottleneck, two transposed ones up, with skips.

    Each decoder stage is concatenated with the encoder stage of the same size
    (the skip connections that let detail bypass the bottleneck), and the
    input itself joins the last stage: most output pixels are input pixels.

    Args:
        image_shape: (H, W, C) with H and W divisible by 4.
        filters: (first, second, bottleneck) filter counts.

    Returns:
        A functional ``keras.Model`` image -> image in [-1, 1] (tanh).
    """
    height, width, channels = image_shape
    if height % 4 or width % 4 or len(filters) != 3:
        raise ValueError(f"need H, W divisible by 4 and three filter counts, got {image_shape}, {filters}")
    source = keras.Input(shape=tuple(image_shape), name="source")
    down1 = layers.LeakyReLU(0.2)(layers.Conv2D(filters[0], 4, strides=2, padding="same")(source))  # no BN first
    down2 = layers.Conv2D(filters[1], 4, strides=2, padding="same", use_bias=False)(down1)
    down2 = layers.LeakyReLU(0.2)(layers.BatchNormalization()(down2))
    bottleneck = layers.Conv2D(filters[2], 3, padding="same", use_bias=False)(down2)
    bottleneck = layers.ReLU()(layers.BatchNormalization()(bottleneck))
    up2 = layers.Conv2DTranspose(filters[1], 4, strides=2, padding="same", use_bias=False)(bottleneck)
    up2 = layers.Concatenate()([layers.ReLU()(layers.BatchNormalization()(up2)), down1])
    up1 = layers.Conv2DTranspose(filters[0], 4, strides=2, padding="same", use_bias=False)(up2)
    up1 = layers.Concatenate()([layers.ReLU()(layers.BatchNormalization()(up1)), source])
    target = layers.Conv2D(channels, 3, padding="same", activation="tanh", dtype="float32", name="target")(up1)
    return keras.Model(source, target, name=name)


def build_discriminator(image_shape=IMAGE_SHAPE, filters=DISCRIMINATOR_FILTERS, strides=DISCRIMINATOR_STRIDES,
                        conditional=True, name="patchgan"):
    """The PatchGAN: a grid of real/fake logits, one per image patch.

    Args:
        image_shape: (H, W, C) of the images judged.
        filters: filters of the hidden 4x4 convolutions (BatchNorm from the second on).
        strides: strides of all the 4x4 convolutions, the last one (to one logit) included.
        conditional: True (pix2pix): D sees the input and the output, concatenated, and
            judges the pair; False (CycleGAN): D sees one image.

    Returns:
        A ``keras.Model`` ``[source, image] -> logits`` (conditional) or ``image -> logits``,
        logits of shape (H / strides[0] / ..., W / ..., 1), float32.
    """
    if len(strides) != len(filters) + 1:
        raise ValueError(f"one stride per convolution: {len(filters) + 1} expected, got {strides}")
    image = keras.Input(shape=tuple(image_shape), name="image")
    if conditional:
        source = keras.Input(shape=tuple(image_shape), name="source")
        x, inputs = layers.Concatenate()([source, image]), [source, image]
    else:
        x, inputs = image, image
    for index, (count, stride) in enumerate(zip(filters, strides)):
        x = layers.Conv2D(count, 4, strides=stride, padding="same", use_bias=index == 0)(x)
        if index:
            x = layers.BatchNormalization()(x)
        x = layers.LeakyReLU(0.2)(x)
    logits = layers.Conv2D(1, 4, strides=strides[-1], padding="same", dtype="float32", name="patch_logits")(x)
    return keras.Model(inputs, logits, name=name)


def receptive_field(kernels, strides):
    """Side in pixels of the input patch one output unit of a stack of convolutions sees.

    r = 1 + sum_l (k_l - 1) * prod_{m < l} s_m. Isola et al.'s 70x70 PatchGAN:
    ``receptive_field([4] * 5, [2, 2, 2, 1, 1]) == 70``; this module's: 16.
    """
    field, jump = 1, 1
    for kernel, stride in zip(kernels, strides):
        field, jump = field + (kernel - 1) * jump, jump * stride
    return field


_bce = keras.losses.BinaryCrossentropy(from_logits=True)


def discriminator_loss(real_logits, fake_logits):
    """D's loss: every patch of a real pair labelled 1, every patch of a generated pair 0."""
    return _bce(keras.ops.ones_like(real_logits), real_logits) + _bce(keras.ops.zeros_like(fake_logits), fake_logits)


def generator_loss(fake_logits, fake, target, l1_weight=L1_WEIGHT):
    """``(total, adversarial, l1)``: make D say "real" on every patch, and stay near the target in L1."""
    adversarial = _bce(keras.ops.ones_like(fake_logits), fake_logits)
    l1 = keras.ops.mean(keras.ops.abs(target - fake))
    return adversarial + l1_weight * l1, adversarial, l1


def make_train_step(generator, discriminator, g_optimizer, d_optimizer, l1_weight=L1_WEIGHT):
    """A ``tf.function`` ``step(source, target) -> dict of losses``: one update of D and of G, together."""
    import tensorflow as tf

    @tf.function
    def step(source, target):
        source, target = tf.convert_to_tensor(source), tf.convert_to_tensor(target)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(source, training=True)
            real_logits = discriminator([source, target], training=True)
            fake_logits = discriminator([source, fake], training=True)
            g_total, g_adversarial, l1 = generator_loss(fake_logits, fake, target, l1_weight)
            d_loss = discriminator_loss(real_logits, fake_logits)
        g_optimizer.apply_gradients(zip(g_tape.gradient(g_total, generator.trainable_weights),
                                        generator.trainable_weights))
        d_optimizer.apply_gradients(zip(d_tape.gradient(d_loss, discriminator.trainable_weights),
                                        discriminator.trainable_weights))
        return {"d_loss": d_loss, "g_adversarial": g_adversarial, "l1": l1}

    return step


def paired_data(dataset="mnist", split="train", seed=SEED):
    """``(masked, target)`` float32 (N, 28, 28, 1) in [-1, 1]: the paired task on a split."""
    from genlab import data

    (x_train, _), (x_test, _) = data.load(dataset)
    target = data.scale_images(x_train if split == "train" else x_test)
    return mask_images(target, seed=seed)[0], target


def train(dataset="mnist", mode=None, seed=SEED, checkpoint_dir=None, iterations=None, progress=False):
    """Train pix2pix with notebook 09's settings for ``mode``; returns the generator.

    Each iteration draws a batch of training digits and fresh mask positions.
    ``checkpoint_dir`` is accepted for the registry's interface; runs are short, nothing is resumed.
    """
    import tqdm

    from genlab import config, data

    config.seed_everything(seed)
    (x_train, _), _ = data.load(dataset, mode=config.check_mode(mode))
    x = data.scale_images(x_train)
    generator, discriminator = build_generator(), build_discriminator()
    step = make_train_step(generator, discriminator, optimizer(), optimizer())
    iterations = iterations or config.pick(**ITERATIONS, mode=mode)
    for iteration in tqdm.trange(iterations, disable=not progress, desc="pix2pix", mininterval=2.0):
        rng = np.random.default_rng([seed, iteration])
        target = x[rng.integers(0, len(x), BATCH_SIZE)]
        source, _ = mask_images(target, seed=rng.integers(2**31))
        step(source, target)
    return generator


def sampler(generator, dataset="mnist"):
    """``sample_fn(n, seed=0)`` -> uint8 (n, 28, 28): the generator's completions of masked held-out digits.

    The held-out digits are taken in order, repeated if ``n`` is larger, each with a mask drawn from ``seed``.
    """
    from genlab import data

    _, (x_test, _) = data.load(dataset, mode="full")   # the evaluation's reference: the whole test set

    def sample_fn(n, seed=0):
        target = data.scale_images(x_test[np.arange(n) % len(x_test)])
        source, _ = mask_images(target, seed=seed)
        return data.to_uint8(generator.predict(source, batch_size=250, verbose=0))

    sample_fn.generator = generator
    return sample_fn


def measure(generator, dataset="mnist", n=N_EVAL, seed=SEED):
    """L1 and the project classifier's accuracy on held-out digits: masked inputs vs completions.

    Returns:
        dict with "l1_masked_square" and "l1_image" (mean |x - target| in [-1, 1] units, inside the
        square and over the whole image) and "accuracy" (the classifier on the original digits, the
        masked inputs and the completions), for ``"input"`` and ``"output"``.
    """
    from genlab import data, features

    _, (x_test, y_test) = data.load(dataset)
    index = np.arange(min(n, len(x_test)))
    target = data.scale_images(x_test[index])
    source, mask = mask_images(target, seed=seed)
    output = generator.predict(source, batch_size=250, verbose=0)
    classifier = features.get_extractor(dataset)

    def accuracy(images):
        return round(float(np.mean(classifier.predict(data.to_uint8(images)) == y_test[index])), 4)

    def l1(images, where):
        return round(float(np.sum(np.abs(images - target) * where) / np.sum(where)), 4)

    whole = np.ones_like(mask)
    return {"n": int(len(index)), "seed": int(seed),
            "l1_masked_square": {"input": l1(source, mask), "output": l1(output, mask)},
            "l1_image": {"input": l1(source, whole), "output": l1(output, whole)},
            "accuracy": {"original": accuracy(target), "input": accuracy(source), "output": accuracy(output)},
            "classifier": f"genlab {dataset} classifier (genlab.features)"}


def extra_evaluation(generator, dataset="mnist", seed=SEED):
    """What scripts/train_pretrained.py records beside FID: L1 and class accuracy, inputs vs outputs."""
    return {"inpainting": measure(generator, dataset, seed=seed)}
