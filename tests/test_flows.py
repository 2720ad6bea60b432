"""genlab.models.flows: RealNVP is invertible, its log-determinant is the Jacobian's, its likelihood is exact.

The mechanisms notebook 13 rests on: x -> z -> x returns x (within 1e-4); the
log-determinant each coupling reports equals log|det| of the Jacobian computed by
brute force (automatic differentiation, one column per input); the masked part
passes unchanged; the density integrates to 1 on a grid; and the shipped MNIST
flow reproduces the bits/dim and FID its manifest records.
"""

import math

import numpy as np
import pytest
import tensorflow as tf

from genlab import evaluation, pretrained, registry
from genlab.models import flows


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


def test_logit_space_round_trip_and_resizing():
    images = np.random.default_rng(8).integers(0, 256, size=(10, 14, 14)).astype(np.uint8)
    y, _ = flows.to_logit_space(images, noise=np.full((10, 196), 0.5))
    assert np.array_equal(flows.from_logit_space(y).reshape(images.shape), images)
    assert flows.downsample(np.zeros((2, 28, 28), np.uint8) + 7).shape == (2, 14, 14)
    assert flows.upsample(images).shape == (10, 28, 28)


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
    assert likelihood["value"] == pytest.approx(recorded["value"], abs=1e-3)
    assert likelihood["value"] < 8.0, "a trained flow beats the uniform density's 8 bits/dim"
    evaluation_ = info["evaluation_check"]
    samples = registry.get("realnvp_mnist").sampler()(evaluation_["n"], seed=evaluation_["seed"])
    result = evaluation.evaluate(samples, "mnist", n=evaluation_["n"], seed=evaluation_["seed"], which=("FID",))
    fid = {label: float(result[label]["FID"]) for label in result.values}
    assert fid["samples"] == pytest.approx(evaluation_["values"]["samples"]["FID"], rel=0.02)
    assert fid["samples"] < fid["uniform noise (ceiling)"]
    assert info["settings"]["iterations"] == flows.ITERATIONS["full"]
    assert math.isfinite(info["train_seconds"])
