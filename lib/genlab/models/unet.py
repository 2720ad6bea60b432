"""The U-Net that predicts the noise in notebook 11's diffusion models, and its layers.

Why it exists: a diffusion model's network needs layers Keras does not have as
such: a sinusoidal timestep embedding, residual blocks that add that embedding
to every channel, and self-attention over the pixels of a feature map. They are
kept here, apart from the process they serve (:mod:`genlab.models.diffusion`,
which holds the settings and calls these builders with them), so either module
stays readable. Introduced in ``notebooks/11_diffusion.ipynb``.
"""

import keras
import numpy as np
from keras import layers, ops

from genlab import quiet  # noqa: F401  (imports TensorFlow without its start-up logs)


class SinusoidalEmbedding(layers.Layer):
    """Timestep t -> [sin(t w_k), cos(t w_k)], w_k = max_period^(-k / (dim/2)): the Transformer's positions.

    Each frequency tells timesteps apart at its own scale, so the network sees t
    as a smooth vector rather than one number it would have to decode.

    Args:
        dim: embedding width (even).
        max_period: the slowest wavelength.
        **kwargs: standard Layer arguments.

    Example:
        >>> SinusoidalEmbedding(64)(np.array([0, 10, 999])).shape
        TensorShape([3, 64])

    Reference:
        Vaswani et al., 2017, section 3.5; Ho et al., 2020, appendix B.
    """

    def __init__(self, dim, max_period=10000.0, **kwargs):
        super().__init__(**kwargs)
        if dim % 2:
            raise ValueError(f"dim must be even, got {dim!r}")
        self.dim, self.max_period = int(dim), float(max_period)

    def call(self, t):
        half = self.dim // 2
        frequencies = ops.exp(-np.log(self.max_period) * ops.arange(half, dtype="float32") / half)
        angles = ops.cast(ops.reshape(t, (-1, 1)), "float32") * frequencies[None, :]
        return ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "max_period": self.max_period}


