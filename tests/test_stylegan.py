"""genlab.models.stylegan: AdaIN, noise injection, the learned constant, style mixing, truncation, the step.

The mechanisms notebook 10 teaches, each proved on small inputs: AdaIN gives every
feature map the style's mean and standard deviation; noise injection keeps the shape
and changes the output with its noise; mixing takes each layer's style from the
source it names; truncation with psi = 0 gives the tracked mean w; the tracked mean is
saved with the weights; the R1 penalty is D's squared gradient norm at the real images;
one training step (with R1) moves both players and the mean w.
"""

import numpy as np
import pytest

from genlab import evaluation, pretrained, registry
from genlab.models import stylegan


@pytest.fixture(scope="module")
def generator():
    return stylegan.build_generator()


def test_adain_output_has_the_styles_mean_and_standard_deviation():
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(3, 8, 8, 5)) * rng.uniform(0.1, 5, (3, 1, 1, 5)) + rng.normal(size=(3, 1, 1, 5)) * 4)
    scale, bias = rng.uniform(0.5, 3, (3, 5)), rng.normal(size=(3, 5))
    y = np.asarray(stylegan.AdaIN()([x.astype("float32"), scale.astype("float32"), bias.astype("float32")]))
    assert y.shape == x.shape
    np.testing.assert_allclose(y.mean(axis=(1, 2)), bias, atol=1e-4)
    np.testing.assert_allclose(y.std(axis=(1, 2)), scale, rtol=1e-3)
    # The input's own statistics are gone: scaling and shifting x changes nothing.
    y_shifted = np.asarray(stylegan.AdaIN()([(x * 7 + 3).astype("float32"), scale.astype("float32"),
                                             bias.astype("float32")]))
    np.testing.assert_allclose(y_shifted, y, rtol=1e-3, atol=3e-3)   # up to epsilon


def test_noise_injection_keeps_the_shape_and_varies_with_its_noise():
    layer = stylegan.NoiseInjection(seed=1)
    x = np.ones((2, 7, 7, 4), "float32")
    assert np.array_equal(np.asarray(layer(x)), x)                # the scale starts at zero: no noise yet
    layer.scale.assign(np.array([0.0, 0.5, 1.0, 2.0], "float32"))
    first, second = np.asarray(layer(x)), np.asarray(layer(x))    # two draws of fresh noise
    assert first.shape == x.shape and not np.allclose(first, second)
    noise = np.random.default_rng(2).normal(size=(2, 7, 7, 1)).astype("float32")
    given = np.asarray(layer(x, noise=noise))
    np.testing.assert_allclose(given, x + noise * np.array([0.0, 0.5, 1.0, 2.0]), atol=1e-6)
    np.testing.assert_allclose(np.asarray(layer(x, noise=noise)), given)     # given noise: deterministic
    assert np.array_equal(given[..., 0], x[..., 0])                            # a channel with scale 0 is noise-free


def test_learned_constant_is_one_tensor_tiled_over_the_batch():
    layer = stylegan.LearnedConstant(7, 7, 6)
    out = np.asarray(layer(np.zeros((4, 3), "float32")))
    assert out.shape == (4, 7, 7, 6) and all(np.array_equal(out[0], out[i]) for i in range(4))
    assert [w.shape for w in layer.trainable_weights] == [(1, 7, 7, 6)]


def test_layers_round_trip_through_their_config():
    for layer in (stylegan.AdaIN(epsilon=1e-3), stylegan.NoiseInjection(seed=5), stylegan.LearnedConstant(4, 4, 8)):
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config


def test_mapping_sees_only_the_direction_of_z(generator):
    z = np.random.default_rng(3).normal(size=(5, stylegan.LATENT_DIM)).astype("float32")
    np.testing.assert_allclose(np.asarray(generator.map(z)), np.asarray(generator.map(3 * z)), atol=1e-4)
    assert sum("dense" in layer.name for layer in generator.mapping.layers) == stylegan.MAPPING_LAYERS


def test_generator_shapes_styles_and_the_mean_w_is_saved(generator, tmp_path):
    z = np.random.default_rng(4).normal(size=(3, stylegan.LATENT_DIM)).astype("float32")
    images = np.asarray(generator(z))
    assert images.shape == (3, *stylegan.IMAGE_SHAPE) and np.abs(images).max() <= 1.0
    assert generator.num_styles == stylegan.NUM_STYLES == 6
    assert [w.path for w in generator.non_trainable_weights] == ["style_generator/w_avg"]
    generator.w_avg.assign(np.full(stylegan.W_DIM, 0.25, "float32"))
    generator.save_weights(tmp_path / "g.weights.h5")
    other = stylegan.build_generator()
    other.load_weights(tmp_path / "g.weights.h5")
    np.testing.assert_allclose(np.asarray(other.w_avg), 0.25)
    generator.w_avg.assign(np.zeros(stylegan.W_DIM, "float32"))


