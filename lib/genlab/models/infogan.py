"""InfoGAN with Chen et al.'s MNIST recipe (2016): a categorical code and two continuous codes, Q sharing D's body.

Why it exists: notebook 06 teaches that InfoGAN's code "discovers the classes
without labels". Its first version put the code into notebook 05's book-style
networks with one learning rate and reached a code-to-class agreement of 45 %
after 5,000 iterations (recorded 2026-11-28, then retired with its code), where
Chen et al. report about 95 %.
This module is their recipe, written for Keras 3 from the paper and the
authors' released code (openai/InfoGAN, ``launchers/run_mnist_exp.py`` and
``infogan/models/regularized_gan.py``):

* the latent input: 62 noise values ~ U(-1, 1), a 10-way categorical code and two
  continuous codes ~ U(-1, 1);
* G: FC 1024, FC 7x7x128 (both batch-normalized, ReLU), a 4x4 stride-2 transposed
  convolution to 64 maps (BN, ReLU) and one to the image, a sigmoid (the pixels'
  Bernoulli means, images in [0, 1]);
* D: 4x4 stride-2 convolutions to 64 and 128 maps (the second batch-normalized),
  FC 1024 (BN), leaky ReLU with slope 0.01 throughout; D's head is one logit; Q's
  head (FC 128, BN, leaky ReLU) gives the categorical code's 10 logits and the
  continuous codes' means (a Gaussian of fixed standard deviation 1);
* the losses: D's and G's GAN losses (G non-saturating) each minus lambda times
  the mutual-information lower bound L_I, with lambda = 1; Q and D's body learn
  with D's optimizer, as in the authors' code;
* Adam with beta_1 = 0.5, 2e-4 for D (and Q), 1e-3 for G, batches of 128, weights
  initialised from N(0, 0.02).

Their run is 50 epochs of 100 updates (5,000 updates); the settings below are
theirs. ``scripts/infogan_seeds.py`` trains several seeds and records each
seed's agreement curve; ``scripts/train_pretrained.py infogan_mnist`` ships one.
"""

import math

import keras
import numpy as np
from keras import layers, ops

from genlab import quiet  # noqa: F401  (imports TensorFlow without its start-up logs)

NOTEBOOK = "06_conditional_gan"
NOISE_DIM = 62
NUM_CATEGORIES = 10
CONTINUOUS_CODES = 2
IMAGE_SHAPE = (28, 28, 1)
BATCH_SIZE = 128
G_LEARNING_RATE, D_LEARNING_RATE, BETA_1 = 1e-3, 2e-4, 0.5
INFO_WEIGHT = 1.0               # lambda, for the categorical and the continuous codes alike (the authors' code)
LEAK = 0.01                     # leaky ReLU slope (the authors' leaky_rectify)
ITERATIONS = {"quick": 20, "full": 5000}
SEED = 42
SEEDS = {"quick": (0,), "full": (0, 1, 2)}
N_AGREEMENT = 1000              # generated digits per agreement measure (100 per code value)
CURVE_EVERY = 500
SHIPPED_BUILDER = "build_generator"
# G's 1024 x 6272 Dense layer makes 6.7 M parameters, over the 10 MB file limit even in float16 (13.4 MB):
# its matrices ship in int8 with per-column scales (genlab.pretrained), 6.8 MB. The manifest records the FID
# of the stored weights and of the float32 ones (evaluation_float32_weights) at N = 10,000.
STORAGE_DTYPE = "int8"
MANIFEST_SETTINGS = ("NOISE_DIM", "NUM_CATEGORIES", "CONTINUOUS_CODES", "BATCH_SIZE", "G_LEARNING_RATE",
                     "D_LEARNING_RATE", "BETA_1", "INFO_WEIGHT")
LATENT_DIM = NOISE_DIM + NUM_CATEGORIES + CONTINUOUS_CODES


def _init():
    return keras.initializers.RandomNormal(stddev=0.02)


def build_generator(name="infogan_generator"):
    """G([noise, one-hot code, continuous codes]) -> images in [0, 1], (N, 28, 28, 1)."""
    latent = keras.Input((LATENT_DIM,), name="latent")
    x = layers.Dense(1024, kernel_initializer=_init())(latent)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.Dense(7 * 7 * 128, kernel_initializer=_init())(x)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.Reshape((7, 7, 128))(x)
    x = layers.Conv2DTranspose(64, 4, strides=2, padding="same", kernel_initializer=_init())(x)
    x = layers.ReLU()(layers.BatchNormalization()(x))
    x = layers.Conv2DTranspose(1, 4, strides=2, padding="same", kernel_initializer=_init())(x)
    image = layers.Activation("sigmoid", dtype="float32", name="pixel_means")(x)
    return keras.Model(latent, image, name=name)


