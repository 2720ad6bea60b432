"""Feature extractors for evaluating generated images (FID, KID, IS, precision/recall).

Why this module exists: every GAN metric compares images in the feature space
of a classifier, and which classifier is used changes the numbers completely.
genlab ships a small MNIST classifier (weights in ``data/``, trained by
``scripts/train_classifier.py``) so the metrics work offline on a laptop, and
offers InceptionV3 (the published FID/IS network) when its weights can be
downloaded, e.g. on Colab. Extractors are chosen by name::

    from genlab import features
    extractor = features.get_extractor("mnist")      # or "fashion_mnist", "inception"
    feats = extractor.features(images)                # (N, 128) penultimate layer
    logits = extractor.logits(images)                 # (N, 10) for the classifier score

Images may be uint8 (N, 28, 28) in 0..255, or floats in [-1, 1] ("tanh") or
[0, 1] ("sigmoid"), with or without a channel axis; ``value_range`` says which.
"""

import json
import os
from pathlib import Path

import numpy as np

from genlab import paths, quiet  # noqa: F401  (quiet silences TF before it is imported)

EXTRACTORS = ("mnist", "fashion_mnist", "inception")
VALUE_RANGES = ("auto", "uint8", "tanh", "sigmoid")
INCEPTION_WEIGHTS = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
FASHION_EPOCHS = 10  # Fashion-MNIST classifier, trained on first online use
CACHE_DIR = Path(os.environ.get("GENLAB_CACHE_DIR", Path.home() / ".cache" / "genlab"))


def weights_paths(dataset="mnist"):
    """(weights, metadata) paths: shipped in data/ for MNIST, cached for Fashion-MNIST."""
    folder = paths.DATA_DIR if dataset == "mnist" else CACHE_DIR
    stem = f"{dataset}_classifier"
    return folder / f"{stem}.weights.h5", folder / f"{stem}.json"


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


