"""Grade a batch of submissions: ``genlab grade ASSIGNMENT SUBMISSION... --out DIR``.

Why it exists: this is the instructor's side of the assignment workflow.
For each submission the student's answer cells are put into a fresh copy of
the instructor notebook (so checks and hidden checks always come from the
instructor), the copy is run with pytest + nbval in its own process with a
per-cell and a per-submission time limit, and the results are written to
``DIR/grades.csv`` (one row per submission, rewritten after each one so no
row is ever lost) and ``DIR/feedback/<student>.md``. A bad submission never
stops the batch; submissions are only read.
"""

import csv
import re
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from genlab.course.grading import authoring, feedback, versions as nbtools, runner, submission

STATUSES = ("graded", "error", "timeout", "invalid")
FIXED_COLUMNS = ["student", "file", "status", "points", "max_points"]


@dataclass
class Row:
    """One submission's result (one line of grades.csv and one feedback file)."""

    student: str
    file: str
    status: str = "invalid"
    points: float = 0.0
    max_points: float = 0.0
    earned: dict = field(default_factory=dict)   # check id -> points
    issues: list = field(default_factory=list)
    reason: str = ""
    details: dict = field(default_factory=dict)  # check id -> (passed, message)
    answer_errors: dict = field(default_factory=dict)  # answer cell id -> message
    seconds: float = 0.0


def format_points(value):
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


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


def grade_one(path, student, instructor, assignment, source_dir, *, timeout, cell_timeout,
              sanitize_with=None, log_dir=None):
    """Grade one submission file; never raises (problems become the row's status)."""
    row = Row(student=student, file=str(path), max_points=assignment.max_points,
              earned={check.check_id: 0.0 for check in assignment.checks})
    start = time.perf_counter()
    try:
        cells, metadata = submission.load(Path(path))
        extracted = submission.extract(cells, metadata, instructor, assignment)
    except submission.InvalidSubmission as error:
        row.status, row.reason = "invalid", str(error)
        row.seconds = time.perf_counter() - start
        return row
    row.issues = extracted.issues
    graded, check_index, answer_index = nbtools.graded_notebook(instructor, assignment, extracted.answers)
    try:
        result = runner.run_notebook(graded, source_dir, name=f"{assignment.name}.ipynb", timeout=timeout,
                                     cell_timeout=cell_timeout, sanitize_with=sanitize_with)
    except Exception as error:  # a grader fault must not lose the row
        row.status, row.reason = "error", f"grader failed to run the notebook: {error!r}"
        row.seconds = time.perf_counter() - start
        return row
    if log_dir is not None:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        (Path(log_dir) / f"{safe_name(student)}.log").write_text(result.log, encoding="utf-8")
    row.status = {"ok": "graded", "timeout": "timeout", "error": "error"}[result.status]
    row.reason = result.reason
    for check in assignment.checks:
        cell = result.cells.get(check_index[check.check_id])
        passed = bool(cell and cell.passed)
        row.earned[check.check_id] = check.points if passed else 0.0
        if cell is None:
            message = "not run (the notebook stopped before this check)"
        else:
            message = cell.message
        row.details[check.check_id] = (passed, message)
        if cell is not None and cell.timed_out and row.status == "graded":
            row.status, row.reason = "timeout", f"a cell exceeded the per-cell limit of {cell_timeout:g} s"
    for answer_id, index in answer_index.items():
        cell = result.cells.get(index)
        if cell is not None and not cell.passed and cell.message:
            row.answer_errors[answer_id] = cell.message
    row.points = sum(row.earned.values())
    row.seconds = time.perf_counter() - start
    return row


def write_csv(rows, assignment, path):
    """Write grades.csv: fixed columns, one column per check id, then ``issues``."""
    columns = FIXED_COLUMNS + [check.check_id for check in assignment.checks] + ["issues"]
    tmp = Path(path).with_suffix(".csv.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            issues = list(row.issues) + ([row.reason] if row.reason and row.status != "graded" else [])
            writer.writerow([row.student, row.file, row.status, format_points(row.points),
                             format_points(row.max_points)]
                            + [format_points(row.earned.get(check.check_id, 0.0)) for check in assignment.checks]
                            + ["; ".join(issues)])
    tmp.replace(path)


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


def unique_names(files, rule):
    names, seen = [], {}
    for path in files:
        name = student_name(path, rule)
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return names


def grade(assignment_path, submissions, out_dir, *, jobs=1, timeout=600, cell_timeout=300,
          student_from="stem", sanitize_with=None, echo=print):
    """Grade every submission; write grades.csv and feedback/. Returns the rows.

    Raises:
        genlab.course.grading.authoring.AuthoringError: the assignment notebook itself is unusable.
    """
    instructor, assignment = nbtools.read_instructor(assignment_path)
    if not assignment.answers or not assignment.checks:
        raise authoring.AuthoringError(
            f"{assignment_path} has no {'solution regions' if not assignment.answers else 'checks'}: "
            "grade with the instructor notebook (notebooks/...), not a student version")
    source_dir = Path(assignment_path).resolve().parent
    out_dir = Path(out_dir)
    (out_dir / "feedback").mkdir(parents=True, exist_ok=True)
    files = expand(submissions)
    names = unique_names(files, student_from)
    rows = [None] * len(files)
    start = time.perf_counter()

    def work(position):
        return position, grade_one(files[position], names[position], instructor, assignment, source_dir,
                                   timeout=timeout, cell_timeout=cell_timeout,
                                   sanitize_with=sanitize_with, log_dir=out_dir / "logs")

    done = 0
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(work, position) for position in range(len(files))]
        for future in as_completed(futures):
            position, row = future.result()
            if names[position] != student_name(files[position], student_from):
                row.issues.append(f"student name {student_name(files[position], student_from)!r} "
                                  f"used twice; this row is {names[position]!r}")
            rows[position] = row
            done += 1
            feedback.write(row, assignment, instructor, out_dir / "feedback" / f"{safe_name(row.student)}.md")
            write_csv([r for r in rows if r is not None], assignment, out_dir / "grades.csv")
            echo(f"[{done}/{len(files)}] {row.student}: {row.status} "
                 f"{format_points(row.points)}/{format_points(row.max_points)} "
                 f"({row.seconds:.1f} s){'  ' + row.reason if row.reason else ''}", flush=True)
    echo(f"graded {len(files)} submission(s) of {assignment.name} in {time.perf_counter() - start:.1f} s "
         f"-> {out_dir / 'grades.csv'}", flush=True)
    return rows