def build_discriminator(name="infogan_discriminator"):
    """One body, two heads: ``keras.Model(image -> [D's logit, Q's code logits, Q's continuous means])``."""
    image = keras.Input(IMAGE_SHAPE, name="image")
    x = layers.Conv2D(64, 4, strides=2, padding="same", kernel_initializer=_init())(image)
    x = layers.LeakyReLU(LEAK)(x)
    x = layers.Conv2D(128, 4, strides=2, padding="same", kernel_initializer=_init())(x)
    x = layers.LeakyReLU(LEAK)(layers.BatchNormalization()(x))
    x = layers.Dense(1024, kernel_initializer=_init())(layers.Flatten()(x))
    body = layers.LeakyReLU(LEAK)(layers.BatchNormalization()(x))
    real_logit = layers.Dense(1, kernel_initializer=_init(), dtype="float32", name="d_logit")(body)
    q = layers.Dense(128, kernel_initializer=_init())(body)
    q = layers.LeakyReLU(LEAK)(layers.BatchNormalization()(q))
    code_logits = layers.Dense(NUM_CATEGORIES, kernel_initializer=_init(), dtype="float32", name="q_code")(q)
    means = layers.Dense(CONTINUOUS_CODES, kernel_initializer=_init(), dtype="float32", name="q_continuous")(q)
    return keras.Model(image, [real_logit, code_logits, means], name=name)


def latent(n, rng, codes=None, continuous=None):
    """(latent (n, LATENT_DIM) float32, codes (n,) int): noise and continuous codes ~ U(-1, 1), codes uniform."""
    noise = rng.uniform(-1.0, 1.0, (n, NOISE_DIM))
    codes = rng.integers(0, NUM_CATEGORIES, n) if codes is None else np.asarray(codes, int)
    continuous = rng.uniform(-1.0, 1.0, (n, CONTINUOUS_CODES)) if continuous is None else np.asarray(continuous)
    one_hot = np.eye(NUM_CATEGORIES)[codes]
    return np.concatenate([noise, one_hot, continuous], axis=1).astype("float32"), codes


def mutual_information_bound(codes, code_logits, continuous, means):
    """L_I per batch, in nats: H(c) - CE(c, Q) for the categorical code plus the same for the continuous ones.

    For the categorical code H(c) = log 10; for each continuous code c ~ U(-1, 1)
    its differential entropy log 2, and -log Q(c | x) is a unit-variance
    Gaussian's: (c - mu)^2 / 2 + log(2 pi) / 2. The entropies are constants, so
    they change no gradient; they make L_I a bound on I(c; G(z, c)).
    """
    categorical = math.log(NUM_CATEGORIES) - ops.mean(
        keras.losses.sparse_categorical_crossentropy(codes, code_logits, from_logits=True))
    gaussian_nll = ops.mean(ops.sum(0.5 * ops.square(continuous - means) + 0.5 * math.log(2 * math.pi), axis=1))
    return categorical + CONTINUOUS_CODES * math.log(2.0) - gaussian_nll


def make_train_step(generator, discriminator, g_optimizer, d_optimizer, info_weight=INFO_WEIGHT):
    """One update of D (with Q) and one of G on fresh latents; returns (d_loss, g_loss, L_I) tensors."""
    import tensorflow as tf

    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def step(real, d_latent, d_codes, g_latent, g_codes):
        cont = slice(NOISE_DIM + NUM_CATEGORIES, None)
        with tf.GradientTape() as tape:
            fake = generator(d_latent, training=True)
            real_logit, _, _ = discriminator(real, training=True)
            fake_logit, code_logits, means = discriminator(fake, training=True)
            info = mutual_information_bound(d_codes, code_logits, d_latent[:, cont], means)
            d_loss = (bce(tf.ones_like(real_logit), real_logit) + bce(tf.zeros_like(fake_logit), fake_logit)
                      - info_weight * info)
        d_optimizer.apply_gradients(zip(tape.gradient(d_loss, discriminator.trainable_variables),
                                        discriminator.trainable_variables))
        with tf.GradientTape() as tape:
            fake_logit, code_logits, means = discriminator(generator(g_latent, training=True), training=True)
            info = mutual_information_bound(g_codes, code_logits, g_latent[:, cont], means)
            g_loss = bce(tf.ones_like(fake_logit), fake_logit) - info_weight * info
        g_optimizer.apply_gradients(zip(tape.gradient(g_loss, generator.trainable_variables),
                                        generator.trainable_variables))
        return d_loss, g_loss, info

    return step


