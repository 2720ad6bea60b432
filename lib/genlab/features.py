"""Feature extractors for evaluating generated images (FID, KID, IS, precision/recall).

Why this module exists: every GAN metric compares images in the feature space
of a classifier, and which classifier is used changes the numbers completely.
genlab ships a small MNIST classifier (:mod:`genlab.models.classifier`,
weights in ``data/``) so the metrics work offline on a laptop, and offers InceptionV3 (the published FID/IS network) when its weights can be
downloaded, e.g. on Colab. Extractors are chosen by name::

    from genlab import features
    extractor = features.get_extractor("mnist")      # or "fashion_mnist", "inception"
    feats = extractor.features(images)                # (N, 128) penultimate layer: FID, KID
    logits = extractor.logits(images)                 # (N, 10) for the classifier score
    manifold = extractor.manifold_features(images)    # (N, 1600) conv features, unit length: precision/recall

Why precision and recall use other features than FID: in the 128-d ReLU
feature layer the k-NN balls of real digits are wide (a point's 3rd-nearest
neighbour is far away in 128 dimensions), and those of faint digits reach
where uniform noise's weak features fall, so noise scored precision near 1.0
(with the classifier trained on 4,000 digits and with today's). On the last convolutional
features (the ``flatten`` layer), scaled to unit length so that a ball
compares the *pattern* of activations and not their strength, noise scores
0 and every measure ranks noise < a trained DCGAN < real digits (notebook 08,
"Precision and recall"; tests/test_metrics.py). FID and KID keep the 128-d
features, so their recorded values are unchanged.

Images may be uint8 (N, 28, 28) in 0..255, or floats in [-1, 1] ("tanh") or
[0, 1] ("sigmoid"), with or without a channel axis; ``value_range`` says which.
"""

import numpy as np

from genlab import config, data, paths, quiet  # noqa: F401  (quiet: TensorFlow without its start-up logs)
from genlab.models import classifier

EXTRACTORS = ("mnist", "fashion_mnist", "inception")
MANIFOLD_LAYER = "flatten"   # the classifiers' conv features for precision/recall (see above)
INCEPTION_WEIGHTS = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"


class FeatureExtractor:
    """Batched features and logits from one network, with a name for reports.

    Args:
        name: "mnist", "fashion_mnist" or "inception".
        model: Keras model mapping preprocessed images to [features, logits] or
            [features, logits, manifold features] (without the third output the
            features serve precision/recall too).
        preprocess: function from [0, 1] float (N, 28, 28, 1) to the model's input.
    """

    def __init__(self, name, model, preprocess=None):
        self.name = name
        self.model = model
        self.preprocess = preprocess or (lambda x: x)
        self.feature_dim = int(model.outputs[0].shape[-1])
        self.num_classes = int(model.outputs[1].shape[-1])
        self.manifold_dim = int(model.outputs[-1 if len(model.outputs) > 2 else 0].shape[-1])

    def __repr__(self):
        return f"FeatureExtractor({self.name!r}, feature_dim={self.feature_dim})"

    def run(self, images, batch_size=256, value_range="auto", progress=None, manifold=False):
        """(features, logits) as float32 arrays; a tqdm bar when progress (default: N > 2,000).

        With ``manifold=True``: (features, logits, raw manifold features).
        """
        outputs = self._outputs(images, batch_size, value_range, progress)
        if len(outputs) == 2:
            outputs = outputs + [outputs[0]]
        return tuple(outputs) if manifold else tuple(outputs[:2])

    def _outputs(self, images, batch_size, value_range, progress):
        x = data.to_unit_range(images, value_range)
        show = len(x) > 2000 if progress is None else progress
        starts = range(0, len(x), batch_size)
        if show:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc=f"{self.name} features", unit="batch", leave=False)
        parts = [[] for _ in self.model.outputs]
        for start in starts:
            for part, value in zip(parts, self.model(self.preprocess(x[start:start + batch_size]), training=False)):
                part.append(np.asarray(value, dtype=np.float32).reshape(len(value), -1))
        if not parts[0]:
            return [np.zeros((0, int(out.shape[-1])), np.float32) for out in self.model.outputs]
        return [np.concatenate(part) for part in parts]

    def features(self, images, **kwargs):
        """Penultimate-layer features (N, feature_dim) for FID, KID, precision/recall."""
        return self.run(images, **kwargs)[0]

    def logits(self, images, **kwargs):
        """Class logits (N, num_classes) for the classifier (Inception) score."""
        return self.run(images, **kwargs)[1]

    def manifold_features(self, images, normalize=True, **kwargs):
        """Features for precision/recall (N, manifold_dim): the conv features, scaled to unit length.

        ``normalize=False`` gives them raw (notebook 08 measures both).
        """
        values = self.run(images, manifold=True, **kwargs)[2]
        return l2_normalize(values) if normalize else values

    def predict(self, images, **kwargs):
        """Predicted class labels (N,)."""
        return np.argmax(self.logits(images, **kwargs), axis=1)


def l2_normalize(x, epsilon=1e-12):
    """Each row scaled to unit length (an all-zero row stays zero)."""
    x = np.asarray(x)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), epsilon)


def _inception_extractor():
    import keras
    import tensorflow as tf

    from genlab import data

    message = ("The InceptionV3 extractor needs its ImageNet weights (~92 MB), which Keras downloads "
               "on first use, and this machine cannot download them (no internet?). Use it where "
               "there is internet, e.g. on Colab, or use get_extractor('mnist') offline.")
    cached = paths.KERAS_HOME / "models" / INCEPTION_WEIGHTS
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
        # float32 whatever policy the notebook chose (config.use_precision): the same images
        # must give the same features, so an FID means the same under both policies.
        with config.precision_scope("float32"):
            if name == "inception":
                _CACHE[name] = _inception_extractor()
            else:
                import keras

                network = classifier.load(name)
                model = keras.Model(network.input,
                                    [network.get_layer("features").output, network.output,
                                     network.get_layer(MANIFOLD_LAYER).output],
                                    name=f"{name}_features")
                _CACHE[name] = FeatureExtractor(name, model)
    return _CACHE[name]
