"""Questions scored by hand: one sheet per question out, scores and comments back in.

Why it exists: some answers are prose (``<!-- MANUAL <id> <points> -->``
markdown cells) or code whose quality no check can judge. ``genlab grade``
writes ``DIR/manual/<question>.csv`` (columns ``student, points, max_points,
comment, answer``; ``points`` blank) and ``DIR/manual/<question>.html`` (the
answers to read, one per student) for each question; the instructor fills
``points`` and ``comment`` in a spreadsheet, and ``genlab grade merge``
(:func:`merge`) folds them into the rows, ``grades.csv``, the gradebook and
the feedback (which quotes the comment). Sheets are rewritten only to add
or update answers: points and comments already entered are kept unless that
student's answer changed (a resubmission), which the sheet's ``note`` says.
"""

import csv
import html
from pathlib import Path

from genlab.course.grading import feedback, intake, record
from genlab.course.grading.score import format_points

SHEET_COLUMNS = ["student", "points", "max_points", "comment", "answer", "note"]


def sheet_path(out_dir, question_id):
    return Path(out_dir) / "manual" / f"{question_id}.csv"


def write_sheets(out_dir, assignment, rows):
    """Write (or update) one CSV and one HTML page per manual question; returns the CSV paths."""
    written = []
    for question in assignment.manual:
        path = sheet_path(out_dir, question.question_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        before = {line["student"]: line for line in record.read_csv(path)}
        lines = []
        for row in rows:
            if question.question_id not in row.manual:
                continue  # invalid submissions have nothing to score
            entry = row.manual[question.question_id]
            old = before.get(row.student)
            points = "" if entry.get("points") is None else format_points(entry["points"])
            comment, note = entry.get("comment", ""), ""
            if old is not None and old["answer"] == entry["answer"]:
                points, comment = old["points"] or points, old["comment"] or comment
            elif old is not None and (old["points"] or old["comment"]):
                note = f"answer changed since it was scored {old['points'] or '-'} ({old['comment'][:60]})"
                points, comment = "", ""
            if not entry["answer"].strip():
                note = note or "no answer"
            lines.append([row.student, points, format_points(question.points), comment, entry["answer"], note])
        record._atomic_csv(path, SHEET_COLUMNS, lines)
        _write_html(path.with_suffix(".html"), question, lines)
        written.append(path)
    return written


def _write_html(path, question, lines):
    parts = [f"<!doctype html><meta charset='utf-8'><title>{html.escape(question.question_id)}</title>",
             f"<h1>Manual question {html.escape(question.question_id)} "
             f"({format_points(question.points)} points)</h1>",
             "<p>Score in the CSV beside this page (columns points and comment), then run "
             "<code>genlab grade merge</code>.</p>"]
    for student, points, _, comment, answer, note in lines:
        parts.append(f"<h2>{html.escape(student)}</h2><p>points: {html.escape(points) or '-'}; "
                     f"comment: {html.escape(comment) or '-'}{'; ' + html.escape(note) if note else ''}</p>"
                     f"<pre style='white-space: pre-wrap'>{html.escape(answer) or '(no answer)'}</pre>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")


def read_scores(path, question):
    """student -> (points or None, comment) from a filled sheet.

    Raises:
        ValueError: a points cell that is not a number between 0 and the question's points (file and line named).
    """
    scores = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for line, entry in enumerate(csv.DictReader(handle), start=2):
            text = (entry.get("points") or "").strip()
            if not text:
                scores[entry["student"]] = (None, (entry.get("comment") or "").strip())
                continue
            try:
                points = float(text)
            except ValueError:
                raise ValueError(f"{path}, line {line}: points {text!r} is not a number") from None
            if not 0 <= points <= question.points:
                raise ValueError(f"{path}, line {line}: points {text} outside 0..{format_points(question.points)}")
            scores[entry["student"]] = (points, (entry.get("comment") or "").strip())
    return scores


def merge(assignment_path, out_dir, sheets=None, gradebook=None, echo=print):
    """Fold filled sheets into the recorded rows, grades.csv, the gradebook and the feedback.

    Args:
        sheets: CSV files (default: every ``DIR/manual/<question>.csv`` of the assignment).

    Returns the number of scores changed.

    Raises:
        ValueError: a sheet names an unknown question or student, or has a bad points value;
            nothing is changed then.
    """
    from genlab.course.grading import versions as nbtools

    instructor, assignment = nbtools.read_instructor(assignment_path)
    out_dir = Path(out_dir)
    questions = {question.question_id: question for question in assignment.manual}
    paths = [Path(p) for p in sheets] if sheets else [sheet_path(out_dir, q) for q in questions]
    rows = record.load_rows(out_dir)
    updates = []
    for path in paths:
        if path.stem not in questions:
            raise ValueError(f"{path}: {assignment.name} has no manual question {path.stem!r} "
                             f"(its questions: {', '.join(questions) or 'none'})")
        if not path.exists():
            raise ValueError(f"{path}: no such sheet (run genlab grade first)")
        for student, (points, comment) in read_scores(path, questions[path.stem]).items():
            if student not in rows or path.stem not in rows[student].manual:
                raise ValueError(f"{path}: student {student!r} has no recorded answer to {path.stem}")
            updates.append((student, path.stem, points, comment))
    changed = {}
    for student, question_id, points, comment in updates:
        entry = rows[student].manual[question_id]
        if (entry.get("points"), entry.get("comment", "")) != (points, comment):
            entry.update(points=points, comment=comment)
            changed[student] = rows[student]
    when = record.now()
    for row in changed.values():
        row.points = row.total()
        record.save_row(out_dir, row, when)
        feedback.write(row, assignment, instructor, out_dir / "feedback" / f"{intake.safe_name(row.student)}.md")
    if changed:
        record.update_gradebook(Path(gradebook) if gradebook else record.default_gradebook(out_dir), assignment,
                                [(row, "manual", "manual scores merged") for row in changed.values()], when)
        record.write_csv(sorted(record.load_rows(out_dir).values(), key=lambda r: r.student), assignment,
                         out_dir / "grades.csv")
    echo(f"merged manual scores of {len(paths)} sheet(s): {len(changed)} student(s) changed", flush=True)
    return len(changed)
