"""Tests for genlab.features: the shipped MNIST classifier and extractor plumbing."""

import shutil

import numpy as np
import pytest

from genlab import quiet  # noqa: F401  (TensorFlow without its start-up logs)
from genlab import data, features, paths
from genlab.models import classifier


@pytest.fixture(scope="module")
def mnist():
    return data.load_mnist(mode="quick")


@pytest.fixture(scope="module")
def extractor():
    return features.get_extractor("mnist")


def test_shipped_classifier_accuracy_on_held_out_split(mnist, extractor):
    _, (x_test, y_test) = mnist
    accuracy = float(np.mean(extractor.predict(x_test) == y_test))
    assert accuracy >= 0.96, accuracy
    assert classifier.info("mnist")["test_accuracy"] >= 0.96


def test_feature_and_logit_shapes(mnist, extractor):
    (x_train, _), _ = mnist
    feats, logits = extractor.run(x_train[:70], batch_size=32)
    assert feats.shape == (70, 128) and logits.shape == (70, 10)
    assert feats.dtype == np.float32
    assert extractor.features(x_train[:0]).shape == (0, 128)


def test_value_ranges_give_the_same_features(mnist, extractor):
    (x_train, _), _ = mnist
    x = x_train[:50]
    reference = extractor.features(x)
    tanh = x.astype(np.float32)[..., None] / 127.5 - 1.0
    sigmoid = x.astype(np.float32) / 255.0
    np.testing.assert_allclose(extractor.features(tanh), reference, atol=1e-4)
    np.testing.assert_allclose(extractor.features(tanh, value_range="tanh"), reference, atol=1e-4)
    np.testing.assert_allclose(extractor.features(sigmoid, value_range="sigmoid"), reference, atol=1e-4)
    np.testing.assert_allclose(data.to_unit_range(x.astype(np.float32)), x[..., None] / 255.0, atol=1e-6)


def test_bad_arguments_raise_value_error(extractor):
    with pytest.raises(ValueError, match="extractor must be one of"):
        features.get_extractor("resnet")
    with pytest.raises(ValueError, match="value_range"):
        data.to_unit_range(np.zeros((2, 28, 28)), value_range="0-255")
    with pytest.raises(ValueError, match="shape"):
        data.to_unit_range(np.zeros((28, 28)))


def test_corrupt_weights_are_named(tmp_path, monkeypatch):
    weights, info = classifier.weights_paths("mnist")
    shutil.copy(info, tmp_path / info.name)
    (tmp_path / weights.name).write_bytes(weights.read_bytes()[:-10] + b"0123456789")
    monkeypatch.setattr(paths, "DATA_DIR", tmp_path)
    with pytest.raises(paths.ChecksumError, match="mnist_classifier.weights.h5"):
        classifier.load()
    (tmp_path / weights.name).unlink()
    with pytest.raises(FileNotFoundError, match="train_classifier.py"):
        classifier.load()


@pytest.mark.skipif(data.online(timeout=1.0), reason="checks the offline messages")
def test_offline_extractors_fail_fast_with_a_clear_message(monkeypatch, tmp_path):
    monkeypatch.setattr(classifier, "CACHE_DIR", tmp_path)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(RuntimeError, match="internet"):
        features.get_extractor("inception")
    with pytest.raises(RuntimeError, match="offline"):
        features.get_extractor("fashion_mnist")


def test_fashion_classifier_trains_once_then_loads_from_cache(monkeypatch, tmp_path):
    """The online path, simulated: 'Fashion-MNIST' is the shipped MNIST subset, one epoch."""
    monkeypatch.setattr(data, "load_fashion_mnist", lambda mode=None: data.load_mnist(mode="quick"))
    monkeypatch.setattr(classifier, "CACHE_DIR", tmp_path)
    monkeypatch.setattr(classifier, "FASHION_EPOCHS", 1)
    monkeypatch.setattr(features, "_CACHE", {})
    extractor = features.get_extractor("fashion_mnist")
    assert extractor.name == "fashion_mnist" and extractor.feature_dim == 128
    info = classifier.info("fashion_mnist")
    assert (tmp_path / info["weights"]).is_file() and info["sha256"] == paths.sha256(tmp_path / info["weights"])
    monkeypatch.setattr(data, "load_fashion_mnist", lambda mode=None: pytest.fail("must load from the cache"))
    monkeypatch.setattr(features, "_CACHE", {})
    assert features.get_extractor("fashion_mnist").features(np.zeros((3, 28, 28), np.uint8)).shape == (3, 128)


def test_train_script_writes_weights_that_load(monkeypatch, tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("train_classifier", paths.REPO_ROOT / "scripts" / "train_classifier.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    full = data.load_mnist
    monkeypatch.setattr(data, "load_mnist", lambda **kwargs: full(mode="quick"))   # one quick epoch
    monkeypatch.setattr(paths, "DATA_DIR", tmp_path)
    assert script.main(["--epochs", "1", "--min-accuracy", "0.99"]) == 1  # refuses to save a weak model
    assert not (tmp_path / "mnist_classifier.weights.h5").exists()
    assert script.main(["--epochs", "1", "--min-accuracy", "0"]) == 0
    info = classifier.info("mnist")
    assert info["epochs"] == 1 and info["trained_on"] == "MNIST train (5,000)" and "CPU cores" in info["machine"]
    assert classifier.load().count_params() == info["params"]


def test_manifold_features_are_unit_length_conv_features(mnist, extractor):
    (x_train, _), _ = mnist
    raw = extractor.manifold_features(x_train[:40], normalize=False)
    unit = extractor.manifold_features(x_train[:40])
    assert raw.shape == unit.shape == (40, extractor.manifold_dim) and extractor.manifold_dim == 5 * 5 * 64
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(unit, raw / np.linalg.norm(raw, axis=1, keepdims=True), rtol=1e-5)
    feats, logits, manifold = extractor.run(x_train[:40], manifold=True)
    np.testing.assert_array_equal(manifold, raw)
    assert len(extractor.run(x_train[:40])) == 2  # (features, logits), as before
    np.testing.assert_array_equal(features.l2_normalize(np.zeros((2, 3))), np.zeros((2, 3)))
