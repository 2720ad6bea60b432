"""Autoregressive image models (Lecture 9): PixelCNN with masked convolutions, and a Row LSTM PixelRNN.

Notebook 03 (``notebooks/03_pixelcnn.ipynb``) teaches them layer by layer on
binarized MNIST, the benchmark of the PixelCNN paper: the chain rule over
pixels in raster order, mask types A and B, the blind spot and the gated
PixelCNN that removes it, a per-pixel softmax over ``LEVELS`` = 2 values (the
lecture's 256-way softmax, for 8-bit images), the test negative log-likelihood
in nats and bits per dimension, and sampling one pixel at a time. The
builders, the sampler, training and the evaluation live here because the tests
(causality), the registry and the shipped weights (``pixelcnn_mnist``, the
residual PixelCNN) use the same networks; the layers are in
:mod:`genlab.models.pixelcnn_layers`. Every setting is defined here once;
notebook 03's Hyperparameters cell reads them and ``tests/test_notebooks.py``
keeps it equal.

Example::

    from genlab.models import pixelcnn
    model = pixelcnn.build_residual_pixelcnn()
    images = pixelcnn.sample(model, 4, seed=0)        # (4, 28, 28, 1) values 0..LEVELS-1
"""

import math

import numpy as np

from genlab import quiet  # noqa: F401  (imports TensorFlow without its start-up logs)

import keras  # noqa: E402
from keras import layers, ops  # noqa: E402

NOTEBOOK = "03_pixelcnn"
IMAGE_SHAPE = (28, 28, 1)
LEVELS = 2                # values per pixel: binarized MNIST, 0 or 1 (lecture: a 256-way softmax for 8-bit images)
FILTERS = 32              # feature maps of every masked convolution (the original PixelCNN)
FIRST_KERNEL = 7          # the type-A layer's kernel (the PixelCNN paper's 7x7)
HIDDEN_LAYERS = 4         # 3x3 type-B layers after it
RESIDUAL_FILTERS = 64     # feature maps between the residual blocks (2h in the paper's fig. 5; h = 32 inside)
RESIDUAL_BLOCKS = 12      # residual blocks of the shipped PixelCNN
GATED_FILTERS = 64        # feature maps of each stack of the Gated PixelCNN (the shipped model)
GATED_LAYERS = 12         # 3x3 gated layers after its 7x7 type-A one
RNN_UNITS = 32            # the Row LSTM's hidden units per pixel
BATCH_SIZE = 64
LEARNING_RATE = 1e-3      # Adam's initial step size, decayed on a cosine (learning_rate)
STEPS_PER_EPOCH = 62      # batches per epoch of notebook 03's timing comparison
ITERATIONS = {"quick": 4, "full": 6500}   # batches of the shipped model (full: 7 passes of 60,000; ~0.27 s each on 2 cores)
CONFIDENCE = 0.9          # a sample "reads as a digit" if the classifier gives a class at least this probability
N_CONFIDENCE = 1000       # samples for that share (pixel-by-pixel sampling: ~5 min per 1,000 on 2 cores)
ANCHORS = {"PixelCNN (van den Oord et al. 2016, table 4)": 81.30, "PixelRNN, Row LSTM (same)": 80.54,
           "PixelRNN, Diagonal BiLSTM, 7 layers (same)": 79.20}
SEED = 3
SHIPPED_BUILDER = "build_residual_pixelcnn"
MANIFEST_SETTINGS = ("LEVELS", "RESIDUAL_FILTERS", "RESIDUAL_BLOCKS", "FIRST_KERNEL", "BATCH_SIZE", "LEARNING_RATE")


from genlab.models.pixelcnn_layers import GatedBlock, MaskedConv2D, RowLSTMCell, causal_mask  # noqa: E402,F401


