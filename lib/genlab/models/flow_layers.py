"""The multi-scale image flow's invertible layers (RealNVP, Dinh et al. 2017; ActNorm from Glow) and its bits/dim.

Why it exists: notebook 13 writes these layers out where the student reads them
(coupling, squeeze, factor-out, ActNorm); :mod:`genlab.models.flows` assembles
the same layers into the shipped 28x28 MNIST flow, and the tests check each
one's inverse and log-determinant. The bits/dim bookkeeping (dequantization,
the 256^D of the binning) and the independent-pixel baseline it is compared
with live here too, beside the logit transform whose Jacobian they use. Every layer maps ``x -> (y, log|det dy/dx|)``
per example and has ``inverse(y)``.

TensorFlow Probability's bijectors are not used: they are ``tf.Module`` objects
whose variables Keras 3 models do not track, save or restore (its Keras
integration targets Keras 2), and the lesson is the layers themselves.
"""

import keras
import numpy as np
from keras import layers, ops

from genlab import quiet  # noqa: F401  (imports TensorFlow without its start-up logs)


def checkerboard_mask(height, width, channels, parity=0):
    """float32 (height, width, channels): 1 where (row + column + parity) is even, on every channel."""
    rows, columns = np.indices((height, width))
    board = ((rows + columns + parity) % 2 == 0).astype("float32")
    return np.repeat(board[:, :, None], channels, axis=2)


