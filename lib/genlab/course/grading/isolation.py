"""Give each notebook run a room of its own: a private folder, a memory ceiling, an optional sandbox.

Why it exists: graded notebooks run students' code. A run must not reach the
course repository (it used to, through symlinks of the repository's entries
in the run folder), must not share files with a parallel run, and must not
take the grader's machine down. This module prepares what a run sees:

* the run folder holds *copies* of what the notebook needs and nothing that
  leads back into the repository: the files next to the notebook (so
  ``open("tiny_data.txt")`` works), the data folder at ``run/data`` (the
  notebooks read it through ``genlab.paths.DATA_DIR``, i.e.
  ``GENLAB_DATA_DIR``; ``../data`` from the notebook folder also works), an
  empty ``run/build`` (``GENLAB_BUILD_DIR``) and private caches for IPython,
  Jupyter and matplotlib. genlab itself is imported from where it is
  installed, never from the run folder;
* :func:`memory_launcher`: every process of the run gets ``RLIMIT_DATA`` =
  the ceiling (a single huge allocation fails at once with ``MemoryError``);
  the runner also adds up the resident memory of the whole process tree and
  stops the run when it passes the ceiling (several processes together);
* :func:`sandbox_command`: with bubblewrap (``bwrap``, no root and no daemon
  needed), the run sees the whole file system read-only except its own
  folder, a private ``/tmp``, empty folders in place of the instructor
  notebook's folder, the submissions, the grades and the other runs, no
  network, no capabilities, only the environment variables Python and
  TensorFlow need, and its processes die with the grader.

Without the sandbox the copies only remove the *paths* into the repository:
student code still runs with the grader's permissions and can open any
absolute path. ``genlab grade`` says so when it starts.
"""

import functools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from genlab import paths

# Entries next to a notebook that are not copied: they would change how pytest
# configures itself, or they are editor and cache clutter.
_NOT_COPIED = {"pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini", "conftest.py",
               ".pytest_cache", ".ipynb_checkpoints", "__pycache__"}
# What may be copied next to the notebook; larger entries are skipped and named in the log.
COPY_LIMIT_BYTES = 500 << 20
_COPY_MAX_FILES = 2000
# Names the run folder itself uses; a notebook folder of such a name is copied as "notebook".
_RESERVED = {"data", "build", "tmp", "home", "cache", "junit.xml", "pytest.ini"}
# Size of the sandbox's private /tmp (tmpfs lives in memory, outside the processes' RSS).
SANDBOX_TMP_BYTES = 256 << 20

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
MIN_MEMORY = 64 << 20

# Exec'd before pytest (or bwrap): sets the per-process data limit, then becomes the real command.
# A launcher process instead of preexec_fn, which is unsafe when the grader runs threads (--jobs).
_LAUNCH = ("import os, resource, sys; n = int(sys.argv[1]); "
           "resource.setrlimit(resource.RLIMIT_DATA, (n, n)); os.execv(sys.argv[2], sys.argv[2:])")


class SandboxUnavailable(RuntimeError):
    """``--sandbox`` was asked for but bubblewrap is missing or cannot create namespaces here."""


def parse_size(text):
    """Bytes from ``4G``, ``512M``, ``1.5GiB`` (binary units); ``0`` or ``none`` -> None (no ceiling).

    Raises:
        ValueError: unreadable, or a ceiling under 64 MiB (no Python kernel starts in less).
    """
    if str(text).strip().lower() in ("0", "none", "off"):
        return None
    match = _SIZE.match(str(text))
    if not match:
        raise ValueError(f"memory size {text!r} not understood: write e.g. 4G, 512M or none")
    value = int(float(match.group(1)) * _UNITS[match.group(2).lower()])
    if value < MIN_MEMORY:
        raise ValueError(f"memory size {text!r} is {format_size(value)}, under the 64 MiB a notebook "
                         "kernel needs to start (a bare number is bytes: did you mean "
                         f"{match.group(1)}M?)")
    return value


def format_size(size):
    """``4294967296`` -> ``4 GiB``; ``629145600`` -> ``600 MiB``."""
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value >= 10 or value.is_integer() else f"{value:.1f} {unit}"
    return f"{size} B"


def _size_of(path, budget):
    """Bytes and file count under ``path`` (stops counting once over ``budget``); links not followed."""
    if path.is_file():
        return path.stat().st_size, 1
    total = count = 0
    for folder, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
        for name in files:
            file = os.path.join(folder, name)
            if not os.path.islink(file):
                total += os.path.getsize(file)
                count += 1
        if total > budget or count > _COPY_MAX_FILES:
            break
    return total, count


