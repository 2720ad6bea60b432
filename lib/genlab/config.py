"""Run-time configuration: quick or full mode, numeric precision, seeding, and the environment report.

Every notebook runs in two modes with the same code: ``quick`` (2 CPU cores,
CI, at most 45 s per notebook) and ``full`` (a GPU, real results). Only
sizes change, chosen with :func:`pick`. The mode comes from the environment
variable ``GENLAB_MODE``; when it is unset, genlab picks ``full`` if
TensorFlow sees a GPU and ``quick`` otherwise. It is found on first use (not
at import) and then fixed for the process; code that needs another mode
passes it explicitly (``pick(..., mode="full")``), so no global is flipped.

The **precision** is Keras' global dtype policy for the models a notebook
builds, set by the environment variable ``GENLAB_PRECISION``: ``float32``
(the default), ``mixed_bfloat16`` (bfloat16 arithmetic, float32 weights), or
``auto``: mixed_bfloat16 where the hardware computes bfloat16 natively,
float32 elsewhere (emulated bfloat16, e.g. on AVX2-only CPUs, is slower).
Why float32 is the default (``benchmarks/precision.py``, 5 seeds, 2-core AMD
EPYC with AVX512-BF16): mixed_bfloat16 trained the book's DCGAN 1.68x faster,
but after 1,000 iterations its samples' FID was worse in 4 of 5 seeds (by 5.0
on average, 95% interval -4 to +14), so equal quality is not shown; a student
who wants the speed sets ``GENLAB_PRECISION=auto`` (or calls
``use_precision("auto")``). Like the mode it is found on first use; unlike the
mode it changes nothing until a notebook calls :func:`use_precision` before
building its models (Keras layers take the policy in force when they are
created). The metrics' feature extractors are always float32
(:func:`precision_scope`), so a Frechet distance means the same under both.

The notebooks' first genlab import is this module: it imports TensorFlow
through :mod:`genlab.quiet`, without its start-up logs.
"""

import contextlib
import os
import platform
import random

import numpy as np

from genlab import quiet  # noqa: F401  (imports TensorFlow without its start-up logs)

MODES = ("quick", "full")
ENV_VAR = "GENLAB_MODE"
PRECISIONS = ("auto", "float32", "mixed_bfloat16")
PRECISION_ENV_VAR = "GENLAB_PRECISION"
DEFAULT_PRECISION = "float32"  # not "auto": see the module docstring (benchmarks/precision.py)
# CPU flags of instructions that compute bfloat16 (Linux /proc/cpuinfo names): AVX512-BF16
# (Intel Cooper Lake and later, AMD Zen 4 and later) and AMX-BF16 (Intel Sapphire Rapids and later).
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
# NVIDIA GPUs compute bfloat16 in their tensor cores from Ampere on (compute capability 8.0).
BF16_GPU_CAPABILITY = (8, 0)

_detected = None
_precision = None  # (policy, reason), resolved on the first call of precision()


def gpu_available():
    """True when TensorFlow sees at least one GPU."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def detect_mode(environ=None, has_gpu=None):
    """The mode from ``GENLAB_MODE`` or, when unset, from the hardware.

    Args:
        environ: the environment to read (default ``os.environ``).
        has_gpu: a function telling whether a GPU is there (default :func:`gpu_available`).

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
    return "full" if (has_gpu or gpu_available)() else "quick"


def mode():
    """This process's mode, "quick" or "full" (detected on the first call)."""
    global _detected
    if _detected is None:
        _detected = detect_mode()
    return _detected


def check_mode(value):
    """``value`` if it is a mode genlab knows, else a ValueError; None means :func:`mode`."""
    if value is None:
        return mode()
    if value not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {value!r}")
    return value


def pick(quick, full, mode=None):
    """Return ``quick`` in quick mode and ``full`` in full mode.

    Args:
        quick, full: the two values.
        mode: "quick" or "full" to choose for another mode than this process's
            (e.g. ``genlab report --mode full``); default: :func:`mode`.

    Example:
        iterations = config.pick(quick=300, full=5000)
    """
    return quick if check_mode(mode) == "quick" else full


def cpu_flags(cpuinfo="/proc/cpuinfo"):
    """The CPU's feature flags as a set (Linux); an empty set where ``cpuinfo`` cannot be read."""
    try:
        with open(cpuinfo) as lines:
            for line in lines:
                if line.startswith("flags"):
                    return set(line.partition(":")[2].split())
    except OSError:
        pass
    return set()


def gpu_details():
    """One dict per GPU TensorFlow sees (``tf.config.experimental.get_device_details``)."""
    import tensorflow as tf

    return [tf.config.experimental.get_device_details(gpu) for gpu in tf.config.list_physical_devices("GPU")]


