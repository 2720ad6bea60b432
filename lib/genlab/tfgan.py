"""TF-GAN's evaluation metrics and losses, importable on current TensorFlow.

Why this module exists: ``import tensorflow_gan`` (2.1.0, the last release)
fails on TensorFlow >= 2.16 because the package ``__init__`` eagerly imports
its Estimator API, which needs the removed ``tf.estimator``; on Python 3.12 it
also needs the removed ``distutils``. The parts genlab uses, ``eval`` (Frechet
classifier distance, classifier score, kernel distance, sliced Wasserstein)
and ``losses``, do not touch either. So instead of importing the package we
register two empty package objects for ``tensorflow_gan`` and
``tensorflow_gan.python`` (pointing at the installed directories, so Python
finds the submodules) and import only the submodules we need. Nothing in
site-packages is edited.

Every other genlab module reaches TF-GAN through here::

    from genlab.tfgan import tfgan_eval, tfgan_losses
    tfgan_eval.frechet_classifier_distance_from_activations(a, b)
"""

import importlib
import importlib.util
import sys
import types

from genlab import quiet  # noqa: F401  (silences TF before it is imported)

_INSTALL_HINT = (
    "TF-GAN is not installed. Install it with `pip install tensorflow-gan==2.1.0` "
    "(it is in genlab's dependencies: `pip install -e .` or `make test` does it)."
)


def _register_namespace(name, path):
    """Put an empty package object for `name` in sys.modules (no __init__ runs)."""
    if name in sys.modules:
        return sys.modules[name]
    module = types.ModuleType(name)
    module.__path__ = [path]
    module.__package__ = name
    sys.modules[name] = module
    return module


def _load():
    spec = importlib.util.find_spec("tensorflow_gan")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(_INSTALL_HINT)
    existing = sys.modules.get("tensorflow_gan")
    if existing is not None and hasattr(existing, "eval"):
        # The real package imported fine (an older TensorFlow): use it as is.
        return existing.eval, existing.losses
    root = list(spec.submodule_search_locations)[0]
    _register_namespace("tensorflow_gan", root)
    _register_namespace("tensorflow_gan.python", root + "/python")
    # inception_metrics imports tensorflow_hub at module level; genlab does not
    # use TF-Hub (its downloads fail offline) but the eval package imports it.
    eval_module = importlib.import_module("tensorflow_gan.python.eval")
    losses_module = importlib.import_module("tensorflow_gan.python.losses")
    return eval_module, losses_module


tfgan_eval, tfgan_losses = _load()

__all__ = ["tfgan_eval", "tfgan_losses"]