class ResidualBlock(layers.Layer):
    """[x, embedding] -> x' : GroupNorm-swish-conv, + Dense(embedding), GroupNorm-swish-conv, + skip.

    The embedding (timestep, plus label) is added to every channel between the
    two convolutions, so each block knows how noisy its input is.

    Args:
        filters: output channels (a 1x1 convolution matches the skip when they change).
        groups: GroupNormalization groups (batch statistics would mix timesteps).
        **kwargs: standard Layer arguments.

    Example:
        >>> ResidualBlock(32)([np.zeros((2, 7, 7, 16)), np.zeros((2, 128))]).shape
        TensorShape([2, 7, 7, 32])
    """

    def __init__(self, filters, groups=8, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.groups = int(filters), int(groups)
        self.norm1 = layers.GroupNormalization(self.groups)
        self.conv1 = layers.Conv2D(self.filters, 3, padding="same")
        self.project = layers.Dense(self.filters)
        self.norm2 = layers.GroupNormalization(self.groups)
        self.conv2 = layers.Conv2D(self.filters, 3, padding="same")
        self.skip = None

    def build(self, input_shape):
        x_shape, e_shape = input_shape
        if x_shape[-1] != self.filters:
            self.skip = layers.Conv2D(self.filters, 1)
            self.skip.build(x_shape)
        self.norm1.build(x_shape)
        self.conv1.build(x_shape)
        out_shape = (*x_shape[:-1], self.filters)
        self.project.build(e_shape)
        self.norm2.build(out_shape)
        self.conv2.build(out_shape)

    def call(self, inputs):
        x, embedding = inputs
        h = self.conv1(ops.silu(self.norm1(x)))
        h = h + self.project(ops.silu(embedding))[:, None, None, :]
        h = self.conv2(ops.silu(self.norm2(h)))
        return h + (x if self.skip is None else self.skip(x))

    def compute_output_shape(self, input_shape):
        return (*input_shape[0][:-1], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "groups": self.groups}


class SelfAttention(layers.Layer):
    """Self-attention over the pixels of a (low-resolution) feature map, with a residual connection.

    Every position attends to every other one, so distant strokes can agree
    (a convolution sees only its neighbourhood). Used at 7x7: 49 tokens.

    Args:
        heads: attention heads (key size channels / heads).
        groups: GroupNormalization groups before the attention.
        **kwargs: standard Layer arguments.

    Example:
        >>> SelfAttention(4)(np.zeros((2, 7, 7, 64))).shape
        TensorShape([2, 7, 7, 64])
    """

    def __init__(self, heads=4, groups=8, **kwargs):
        super().__init__(**kwargs)
        self.heads, self.groups = int(heads), int(groups)
        self.norm = layers.GroupNormalization(self.groups)
        self.attention = None

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.norm.build(input_shape)
        self.attention = layers.MultiHeadAttention(self.heads, key_dim=channels // self.heads)
        tokens = (input_shape[0], int(input_shape[1]) * int(input_shape[2]), channels)
        self.attention.build(tokens, tokens)

    def call(self, x):
        shape = ops.shape(x)
        tokens = ops.reshape(self.norm(x), (shape[0], shape[1] * shape[2], shape[3]))
        return x + ops.reshape(self.attention(tokens, tokens), shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "heads": self.heads, "groups": self.groups}


def build_unet(image_shape, filters, embed_dim, heads, num_classes, blocks=1, name="unet"):
    """eps_theta([x_t, t, label]) -> predicted noise, same shape as x_t.

    28x28 -> ResBlock(f0) -> down -> 14x14 ResBlock(f1) -> down -> 7x7
    ResBlock(f2), SelfAttention, ResBlock(f2) -> up, concat skip, ResBlock(f1) ->
    up, concat skip, ResBlock(f0) -> 3x3 conv to the image's channels. The label
    embedding (num_classes + 1 rows: the last is the null class) joins the time embedding.
    ``blocks`` > 1 adds residual blocks at each resolution of both paths (Ho et al. use 2;
    the extra ones are named ``down1_2``, ``up1_2``, ...), so ``blocks=1`` is the original network.
    """
    height, width, channels = (int(size) for size in image_shape)
    if height % 4 or width % 4:
        raise ValueError(f"image_shape {tuple(image_shape)}: height and width must be divisible by 4")
    x_in = keras.Input(shape=tuple(image_shape), name="x_t")
    t_in = keras.Input(shape=(), dtype="int32", name="t")
    y_in = keras.Input(shape=(), dtype="int32", name="label")
    e = SinusoidalEmbedding(embed_dim // 2, name="time_sinusoid")(t_in)
    e = layers.Dense(embed_dim, activation="silu", name="time_mlp1")(e)
    e = layers.Dense(embed_dim, name="time_mlp2")(e)
    e = layers.Add(name="time_plus_label")([e, layers.Embedding(num_classes + 1, embed_dim, name="label_embedding")(y_in)])
    x = layers.Conv2D(filters[0], 3, padding="same", name="conv_in")(x_in)

    def stack(x, level, path):   # ``blocks`` residual blocks at one resolution
        for index in range(int(blocks)):
            x = ResidualBlock(filters[level - 1], name=f"{path}{level}" + (f"_{index + 1}" if index else ""))([x, e])
        return x

    skip1 = x = stack(x, 1, "down")
    x = layers.Conv2D(filters[1], 3, strides=2, padding="same", name="downsample1")(x)
    skip2 = x = stack(x, 2, "down")
    x = layers.Conv2D(filters[2], 3, strides=2, padding="same", name="downsample2")(x)
    x = ResidualBlock(filters[2], name="mid1")([x, e])
    x = SelfAttention(heads, name="mid_attention")(x)
    x = ResidualBlock(filters[2], name="mid2")([x, e])
    x = layers.UpSampling2D(name="upsample2")(x)
    x = stack(layers.Concatenate(name="skip2")([x, skip2]), 2, "up")
    x = layers.UpSampling2D(name="upsample1")(x)
    x = stack(layers.Concatenate(name="skip1")([x, skip1]), 1, "up")
    x = layers.Activation("silu", name="out_silu")(layers.GroupNormalization(8, name="out_norm")(x))
    eps = layers.Conv2D(channels, 3, padding="same", dtype="float32", name="eps")(x)
    return keras.Model([x_in, t_in, y_in], eps, name=name)


def build_latent_denoiser(latent_dim, units, embed_dim, num_classes, name="latent_denoiser"):
    """eps_theta([z_t, t, label]) for vectors z (latent diffusion): an MLP of residual Dense blocks.

    The VAE's latent code of a digit is a 16-vector, so the "U-Net" of latent
    diffusion here is a small MLP with the same time and label embedding.
    """
    z_in = keras.Input(shape=(latent_dim,), name="z_t")
    t_in = keras.Input(shape=(), dtype="int32", name="t")
    y_in = keras.Input(shape=(), dtype="int32", name="label")
    e = SinusoidalEmbedding(embed_dim // 2, name="time_sinusoid")(t_in)
    e = layers.Dense(embed_dim, activation="silu", name="time_mlp1")(e)
    e = layers.Add(name="time_plus_label")([layers.Dense(embed_dim, name="time_mlp2")(e),
                                             layers.Embedding(num_classes + 1, embed_dim, name="label_embedding")(y_in)])
    h = layers.Dense(units, name="z_in")(z_in)
    for index in range(3):
        g = layers.Add(name=f"block{index}_add")([h, layers.Dense(units, name=f"block{index}_embedding")(e)])
        g = layers.Dense(units, activation="silu", name=f"block{index}_dense")(layers.LayerNormalization(name=f"block{index}_norm")(g))
        h = layers.Add(name=f"block{index}_residual")([h, g])
    eps = layers.Dense(latent_dim, dtype="float32", name="eps")(layers.Activation("silu", name="out_silu")(h))
    return keras.Model([z_in, t_in, y_in], eps, name=name)
