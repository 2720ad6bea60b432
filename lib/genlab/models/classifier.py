"""The small classifier whose features genlab's metrics use: its builder, training and loading.

Why it exists: FID, KID, the classifier score and precision/recall compare
images in a classifier's feature space (:mod:`genlab.features`). genlab
ships one trained on MNIST (``data/mnist_classifier.weights.h5``, made by
``scripts/train_classifier.py``; data/README.md) so the metrics work
offline; a Fashion-MNIST one is trained on first online use and cached.
Later notebooks (06's class accuracy, 11's guidance sweep) use it as the
"project classifier".
"""

import json

import numpy as np

from genlab import config, data, paths, quiet  # noqa: F401  (quiet: TensorFlow without its start-up logs)

FASHION_EPOCHS = 10  # Fashion-MNIST classifier, trained on first online use
CACHE_DIR = paths.cache_dir()


def weights_paths(dataset="mnist"):
    """(weights, metadata) paths: shipped in data/ for MNIST, cached for Fashion-MNIST."""
    folder = paths.DATA_DIR if dataset == "mnist" else CACHE_DIR
    stem = f"{dataset}_classifier"
    return folder / f"{stem}.weights.h5", folder / f"{stem}.json"


def build(num_classes=10, feature_dim=128):
    """The small CNN (~225k parameters): two conv blocks, a 128-d feature layer, logits.

    Input: float (N, 28, 28, 1) in [0, 1]. The layer named "features" is the
    penultimate layer used for FID/KID/precision-recall; "logits" feeds the
    classifier score.
    """
    import keras
    from keras import layers

    # Always float32, whatever policy the notebook chose: features computed in bfloat16
    # differ by ~1% and would move every FID (genlab.config, "precision").
    with config.precision_scope("float32"):
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


def train(x_train, y_train, x_test, y_test, epochs=15, batch_size=64, seed=0, verbose=0):
    """Train :func:`build` with light augmentation; return (model, test accuracy)."""
    import keras
    from keras import layers

    from genlab import config

    config.seed_everything(seed)
    model = build(num_classes=int(np.max(y_train)) + 1)
    augment = keras.Sequential(
        [layers.RandomTranslation(0.1, 0.1, seed=seed), layers.RandomRotation(0.04, seed=seed)],
        name="augment",
    )
    trainer = keras.Sequential([keras.Input((28, 28, 1)), augment, model], name="trainer")
    # Cosine decay of the learning rate to zero: the last epochs' small steps gain ~0.1 % of test
    # accuracy over a constant 1e-3 (99.27 % after 15 epochs with it constant, 2026-12-05).
    steps = epochs * (len(x_train) // batch_size + (len(x_train) % batch_size > 0))
    trainer.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(1e-3, steps)),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    trainer.fit(data.to_unit_range(x_train), y_train.astype("int32"), epochs=epochs,
                batch_size=batch_size, shuffle=True, verbose=verbose)
    predictions = np.argmax(model.predict(data.to_unit_range(x_test), batch_size=512, verbose=0), axis=1)
    return model, float(np.mean(predictions == y_test))


def save(model, dataset, accuracy, metadata):
    """Write the weights and a JSON file (SHA-256, accuracy, provenance) next to them."""
    weights, info = weights_paths(dataset)
    weights.parent.mkdir(parents=True, exist_ok=True)
    model.save_weights(weights)
    record = dict(metadata, dataset=dataset, test_accuracy=round(accuracy, 4),
                  params=int(model.count_params()), sha256=paths.sha256(weights), weights=weights.name)
    info.write_text(json.dumps(record, indent=2) + "\n")
    return record


def info(dataset="mnist"):
    """The metadata JSON of a trained classifier (accuracy, data, SHA-256)."""
    return json.loads(weights_paths(dataset)[1].read_text())


def load(dataset="mnist"):
    """The shipped (MNIST) or cached (Fashion-MNIST; trained on first online use) classifier.

    Raises:
        FileNotFoundError: weights missing (with the command that makes them).
        paths.ChecksumError: the weights' SHA-256 does not match the recorded one.
        data.DatasetUnavailableError: Fashion-MNIST not cached and offline.
    """
    weights, info = weights_paths(dataset)
    if dataset == "fashion_mnist" and not weights.exists():
        return _train_fashion_classifier()
    if not weights.exists() or not info.exists():
        raise FileNotFoundError(
            f"{weights} (or {info.name}) not found; create it with "
            f"`python scripts/train_classifier.py --dataset {dataset}`.")
    paths.verify_sha256(weights, json.loads(info.read_text())["sha256"],
                        restore=f"Restore it (`git checkout -- data/`) or retrain it with "
                                f"`python scripts/train_classifier.py --dataset {dataset}`.")
    model = build()
    model.load_weights(weights)
    return model


def _train_fashion_classifier():
    """Train the Fashion-MNIST classifier on first (online) use and cache it."""
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()  # raises offline, fast
    model, accuracy = train(x_train, y_train, x_test, y_test, epochs=FASHION_EPOCHS)
    save(model, "fashion_mnist", accuracy, {"trained_on": "Fashion-MNIST train (60,000)",
                                            "tested_on": "Fashion-MNIST test (10,000)"})
    return model
