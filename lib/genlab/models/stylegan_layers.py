"""StyleGAN's three layers for notebook 10: AdaIN, per-pixel noise injection, the learned constant.

Why it exists: :mod:`genlab.models.stylegan` (the family module: builders, settings, training)
must stay short; these layers are its building blocks, split off so that module stays under
400 lines. ``genlab.models.stylegan`` re-exports them (``stylegan.AdaIN`` etc.).
"""

import keras
from keras import ops

from genlab import quiet  # noqa: F401  (imports TensorFlow without its start-up logs)


class AdaIN(keras.layers.Layer):
    """Adaptive instance normalization: ``scale * (x - mu(x)) / sigma(x) + bias``, per image and channel.

    mu, sigma over each feature map's height and width: the output's per-channel mean is
    ``bias`` and its standard deviation ``|scale|`` (Huang & Belongie, 2017).

    Args:
        epsilon: added to the variance before the square root (a constant map stays finite).

    Example::

        y = AdaIN()([x, scale, bias])   # x (B, H, W, C); scale, bias (B, C)
    """

    def __init__(self, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def call(self, inputs):
        x, scale, bias = inputs
        mean, variance = ops.moments(x, axes=(1, 2), keepdims=True)
        normalized = (x - mean) / ops.sqrt(variance + self.epsilon)
        return scale[:, None, None, :] * normalized + bias[:, None, None, :]

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


class NoiseInjection(keras.layers.Layer):
    """Adds one map of Gaussian noise per image, scaled by a learned factor per channel (starting at 0).

    The network learns how much stochastic detail (stroke texture, exact edges) each channel gets.

    Args:
        seed: seed of the layer's own random stream (for noise it draws).

    Example::

        y = NoiseInjection()(x, noise=fixed)  # or without noise=: fresh (B, H, W, 1) noise
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="zeros", name="scale")

    def call(self, x, noise=None):
        if noise is None:
            shape = ops.shape(x)
            noise = keras.random.normal((shape[0], shape[1], shape[2], 1), seed=self.seed_generator)
        return x + self.scale * ops.cast(noise, x.dtype)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class LearnedConstant(keras.layers.Layer):
    """The synthesis network's input: one learned (height, width, channels) tensor, tiled over the batch.

    Args:
        height, width, channels: the constant's shape (the paper: 4x4x512; here 7x7xC).

    Example::

        x = LearnedConstant(7, 7, 128)(w)   # (B, 7, 7, 128); w only gives the batch size
    """

    def __init__(self, height, width, channels, **kwargs):
        super().__init__(**kwargs)
        self.height, self.width, self.channels = height, width, channels

    def build(self, input_shape):
        self.constant = self.add_weight(shape=(1, self.height, self.width, self.channels),
                                        initializer="random_normal", name="constant")

    def call(self, batch_like):
        return ops.tile(self.constant, (ops.shape(batch_like)[0], 1, 1, 1))

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width, "channels": self.channels}