def optimizers():
    """(G's Adam, D's and Q's Adam) with the paper's rates and beta_1."""
    return (keras.optimizers.Adam(G_LEARNING_RATE, beta_1=BETA_1),
            keras.optimizers.Adam(D_LEARNING_RATE, beta_1=BETA_1))


def generate(generator, codes, seed=0, continuous=None):
    """Images in [0, 1] (N, 28, 28, 1) for the integer ``codes``, seeded noise (and continuous codes)."""
    z, _ = latent(len(codes), np.random.default_rng(seed), codes=codes, continuous=continuous)
    return generator.predict(z, batch_size=500, verbose=0)


def sampler(generator):
    """``sample_fn(n, seed=0, labels=None)`` -> uint8 (n, 28, 28); ``labels`` are code values (uniform if None)."""
    from genlab import data

    def sample_fn(n, seed=0, labels=None):
        codes = np.random.default_rng([seed, 1]).integers(0, NUM_CATEGORIES, n) if labels is None else labels
        images = generate(generator, codes, seed=seed)
        return data.to_uint8(images, from_range="sigmoid").reshape(n, 28, 28)

    sample_fn.generator = generator
    return sample_fn


def agreement(generator, n=N_AGREEMENT, seed=SEED, dataset="mnist"):
    """(share, mapping): the code-to-class agreement of ``n`` digits, evenly over the code values."""
    from genlab import features
    from genlab.models import cgan

    codes = cgan.requested_labels(n, NUM_CATEGORIES)
    predicted = features.get_extractor(dataset).predict(sampler(generator)(n, seed=seed, labels=codes))
    return cgan.code_class_agreement(codes, predicted, NUM_CATEGORIES)


def ink_moments(images01):
    """Per image (N, 28, 28[, 1]) in [0, 1]: (slant in degrees, ink): the measures of the continuous codes.

    The slant is the orientation of the ink's principal axis from the vertical,
    from its second central moments (positive: leaning right); the ink is the
    mean pixel value, which grows with the stroke's width.
    """
    x = np.asarray(images01, np.float64).reshape(len(images01), 28, 28)
    rows, cols = np.mgrid[0:28, 0:28]
    mass = x.sum(axis=(1, 2)) + 1e-9
    r0 = (x * rows).sum(axis=(1, 2)) / mass
    c0 = (x * cols).sum(axis=(1, 2)) / mass
    dr, dc = rows[None] - r0[:, None, None], cols[None] - c0[:, None, None]
    mu_rr, mu_cc = (x * dr ** 2).sum(axis=(1, 2)) / mass, (x * dc ** 2).sum(axis=(1, 2)) / mass
    mu_rc = (x * dr * dc).sum(axis=(1, 2)) / mass
    # The principal axis's angle from the row (vertical) axis; rows grow downwards, so -mu_rc leans right.
    slant = np.degrees(0.5 * np.arctan2(-2 * mu_rc, mu_rr - mu_cc))
    return slant, x.mean(axis=(1, 2))


def continuous_effects(generator, bases=100, values=9, seed=0):
    """For each continuous code: the mean rank correlation of slant and ink with the code's value.

    ``bases`` latents (noise, categorical and the other code fixed) each swept
    over ``values`` evenly spaced values of one code in [-1, 1]; the Spearman
    correlation along every sweep is averaged. Returns
    ``{"c1": {"slant": r, "ink": r}, "c2": {...}}``.
    """
    from scipy.stats import spearmanr

    rng = np.random.default_rng(seed)
    z, _ = latent(bases, rng)
    sweep = np.linspace(-1.0, 1.0, values)
    effects = {}
    for j in range(CONTINUOUS_CODES):
        grid = np.repeat(z, values, axis=0)
        grid[:, NOISE_DIM + NUM_CATEGORIES + j] = np.tile(sweep, bases)
        slant, ink = ink_moments(generator.predict(grid, batch_size=500, verbose=0))
        effects[f"c{j + 1}"] = {
            name: round(float(np.nanmean([spearmanr(sweep, series[b * values:(b + 1) * values])[0]
                                          for b in range(bases)])), 3)
            for name, series in (("slant", slant), ("ink", ink))}
    return effects


