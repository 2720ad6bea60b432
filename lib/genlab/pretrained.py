"""Trained weights that ship with genlab, loaded only after their SHA-256 checks out.

Why it exists: a student on a laptop should see what a trained model does
without waiting for full mode. Quick mode trains briefly to show the loop,
then loads the shipped model for its results. Each shipped model is a
weights file and a manifest in ``data/pretrained/``: ``<name>.weights.h5``
and ``<name>.json`` (its SHA-256, the builder, the command that trained it,
the time it took, the machine, and its evaluation with floor and ceiling;
data/README.md has the same). A corrupt or missing file is an error naming
the file and saying how to restore it, never a silent retrain.

A model too large for the per-file limit in float32 may be stored in float16
(manifest ``"storage_dtype": "float16"``, written by :func:`store_weights`):
half the bytes; :func:`load` returns it in float32 as usual. Notebook 04's
MLP GAN ships that way, its manifest recording the FID of both. One still too
large in float16 (notebook 06's InfoGAN: Chen et al.'s 1024 x 6272 Dense layer)
may store its weight matrices in int8 (``"int8"``): each output unit's column
scaled to [-127, 127], its scale kept beside it, the other arrays in float16;
about a quarter of the float32 bytes. Keras cannot read that layout itself, so
:func:`load` writes the float32 values to a temporary file first.

Example::

    from genlab import pretrained
    generator = pretrained.load("dcgan_mnist")
    pretrained.info("dcgan_mnist")["evaluation"]
"""

import importlib
import json
from pathlib import Path

from genlab import paths

MAX_BYTES = 10 * 1024 * 1024        # one shipped file
MAX_TOTAL_BYTES = 60 * 1024 * 1024  # all of them together
STORAGE_DTYPES = ("float32", "float16", "int8")  # how a shipped file may store its float32 weights
INT8_SCALE = "genlab_int8_scale"    # the attribute holding an int8 array's per-column scales


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
    storage_dtype = manifest.get("storage_dtype", "float32")
    if storage_dtype not in STORAGE_DTYPES:
        raise ValueError(f"{name}: storage_dtype {storage_dtype!r} is not one of {STORAGE_DTYPES}")
    weights = paths.verify_sha256(directory() / manifest["file"], manifest["sha256"])
    model = load_stored_weights(build(name), weights, storage_dtype)
    if storage_dtype != "float32" and any(weight.dtype != "float32" for weight in model.weights):
        raise TypeError(f"{name}: weights stored in {storage_dtype} did not load as float32")
    return model


def load_stored_weights(model, path, storage_dtype="float32"):
    """``model`` with the weights of ``path``, written by :func:`store_weights` in ``storage_dtype``; returns it.

    Keras assigns each stored array to its variable in the variable's own dtype, so float16
    arrays come back as float32 weights (the float16 rounding stays). int8 arrays need their
    scales, which Keras does not know: they are dequantized into a temporary float32 file first.
    """
    if storage_dtype == "int8":
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            model.load_weights(_dequantized_copy(path, Path(folder) / "float32.weights.h5"))
    else:
        model.load_weights(path)
    return model


def store_weights(model, path, storage_dtype="float32"):
    """``model.save_weights(path)``; with ``storage_dtype="float16"`` every float32 array is stored in float16,
    with ``"int8"`` every float32 matrix (2 or more axes) in int8 with per-column scales, the rest in float16.

    Used by ``scripts/train_pretrained.py`` for a family whose ``STORAGE_DTYPE``
    is "float16". The file keeps Keras' layout (groups, attributes, names), so
    :func:`load` (``model.load_weights``) reads it.
    """
    if storage_dtype not in STORAGE_DTYPES:
        raise ValueError(f"storage_dtype must be one of {STORAGE_DTYPES}, got {storage_dtype!r}")
    path = Path(path)
    if storage_dtype == "float32":
        model.save_weights(path)
        return path
    import numpy as np

    full = path.with_name(path.name.replace(".weights.h5", ".float32.weights.h5"))
    model.save_weights(full)

    def stored(values, attrs):
        if getattr(values, "dtype", None) != np.float32:
            return values, attrs
        if storage_dtype == "int8" and values.ndim >= 2:
            # Symmetric per slice of the last axis (a Dense kernel's output units): step = the largest |w| / 127.
            scale = np.maximum(np.abs(values).reshape(-1, values.shape[-1]).max(axis=0), 1e-30) / 127
            return np.round(values / scale).astype(np.int8), {**attrs, INT8_SCALE: scale.astype(np.float32)}
        return values.astype("float16"), attrs

    try:
        _copy_weights_file(full, path, stored)
    finally:
        full.unlink()
    return path


def _copy_weights_file(source_path, target_path, convert):
    """Copy a Keras weights file group by group, each array through ``convert(values, attrs) -> (values, attrs)``.

    Written to a new file: HDF5 does not give back the space of datasets replaced in place.
    """
    import h5py

    with h5py.File(source_path, "r") as source, h5py.File(target_path, "w") as target:
        target.attrs.update(source.attrs)

        def copy(item_name, item):
            if isinstance(item, h5py.Group):
                target.require_group(item_name).attrs.update(item.attrs)
                return
            values, attrs = convert(item[()], dict(item.attrs))
            target.create_dataset(item_name, data=values).attrs.update(attrs)

        source.visititems(copy)
    return target_path


def _dequantized_copy(path, target_path):
    """A copy of the int8-stored weights file ``path`` with every array back in float32 (Keras' layout)."""
    import numpy as np

    def restored(values, attrs):
        if INT8_SCALE in attrs:
            return values.astype(np.float32) * attrs.pop(INT8_SCALE), attrs
        if getattr(values, "dtype", None) == np.float16:
            return values.astype(np.float32), attrs
        return values, attrs

    return _copy_weights_file(path, target_path, restored)
