"""InfoGAN with Chen et al.'s recipe (genlab.models.infogan): networks, the bound, the code measures, resume."""

import math

import numpy as np
import pytest

from genlab.models import infogan


def test_networks_have_the_papers_shapes_and_heads():
    generator, discriminator = infogan.build_generator(), infogan.build_discriminator()
    z, codes = infogan.latent(5, np.random.default_rng(0))
    assert z.shape == (5, 74) and codes.shape == (5,)
    assert np.allclose(z[:, 62:72].sum(axis=1), 1) and np.all(np.abs(z[:, :62]) <= 1)
    images = np.asarray(generator(z))
    assert images.shape == (5, 28, 28, 1) and images.min() >= 0 and images.max() <= 1
    real_logit, code_logits, means = discriminator(images)
    assert real_logit.shape == (5, 1) and code_logits.shape == (5, 10) and means.shape == (5, 2)


def test_the_mutual_information_bound_is_log_k_plus_continuous_terms_when_q_is_right():
    codes = np.arange(10) % 10
    continuous = np.random.default_rng(1).uniform(-1, 1, (10, 2)).astype("float32")
    sure = np.where(np.eye(10)[codes] > 0, 60.0, -60.0).astype("float32")
    best = float(infogan.mutual_information_bound(codes, sure, continuous, continuous))
    assert best == pytest.approx(math.log(10) + 2 * math.log(2) - math.log(2 * math.pi), abs=1e-4)
    blind = float(infogan.mutual_information_bound(codes, np.zeros((10, 10), "float32"), continuous,
                                                   np.zeros_like(continuous)))
    expected = 2 * math.log(2) - math.log(2 * math.pi) - float(np.mean(np.sum(continuous ** 2, axis=1))) / 2
    assert blind == pytest.approx(expected, abs=1e-4) and blind < best


def bar(slope=0.0, width=1):
    image = np.zeros((28, 28))
    for row in range(4, 24):
        col = int(round(14 + slope * (13.5 - row)))
        image[row, col - width // 2:col - width // 2 + width] = 1.0
    return image


def test_slant_and_ink_read_a_leaning_and_a_thick_stroke():
    slant, ink = infogan.ink_moments(np.stack([bar(), bar(0.5), bar(-0.5), bar(0, 3)]))
    assert abs(slant[0]) < 1 and abs(slant[3]) < 1
    assert slant[1] > 20 and slant[2] < -20
    assert ink[3] > 2.5 * ink[0]


def test_a_resumed_run_ends_where_an_uninterrupted_one_does(tmp_path):
    whole, curve = infogan.train_run(4, seed=0, mode="quick", measure_every=2)
    infogan.train_run(2, seed=0, mode="quick", measure_every=2, checkpoint_dir=tmp_path)
    resumed, resumed_curve = infogan.train_run(4, seed=0, mode="quick", measure_every=2, checkpoint_dir=tmp_path)
    for a, b in zip(whole.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert [p["iteration"] for p in resumed_curve] == [p["iteration"] for p in curve] == [2, 4]
    assert [p["agreement"] for p in resumed_curve] == [p["agreement"] for p in curve]
    effects = infogan.continuous_effects(whole, bases=3, values=5)
    assert set(effects) == {"c1", "c2"} and all(-1 <= v <= 1 for e in effects.values() for v in e.values())


def test_the_shipped_infogan_reproduces_its_recorded_evaluation():
    """Same generator, latents and real subset: the recorded FID and code-to-class agreement come back."""
    from genlab import evaluation, pretrained, registry

    info = pretrained.info("infogan_mnist")
    recorded = info["evaluation_check"]
    sample = registry.get("infogan_mnist").sampler()
    result = evaluation.evaluate(sample(recorded["n"], seed=recorded["seed"]), "mnist", n=recorded["n"],
                                 seed=recorded["seed"], which=("FID",))
    fid = {label: float(result[label]["FID"]) for label in result.values}
    assert fid["samples"] == pytest.approx(recorded["values"]["samples"]["FID"], rel=0.02)
    assert fid["real train (floor)"] < fid["samples"] < fid["uniform noise (ceiling)"]
    share, mapping = infogan.agreement(sample.generator, n=info["code_class_agreement"]["n"], seed=infogan.SEED)
    assert share == pytest.approx(info["code_class_agreement"]["agreement"], abs=0.01)
    assert sorted(mapping.values()) == list(range(infogan.NUM_CATEGORIES))
    assert info["settings"]["iterations"] == infogan.ITERATIONS["full"]
