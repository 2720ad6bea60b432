"""RealNVP (Dinh et al., 2017): the 2-D toy flow and the multi-scale 28x28 MNIST flow, exact log-likelihood.

Why it exists: notebook 13 (``notebooks/13_normalizing_flows.ipynb``) teaches
normalizing flows with these layers, written out in the notebook; the tests
(invertibility, log-determinant against a brute-force Jacobian, the bits/dim
bookkeeping against a density known in closed form), the registry, the shipped
weights (``realnvp_mnist``) build the same networks from here. Every flow
setting is defined here once; notebook 13's Hyperparameters cell reads them and
``tests/test_notebooks.py`` keeps it equal to them.

The MNIST flow works on the full 28x28 digits, 256 levels, uniformly
dequantized (x = (k + u) / 256) and mapped to logit space: multi-scale with
checkerboard couplings, squeeze, channel couplings and factor-out of half the
channels, ActNorm before every coupling (layers in :mod:`genlab.models.flow_layers`).
Its bits/dim is that of the continuous density on dequantized digits: exact for
that density, an upper bound (in expectation over the noise) for the 8-bit digits.
"""

import math

import keras
import numpy as np
from keras import layers, ops

from genlab import quiet  # noqa: F401  (imports TensorFlow without its start-up logs)
from genlab.models import flow_layers

NOTEBOOK = "13_normalizing_flows"
SEED = 42
# 2-D toy flow (two moons): trains in seconds, in every mode.
TOY_COUPLINGS = 6
TOY_HIDDEN = (64, 64)
TOY_STEPS = {"quick": 300, "full": 3000}
TOY_BATCH_SIZE = 256
# MNIST flow, 28x28x1: per scale, CHECKERBOARD couplings, squeeze, CHANNEL couplings, factor-out of
# half the channels (twice: 28x28x1 -> 14x14x4 -> 14x14x2 -> 7x7x8 -> 7x7x4), then FINAL checkerboard
# couplings at 7x7x4; each coupling's network has FILTERS[scale] channels and BLOCKS residual blocks.
IMAGE_SHAPE = (28, 28, 1)
CHECKERBOARD_COUPLINGS, CHANNEL_COUPLINGS, FINAL_COUPLINGS = 3, 3, 4
FILTERS = (32, 64, 64)       # at 28x28, 14x14 and 7x7
BLOCKS = 1
ALPHA = 0.05                 # logit transform of RealNVP: y = logit(ALPHA + (1 - 2 ALPHA) x)
BATCH_SIZE = 64
LEARNING_RATE = 1e-3         # Adam, after WARMUP_STEPS of linear warm-up, then cosine decay to 0
WARMUP_STEPS = 200
CLIP_NORM = 50.0             # global gradient norm (the loss is in bits/dim)
ITERATIONS = {"quick": 10, "full": 7000}   # optimizer steps on MNIST; config.pick(**ITERATIONS)
CURVE_EVERY, CURVE_N = 400, 1000           # test bits/dim on the first CURVE_N test digits, every CURVE_EVERY steps
STEPS_PER_CHECKPOINT = 200
# Published test bits/dim on MNIST (uniformly dequantized 8-bit digits), as tabulated by Grathwohl et al.
# (2019, FFJORD, table 2); trained far longer than this budget allows, on GPUs.
ANCHORS = {"MAF (Papamakarios et al. 2017)": 1.89, "Real NVP (Dinh et al. 2017)": 1.06,
           "Glow (Kingma and Dhariwal 2018)": 1.05, "FFJORD (Grathwohl et al. 2019)": 0.99}
# What ships (genlab.pretrained, scripts/train_pretrained.py): the MNIST flow and these settings.
SHIPPED_BUILDER = "build_mnist_flow"
MANIFEST_SETTINGS = ("IMAGE_SHAPE", "CHECKERBOARD_COUPLINGS", "CHANNEL_COUPLINGS", "FINAL_COUPLINGS", "FILTERS",
                     "BLOCKS", "ALPHA", "BATCH_SIZE", "LEARNING_RATE", "WARMUP_STEPS", "CLIP_NORM")


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




