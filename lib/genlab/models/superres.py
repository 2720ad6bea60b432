"""SRGAN-style super-resolution of MNIST digits (7x7 -> 28x28): builders, settings, training, measures.

Why it exists: notebook 09 (``notebooks/09_image_to_image.ipynb``, its
super-resolution section) compares three ways to undo a 4x downscale:
bicubic interpolation, a small residual generator trained with pixel MSE
(SRResNet in Ledig et al. 2017, "Photo-Realistic Single Image
Super-Resolution Using a Generative Adversarial Network"), and the same
generator fine-tuned adversarially from the MSE weights (SRGAN). The
notebook writes the networks and the training steps out; this module holds
the same builders for the tests, the registry and the shipped weights, and
every super-resolution setting, defined once (``SR_`` names, so they do not
clash with pix2pix's and CycleGAN's in the same notebook).

Two departures from the paper, both for a CPU course offline:

* no batch normalization in the generator (as ESRGAN, Wang et al. 2018,
  found better for SR: BN statistics differ between training and test);
* SRGAN's content loss is on VGG features, which cannot be downloaded here;
  the adversarial fine-tune keeps **pixel MSE** as its content loss (weight
  1) plus ``SR_ADVERSARIAL_WEIGHT`` times the non-saturating GAN loss. The
  project classifier is kept out of the loss on purpose: it is the judge of
  the "classifier accuracy" measure, and a loss on its features would teach
  to the test.

What is measured (:func:`compare`): PSNR and SSIM (``tf.image.psnr``,
``tf.image.ssim``; distortion, higher is better), the project classifier's
accuracy on the upscaled held-out digits, and on the perception side the
FID against the held-out digits (lower is better) and the sharpness
(:func:`sharpness`, the true digits' value is the target) -- the two axes of
Blau & Michaeli's perception-distortion trade-off (CVPR 2018).
"""

import numpy as np

import keras
from keras import layers

from genlab import quiet  # noqa: F401  (imports TensorFlow without its start-up logs)

NOTEBOOK = "09_image_to_image"
SR_FACTOR = 4                        # 28x28 -> 7x7 -> back to 28x28
SR_LOW_SHAPE = (7, 7, 1)
SR_HIGH_SHAPE = (28, 28, 1)
SR_FILTERS = 32                      # feature maps in every generator convolution
SR_RESIDUAL_BLOCKS = 2               # SRGAN has 16; two suffice for 7x7 digits
SR_BATCH_SIZE = 32
SR_MSE_LEARNING_RATE = 1e-3          # Adam, pixel-MSE pre-training (the SRResNet)
SR_GAN_LEARNING_RATE, SR_BETA_1 = 1e-4, 0.5   # Adam for the adversarial fine-tune (G and D)
SR_ADVERSARIAL_WEIGHT = 0.1          # loss = MSE + weight * adversarial (SRGAN: 1e-3 beside its VGG loss)
SR_MSE_ITERATIONS = {"quick": 8, "full": 3000}           # config.pick(**SR_MSE_ITERATIONS)
SR_ADVERSARIAL_ITERATIONS = {"quick": 4, "full": 3000}   # fine-tune, starting from the MSE weights
SR_N_EVAL = {"quick": 500, "full": 1000}                 # held-out digits in the comparison
# What scripts/train_pretrained.py trains: both phases, MSE first.
ITERATIONS = {mode: SR_MSE_ITERATIONS[mode] + SR_ADVERSARIAL_ITERATIONS[mode] for mode in ("quick", "full")}
SR_SEED = 42
SEED = SR_SEED                       # the name scripts/train_pretrained.py reads
METHODS = ("bicubic", "mse", "adversarial")
# What ships (genlab.pretrained): one model holding both trained generators.
SHIPPED_BUILDER = "build_shipped"
MANIFEST_SETTINGS = ("SR_FACTOR", "SR_FILTERS", "SR_RESIDUAL_BLOCKS", "SR_BATCH_SIZE", "SR_MSE_LEARNING_RATE",
                     "SR_GAN_LEARNING_RATE", "SR_BETA_1", "SR_ADVERSARIAL_WEIGHT", "SR_MSE_ITERATIONS",
                     "SR_ADVERSARIAL_ITERATIONS")


