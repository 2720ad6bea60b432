"""RealNVP (Dinh et al., 2017): affine coupling layers, alternating masks, exact log-likelihood.

Why it exists: notebook 13 (``notebooks/13_normalizing_flows.ipynb``) teaches
normalizing flows with these layers, written out in the notebook; the tests
(invertibility, log-determinant against a brute-force Jacobian), the registry,
the shipped weights (``realnvp_mnist``) and the closing comparison table build
the same networks from here. Every flow setting is defined here once; notebook
13's Hyperparameters cell reads them and ``tests/test_notebooks.py`` keeps it
equal to them.

The MNIST flow is deliberately reduced to fit a CPU budget: digits average-pooled
to 14x14 (196 dimensions), 256 levels, uniformly dequantized and mapped to logit
space, with couplings whose networks are small MLPs on the flattened image and
whose masks are alternating checkerboards. Its likelihood is therefore a
likelihood of 14x14 digits, comparable only with models of the same
representation (notebook 13 says which are).
"""

import math

import keras
import numpy as np
from keras import layers, ops

from genlab import quiet  # noqa: F401  (imports TensorFlow without its start-up logs)

NOTEBOOK = "13_normalizing_flows"
SEED = 42
# 2-D toy flow (two moons): trains in seconds, in every mode.
TOY_COUPLINGS = 6
TOY_HIDDEN = (64, 64)
TOY_STEPS = {"quick": 300, "full": 3000}
TOY_BATCH_SIZE = 256
# Reduced MNIST flow: 14x14 digits, 8 couplings with MLP networks (~0.74 M parameters, ~3 MB).
IMAGE_SIZE = 14
COUPLINGS = 8
HIDDEN_UNITS = (128, 128)
ALPHA = 0.05                 # logit transform of RealNVP: y = logit(ALPHA + (1 - 2 ALPHA) x)
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
ITERATIONS = {"quick": 30, "full": 6000}   # optimizer steps on MNIST; config.pick(**ITERATIONS)
# What ships (genlab.pretrained, scripts/train_pretrained.py): the MNIST flow and these settings.
SHIPPED_BUILDER = "build_mnist_flow"
MANIFEST_SETTINGS = ("IMAGE_SIZE", "COUPLINGS", "HIDDEN_UNITS", "ALPHA", "BATCH_SIZE", "LEARNING_RATE")


def checkerboard_masks(shape, count):
    """``count`` alternating 0/1 masks over a flattened grid of ``shape``: checkerboard, then its complement.

    A coupling layer leaves the positions where the mask is 1 unchanged and transforms the
    others as a function of them; alternating the mask lets every position be transformed.
    For 2-D points pass ``shape=(1, 2)``: the masks are then [1, 0] and [0, 1].
    """
    if count < 1:
        raise ValueError(f"count must be a positive number of masks, got {count!r}")
    rows, columns = np.indices(tuple(shape))
    board = ((rows + columns) % 2 == 0).astype("float32").reshape(-1)
    return [board if index % 2 == 0 else 1.0 - board for index in range(count)]