def build_image_flow(image_shape=IMAGE_SHAPE, filters=FILTERS, blocks=BLOCKS, checkerboard=CHECKERBOARD_COUPLINGS,
                     channel=CHANNEL_COUPLINGS, final=FINAL_COUPLINGS, alpha=ALPHA, name="realnvp"):
    """A built multi-scale RealNVP on images of ``image_shape`` (sides divisible by 4), ActNorm before each coupling.

    Two scales of [checkerboard couplings, squeeze, channel couplings, factor-out], then
    ``final`` checkerboard couplings; masks alternate within each group.
    """
    height, width, channels = image_shape
    if height % 4 or width % 4:
        raise ValueError(f"the flow squeezes twice: image sides must be divisible by 4, got {image_shape}")
    plan = []

    def couplings(count, make_mask, width_index):
        for parity in range(count):
            index = len(plan) // 2
            plan.append(flow_layers.ActNorm(name=f"actnorm{index}"))
            plan.append(flow_layers.ImageCoupling(make_mask(height, width, channels, parity % 2),
                                                  filters[width_index], blocks, name=f"coupling{index}"))

    for scale in range(2):
        couplings(checkerboard, flow_layers.checkerboard_mask, scale)
        plan.append(flow_layers.Squeeze(name=f"squeeze{scale}"))
        height, width, channels = height // 2, width // 2, channels * 4
        couplings(channel, flow_layers.channel_mask, scale + 1)
        plan.append(flow_layers.FactorOut(name=f"factor_out{scale}"))
        channels //= 2
    couplings(final, flow_layers.checkerboard_mask, 2)
    flow = flow_layers.MultiScaleFlow(image_shape, plan, alpha, name=name)
    flow(np.full((1, *image_shape), 0.5, "float32"))   # build, so load_weights finds every weight
    return flow


def build_mnist_flow():
    """The 28x28 MNIST flow with this module's settings (what ships)."""
    return build_image_flow(name="realnvp_mnist")


def mnist_dataset(images, seed=SEED):
    """A repeating tf.data pipeline of dequantized digits (N, 28, 28, 1) in [0, 1), fresh noise each pass."""
    import tensorflow as tf

    from genlab import data

    levels = np.asarray(images, np.uint8)[..., None].astype("float32")
    return data.to_dataset(levels, BATCH_SIZE, to=None, seed=seed, repeat=True).map(
        lambda batch: (batch + tf.random.uniform(tf.shape(batch))) / 256.0)


class BitsPerDimCurve(keras.callbacks.Callback):
    """Test bits/dim every ``every`` optimizer steps, in ``path`` (``{"points": [[step, bits/dim], ...]}``).

    Continues a resumed run's file; ``scripts/train_pretrained.py`` copies it into the manifest.
    """

    def __init__(self, images, every, path, seed=SEED):
        super().__init__()
        import json
        from pathlib import Path

        self.images, self.every, self.path, self.seed = images, int(every), Path(path), seed
        self.points = json.loads(self.path.read_text(encoding="utf-8"))["points"] if self.path.is_file() else []

    def on_train_batch_end(self, batch, logs=None):
        import json
        import os

        step = int(self.model.optimizer.iterations.numpy())
        if step % self.every or (self.points and self.points[-1][0] >= step):
            return
        self.points.append([step, round(flow_layers.bits_per_dim(self.model, self.images, seed=self.seed), 4)])
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"metric": "bits/dim", "n": len(self.images), "seed": self.seed,
                                         "points": self.points}) + "\n", encoding="utf-8")
        os.replace(temporary, self.path)


