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
    with pytest.raises(ValueError):
        experiments.Settings(network="conv")                       # the conv GAN makes images, not ring points
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


def test_the_batch_norm_rows_differ_only_in_g_normalization():
    with pytest.raises(ValueError):
        experiments.Settings(network="conv-no-bn")                 # ring points, not images
    plan = gan_challenges.image_norm_plan("quick")
    with_bn, without = plan.values()
    assert dataclasses.replace(with_bn, network="conv-no-bn") == without
    kinds = [[type(layer).__name__ for layer in experiments.build_generator(chosen).layers] for chosen in (with_bn, without)]
    assert kinds[0].count("BatchNormalization") == 2 and "BatchNormalization" not in kinds[1]
    assert [kind for kind in kinds[0] if kind != "BatchNormalization"] == kinds[1]


def test_the_conv_gan_trains_with_every_option_of_d():
    digits = np.random.default_rng(0).integers(0, 256, (64, 28, 28), dtype=np.uint8)
    settings = experiments.Settings(dataset="mnist", network="conv", iterations=2, batch_size=8, hidden=16,
                                    latent_dim=4, spectral_norm=True, minibatch_std=True, minibatch_discrimination=True,
                                    feature_matching=True, dropout=0.3)
    trainer = experiments.Trainer(settings, 0, digits)
    logs = trainer.iterations(tf.constant(2)).numpy()
    assert logs.shape == (2, len(experiments.LOG_KEYS)) and np.isfinite(logs).all()
    assert trainer.sample(3).shape == (3, 784)
    names = [layer.__class__.__name__ for layer in trainer.discriminator.layers]
    assert {"SpectralNormalization", "MinibatchStdDev", "MinibatchDiscrimination"} <= set(names)
    assert not {"Conv2D", "Dense"} & set(names)                  # every Conv2D and Dense layer of D is normalized
    wrapped = [layer.layer.__class__.__name__ for layer in trainer.discriminator.layers
               if layer.__class__.__name__ == "SpectralNormalization"]
    assert wrapped.count("Conv2D") == 2 and wrapped.count("Dense") == 2


def test_the_image_plan_has_every_remedy_and_minibatch_discrimination():
    plan = gan_challenges.image_plan("full")
    slowed_in_part = {"slow D: 1 D step per G step", "slow D: D lr = G lr"}
    assert set(plan) == set(gan_challenges.RING_REMEDIES) - slowed_in_part
    assert "minibatch discrimination" in gan_challenges.RING_REMEDIES
    assert plan["minibatch discrimination"].minibatch_discrimination and not plan["minibatch stddev"].minibatch_discrimination
    assert {s.iterations for s in plan.values()} == {gan_challenges.MNIST_ITERATIONS["full"]}
    assert {s.dataset for s in plan.values()} == {"mnist"} and len(gan_challenges.image_plan("quick")) == 2


def test_the_image_batch_plan_separates_batch_size_from_examples_seen():
    plan = gan_challenges.image_batch_plan("full")
    reference = gan_challenges.MNIST["batch_size"] * gan_challenges.MNIST_ITERATIONS["full"]
    sizes = gan_challenges.IMAGE_BATCH_SIZES["full"]
    examples = [s for name, s in plan.items() if "equal steps" not in name]
    steps = [s for name, s in plan.items() if "equal examples" not in name]
    assert sorted(s.batch_size for s in examples) == sorted(s.batch_size for s in steps) == sorted(sizes)
    assert {s.batch_size * s.iterations for s in examples} == {reference}
    assert {s.iterations for s in steps} == {gan_challenges.MNIST_ITERATIONS["full"]}
    assert min(sizes) == 16 and max(sizes) == 512 and len(plan) == 2 * len(sizes) - 1   # the reference run is shared
    assert {(s.d_steps, s.d_pretrain, s.g_lr == s.d_lr) for s in plan.values()} == {(1, 0, True)}   # the balanced GAN


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


def _script():
    import importlib.util

    from genlab import paths

    spec = importlib.util.spec_from_file_location("gan_remedies", paths.REPO_ROOT / "scripts" / "gan_remedies.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_image_section_resumes_run_by_run_and_skips_finished_runs(tmp_path, monkeypatch):
    import json

    tiny = experiments.Settings(dataset="mnist", iterations=2, batch_size=8, hidden=8, latent_dim=4)
    plan = {"a": tiny, "b": dataclasses.replace(tiny, minibatch_discrimination=True)}
    monkeypatch.setattr(gan_challenges, "image_plan", lambda mode: plan)
    monkeypatch.setattr(gan_challenges, "SEEDS", {"quick": (0, 1), "full": (0, 1)})
    monkeypatch.setattr(gan_challenges, "N_EVAL", {"ring": 100, "mnist": 50})
    calls, real_run = [], experiments.run

    def run(settings, seed, **kwargs):
        if len(calls) == 3:
            raise KeyboardInterrupt("the session ends")          # killed during the 4th run
        calls.append((settings.minibatch_discrimination, seed))
        return real_run(settings, seed, **kwargs)

    monkeypatch.setattr(experiments, "run", run)
    out = tmp_path / "remedies.json"
    out.write_text(json.dumps({"mode": "quick", "sections": {"ring": {"rows": [], "seconds": 1.0}}}))
    script = _script()
    argv = ["--mode", "quick", "--sections", "mnist", "--out", str(out)]
    with pytest.raises(KeyboardInterrupt):
        script.main(argv)
    saved = json.loads(out.read_text())["sections"]
    assert "ring" in saved and (saved["mnist"]["runs_finished"], saved["mnist"]["complete"]) == (3, False)
    assert [row["seeds"] for row in saved["mnist"]["rows"]] == [[0, 1], [0]]

    calls.clear()
    script.main(argv + ["--resume"])
    assert calls == [(True, 1)]                                   # only the run that was cut off
    section = json.loads(out.read_text())["sections"]["mnist"]
    assert (section["runs_finished"], section["complete"]) == (4, True)
    assert section["rows"][0]["per_seed"] == saved["mnist"]["rows"][0]["per_seed"]   # finished runs kept as they were
    assert len(section["rows"][1]["curves"]) == 2 and section["n"] == 50

    longer = dict(plan, a=dataclasses.replace(tiny, iterations=3))   # another budget: row "a" is measured again
    assert set(gan_challenges.finished_runs(section, longer)) == {("b", 0), ("b", 1)}


def test_a_remedy_beats_the_baseline_only_beyond_the_seed_spread():
    def row(name, values):
        return {"name": name, "seeds": list(range(len(values))), "mean": {"FID": float(np.mean(values))},
                "std": {"FID": float(np.std(values))}}

    section = {"metric": "FID", "rows": [row(gan_challenges.BASELINE, [100, 110, 90]), row("clear", [50, 52, 48]),
                                         row("within spread", [85, 95, 75]), row("one seed", [10])]}
    verdicts = {name: beats for name, _, _, _, beats in gan_challenges.against_baseline(section)}
    assert verdicts == {"clear": True, "within spread": False, "one seed": False}
    assert gan_challenges.against_baseline({"metric": "FID", "rows": [row("clear", [1, 2])]}) == []
