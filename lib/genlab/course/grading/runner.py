"""Run one notebook under ``pytest --nbval-lax`` in its own process, with time limits.

Why it exists: grading, ``assign check`` and ``assign validate`` all execute a
notebook the same way ``make test`` does (pytest + nbval, current
environment) and need per-cell results back. Each run happens in a fresh
temporary directory that mirrors the source notebook's surroundings
(symlinks to the files next to it and next to its folder), so relative paths
such as ``../data/x.npz`` work exactly as in ``notebooks/``, and gets its own
``GENLAB_BUILD_DIR`` (checkpoints of parallel runs never mix). The whole
process tree (pytest and the Jupyter kernel, which runs in a session of its
own) is killed when the per-submission time limit expires.

Results are read from pytest's JUnit XML; if pytest was killed before
writing it, from its ``-v`` progress lines, so checks that passed before a
timeout still count.
"""

import os
import re
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

# Files that would change how pytest configures itself if mirrored into the run folder.
_NOT_MIRRORED = {"pytest.ini", "pyproject.toml", "setup.cfg", "tox.ini", "conftest.py",
                 ".pytest_cache", ".ipynb_checkpoints", "__pycache__"}
_MAX_MIRRORED = 500
_VERBOSE_LINE = re.compile(r"::Cell (\d+) (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)")
# ANSI colour codes; JUnit XML spells the escape character as "#x1B".
_ANSI = re.compile(r"(?:\x1b|#x1B)\[[0-9;]*[A-Za-z]")


@dataclass
class CellResult:
    """The outcome of one code cell: passed, failed, error (setup) or skipped."""

    outcome: str
    message: str = ""

    @property
    def passed(self):
        return self.outcome == "passed"

    @property
    def timed_out(self):
        return "Timeout of" in self.message and "exceeded" in self.message


@dataclass
class RunResult:
    """What one pytest run produced.

    Attributes:
        status: ``ok`` (pytest finished), ``timeout`` (killed after the
            per-run limit) or ``error`` (pytest could not run the notebook).
        cells: code-cell index (as nbval counts: code cells only) -> CellResult.
        seconds: wall-clock time of the run.
        log: pytest's combined stdout and stderr.
        reason: a one-line explanation when status is not ``ok``.
    """

    status: str
    cells: dict = field(default_factory=dict)
    seconds: float = 0.0
    log: str = ""
    reason: str = ""


def clean_text(text):
    """Remove ANSI colour codes (IPython tracebacks carry them)."""
    return _ANSI.sub("", text or "")


