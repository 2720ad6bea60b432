"""genlab.models.diffusion_training: the recipe's loss targets and weights, v <-> eps, and a run that resumes exactly."""

import keras
import numpy as np
import pytest

from genlab.models import diffusion, diffusion_training


class Oracle:
    """A "network" that returns a fixed output whatever its input (to test the loss's target)."""

    def __init__(self, output):
        self.output = output

    def __call__(self, inputs, training=False):
        return self.output


def batch(seed=0, n=6):
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(-1, 1, (n, 4, 4, 1)).astype("float32")
    noise = rng.standard_normal(x0.shape).astype("float32")
    t = np.array([0, 5, 200, 500, 900, 999][:n], "int32")
    return x0, noise, t, np.zeros(n, "int32")


ALPHA_BARS = diffusion.Schedule().alpha_bars.astype("float32")


@pytest.mark.parametrize("prediction", ["eps", "v"])
def test_the_loss_is_zero_only_for_the_prediction_target(prediction):
    x0, noise, t, labels = batch()
    abar = ALPHA_BARS[t].reshape(-1, 1, 1, 1)
    target = noise if prediction == "eps" else np.sqrt(abar) * noise - np.sqrt(1 - abar) * x0
    loss = diffusion_training.objective(Oracle(target), x0, t, noise, labels, ALPHA_BARS, prediction)
    assert float(loss) == pytest.approx(0.0, abs=1e-10)
    other = "v" if prediction == "eps" else "eps"
    assert float(diffusion_training.objective(Oracle(target), x0, t, noise, labels, ALPHA_BARS, other)) > 0.01


@pytest.mark.parametrize("prediction", ["eps", "v"])
def test_min_snr_weights_each_image_by_min_snr_gamma_over_its_target_scale(prediction):
    x0, noise, t, labels = batch(1)
    output = np.zeros_like(x0)
    abar = ALPHA_BARS[t].astype("float64")
    snr = abar / (1 - abar)
    target = noise if prediction == "eps" else np.sqrt(abar)[:, None, None, None] * noise - np.sqrt(1 - abar)[:, None, None, None] * x0
    per_image = (target.astype("float64") ** 2).mean(axis=(1, 2, 3))
    weights = np.minimum(snr, 5.0) / (snr + (1.0 if prediction == "v" else 0.0))
    loss = diffusion_training.objective(Oracle(output), x0, t, noise, labels, ALPHA_BARS, prediction, "min_snr", 5.0)
    assert float(loss) == pytest.approx(float(np.mean(weights * per_image)), rel=1e-4)
    assert weights[0] < 0.01                                    # the low-noise steps are down-weighted
    if prediction == "eps":
        assert weights[-1] == pytest.approx(1.0, abs=1e-3)      # and the high-noise ones keep L_simple's weight


def test_a_v_prediction_converts_back_to_the_noise_that_made_x_t():
    x0, noise, t, _ = batch(2)
    abar = ALPHA_BARS[t].reshape(-1, 1, 1, 1).astype("float64")
    x_t = np.sqrt(abar) * x0 + np.sqrt(1 - abar) * noise
    v = np.sqrt(abar) * noise - np.sqrt(1 - abar) * x0
    assert np.allclose(diffusion_training.eps_from_output(v, x_t, abar, "v"), noise, atol=1e-5)
    assert diffusion_training.eps_from_output(v, x_t, abar, "eps") is v


def test_a_recipe_refuses_unknown_settings_and_choices():
    with pytest.raises(ValueError, match="unknown recipe"):
        diffusion.recipe(learning_rat=1e-3)
    with pytest.raises(ValueError, match="prediction"):
        diffusion.recipe(prediction="x0")


def test_the_learning_rate_warms_up_then_decays_to_its_final_fraction():
    rate = diffusion_training.learning_rate(diffusion.recipe(learning_rate=1e-3, warmup=10,
                                                                      final_lr_fraction=0.1), 110)
    values = [float(rate(step)) for step in (0, 5, 10, 60, 110)]
    assert values[0] == 0.0 and values[1] == pytest.approx(5e-4) and values[2] == pytest.approx(1e-3)
    assert values[2] > values[3] > values[4] and values[4] == pytest.approx(1e-4)