def downscale(images, size=SR_LOW_SHAPE[0]):
    """High-res images (N, 28, 28[, 1]) in [-1, 1] -> low-res (N, size, size, 1), by area averaging.

    Area averaging (each low-res pixel the mean of a 4x4 block) is what a
    camera's larger pixels would record, with far less aliasing than keeping
    every 4th pixel.
    """
    import tensorflow as tf

    x = np.asarray(images, np.float32)
    if x.ndim == 3:
        x = x[..., np.newaxis]
    return tf.image.resize(x, (size, size), method="area").numpy()


def bicubic(low, size=SR_HIGH_SHAPE[0]):
    """The baseline: bicubic interpolation of low-res images back to ``size``, clipped to [-1, 1]."""
    import tensorflow as tf

    return np.clip(tf.image.resize(np.asarray(low, np.float32), (size, size), method="bicubic").numpy(), -1, 1)


def pairs(dataset="mnist", split="train", mode=None):
    """``(low, high, labels)`` of a split: low (N, 7, 7, 1) and high (N, 28, 28, 1) in [-1, 1].

    ``mode``: None for the whole split, "quick" for quick mode's part (genlab.data.load).
    """
    from genlab import data

    (x_train, y_train), (x_test, y_test) = data.load(dataset, mode=mode)
    images, labels = (x_train, y_train) if split == "train" else (x_test, y_test)
    high = data.scale_images(images)
    return downscale(high), high, np.asarray(labels)


def residual_block(x, filters=SR_FILTERS, name="residual"):
    """Conv -> ReLU -> Conv, added to its input (SRResNet's block, without BN)."""
    shortcut = x
    x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"{name}_conv1")(x)
    x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv2")(x)
    return layers.Add(name=f"{name}_add")([shortcut, x])


def build_generator(filters=SR_FILTERS, residual_blocks=SR_RESIDUAL_BLOCKS, factor=SR_FACTOR,
                    low_shape=SR_LOW_SHAPE, name="sr_generator"):
    """Low-res (7, 7, 1) -> high-res (28, 28, 1) in [-1, 1]: head conv, residual blocks, x2 upsamplings.

    Args:
        filters: feature maps of every convolution.
        residual_blocks: number of :func:`residual_block`.
        factor: total upscaling, a power of two (one UpSampling2D + Conv2D per doubling).
        low_shape: (height, width, channels) of the low-res input.
        name: model name.
    """
    if factor < 2 or factor & (factor - 1):
        raise ValueError(f"factor must be a power of two >= 2, got {factor!r}")
    if filters < 1 or residual_blocks < 0:
        raise ValueError(f"need filters >= 1 and residual_blocks >= 0, got {filters!r}, {residual_blocks!r}")
    low = keras.Input(shape=tuple(low_shape), name="low_res")
    head = layers.Conv2D(filters, 3, padding="same", activation="relu", name="head")(low)
    x = head
    for index in range(1, residual_blocks + 1):
        x = residual_block(x, filters, name=f"block{index}")
    # SRResNet's long skip: the blocks learn a correction to the head's features.
    x = layers.Add(name="long_skip")([head, layers.Conv2D(filters, 3, padding="same", name="body_out")(x)])
    for index in range(1, int(np.log2(factor)) + 1):
        x = layers.UpSampling2D(name=f"upsample{index}")(x)
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"upsample{index}_conv")(x)
    x = layers.Conv2D(low_shape[-1], 3, padding="same", name="to_image")(x)
    return keras.Model(low, layers.Activation("tanh", dtype="float32", name="tanh")(x), name=name)


def build_discriminator(high_shape=SR_HIGH_SHAPE, name="sr_discriminator"):
    """High-res image -> logit that it is a real digit: three strided convs (32, 64, 128), LeakyReLU."""
    image = keras.Input(shape=tuple(high_shape), name="image")
    x = image
    for index, filters in enumerate((32, 64, 128), start=1):
        x = layers.Conv2D(filters, 3, strides=2, padding="same", name=f"conv{index}")(x)
        x = layers.LeakyReLU(negative_slope=0.2, name=f"leaky_relu{index}")(x)
    x = layers.Flatten(name="flatten")(x)
    return keras.Model(image, layers.Dense(1, dtype="float32", name="logit")(x), name=name)


def build_shipped():
    """The shipped model: one low-res input, outputs {"mse": ..., "adversarial": ...} of two generators."""
    low = keras.Input(shape=SR_LOW_SHAPE, name="low_res")
    mse, adversarial = build_generator(name="mse_generator"), build_generator(name="adversarial_generator")
    return keras.Model(low, {"mse": mse(low), "adversarial": adversarial(low)}, name="superres")


