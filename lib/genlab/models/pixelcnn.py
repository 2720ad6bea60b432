"""Autoregressive image models (Lecture 9): PixelCNN with masked convolutions, and a Row LSTM PixelRNN.

Notebook 03 (``notebooks/03_pixelcnn.ipynb``) teaches both layer by layer: the
chain rule over pixels in raster order, mask types A and B, a per-pixel
softmax over ``LEVELS`` grey levels (the lecture's 256-way softmax, on MNIST
quantised to 4 levels so a CPU can train it), the negative log-likelihood in
bits per dimension, and sampling one pixel at a time. The builders, the
sampler and the settings live here as well because the tests (mask
causality), the registry and the shipped weights (``pixelcnn_mnist``) use the
same networks. Every setting is defined here once; notebook 03's
Hyperparameters cell reads them and ``tests/test_notebooks.py`` keeps it equal.

Example::

    from genlab.models import pixelcnn
    model = pixelcnn.build_pixelcnn()
    images = pixelcnn.sample(model, 4, seed=0)        # (4, 28, 28) levels 0..LEVELS-1
"""

import math

import numpy as np

from genlab import quiet  # noqa: F401  (imports TensorFlow without its start-up logs)

import keras  # noqa: E402
from keras import layers, ops  # noqa: E402

NOTEBOOK = "03_pixelcnn"
IMAGE_SHAPE = (28, 28, 1)
LEVELS = 4                # grey levels per pixel: the softmax has this many classes (lecture: 256)
FILTERS = 32              # feature maps of every masked convolution
FIRST_KERNEL = 7          # the type-A layer's kernel (the PixelCNN paper's 7x7)
HIDDEN_LAYERS = 4         # 3x3 type-B layers after it
RNN_UNITS = 32            # the Row LSTM's hidden units per pixel
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
STEPS_PER_EPOCH = 4000 // BATCH_SIZE      # 62 batches: one pass over the shipped subset's 4,000 digits
ITERATIONS = {"quick": 4, "full": 20 * STEPS_PER_EPOCH}   # batches (full: 20 epochs, 1,240 batches)
SEED = 3
SHIPPED_BUILDER = "build_pixelcnn"
MANIFEST_SETTINGS = ("LEVELS", "FILTERS", "FIRST_KERNEL", "HIDDEN_LAYERS", "BATCH_SIZE", "LEARNING_RATE")


