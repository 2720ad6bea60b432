"""Long training runs that survive the end of a session: one run at a time, and its time on record.

Why it exists: a shipped model trains for 30 minutes to 3 hours of 2-core
time, longer than one sitting (a Colab disconnect, a session limit). Each
family's ``train`` already resumes from its checkpoint folder; what a run also
needs, and what this module gives ``scripts/train_pretrained.py`` (and any
other long run), is:

- a lock, so two runs of one model never write into one checkpoint folder
  (:class:`RunLock`; the second is refused with a message naming the first);
- a record of the run's pieces (:class:`RunRecord`, ``run.json`` in the
  checkpoint folder): when each piece started, how long it trained (written
  every few seconds, so a run that is killed still counts its time), the machine
  and the commit, so the manifest can state the whole run's wall time;
- the commit the code came from (:func:`git_commit`).
"""

import datetime
import fcntl
import json
import os
import subprocess
import threading
import time
from pathlib import Path

from genlab import paths


class RunLockedError(RuntimeError):
    """Another process is running the same training run."""


class RunLock:
    """An exclusive, non-blocking lock on ``path`` (a file next to the checkpoint folder).

    The operating system releases it when the process ends, however it ends,
    so a killed run never leaves a stale lock behind. Use as a context manager.
    """

    def __init__(self, path, what):
        self.path, self.what, self._handle = Path(path), what, None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise RunLockedError(
                f"{self.what} is already running ({holder}; lock {self.path}). Two runs of one model "
                f"would overwrite each other's checkpoints: wait for it to finish, or stop it "
                f"(kill the process) and continue it later with --resume.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}, started {_now()}")
        handle.flush()
        self._handle = handle
        return self

    def __exit__(self, *exc):
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()
        return False


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


class RunRecord:
    """The pieces of one run, kept in ``run.json`` of its checkpoint folder.

    ``with record.piece(machine=...):`` adds a piece and keeps its ``seconds``
    current (every ``interval`` seconds and at the end), so a killed piece keeps
    all but the last interval of its time.
    """

    FILE = "run.json"

    def __init__(self, directory, interval=5.0):
        self.path = Path(directory) / self.FILE
        self.interval = interval

    def pieces(self):
        """Every piece so far: dicts with started, seconds, machine, commit."""
        if not self.path.is_file():
            return []
        return json.loads(self.path.read_text(encoding="utf-8"))["pieces"]

    def seconds(self):
        """Training seconds of all pieces together."""
        return sum(piece["seconds"] for piece in self.pieces())

    def _write(self, pieces):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"pieces": pieces}, indent=1) + "\n", encoding="utf-8")
        os.replace(temporary, self.path)   # never half a file

    def piece(self, **details):
        record = self

        class _Piece:
            def __enter__(self):
                self.pieces = record.pieces() + [dict(started=_now(), seconds=0, **details)]
                self.start, self.stop = time.monotonic(), threading.Event()
                record._write(self.pieces)
                self.thread = threading.Thread(target=self._tick, daemon=True)
                self.thread.start()
                return self

            def _tick(self):
                while not self.stop.wait(record.interval):
                    self._update()

            def _update(self):
                self.pieces[-1]["seconds"] = round(time.monotonic() - self.start, 1)
                record._write(self.pieces)

            def __exit__(self, *exc):
                self.stop.set()
                self.thread.join()
                self._update()
                return False

        return _Piece()


def git_commit(repo=paths.REPO_ROOT):
    """The commit the code runs from, with "+changes" when the work tree differs; None outside git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True,
                                check=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                               capture_output=True, text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return commit + ("+changes" if dirty else "")


def continue_results(path, settings, resume):
    """The earlier record of an experiment's results file to continue, or None to start afresh.

    Why: an experiment script (``scripts/gan_augmentation.py``, ...) saves its
    results file after every finished piece so a killed run loses one piece;
    run again it must neither overwrite what was measured nor mix pieces
    measured with other settings. Raises ``SystemExit`` with what to do when the
    file exists and ``resume`` is false, or when its ``"settings"`` differ.
    """
    path = Path(path)
    if not path.exists():
        return None
    if not resume:
        raise SystemExit(f"{path} exists: pass --resume to continue it, or move it away to start again")
    earlier = json.loads(path.read_text())
    if earlier.get("settings") != settings:
        raise SystemExit(f"{path} was made with other settings ({earlier.get('settings')}); "
                         "move it away to start again")
    return earlier


def save_results(path, record, machine):
    """Stamp an experiment's ``record`` with the time and ``machine`` and write it to ``path`` as JSON, atomically.

    Why: the experiment scripts (``scripts/latent_vs_pixel.py``, ``scripts/ddim_vs_ddpm.py``, ...)
    save their results file the same way, and a run killed while writing must not leave half a file.
    """
    record.update(date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), machine=machine)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(record, indent=1) + "\n")
    os.replace(partial, path)

