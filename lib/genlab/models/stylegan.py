"""A small style-based generator (StyleGAN, Karras et al. 2019) for MNIST: layers, builders, settings.

Why it exists: notebook 10 (``notebooks/10_stylegan_concepts.ipynb``) teaches Lectures 13-14's
StyleGAN at a size a laptop CPU can train: a mapping network z -> w, AdaIN injecting w at every
layer, per-pixel noise, synthesis from a learned constant, style mixing, truncation in w and
interpolation in z versus w, trained with the non-saturating loss and the paper's R1 penalty.
The notebook writes AdaIN, noise injection and the training step where the student reads them;
the tests (``tests/test_stylegan.py``), the registry and the shipped weights (``stylegan_mnist``)
need the same pieces, with every setting defined once.
Scale: 7x7 -> 14x14 -> 28x28 with two AdaIN'd layers per resolution (six styles), a 4-layer
64-d mapping network; the paper's runs 4x4 -> 1024x1024 (18 styles), 8 layers of 512.
"""

from pathlib import Path

import numpy as np

import keras
from keras import layers, ops

from genlab import quiet  # noqa: F401  (imports TensorFlow without its start-up logs)
from genlab.models.stylegan_layers import AdaIN, LearnedConstant, NoiseInjection  # noqa: F401  (re-exported)

NOTEBOOK = "10_stylegan_concepts"
IMAGE_SHAPE = (28, 28, 1)
LATENT_DIM = 64                  # z
W_DIM = 64                       # w (the paper: 512 for both)
MAPPING_LAYERS = 4               # the paper: 8
CHANNELS = (64, 32, 16)           # feature maps at 7x7, 14x14, 28x28
DISCRIMINATOR_FILTERS = (32, 64, 64)
NUM_STYLES = 2 * len(CHANNELS)   # two AdaIN'd layers per resolution: styles 0-1 coarse (7x7), 4-5 fine (28x28)
BATCH_SIZE = 32
G_LEARNING_RATE, D_LEARNING_RATE = 1e-4, 4e-4   # D 4x faster: at one rate (2e-4) D sat at chance in a probe
# (1e-4 / 4e-4 are SAGAN's rates, Zhang et al. 2019, which adopted TTUR's separate rates, Heusel et al. 2017)
BETA_1, BETA_2 = 0.0, 0.99       # the paper's Adam betas
MAPPING_LR_MULTIPLIER = 1.0      # the shipped model's: at G's rate; the paper uses 0.01 (see notebook 10)
MIXING_PROB = 0.9                # style-mixing regularization (the paper: 90 % of training images)
R1_GAMMA = 10.0                  # R1 penalty on D's slope at real images (the paper's FFHQ value; probes: 1, 5, 10, 20)
W_AVG_DECAY = 0.995              # the tracked mean of w, for truncation (the paper's value)
ITERATIONS = {"quick": 3, "full": 6000}
CHECKPOINT_EVERY = 500
CURVE_EVERY = 2000               # full-mode runs: FID (N = 2,000) every this many iterations
SEED = 42
PSI_SWEEP = (1.0, 0.7, 0.5, 0.0)  # truncation psi of the precision/recall sweep
PATH_STEPS = 17                  # images along each interpolation path
SHIPPED_BUILDER = "build_generator"
MANIFEST_SETTINGS = ("LATENT_DIM", "W_DIM", "MAPPING_LAYERS", "CHANNELS", "BATCH_SIZE", "G_LEARNING_RATE",
                     "D_LEARNING_RATE", "MAPPING_LR_MULTIPLIER", "BETA_1", "BETA_2", "MIXING_PROB", "R1_GAMMA",
                     "W_AVG_DECAY")


