"""genlab: helpers for the generative-models notebooks.

Import modules as namespaces, e.g. ``from genlab import config, data, plots``.
Importing genlab first silences TensorFlow's logs (see ``genlab.quiet``).
"""

from genlab import quiet  # noqa: F401  (must run before TensorFlow is imported)

__version__ = "0.1.0"
