"""genlab.models.superres: the low-res data, the networks, both training steps and the measures.

Proves the mechanisms notebook 09's super-resolution section relies on: the
low-res input is a 4x4 area average, the generator maps 7x7 to 28x28 in
[-1, 1], the MSE step lowers the pixel MSE, the SRGAN step is "MSE + weight x
adversarial" (weight 0 is exactly the MSE step), the adversarial generator
starts from the MSE weights, PSNR is 10 log10(MAX^2 / MSE), a blur lowers the
sharpness statistic, and the shipped model reproduces the figures its manifest
records (and the trade-off the notebook reads from them).
"""

import numpy as np
import pytest

import keras

from genlab import evaluation, pretrained, registry
from genlab.models import superres


def test_downscale_is_the_mean_of_each_4x4_block_and_bicubic_keeps_constants():
    rng = np.random.default_rng(0)
    high = rng.uniform(-1, 1, (3, 28, 28)).astype("float32")
    low = superres.downscale(high)
    blocks = high.reshape(3, 7, 4, 7, 4).mean(axis=(2, 4))
    assert low.shape == (3, 7, 7, 1)
    np.testing.assert_allclose(low[..., 0], blocks, atol=1e-6)
    constant = np.full((2, 7, 7, 1), 0.25, "float32")
    np.testing.assert_allclose(superres.bicubic(constant), np.full((2, 28, 28, 1), 0.25), atol=1e-6)


def test_generator_maps_7x7_to_28x28_in_tanh_range_and_rejects_bad_factors():
    generator = superres.build_generator()
    assert generator.input_shape == (None, 7, 7, 1) and generator.output_shape == (None, 28, 28, 1)
    out = generator.predict(np.random.default_rng(1).normal(size=(4, 7, 7, 1)).astype("float32") * 5, verbose=0)
    assert out.min() >= -1 and out.max() <= 1
    assert superres.build_generator(factor=2, low_shape=(14, 14, 1)).output_shape == (None, 28, 28, 1)
    with pytest.raises(ValueError, match="power of two"):
        superres.build_generator(factor=3)
    assert superres.build_discriminator().output_shape == (None, 1)


def test_the_shipped_model_holds_two_generators_of_the_same_architecture():
    model = superres.build_shipped()
    nets = superres.generators(model)
    assert set(nets) == {"mse", "adversarial"}
    assert nets["mse"].count_params() == nets["adversarial"].count_params() == superres.build_generator().count_params()
    assert model.count_params() == 2 * superres.build_generator().count_params()


def test_the_mse_step_lowers_the_pixel_mse_on_a_fixed_batch():
    keras.utils.set_random_seed(0)
    low, high, _ = superres.pairs("mnist", "train")
    low, high = low[:32], high[:32]
    generator = superres.build_generator()
    step = superres.mse_step(generator, keras.optimizers.Adam(superres.SR_MSE_LEARNING_RATE))
    losses = [float(step(low, high)) for _ in range(40)]
    assert losses[-1] < 0.7 * losses[0]


def _g_update(weight):
    """G's weights after one adversarial step with ``weight``, and after one pure MSE step, from one start."""
    keras.utils.set_random_seed(3)
    low, high, _ = superres.pairs("mnist", "train")
    low, high = low[:16], high[:16]
    start = superres.build_generator()
    mse_g, adv_g = superres.build_generator(), superres.build_generator()
    mse_g.set_weights(start.get_weights())
    adv_g.set_weights(start.get_weights())
    superres.mse_step(mse_g, keras.optimizers.SGD(0.1))(low, high)
    superres.adversarial_step(adv_g, superres.build_discriminator(), keras.optimizers.SGD(0.1),
                              keras.optimizers.SGD(0.1), weight=weight)(low, high)
    return mse_g.get_weights(), adv_g.get_weights()


def test_the_srgan_step_is_mse_plus_a_weighted_adversarial_term():
    """Weight 0: G's update is exactly the MSE step's. Weight > 0: the discriminator moves G too."""
    mse_weights, adv_weights = _g_update(0.0)
    for a, b in zip(mse_weights, adv_weights):
        np.testing.assert_allclose(a, b, atol=1e-6)
    mse_weights, adv_weights = _g_update(1.0)
    assert max(np.abs(a - b).max() for a, b in zip(mse_weights, adv_weights)) > 1e-5


