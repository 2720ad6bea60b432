"""The study's trainer: settings, each variant runs, and the mechanism of the case study (genlab.gan.experiments)."""

import dataclasses

import numpy as np
import pytest

from genlab.gan import experiments
from genlab.models import gan_challenges

import tensorflow as tf  # noqa: E402


def test_saturating_gradient_vanishes_where_non_saturating_does_not():
    # d/dl of log(1 - sigmoid(l)) is -sigmoid(l) -> 0 as D(G(z)) -> 0; of -log sigmoid(l) is sigmoid(l) - 1 -> -1
    from genlab.gan import losses

    logits = tf.Variable([[-8.0], [-6.0]])                      # D(G(z)) about 0.0003 and 0.0025
    with tf.GradientTape(persistent=True) as tape:
        saturating = losses.saturating_generator(logits)
        non_saturating = losses.non_saturating_generator(logits)
    small = float(tf.norm(tape.gradient(saturating, logits)))
    large = float(tf.norm(tape.gradient(non_saturating, logits)))
    assert small < 0.01 < 0.5 < large


def test_settings_reject_bad_values_and_variants_change_one_thing():
    with pytest.raises(ValueError):
        experiments.Settings(loss="hinge")
    with pytest.raises(ValueError):
        experiments.Settings(dataset="cifar")
    chosen = gan_challenges.variants("ring", 10)
    baseline = chosen["baseline: strong D, non-saturating"]
    assert (baseline.d_steps, baseline.d_pretrain, baseline.d_lr / baseline.g_lr, baseline.dropout) == (5, 200, 5.0, 0.0)
    assert dataclasses.replace(baseline, real_label=0.9) == chosen["one-sided label smoothing (0.9, 0)"]
    ttur = chosen["TTUR: D lr 4x G lr (G slowed), 1 step"]
    assert ttur.d_lr == pytest.approx(4 * ttur.g_lr) and ttur.d_steps == 1


@pytest.mark.parametrize("changes", [dict(), dict(loss="wgan_gp", d_steps=2), dict(spectral_norm=True,
                         minibatch_std=True, feature_matching=True, dropout=0.3, real_label=0.9, fake_label=0.1)])
def test_each_variant_trains_and_is_monitored(changes):
    settings = experiments.Settings(iterations=20, batch_size=16, hidden=16, d_pretrain=3, **changes)
    result = experiments.run(settings, seed=0, evaluate_every=10, n_eval=100)
    assert result.monitor.iterations == list(range(1, 21))
    assert [e["iteration"] for e in result.monitor.evaluations] == [0, 10, 20]
    summary = result.summary()
    assert all(np.isfinite(summary[key]) for key in ("FD", "d_acc_real", "g_grad_norm"))
    assert result.trainer.sample(7).shape == (7, 2)


def test_a_run_repeats_with_its_seed():
    settings = experiments.Settings(iterations=10, batch_size=16, hidden=16, d_steps=2)
    a, b = (experiments.run(settings, seed=3, n_eval=100) for _ in range(2))
    assert np.allclose(a.monitor.history["g_loss"], b.monitor.history["g_loss"])


def test_strong_d_drives_d_of_g_to_zero_and_the_saturating_gradient_with_it():
    settings = gan_challenges.settings("ring", 1, {"loss": "saturating"})
    out = experiments.gradient_vs_confidence(settings, d_steps=100, every=50)
    assert out["d_fake_prob"][0] > 0.3 and out["d_fake_prob"][-1] < 0.05       # D learns to reject the fakes
    # the saturating gradient is D(G(z)) / (1 - D(G(z))) times the non-saturating one, sample by sample
    assert out["saturating"][-1] < 0.1 * out["non_saturating"][-1]
    assert out["non_saturating"][-1] > out["non_saturating"][0]                # it does not vanish


def test_compare_makes_rows_with_per_seed_values():
    variants = {"a": experiments.Settings(iterations=5, batch_size=8, hidden=8)}
    rows, results = experiments.compare(variants, seeds=(0, 1), n_eval=50)
    assert rows[0]["name"] == "a" and len(rows[0]["per_seed"]["FD"]) == 2 and set(results) == {("a", 0), ("a", 1)}
    assert "a" in experiments.table(rows, "FD")