def build_classifier(num_classes=10, feature_dim=128):
    """The small CNN (~225k parameters): two conv blocks, a 128-d feature layer, logits.

    Input: float (N, 28, 28, 1) in [0, 1]. The layer named "features" is the
    penultimate layer used for FID/KID/precision-recall; "logits" feeds the
    classifier score.
    """
    import keras
    from keras import layers

    inputs = keras.Input(shape=(28, 28, 1), name="image")
    x = layers.Conv2D(32, 3, activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(name="pool1")(x)
    x = layers.Conv2D(64, 3, activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(name="pool2")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dropout(0.3, name="dropout1")(x)
    features = layers.Dense(feature_dim, activation="relu", name="features")(x)
    x = layers.Dropout(0.3, name="dropout2")(features)
    logits = layers.Dense(num_classes, name="logits")(x)
    return keras.Model(inputs, logits, name="mnist_classifier")


def train_classifier(x_train, y_train, x_test, y_test, epochs=15, batch_size=64, seed=0, verbose=0):
    """Train :func:`build_classifier` with light augmentation; return (model, test accuracy)."""
    import keras
    from keras import layers

    from genlab import config

    config.seed_everything(seed)
    model = build_classifier(num_classes=int(np.max(y_train)) + 1)
    augment = keras.Sequential(
        [layers.RandomTranslation(0.1, 0.1, seed=seed), layers.RandomRotation(0.04, seed=seed)],
        name="augment",
    )
    trainer = keras.Sequential([keras.Input((28, 28, 1)), augment, model], name="trainer")
    trainer.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    trainer.fit(to_unit_range(x_train), y_train.astype("int32"), epochs=epochs,
                batch_size=batch_size, shuffle=True, verbose=verbose)
    predictions = np.argmax(model.predict(to_unit_range(x_test), batch_size=512, verbose=0), axis=1)
    return model, float(np.mean(predictions == y_test))


def save_classifier(model, dataset, accuracy, metadata):
    """Write the weights and a JSON file (SHA-256, accuracy, provenance) next to them."""
    weights, info = weights_paths(dataset)
    weights.parent.mkdir(parents=True, exist_ok=True)
    model.save_weights(weights)
    record = dict(metadata, dataset=dataset, test_accuracy=round(accuracy, 4),
                  params=int(model.count_params()), sha256=paths.sha256(weights), weights=weights.name)
    info.write_text(json.dumps(record, indent=2) + "\n")
    return record


def classifier_info(dataset="mnist"):
    """The metadata JSON of a trained classifier (accuracy, data, SHA-256)."""
    return json.loads(weights_paths(dataset)[1].read_text())


def mnist_classifier(dataset="mnist"):
    """The shipped (MNIST) or cached (Fashion-MNIST) classifier as a Keras model.

    Raises:
        FileNotFoundError: weights missing (with the command that makes them).
        paths.ChecksumError: the weights' SHA-256 does not match the recorded one.
    """
    weights, info = weights_paths(dataset)
    if not weights.exists() or not info.exists():
        raise FileNotFoundError(
            f"{weights} (or {info.name}) not found; create it with "
            f"`python scripts/train_classifier.py --dataset {dataset}`.")
    expected = json.loads(info.read_text())["sha256"]
    actual = paths.sha256(weights)
    if actual != expected:
        raise paths.ChecksumError(
            f"{weights} is corrupt or was replaced: SHA-256 {actual} != {expected} recorded in "
            f"{info.name}. Restore it (git checkout / git lfs pull) or retrain with "
            f"`python scripts/train_classifier.py --dataset {dataset}`.")
    model = build_classifier()
    model.load_weights(weights)
    return model


def _fashion_classifier():
    """Load the cached Fashion-MNIST classifier, training it on first (online) use."""
    weights, _ = weights_paths("fashion_mnist")
    if weights.exists():
        return mnist_classifier("fashion_mnist")
    from genlab import data

    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()  # raises offline, fast
    model, accuracy = train_classifier(x_train, y_train, x_test, y_test, epochs=FASHION_EPOCHS)
    save_classifier(model, "fashion_mnist", accuracy, {"trained_on": "Fashion-MNIST train (60,000)",
                                                        "tested_on": "Fashion-MNIST test (10,000)"})
    return model


class FeatureExtractor:
    """Batched features and logits from one network, with a name for reports.

    Args:
        name: "mnist", "fashion_mnist" or "inception".
        model: Keras model mapping preprocessed images to [features, logits].
        preprocess: function from [0, 1] float (N, 28, 28, 1) to the model's input.
    """

    def __init__(self, name, model, preprocess=None):
        self.name = name
        self.model = model
        self.preprocess = preprocess or (lambda x: x)
        self.feature_dim = int(model.outputs[0].shape[-1])
        self.num_classes = int(model.outputs[1].shape[-1])

    def __repr__(self):
        return f"FeatureExtractor({self.name!r}, feature_dim={self.feature_dim})"

    def run(self, images, batch_size=256, value_range="auto", progress=None):
        """(features, logits) as float32 arrays; a tqdm bar when progress (default: N > 2,000)."""
        x = to_unit_range(images, value_range)
        show = len(x) > 2000 if progress is None else progress
        starts = range(0, len(x), batch_size)
        if show:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc=f"{self.name} features", unit="batch", leave=False)
        feats, logits = [], []
        for start in starts:
            f, l = self.model(self.preprocess(x[start:start + batch_size]), training=False)
            feats.append(np.asarray(f, dtype=np.float32))
            logits.append(np.asarray(l, dtype=np.float32))
        if not feats:
            return np.zeros((0, self.feature_dim), np.float32), np.zeros((0, self.num_classes), np.float32)
        return np.concatenate(feats), np.concatenate(logits)

    def features(self, images, **kwargs):
        """Penultimate-layer features (N, feature_dim) for FID, KID, precision/recall."""
        return self.run(images, **kwargs)[0]

    def logits(self, images, **kwargs):
        """Class logits (N, num_classes) for the classifier (Inception) score."""
        return self.run(images, **kwargs)[1]

    def predict(self, images, **kwargs):
        """Predicted class labels (N,)."""
        return np.argmax(self.logits(images, **kwargs), axis=1)


def _inception_extractor():
    import keras
    import tensorflow as tf

    from genlab import data

    message = ("The InceptionV3 extractor needs its ImageNet weights (~92 MB), which Keras downloads "
               "on first use, and this machine cannot download them (no internet?). Use it where "
               "there is internet, e.g. on Colab, or use get_extractor('mnist') offline.")
    cached = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models" / INCEPTION_WEIGHTS
    if not cached.is_file() and not data.online():
        raise RuntimeError(message)
    try:
        net = keras.applications.InceptionV3(include_top=True, weights="imagenet")
    except Exception as error:  # Keras raises a bare Exception on URL failures
        raise RuntimeError(message + " Cause: " + str(error)[:200]) from None
    pool = net.get_layer("avg_pool").output
    # The top layer is a softmax; log-probabilities are logits up to a constant.
    log_probs = keras.layers.Lambda(lambda p: tf.math.log(p + 1e-12), name="log_probs")(net.output)
    model = keras.Model(net.input, [pool, log_probs], name="inception_v3_features")

    def preprocess(x):
        # As published FID code does: bilinear resize to 299x299, grey -> RGB, scale to [-1, 1].
        x = tf.image.resize(tf.convert_to_tensor(x), (299, 299), method="bilinear")
        if x.shape[-1] == 1:
            x = tf.repeat(x, 3, axis=-1)
        return x * 2.0 - 1.0

    return FeatureExtractor("inception", model, preprocess)


_CACHE = {}


def get_extractor(name="mnist"):
    """A (cached) :class:`FeatureExtractor` by name: "mnist", "fashion_mnist" or "inception".

    Raises:
        ValueError: unknown name.
        RuntimeError: Fashion-MNIST or Inception weights cannot be obtained offline.
    """
    if isinstance(name, FeatureExtractor):
        return name
    if name not in EXTRACTORS:
        raise ValueError(f"extractor must be one of {EXTRACTORS}, got {name!r}")
    if name not in _CACHE:
        if name == "inception":
            _CACHE[name] = _inception_extractor()
        else:
            import keras

            classifier = mnist_classifier() if name == "mnist" else _fashion_classifier()
            model = keras.Model(classifier.input,
                                [classifier.get_layer("features").output, classifier.output],
                                name=f"{name}_features")
            _CACHE[name] = FeatureExtractor(name, model)
    return _CACHE[name]