def channel_mask(height, width, channels, parity=0):
    """float32 (height, width, channels): 1 on the first half of the channels (parity 0) or the second."""
    if channels % 2:
        raise ValueError(f"a channel mask needs an even number of channels, got {channels}")
    half = np.concatenate([np.ones(channels // 2), np.zeros(channels // 2)]).astype("float32")
    half = half if parity == 0 else 1.0 - half
    return np.broadcast_to(half, (height, width, channels)).copy()


def _per_example_sum(values):
    return ops.sum(ops.reshape(values, (ops.shape(values)[0], -1)), axis=-1)


class ImageCoupling(layers.Layer):
    """Affine coupling on images with a fixed binary mask ``b`` (checkerboard or channel).

    ``y = b * x + (1 - b) * (x * exp(s) + t)`` with ``(s, t) = net(b * x)``, so
    ``log|det| = sum((1 - b) * s)`` and ``x = b * y + (1 - b) * (y - t) * exp(-s)``.
    ``net`` is a small residual convolutional network; ``s = scale * tanh(raw)``
    (a learned scale per channel) keeps early log-scales bounded, and the last
    convolution starts at zero, so an untrained coupling is the identity.

    Args:
        mask: 0/1 array (height, width, channels); 1 marks what passes unchanged.
        filters: channels of the network's hidden convolutions.
        blocks: residual blocks (two 3x3 convolutions each) in the network.
        **kwargs: passed to ``keras.layers.Layer``.

    Reference: Dinh, Sohl-Dickstein and Bengio, "Density estimation using Real NVP", ICLR 2017.
    """

    def __init__(self, mask, filters=32, blocks=1, **kwargs):
        super().__init__(**kwargs)
        self.mask = np.asarray(mask, "float32")
        if self.mask.ndim != 3 or not set(np.unique(self.mask)) <= {0.0, 1.0}:
            raise ValueError("mask must be a 0/1 array of shape (height, width, channels)")
        self.filters, self.blocks = int(filters), int(blocks)
        channels = self.mask.shape[-1]
        self.conv_in = layers.Conv2D(self.filters, 3, padding="same", name="conv_in")
        self.residual = [[layers.Conv2D(self.filters, 3, padding="same", name=f"block{index}_{part}")
                          for part in range(2)] for index in range(self.blocks)]
        self.conv_out = layers.Conv2D(2 * channels, 3, padding="same", kernel_initializer="zeros", name="conv_out")

    def build(self, input_shape):
        if tuple(input_shape[1:]) != self.mask.shape:
            raise ValueError(f"mask has shape {self.mask.shape} but the input has {tuple(input_shape[1:])}")
        channels = self.mask.shape[-1]
        self.scale = self.add_weight(shape=(channels,), initializer="ones", name="scale")
        shape = (None, *self.mask.shape[:2], channels + 1)
        self.conv_in.build(shape)
        shape = (None, *self.mask.shape[:2], self.filters)
        for first, second in self.residual:
            first.build(shape)
            second.build(shape)
        self.conv_out.build(shape)

    def shift_log_scale(self, kept):
        """``(t, s)`` from the unchanged part ``b * x``, both zero where the mask is 1."""
        mask = ops.convert_to_tensor(self.mask)
        # The mask as an extra input channel tells the network which zeros are masked positions.
        hidden = ops.relu(self.conv_in(ops.concatenate([kept, ops.zeros_like(kept[..., :1]) + mask[..., :1]], -1)))
        for first, second in self.residual:
            hidden = hidden + second(ops.relu(first(hidden)))
            hidden = ops.relu(hidden)
        shift, raw = ops.split(self.conv_out(hidden), 2, axis=-1)
        return shift * (1.0 - mask), self.scale * ops.tanh(raw) * (1.0 - mask)

    def call(self, x):
        mask = ops.convert_to_tensor(self.mask)
        shift, log_scale = self.shift_log_scale(x * mask)
        y = x * mask + (1.0 - mask) * (x * ops.exp(log_scale) + shift)
        return y, _per_example_sum(log_scale)

    def inverse(self, y):
        mask = ops.convert_to_tensor(self.mask)
        shift, log_scale = self.shift_log_scale(y * mask)
        return y * mask + (1.0 - mask) * (y - shift) * ops.exp(-log_scale)

    def get_config(self):
        return {**super().get_config(), "mask": self.mask.tolist(), "filters": self.filters, "blocks": self.blocks}


class ActNorm(layers.Layer):
    """Per-channel affine map ``y = (x + bias) * exp(log_scale)`` (Glow's activation normalization).

    Starts as the identity; :meth:`initialize` sets it from a batch so that its
    output has zero mean and unit variance per channel (data-dependent
    initialization). ``log|det| = height * width * sum(log_scale)``.

    Reference: Kingma and Dhariwal, "Glow: Generative flow with invertible 1x1 convolutions", NeurIPS 2018.
    """

    def build(self, input_shape):
        channels = input_shape[-1]
        self.bias = self.add_weight(shape=(channels,), initializer="zeros", name="bias")
        self.log_scale = self.add_weight(shape=(channels,), initializer="zeros", name="log_scale")

    def initialize(self, x):
        """Data-dependent initialization from a batch ``x`` (eager)."""
        x = np.asarray(x, np.float64).reshape(-1, np.shape(x)[-1])
        self.bias.assign((-x.mean(axis=0)).astype("float32"))
        self.log_scale.assign((-np.log(x.std(axis=0) + 1e-6)).astype("float32"))

    def call(self, x):
        pixels = ops.cast(ops.shape(x)[1] * ops.shape(x)[2], x.dtype)
        y = (x + self.bias) * ops.exp(self.log_scale)
        return y, ops.zeros(ops.shape(x)[:1]) + pixels * ops.sum(self.log_scale)

    def inverse(self, y):
        return y * ops.exp(-self.log_scale) - self.bias


class Squeeze(layers.Layer):
    """(height, width, channels) -> (height/2, width/2, 4 channels): each 2x2 block becomes 4 channels.

    A permutation of the values, so ``log|det| = 0``; it lets the next couplings
    mix neighbouring pixels through their channel masks.
    """

    def call(self, x):
        height, width, channels = x.shape[1:]
        y = ops.reshape(x, (-1, height // 2, 2, width // 2, 2, channels))
        y = ops.transpose(y, (0, 1, 3, 5, 2, 4))
        return ops.reshape(y, (-1, height // 2, width // 2, 4 * channels)), ops.zeros(ops.shape(x)[:1])

    def inverse(self, y):
        height, width, channels = y.shape[1:]
        x = ops.reshape(y, (-1, height, width, channels // 4, 2, 2))
        x = ops.transpose(x, (0, 1, 4, 2, 5, 3))
        return ops.reshape(x, (-1, 2 * height, 2 * width, channels // 4))


class FactorOut(layers.Layer):
    """Multi-scale factor-out: half the channels leave the flow as latent variables (identity map).

    ``call(x)`` returns ``(kept, out)``; the flow sends ``out`` straight to the
    prior and transforms only ``kept`` further. ``inverse(kept, out)`` puts them back.
    """

    def call(self, x):
        half = x.shape[-1] // 2
        return x[..., half:], x[..., :half]

    def inverse(self, kept, out):
        return ops.concatenate([out, kept], axis=-1)


def logit_transform(x, alpha):
    """``(y, log|dy/dx|)`` for ``y = logit(alpha + (1 - 2 alpha) x)``, x in [0, 1], summed per example."""
    p = alpha + (1.0 - 2.0 * alpha) * x
    y = ops.log(p) - ops.log1p(-p)
    log_jacobian = _per_example_sum(np.log(1.0 - 2.0 * alpha) - ops.log(p) - ops.log1p(-p))
    return y, log_jacobian


def inverse_logit_transform(y, alpha):
    """x in [0, 1] from logit space (the inverse of :func:`logit_transform`)."""
    return (ops.sigmoid(y) - alpha) / (1.0 - 2.0 * alpha)


def standard_normal_log_prob(z):
    """log N(z; 0, I) per example (nats), summed over every axis but the first."""
    return _per_example_sum(-0.5 * z * z - 0.5 * np.log(2.0 * np.pi))


class MultiScaleFlow(keras.Model):
    """Multi-scale RealNVP on dequantized images in [0, 1]: ``log p(x)`` exact, ``inverse`` samples.

    ``plan`` lists the steps in order: invertible layers (``ImageCoupling``,
    ``ActNorm``, ``Squeeze``) and ``FactorOut``. ``call(x)`` returns
    ``(z, log_det)``: ``z`` (batch, D) all latent variables (factored-out first),
    ``log_det`` the logit transform's and every layer's log-determinant, so
    ``log p(x) = log N(z; 0, I) + log_det`` is the density of x in [0, 1]^D.
    ``fit`` minimises bits/dim of the 8-bit data, ``(-log p(x) + D log 256) / (D ln 2)``.
    """

    def __init__(self, image_shape, plan, alpha=0.05, **kwargs):
        super().__init__(**kwargs)
        self.image_shape, self.alpha, self.plan = tuple(image_shape), float(alpha), list(plan)
        self.dims = int(np.prod(self.image_shape))

    def forward(self, x, initialize=False):
        """``(z, log_det)``; with ``initialize`` (eager, one batch) ActNorm layers are set from the data first."""
        y, log_det = logit_transform(x, self.alpha)
        latents = []
        for step in self.plan:
            if isinstance(step, FactorOut):
                y, out = step(y)
                latents.append(ops.reshape(out, (ops.shape(out)[0], -1)))
                continue
            if initialize and isinstance(step, ActNorm):
                step(y)
                step.initialize(y)
            y, step_log_det = step(y)
            log_det = log_det + step_log_det
        latents.append(ops.reshape(y, (ops.shape(y)[0], -1)))
        return ops.concatenate(latents, axis=-1), log_det

    def call(self, x):
        return self.forward(x)

    def inverse(self, z):
        """Images in [0, 1] (batch, *image_shape) from latents ``z`` (batch, D)."""
        shapes, shape = [], self.image_shape
        for step in self.plan:   # the shape of every factored-out piece, in order
            if isinstance(step, Squeeze):
                shape = (shape[0] // 2, shape[1] // 2, shape[2] * 4)
            elif isinstance(step, FactorOut):
                shapes.append((*shape[:2], shape[2] // 2))
                shape = (*shape[:2], shape[2] - shape[2] // 2)
        sizes = [int(np.prod(piece)) for piece in shapes]
        y = ops.reshape(z[:, sum(sizes):], (-1, *shape))
        offsets = np.cumsum([0] + sizes)
        pieces = [ops.reshape(z[:, offsets[i]:offsets[i + 1]], (-1, *shapes[i])) for i in range(len(shapes))]
        for step in reversed(self.plan):
            y = step.inverse(y, pieces.pop()) if isinstance(step, FactorOut) else step.inverse(y)
        return inverse_logit_transform(y, self.alpha)

    def log_prob(self, x):
        """log p(x) in nats per example, for x in [0, 1] (logit transform and flow included)."""
        z, log_det = self(x)
        return standard_normal_log_prob(z) + log_det

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        z, log_det = y_pred
        log_px = standard_normal_log_prob(z) + log_det
        return ops.mean(-log_px + self.dims * np.log(256.0)) / (self.dims * np.log(2.0))

    def get_config(self):
        return {**super().get_config(), "image_shape": self.image_shape, "alpha": self.alpha}


def dequantize(images, seed=0):
    """uint8 images (N, H, W) -> float32 (N, H, W, 1) in [0, 1): ``x = (k + u) / 256``, u ~ U[0, 1) (seeded)."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(f"dequantize takes uint8 images (levels 0..255), got {images.dtype}")
    noise = np.random.default_rng(seed).random(images.shape)
    return ((images.astype(np.float64) + noise) / 256.0).astype("float32")[..., None]


def quantize(x):
    """Images in [0, 1] (N, H, W[, 1]) -> uint8 levels ``floor(256 x)`` (the inverse of :func:`dequantize`)."""
    x = np.asarray(x, np.float64)
    x = x[..., 0] if x.ndim == 4 else x
    return np.clip(np.floor(x * 256.0), 0, 255).astype(np.uint8)


def discrete_bits_per_dim(log_density, dims):
    """Bits/dim of 8-bit data from ``log p(x)`` (nats) of the dequantized x in [0, 1]^dims.

    Each level k is the bin [k/256, (k+1)/256): its probability is at least
    ``exp(E_u log p(x)) / 256^dims`` (Jensen), so ``-log P(k) <= -log p(x) + dims log 256``;
    divided by ``dims ln 2`` for bits per dimension.
    """
    return (-np.asarray(log_density, np.float64) + dims * np.log(256.0)) / (dims * np.log(2.0))


def bits_per_dim(flow, images, seed=0, batch_size=500):
    """Mean bits/dim of uint8 images (N, H, W) under ``flow``: one dequantization draw per image.

    ``flow.log_prob`` includes the logit transform's Jacobian; :func:`discrete_bits_per_dim`
    adds the 256^D of the binning. The mean is an unbiased estimate of an upper bound on the
    discrete model's bits/dim.
    """
    x = dequantize(images, seed)
    log_px = np.concatenate([np.asarray(flow.log_prob(x[start:start + batch_size]))
                             for start in range(0, len(x), batch_size)])
    return float(np.mean(discrete_bits_per_dim(log_px, int(np.prod(x.shape[1:])))))


def independent_pixel_bits_per_dim(train_images, test_images):
    """The baseline: a 256-level histogram per pixel fitted on ``train_images`` (add-one smoothing), in bits/dim.

    Exact for this discrete model (no dequantization): the mean over test pixels of -log2 P(level).
    """
    train = np.asarray(train_images, np.uint8).reshape(len(train_images), -1)
    test = np.asarray(test_images, np.uint8).reshape(len(test_images), -1)
    counts = np.stack([np.bincount(column, minlength=256) for column in train.T]).astype(np.float64)
    probabilities = (counts + 1.0) / (counts.sum(axis=1, keepdims=True) + 256.0)
    return float(-np.mean(np.log2(probabilities[np.arange(test.shape[1]), test])))