def native_bfloat16(flags=None, gpus=None):
    """Why this machine computes bfloat16 natively (a short reason), or None when it does not.

    With a GPU, TensorFlow runs the models there, so the GPUs decide: every one
    must have compute capability >= 8.0. Without one, the CPU decides by its flags.

    Args:
        flags: the CPU's flags (default: :func:`cpu_flags`).
        gpus: a list of device-detail dicts, one per GPU (default: :func:`gpu_details`);
            ``[]`` means no GPU.
    """
    gpus = gpu_details() if gpus is None else gpus
    if gpus:
        capabilities = [tuple(gpu.get("compute_capability") or (0, 0)) for gpu in gpus]
        if all(capability >= BF16_GPU_CAPABILITY for capability in capabilities):
            return "GPU compute capability " + ", ".join(f"{major}.{minor}" for major, minor in capabilities)
        return None
    found = [flag for flag in BF16_CPU_FLAGS if flag in (cpu_flags() if flags is None else flags)]
    return f"CPU flag {', '.join(found)}" if found else None


def detect_precision(environ=None, flags=None, gpus=None):
    """``(policy, reason)``: the Keras dtype policy from ``GENLAB_PRECISION``, or by hardware for auto.

    Args:
        environ: the environment to read (default ``os.environ``); unset or empty means
            :data:`DEFAULT_PRECISION`.
        flags, gpus: the hardware, as for :func:`native_bfloat16` (default: this machine's).

    Returns:
        ("mixed_bfloat16" or "float32", a short reason for the environment report).

    Raises:
        ValueError: ``GENLAB_PRECISION`` is set to something other than auto/float32/mixed_bfloat16.
    """
    environ = os.environ if environ is None else environ
    value = environ.get(PRECISION_ENV_VAR, "").strip().lower()
    if value and value not in PRECISIONS:
        raise ValueError(
            f"{PRECISION_ENV_VAR}={environ[PRECISION_ENV_VAR]!r} is not a precision genlab knows; "
            f"set it to one of {', '.join(PRECISIONS)} (or unset it for {DEFAULT_PRECISION})."
        )
    if value and value != "auto":
        return value, f"{PRECISION_ENV_VAR}={value}"
    native = native_bfloat16(flags, gpus)
    auto = "mixed_bfloat16" if native else "float32"
    found = f"native bfloat16: {native}" if native else "no native bfloat16"
    if value == "auto" or DEFAULT_PRECISION == "auto":
        return auto, f"{'auto' if value else 'default auto'}, {found}"
    # The default, float32: the report also tells the student what auto would choose here.
    return DEFAULT_PRECISION, f"default; auto would choose {auto} here, {found}"


def precision():
    """This process's precision, "mixed_bfloat16" or "float32" (resolved on the first call).

    It is only a choice: :func:`use_precision` applies it.
    """
    global _precision
    if _precision is None:
        _precision = detect_precision()
    return _precision[0]


def check_precision(policy):
    """The policy name for ``policy``: None means :func:`precision`, "auto" the hardware's choice."""
    if policy is None:
        return precision()
    if policy == "auto":
        return detect_precision({PRECISION_ENV_VAR: "auto"})[0]
    if policy not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS} or None, got {policy!r}")
    return policy


def use_precision(policy=None):
    """Make ``policy`` Keras' global dtype policy for the models built from now on; returns its name.

    Call it before building models (in a notebook's Hyperparameters cell):
    a Keras layer keeps the policy in force when it was created.

    Args:
        policy: "float32", "mixed_bfloat16", "auto" (by hardware, ignoring
            ``GENLAB_PRECISION``) or None (this process's :func:`precision`).
    """
    import keras

    policy = check_precision(policy)
    keras.mixed_precision.set_dtype_policy(policy)
    return policy


@contextlib.contextmanager
def precision_scope(policy):
    """Keras' global dtype policy set to ``policy`` inside the block, the previous one restored after.

    genlab builds its metrics' feature extractors in ``precision_scope("float32")``,
    so their features are float32 whatever policy the notebook chose.
    """
    import keras

    previous = keras.mixed_precision.dtype_policy()
    use_precision(policy)
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy(previous)


def seed_everything(seed=42):
    """Seed Python, NumPy, TensorFlow and Keras so a run can be repeated."""
    import keras

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)  # also seeds tf.random and Python's random
    return seed


def environment_report():
    """A dict describing versions, hardware, mode and precision (shown by notebook 00).

    "precision" is this process's choice with its reason; when Keras' global
    policy currently in force differs (not applied yet, or changed since), it says so.
    """
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
        "mode": mode(),
        "precision": _describe_precision(keras.mixed_precision.dtype_policy().name),
    }


def machine():
    """One line naming this machine, for every recorded figure: CPU model, architecture, cores, GPU."""
    from genlab import hardware

    return f"{hardware.cpu()}, GPU: {environment_report()['gpu']}"


def _describe_precision(in_force):
    chosen = precision()
    text = f"{chosen} ({_precision[1]})"
    return text if in_force == chosen else f"{text}; Keras policy in force: {in_force}"


def in_colab():
    """True when running inside Google Colab."""
    try:
        import google.colab  # noqa: F401
    except ImportError:
        return False
    return True
