"""genlab.models.flows and flow_layers: RealNVP is invertible, its log-determinant is the Jacobian's, its bits/dim is right.

The mechanisms notebook 13 rests on, for the 2-D toy flow and the multi-scale
image flow: x -> z -> x returns x (within 1e-4); the log-determinant equals
log|det| of the Jacobian computed by brute force (automatic differentiation,
one column per input; for the image flow on 4x4 images, logit transform,
ActNorm, squeezes and factor-outs included); the masked part passes unchanged;
the 2-D density integrates to 1 on a grid; the bits/dim bookkeeping matches a
discrete distribution known in closed form; and the shipped MNIST flow
reproduces the bits/dim and FID its manifest records.
"""

import math

import numpy as np
import pytest
import tensorflow as tf

from genlab import evaluation, pretrained, registry
from genlab.models import flow_layers, flows


def randomized(flow, seed=0, scale=0.3):
    """The flow with every weight random (an untrained coupling is the identity, which proves nothing)."""
    rng = np.random.default_rng(seed)
    for weight in flow.weights:
        weight.assign(rng.normal(scale=scale, size=weight.shape).astype("float32"))
    return flow


def brute_force_log_det(function, x):
    """log|det dz/dx| per example, from the full Jacobian (one tape column per input dimension)."""
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        z = function(x)
    jacobian = tape.batch_jacobian(z, x)
    return np.linalg.slogdet(jacobian.numpy().astype(np.float64))[1]


def test_masks_alternate_and_cover_every_position():
    masks = flows.checkerboard_masks((2, 3), 4)
    assert masks[0].tolist() == [1, 0, 1, 0, 1, 0] and masks[1].tolist() == [0, 1, 0, 1, 0, 1]
    assert np.array_equal(masks[0], masks[2]) and np.all(masks[0] + masks[1] == 1)
    assert [mask.tolist() for mask in flows.checkerboard_masks((1, 2), 2)] == [[1, 0], [0, 1]]
    with pytest.raises(ValueError):
        flows.checkerboard_masks((2, 2), 0)


@pytest.mark.parametrize("grid", [(1, 2), (3, 3)])
def test_x_to_z_to_x_within_1e4(grid):
    flow = randomized(flows.build_flow(grid, couplings=4, hidden_units=(16, 16)))
    x = np.random.default_rng(1).normal(size=(64, int(np.prod(grid)))).astype("float32") * 2.0
    z, _ = flow(x)
    assert not np.allclose(np.asarray(z), x, atol=1e-2), "a random flow must move the points"
    assert np.max(np.abs(np.asarray(flow.inverse(z)) - x)) < 1e-4
    # and the other way round: z -> x -> z, the direction sampling uses
    z = np.random.default_rng(2).normal(size=(64, x.shape[1])).astype("float32")
    assert np.max(np.abs(np.asarray(flow(flow.inverse(z))[0]) - z)) < 1e-4


def test_coupling_log_det_matches_the_brute_force_jacobian_and_keeps_the_masked_half():
    coupling = flows.AffineCoupling(mask=flows.checkerboard_masks((2, 2), 1)[0], hidden_units=(8,))
    x = np.random.default_rng(3).normal(size=(5, 4)).astype("float32")
    coupling(x)
    randomized(coupling, seed=4)
    z, log_det = coupling(x)
    mask = np.asarray(coupling.mask, bool)
    assert np.array_equal(np.asarray(z)[:, mask], x[:, mask]), "masked positions pass unchanged"
    assert np.allclose(log_det, brute_force_log_det(lambda v: coupling(v)[0], x), atol=1e-4)


def test_stack_log_det_matches_the_brute_force_jacobian():
    flow = randomized(flows.build_flow((2, 3), couplings=5, hidden_units=(8, 8)), seed=5)
    x = np.random.default_rng(6).normal(size=(4, 6)).astype("float32")
    _, log_det = flow(x)
    assert np.max(np.abs(np.asarray(log_det))) > 0.1, "a random flow has a non-trivial log-determinant"
    assert np.allclose(log_det, brute_force_log_det(lambda v: flow(v)[0], x), atol=1e-3)


def test_the_2d_density_integrates_to_one():
    flow = randomized(flows.build_flow((1, 2), couplings=4, hidden_units=(8,)), seed=7, scale=0.2)
    step = 0.05
    axis = np.arange(-8.0, 8.0, step, dtype="float32") + step / 2
    grid = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)
    total = float(np.sum(np.exp(np.asarray(flow.log_prob(grid), np.float64))) * step * step)
    assert total == pytest.approx(1.0, abs=0.02)


def tiny_image_flow(seed=10):
    """The MNIST flow's architecture on 4x4 images (16 dimensions: a Jacobian small enough to compute)."""
    flow = flows.build_image_flow((4, 4, 1), filters=(4, 4, 4), blocks=1, checkerboard=2, channel=2, final=2)
    return randomized(flow, seed=seed, scale=0.2)


