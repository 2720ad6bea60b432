"""Tests for genlab.metrics: sanity properties and agreement with NumPy/SciPy."""

import numpy as np
import pytest
import scipy.linalg
import scipy.spatial.distance
import scipy.special

from genlab import quiet  # noqa: F401  (TensorFlow without its start-up logs)
from genlab import data, features, metrics


def gaussian(n, dim=16, shift=0.0, scale=1.0, seed=0):
    return np.random.default_rng(seed).normal(shift, scale, (n, dim))


# ---------- independent reference computations (NumPy / SciPy only) ----------

def reference_fid(a, b):
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    covmean = scipy.linalg.sqrtm(cov_a @ cov_b).real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * covmean))


def reference_kid_block(r, g):
    dim = r.shape[1]
    k = lambda x, y: (x @ y.T / dim + 1) ** 3  # noqa: E731
    m, n = len(r), len(g)
    k_rr, k_gg, k_rg = k(r, r), k(g, g), k(r, g)
    return ((k_rr.sum() - np.trace(k_rr)) / (m * (m - 1))
            + (k_gg.sum() - np.trace(k_gg)) / (n * (n - 1)) - 2 * k_rg.mean())


def reference_is(logits):
    p = scipy.special.softmax(logits, axis=1)
    q = p.mean(0)
    return float(np.exp(np.mean(np.sum(p * (np.log(p) - np.log(q)), axis=1))))


def reference_precision_recall(real, fake, k=3):
    d_rr = scipy.spatial.distance.cdist(real, real)
    d_gg = scipy.spatial.distance.cdist(fake, fake)
    d_gr = scipy.spatial.distance.cdist(fake, real)
    r_real = np.sort(d_rr, axis=1)[:, k]
    r_fake = np.sort(d_gg, axis=1)[:, k]
    precision = np.mean((d_gr <= r_real[None, :]).any(axis=1))
    recall = np.mean((d_gr.T <= r_fake[None, :]).any(axis=1))
    return precision, recall


# ---------- agreement to 1e-3 relative on random features ----------

def test_fid_matches_scipy():
    a, b = gaussian(600, seed=1), gaussian(500, shift=0.3, scale=1.2, seed=2)
    assert float(metrics.frechet_distance(a, b)) == pytest.approx(reference_fid(a, b), rel=1e-3)


def test_kid_matches_numpy_single_and_multiple_subsets():
    a, b = gaussian(300, seed=3), gaussian(300, shift=0.5, seed=4)
    assert float(metrics.kernel_distance(a, b)) == pytest.approx(reference_kid_block(a, b), rel=1e-3)
    result = metrics.kernel_distance(a, b, subset_size=100, seed=7)
    rng = np.random.default_rng(7)
    ra, rb = a[rng.permutation(300)], b[rng.permutation(300)]
    blocks = [reference_kid_block(ra[i:i + 100], rb[i:i + 100]) for i in range(0, 300, 100)]
    assert float(result) == pytest.approx(np.mean(blocks), rel=1e-3)
    assert result.std == pytest.approx(np.std(blocks, ddof=1) / np.sqrt(3), rel=1e-3)


def test_classifier_score_matches_numpy():
    logits = np.random.default_rng(5).normal(0, 3, (400, 10))
    assert float(metrics.classifier_score(logits, splits=1)) == pytest.approx(reference_is(logits), rel=1e-3)
    shuffled = logits[np.random.default_rng(0).permutation(400)]
    per_split = [reference_is(part) for part in np.array_split(shuffled, 4)]
    assert float(metrics.classifier_score(logits, splits=4)) == pytest.approx(np.mean(per_split), rel=1e-3)


def test_precision_recall_matches_scipy():
    real, fake = gaussian(300, seed=6), gaussian(250, shift=0.4, scale=0.7, seed=8)
    precision, recall = metrics.precision_recall(real, fake, block=64)
    ref_p, ref_r = reference_precision_recall(real, fake)
    assert float(precision) == pytest.approx(ref_p, rel=1e-3)
    assert float(recall) == pytest.approx(ref_r, rel=1e-3)


# ---------- sanity: identical ~ 0, shifted sets ordered ----------

def test_identical_sets():
    a = gaussian(400, seed=9)
    assert abs(float(metrics.frechet_distance(a, a))) < 1e-6
    assert abs(float(metrics.kernel_distance(a, a))) < 0.05
    precision, recall = metrics.precision_recall(a, a)
    assert float(precision) == 1.0 and float(recall) == 1.0


