"""Stage 2 of grading: which file is each student's submission, and when was it handed in.

Why it exists: an LMS download is a folder of files whose names carry the
student (``alice.ipynb``, ``alice/05_dcgan.ipynb`` or
``alice_1234_5678_05_dcgan-1.ipynb``), sometimes several per student (a
resubmission). This stage turns the command line's paths into one
:class:`Submission` per student, with its hand-in time (from a timestamps
CSV the LMS exports, else the file's modification time, and the row says
which) and the file's SHA-256. When a student handed in several files the
**latest one wins**; the others are recorded as superseded (in the row,
the feedback and the gradebook history), never graded silently.
"""

import csv
import datetime
import re
from dataclasses import dataclass, field
from pathlib import Path

from genlab import paths


@dataclass
class Submission:
    """One student's chosen file (the latest they handed in)."""

    student: str
    file: Path
    submitted_at: str = ""          # ISO 8601 in UTC, '' when unknown
    time_source: str = ""           # "timestamps file" or "file modification time"
    sha256: str = ""
    superseded: list = field(default_factory=list)  # "file (submitted_at)" of the earlier ones


def student_name(path, rule="stem"):
    """The student's name from a submission path.

    ``stem``: ``alice.ipynb`` -> ``alice``; ``parent``: ``alice/05_dcgan.ipynb``
    -> ``alice``; ``regex:PATTERN``: the first group of PATTERN searched in the
    file name (the whole stem when it does not match).
    """
    path = Path(path)
    if rule == "stem":
        return path.stem
    if rule == "parent":
        return path.resolve().parent.name
    if rule.startswith("regex:"):
        match = re.search(rule[len("regex:"):], path.name)
        return match.group(1) if match and match.groups() else path.stem
    raise ValueError(f"--student-from must be stem, parent or regex:PATTERN, not {rule!r}")


def safe_name(name):
    return re.sub(r"[^A-Za-z0-9_.@-]+", "_", name).strip("._") or "student"


def expand(paths):
    """Submission files from the command line; a folder stands for its (non-hidden) files."""
    files = []
    for item in paths:
        item = Path(item)
        if item.is_dir():
            files.extend(sorted(p for p in item.iterdir() if p.is_file() and not p.name.startswith(".")))
        else:
            files.append(item)
    return files


def parse_time(text):
    """An ISO 8601 time (``2026-12-01T23:59``, ``...Z`` or ``...+01:00``) as an aware UTC datetime.

    A time without a zone is taken as UTC.

    Raises:
        ValueError: not an ISO 8601 time (the message says what is expected).
    """
    try:
        when = datetime.datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time such as 2026-12-01T23:59:00+00:00") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when.astimezone(datetime.timezone.utc)


def iso(when):
    return when.astimezone(datetime.timezone.utc).isoformat(timespec="seconds")


def read_timestamps(path):
    """A CSV with columns ``file`` and ``submitted_at`` (the LMS's hand-in times): file name -> ISO time.

    Raises:
        ValueError: a missing column or a time that is not ISO 8601 (with the line number).
    """
    times = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"file", "submitted_at"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: needs the columns 'file' and 'submitted_at' (ISO 8601), "
                             f"found {reader.fieldnames}")
        for line, row in enumerate(reader, start=2):
            try:
                times[Path(row["file"]).name] = iso(parse_time(row["submitted_at"]))
            except ValueError as error:
                raise ValueError(f"{path}, line {line}: {error}") from None
    return times


def collect(paths_, student_from="stem", timestamps=None):
    """One :class:`Submission` per student, in file order; the latest file of a student wins.

    Args:
        paths_: files and folders (a folder stands for its non-hidden files).
        student_from: the rule of :func:`student_name`.
        timestamps: file name -> ISO time (:func:`read_timestamps`); files not in it
            fall back to their modification time.
    """
    timestamps = timestamps or {}
    by_student = {}
    for path in expand(paths_):
        if path.name in timestamps:
            when, source = timestamps[path.name], "timestamps file"
        elif path.exists():
            when = iso(datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.timezone.utc))
            source = "file modification time"
        else:
            when, source = "", ""
        digest = paths.sha256(path) if path.is_file() else ""
        item = Submission(student_name(path, student_from), path, when, source, digest)
        by_student.setdefault(item.student, []).append(item)
    chosen = []
    for items in by_student.values():
        items.sort(key=lambda item: (item.submitted_at, item.file.name))  # ISO strings sort by time
        latest = items[-1]
        latest.superseded = [f"{item.file.name} ({item.submitted_at or 'time unknown'})" for item in items[:-1]]
        chosen.append(latest)
    return chosen