def test_masks_of_the_image_flow():
    board = flow_layers.checkerboard_mask(4, 4, 2, parity=0)
    assert board.shape == (4, 4, 2) and board.sum() == 16 and board[0, 0, 0] == 1 and board[0, 1, 0] == 0
    assert np.all(board + flow_layers.checkerboard_mask(4, 4, 2, parity=1) == 1)
    channels = flow_layers.channel_mask(2, 2, 4, parity=1)
    assert channels[0, 0].tolist() == [0, 0, 1, 1]
    with pytest.raises(ValueError):
        flow_layers.channel_mask(2, 2, 3)


def test_squeeze_and_factor_out_are_permutations():
    x = np.arange(2 * 4 * 4 * 1, dtype="float32").reshape(2, 4, 4, 1)
    squeeze = flow_layers.Squeeze()
    y, log_det = squeeze(x)
    assert y.shape == (2, 2, 2, 4) and np.all(np.asarray(log_det) == 0)
    assert np.asarray(y)[0, 0, 0].tolist() == [0, 1, 4, 5], "each 2x2 block becomes the channels of one position"
    assert np.array_equal(np.asarray(squeeze.inverse(y)), x)
    kept, out = flow_layers.FactorOut()(y)
    assert kept.shape == out.shape == (2, 2, 2, 2)
    assert np.array_equal(np.asarray(flow_layers.FactorOut().inverse(kept, out)), np.asarray(y))


def test_image_flow_x_to_z_to_x_within_1e4():
    flow = tiny_image_flow()
    x = np.random.default_rng(11).uniform(0.01, 0.99, size=(32, 4, 4, 1)).astype("float32")
    z, _ = flow(x)
    assert z.shape == (32, 16)
    assert np.max(np.abs(np.asarray(flow.inverse(z)) - x)) < 1e-4
    z = np.random.default_rng(12).normal(size=(32, 16)).astype("float32")
    assert np.max(np.abs(np.asarray(flow(flow.inverse(z))[0]) - z)) < 1e-4
    big = flows.build_mnist_flow()
    digits = flow_layers.dequantize(np.random.default_rng(13).integers(0, 256, (4, 28, 28)).astype(np.uint8))
    randomized(big, seed=14, scale=0.02)
    z, _ = big(digits)
    assert np.max(np.abs(np.asarray(big.inverse(z)) - digits)) < 1e-4


def test_image_flow_log_det_matches_the_brute_force_jacobian():
    """Logit transform, ActNorm, couplings, squeezes and factor-outs together, on 16 dimensions."""
    flow = tiny_image_flow(seed=15)
    x = np.random.default_rng(16).uniform(0.05, 0.95, size=(3, 4, 4, 1)).astype("float32")
    _, log_det = flow(x)
    logit_only = np.sum(flow_layers.logit_transform(x, flow.alpha)[1])
    assert abs(float(np.sum(log_det)) - float(logit_only)) > 1.0, "the random layers add their own log-determinant"
    brute = brute_force_log_det(lambda v: flow(tf.reshape(v, (-1, 4, 4, 1)))[0], x.reshape(3, 16))
    assert np.allclose(log_det, brute, atol=1e-3)
    coupling = [step for step in flow.plan if isinstance(step, flow_layers.ImageCoupling)][0]
    y, coupling_log_det = coupling(x)
    mask = coupling.mask.astype(bool)
    assert np.array_equal(np.asarray(y)[:, mask], x[:, mask]), "masked positions pass unchanged"
    assert np.allclose(coupling_log_det, brute_force_log_det(
        lambda v: tf.reshape(coupling(tf.reshape(v, (-1, 4, 4, 1)))[0], (-1, 16)), x.reshape(3, 16)), atol=1e-4)


def test_bits_per_dim_bookkeeping_against_a_density_known_in_closed_form():
    """An untrained flow is the logit transform alone: z = logit(alpha + (1 - 2 alpha) x) ~ N(0, 1) per pixel.

    Then each 8-bit level k has the exact probability P(k) = Phi(z_hi) - Phi(z_lo), the normal
    CDF at the logits of its bin's edges. The dequantized estimate (dequantization, logit
    Jacobian, 256^D) must lie above the exact discrete bits/dim (Jensen) and close to it.
    """
    from scipy.stats import norm

    flow = flows.build_image_flow((4, 4, 1), filters=(4, 4, 4), blocks=1, checkerboard=2, channel=2, final=2)
    images = np.random.default_rng(17).choice([0, 0, 0, 3, 128, 250, 255], size=(400, 4, 4)).astype(np.uint8)
    alpha = flow.alpha

    def logit_of(v):
        p = alpha + (1 - 2 * alpha) * v
        return np.log(p) - np.log1p(-p)

    exact = -np.log2(norm.cdf(logit_of((images + 1.0) / 256)) - norm.cdf(logit_of(images / 256.0))).mean()
    estimate = np.mean([flow_layers.bits_per_dim(flow, images, seed=seed) for seed in range(5)])
    assert exact <= estimate < exact + 0.01, (exact, estimate)
    # Each term of the bookkeeping matters: without the 256^D, or without the logit Jacobian, it is far off.
    x = flow_layers.dequantize(images, seed=0)
    log_px = np.asarray(flow.log_prob(x))
    assert abs(np.mean(-log_px / (16 * np.log(2))) - exact) > 1.0
    z, log_det = flow(x)
    assert abs(np.mean(flow_layers.discrete_bits_per_dim(np.asarray(flow_layers.standard_normal_log_prob(z)), 16))
               - exact) > 0.5