def compile_flow(flow, iterations):
    """Adam with linear warm-up to LEARNING_RATE, cosine decay to 0 at ``iterations``, global-norm clipping."""
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, max(iterations - WARMUP_STEPS, 1), warmup_target=LEARNING_RATE, warmup_steps=min(WARMUP_STEPS, iterations))
    # jit_compile=False: on two CPU cores XLA ran this flow's steps about 25 % slower (0.70 vs 0.53
    # CPU-seconds per step, measured 2026-12-06) and took longer to compile.
    flow.compile(optimizer=keras.optimizers.Adam(schedule, global_clipnorm=CLIP_NORM), jit_compile=False)
    return flow


def train(dataset="mnist", mode=None, seed=SEED, checkpoint_dir=None, iterations=None, progress=False):
    """Train the MNIST flow with notebook 13's settings for ``mode``; returns the flow (uncompiled).

    ActNorm is initialized from 512 training digits; with ``checkpoint_dir`` the run
    resumes from its last checkpoint and records its learning curve there (``curve.json``).
    Used by the registry and ``scripts/train_pretrained.py`` (the shipped weights).
    """
    from pathlib import Path

    from genlab import callbacks, config, data

    config.seed_everything(seed)
    (x_train, _), (x_test, _) = data.load(dataset, mode=config.check_mode(mode))
    iterations = iterations or config.pick(**ITERATIONS, mode=mode)
    steps = min(iterations, STEPS_PER_CHECKPOINT)
    flow = build_mnist_flow()
    flow.forward(flow_layers.dequantize(x_train[np.random.default_rng(seed).permutation(len(x_train))[:512]], seed),
                 initialize=True)
    compile_flow(flow, iterations)
    hooks = callbacks.standard(checkpoint_dir, progress=progress)
    if checkpoint_dir is not None:
        hooks.append(BitsPerDimCurve(x_test[:CURVE_N], CURVE_EVERY, Path(checkpoint_dir) / "curve.json", seed))
    flow.fit(mnist_dataset(x_train, seed), epochs=math.ceil(iterations / steps), steps_per_epoch=steps,
             verbose=0, callbacks=hooks)
    # A compiled model's save_weights also writes Adam's two moments (3x the size): ship an
    # uncompiled copy, the model SHIPPED_BUILDER() builds.
    trained = build_mnist_flow()
    trained.set_weights(flow.get_weights())
    return trained


def sampler(flow):
    """``sample_fn(n, seed=0, temperature=1.0)`` -> uint8 (n, 28, 28) digits of the MNIST flow.

    z ~ N(0, temperature^2 I) runs backwards through the flow in one pass.
    """

    def sample_fn(n, seed=0, temperature=1.0):
        z = np.random.default_rng(seed).normal(size=(n, flow.dims)).astype("float32") * temperature
        x = np.concatenate([np.asarray(flow.inverse(z[start:start + 500])) for start in range(0, n, 500)])
        return flow_layers.quantize(x)

    sample_fn.flow = flow
    return sample_fn


def likelihood(flow, dataset="mnist", seed=SEED):
    """The held-out likelihood a manifest records: test bits/dim of the flow and of the independent-pixel baseline."""
    from genlab import data

    (x_train, _), (x_test, _) = data.load(dataset, mode="full")
    return {"metric": "bits/dim", "value": round(flow_layers.bits_per_dim(flow, x_test, seed=seed), 4),
            "data": f"held-out {dataset} digits, 28x28, 256 levels, uniform dequantization (one draw per image)",
            "n": len(x_test), "exact": "upper bound on the discrete NLL, in expectation over the dequantization noise",
            "anchors_bits_per_dim": ANCHORS,
            "baseline": {"name": "independent pixels (256-level histogram per pixel, add-one smoothing, fitted on "
                                 f"the {len(x_train):,} training digits)",
                         "value": round(flow_layers.independent_pixel_bits_per_dim(x_train, x_test), 4), "exact": "exact"}}