def test_the_adversarial_generator_starts_from_the_mse_generator(tmp_path):
    model = superres.train(mode="quick", iterations=1, checkpoint_dir=tmp_path)   # 1 MSE, 0 adversarial
    nets = superres.generators(model)
    for a, b in zip(nets["mse"].get_weights(), nets["adversarial"].get_weights()):
        np.testing.assert_array_equal(a, b)
    assert (tmp_path / "mse_generator_1.weights.h5").is_file()   # named by its length: no resuming across settings


def test_psnr_is_ten_log10_of_max_squared_over_mse_and_ssim_is_one_for_identical_images():
    rng = np.random.default_rng(2)
    high = rng.uniform(-1, 1, (5, 28, 28, 1)).astype("float32")
    noisy = np.clip(high + rng.normal(scale=0.1, size=high.shape), -1, 1).astype("float32")
    psnr, ssim = superres.distortion(noisy, high)
    mse_unit = np.mean(((noisy + 1) / 2 - (high + 1) / 2) ** 2, axis=(1, 2, 3))
    np.testing.assert_allclose(psnr, 10 * np.log10(1.0 / mse_unit), rtol=1e-4)
    _, same = superres.distortion(high, high)
    np.testing.assert_allclose(same, 1.0, atol=1e-6)
    assert (ssim < 1).all()


def test_sharpness_drops_with_blur_and_is_zero_for_a_constant_image():
    _, high, _ = superres.pairs("mnist", "test")
    high = high[:50]
    blurred = superres.bicubic(superres.downscale(high))
    assert superres.sharpness(blurred) < 0.7 * superres.sharpness(high)
    assert superres.sharpness(np.zeros((2, 28, 28, 1))) == 0.0


def test_registered_and_sampling_upscaled_held_out_digits():
    entry = registry.get("superres_mnist")
    assert entry.module() is superres and entry.pretrained == "superres_mnist"
    samples = superres.sampler(superres.build_shipped())(10, seed=0)
    assert samples.shape == (10, 28, 28) and samples.dtype == np.uint8
    low, high, labels = superres.held_out(10, seed=0)
    assert low.shape == (10, 7, 7, 1) and high.shape == (10, 28, 28, 1) and labels.shape == (10,)


def test_the_shipped_model_reproduces_its_recorded_evaluation():
    """Same weights, same held-out digits: FID, PSNR, SSIM and accuracy as recorded; the SR ordering holds."""
    info = pretrained.info("superres_mnist")
    recorded = info["evaluation_check"]
    model = pretrained.load("superres_mnist")
    result = evaluation.remeasure_shipped("superres_mnist", model, which=("FID",), references_too=False)
    assert float(result["samples"]["FID"]) == pytest.approx(recorded["values"]["samples"]["FID"], rel=0.02)
    table = info["super_resolution"]
    measured = superres.compare(model, n=table["n"], seed=table["seed"])
    for method in superres.METHODS:
        for metric in ("PSNR", "SSIM", "accuracy", "sharpness", "FID"):
            assert measured[method][metric] == pytest.approx(table["results"][method][metric], rel=0.02, abs=0.005)
    # The trade-off as measured (notebook 09 prints the same): MSE wins distortion, the
    # adversarial generator wins perception (sharpness, FID); both far ahead of bicubic.
    assert measured["mse"]["PSNR"] > measured["adversarial"]["PSNR"] > measured["bicubic"]["PSNR"]
    truth = measured["high-res"]["sharpness"]
    assert abs(measured["adversarial"]["sharpness"] - truth) < abs(measured["mse"]["sharpness"] - truth)
    assert measured["adversarial"]["FID"] < measured["mse"]["FID"]
    assert max(measured["mse"]["FID"], measured["adversarial"]["FID"]) < measured["bicubic"]["FID"] / 10
    assert info["bytes"] <= 2 * 1024 * 1024