def test_dequantize_quantize_and_the_independent_pixel_baseline():
    images = np.random.default_rng(18).integers(0, 256, size=(10, 28, 28)).astype(np.uint8)
    x = flow_layers.dequantize(images, seed=1)
    assert x.shape == (10, 28, 28, 1) and np.array_equal(flow_layers.quantize(x), images)
    with pytest.raises(ValueError):
        flow_layers.dequantize(images.astype("float32"))
    # A pixel that always takes one level costs -log2((n + 1) / (n + 256)) bits; uniform pixels cost 8 bits.
    constant = np.zeros((99, 2, 2), np.uint8)
    assert flow_layers.independent_pixel_bits_per_dim(constant, constant[:5]) == pytest.approx(-np.log2(100 / 355))
    uniform = np.tile(np.arange(256, dtype=np.uint8)[:, None, None], (4, 1, 1))
    assert flow_layers.independent_pixel_bits_per_dim(uniform, uniform) == pytest.approx(8.0)


def test_sampler_draws_digits_at_a_temperature():
    sample_fn = flows.sampler(flows.build_mnist_flow())
    digits = sample_fn(6, seed=0, temperature=0.7)
    assert digits.shape == (6, 28, 28) and digits.dtype == np.uint8
    assert np.array_equal(digits, sample_fn(6, seed=0, temperature=0.7))


def test_layer_config_round_trip():
    coupling = flows.AffineCoupling(mask=[1.0, 0.0], hidden_units=(4,), name="c")
    clone = flows.AffineCoupling.from_config(coupling.get_config())
    assert clone.mask == [1.0, 0.0] and clone.hidden_units == (4,) and clone.name == "c"
    with pytest.raises(ValueError):
        flows.AffineCoupling(mask=[0.5, 1.0])


def test_the_shipped_flow_reproduces_its_manifest():
    """Same flow, same seed: the recorded bits/dim and FID come back; both beat the trivial references."""
    info = pretrained.info("realnvp_mnist")
    flow = pretrained.load("realnvp_mnist")
    recorded = info["likelihood"]
    likelihood = flows.likelihood(flow, seed=info["settings"]["seed"])
    assert likelihood["n"] == recorded["n"] == 10_000
    assert likelihood["value"] == pytest.approx(recorded["value"], abs=1e-3)
    assert likelihood["baseline"]["value"] == pytest.approx(recorded["baseline"]["value"], abs=1e-4)
    assert likelihood["value"] < 8.0, "a trained flow beats the uniform density's 8 bits/dim"
    assert info["settings"]["image_shape"] == list(flows.IMAGE_SHAPE) and info["settings"]["filters"] == list(flows.FILTERS)
    evaluation_ = info["evaluation_check"]
    samples = registry.get("realnvp_mnist").sampler()(evaluation_["n"], seed=evaluation_["seed"])
    result = evaluation.evaluate(samples, "mnist", n=evaluation_["n"], seed=evaluation_["seed"], which=("FID",))
    fid = {label: float(result[label]["FID"]) for label in result.values}
    assert fid["samples"] == pytest.approx(evaluation_["values"]["samples"]["FID"], rel=0.02)
    assert fid["samples"] < fid["uniform noise (ceiling)"]
    assert info["settings"]["iterations"] == flows.ITERATIONS["full"]
    assert math.isfinite(info["train_seconds"])


def test_training_resumes_from_its_checkpoint(tmp_path):
    """A run cut off after its first checkpoint continues from it: weights and optimizer step come back."""
    import keras

    from genlab import callbacks

    class CutOff(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if int(self.model.optimizer.iterations.numpy()) == 3:
                raise KeyboardInterrupt("cut off")

    images = np.random.default_rng(19).integers(0, 256, size=(64, 4, 4)).astype(np.uint8)
    dataset = tf.data.Dataset.from_tensor_slices(flow_layers.dequantize(images)).repeat().batch(8)

    def run(extra):
        flow = flows.build_image_flow((4, 4, 1), filters=(4, 4, 4), blocks=1, checkerboard=1, channel=1, final=1)
        flows.compile_flow(flow, iterations=6)
        flow.fit(dataset, epochs=3, steps_per_epoch=2, verbose=0,
                 callbacks=callbacks.standard(tmp_path, progress=False) + extra)
        return flow

    class Count(keras.callbacks.Callback):
        batches = 0

        def on_train_batch_end(self, batch, logs=None):
            Count.batches += 1

    with pytest.raises(KeyboardInterrupt):
        run([CutOff()])
    resumed = run([Count()])
    assert Count.batches == 4, "the resumed run starts after its checkpoint (epoch 1 of 3), not from the beginning"
    assert int(resumed.optimizer.iterations.numpy()) == 6, "and the optimizer's step count (the schedule) comes back"