def causal_mask(kernel_size, in_channels, out_channels, mask_type, colours=1):
    """The 0/1 mask (kh, kw, in, out) that makes a convolution see only earlier pixels.

    Rows below the centre and, in the centre row, columns right of the centre
    are cut. At the centre itself, type "A" cuts the pixel (the first layer
    must not see the value it predicts) and type "B" keeps it (later layers
    read features that already exclude it). With ``colours=3`` the channels
    are split into R, G, B groups (PixelCNN paper, sec. 3.4): at the centre an
    output of group g sees input groups < g (A) or <= g (B), so G is
    predicted from R, and B from R and G. Introduced in notebook 03.
    """
    if mask_type not in ("A", "B"):
        raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}")
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"kernel_size must be odd so the kernel has a centre, got {kernel_size!r}")
    mask = np.ones((kh, kw, in_channels, out_channels), dtype="float32")
    mask[kh // 2 + 1:] = 0.0
    mask[kh // 2, kw // 2 + 1:] = 0.0
    # Channel c belongs to colour group c * colours // channels (contiguous thirds for RGB).
    group_in = np.arange(in_channels) * colours // in_channels
    group_out = np.arange(out_channels) * colours // out_channels
    allowed = (group_in[:, None] < group_out[None, :]) if mask_type == "A" else \
        (group_in[:, None] <= group_out[None, :])
    mask[kh // 2, kw // 2] = allowed.astype("float32")
    return mask


@keras.saving.register_keras_serializable(package="genlab")
class MaskedConv2D(layers.Conv2D):
    """A ``Conv2D`` whose kernel is multiplied by a causal mask (type A or B) on every call.

    The output at pixel (r, c) then depends only on pixels before it in raster
    order (and, for type A, not on (r, c) itself). Stacking one A layer and any
    number of B layers keeps that property for the whole network.

    Args:
        filters, kernel_size: as for ``keras.layers.Conv2D`` (odd kernel sizes).
        mask_type: "A" (first layer) or "B" (later layers).
        colours: 1, or 3 for R -> G -> B conditioning inside a pixel.
        **kwargs: passed to ``Conv2D``; ``padding`` is always "same".

    Example::

        layer = MaskedConv2D(32, 7, mask_type="A")
        features = layer(np.zeros((1, 28, 28, 1), "float32"))   # (1, 28, 28, 32)

    Reference: van den Oord et al., "Pixel Recurrent Neural Networks", ICML 2016.
    """

    def __init__(self, filters, kernel_size, mask_type="B", colours=1, **kwargs):
        kwargs["padding"] = "same"  # the mask assumes the kernel is centred on the output pixel
        super().__init__(filters, kernel_size, **kwargs)
        if mask_type not in ("A", "B"):
            raise ValueError(f"mask_type must be 'A' or 'B', got {mask_type!r}")
        self.mask_type = mask_type
        self.colours = colours

    def build(self, input_shape):
        super().build(input_shape)
        # A constant, not a weight: the mask is structure, never trained or saved.
        self.mask = causal_mask(self.kernel_size, int(input_shape[-1]), self.filters, self.mask_type, self.colours)

    def call(self, inputs):
        outputs = self.convolution_op(inputs, self.kernel * self.mask)
        if self.use_bias:
            outputs = ops.add(outputs, self.bias)
        return self.activation(outputs) if self.activation is not None else outputs

    def get_config(self):
        return {**super().get_config(), "mask_type": self.mask_type, "colours": self.colours}


def build_pixelcnn(image_shape=IMAGE_SHAPE, levels=LEVELS, filters=FILTERS, first_kernel=FIRST_KERNEL,
                   hidden_layers=HIDDEN_LAYERS, name="pixelcnn"):
    """PixelCNN: one 7x7 type-A layer, 3x3 type-B layers, 1x1 layers to ``levels`` logits per pixel.

    Input: images of levels scaled to [0, 1], (N, H, W, 1). Output: logits
    (N, H, W, levels), the softmax over the next pixel's value at every pixel,
    all computed in one parallel pass. Height may differ from ``image_shape``
    (the sampler feeds a window of rows).
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


@keras.saving.register_keras_serializable(package="genlab")
class RowLSTMCell(layers.Layer):
    """One step of the Row LSTM: a whole image row at once, from the row above's state.

    The gates of row r are ``input_to_state[r] + conv1d(h[r-1], kernel 3)``,
    so every pixel of a row updates in parallel while the rows go one after
    another (28 sequential steps for MNIST). Used with ``keras.layers.RNN``
    over rows; states are flattened (width * units) because Keras' RNN keeps
    vector states.

    Args:
        units: hidden units per pixel.
        width: pixels per row.
        **kwargs: passed to ``keras.layers.Layer``.

    Example::

        rnn = keras.layers.RNN(RowLSTMCell(32, 28), return_sequences=True)
        h = rnn(np.zeros((2, 28, 28 * 4 * 32), "float32"))   # (2, 28 rows, 28 * 32)

    Reference: van den Oord et al., "Pixel Recurrent Neural Networks", ICML 2016, sec. 3.1.
    """

    def __init__(self, units, width, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.width = width
        self.state_size = [width * units, width * units]
        self.output_size = width * units

    def build(self, input_shape):
        self.state_kernel = self.add_weight(shape=(3, self.units, 4 * self.units),
                                            initializer="glorot_uniform", name="state_kernel")

    def call(self, inputs, states):
        h = ops.reshape(states[0], (-1, self.width, self.units))
        c = ops.reshape(states[1], (-1, self.width, self.units))
        gates = ops.reshape(inputs, (-1, self.width, 4 * self.units)) + \
            ops.conv(h, self.state_kernel, padding="same")
        i, f, o, g = ops.split(gates, 4, axis=-1)
        c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
        h = ops.sigmoid(o) * ops.tanh(c)
        flat_h, flat_c = ops.reshape(h, (-1, self.width * self.units)), ops.reshape(c, (-1, self.width * self.units))
        return flat_h, [flat_h, flat_c]

    def get_config(self):
        return {**super().get_config(), "units": self.units, "width": self.width}


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
    """uint8 images (N, 28, 28) -> integer levels 0..levels-1 (N, 28, 28, 1)."""
    return (np.asarray(images, dtype="int32")[..., None] * levels // 256).astype("int32")


def to_input(levels_array, levels=LEVELS):
    """Integer levels -> the network's input, floats in [0, 1]."""
    return np.asarray(levels_array, dtype="float32") / (levels - 1)


def to_uint8(levels_array, levels=LEVELS):
    """Integer levels -> uint8 (N, 28, 28) grey values 0..255 (level k -> 255 k / (levels - 1))."""
    values = np.rint(np.asarray(levels_array, dtype="float32") * 255.0 / (levels - 1)).astype("uint8")
    return values[..., 0] if values.ndim == 4 else values


def bits_per_dim(model, images_levels, batch_size=250, levels=LEVELS):
    """Mean negative log-likelihood of ``images_levels`` (N, H, W, 1) in bits per pixel."""
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum")
    total = 0.0
    for start in range(0, len(images_levels), batch_size):
        batch = images_levels[start:start + batch_size]
        total += float(loss(batch, model(to_input(batch, levels), training=False)))
    return total / (images_levels.size * math.log(2.0))


def receptive_rows(model):
    """Rows above a pixel that a PixelCNN's output can depend on, plus one (the pixel's own row)."""
    return 1 + sum(layer.kernel_size[0] // 2 for layer in model.layers if isinstance(layer, MaskedConv2D))


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


def train(dataset="mnist", mode=None, seed=SEED, checkpoint_dir=None, iterations=None, progress=False):
    """Train the PixelCNN with notebook 03's settings for ``mode``; returns the model.

    Used by the registry (``genlab report --retrain``) and ``scripts/train_pretrained.py``.
    """
    from genlab import callbacks, config, data

    config.seed_everything(seed)
    (x_train, _), _ = data.load(dataset, mode=config.check_mode(mode))
    x = quantize(x_train)
    model = build_pixelcnn()
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    iterations = iterations or config.pick(**ITERATIONS, mode=mode)
    model.fit(_batches(x, seed), steps_per_epoch=min(iterations, STEPS_PER_EPOCH),
              epochs=math.ceil(iterations / min(iterations, STEPS_PER_EPOCH)), verbose=0,
              callbacks=callbacks.standard(checkpoint_dir, progress=progress))
    return model


def _batches(levels_array, seed):
    from genlab import data

    return data.to_dataset(to_input(levels_array), BATCH_SIZE, to=None, seed=seed, repeat=True,
                           labels=levels_array)


def compare(epochs=5, seed=SEED, n_held_out=1000):
    """PixelCNN vs PixelRNN on the same data and budget: seconds per epoch and held-out bits/dim.

    Both train ``epochs`` epochs of ``STEPS_PER_EPOCH`` batches with the same
    seed; the epochs alternate between the two models so that a change in the
    machine's load hits both. Seconds per epoch: the median over epochs after
    the first (which includes tracing). Returns ``{name: (seconds_per_epoch, bits_per_dim)}``.
    """
    import time

    from genlab import config, data

    (x_train, _), (x_test, _) = data.load_mnist()
    x, held_out = quantize(x_train), quantize(x_test)[:n_held_out]
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