def build_pixelcnn(image_shape=IMAGE_SHAPE, levels=LEVELS, filters=FILTERS, first_kernel=FIRST_KERNEL,
                   hidden_layers=HIDDEN_LAYERS, name="pixelcnn"):
    """The original PixelCNN: one 7x7 type-A layer, 3x3 type-B layers, 1x1 layers to ``levels`` logits per pixel.

    Input: images of levels scaled to [0, 1], (N, H, W, 1). Output: logits
    (N, H, W, levels), the softmax over the next pixel's value at every pixel,
    all computed in one parallel pass. Height may differ from ``image_shape``
    (the sampler feeds a window of rows). Its stacked masks leave a blind spot
    (notebook 03); :func:`build_gated_pixelcnn` has none.
    """
    _, width, channels = image_shape
    model = keras.Sequential(name=name)
    model.add(keras.Input(shape=(None, width, channels), name="image"))
    model.add(MaskedConv2D(filters, first_kernel, mask_type="A", activation="relu", name="masked_A"))
    for index in range(1, hidden_layers + 1):
        model.add(MaskedConv2D(filters, 3, mask_type="B", activation="relu", name=f"masked_B{index}"))
    model.add(layers.Conv2D(2 * filters, 1, activation="relu", name="head"))   # 1x1: per pixel, no mask needed
    model.add(layers.Conv2D(levels, 1, dtype="float32", name="logits"))
    return model


def build_gated_pixelcnn(image_shape=IMAGE_SHAPE, levels=LEVELS, filters=GATED_FILTERS,
                         first_kernel=FIRST_KERNEL, gated_layers=GATED_LAYERS, name="gated_pixelcnn"):
    """The Gated PixelCNN genlab ships: a 7x7 type-A gated layer, ``gated_layers`` 3x3 ones, a 1x1 head.

    Same input and output as :func:`build_pixelcnn` (logits over ``levels`` per
    pixel, any height), no blind spot.
    """
    _, width, channels = image_shape
    image = keras.Input(shape=(None, width, channels), name="image")
    v, h = GatedBlock(filters, first_kernel, first=True, name="gated_A")([image, image])
    for index in range(1, gated_layers + 1):
        v, h = GatedBlock(filters, 3, name=f"gated_B{index}")([v, h])
    hidden = layers.Conv2D(2 * filters, 1, activation="relu", name="head")(layers.Activation("relu")(h))
    logits = layers.Conv2D(levels, 1, dtype="float32", name="logits")(hidden)
    return keras.Model(image, logits, name=name)