def test_shifted_sets_are_ordered():
    real = gaussian(500, seed=10)
    near, far = gaussian(500, shift=0.3, seed=11), gaussian(500, shift=1.0, seed=12)
    assert metrics.frechet_distance(real, near) < metrics.frechet_distance(real, far)
    assert metrics.kernel_distance(real, near) < metrics.kernel_distance(real, far)
    assert metrics.precision_recall(real, near).precision > metrics.precision_recall(real, far).precision


def test_precision_separates_quality_from_diversity():
    real = gaussian(500, dim=4, seed=13)
    collapsed = gaussian(500, dim=4, scale=0.3, seed=14)  # good samples, low diversity
    precision, recall = metrics.precision_recall(real, collapsed)
    assert precision > 0.9 and recall < 0.6


def test_result_reports_n_and_extractor():
    result = metrics.frechet_distance(gaussian(50, seed=1), gaussian(40, seed=2))
    assert (result.n_real, result.n_generated, result.extractor) == (50, 40, "precomputed")
    assert "N=50 real / 40 generated" in repr(result) and f"{result:.1f}" == f"{float(result):.1f}"


def test_bad_inputs():
    with pytest.raises(ValueError, match="feature sizes"):
        metrics.frechet_distance(gaussian(10, dim=3), gaussian(10, dim=4))
    with pytest.raises(ValueError, match="shape"):
        metrics.frechet_distance(np.zeros(10), np.zeros(10))
    with pytest.raises(ValueError, match="extractor"):
        metrics.frechet_distance(np.zeros((5, 28, 28)), np.zeros((5, 28, 28)), extractor="vgg")


# ---------- on real digits with the shipped classifier ----------

@pytest.fixture(scope="module")
def digits():
    (x_train, _), (x_test, y_test) = data.load_mnist(mode="quick")
    rng = np.random.default_rng(0)
    return x_train[rng.permutation(len(x_train))[:1000]], x_test, y_test


def test_classifier_accuracy_on_held_out_split(digits):
    _, x_test, y_test = digits
    assert np.mean(features.get_extractor("mnist").predict(x_test) == y_test) >= 0.96


def test_real_digits_floor_below_noise_ceiling(digits):
    x_train, x_test, _ = digits
    noise = np.random.default_rng(1).integers(0, 256, x_test.shape).astype(np.uint8)
    floor = metrics.frechet_distance(x_train, x_test, extractor="mnist")
    ceiling = metrics.frechet_distance(noise, x_test, extractor="mnist")
    assert floor.extractor == "mnist" and floor.n_real == 1000
    assert float(floor) < 15 < 150 < float(ceiling)
    assert float(metrics.classifier_score(x_test)) > 8.0
    assert float(metrics.classifier_score(noise)) < 3.0
    # images as floats in [-1, 1] give the same answer as uint8
    tanh = x_test.astype(np.float32) / 127.5 - 1
    assert float(metrics.frechet_distance(x_train, tanh)) == pytest.approx(float(floor), rel=1e-3)


@pytest.mark.skipif(data.online(timeout=1.0), reason="checks the offline message")
def test_inception_score_offline_message(monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(RuntimeError, match="Colab"):
        metrics.inception_score(np.zeros((10, 28, 28), np.uint8))


def test_noise_is_imprecise_on_unit_length_conv_features_but_not_on_raw_128d_features(digits):
    """Why precision/recall use their own features: in the 128-d ReLU layer noise lands inside the k-NN
    balls of real digits (precision ~1); scaled to unit length, the conv features reject it."""
    x_train, x_test, _ = digits
    noise = np.random.default_rng(2).integers(0, 256, x_test.shape).astype(np.uint8)
    extractor = features.get_extractor("mnist")
    raw = metrics.precision_recall(extractor.features(x_test), extractor.features(noise))
    assert float(raw.precision) > 0.9 and float(raw.recall) < 0.05
    noise_pr = metrics.precision_recall(x_test, noise)          # images: the manifold features
    real_pr = metrics.precision_recall(x_test, x_train)
    assert float(noise_pr.precision) < 0.05 and float(noise_pr.recall) < 0.05
    assert float(real_pr.precision) > 0.7 and float(real_pr.recall) > 0.7
