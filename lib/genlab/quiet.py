"""Keep TensorFlow's logs and Python warnings out of notebook outputs.

nbval compares a check cell's stderr as well as its stdout, so a stray
oneDNN banner or a DeprecationWarning would make a check fail on one machine
and pass on another. Every genlab module that needs TensorFlow imports this
one first (``from genlab import quiet``), so one place sets it all up and
TensorFlow is imported silently; the notebooks' first genlab import is
``config``, which does the same. The course tools (:mod:`genlab.course`) never
import it, so ``genlab grade`` does not load TensorFlow. The Jupyter kernel
genlab registers sets the same environment variables (see Makefile).
"""

import contextlib
import logging
import os
import sys
import warnings

# C++ logs: must be set before TensorFlow is imported to take effect.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# The oneDNN banner ("oneDNN custom operations are on ...") is a C++ log too, written while
# TensorFlow is imported: silence_tensorflow() below swallows it. oneDNN itself stays on
# (TF_ENABLE_ONEDNN_OPTS=0 would hide the banner too, but costs ~1.5x CPU time: the book's
# DCGAN measured 165 vs 248 ms per iteration on 2 cores, benchmarks/README.md).
# absl's "WARNING: All log messages before absl::InitializeLog()" line.
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=FutureWarning)
warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
# Keras' UserWarnings about input_shape arguments, unbuilt optimizers, etc.
warnings.filterwarnings("ignore", category=UserWarning, module=r"keras(\..*)?")
warnings.filterwarnings("ignore", category=UserWarning, module=r"tensorflow(\..*)?")

for _name in ("tensorflow", "absl", "h5py", "matplotlib"):
    logging.getLogger(_name).setLevel(logging.ERROR)


@contextlib.contextmanager
def _stderr_fd_to_devnull():
    """Point file descriptor 2 at /dev/null for the duration of the block.

    TensorFlow 2.21 writes "All log messages before absl::InitializeLog()",
    the oneDNN banner and "Could not find cuda drivers" from C++ while it is
    imported, ignoring TF_CPP_MIN_LOG_LEVEL; ipykernel forwards such fd-level
    writes into the cell's stderr. Python exceptions are unaffected: they are
    raised normally and printed after the descriptor is restored.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def silence_tensorflow():
    """Import TensorFlow without its start-up banner and lower its loggers."""
    if "tensorflow" not in sys.modules:
        try:
            with _stderr_fd_to_devnull():
                import tensorflow  # noqa: F401
        except ImportError:
            return
    import tensorflow as tf

    tf.get_logger().setLevel(logging.ERROR)
    try:
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    except ImportError:
        pass


silence_tensorflow()