def _copy_entry(entry, target):
    if entry.is_dir():
        # Symlinks inside are left out: a link is exactly the path back into the repository.
        shutil.copytree(entry, target, symlinks=True,
                        ignore=lambda folder, names: [n for n in names if os.path.islink(os.path.join(folder, n))])
    else:
        shutil.copy2(entry, target)


def prepare(run_dir, source_dir, notebook_name, *, copy_data=True):
    """Fill ``run_dir`` for one run; return (notebook folder, data folder, notes for the log).

    Args:
        run_dir: an empty, private folder.
        source_dir: the folder of the notebook being graded (its files are copied).
        notebook_name: the graded notebook's file name (not copied from ``source_dir``).
        copy_data: copy ``genlab.paths.DATA_DIR`` to ``run_dir/data``; the sandbox binds it
            read-only there instead (no copy), so it passes False.
    """
    run_dir, source_dir = Path(run_dir), Path(source_dir).resolve()
    name = source_dir.name if source_dir.name not in _RESERVED else "notebook"
    work = run_dir / name
    work.mkdir(parents=True)
    notes, used = [], 0
    try:
        entries = sorted(source_dir.iterdir())
    except OSError as error:
        entries = []
        notes.append(f"cannot list {source_dir}: {error}")
    for entry in entries:
        if (entry.name == notebook_name or entry.name in _NOT_COPIED or entry.name.startswith(".")
                or entry.suffix == ".ipynb" or entry.is_symlink()):
            continue
        size, files = _size_of(entry, COPY_LIMIT_BYTES)
        if used + size > COPY_LIMIT_BYTES or files > _COPY_MAX_FILES:
            notes.append(f"not copied into the run folder (over the {format_size(COPY_LIMIT_BYTES)} "
                         f"or {_COPY_MAX_FILES}-file limit): {entry}")
            continue
        _copy_entry(entry, work / entry.name)
        used += size
    data, source_data = run_dir / "data", Path(paths.DATA_DIR)
    size = _size_of(source_data, COPY_LIMIT_BYTES) if copy_data and source_data.is_dir() else (0, 0)
    if copy_data and source_data.is_dir() and size[0] > COPY_LIMIT_BYTES:
        # Too big to copy for every run: the run reads the original (only --sandbox makes it read-only).
        data.mkdir()
        data = source_data
        notes.append(f"{source_data} is over {format_size(COPY_LIMIT_BYTES)}: the run reads it in "
                     "place, not a copy (writable without --sandbox)")
    elif copy_data and source_data.is_dir():
        _copy_entry(source_data, data)
    else:
        data.mkdir()
    for folder in ("build", "tmp", "cache/ipython", "cache/jupyter", "cache/matplotlib"):
        (run_dir / folder).mkdir(parents=True, exist_ok=True)
    return work, data, notes


def run_environment(run_dir, data_dir=None):
    """Environment variables that keep every write of a run inside its folder."""
    run_dir = Path(run_dir)
    return {
        # Always private, even if the grader has GENLAB_BUILD_DIR set: parallel runs never
        # share (or resume from) each other's checkpoints.
        "GENLAB_BUILD_DIR": str(run_dir / "build"),
        "GENLAB_DATA_DIR": str(data_dir or run_dir / "data"),
        "TMPDIR": str(run_dir / "tmp"),
        "IPYTHONDIR": str(run_dir / "cache" / "ipython"),
        "JUPYTER_RUNTIME_DIR": str(run_dir / "cache" / "jupyter"),
        "MPLCONFIGDIR": str(run_dir / "cache" / "matplotlib"),
    }


def memory_launcher(command, limit):
    """``command`` prefixed so that it (and every process it starts) has RLIMIT_DATA = ``limit``."""
    if not limit:
        return list(command)
    return [sys.executable, "-c", _LAUNCH, str(int(limit)), *command]


