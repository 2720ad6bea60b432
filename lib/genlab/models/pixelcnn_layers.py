"""The layers of notebook 03's autoregressive models: masked convolutions, the gated block, the Row LSTM.

Kept apart from ``genlab.models.pixelcnn`` (which imports them, so
``pixelcnn.MaskedConv2D`` still works) so that each module stays small:
these are the building blocks, that module the models, training and
evaluation. Each layer is registered for Keras serialization as
``genlab>ClassName``.
"""

import numpy as np

from genlab import quiet  # noqa: F401  (imports TensorFlow without its start-up logs)

import keras  # noqa: E402
from keras import layers, ops  # noqa: E402


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


@keras.saving.register_keras_serializable(package="genlab")
class GatedBlock(layers.Layer):
    """One layer of the Gated PixelCNN: a vertical and a horizontal stack, gated ``tanh(a) * sigmoid(b)``.

    The vertical stack at row r sees the rows up to r, all columns within the
    kernel (a (k//2 + 1) x k convolution padded only above); shifted down one
    row, it feeds the horizontal stack, a 1 x (k//2 + 1) convolution padded
    only on the left, which sees the pixels to the left in the same row. Two
    stacks instead of one masked kernel remove the blind spot of stacked
    masks. ``first=True`` is the type-A layer: its horizontal kernel leaves
    out the pixel itself; later layers add a residual connection. Written out
    with explicit padding (no mask) because Keras has no causal 2-D padding.

    Args:
        filters: feature maps of each stack.
        kernel_size: odd; the vertical kernel is (k//2 + 1, k).
        first: the type-A layer (input: the image in both stacks).

    Example::

        v, h = GatedBlock(16, 7, first=True)([image, image])    # image (N, H, W, 1)
        v, h = GatedBlock(16)([v, h])

    Reference: van den Oord et al., "Conditional Image Generation with PixelCNN
    Decoders", NeurIPS 2016, sec. 2.2 and fig. 2.
    """

    def __init__(self, filters, kernel_size=3, first=False, **kwargs):
        super().__init__(**kwargs)
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size!r}")
        self.filters, self.kernel_size, self.first = filters, kernel_size, first
        half = kernel_size // 2
        self.vertical = layers.Conv2D(2 * filters, (half + 1, kernel_size), name="vertical")
        self.horizontal = layers.Conv2D(2 * filters, (1, half if first else half + 1), name="horizontal")
        self.vertical_to_horizontal = layers.Conv2D(2 * filters, 1, name="vertical_to_horizontal")
        self.horizontal_out = layers.Conv2D(filters, 1, name="horizontal_out")

    def build(self, input_shape):
        (*_, v_channels), (*_, h_channels) = input_shape   # a Conv2D's weights depend only on its input channels
        self.vertical.build((None, None, None, v_channels))
        self.horizontal.build((None, None, None, h_channels))
        self.vertical_to_horizontal.build((None, None, None, 2 * self.filters))
        self.horizontal_out.build((None, None, None, self.filters))

    @staticmethod
    def gate(features):
        a, b = ops.split(features, 2, axis=-1)
        return ops.tanh(a) * ops.sigmoid(b)

    def call(self, inputs):
        v, h = inputs
        half = self.kernel_size // 2
        v_features = self.vertical(ops.pad(v, [[0, 0], [half, 0], [half, half], [0, 0]]))   # rows <= r
        above = ops.pad(v_features, [[0, 0], [1, 0], [0, 0], [0, 0]])[:, :-1]               # rows < r
        h_features = self.horizontal(ops.pad(h, [[0, 0], [0, 0], [half, 0], [0, 0]]))
        if self.first:   # type A: a kernel k//2 wide ends left of the pixel; one column too many comes out
            h_features = h_features[:, :, :-1]
        h_out = self.horizontal_out(self.gate(h_features + self.vertical_to_horizontal(above)))
        return self.gate(v_features), h_out if self.first else h + h_out

    def compute_output_shape(self, input_shape):
        v_shape, h_shape = input_shape
        return v_shape[:3] + (self.filters,), h_shape[:3] + (self.filters,)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "first": self.first}


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
