"""genlab.models.pix2pix: the PatchGAN's patches, the masked pairs, the step, and the shipped generator."""

import numpy as np
import pytest

from genlab import data, evaluation, pretrained
from genlab.models import pix2pix


def test_patchgan_gives_one_logit_per_patch():
    conditional = pix2pix.build_discriminator()
    assert [tuple(shape) for shape in conditional.input_shape] == [(None, 28, 28, 1)] * 2
    assert conditional.output_shape == (None, 14, 14, 1)          # 14 x 14 patches, one logit each
    assert pix2pix.build_discriminator(conditional=False).output_shape == (None, 14, 14, 1)
    logits = conditional.predict([np.zeros((3, 28, 28, 1)), np.ones((3, 28, 28, 1))], verbose=0)
    assert logits.shape == (3, 14, 14, 1)


def test_receptive_fields_are_the_papers():
    # Isola et al.'s 16x16, 70x70 and 286x286 PatchGANs (n_layers = 1, 3, 5 in their code), and ours.
    for n_layers, field in ((1, 16), (3, 70), (5, 286)):
        assert pix2pix.receptive_field([4] * (n_layers + 2), [2] * n_layers + [1, 1]) == field
    assert pix2pix.receptive_field([4] * 3, pix2pix.DISCRIMINATOR_STRIDES) == 16


def test_receptive_field_matches_the_gradient_of_one_patch_logit():
    """The formula agrees with the pixels that actually move one central logit of the PatchGAN."""
    import tensorflow as tf

    model = pix2pix.build_discriminator(image_shape=(64, 64, 1), conditional=False)
    image = tf.Variable(np.random.default_rng(0).normal(size=(1, 64, 64, 1)).astype("float32"))
    with tf.GradientTape() as tape:
        logit = model(image, training=False)[0, 16, 16, 0]
    rows = np.flatnonzero(np.abs(tape.gradient(logit, image).numpy()[0, :, :, 0]).sum(axis=1) > 0)
    assert rows.max() - rows.min() + 1 == pix2pix.receptive_field([4] * 3, pix2pix.DISCRIMINATOR_STRIDES)


def test_masks_grey_out_one_square_and_leave_the_rest():
    images = data.scale_images(data.load("mnist")[1][0][:50])
    masked, mask = pix2pix.mask_images(images, seed=3)
    assert np.all(mask.sum(axis=(1, 2, 3)) == pix2pix.MASK_SIZE ** 2)
    assert np.all(masked[mask > 0] == pix2pix.MASK_VALUE)
    assert np.array_equal(masked[mask == 0], images[mask == 0])
    margin = pix2pix.MASK_MARGIN
    assert not mask[:, :margin].any() and not mask[:, -margin:].any()
    assert not mask[:, :, :margin].any() and not mask[:, :, -margin:].any()
    assert np.array_equal(pix2pix.mask_images(images, seed=3)[1], mask)   # seeded
    with pytest.raises(ValueError):
        pix2pix.mask_images(images, size=24)


def test_unet_maps_images_to_images_and_its_skips_reach_the_output():
    generator = pix2pix.build_generator()
    assert generator.input_shape == generator.output_shape == (None, 28, 28, 1)
    output = generator.predict(np.zeros((2, 28, 28, 1)), verbose=0)
    assert np.all(np.abs(output) <= 1.0)
    # the input joins the last stage: a one-pixel change moves the output at that pixel
    probe = np.zeros((1, 28, 28, 1), "float32")
    moved = probe.copy()
    moved[0, 3, 3, 0] = 1.0
    difference = np.abs(generator.predict(moved, verbose=0) - generator.predict(probe, verbose=0))[0, :, :, 0]
    assert difference[3, 3] > 0


def test_generator_loss_weights_l1_by_lambda():
    logits = np.zeros((2, 14, 14, 1), "float32")
    target = np.zeros((2, 28, 28, 1), "float32")
    fake = np.full_like(target, 0.5)
    total, adversarial, l1 = pix2pix.generator_loss(logits, fake, target)
    assert float(l1) == pytest.approx(0.5)
    assert float(adversarial) == pytest.approx(np.log(2.0), rel=1e-5)
    assert float(total) == pytest.approx(np.log(2.0) + pix2pix.L1_WEIGHT * 0.5, rel=1e-5)


def test_one_step_trains_both_players():
    generator, discriminator = pix2pix.build_generator(), pix2pix.build_discriminator()
    before = [w.numpy().copy() for w in generator.trainable_weights + discriminator.trainable_weights]
    target = data.scale_images(data.load("mnist")[0][0][:8])
    source, _ = pix2pix.mask_images(target)
    step = pix2pix.make_train_step(generator, discriminator, pix2pix.optimizer(), pix2pix.optimizer())
    losses = step.python_function(source, target)   # eagerly: the same code, without the seconds of tracing
    after = generator.trainable_weights + discriminator.trainable_weights
    assert all(not np.array_equal(old, new.numpy()) for old, new in zip(before, after))
    assert set(losses) == {"d_loss", "g_adversarial", "l1"}


def test_the_shipped_pix2pix_reproduces_its_manifest():
    """Same generator, same masks, same real subset: FID, L1 and accuracies as recorded; it helps the classifier."""
    info = pretrained.info("pix2pix_mnist")
    recorded = info["evaluation_check"]
    generator = pretrained.load("pix2pix_mnist")
    result = evaluation.remeasure_shipped("pix2pix_mnist", generator, which=("FID",), references_too=False)
    assert float(result["samples"]["FID"]) == pytest.approx(recorded["values"]["samples"]["FID"], rel=0.02)
    measured = pix2pix.measure(generator, seed=info["inpainting"]["seed"])
    assert measured["accuracy"] == pytest.approx(info["inpainting"]["accuracy"], abs=0.005)
    assert measured["l1_masked_square"]["output"] == pytest.approx(info["inpainting"]["l1_masked_square"]["output"], abs=0.005)
    assert measured["accuracy"]["output"] > measured["accuracy"]["input"]
    assert measured["l1_masked_square"]["output"] < measured["l1_masked_square"]["input"]
    assert info["settings"]["iterations"] == pix2pix.ITERATIONS["full"]