class AffineCoupling(layers.Layer):
    """RealNVP's affine coupling layer on flattened inputs: x -> (z, log|det dz/dx|).

    ``z = b * x + (1 - b) * (x * exp(s(b * x)) + t(b * x))`` with the binary mask ``b``.
    The Jacobian is triangular (masked parts depend only on themselves), so
    ``log|det| = sum((1 - b) * s)``; the inverse needs no inverse of ``s`` or ``t``:
    ``x = b * z + (1 - b) * (z - t(b * z)) * exp(-s(b * z))``.
    ``s = scale * tanh(raw)`` keeps the log-scale bounded early in training, and the last
    Dense layer starts at zero, so an untrained coupling is the identity.

    Args:
        mask: 1-D 0/1 sequence as long as the input; 1 marks the positions left unchanged.
        hidden_units: widths of the ReLU hidden layers of the network computing s and t.
        **kwargs: passed to ``keras.layers.Layer`` (e.g. ``name``).

    Example::

        coupling = AffineCoupling(mask=[1.0, 0.0], hidden_units=(16,))
        z, log_det = coupling(np.zeros((4, 2), "float32"))
        x = coupling.inverse(z)

    Reference: Dinh, Sohl-Dickstein and Bengio, "Density estimation using Real NVP", ICLR 2017.
    """

    def __init__(self, mask, hidden_units=(64, 64), **kwargs):
        super().__init__(**kwargs)
        self.mask = [float(value) for value in np.asarray(mask).reshape(-1)]
        if not set(self.mask) <= {0.0, 1.0}:
            raise ValueError("mask must hold only 0s and 1s")
        self.hidden_units = tuple(int(units) for units in hidden_units)
        dims = len(self.mask)
        self.hidden = [layers.Dense(units, activation="relu", name=f"hidden{index}")
                       for index, units in enumerate(self.hidden_units)]
        self.shift_and_log_scale = layers.Dense(2 * dims, kernel_initializer="zeros", name="shift_and_log_scale")

    def build(self, input_shape):
        dims = len(self.mask)
        if input_shape[-1] != dims:
            raise ValueError(f"mask has {dims} entries but the input has {input_shape[-1]} features")
        self.scale = self.add_weight(shape=(dims,), initializer="ones", name="scale")
        shape = (None, dims)
        for layer in self.hidden:
            layer.build(shape)
            shape = (None, layer.units)
        self.shift_and_log_scale.build(shape)

    def shift_log_scale(self, conditioner):
        """``(t, s)`` computed from the unchanged part, both zero where the mask is 1."""
        hidden = conditioner
        for layer in self.hidden:
            hidden = layer(hidden)
        shift, raw = ops.split(self.shift_and_log_scale(hidden), 2, axis=-1)
        free = 1.0 - ops.convert_to_tensor(self.mask)
        return shift * free, self.scale * ops.tanh(raw) * free

    def call(self, x):
        mask = ops.convert_to_tensor(self.mask)
        shift, log_scale = self.shift_log_scale(x * mask)
        z = x * mask + (1.0 - mask) * (x * ops.exp(log_scale) + shift)
        return z, ops.sum(log_scale, axis=-1)

    def inverse(self, z):
        mask = ops.convert_to_tensor(self.mask)
        shift, log_scale = self.shift_log_scale(z * mask)
        return z * mask + (1.0 - mask) * (z - shift) * ops.exp(-log_scale)

    def get_config(self):
        return {**super().get_config(), "mask": self.mask, "hidden_units": self.hidden_units}


def standard_normal_log_prob(z):
    """log N(z; 0, I), summed over the last axis (nats)."""
    return -0.5 * ops.sum(z * z, axis=-1) - 0.5 * z.shape[-1] * math.log(2.0 * math.pi)


class RealNVP(keras.Model):
    """A stack of affine couplings with a standard normal prior: exact log p(x) by change of variables.

    ``log p(x) = log N(f(x); 0, I) + sum_k log|det J_k(x)|``. ``fit(x)`` minimises the mean
    negative log-likelihood (nats per example); ``inverse(z)`` runs the stack backwards to sample.

    Args:
        masks: one 0/1 mask per coupling (see :func:`checkerboard_masks`).
        hidden_units: hidden widths of every coupling's network.
        **kwargs: passed to ``keras.Model`` (e.g. ``name``).

    Example::

        flow = RealNVP(checkerboard_masks((1, 2), 4), hidden_units=(32, 32))
        log_px = flow.log_prob(points)
        samples = flow.inverse(np.random.normal(size=(100, 2)).astype("float32"))
    """

    def __init__(self, masks, hidden_units=(64, 64), **kwargs):
        super().__init__(**kwargs)
        self.masks = [[float(value) for value in np.asarray(mask).reshape(-1)] for mask in masks]
        self.hidden_units = tuple(int(units) for units in hidden_units)
        self.couplings = [AffineCoupling(mask, self.hidden_units, name=f"coupling{index}")
                          for index, mask in enumerate(self.masks)]
        self.dims = len(self.masks[0])

    def call(self, x):
        log_det = ops.zeros(ops.shape(x)[:1])
        for coupling in self.couplings:
            x, layer_log_det = coupling(x)
            log_det = log_det + layer_log_det
        return x, log_det

    def inverse(self, z):
        for coupling in reversed(self.couplings):
            z = coupling.inverse(z)
        return z

    def log_prob(self, x):
        z, log_det = self(x)
        return standard_normal_log_prob(z) + log_det

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        z, log_det = y_pred
        return -ops.mean(standard_normal_log_prob(z) + log_det)

    def get_config(self):
        return {**super().get_config(), "masks": self.masks, "hidden_units": self.hidden_units}


