"""genlab imports TensorFlow without its start-up logs and warnings (nbval compares stderr)."""

import subprocess
import sys

SCRIPT = """
from genlab import config  # the notebooks' first genlab import
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


def test_stderr_is_empty_after_importing_genlab_config_first():
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


def test_importing_the_package_alone_loads_no_tensorflow():
    script = "import sys, genlab, genlab.paths, genlab.pretrained; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