def generators(model):
    """``{"mse": generator, "adversarial": generator}`` of a :func:`build_shipped` model."""
    return {"mse": model.get_layer("mse_generator"), "adversarial": model.get_layer("adversarial_generator")}


def mse_step(generator, optimizer):
    """A compiled training step of the MSE generator: ``step(low, high) -> loss``."""
    import tensorflow as tf

    @tf.function
    def step(low, high):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(generator(low, training=True) - high))
        optimizer.apply_gradients(zip(tape.gradient(loss, generator.trainable_weights), generator.trainable_weights))
        return loss

    return step


def adversarial_step(generator, discriminator, g_optimizer, d_optimizer, weight=SR_ADVERSARIAL_WEIGHT):
    """A compiled SRGAN step: D on real vs upscaled, then G on MSE + weight * non-saturating GAN loss.

    Returns ``step(low, high) -> (d_loss, content_loss, adversarial_loss)``.
    """
    import tensorflow as tf

    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def step(low, high):
        ones, zeros = tf.ones((tf.shape(high)[0], 1)), tf.zeros((tf.shape(high)[0], 1))
        fake = generator(low, training=True)
        with tf.GradientTape() as tape:
            d_loss = bce(ones, discriminator(high, training=True)) + bce(zeros, discriminator(fake, training=True))
        d_optimizer.apply_gradients(zip(tape.gradient(d_loss, discriminator.trainable_weights),
                                        discriminator.trainable_weights))
        with tf.GradientTape() as tape:
            fake = generator(low, training=True)
            content = tf.reduce_mean(tf.square(fake - high))
            adversarial = bce(ones, discriminator(fake, training=True))
            g_loss = content + weight * adversarial
        g_optimizer.apply_gradients(zip(tape.gradient(g_loss, generator.trainable_weights),
                                        generator.trainable_weights))
        return d_loss, content, adversarial

    return step


def batches(low, high, iterations, seed=SEED, batch_size=SR_BATCH_SIZE):
    """``iterations`` random batches ``(low, high)``, seeded per iteration (as the notebook draws them)."""
    for iteration in range(1, iterations + 1):
        index = np.random.default_rng([seed, iteration]).integers(0, len(low), batch_size)
        yield low[index], high[index]


def train(dataset="mnist", mode=None, seed=SR_SEED, checkpoint_dir=None, iterations=None, progress=False):
    """Train both generators with notebook 09's settings for ``mode``; returns a :func:`build_shipped` model.

    ``iterations`` (default ``ITERATIONS[mode]``) is split between the MSE
    phase and the adversarial fine-tune in the settings' proportion. During the
    fine-tune the MSE generator goes on with pixel MSE alone on the same
    batches, so both shipped generators had the same number of updates. The
    MSE phase is saved to ``checkpoint_dir`` and reused from there if a run is
    resumed.
    """
    from pathlib import Path

    import tqdm

    from genlab import config

    config.seed_everything(seed)
    mode = config.check_mode(mode)
    iterations = iterations or ITERATIONS[mode]
    mse_iterations = round(iterations * SR_MSE_ITERATIONS[mode] / ITERATIONS[mode])
    low, high, _ = pairs(dataset, "train", mode=mode)
    model = build_shipped()
    nets = generators(model)
    # Named by its length, so a run with other settings never resumes from it.
    saved = Path(checkpoint_dir) / f"mse_generator_{mse_iterations}.weights.h5" if checkpoint_dir else None
    mse_optimizer = keras.optimizers.Adam(SR_MSE_LEARNING_RATE)
    mse_train = mse_step(nets["mse"], mse_optimizer)
    if saved is not None and saved.is_file():
        nets["mse"].load_weights(saved)
    else:
        for low_batch, high_batch in tqdm.tqdm(batches(low, high, mse_iterations, seed), total=mse_iterations,
                                               disable=not progress, desc="SR MSE", mininterval=1.0):
            mse_train(low_batch, high_batch)
        if saved is not None:
            saved.parent.mkdir(parents=True, exist_ok=True)
            nets["mse"].save_weights(saved)
    nets["adversarial"].set_weights(nets["mse"].get_weights())   # SRGAN starts from the MSE generator
    adversarial_train = adversarial_step(nets["adversarial"], build_discriminator(),
                                         keras.optimizers.Adam(SR_GAN_LEARNING_RATE, beta_1=SR_BETA_1),
                                         keras.optimizers.Adam(SR_GAN_LEARNING_RATE, beta_1=SR_BETA_1))
    adversarial_iterations = iterations - mse_iterations
    # The fair control: the MSE generator keeps training on the same batches for as many steps,
    # so the two generators differ by the adversarial term only, not by training time.
    for low_batch, high_batch in tqdm.tqdm(batches(low, high, adversarial_iterations, seed + 1),
                                           total=adversarial_iterations, disable=not progress,
                                           desc="SR adversarial (and MSE control)", mininterval=1.0):
        adversarial_train(low_batch, high_batch)
        mse_train(low_batch, high_batch)
    return model


