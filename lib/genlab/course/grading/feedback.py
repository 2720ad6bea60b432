"""Write a student's feedback file (Markdown) from a graded row.

Why it exists: grades.csv tells the instructor the numbers; the student needs
to know, per check, whether it passed and, if not, what was expected and
what their code produced (or the error it raised), and which of their cells
failed or did not finish outside the checks. Kept apart from
``grade`` so the wording can change without touching the grading logic.
"""

import re
from pathlib import Path

MAX_LINES = 40
MAX_LINE_CHARS = 300  # one printed line can be megabytes long


def _points(value):
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def _reference_text(cell):
    """The text a check cell is expected to print (its stored outputs)."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif output.get("output_type") in ("execute_result", "display_data"):
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join("".join(part) if isinstance(part, list) else part for part in parts).rstrip()


def _trim(text, limit=MAX_LINES):
    lines = [line if len(line) <= MAX_LINE_CHARS else line[:MAX_LINE_CHARS] + " ..."
             for line in text.strip().splitlines()]
    if len(lines) > limit:
        lines = lines[: limit // 2] + [f"... ({len(lines) - limit} lines omitted) ..."] + lines[-limit // 2:]
    return "\n".join(lines)


def _explain(message):
    """The useful part of nbval's failure text: no echoed input, no graded-notebook cell numbers."""
    if "Input:" in message and ("Traceback:" in message or "Cell outputs differ" in message):
        head, _, rest = message.partition("Input:")
        if "Traceback:" in rest:
            rest = rest[rest.index("Traceback:") + len("Traceback:"):]
        message = head + "\n" + rest
    message = message.replace("Previous cell timed out, expected cell to fail",
                              "Not checked: an earlier cell timed out.")
    lines = [line for line in message.splitlines() if line.strip() != "Notebook cell execution failed"]
    lines = [re.sub(r"^Cell \d+: ", "", line) for line in lines]
    return _trim(re.sub(r"\n\s*\n(\s*\n)+", "\n\n", "\n".join(lines)))


def render(row, assignment, instructor):
    """The Markdown feedback for one :class:`~genlab.course.grading.grade.Row`."""
    cells = {cell.get("id"): cell for cell in instructor.cells}
    lines = [f"# Feedback: {row.student}, {assignment.name}", "",
             f"- File: `{Path(row.file).name}`",
             f"- Status: **{row.status}**",
             f"- Points: **{_points(row.points)} / {_points(row.max_points)}**", ""]
    if row.submitted_at:
        lines.insert(-1, f"- Submitted: {row.submitted_at} ({row.time_source or 'time source unknown'})")
    if row.days_late:
        lines.insert(-1, f"- Late: {row.days_late} day(s) after {row.due}; penalty {_points(row.penalty)}, "
                         f"final **{_points(row.final)} / {_points(row.max_points)}**")
    if row.reason:
        lines += [f"Reason: {row.reason}", ""]
    if row.issues:
        lines += ["## Problems with the submission", ""] + [f"- {issue}" for issue in row.issues] + [""]
    if row.status == "invalid":
        lines += ["The submission could not be graded. Fix the problem above and submit the "
                  "notebook you downloaded from the course (keep its answer cells).", ""]
        return "\n".join(lines)
    lines += ["## Checks", "", "| check | points | result |", "|---|---|---|"]
    for check in assignment.checks:
        passed, _ = row.details.get(check.check_id, (False, ""))
        label = f"{check.check_id}{' (hidden)' if check.hidden else ''}"
        lines.append(f"| {label} | {_points(row.earned.get(check.check_id, 0))} / {_points(check.points)} "
                     f"| {'passed' if passed else 'FAILED'} |")
    lines.append("")
    for check in assignment.checks:
        passed, message = row.details.get(check.check_id, (False, "not run"))
        if passed:
            continue
        lines += [f"### {check.check_id}: failed", ""]
        expected = _reference_text(cells.get(check.cell_id, {}))
        if expected and not check.hidden:
            lines += ["Expected output:", "", "```", expected, "```", ""]
        if check.hidden:  # do not show the hidden check's code: only the error it raised
            last = [line for line in message.splitlines() if line.strip()]
            message = last[-1] if last else ""
        lines += ["What happened:", "", "```", _explain(message) or "(no message)", "```", ""]
    if assignment.manual:
        lines += ["## Questions scored by hand", "", "| question | points | comment |", "|---|---|---|"]
        for question in assignment.manual:
            entry = row.manual.get(question.question_id, {})
            score = ("not scored yet" if entry.get("points") is None
                     else f"{_points(entry['points'])} / {_points(question.points)}")
            comment = (entry.get("comment") or "").replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {question.question_id} | {score} | {comment} |")
        lines.append("")
    if row.cells:
        lines += ["## Cells that failed or did not finish", "",
                  "Outside the checks, these cells raised an error, hit a limit, or were running "
                  "when the run was stopped:", ""]
        for problem in row.cells:
            lines += [f"### {problem.label}", "", f"First line: `{problem.first_line}`", "",
                      f"What happened: {problem.summary}", ""]
            if problem.message and problem.kind != "timeout":
                lines += ["```", _explain(problem.message), "```", ""]
    return "\n".join(lines)


def write(row, assignment, instructor, path):
    """Write the feedback file (creating its folder)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(row, assignment, instructor), encoding="utf-8")
    return path
