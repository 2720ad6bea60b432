"""Run one notebook under ``pytest --nbval-lax`` in its own process, with time and memory limits.

Why it exists: grading, ``assign check`` and ``assign validate`` all execute a
notebook the same way ``make test`` does (pytest + nbval, current
environment) and need per-cell results back. Each run happens in a fresh
private folder prepared by :mod:`~genlab.course.grading.isolation` (copies of
the notebook's files and data, its own build folder; optionally a
bubblewrap sandbox). The whole process tree (pytest and the Jupyter kernel,
which runs in a session of its own) is killed when the per-run time limit
expires, or when its resident memory, added up over the tree, passes the
memory ceiling.

Results are read from pytest's JUnit XML; if pytest was killed before
writing it, from its ``-v`` progress lines, so checks that passed before a
timeout still count. The log keeps the head and the tail of pytest's output
(:data:`LOG_HEAD` + :data:`LOG_TAIL` bytes): a cell that prints 20 MB does not
make a 20 MB log.
"""

import os
import re
import shutil
import signal
import site
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from genlab import paths
from genlab.course.grading import isolation

_VERBOSE_LINE = re.compile(r"::Cell (\d+) (PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS)")
# ANSI colour codes; JUnit XML spells the escape character as "#x1B".
_ANSI = re.compile(r"(?:\x1b|#x1B)\[[0-9;]*[A-Za-z]")
LOG_HEAD = 64 << 10
LOG_TAIL = 448 << 10
MESSAGE_LIMIT = 20000  # characters kept of one cell's failure message (head and tail)
POLL_SECONDS = 0.25    # how often the time limit and the memory ceiling are checked


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
        status: ``ok`` (pytest finished), ``timeout`` (killed after the per-run
            limit), ``memory`` (killed at the memory ceiling) or ``error``
            (pytest could not run the notebook).
        cells: code-cell index (as nbval counts: code cells only) -> CellResult.
        seconds: wall-clock time of the run.
        log: pytest's combined stdout and stderr (head and tail when long).
        reason: a one-line explanation when status is not ``ok``.
        running: the code-cell index that was running when the run was killed.
        peak_memory: the largest resident memory of the run's processes added up, in bytes.
    """

    status: str
    cells: dict = field(default_factory=dict)
    seconds: float = 0.0
    log: str = ""
    reason: str = ""
    running: int = None
    peak_memory: int = 0


def clean_text(text):
    """Remove ANSI colour codes (IPython tracebacks carry them)."""
    return _ANSI.sub("", text or "")


def _cap(text, limit=MESSAGE_LIMIT):
    if len(text) <= limit:
        return text
    return f"{text[:limit // 2]}\n... ({len(text) - limit} characters omitted) ...\n{text[-limit // 2:]}"


def subprocess_env(extra=None):
    """The environment for the pytest process: ours, plus quick mode and genlab importable."""
    env = dict(os.environ)
    env.setdefault("GENLAB_MODE", "quick")
    env.setdefault("MPLBACKEND", "Agg")
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ written next to genlab's sources
    lib_dir = str(Path(paths.__file__).resolve().parents[1])  # the folder that holds genlab/
    installed = {str(Path(p).resolve()) for p in site.getsitepackages() + [site.getusersitepackages()]}
    parts = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    if lib_dir not in installed and lib_dir not in parts:
        env["PYTHONPATH"] = os.pathsep.join([lib_dir] + parts)
    env.update(extra or {})
    return env


def _tree(pid):
    """psutil handles of a process and all its descendants (empty once it is gone)."""
    import psutil

    try:
        root = psutil.Process(pid)
        return [root] + root.children(recursive=True)
    except psutil.Error:
        return []


def _memory(members):
    """Resident memory (RSS) of processes, added up, in bytes."""
    import psutil

    total = 0
    for process in members:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            pass
    return total


def _kill(members):
    """SIGKILL every process of ``members`` that is still the process it was (no pid reuse)."""
    import psutil

    for member in reversed(members):
        try:
            if member.is_running():
                member.kill()
        except psutil.Error:
            pass


def _kill_tree(process):
    """Kill pytest, its process group and every descendant (the kernel runs in a session of its own)."""
    members = _tree(process.pid)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    _kill(members)
    process.kill()
    process.wait()


class _LogTail:
    """Reads a pipe to its end in a thread, keeping only its first and last bytes."""

    def __init__(self, pipe):
        self.head, self.tail, self.total = bytearray(), bytearray(), 0
        self._thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self._thread.start()

    def _read(self, pipe):
        for chunk in iter(lambda: pipe.read(1 << 16), b""):
            self.total += len(chunk)
            room = LOG_HEAD - len(self.head)
            if room > 0:
                self.head += chunk[:room]
                chunk = chunk[room:]
            self.tail += chunk
            if len(self.tail) > 2 * LOG_TAIL:
                del self.tail[:-LOG_TAIL]
        pipe.close()

    def text(self):
        self._thread.join(timeout=30)
        tail = self.tail[-LOG_TAIL:]
        omitted = self.total - len(self.head) - len(tail)
        middle = f"\n... ({omitted} bytes of output omitted) ...\n".encode() if omitted > 0 else b""
        return (bytes(self.head) + middle + bytes(tail)).decode("utf-8", errors="replace")


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
                message = _cap(clean_text(node.text or node.get("message") or "").strip())
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


def _watch(process, timeout, memory):
    """Wait for pytest; kill its tree at the time limit or the memory ceiling.

    Every process seen in the tree is remembered and killed at the end if it is still
    alive: a process a cell started in the background would otherwise outlive the run
    (it leaves the tree when pytest and the kernel exit).

    Returns (return code or None, "timeout" / "memory" / None, peak memory, memory when stopped).
    """
    deadline = time.monotonic() + timeout
    peak = used = 0
    seen = {}
    returncode = stopped = None
    while True:
        try:
            returncode = process.wait(timeout=POLL_SECONDS)
            break
        except subprocess.TimeoutExpired:
            pass
        members = _tree(process.pid)
        seen.update((member.pid, member) for member in members)
        used = _memory(members)
        peak = max(peak, used)
        if memory and used > memory:
            stopped = "memory"
        elif time.monotonic() > deadline:
            stopped = "timeout"
        if stopped:
            _kill_tree(process)
            break
    _kill(list(seen.values()))
    return returncode, stopped, peak, used


def run_notebook(notebook, source_dir, *, name="notebook.ipynb", timeout=600, cell_timeout=300,
                 sanitize_with=None, keep_dir=None, env=None, memory=None, sandbox=False, hide=()):
    """Execute a notebook node with pytest + nbval in a subprocess; return a :class:`RunResult`.

    Args:
        notebook: the nbformat node to run (written to a private run folder).
        source_dir: the notebook's folder; its files are copied next to the run's notebook.
        name: file name for the notebook in the run folder.
        timeout: seconds for the whole run; the process tree is killed after it.
        cell_timeout: seconds per cell (nbval interrupts the kernel).
        sanitize_with: optional nbval sanitize file.
        keep_dir: if given, the run folder is created inside it and kept.
        env: extra environment variables.
        memory: bytes; ceiling for each process's data and for the tree's resident memory.
        sandbox: run inside bubblewrap (:func:`isolation.sandbox_command`).
        hide: folders the sandbox replaces by empty ones (ignored without ``sandbox``).

    Raises:
        isolation.SandboxUnavailable: ``sandbox`` asked for but bubblewrap cannot run here.
    """
    if sandbox:
        isolation.check_sandbox()
    if keep_dir is not None:
        Path(keep_dir).mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="genlab-run-", dir=keep_dir)).resolve()
    start = time.perf_counter()
    try:
        work, data_dir, notes = isolation.prepare(run_dir, source_dir, name, copy_data=not sandbox)
        path = work / name
        nbformat.write(notebook, str(path))
        (run_dir / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        junit = run_dir / "junit.xml"
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval-lax",
                   "--nbval-current-env", "--nbval-cell-timeout", str(cell_timeout),
                   "--junitxml", str(junit), "-v", "--color=no", "-rN", "--rootdir", str(run_dir)]
        if sanitize_with:
            sanitize = run_dir / "nbval_sanitize.cfg"  # a copy: the sandbox may hide the original
            shutil.copyfile(sanitize_with, sanitize)
            command += ["--nbval-sanitize-with", str(sanitize)]
        command.append(str(path.relative_to(run_dir)))
        run_env = subprocess_env({**isolation.run_environment(run_dir, data_dir), **(env or {})})
        if sandbox:
            run_env = isolation.sandbox_environment(run_env)
            command = isolation.sandbox_command(command, run_dir, data_dir=paths.DATA_DIR,
                                                hide=[*hide, run_dir.parent])
        process = subprocess.Popen(isolation.memory_launcher(command, memory), cwd=run_dir, env=run_env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        output = _LogTail(process.stdout)
        returncode, stopped, peak, used = _watch(process, timeout, memory)
        log = "".join(f"genlab: {note}\n" for note in notes) + output.text()
        seconds = time.perf_counter() - start
        if stopped:
            cells = parse_verbose_log(log)
            code_cells = sum(cell.cell_type == "code" for cell in notebook.cells)
            running = next((i for i in range(code_cells) if i not in cells), None)
            reason = (f"stopped after the time limit of {timeout:g} s" if stopped == "timeout" else
                      f"stopped at the memory ceiling of {isolation.format_size(memory)} "
                      f"(its processes held {isolation.format_size(used)})")
            return RunResult(stopped, cells, seconds, log, reason, running, peak)
        cells = parse_junit(junit) if junit.exists() else parse_verbose_log(log)
        if returncode not in (0, 1) or not cells:
            tail = " | ".join(clean_text(log).strip().splitlines()[-3:])
            return RunResult("error", cells, seconds, log,
                             f"pytest exited with code {returncode}: {tail[-400:]}", peak_memory=peak)
        if all(result.outcome == "error" for result in cells.values()):
            first = cells[min(cells)].message.splitlines()
            return RunResult("error", cells, seconds, log,
                             "the notebook could not be run: " + (first[0] if first else "setup failed"),
                             peak_memory=peak)
        return RunResult("ok", cells, seconds, log, peak_memory=peak)
    finally:
        if keep_dir is None:
            shutil.rmtree(run_dir, ignore_errors=True)