def test_truncation_pulls_w_to_the_tracked_mean(generator):
    w = np.random.default_rng(5).normal(size=(4, stylegan.W_DIM)).astype("float32")
    generator.w_avg.assign(np.full(stylegan.W_DIM, 0.5, "float32"))
    np.testing.assert_allclose(np.asarray(generator.truncate(w, 1.0)), w, atol=1e-6)
    np.testing.assert_allclose(np.asarray(generator.truncate(w, 0.0)), 0.5, atol=1e-6)
    half = np.asarray(generator.truncate(w, 0.5))
    np.testing.assert_allclose(np.linalg.norm(half - 0.5, axis=1), 0.5 * np.linalg.norm(w - 0.5, axis=1), rtol=1e-5)
    # psi = 0 with the same noise: every sample is the same image.
    images = stylegan.sampler(generator)(6, seed=1, psi=0.0)
    assert all(np.array_equal(images[0], image) for image in images)
    generator.w_avg.assign(np.zeros(stylegan.W_DIM, "float32"))


def test_style_mixing_takes_each_layer_from_the_named_source(generator):
    rng = np.random.default_rng(6)
    w_a, w_b = (rng.normal(size=(2, stylegan.W_DIM)).astype("float32") for _ in range(2))
    mixed = np.asarray(stylegan.mix_styles(w_a, w_b, crossover=2))
    assert mixed.shape == (2, stylegan.NUM_STYLES, stylegan.W_DIM)
    assert np.array_equal(mixed[:, :2], np.stack([w_a] * 2, 1)) and np.array_equal(mixed[:, 2:], np.stack([w_b] * 4, 1))
    noise = stylegan.fixed_noise(generator, 2, seed=0)
    same_everywhere = stylegan.generate(generator, w_a, noise)
    np.testing.assert_allclose(stylegan.generate(generator, stylegan.mix_styles(w_a, w_b, 6), noise), same_everywhere,
                               atol=1e-5)
    assert not np.allclose(stylegan.generate(generator, mixed, noise), same_everywhere, atol=1e-5)


def test_sampler_is_reproducible_and_noise_changes_the_image(generator):
    sample = stylegan.sampler(generator)
    assert np.array_equal(sample(4, seed=3), sample(4, seed=3)) and sample(4, seed=3).dtype == np.uint8
    for layer in generator.noises:
        layer.scale.assign(np.full(layer.scale.shape, 0.5, "float32"))
    w = np.asarray(generator.map(np.ones((1, stylegan.LATENT_DIM), "float32")))
    one, two = (stylegan.generate(generator, w, stylegan.fixed_noise(generator, 1, seed)) for seed in (0, 1))
    assert not np.allclose(one, two)
    for layer in generator.noises:
        layer.scale.assign(np.zeros(layer.scale.shape, "float32"))


def test_slerp_keeps_the_endpoints_and_the_radius():
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(3, 16)), rng.normal(size=(3, 16))
    b *= (np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1))[:, None]   # equal lengths
    path = stylegan.slerp(a, b, np.linspace(0, 1, 9))
    assert path.shape == (3, 9, 16)
    np.testing.assert_allclose(path[:, 0], a, atol=1e-5)
    np.testing.assert_allclose(path[:, -1], b, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(path, axis=2), np.linalg.norm(a, axis=1)[:, None].repeat(9, 1), rtol=1e-4)


def test_paths_share_endpoints_and_a_constant_path_has_zero_length(generator):
    along = stylegan.interpolation_paths(generator, paths=2, steps=5, seed=0)
    assert along["z"].shape == along["w"].shape == (2, 5, 28, 28)
    np.testing.assert_allclose(along["z"][:, [0, -1]], along["w"][:, [0, -1]], atol=1e-4)
    still = np.repeat(along["w"][:, :1], 5, axis=1)
    measured = stylegan.path_smoothness(still)
    assert measured == {"path_length": 0.0, "class_changes": 0.0, "probability_variation": 0.0}


