"""genlab.models.cyclegan: the cycle and identity losses, the unpaired domains, the step, the shipped model."""

import numpy as np
import pytest

import keras

from genlab import data, evaluation, pretrained
from genlab.models import cyclegan


def _batch(n=8):
    x, y = cyclegan.domains()
    return x[:n], y[n:2 * n]


def _map(function, name):
    image = keras.Input(shape=cyclegan.IMAGE_SHAPE)
    return keras.Model(image, keras.layers.Lambda(function)(image), name=name)


def test_cycle_loss_is_zero_for_identity_generators():
    x, y = _batch()
    identity = _map(lambda image: image, "identity")
    assert float(cyclegan.cycle_loss(x, identity(identity(x)), y, identity(identity(y)))) == 0.0
    assert float(cyclegan.identity_loss(x, identity(x), y, identity(y))) == 0.0
    # ... and for any other bijection: an inverting pair is no translation at all, and its cycle loss is 0 too
    invert = _map(lambda image: -image, "invert")
    assert float(cyclegan.cycle_loss(x, invert(invert(x)), y, invert(invert(y)))) == 0.0
    # a generator that loses information cannot be undone: the cycle loss sees that
    blank = _map(lambda image: keras.ops.zeros_like(image) - 1.0, "blank")
    assert float(cyclegan.cycle_loss(x, blank(blank(x)), y, blank(blank(y)))) > 0.1


def test_lsgan_losses():
    ones, zeros = np.ones((2, 14, 14, 1), "float32"), np.zeros((2, 14, 14, 1), "float32")
    assert float(cyclegan.generator_adversarial_loss(ones)) == 0.0
    assert float(cyclegan.generator_adversarial_loss(zeros)) == 1.0
    assert float(cyclegan.discriminator_loss(ones, zeros)) == 0.0
    assert float(cyclegan.discriminator_loss(zeros, ones)) == 1.0    # ((0-1)^2 + 1^2) / 2


def test_domains_are_unpaired_and_bold_is_thicker():
    (x_train, _), _ = data.load("mnist")
    x, y = cyclegan.domains()
    half = len(x_train) // 2
    assert len(x) == half and len(y) == len(x_train) - half
    assert np.array_equal(y, data.scale_images(x_train[half:]))      # Y: the second half, untouched
    assert np.array_equal(x, data.scale_images(cyclegan.embolden(x_train[:half])))  # X: the first half, bold
    assert np.all(cyclegan.embolden(x_train[:10]) >= x_train[:10])   # a maximum filter only adds ink
    assert (cyclegan.embolden(x_train[:100]) > 127).mean() > 1.5 * (x_train[:100] > 127).mean()
    assert cyclegan.IDENTITY_WEIGHT == 0.5 * cyclegan.CYCLE_WEIGHT == 5.0


def test_one_step_trains_all_four_networks():
    g, f = cyclegan.build_generator("G"), cyclegan.build_generator("F")
    d_x, d_y = cyclegan.build_discriminator("D_X"), cyclegan.build_discriminator("D_Y")
    networks = (g, f, d_x, d_y)
    before = [[w.numpy().copy() for w in network.trainable_weights] for network in networks]
    optimizers = {"generators": cyclegan.optimizer(), "D_X": cyclegan.optimizer(), "D_Y": cyclegan.optimizer()}
    losses = cyclegan.make_train_step(g, f, d_x, d_y, optimizers).python_function(*_batch())  # eager: no tracing
    assert set(losses) == {"g_adversarial", "cycle", "identity", "d_x", "d_y"}
    for old, network in zip(before, networks):
        assert any(not np.array_equal(value, weight.numpy()) for value, weight in zip(old, network.trainable_weights)), network.name


def test_shipped_composite_holds_both_generators():
    model = cyclegan.build_shipped()
    assert [layer.name for layer in model.layers if isinstance(layer, keras.Model)] == ["G", "F"]
    assert model.count_params() == 2 * cyclegan.build_generator().count_params()


def test_the_shipped_cyclegan_reproduces_its_manifest():
    """Same generators, same held-out digits: FID and cycle error as recorded, and the cycle is nearly closed."""
    info = pretrained.info("cyclegan_mnist")
    recorded = info["evaluation_check"]
    model = pretrained.load("cyclegan_mnist")
    result = evaluation.remeasure_shipped("cyclegan_mnist", model, which=("FID",), references_too=False)
    assert float(result["samples"]["FID"]) == pytest.approx(recorded["values"]["samples"]["FID"], rel=0.02)
    measured = cyclegan.measure(model)
    assert measured["cycle_error"] == pytest.approx(info["translation"]["cycle_error"], abs=0.005)
    assert max(measured["cycle_error"].values()) < 0.1
    # ... better than the same generators do from the true partners: the outputs carry a private code
    assert measured["cycle_error"]["x_to_y_to_x"] < measured["from_truth"]["F(y) to x"]
    assert measured["cycle_error"]["y_to_x_to_y"] < measured["from_truth"]["G(x) to y"]
    assert info["settings"]["iterations"] == cyclegan.ITERATIONS["full"]
