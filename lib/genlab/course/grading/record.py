"""Stage 4 of grading: record scored rows, never losing one.

Why it exists: grading happens more than once (a resubmission, a re-grade
after fixing a check, manual scores days later), so results must be *merged*
into what is there, not written over it. Two records:

* per assignment, in the ``--out`` folder: ``results/<student>.json`` (the
  full :class:`~.score.Row`; the one it replaces moves to
  ``results/history/``) and ``grades.csv``, rewritten from all results, so
  re-grading one student leaves every other row as it was;
* across assignments, the *gradebook* (``gradebook.csv``: one row per student
  and assignment) and its append-only ``gradebook-history.csv`` (every
  grading, re-grading, superseded or kept submission and manual score, with
  the time). Writes go through a lock file and an atomic rename.

Latest submission wins: a row whose hand-in time is older than the recorded
one's does not replace it (history action ``kept-newer``). Manual scores carry
over when the same file (same SHA-256) is re-graded.
"""

import contextlib
import csv
import datetime
import fcntl
import json
import math
import os
from pathlib import Path

from genlab.course.grading import intake
from genlab.course.grading.score import Row, format_points

FIXED_COLUMNS = ["student", "file", "status", "points", "max_points"]
LATE_COLUMNS = ["submitted_at", "late", "days_late", "penalty", "final"]
GRADEBOOK_COLUMNS = ["student", "assignment", "final", "points", "max_points", "auto_points", "manual_points",
                     "manual_pending", "late", "days_late", "penalty", "status", "submitted_at", "file",
                     "sha256", "recorded_at"]
HISTORY_COLUMNS = ["recorded_at", "student", "assignment", "action", "final", "points", "submitted_at",
                   "file", "sha256", "note"]


def default_gradebook(out_dir):
    """The gradebook shared by the assignments graded into sibling folders (``grading/05`` -> ``grading/gradebook.csv``)."""
    return Path(out_dir).resolve().parent / "gradebook.csv"


def now():
    return intake.iso(datetime.datetime.now(datetime.timezone.utc))


def days_late(submitted_at, due):
    """Started days after the due time (0 when on time or either time is unknown)."""
    if not submitted_at or not due:
        return 0
    seconds = (intake.parse_time(submitted_at) - intake.parse_time(due)).total_seconds()
    return max(0, math.ceil(seconds / 86400))


@contextlib.contextmanager
def locked(path):
    """An exclusive lock beside ``path`` (two grading runs never interleave their writes)."""
    lock = Path(str(path) + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _atomic_csv(path, columns, rows):
    tmp = Path(str(path) + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
    tmp.replace(path)


def _results_dir(out_dir):
    return Path(out_dir) / "results"


def load_rows(out_dir):
    """student -> :class:`Row` of every result recorded in ``out_dir``."""
    rows = {}
    for path in sorted(_results_dir(out_dir).glob("*.json")):
        row = Row.from_json(json.loads(path.read_text(encoding="utf-8")))
        rows[row.student] = row
    return rows


def save_row(out_dir, row, when):
    """Record one row in ``out_dir/results``; returns (the row now recorded, history action).

    Actions: ``graded`` (first), ``regraded`` (same file again), ``resubmission``
    (a newer file), ``kept-newer`` (this file is older than the recorded one: not recorded).
    """
    folder = _results_dir(out_dir)
    (folder / "history").mkdir(parents=True, exist_ok=True)
    path = folder / f"{intake.safe_name(row.student)}.json"
    action = "graded"
    if path.exists():
        old = Row.from_json(json.loads(path.read_text(encoding="utf-8")))
        if old.submitted_at and row.submitted_at and old.submitted_at > row.submitted_at:
            return old, "kept-newer"
        action = "regraded" if old.sha256 and old.sha256 == row.sha256 else "resubmission"
        if action == "regraded":  # the same answers: the instructor's manual scores still apply
            for question_id, entry in old.manual.items():
                if (question_id in row.manual and entry.get("points") is not None
                        and row.manual[question_id].get("points") is None):
                    row.manual[question_id].update(points=entry["points"], comment=entry.get("comment", ""))
            row.points = row.total()
        stamp, number = when.replace(":", "").replace("+", "_"), 1
        while (folder / "history" / f"{path.stem}.{stamp}.{number}.json").exists():
            number += 1  # two records in one second (a merge right after grading) keep both
        path.replace(folder / "history" / f"{path.stem}.{stamp}.{number}.json")
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(row.to_json(), indent=1), encoding="utf-8")
    tmp.replace(path)
    return row, action


def write_csv(rows, assignment, path):
    """grades.csv: fixed columns, one per check, one per manual question, lateness, then ``issues``."""
    columns = (FIXED_COLUMNS + [check.check_id for check in assignment.checks]
               + [question.question_id for question in assignment.manual] + LATE_COLUMNS + ["issues"])
    lines = []
    for row in rows:
        manual = [format_points(row.manual[q.question_id]["points"])
                  if row.manual.get(q.question_id, {}).get("points") is not None else ""
                  for q in assignment.manual]
        lines.append([row.student, row.file, row.status, format_points(row.points), format_points(row.max_points)]
                     + [format_points(row.earned.get(check.check_id, 0.0)) for check in assignment.checks]
                     + manual + [row.submitted_at, "yes" if row.days_late else "", row.days_late or "",
                                 format_points(row.penalty) if row.penalty else "", format_points(row.final)]
                     + [row.csv_issues()])
    _atomic_csv(path, columns, lines)


def read_csv(path):
    if not Path(path).exists():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _gradebook_line(row, assignment, when):
    pending = sum(1 for entry in row.manual.values() if entry.get("points") is None)
    return {"student": row.student, "assignment": assignment.name, "final": format_points(row.final),
            "points": format_points(row.total()), "max_points": format_points(assignment.max_points),
            "auto_points": format_points(row.auto_points), "manual_points": format_points(row.manual_points),
            "manual_pending": str(pending), "late": "yes" if row.days_late else "",
            "days_late": str(row.days_late or ""), "penalty": format_points(row.penalty) if row.penalty else "",
            "status": row.status, "submitted_at": row.submitted_at, "file": row.file, "sha256": row.sha256,
            "recorded_at": when}


def update_gradebook(path, assignment, changes, when):
    """Upsert this assignment's changed rows into the gradebook; append each change to its history.

    Args:
        changes: [(row, action, note)]; rows of other students and assignments are kept as they are.
    """
    path = Path(path)
    history = path.with_name(path.stem + "-history.csv")
    with locked(path):
        book = {(line["student"], line["assignment"]): line for line in read_csv(path)}
        new_history = []
        for row, action, note in changes:
            line = _gradebook_line(row, assignment, when)
            if action != "kept-newer":
                book[(row.student, assignment.name)] = line
            new_history.append([when, row.student, assignment.name, action, line["final"], line["points"],
                                row.submitted_at, row.file, row.sha256, note])
        ordered = sorted(book.values(), key=lambda line: (line["assignment"], line["student"]))
        _atomic_csv(path, GRADEBOOK_COLUMNS, [[line.get(column, "") for column in GRADEBOOK_COLUMNS]
                                              for line in ordered])
        fresh = not history.exists()
        with open(history, "a", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            if fresh:
                writer.writerow(HISTORY_COLUMNS)
            writer.writerows(new_history)
            handle.flush()
            os.fsync(handle.fileno())
    return path
