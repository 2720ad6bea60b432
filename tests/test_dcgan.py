"""The book's DCGAN builders (genlab.models): shapes, parameter counts, layer order, bad arguments."""

import numpy as np
import pytest

from genlab import quiet  # noqa: F401  (TensorFlow without its start-up logs)
from genlab.models import dcgan
from keras import layers


def test_book_generator_shapes_and_parameters():
    generator = dcgan.build_generator()
    assert generator.input_shape == (None, 100)
    assert generator.output_shape == (None, 28, 28, 1)
    # Dense 100->7*7*128, two UpSampling2D+Conv2D(3x3)+BN blocks (128, 64), Conv2D to 1 channel.
    assert generator.count_params() == 633_472 + 147_584 + 512 + 73_792 + 256 + 577
    kinds = [type(layer).__name__ for layer in generator.layers]
    assert kinds == ["Dense", "Reshape",
                     "UpSampling2D", "Conv2D", "BatchNormalization", "Activation",
                     "UpSampling2D", "Conv2D", "BatchNormalization", "Activation",
                     "Conv2D", "Activation"]
    images = generator(np.random.default_rng(0).normal(size=(3, 100)).astype("float32"))
    assert images.shape == (3, 28, 28, 1)
    assert float(np.max(np.abs(images))) <= 1.0  # tanh output


def test_book_discriminator_shapes_and_parameters():
    discriminator = dcgan.build_discriminator()
    assert discriminator.input_shape == (None, 28, 28, 1)
    assert discriminator.output_shape == (None, 1)
    kinds = [type(layer).__name__ for layer in discriminator.layers]
    assert kinds.count("Conv2D") == 4 and kinds.count("BatchNormalization") == 3
    assert kinds.count("Dropout") == 4 and "ZeroPadding2D" in kinds
    assert kinds[-1] == "Dense" and discriminator.layers[-1].activation.__name__ == "sigmoid"
    strides = [layer.strides for layer in discriminator.layers if isinstance(layer, layers.Conv2D)]
    assert strides == [(2, 2), (2, 2), (2, 2), (1, 1)]
    assert discriminator.count_params() == 393_729
    probabilities = np.asarray(discriminator(np.zeros((2, 28, 28, 1), "float32")))
    assert probabilities.shape == (2, 1) and np.all((probabilities > 0) & (probabilities < 1))


def test_upsampling_block_doubles_the_size():
    import keras

    block = keras.Sequential([keras.Input((7, 7, 5))] + dcgan.upsampling_block(12, name="b"))
    assert block.output_shape == (None, 14, 14, 12)
    assert [layer.name for layer in block.layers] == ["b_upsample", "b_conv", "b_bn", "b_relu"]


def test_other_sizes_and_colour_images():
    generator = dcgan.build_generator(latent_dim=16, image_shape=(32, 32, 3), filters=(8, 4))
    discriminator = dcgan.build_discriminator(image_shape=(32, 32, 3), filters=(4, 8), dropout=0.0)
    assert generator.output_shape == (None, 32, 32, 3)
    assert discriminator.output_shape == (None, 1)
    assert not any(isinstance(layer, layers.Dropout) for layer in discriminator.layers)


@pytest.mark.parametrize("call", [
    lambda: dcgan.build_generator(image_shape=(30, 30, 1)),
    lambda: dcgan.build_generator(latent_dim=0),
    lambda: dcgan.build_generator(image_shape=(28, 28)),
    lambda: dcgan.build_discriminator(dropout=1.0),
    lambda: dcgan.build_discriminator(filters=()),
    lambda: dcgan.upsampling_block(0),
])
def test_bad_arguments_raise_value_error(call):
    with pytest.raises(ValueError):
        call()