def tiny_run(folder, until=None, iterations=6):
    keras.utils.set_random_seed(1)                                 # the same initial weights in every run
    network = diffusion.build_unet(filters=(8, 8, 8), embed_dim=16, blocks=2)
    trainer = diffusion.trainer(network, iterations, diffusion.recipe(batch_size=4, warmup=2), seed=7,
                                checkpoint_dir=folder)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (32, 28, 28, 1)).astype("float32")
    ema = trainer.run(x, rng.integers(0, 10, 32).astype("int32"), until=until)
    return trainer, ema


def test_a_run_cut_off_and_resumed_ends_where_an_uninterrupted_one_does(tmp_path):
    straight, straight_ema = tiny_run(tmp_path / "straight")
    tiny_run(tmp_path / "cut", until=3)
    resumed, resumed_ema = tiny_run(tmp_path / "cut")          # a new process: rebuilt, restored, continued
    assert int(resumed.done.numpy()) == 6 and int(resumed.optimizer.iterations.numpy()) == 6
    for a, b in zip(straight.network.get_weights() + straight_ema.get_weights(),
                    resumed.network.get_weights() + resumed_ema.get_weights()):
        assert np.allclose(a, b, atol=1e-6)
    first = straight.network.get_weights()
    assert any(not np.allclose(a, b) for a, b in zip(first, straight_ema.get_weights()))   # the EMA lags


def test_the_samplers_read_a_v_predicting_network_as_the_noise_it_implies():
    from types import SimpleNamespace

    x0, noise, _, _ = batch(3, n=1)
    abar = float(diffusion.Schedule().alpha_bars[300])
    x_t = np.sqrt(abar) * x0 + np.sqrt(1 - abar) * noise
    v = np.sqrt(abar) * noise - np.sqrt(1 - abar) * x0
    assert np.allclose(diffusion._as_eps(SimpleNamespace(prediction="v"), v, x_t, 300), noise, atol=1e-5)
    assert diffusion._as_eps(SimpleNamespace(), noise, x_t, 300) is not None    # an eps network: unchanged
    assert np.array_equal(diffusion._as_eps(SimpleNamespace(), noise, x_t, 300), noise)


def test_one_timestep_per_image_is_converted_with_each_images_own_abar():
    from types import SimpleNamespace

    x0, noise, t, _ = batch(4)
    abar = diffusion.Schedule().alpha_bars[t].reshape(-1, 1, 1, 1)
    x_t = np.sqrt(abar) * x0 + np.sqrt(1 - abar) * noise
    v = np.sqrt(abar) * noise - np.sqrt(1 - abar) * x0
    assert np.allclose(diffusion._as_eps(SimpleNamespace(prediction="v"), v, x_t, t), noise, atol=1e-4)


def test_a_trainer_marks_its_network_and_ema_with_what_they_predict(tmp_path):
    network = diffusion.build_unet(filters=(8, 8, 8), embed_dim=16)
    trainer = diffusion.trainer(network, 3, diffusion.recipe(prediction="v"))
    assert network.prediction == trainer.ema.prediction == "v"


def test_the_manifest_measures_have_the_recorded_layout(monkeypatch):
    """A tiny run of extra_evaluation on an untrained model: every record the notebook and the claims read is there."""
    monkeypatch.setattr(diffusion, "TIMED", 4)
    monkeypatch.setattr(diffusion, "DDIM_STEPS", {"quick": 2, "full": 2})
    result = diffusion.extra_evaluation(diffusion.Shipped(), n=30, steps=2)
    sweep = result["guidance_sweep"]
    assert sweep["n"] == 30 and set(sweep["by_w"]) == {str(w) for w in diffusion.GUIDANCE_SWEEP}
    assert set(sweep["by_w"]["2.0"]) == {"FID", "precision", "recall", "class_accuracy"}
    latent = result["latent_diffusion"]
    assert latent["w"] == diffusion.GUIDANCE and "class_accuracy" in latent
    assert set(latent["unconditional"]) == {"n", "ddim_steps", "FID", "precision", "recall"}
    assert set(latent["seconds_per_image"]) == {"ddim_steps", "images", "pixel U-Net", "latent MLP + VAE decoder"}
    assert all(latent["seconds_per_image"][name] > 0 for name in ("pixel U-Net", "latent MLP + VAE decoder"))
