"""genlab.evaluation: the one protocol (samples, floor, ceiling at one N) behaves as it says."""

import numpy as np
import pytest

from genlab import data, evaluation


def test_real_digits_score_at_the_floor_and_noise_at_the_ceiling():
    (x_train, _), _ = data.load_mnist(mode="quick")
    real_like = x_train[np.random.default_rng(5).permutation(len(x_train))[:300]]
    result = evaluation.evaluate(real_like, "mnist", n=300, seed=1)
    assert result.n == 300 and result.extractor == "mnist"
    assert set(result.values) == {evaluation.SAMPLES, evaluation.FLOOR, evaluation.CEILING}
    fid = {label: float(result[label]["FID"]) for label in result.values}
    assert fid[evaluation.SAMPLES] < 2 * fid[evaluation.FLOOR]
    assert fid[evaluation.FLOOR] < fid[evaluation.CEILING] / 10
    assert float(result[evaluation.CEILING]["recall"]) < 0.05 < float(result[evaluation.SAMPLES]["recall"])
    rows = result.rows(model="real")
    assert len(rows) == 15 and {r["n"] for r in rows} == {300} and rows[0]["model"] == "real"
    assert "real train (floor)" in str(result) and "N=300" in str(result)


def test_same_seed_same_figures_and_samples_only():
    noise = np.random.default_rng(0).integers(0, 256, (200, 28, 28), dtype=np.uint8)
    first = evaluation.evaluate(noise, n=200, seed=3, which=("FID",))
    again = evaluation.evaluate(noise, n=200, seed=3, which=("FID",), references_too=False)
    assert list(again.values) == [evaluation.SAMPLES]
    assert float(first[evaluation.SAMPLES]["FID"]) == float(again[evaluation.SAMPLES]["FID"])


def test_the_standard_n_is_the_whole_test_set_in_any_mode():
    """N = 10,000 by default, capped by the 10,000 test digits, even in quick mode (whose data is a part)."""
    import inspect

    assert inspect.signature(evaluation.evaluate).parameters["n"].default == evaluation.STANDARD_N == 10_000
    reference, floor, noise = evaluation.references("mnist", 10**6)
    assert len(reference) == len(floor) == len(noise) == 10_000
    assert reference.dtype == floor.dtype == noise.dtype == np.uint8
    (x_train, _), (x_test, _) = data.load_mnist(mode="full")
    assert {image.tobytes() for image in reference} == {image.tobytes() for image in x_test}
    train = {image.tobytes() for image in x_train}
    assert sum(image.tobytes() in train for image in floor[:500]) == 500   # the floor: training digits


def test_bad_arguments_are_clear_errors():
    noise = np.zeros((10, 28, 28), np.uint8)
    with pytest.raises(ValueError, match="at least 50"):
        evaluation.evaluate(noise, n=50)
    with pytest.raises(ValueError, match="dataset"):
        evaluation.evaluate(noise, dataset="cifar10", n=10)
    with pytest.raises(ValueError, match="unknown metrics"):
        evaluation.evaluate(noise, n=10, which=("FID", "LPIPS"))


def test_every_measure_ranks_noise_below_the_shipped_dcgan_below_real_digits():
    """The shipped DCGAN's samples at its manifest's N and seed: FID, KID, IS, precision and recall all
    put uniform noise worst, real training digits best and the DCGAN between (precision/recall on the
    unit-length conv features; on FID's 128-d features noise scored precision 1.0: test_metrics)."""
    from genlab import pretrained, registry

    recorded = pretrained.info("dcgan_mnist")["evaluation_check"]
    samples = registry.get("dcgan_mnist").sampler()(recorded["n"], seed=recorded["seed"])
    result = evaluation.evaluate(samples, "mnist", n=recorded["n"], seed=recorded["seed"])
    for metric in evaluation.METRICS:
        noise, dcgan, real = (float(result[label][metric])
                              for label in (evaluation.CEILING, evaluation.SAMPLES, evaluation.FLOOR))
        better_is_lower = metric in ("FID", "KID")
        ordered = noise > dcgan > real if better_is_lower else noise < dcgan < real
        assert ordered, f"{metric}: noise {noise:.4g}, DCGAN {dcgan:.4g}, real {real:.4g}"
        assert float(result[evaluation.SAMPLES][metric]) == pytest.approx(recorded["values"]["samples"][metric],
                                                                          rel=0.02, abs=0.01)


def test_mode_n_is_the_quick_or_the_standard_n():
    assert evaluation.mode_n("quick") == evaluation.QUICK_N == 1_000
    assert evaluation.mode_n("full") == evaluation.STANDARD_N == 10_000
