"""Totals across assignments and the CSV files Canvas and Gradescope import.

Why it exists: the gradebook (:mod:`~.record`) is genlab's own record; a
course's marks live in its LMS. This module writes what the LMSs' grade
importers read, from the gradebook's ``final`` points (lateness included):

* ``totals``: one row per student, one column per assignment, ``total`` and
  ``max_total``;
* ``canvas`` (Canvas Gradebook "Import"): the columns ``Student``, ``ID``,
  ``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per
  assignment named ``<title> (<Canvas assignment id>)`` (``--canvas-column``;
  a title without an id makes Canvas create the assignment), and a
  ``Points Possible`` row under the header;
* ``gradescope`` (Gradescope's score upload): ``Name``, ``SID``, ``Email`` and
  ``Total Score`` for one assignment.

Which column holds genlab's student name is ``id_column`` (for example
``SIS User ID`` for Canvas, ``SID`` or ``Email`` for Gradescope); a roster CSV
with a ``student`` column and any of the LMS's columns fills the others.
"""

import csv
from pathlib import Path

from genlab.course.grading import record
from genlab.course.grading.score import format_points

CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
GRADESCOPE_COLUMNS = ["Name", "SID", "Email", "Total Score"]


def read_roster(path):
    """student -> {LMS column: value} from a CSV with a ``student`` column (None: no roster)."""
    if not path:
        return {}
    lines = record.read_csv(path)
    if lines and "student" not in lines[0]:
        raise ValueError(f"{path}: a roster needs a 'student' column (genlab's student names)")
    return {line["student"]: line for line in lines}


def totals(book):
    """(assignments, {student: {assignment: final}}, {assignment: max_points}) from gradebook lines."""
    assignments = sorted({line["assignment"] for line in book})
    scores, maxima = {}, {}
    for line in book:
        scores.setdefault(line["student"], {})[line["assignment"]] = float(line["final"] or 0)
        maxima[line["assignment"]] = float(line["max_points"] or 0)
    return assignments, scores, maxima


def _identity(student, id_column, roster, columns):
    values = {column: "" for column in columns}
    values.update({k: v for k, v in roster.get(student, {}).items() if k in values and v})
    if id_column not in values:
        raise ValueError(f"--id-column {id_column!r} is not one of {', '.join(columns)}")
    values[id_column] = values[id_column] or student
    if "Student" in values or "Name" in values:
        values["Student" if "Student" in values else "Name"] = (
            roster.get(student, {}).get("Student") or roster.get(student, {}).get("Name") or student)
    return values


def write(gradebook, out, fmt, *, assignment=None, id_column=None, roster=None, canvas_columns=None):
    """Write one export; returns its path.

    Args:
        fmt: ``totals``, ``canvas`` or ``gradescope``.
        assignment: for ``gradescope`` (one assignment per upload); for ``canvas``
            the assignments to include (default all).
        canvas_columns: assignment -> Canvas column title, e.g. ``{"05_dcgan": "DCGAN (1234)"}``.
    """
    book = record.read_csv(gradebook)
    if not book:
        raise ValueError(f"{gradebook}: no gradebook rows (grade something first)")
    assignments, scores, maxima = totals(book)
    roster = read_roster(roster)
    students = sorted(set(scores) | set(roster))
    rows = []
    if fmt == "totals":
        columns = ["student"] + assignments + ["total", "max_total"]
        top = sum(maxima.values())
        for student in students:
            mine = scores.get(student, {})
            rows.append([student] + [format_points(mine[a]) if a in mine else "" for a in assignments]
                        + [format_points(sum(mine.values())), format_points(top)])
    elif fmt == "canvas":
        chosen = [assignment] if assignment else assignments
        unknown = [a for a in chosen if a not in maxima]
        if unknown:
            raise ValueError(f"no gradebook rows for {', '.join(unknown)} (known: {', '.join(assignments)})")
        titles = [(canvas_columns or {}).get(a, a) for a in chosen]
        columns = CANVAS_IDENTITY + titles
        rows.append(["Points Possible", "", "", "", ""] + [format_points(maxima[a]) for a in chosen])
        for student in students:
            identity = _identity(student, id_column or "SIS User ID", roster, CANVAS_IDENTITY)
            mine = scores.get(student, {})
            rows.append([identity[c] for c in CANVAS_IDENTITY]
                        + [format_points(mine[a]) if a in mine else "" for a in chosen])
    elif fmt == "gradescope":
        if not assignment or assignment not in maxima:
            raise ValueError(f"gradescope export needs --assignment, one of: {', '.join(assignments)}")
        columns = GRADESCOPE_COLUMNS
        for student in students:
            identity = _identity(student, id_column or "SID", roster, GRADESCOPE_COLUMNS[:3])
            mine = scores.get(student, {})
            rows.append([identity[c] for c in GRADESCOPE_COLUMNS[:3]]
                        + [format_points(mine[assignment]) if assignment in mine else ""])
    else:
        raise ValueError(f"unknown export format {fmt!r}: totals, canvas or gradescope")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists() and out.resolve() == Path(gradebook).resolve():
        raise ValueError("the export would overwrite the gradebook: choose another --out")
    record._atomic_csv(out, columns, rows)
    return out
