"""Shared test set-up: quick mode, a headless matplotlib, TensorFlow imported quietly first."""

import os

os.environ.setdefault("GENLAB_MODE", "quick")
os.environ.setdefault("MPLBACKEND", "Agg")

from genlab import quiet  # noqa: E402,F401  (imports TensorFlow without its start-up logs)