def build_flow(grid_shape, couplings, hidden_units, name="realnvp"):
    """A built RealNVP over a flattened grid of ``grid_shape`` with ``couplings`` alternating masks."""
    flow = RealNVP(checkerboard_masks(grid_shape, couplings), hidden_units, name=name)
    flow(np.zeros((1, int(np.prod(grid_shape))), "float32"))   # build, so load_weights finds every weight
    return flow


def build_toy_flow():
    """The two-moons flow: points in 2-D, masks [1, 0] and [0, 1] alternating."""
    return build_flow((1, 2), TOY_COUPLINGS, TOY_HIDDEN, name="realnvp_toy")


def build_mnist_flow():
    """The reduced MNIST flow: IMAGE_SIZE x IMAGE_SIZE digits, checkerboard masks (what ships)."""
    return build_flow((IMAGE_SIZE, IMAGE_SIZE), COUPLINGS, HIDDEN_UNITS, name="realnvp_mnist")


def two_moons(n, noise=0.05, seed=0):
    """``n`` points of the two interleaving half circles, float32 (n, 2), roughly centred and scaled."""
    rng = np.random.default_rng(seed)
    upper = rng.random(n) < 0.5
    angle = rng.uniform(0.0, np.pi, n)
    points = np.where(upper[:, None],
                      np.stack([np.cos(angle), np.sin(angle)], axis=1),
                      np.stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)], axis=1))
    points = points + rng.normal(scale=noise, size=points.shape)
    return ((points - [0.5, 0.25]) * 2.0).astype("float32")


def downsample(images):
    """uint8 (N, 28, 28) digits -> uint8 (N, 14, 14): the mean of each 2x2 block, rounded."""
    images = np.asarray(images, dtype=np.float32)
    factor = images.shape[1] // IMAGE_SIZE
    pooled = images.reshape(len(images), IMAGE_SIZE, factor, IMAGE_SIZE, factor).mean(axis=(2, 4))
    return np.rint(pooled).astype(np.uint8)


def upsample(images, size=28):
    """uint8 (N, 14, 14) -> (N, 28, 28) by repeating pixels, for the 28x28 evaluation of genlab.evaluation."""
    factor = size // images.shape[1]
    return np.repeat(np.repeat(images, factor, axis=1), factor, axis=2)


def to_logit_space(images, noise):
    """Dequantize and map to logit space: ``(y, log|dy/dv|)`` per image.

    ``v = (x + u) / 256`` with ``u`` = ``noise`` in [0, 1) spreads each of the 256 levels over
    an interval (a density on the continuum bounds the discrete probability from below);
    ``y = logit(ALPHA + (1 - 2 ALPHA) v)`` removes the hard edges at 0 and 1.
    """
    flat = np.asarray(images, np.float64).reshape(len(images), -1)
    values = (flat + noise) / 256.0
    p = ALPHA + (1.0 - 2.0 * ALPHA) * values
    y = np.log(p) - np.log1p(-p)
    log_jacobian = np.sum(np.log(1.0 - 2.0 * ALPHA) - np.log(p) - np.log1p(-p), axis=1)
    return y.astype("float32"), log_jacobian


def from_logit_space(y):
    """Flow outputs in logit space -> uint8 levels 0..255 (the inverse of :func:`to_logit_space`)."""
    values = (1.0 / (1.0 + np.exp(-np.asarray(y, np.float64))) - ALPHA) / (1.0 - 2.0 * ALPHA)
    return np.clip(np.floor(values * 256.0), 0, 255).astype(np.uint8)


