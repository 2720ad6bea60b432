"""Importing genlab keeps TensorFlow's start-up logs and warnings off stderr (nbval compares it)."""

import subprocess
import sys

SCRIPT = """
import genlab
import numpy as np
import keras
import tensorflow as tf
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2), keras.layers.BatchNormalization()])
model.compile(optimizer="adam", loss="mse")
model.fit(np.zeros((8, 4)), np.zeros((8, 2)), verbose=0)
for batch in tf.data.Dataset.from_tensor_slices(np.zeros((10, 2))).batch(3):
    pass
print("trained")
"""


def test_stderr_is_empty_after_importing_genlab_first():
    env = {key: value for key, value in __import__("os").environ.items()
           if not key.startswith(("TF_", "GRPC_"))}
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "trained"
    assert result.stderr == ""


def test_without_genlab_tensorflow_is_noisy():
    # The reason genlab.quiet exists; if this ever fails, TensorFlow got quiet by itself.
    env = {key: value for key, value in __import__("os").environ.items()
           if not key.startswith(("TF_", "GRPC_"))}
    result = subprocess.run([sys.executable, "-c", "import tensorflow"], capture_output=True, text=True, env=env)
    assert result.stderr.strip() != ""