def residual_block(features, filters, name):
    """The PixelCNN residual block (van den Oord et al. 2016, fig. 5): 1x1 to h, 3x3 mask B, 1x1 back to 2h, add."""
    hidden = layers.Conv2D(filters // 2, 1, name=f"{name}_in")(layers.Activation("relu")(features))
    hidden = MaskedConv2D(filters // 2, 3, mask_type="B", name=f"{name}_masked_B")(layers.Activation("relu")(hidden))
    hidden = layers.Conv2D(filters, 1, name=f"{name}_out")(layers.Activation("relu")(hidden))
    return layers.Add(name=f"{name}_add")([features, hidden])


def build_residual_pixelcnn(image_shape=IMAGE_SHAPE, levels=LEVELS, filters=RESIDUAL_FILTERS,
                            first_kernel=FIRST_KERNEL, blocks=RESIDUAL_BLOCKS, name="residual_pixelcnn"):
    """The PixelCNN genlab ships: a 7x7 type-A layer, ``blocks`` residual blocks, a 1x1 head.

    Same input and output as :func:`build_pixelcnn` (logits over ``levels`` per
    pixel, any height); deeper, so each pixel sees more rows above it.
    """
    _, width, channels = image_shape
    image = keras.Input(shape=(None, width, channels), name="image")
    features = MaskedConv2D(filters, first_kernel, mask_type="A", name="masked_A")(image)
    for index in range(1, blocks + 1):
        features = residual_block(features, filters, name=f"block{index}")
    hidden = layers.Conv2D(filters, 1, activation="relu", name="head")(layers.Activation("relu")(features))
    logits = layers.Conv2D(levels, 1, dtype="float32", name="logits")(hidden)
    return keras.Model(image, logits, name=name)


def build_pixelrnn(image_shape=IMAGE_SHAPE, levels=LEVELS, filters=FILTERS, first_kernel=FIRST_KERNEL,
                   units=RNN_UNITS, name="pixelrnn"):
    """A small PixelRNN: the same 7x7 type-A layer, one Row LSTM layer, the same 1x1 head.

    The input-to-state convolution (1x3, type B) runs on all rows in
    parallel; the state-to-state part runs row after row.
    """
    height, width, channels = image_shape
    image = keras.Input(shape=(height, width, channels), name="image")
    features = MaskedConv2D(filters, first_kernel, mask_type="A", activation="relu", name="masked_A")(image)
    input_to_state = MaskedConv2D(4 * units, (1, 3), mask_type="B", name="input_to_state")(features)
    rows = layers.Reshape((height, width * 4 * units))(input_to_state)
    hidden = layers.RNN(RowLSTMCell(units, width), return_sequences=True, name="row_lstm")(rows)
    hidden = layers.Reshape((height, width, units))(hidden)
    hidden = layers.Conv2D(2 * filters, 1, activation="relu", name="head")(hidden)
    logits = layers.Conv2D(levels, 1, dtype="float32", name="logits")(hidden)
    return keras.Model(image, logits, name=name)


def quantize(images, levels=LEVELS):
    """uint8 grey images (N, 28, 28) -> integer levels 0..levels-1 (N, 28, 28, 1), by equal-width bins."""
    return (np.asarray(images, dtype="int32")[..., None] * levels // 256).astype("int32")


def as_levels(binary):
    """Binarized digits (N, 28, 28) of 0/1 (:func:`genlab.data.load_binarized_mnist`) -> int32 (N, 28, 28, 1)."""
    return np.asarray(binary, dtype="int32")[..., None]


def to_input(levels_array, levels=LEVELS):
    """Integer levels -> the network's input, floats in [0, 1]."""
    return np.asarray(levels_array, dtype="float32") / (levels - 1)


def to_uint8(levels_array, levels=LEVELS):
    """Integer levels -> uint8 (N, 28, 28) grey values 0..255 (level k -> 255 k / (levels - 1))."""
    values = np.rint(np.asarray(levels_array, dtype="float32") * 255.0 / (levels - 1)).astype("uint8")
    return values[..., 0] if values.ndim == 4 else values


def nll(model, images_levels, batch_size=250, levels=LEVELS):
    """Per-image negative log-likelihood in nats, (N,): the sum over pixels of -ln p(x_i | x_<i)."""
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
    values = []
    for start in range(0, len(images_levels), batch_size):
        batch = images_levels[start:start + batch_size]
        per_pixel = loss(batch, model(to_input(batch, levels), training=False))
        values.append(np.asarray(per_pixel).reshape(len(batch), -1).sum(axis=1))
    return np.concatenate(values)


def bits_per_dim(model, images_levels, batch_size=250, levels=LEVELS):
    """Mean negative log-likelihood of ``images_levels`` (N, H, W, 1) in bits per pixel."""
    pixels = np.prod(np.shape(images_levels)[1:])
    return float(nll(model, images_levels, batch_size, levels).mean() / (pixels * math.log(2.0)))


def receptive_rows(model):
    """Rows above a pixel that a PixelCNN's output can depend on, plus one (the pixel's own row).

    Each masked or gated k x k layer reaches k // 2 rows further up; a gated
    stack one row more, because its vertical features are shifted down a row
    before the horizontal stack reads them.
    """
    masked = sum(layer.kernel_size[0] // 2 for layer in model.layers if isinstance(layer, MaskedConv2D))
    gated = [layer.kernel_size // 2 for layer in model.layers if isinstance(layer, GatedBlock)]
    return 1 + masked + (sum(gated) + 1 if gated else 0)


def sample(model, n, seed=0, levels=LEVELS, image_shape=IMAGE_SHAPE, window=True, pixels=None):
    """Draw ``n`` images pixel by pixel in raster order: H * W sequential network calls.

    Each call gives the softmax of every pixel, but only pixel i's is used,
    because pixel i + 1's distribution depends on the value just drawn at i.
    ``window=True`` (PixelCNN only) feeds just the rows the current row can
    see (:func:`receptive_rows`): the same logits, fewer rows computed, but
    still one call per pixel. ``pixels`` stops after that many (for timing);
    the rest stay 0. Pixel i's value is drawn with
    ``tf.random.stateless_categorical(logits, 1, seed=(seed, i))``, so a
    plain Python loop with the same seeds draws the same images. Returns
    int32 levels (n, H, W, 1).
    """
    import tensorflow as tf

    height, width, channels = image_shape
    rows = min(receptive_rows(model), height) if window else height

    @tf.function
    def draw(images):
        for index in tf.range(height * width if pixels is None else pixels):
            r, c = index // width, index % width
            top = tf.clip_by_value(r - rows + 1, 0, height - rows)
            logits = model(images[:, top:top + rows] / (levels - 1), training=False)[:, r - top, c, :]
            step_seed = tf.stack([tf.constant(seed, tf.int32), index])
            values = tf.random.stateless_categorical(logits, 1, seed=step_seed, dtype=tf.int32)[:, 0]
            positions = tf.stack([tf.range(n), tf.fill([n], r), tf.fill([n], c), tf.zeros([n], tf.int32)], axis=1)
            images = tf.tensor_scatter_nd_update(images, positions, tf.cast(values, images.dtype))
        return images

    return draw(tf.zeros((n, height, width, channels), tf.float32)).numpy().astype("int32")


def learning_rate(iterations):
    """Adam's step size: LEARNING_RATE decayed to 0 over ``iterations`` batches on a cosine.

    A fixed budget of batches is known in advance, so the rate can fall to zero by
    its end (Loshchilov & Hutter's cosine schedule, without restarts); genlab has
    not measured it here against a constant rate.
    """
    return keras.optimizers.schedules.CosineDecay(LEARNING_RATE, decay_steps=max(int(iterations), 1))


def train(dataset="mnist", mode=None, seed=SEED, checkpoint_dir=None, iterations=None, progress=False):
    """Train the shipped (residual) PixelCNN on binarized MNIST for ``mode``; returns the model.

    Every batch is binarized afresh (:func:`genlab.data.binarized_dataset`); Adam
    with :func:`learning_rate`. Used by the registry and ``scripts/train_pretrained.py``.
    """
    from genlab import callbacks, config, data

    if dataset != "mnist":
        raise ValueError("the PixelCNN trains on binarized MNIST only")
    config.seed_everything(seed)
    (x_train, _), _ = data.load_binarized_mnist(mode=config.check_mode(mode))
    iterations = int(iterations or config.pick(**ITERATIONS, mode=mode))
    model = build_residual_pixelcnn()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate(iterations)),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    # Epochs of equal length that add up to exactly ``iterations`` batches, each at most one pass.
    steps = max(d for d in range(1, min(iterations, len(x_train) // BATCH_SIZE) + 1) if iterations % d == 0)
    model.fit(_batches(x_train, seed), steps_per_epoch=steps, epochs=iterations // steps, verbose=0,
              callbacks=callbacks.standard(checkpoint_dir, progress=progress))
    return model


def _batches(grey, seed):
    """(input, target) batches of freshly binarized digits: the input in [0, 1], the target the 0/1 level."""
    import tensorflow as tf

    from genlab import data

    return data.binarized_dataset(grey, BATCH_SIZE, seed=seed).map(lambda x: (x, tf.cast(x, tf.int32)))


def likelihood(model, dataset="mnist", seed=SEED, mode="full"):
    """The test NLL a manifest records (scripts/train_pretrained.py): nats and bits/dim, beside the anchors.

    On the fixed binarized test digits (:func:`genlab.data.load_binarized_mnist`):
    all 10,000 in full mode, quick mode's first 1,000 otherwise. Exact for this
    discrete model: no sampling, so ``seed`` is unused.
    """
    from genlab import data

    if dataset != "mnist":
        raise ValueError("the PixelCNN's likelihood is measured on binarized MNIST only")
    _, (x_test, _) = data.load_binarized_mnist(mode=mode)
    values = nll(model, as_levels(x_test))
    pixels = np.prod(IMAGE_SHAPE)
    figure = {"nats": round(float(values.mean()), 2),
              "standard_error": round(float(values.std(ddof=1) / np.sqrt(len(values))), 2),
              "bits_per_dim": round(float(values.mean() / (pixels * math.log(2))), 4), "n": len(values)}
    return {"metric": "test negative log-likelihood (nats)", "value": figure["nats"], "nll": figure,
            "anchors_nats": ANCHORS, "exact": "exact for the discrete model (the chain rule, no bound)",
            "data": f"binarized MNIST test digits (data.load_binarized_mnist, fixed seed "
                    f"{data.BINARIZED_TEST_SEED}), 28x28"}


def digit_confidence(images, threshold=CONFIDENCE, dataset="mnist"):
    """Share of uint8 images (N, 28, 28) that genlab's classifier labels with probability >= ``threshold``."""
    from genlab import features

    logits = features.get_extractor(dataset).logits(images)
    probabilities = ops.convert_to_numpy(ops.softmax(ops.convert_to_tensor(logits, "float32"), axis=1))
    return float(np.mean(probabilities.max(axis=1) >= threshold))


def extra_evaluation(model, dataset="mnist", seed=SEED, n=N_CONFIDENCE):
    """What scripts/train_pretrained.py records beside FID: how many samples read as a digit."""
    from genlab import data

    _, (x_test, _) = data.load_binarized_mnist()
    samples = sampler(model)(n, seed=seed)
    noise = np.random.default_rng(seed).integers(0, 256, size=(n, *IMAGE_SHAPE[:2])).astype("uint8")
    return {"digit_confidence": {"samples": round(digit_confidence(samples, dataset=dataset), 4),
                                 "real_binarized_test": round(digit_confidence(to_uint8(as_levels(x_test[:n])),
                                                                               dataset=dataset), 4),
                                 # The classifier is sure of noise too: the share alone does not say "a digit".
                                 "uniform_noise": round(digit_confidence(noise, dataset=dataset), 4),
                                 "threshold": CONFIDENCE, "n": n, "seed": seed,
                                 "classifier": f"genlab {dataset} classifier (genlab.features)"}}


def compare(epochs=5, seed=SEED, n_held_out=1000):
    """PixelCNN vs PixelRNN on the same data and budget: seconds per epoch and held-out bits/dim.

    Both train ``epochs`` epochs of ``STEPS_PER_EPOCH`` batches with the same
    seed; the epochs alternate between the two models so that a change in the
    machine's load hits both. Seconds per epoch: the median over epochs after
    the first (which includes tracing). Returns ``{name: (seconds_per_epoch, bits_per_dim)}``.
    """
    import time

    from genlab import config, data

    (x, _), (x_test, _) = data.load_binarized_mnist()
    held_out = as_levels(x_test[:n_held_out])
    models = {}
    for name, builder in (("PixelCNN", build_pixelcnn), ("PixelRNN (Row LSTM)", build_pixelrnn)):
        config.seed_everything(seed)
        model = builder()
        model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        models[name] = (model, iter(_batches(x, seed)), [])
    for _ in range(epochs):
        for model, batches, seconds in models.values():
            start = time.perf_counter()
            for _ in range(STEPS_PER_EPOCH):
                model.train_on_batch(*next(batches))
            seconds.append(time.perf_counter() - start)
    return {name: (float(np.median(seconds[1:] or seconds)), bits_per_dim(model, held_out))
            for name, (model, _, seconds) in models.items()}


def sampler(model):
    """``sample_fn(n, seed=0)`` -> uint8 (n, 28, 28) images drawn pixel by pixel from ``model``."""
    def sample_fn(n, seed=0):
        return to_uint8(sample(model, n, seed=seed))

    sample_fn.model = model
    return sample_fn
