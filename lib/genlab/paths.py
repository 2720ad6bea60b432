"""Where genlab finds its shipped data and writes its outputs, and file checksums.

The repository keeps small offline data and weights in ``data/`` (see
data/README.md); executed notebooks, reports and checkpoints go to ``build/``.
Both can be moved with the environment variables ``GENLAB_DATA_DIR`` and
``GENLAB_BUILD_DIR`` (useful on Colab or a read-only checkout).
"""

import hashlib
import os
from pathlib import Path

# The one place that knows where the repository is (lib/genlab/paths.py -> two levels up).
REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = Path(os.environ.get("GENLAB_DATA_DIR", REPO_ROOT / "data"))
# Keras keeps its downloads (datasets, application weights) here.
KERAS_HOME = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))


def cache_dir():
    """Where genlab caches what it derives on first use (MNIST as uint8, the Fashion-MNIST classifier):
    ``$GENLAB_CACHE_DIR``, else ``~/.cache/genlab``."""
    return Path(os.environ.get("GENLAB_CACHE_DIR", Path.home() / ".cache" / "genlab"))


def build_dir():
    """Where outputs go: ``$GENLAB_BUILD_DIR`` as it is now, else ``build/`` of the repository."""
    return Path(os.environ.get("GENLAB_BUILD_DIR", REPO_ROOT / "build"))


class ChecksumError(RuntimeError):
    """A shipped file does not have the SHA-256 recorded for it."""


def sha256(path):
    """The hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


RESTORE = "Restore it with `git checkout -- data/` or re-clone the repository."


def verify_sha256(path, expected, restore=RESTORE):
    """Raise :class:`ChecksumError` naming ``path`` unless its SHA-256 is ``expected``.

    Args:
        path: the file.
        expected: its recorded hex SHA-256.
        restore: the sentence that tells the user how to get a good copy back.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing. It ships with the genlab repository (data/). {restore}")
    actual = sha256(path)
    if actual != expected:
        raise ChecksumError(
            f"{path} is corrupt or was replaced: its SHA-256 is {actual}, expected "
            f"{expected} (recorded in data/README.md). {restore}"
        )
    return path