def test_r1_penalty_is_the_squared_gradient_norm_on_real_images():
    """For a linear D (logit = v . x + b), grad_x D = v for every image: R1 = ||v||^2, whatever the images."""
    import keras

    linear = keras.Sequential([keras.Input(stylegan.IMAGE_SHAPE), keras.layers.Flatten(), keras.layers.Dense(1)])
    v = np.random.default_rng(9).normal(size=(28 * 28, 1)).astype("float32")
    linear.layers[-1].set_weights([v, np.array([0.3], "float32")])
    real = np.random.default_rng(10).uniform(-1, 1, (5, 28, 28, 1)).astype("float32")
    penalty, logits = stylegan.r1_penalty(linear, tf_constant(real))
    assert float(penalty) == pytest.approx(float(np.sum(v ** 2)), rel=1e-4)
    np.testing.assert_allclose(np.asarray(logits)[:, 0], real.reshape(5, -1) @ v[:, 0] + 0.3, rtol=1e-4, atol=1e-4)
    # A steeper D pays more: doubling v quadruples the penalty.
    linear.layers[-1].set_weights([2 * v, np.array([0.3], "float32")])
    assert float(stylegan.r1_penalty(linear, tf_constant(real))[0]) == pytest.approx(4 * float(np.sum(v ** 2)), rel=1e-4)


def tf_constant(array):
    import tensorflow as tf

    return tf.constant(array)


def test_one_training_step_moves_both_players_and_the_mean_w():
    g, d = stylegan.build_generator(channels=(8, 8, 4)), stylegan.build_discriminator(filters=(8, 8, 8))
    step = stylegan.make_train_step(g, d, *stylegan.optimizers())
    before_g, before_d = [np.array(w) for w in g.trainable_weights], [np.array(w) for w in d.trainable_weights]
    real = np.random.default_rng(8).uniform(-1, 1, (8, 28, 28, 1)).astype("float32")
    d_loss, g_loss = step(real)
    assert np.isfinite(float(d_loss)) and np.isfinite(float(g_loss))
    assert any(not np.allclose(a, np.array(b)) for a, b in zip(before_g, g.trainable_weights))
    assert all(not np.allclose(a, np.array(b)) for a, b in zip(before_d, d.trainable_weights))
    assert np.abs(np.asarray(g.w_avg)).max() > 0          # the tracked mean moved from zero towards the batch mean


def test_the_shipped_generator_reproduces_its_recorded_evaluation():
    """Same generator, z, noise and real subset: the recorded FID comes back; truncation raises precision."""
    info = pretrained.info("stylegan_mnist")
    recorded = info["evaluation_check"]
    sample = registry.get("stylegan_mnist").sampler()
    assert np.abs(np.asarray(sample.generator.w_avg)).max() > 0         # the tracked mean w shipped with the weights
    result = evaluation.evaluate(sample(recorded["n"], seed=recorded["seed"]), "mnist", n=recorded["n"],
                                 seed=recorded["seed"], which=("FID",))
    fid = {label: float(result[label]["FID"]) for label in result.values}
    assert fid["samples"] == pytest.approx(recorded["values"]["samples"]["FID"], rel=0.02)
    assert fid["real train (floor)"] < fid["samples"] < fid["uniform noise (ceiling)"]
    sweep = info["truncation_sweep"]["by_psi"]
    assert sweep["1.0"]["FID"] == pytest.approx(recorded["values"]["samples"]["FID"], rel=1e-3)
    assert sweep["0.5"]["precision"] > sweep["1.0"]["precision"]       # truncation trades variety for typicality
    assert sweep["0.0"]["recall"] <= sweep["1.0"]["recall"]
    assert info["settings"]["iterations"] == stylegan.ITERATIONS["full"]


def test_training_resumes_from_its_checkpoint(tmp_path):
    """A checkpoint holds G (with its mean w), D, both optimizers and the count: a finished run takes no
    further step, and a longer one continues with Adam's state (its step counter) where it stopped."""
    trained = stylegan.train(iterations=2, checkpoint_dir=tmp_path)
    again = stylegan.train(iterations=2, checkpoint_dir=tmp_path)
    assert np.abs(np.asarray(again.w_avg)).max() > 0
    for a, b in zip(trained.weights, again.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    import tensorflow as tf

    longer = stylegan.train(iterations=3, checkpoint_dir=tmp_path)
    assert any(not np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(trained.weights, longer.weights))
    state = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(tmp_path)))
    assert state.get_tensor("done/.ATTRIBUTES/VARIABLE_VALUE") == 3
    names = state.get_variable_to_shape_map()
    assert any(name.startswith("g_optimizer/") for name in names) and any(name.startswith("d_optimizer/") for name in names)