def build_mapping(latent_dim=LATENT_DIM, w_dim=W_DIM, depth=MAPPING_LAYERS, name="mapping"):
    """The mapping network z -> w: normalize z to unit mean square, then ``depth`` Dense + LeakyReLU(0.2) layers."""
    z = keras.Input((latent_dim,), name="z")
    # The paper's "pixel norm" of z: every z gets the same length, so w depends on its direction only.
    x = layers.UnitNormalization(name="normalize_z")(z)
    x = layers.Rescaling(float(np.sqrt(latent_dim)), name="unit_mean_square")(x)
    for index in range(depth):
        x = layers.Dense(w_dim, name=f"dense{index}")(x)
        x = layers.LeakyReLU(0.2, name=f"lrelu{index}")(x)
    return keras.Model(z, x, name=name)


class StyleGenerator(keras.Model):
    """Mapping network, tracked mean of w, and the synthesis network from a learned constant.

    ``generator(z)`` draws images in [-1, 1]; :meth:`synthesize` takes one w per style layer
    (style mixing) and optional fixed noise; :meth:`truncate` pulls w towards the tracked mean
    ``w_avg`` (a non-trainable weight, so the shipped file holds it).

    Args:
        latent_dim, w_dim, mapping_layers, channels: see the module's settings.
        seed: seed of the noise layers.

    Example::

        generator = StyleGenerator()
        images = generator.synthesize(mix_styles(generator.map(z1), generator.map(z2), crossover=2))
    """

    def __init__(self, latent_dim=LATENT_DIM, w_dim=W_DIM, mapping_layers=MAPPING_LAYERS, channels=CHANNELS,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim, self.w_dim, self.mapping_layers = latent_dim, w_dim, mapping_layers
        self.channels, self.seed = tuple(channels), seed
        self.num_styles = 2 * len(self.channels)
        self.mapping = build_mapping(latent_dim, w_dim, mapping_layers)
        self.constant = LearnedConstant(7, 7, self.channels[0], name="constant")
        # Style layer i works at 7 * 2**(i // 2) pixels: [upsample] -> 3x3 conv -> noise -> LeakyReLU -> AdaIN(A_i(w)).
        # Layer 0 works on the constant itself (no conv); A_i is a learned affine map (two Dense layers),
        # the scale's bias starting at 1 so that an untrained style leaves the maps as they are.
        sizes = [7 * 2 ** (i // 2) for i in range(self.num_styles)]
        filters = [self.channels[i // 2] for i in range(self.num_styles)]
        self.upsample, self.adain = layers.UpSampling2D(name="upsample"), AdaIN(name="adain")
        self.convs = [layers.Conv2D(filters[i], 3, padding="same", name=f"conv{i}_{sizes[i]}x{sizes[i]}")
                      for i in range(1, self.num_styles)]
        self.noises = [NoiseInjection(None if seed is None else seed + i, name=f"noise{i}_{sizes[i]}x{sizes[i]}")
                       for i in range(self.num_styles)]
        self.style_scales = [layers.Dense(f, bias_initializer="ones", name=f"style_scale{i}") for i, f in enumerate(filters)]
        self.style_biases = [layers.Dense(filters[i], name=f"style_bias{i}") for i in range(self.num_styles)]
        self.to_image = layers.Conv2D(IMAGE_SHAPE[-1], 1, name="to_image")
        self.w_avg = self.add_weight(shape=(w_dim,), initializer="zeros", trainable=False, name="w_avg")

    def map(self, z, training=False):
        """w = mapping(z), shape (B, w_dim)."""
        return self.mapping(z, training=training)

    def truncate(self, w, psi):
        """The truncation trick: w_avg + psi (w - w_avg); psi = 1 leaves w, psi = 0 gives the mean w."""
        return self.w_avg + psi * (w - self.w_avg)

    def synthesize(self, ws, noise=None):
        """Images from styles ``ws``: (B, w_dim) for one w everywhere, or (B, num_styles, w_dim).

        ``noise``: None (fresh noise), or one array per style layer (B, H, W, 1) of that layer's size.
        """
        if len(ws.shape) == 2:
            ws = ops.repeat(ops.expand_dims(ws, 1), self.num_styles, axis=1)
        x = self.constant(ws)
        for index in range(self.num_styles):
            if index:
                x = self.convs[index - 1](self.upsample(x) if index % 2 == 0 else x)
            x = ops.leaky_relu(self.noises[index](x, noise=None if noise is None else noise[index]), 0.2)
            x = self.adain([x, self.style_scales[index](ws[:, index]), self.style_biases[index](ws[:, index])])
        return ops.tanh(self.to_image(x))

    def call(self, z, psi=1.0, training=False):
        return self.synthesize(self.truncate(self.map(z, training=training), psi))

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim, "w_dim": self.w_dim,
                "mapping_layers": self.mapping_layers, "channels": self.channels, "seed": self.seed}


def build_generator(latent_dim=LATENT_DIM, w_dim=W_DIM, mapping_layers=MAPPING_LAYERS, channels=CHANNELS, seed=SEED):
    """A built :class:`StyleGenerator` with these settings (the shipped network's builder)."""
    generator = StyleGenerator(latent_dim, w_dim, mapping_layers, channels, seed=seed, name="style_generator")
    generator(np.zeros((1, latent_dim), "float32"))
    return generator


def build_discriminator(image_shape=IMAGE_SHAPE, filters=DISCRIMINATOR_FILTERS, name="discriminator"):
    """D: strided 3x3 convolutions with LeakyReLU(0.2), then one logit (no sigmoid: the loss takes logits).

    Before the last convolution, ProGAN's and StyleGAN's minibatch standard deviation: the features'
    spread over the batch, averaged, as one more channel, so D can see a batch that lacks variety.
    """
    x = image = keras.Input(image_shape, name="image")
    for index, block_filters in enumerate(filters):
        if index == len(filters) - 1:   # + 1e-8: the gradient of a square root at 0 is infinite
            x = layers.Lambda(lambda t: ops.concatenate([t, ops.zeros_like(t[..., :1]) + ops.mean(
                ops.sqrt(ops.var(t, axis=0) + 1e-8))], axis=-1), name="minibatch_std")(x)
        x = layers.Conv2D(block_filters, 3, strides=2 if index < 2 else 1, padding="same", name=f"conv{index}")(x)
        x = layers.LeakyReLU(0.2, name=f"lrelu{index}")(x)
    x = layers.Flatten(name="flatten")(x)
    return keras.Model(image, layers.Dense(1, name="logit")(x), name=name)


def mix_styles(w_a, w_b, crossover, num_styles=NUM_STYLES):
    """(B, num_styles, w_dim): styles 0 .. crossover-1 from ``w_a``, the rest from ``w_b``."""
    take_a = (np.arange(num_styles) < crossover)[None, :, None]
    return ops.where(take_a, ops.expand_dims(w_a, 1), ops.expand_dims(w_b, 1))


def optimizers():
    """Fresh Adam optimizers (BETA_1, BETA_2): G's synthesis network, D, and G's mapping network at
    G_LEARNING_RATE * MAPPING_LR_MULTIPLIER (the paper: a 100x slower mapping network)."""
    return [keras.optimizers.Adam(rate, beta_1=BETA_1, beta_2=BETA_2)
            for rate in (G_LEARNING_RATE, D_LEARNING_RATE, G_LEARNING_RATE * MAPPING_LR_MULTIPLIER)]


def r1_penalty(discriminator, real):
    """R1 (Mescheder et al. 2018): the mean over real images of ||grad_x D(x)||^2 (logits); returns (penalty, logits).

    Penalizing D's slope at the real data keeps D from growing sharp ridges around each training
    digit, which is what lets G keep spreading out over the data instead of chasing D's latest ridge."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        tape.watch(real)
        logits = discriminator(real, training=True)
        summed = tf.reduce_sum(logits)      # as StyleGAN computes it (the minibatch-std channel couples images a little)
    gradients = tape.gradient(summed, real)
    return tf.reduce_mean(tf.reduce_sum(tf.square(gradients), axis=[1, 2, 3])), logits


def split_weights(generator):
    """(synthesis network's trainable weights, mapping network's): each has its own optimizer and rate."""
    mapping = generator.mapping.trainable_weights
    return [w for w in generator.trainable_weights if all(w is not m for m in mapping)], mapping


def make_train_step(generator, discriminator, g_optimizer, d_optimizer, mapping_optimizer, mixing_prob=MIXING_PROB,
                    decay=W_AVG_DECAY, r1_gamma=R1_GAMMA):
    """The training step of notebook 10 (non-saturating loss + R1, style mixing, tracked mean w), as a tf.function."""
    import tensorflow as tf

    def styles(batch):
        w1, w2 = (generator.map(tf.random.normal((batch, generator.latent_dim)), training=True) for _ in range(2))
        # Style mixing: with probability mixing_prob, layers from a random crossover on take w2.
        crossover = tf.where(tf.random.uniform(()) < mixing_prob,
                             tf.random.uniform((), 1, generator.num_styles, dtype=tf.int32), generator.num_styles)
        use_w1 = tf.range(generator.num_styles)[None, :, None] < crossover
        return tf.where(use_w1, w1[:, None], w2[:, None]), w1

    def step(real):
        batch = tf.shape(real)[0]
        with tf.GradientTape() as tape:
            ws, _ = styles(batch)
            fake_logits = discriminator(generator.synthesize(ws), training=True)
            penalty, real_logits = r1_penalty(discriminator, real)
            d_loss = tf.reduce_mean(tf.nn.softplus(fake_logits) + tf.nn.softplus(-real_logits)) + r1_gamma / 2 * penalty
        d_weights = discriminator.trainable_weights
        d_optimizer.apply_gradients(zip(tape.gradient(d_loss, d_weights), d_weights))
        with tf.GradientTape() as tape:
            ws, w1 = styles(batch)
            # Non-saturating loss: G maximizes log D(G(z)), i.e. minimizes softplus(-logit).
            g_loss = tf.reduce_mean(tf.nn.softplus(-discriminator(generator.synthesize(ws), training=True)))
        synthesis, mapping = split_weights(generator)
        gradients = tape.gradient(g_loss, synthesis + mapping)
        g_optimizer.apply_gradients(zip(gradients[:len(synthesis)], synthesis))
        mapping_optimizer.apply_gradients(zip(gradients[len(synthesis):], mapping))
        generator.w_avg.assign(decay * generator.w_avg + (1 - decay) * tf.reduce_mean(w1, axis=0))
        return d_loss, g_loss

    return tf.function(step)


def train(dataset="mnist", mode=None, seed=SEED, checkpoint_dir=None, iterations=None, progress=False):
    """Train notebook 10's G and D for ``mode``; returns the generator (its weights load into build_generator()).

    With ``checkpoint_dir``: G, D, the three optimizers (Adam's moments too) and the count are saved every
    ``CHECKPOINT_EVERY`` iterations (``tf.train.Checkpoint``) and a later call continues from there; the
    batch of iteration i comes from ``default_rng([seed, i])``, so a resumed run sees the data an
    uninterrupted one would. A full-mode run records its learning curve there (FID, N = 2,000)."""
    import tensorflow as tf
    from tqdm.auto import tqdm

    from genlab import callbacks, config, data

    config.seed_everything(seed)
    mode = config.check_mode(mode)
    (x_train, _), _ = data.load(dataset, mode=mode)
    x = data.scale_images(x_train)                 # [-1, 1], (N, 28, 28, 1)
    iterations = iterations or config.pick(**ITERATIONS, mode=mode)
    generator, discriminator = build_generator(seed=seed), build_discriminator()
    g_optimizer, d_optimizer, mapping_optimizer = optimizers()
    synthesis, mapping = split_weights(generator)
    g_optimizer.build(synthesis)
    d_optimizer.build(discriminator.trainable_variables)
    mapping_optimizer.build(mapping)
    step = make_train_step(generator, discriminator, g_optimizer, d_optimizer, mapping_optimizer)
    done = tf.Variable(0, dtype=tf.int64)
    state = tf.train.Checkpoint(generator=generator, discriminator=discriminator, g_optimizer=g_optimizer,
                                d_optimizer=d_optimizer, mapping_optimizer=mapping_optimizer, done=done)
    folder, curve = None if checkpoint_dir is None else Path(checkpoint_dir), None
    if folder is not None and tf.train.latest_checkpoint(str(folder)):
        state.restore(tf.train.latest_checkpoint(str(folder))).assert_existing_objects_matched()
    if folder is not None and mode == "full":
        from genlab import evaluation

        def fid(images, n, seed):
            return evaluation.evaluate(images, dataset, n=n, seed=seed, which=("FID",), references_too=False)[
                "samples"]["FID"]

        curve = callbacks.LearningCurve(sampler(generator), fid, CURVE_EVERY, folder / "curve.json", last=iterations)
    with tqdm(total=iterations, initial=int(done.numpy()), desc="StyleGAN", disable=not progress) as bar:
        for iteration in range(int(done.numpy()) + 1, iterations + 1):
            real = x[np.random.default_rng([seed, iteration]).integers(0, len(x), BATCH_SIZE)]
            d_loss, g_loss = step(real)
            done.assign(iteration)
            bar.update(1)
            bar.set_postfix(d=f"{float(d_loss):.3f}", g=f"{float(g_loss):.3f}", refresh=False)
            if folder is not None and (iteration % CHECKPOINT_EVERY == 0 or iteration == iterations):
                tf.train.CheckpointManager(state, str(folder), max_to_keep=1).save()
            if curve is not None:
                curve.on_train_batch_end(iteration)
    return generator


def fixed_noise(generator, n, seed=0):
    """One NumPy noise array per style layer for ``n`` images, drawn from ``seed`` (reproducible samples)."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n, size, size, 1)).astype("float32") for size in 7 * 2 ** (np.arange(generator.num_styles) // 2)]


def generate(generator, ws, noise, batch=250):
    """Images in [-1, 1] (NumPy) from styles ``ws`` and per-layer ``noise``, in batches, compiled once."""
    if not hasattr(generator, "_genlab_synthesize"):
        import tensorflow as tf

        generator._genlab_synthesize = tf.function(lambda w, *maps: generator.synthesize(w, noise=list(maps)),
                                                   reduce_retracing=True)
    ws = np.asarray(ws, "float32")
    ws = np.repeat(ws[:, None], generator.num_styles, axis=1) if ws.ndim == 2 else ws   # one trace: (B, styles, w)
    return np.concatenate([np.asarray(generator._genlab_synthesize(ws[start:start + batch],
                                                                   *[maps[start:start + batch] for maps in noise]))
                           for start in range(0, len(ws), batch)])


def sampler(generator):
    """``sample_fn(n, seed=0, psi=1.0)`` -> uint8 (n, 28, 28): z and noise from ``seed``, w truncated by ``psi``."""
    from genlab import data

    def sample_fn(n, seed=0, psi=1.0):
        z = np.random.default_rng(seed).standard_normal((n, generator.latent_dim)).astype("float32")
        w = np.asarray(generator.truncate(np.asarray(generator.map(z)), psi))
        images = generate(generator, w, fixed_noise(generator, n, seed + 1))
        return data.to_uint8(images, from_range="tanh").reshape(n, *IMAGE_SHAPE[:2])

    sample_fn.generator = generator
    return sample_fn


def slerp(a, b, t):
    """Spherical interpolation from ``a`` to ``b`` (rows) at fractions ``t`` (K,): (rows, K, dim) (z lie near a sphere)."""
    a, b, t = np.asarray(a, "float64"), np.asarray(b, "float64"), np.asarray(t, "float64")[None, :, None]
    cosine = np.sum(a * b, axis=-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    omega = np.arccos(np.clip(cosine, -1.0, 1.0))[:, None, None]
    return ((np.sin((1 - t) * omega) * a[:, None] + np.sin(t * omega) * b[:, None]) / np.sin(omega)).astype("float32")


def interpolation_paths(generator, paths, steps=PATH_STEPS, seed=0):
    """{"z": slerp paths, "w": lerp paths}, (paths, steps, 28, 28) in [-1, 1]: same endpoints, noise fixed per path."""
    rng = np.random.default_rng(seed)
    z_a, z_b = (rng.standard_normal((paths, generator.latent_dim)).astype("float32") for _ in range(2))
    t = np.linspace(0.0, 1.0, steps)
    noise = [np.repeat(maps, steps, axis=0) for maps in fixed_noise(generator, paths, seed + 1)]
    z_path = slerp(z_a, z_b, t).reshape(-1, generator.latent_dim)
    w_of_z, t_column = np.asarray(generator.map(z_path)), t[None, :, None]
    w_a, w_b = np.asarray(generator.map(z_a)), np.asarray(generator.map(z_b))
    w_path = ((1 - t_column) * w_a[:, None] + t_column * w_b[:, None]).reshape(-1, generator.w_dim)
    return {space: generate(generator, w, noise).reshape(paths, steps, *IMAGE_SHAPE[:2])
            for space, w in (("z", w_of_z), ("w", w_path))}


def path_smoothness(images, extractor="mnist"):
    """Means over paths (paths, steps, 28, 28) of ``path_length`` (summed distances of neighbours' classifier
    features, FID's), ``class_changes`` (of the predicted digit) and ``probability_variation`` (summed total
    variation of neighbours' class probabilities): how smoothly images change along the paths."""
    from genlab import features

    images = np.asarray(images)
    paths, steps = images.shape[:2]
    feats, logits = (values.reshape(paths, steps, -1) for values in features.get_extractor(extractor).run(
        images.reshape(paths * steps, *images.shape[2:]), value_range="tanh" if images.dtype != np.uint8 else "auto"))
    probabilities = np.exp(logits - logits.max(-1, keepdims=True))
    probabilities /= probabilities.sum(-1, keepdims=True)
    classes = probabilities.argmax(-1)
    return {"path_length": float(np.linalg.norm(np.diff(feats, axis=1), axis=-1).sum(1).mean()),
            "class_changes": float((np.diff(classes, axis=1) != 0).sum(1).mean()),
            "probability_variation": float(0.5 * np.abs(np.diff(probabilities, axis=1)).sum(-1).sum(1).mean())}


def extra_evaluation(generator, dataset="mnist", seed=SEED, n=1000, paths=200):
    """The manifest's extras: FID, precision, recall per psi of PSI_SWEEP (N = ``n``); path smoothness in z and w.

    The floor and ceiling of the sweep are the main evaluation's (same N, seed and held-out digits)."""
    from genlab import evaluation

    reference, which, sweep = evaluation.references(dataset, n, seed=seed)[0], ("FID", "precision", "recall"), {}
    for psi in PSI_SWEEP:
        values = evaluation.measure(sampler(generator)(n, seed=seed, psi=psi), reference, dataset, which=which)
        sweep[str(psi)] = {name: round(float(value), 4) for name, value in zip(which, values)}
    measured = {space: {name: round(value, 4) for name, value in path_smoothness(images).items()}
                for space, images in interpolation_paths(generator, paths, PATH_STEPS, seed=seed).items()}
    return {"truncation_sweep": {"n": n, "seed": seed, "by_psi": sweep}, "interpolation": {
        "paths": paths, "steps": PATH_STEPS, "seed": seed, "z_slerp": measured["z"], "w_lerp": measured["w"]}}
