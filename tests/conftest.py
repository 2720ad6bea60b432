"""Shared test set-up: quick mode, a headless matplotlib, genlab imported first."""

import os

os.environ.setdefault("GENLAB_MODE", "quick")
os.environ.setdefault("MPLBACKEND", "Agg")

import genlab  # noqa: E402,F401  (silences TensorFlow before any test imports it)
