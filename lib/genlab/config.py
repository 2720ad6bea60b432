"""Run-time configuration: quick or full mode, seeding, and the environment report.

Every notebook runs in two modes with the same code: ``quick`` (2 CPU cores,
CI, at most 120 s per notebook) and ``full`` (a GPU, real results). Only
sizes change, chosen with :func:`pick`. The mode comes from the environment
variable ``GENLAB_MODE``; when it is unset, genlab picks ``full`` if
TensorFlow sees a GPU and ``quick`` otherwise.
"""

import os
import platform
import random

import numpy as np

from genlab import quiet  # noqa: F401  (silences TF before it is imported)

MODES = ("quick", "full")
ENV_VAR = "GENLAB_MODE"


def gpu_available():
    """True when TensorFlow sees at least one GPU."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def detect_mode(environ=None):
    """The mode from ``GENLAB_MODE`` or, when unset, from the hardware.

    Raises:
        ValueError: ``GENLAB_MODE`` is set to something other than quick/full.
    """
    environ = os.environ if environ is None else environ
    value = environ.get(ENV_VAR, "").strip().lower()
    if value:
        if value not in MODES:
            raise ValueError(
                f"{ENV_VAR}={environ[ENV_VAR]!r} is not a mode genlab knows; "
                f"set it to one of {', '.join(MODES)} (or unset it to choose by hardware)."
            )
        return value
    return "full" if gpu_available() else "quick"


MODE = detect_mode()


def pick(quick, full):
    """Return ``quick`` in quick mode and ``full`` in full mode.

    Example:
        iterations = config.pick(quick=300, full=5000)
    """
    return quick if MODE == "quick" else full


def set_mode(mode):
    """Switch the mode for this process (tests, or a student trying full mode)."""
    global MODE
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    MODE = mode
    return MODE


def seed_everything(seed=42):
    """Seed Python, NumPy, TensorFlow and Keras so a run can be repeated."""
    import keras

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)  # also seeds tf.random and Python's random
    return seed


def environment_report():
    """A dict describing versions, hardware and mode (shown by notebook 00)."""
    import keras
    import tensorflow as tf

    import genlab

    gpus = tf.config.list_physical_devices("GPU")
    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "genlab": genlab.__version__,
        "gpu": ", ".join(device.name for device in gpus) if gpus else "none",
        "mode": MODE,
    }


def in_colab():
    """True when running inside Google Colab."""
    try:
        import google.colab  # noqa: F401
    except ImportError:
        return False
    return True