def bits_per_dim(flow, images, seed=0, batch_size=500):
    """Mean negative log-likelihood of uint8 images (N, 14, 14) in bits per dimension (256 levels).

    One dequantization draw per image: an unbiased estimate of an upper bound on the
    discrete model's bits/dim. ``-log p(x) = -log p_flow(y) - log|dy/dv| + D log 256``.
    """
    noise = np.random.default_rng(seed).random((len(images), IMAGE_SIZE * IMAGE_SIZE))
    y, log_jacobian = to_logit_space(images, noise)
    log_py = np.concatenate([np.asarray(flow.log_prob(y[start:start + batch_size]))
                             for start in range(0, len(y), batch_size)])
    dims = y.shape[1]
    nll = -(log_py + log_jacobian) + dims * math.log(256.0)
    return float(np.mean(nll) / (dims * math.log(2.0)))


def mnist_dataset(images, seed=SEED):
    """A repeating tf.data pipeline of dequantized 14x14 digits in logit space, fresh noise each pass."""
    import tensorflow as tf

    flat = downsample(images).reshape(len(images), -1).astype("float32")

    def dequantize(batch):
        values = (batch + tf.random.uniform(tf.shape(batch))) / 256.0
        p = ALPHA + (1.0 - 2.0 * ALPHA) * values
        return tf.math.log(p) - tf.math.log1p(-p)

    from genlab import data

    return data.to_dataset(flat, BATCH_SIZE, to=None, seed=seed, repeat=True).map(dequantize)


def train(dataset="mnist", mode=None, seed=SEED, checkpoint_dir=None, iterations=None, progress=False):
    """Train the reduced MNIST flow with notebook 13's settings for ``mode``; returns the flow.

    Used by the registry and ``scripts/train_pretrained.py`` (the shipped weights).
    """
    from genlab import callbacks, config, data

    config.seed_everything(seed)
    (x_train, _), _ = data.load(dataset, mode=config.check_mode(mode))
    iterations = iterations or config.pick(**ITERATIONS, mode=mode)
    steps = min(iterations, 500)
    flow = build_mnist_flow()
    flow.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE))
    flow.fit(mnist_dataset(x_train, seed), epochs=math.ceil(iterations / steps), steps_per_epoch=steps,
             verbose=0, callbacks=callbacks.standard(checkpoint_dir, progress=progress))
    # A compiled model's save_weights also writes Adam's two moments (3x the size): ship an
    # uncompiled copy, the model SHIPPED_BUILDER() builds.
    trained = build_mnist_flow()
    trained.set_weights(flow.get_weights())
    return trained


def sampler(flow, size=28):
    """``sample_fn(n, seed=0, temperature=1.0)`` -> uint8 (n, size, size) digits of the MNIST flow.

    z ~ N(0, temperature^2 I) runs backwards through the couplings in one pass; the 14x14
    digits are upsampled (pixels repeated) to 28x28 for genlab.evaluation.
    """

    def sample_fn(n, seed=0, temperature=1.0):
        z = np.random.default_rng(seed).normal(size=(n, flow.dims)).astype("float32") * temperature
        y = np.concatenate([np.asarray(flow.inverse(z[start:start + 500])) for start in range(0, n, 500)])
        digits = from_logit_space(y).reshape(n, IMAGE_SIZE, IMAGE_SIZE)
        return upsample(digits, size) if size != IMAGE_SIZE else digits

    sample_fn.flow = flow
    return sample_fn


def likelihood(flow, dataset="mnist", seed=SEED):
    """The held-out likelihood a manifest records (scripts/train_pretrained.py): bits/dim on test digits."""
    from genlab import data

    _, (x_test, _) = data.load(dataset, mode="full")
    return {"metric": "bits/dim", "value": round(bits_per_dim(flow, downsample(x_test), seed=seed), 4),
            "data": f"held-out {dataset} digits, {IMAGE_SIZE}x{IMAGE_SIZE}, 256 levels, uniform dequantization",
            "n": len(x_test), "exact": "upper bound on the discrete NLL (one dequantization draw per image)"}