def upscale(model, low):
    """``{"bicubic": ..., "mse": ..., "adversarial": ...}``: float (N, 28, 28, 1) in [-1, 1] from low-res."""
    outputs = model.predict(np.asarray(low, np.float32), batch_size=256, verbose=0)
    return {"bicubic": bicubic(low), "mse": np.asarray(outputs["mse"]),
            "adversarial": np.asarray(outputs["adversarial"])}


def held_out(n, seed=0, dataset="mnist"):
    """``(low, high, labels)`` of ``n`` held-out digits (a seeded choice; repeats only if n > the split)."""
    low, high, labels = pairs(dataset, "test", mode="full")   # as the evaluation's reference: the whole test set
    rng = np.random.default_rng(seed)
    index = rng.permutation(len(low))[:n] if n <= len(low) else rng.integers(0, len(low), n)
    return low[index], high[index], labels[index]


def sampler(model):
    """``sample_fn(n, seed=0)`` -> uint8 (n, 28, 28): the adversarial generator's upscaled held-out digits."""
    from genlab import data

    def sample_fn(n, seed=0):
        low, _, _ = held_out(n, seed)
        images = model.predict(low, batch_size=256, verbose=0)["adversarial"]
        return data.to_uint8(images).reshape(n, *images.shape[1:3])

    sample_fn.model = model
    return sample_fn


def distortion(upscaled, high):
    """Per-image PSNR (dB) and SSIM of upscaled vs true high-res images in [-1, 1] (TF's own metrics)."""
    import tensorflow as tf

    a = (np.asarray(upscaled, np.float32) + 1) / 2   # [0, 1], so max_val = 1
    b = (np.asarray(high, np.float32) + 1) / 2
    return tf.image.psnr(a, b, max_val=1.0).numpy(), tf.image.ssim(a, b, max_val=1.0).numpy()


def sharpness(images):
    """Mean absolute difference between neighbouring pixels (across and down), images in [-1, 1] -> [0, 1] units.

    A blur lowers it; the true digits' value is the reference (a method far above it adds noise).
    """
    x = (np.asarray(images, np.float32).reshape(len(images), *np.shape(images)[1:3]) + 1) / 2
    return float(np.mean(np.abs(np.diff(x, axis=1))) + np.mean(np.abs(np.diff(x, axis=2))))


def compare(model, n=1000, seed=SEED, dataset="mnist", fid=True):
    """Bicubic, MSE and adversarial on ``n`` held-out digits: PSNR, SSIM, classifier accuracy (and FID).

    Returns:
        ``{method: {"PSNR": dB, "SSIM": ..., "accuracy": ..., "sharpness": ..., "FID": ...}}`` plus
        ``"high-res"`` (the true digits: accuracy, and FID of the same digits, 0).
        FID is against the same held-out digits (:mod:`genlab.evaluation`'s
        reference), so it measures how far the upscaled set's features moved.
    """
    from genlab import data, evaluation, features

    low, high, labels = held_out(n, seed, dataset)
    classifier = features.get_extractor(dataset)
    results = {}
    for method, images in {**upscale(model, low), "high-res": high}.items():
        psnr, ssim = distortion(images, high)
        row = {"PSNR": float(np.mean(np.minimum(psnr, 100.0))), "SSIM": float(np.mean(ssim)),
               "accuracy": float(np.mean(classifier.predict(data.to_uint8(images)) == labels)),
               "sharpness": sharpness(images)}
        if fid:
            reference, _, _ = evaluation.references(dataset, n, seed)
            row["FID"] = float(evaluation.measure(data.to_uint8(images), reference,
                                                  evaluation.EXTRACTOR_FOR[dataset], ("FID",))[0])
        results[method] = {key: round(value, 4) for key, value in row.items()}
    return results


def extra_evaluation(model, dataset="mnist", seed=SEED):
    """What scripts/train_pretrained.py records beside the FID: the three methods side by side."""
    return {"super_resolution": {"n": 1000, "seed": seed, "held_out": f"{dataset} test split",
                                 "results": compare(model, n=1000, seed=seed, dataset=dataset)}}