def _mirror(source_dir, run_dir, notebook_name):
    """Symlink the surroundings of ``source_dir`` into ``run_dir``; return the notebook folder."""
    source_dir = Path(source_dir).resolve()
    work = run_dir / source_dir.name
    work.mkdir(parents=True)
    for folder, target, skip in ((source_dir, work, {notebook_name}),
                                 (source_dir.parent, run_dir, {source_dir.name})):
        try:
            entries = sorted(folder.iterdir())[:_MAX_MIRRORED]
        except OSError:
            continue
        for entry in entries:
            if entry.name in skip or entry.name in _NOT_MIRRORED or entry.suffix == ".ipynb":
                continue
            try:
                (target / entry.name).symlink_to(entry)
            except OSError:
                pass
    (run_dir / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    return work


def subprocess_env(extra=None):
    """The environment for the pytest process: ours, plus quick mode and genlab importable."""
    env = dict(os.environ)
    env.setdefault("GENLAB_MODE", "quick")
    env.setdefault("MPLBACKEND", "Agg")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    lib_dir = str(Path(__file__).resolve().parents[2])
    installed = {str(Path(p).resolve()) for p in site.getsitepackages() + [site.getusersitepackages()]}
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if lib_dir not in installed and lib_dir not in parts:
        env["PYTHONPATH"] = os.pathsep.join([lib_dir] + parts)
    env.update(extra or {})
    return env


def _kill_tree(process):
    """Kill pytest, its process group and every descendant (the kernel has its own session)."""
    try:
        import psutil

        descendants = psutil.Process(process.pid).children(recursive=True)
    except Exception:  # psutil missing or the process already gone
        descendants = []
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for child in descendants:
        try:
            child.kill()
        except Exception:
            pass
    process.wait()


def parse_junit(path):
    """Map nbval's ``Cell N`` test cases in a JUnit XML file to :class:`CellResult`."""
    cells = {}
    root = ElementTree.parse(path).getroot()
    for case in root.iter("testcase"):
        match = re.fullmatch(r"Cell (\d+)", case.get("name", ""))
        if not match:
            continue
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            node = case.find(tag)
            if node is not None:
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[tag]
                message = clean_text(node.text or node.get("message") or "").strip()
                break
        cells[int(match.group(1))] = CellResult(outcome, message)
    return cells


def parse_verbose_log(log):
    """Per-cell outcomes from ``pytest -v`` lines (used when no JUnit XML was written)."""
    names = {"PASSED": "passed", "XPASS": "passed", "FAILED": "failed", "ERROR": "error",
             "SKIPPED": "skipped", "XFAIL": "skipped"}
    cells = {}
    for match in _VERBOSE_LINE.finditer(log):
        cells[int(match.group(1))] = CellResult(names[match.group(2)], "")
    return cells


def run_notebook(notebook, source_dir, *, name="notebook.ipynb", timeout=600, cell_timeout=300,
                 sanitize_with=None, keep_dir=None, env=None):
    """Execute a notebook node with pytest + nbval in a subprocess; return a :class:`RunResult`.

    Args:
        notebook: the nbformat node to run (written to a temporary folder).
        source_dir: the folder whose surroundings the run mirrors (relative paths).
        name: file name for the notebook in the run folder.
        timeout: seconds for the whole run; the process tree is killed after it.
        cell_timeout: seconds per cell (nbval interrupts the kernel).
        sanitize_with: optional nbval sanitize file.
        keep_dir: if given, the run folder is created inside it and kept.
        env: extra environment variables.
    """
    if keep_dir is not None:
        Path(keep_dir).mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="genlab-run-", dir=keep_dir))
    start = time.perf_counter()
    try:
        work = _mirror(source_dir, run_dir, name)
        path = work / name
        nbformat.write(notebook, str(path))
        junit = run_dir / "junit.xml"
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval-lax",
                   "--nbval-current-env", "--nbval-cell-timeout", str(cell_timeout),
                   "--junitxml", str(junit), "-v", "--color=no", "-rN", "--rootdir", str(run_dir)]
        if sanitize_with:
            command += ["--nbval-sanitize-with", str(Path(sanitize_with).resolve())]
        command.append(str(path.relative_to(run_dir)))
        # Each run writes checkpoints and grids into its own build folder, so parallel runs never
        # share (or resume from) each other's files; an explicit GENLAB_BUILD_DIR is respected.
        private = {} if "GENLAB_BUILD_DIR" in os.environ else {"GENLAB_BUILD_DIR": str(run_dir / "build")}
        with open(run_dir / "pytest.log", "w+b") as log_file:
            process = subprocess.Popen(command, cwd=run_dir, env=subprocess_env({**private, **(env or {})}),
                                       stdout=log_file, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
            try:
                returncode = process.wait(timeout=timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                _kill_tree(process)
                returncode, timed_out = None, True
            log_file.seek(0)
            log = log_file.read().decode("utf-8", errors="replace")
        seconds = time.perf_counter() - start
        if timed_out:
            return RunResult("timeout", parse_verbose_log(log), seconds, log,
                             f"stopped after the time limit of {timeout:g} s")
        cells = parse_junit(junit) if junit.exists() else parse_verbose_log(log)
        if returncode not in (0, 1) or not cells:
            tail = " | ".join(clean_text(log).strip().splitlines()[-3:])
            return RunResult("error", cells, seconds, log,
                             f"pytest exited with code {returncode}: {tail[-400:]}")
        if all(result.outcome == "error" for result in cells.values()):
            first = cells[min(cells)].message.splitlines()
            return RunResult("error", cells, seconds, log,
                             "the notebook could not be run: " + (first[0] if first else "setup failed"))
        return RunResult("ok", cells, seconds, log)
    finally:
        if keep_dir is None:
            shutil.rmtree(run_dir, ignore_errors=True)
