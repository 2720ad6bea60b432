"""Trained weights that ship with genlab, loaded only after their SHA-256 checks out.

Why it exists: a student on a laptop should see what a trained model does
without waiting for full mode. Quick mode trains briefly to show the loop,
then loads the shipped model for its results. Each shipped model is a
weights file and a manifest in ``data/pretrained/``: ``<name>.weights.h5``
and ``<name>.json`` (its SHA-256, the builder, the command that trained it,
the time it took, the machine, and its evaluation with floor and ceiling;
data/README.md has the same). A corrupt or missing file is an error naming
the file and saying how to restore it, never a silent retrain.

Example::

    from genlab import pretrained
    generator = pretrained.load("dcgan_mnist")
    pretrained.info("dcgan_mnist")["evaluation"]
"""

import importlib
import json

from genlab import paths

MAX_BYTES = 5 * 1024 * 1024         # one shipped file
MAX_TOTAL_BYTES = 40 * 1024 * 1024  # all of them together


def directory():
    """``data/pretrained`` (or ``$GENLAB_DATA_DIR/pretrained``)."""
    return paths.DATA_DIR / "pretrained"


def names():
    """The shipped models, by name."""
    return sorted(path.stem for path in directory().glob("*.json"))


def info(name):
    """The manifest of a shipped model (dict).

    Raises:
        FileNotFoundError: no such shipped model (the message lists those there are).
    """
    manifest = directory() / f"{name}.json"
    if not manifest.is_file():
        raise FileNotFoundError(
            f"no shipped weights named {name!r} ({manifest} is missing); shipped: {names() or 'none'}. "
            f"{paths.RESTORE}")
    return json.loads(manifest.read_text(encoding="utf-8"))


def build(name):
    """The untrained model the weights of ``name`` belong to, from its manifest's builder."""
    module_name, _, function = info(name)["builder"].partition(":")
    if not module_name.startswith("genlab.models."):
        raise ValueError(f"{name}: builder {module_name!r} is not a genlab model family")
    return getattr(importlib.import_module(module_name), function)()


def load(name):
    """The shipped model ``name`` with its trained weights (verified against the manifest's SHA-256).

    Raises:
        FileNotFoundError: the manifest or the weights file is missing.
        paths.ChecksumError: the weights file is not the one that was shipped.
    """
    manifest = info(name)
    weights = paths.verify_sha256(directory() / manifest["file"], manifest["sha256"])
    model = build(name)
    model.load_weights(weights)
    return model