@functools.lru_cache(maxsize=1)
def _bwrap():
    """The bwrap executable, after proving once that it can build a sandbox here.

    Raises:
        SandboxUnavailable: with what to install or change.
    """
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxUnavailable(
            "--sandbox needs bubblewrap (the `bwrap` command), which is not installed: "
            "`sudo apt-get install bubblewrap` (Debian, Ubuntu) or `sudo dnf install bubblewrap` "
            "(Fedora); or grade without --sandbox")
    probe = subprocess.run([path, "--ro-bind", "/", "/", "--unshare-all", "--cap-drop", "ALL",
                            "--die-with-parent", "true"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        raise SandboxUnavailable(
            f"bubblewrap is installed but cannot create a sandbox here ({probe.stderr.strip()[:300]}). "
            "It needs unprivileged user namespaces: on Ubuntu 23.10 and later AppArmor restricts "
            "them (sysctl kernel.apparmor_restrict_unprivileged_userns); in a container, allow "
            "user namespaces. Or grade without --sandbox")
    help_text = subprocess.run([path, "--help"], capture_output=True, text=True).stdout
    return path, "--size" in help_text


def check_sandbox():
    """Raise :class:`SandboxUnavailable` unless ``--sandbox`` can work on this machine."""
    _bwrap()


# Environment variables a sandboxed run keeps: what Python, TensorFlow and genlab need.
# Everything else (tokens, credentials) stays out of reach of student code, whose
# errors end up in feedback files.
_KEPT_ENV = re.compile(r"^(PATH|HOME|USER|LOGNAME|LANG|LANGUAGE|TZ|TERM|LC_\w+|PYTHON\w*|VIRTUAL_ENV|"
                       r"CONDA_\w+|LD_LIBRARY_PATH|CUDA_\w+|TF_\w+|KERAS_\w+|XLA_\w+|OMP_\w+|MKL_\w+|"
                       r"OPENBLAS_\w+|GENLAB_\w+|MPLBACKEND|NBVAL_\w+)$")


def sandbox_environment(env):
    """``env`` without the variables a sandboxed run does not need (see ``_KEPT_ENV``)."""
    return {key: value for key, value in env.items() if _KEPT_ENV.match(key)}


def _needed():
    """Folders a run cannot do without: Python, the virtual environment, genlab's code and data,
    Keras's download cache (datasets fetched before grading, since the sandbox is offline)."""
    folders = [sys.prefix, sys.base_prefix, Path(sys.executable).resolve().parent,
               Path(paths.__file__).resolve().parents[1], paths.DATA_DIR,
               getattr(paths, "KERAS_HOME", Path.home() / ".keras")]
    return [Path(folder).resolve() for folder in folders]


def hideable(folder):
    """True when ``folder`` can be replaced by an empty one without breaking the run."""
    folder = Path(folder).resolve()
    return (folder.is_dir() and folder != Path("/")
            and not any(folder == need or folder in need.parents for need in _needed()))


def sandbox_command(command, run_dir, *, data_dir=None, hide=()):
    """``command`` wrapped in bubblewrap: everything read-only but ``run_dir``, no network.

    Args:
        command: the argv to run inside (absolute executable path).
        run_dir: the run folder, the only writable place (besides a small private /tmp).
        data_dir: bound read-only at ``run_dir/data`` (instead of a copy).
        hide: folders replaced by empty ones inside the sandbox (the instructor notebook's
            folder, the submissions, the grades, the other runs), skipped when :func:`hideable`
            says the run needs them.
    """
    bwrap, has_size = _bwrap()
    run_dir = str(Path(run_dir).resolve())
    args = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    # Mounted before the run folder, so the run folder can live inside a hidden one
    # (bwrap binds every source from the real root, not from the sandbox built so far).
    args += (["--size", str(SANDBOX_TMP_BYTES)] if has_size else []) + ["--tmpfs", "/tmp"]
    # The private /tmp would hide a checkout, a virtual environment or data that live under /tmp
    # (a CI clone, a pip install in a temporary folder): bind those back, read-only.
    for folder in _needed():
        if Path("/tmp") in folder.parents and folder.is_dir():
            args += ["--ro-bind", str(folder), str(folder)]
    hidden = [f for f in sorted({str(Path(f).resolve()) for f in hide if hideable(f)}) if f != "/tmp"]
    for folder in hidden:
        args += (["--size", str(1 << 20)] if has_size else []) + ["--tmpfs", folder]
    args += ["--bind", run_dir, run_dir]
    if data_dir is not None and Path(data_dir).is_dir():
        args += ["--ro-bind", str(Path(data_dir).resolve()), os.path.join(run_dir, "data")]
    # Read-only once the run folder's mount point exists: an empty tmpfs is writable
    # memory that the tree's RSS does not show.
    for folder in hidden:
        args += ["--remount-ro", folder]
    args += ["--unshare-all", "--cap-drop", "ALL", "--die-with-parent", "--new-session",
             "--chdir", run_dir, "--"]
    return args + list(command)
