import shutil
import time

import numpy as np
import pytest

from genlab import data, paths


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network and an empty Keras cache, as on CI."""
    monkeypatch.setattr(data, "online", lambda timeout=3.0: False)
    monkeypatch.setattr(data, "KERAS_CACHE", tmp_path / "keras-datasets")


def test_offline_mnist_is_the_shipped_real_subset(offline):
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    assert data.last_source() == "shipped"
    assert x_train.shape == (4000, 28, 28) and x_test.shape == (1000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.array_equal(np.bincount(y_train), [400] * 10)
    assert np.array_equal(np.bincount(y_test), [100] * 10)
    # Real digits: mostly background with bright strokes, not noise.
    assert 0.70 < np.mean(x_train == 0) < 0.90 and x_train.max() == 255


def test_shipped_checksum_matches_readme():
    readme = (paths.DATA_DIR / "README.md").read_text()
    assert data.MNIST_SUBSET_SHA256 in readme
    assert paths.sha256(paths.DATA_DIR / data.MNIST_SUBSET) == data.MNIST_SUBSET_SHA256


def test_corrupt_subset_is_a_clear_error(offline, monkeypatch, tmp_path):
    copy_dir = tmp_path / "data"
    copy_dir.mkdir()
    corrupt = copy_dir / data.MNIST_SUBSET
    shutil.copy(paths.DATA_DIR / data.MNIST_SUBSET, corrupt)
    with open(corrupt, "r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00" * 16)
    monkeypatch.setattr(paths, "DATA_DIR", copy_dir)
    with pytest.raises(paths.ChecksumError, match="mnist_5k.npz is corrupt.*git checkout -- data/"):
        data.load_mnist()


def test_missing_subset_says_how_to_restore(offline, monkeypatch, tmp_path):
    monkeypatch.setattr(paths, "DATA_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="mnist_5k.npz is missing"):
        data.load_mnist(source="shipped")


def test_offline_fashion_mnist_fails_fast_with_instructions(offline):
    start = time.perf_counter()
    with pytest.raises(data.DatasetUnavailableError, match="offline.*Connect to the internet.*fashion-mnist"):
        data.load_fashion_mnist()
    assert time.perf_counter() - start < 5


def test_online_probe_tells_a_listening_host_from_a_closed_one(monkeypatch):
    """Against servers on this machine: True for a listening port, False (at once) for a closed one."""
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        monkeypatch.setattr(data, "DOWNLOAD_HOST", server.getsockname())
        assert data.online(timeout=3.0) is True
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        closed.close()  # nothing listens there any more: the connection is refused
    monkeypatch.setattr(data, "DOWNLOAD_HOST", ("127.0.0.1", port))
    start = time.perf_counter()
    assert data.online(timeout=3.0) is False
    assert time.perf_counter() - start < 1.0


def test_unknown_names_are_value_errors():
    with pytest.raises(ValueError):
        data.load_mnist(source="internet")
    with pytest.raises(ValueError):
        data.load("cifar10")
    with pytest.raises(ValueError):
        data.scale_images(np.zeros((1, 2, 2), np.uint8), to="relu")


def test_scaling_round_trips():
    images = np.arange(256, dtype=np.uint8).reshape(1, 16, 16)
    tanh = data.scale_images(images, to="tanh")
    assert tanh.shape == (1, 16, 16, 1) and tanh.min() == -1.0 and tanh.max() == 1.0
    assert np.array_equal(data.to_uint8(tanh), images)
    sigmoid = data.scale_images(images, to="sigmoid")
    assert sigmoid.min() == 0.0 and sigmoid.max() == 1.0
    assert np.array_equal(data.to_uint8(sigmoid, from_range="sigmoid"), images)


def test_to_dataset_batches_and_labels():
    images = np.zeros((70, 28, 28), np.uint8)
    labels = np.arange(70) % 10
    batches = list(data.to_dataset(images, 32, labels=labels, seed=0))
    assert len(batches) == 2  # the partial batch is dropped
    batch_images, batch_labels = batches[0]
    assert batch_images.shape == (32, 28, 28, 1) and batch_labels.shape == (32,)
    endless = data.to_dataset(images, 32, repeat=True, seed=0)
    assert len(list(endless.take(5))) == 5


def test_ring_of_gaussians_covers_every_mode():
    points = data.ring_of_gaussians(4000, modes=8, radius=2.0, std=0.02, seed=1)
    centres = data.ring_centres(8, 2.0)
    nearest = np.argmin(((points[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
    assert points.shape == (4000, 2) and points.dtype == np.float32
    assert np.all(np.bincount(nearest, minlength=8) > 400)
    assert np.allclose(np.linalg.norm(points, axis=1), 2.0, atol=0.15)


def test_online_path_uses_keras_download(monkeypatch, tmp_path):
    import keras

    fake = ((np.ones((6, 28, 28), np.uint8), np.arange(6, dtype=np.uint8)),
            (np.ones((2, 28, 28), np.uint8), np.arange(2, dtype=np.uint8)))
    monkeypatch.setattr(data, "online", lambda timeout=3.0: True)
    monkeypatch.setattr(data, "KERAS_CACHE", tmp_path)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: fake)
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", lambda: fake)
    assert data.load_mnist()[0][0].shape == (6, 28, 28) and data.last_source() == "keras"
    assert data.load("fashion_mnist")[1][0].shape == (2, 28, 28) and data.last_source() == "keras"


def test_failed_download_falls_back_or_explains(monkeypatch, tmp_path):
    import keras

    def broken():
        raise OSError("connection reset")

    monkeypatch.setattr(data, "online", lambda timeout=3.0: True)
    monkeypatch.setattr(data, "KERAS_CACHE", tmp_path)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", broken)
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", broken)
    assert data.load_mnist()[0][0].shape == (4000, 28, 28) and data.last_source() == "shipped"
    with pytest.raises(data.DatasetUnavailableError, match="source='shipped'"):
        data.load_mnist(source="keras")
    with pytest.raises(data.DatasetUnavailableError, match="connection reset"):
        data.load_fashion_mnist()


def test_shipped_subset_is_shuffled_not_sorted_by_class(offline):
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    assert len(np.unique(y_train[:100])) == 10 and len(np.unique(y_test[:100])) == 10
    (x_again, y_again), _ = data.load_mnist()
    assert np.array_equal(y_train, y_again) and np.array_equal(x_train, x_again)  # fixed order