def train_run(iterations, seed=SEED, dataset="mnist", mode=None, checkpoint_dir=None, measure_every=CURVE_EVERY,
              on_measure=None, progress=False):
    """Train InfoGAN for ``iterations`` updates; returns (generator, curve of agreement points).

    With ``checkpoint_dir`` the networks, both optimizers, the iteration and the
    curve are saved at every measurement (``tf.train.Checkpoint``, which restores
    Adam's moments too) and a later call continues from there; the data of
    iteration i come from ``default_rng([seed, i])``, so a resumed run draws what
    an uninterrupted one would.
    """
    import json
    import time
    from pathlib import Path

    import tensorflow as tf
    from tqdm.auto import tqdm

    from genlab import config, data

    config.seed_everything(seed)
    (x_train, _), _ = data.load(dataset, mode=config.check_mode(mode))
    x = data.scale_images(x_train, to="sigmoid")
    generator, discriminator = build_generator(), build_discriminator()
    g_optimizer, d_optimizer = optimizers()
    g_optimizer.build(generator.trainable_variables)
    d_optimizer.build(discriminator.trainable_variables)
    step = make_train_step(generator, discriminator, g_optimizer, d_optimizer)
    done = tf.Variable(0, dtype=tf.int64, trainable=False)
    state = tf.train.Checkpoint(generator=generator, discriminator=discriminator, g_optimizer=g_optimizer,
                                d_optimizer=d_optimizer, done=done)
    folder, curve, spent = None if checkpoint_dir is None else Path(checkpoint_dir), [], 0.0
    if folder is not None and tf.train.latest_checkpoint(str(folder)):
        state.restore(tf.train.latest_checkpoint(str(folder))).assert_existing_objects_matched()
        saved = json.loads((folder / "curve.json").read_text())
        curve, spent = saved["curve"], saved["seconds"]
    start = time.perf_counter()
    with tqdm(total=iterations, initial=int(done.numpy()), desc="InfoGAN", disable=not progress) as bar:
        for iteration in range(int(done.numpy()) + 1, iterations + 1):
            rng = np.random.default_rng([seed, iteration])
            real = x[rng.integers(0, len(x), BATCH_SIZE)]
            (d_latent, d_codes), (g_latent, g_codes) = latent(BATCH_SIZE, rng), latent(BATCH_SIZE, rng)
            step(real, d_latent, d_codes.astype("int32"), g_latent, g_codes.astype("int32"))
            done.assign(iteration)
            bar.update(1)
            if iteration % measure_every == 0 or iteration == iterations:
                share, mapping = agreement(generator, seed=seed, dataset=dataset)
                curve.append({"iteration": iteration, "agreement": round(share, 4), "mapping": mapping,
                              "seconds": round(spent + time.perf_counter() - start, 1)})
                if on_measure is not None:
                    on_measure(curve[-1])
                if folder is not None:
                    folder.mkdir(parents=True, exist_ok=True)
                    tf.train.CheckpointManager(state, str(folder), max_to_keep=1).save()
                    (folder / "curve.json").write_text(json.dumps({"curve": curve, "seconds": curve[-1]["seconds"]}))
    return generator, curve


def train(dataset="mnist", mode=None, seed=SEED, checkpoint_dir=None, iterations=None, progress=False):
    """The registry's and scripts/train_pretrained.py's entry: :func:`train_run` with the mode's iterations."""
    from genlab import config

    iterations = iterations or config.pick(**ITERATIONS, mode=mode)
    return train_run(iterations, seed, dataset, mode, checkpoint_dir, progress=progress)[0]


def extra_evaluation(generator, dataset="mnist", seed=SEED):
    """What scripts/train_pretrained.py records beside FID: the code-to-class agreement and the codes' effects."""
    share, mapping = agreement(generator, seed=seed, dataset=dataset)
    return {"code_class_agreement": {"agreement": round(share, 4), "mapping": mapping, "n": N_AGREEMENT},
            "continuous_codes": continuous_effects(generator, seed=seed)}
