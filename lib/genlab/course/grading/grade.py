"""Grade a batch of submissions: ``genlab grade ASSIGNMENT SUBMISSION... --out DIR``.

Why it exists: this is the instructor's side of the assignment workflow.
For each submission the student's answer cells are put into a fresh copy of
the instructor notebook (so checks and hidden checks always come from the
instructor), the copy is run with pytest + nbval in its own process and its
own folder (see :mod:`~genlab.course.grading.isolation`) with a per-cell and
a per-submission time limit and a memory ceiling, and the results are
written to ``DIR/grades.csv`` (one row per submission, rewritten after each
one so no row is ever lost), ``DIR/feedback/<student>.md``, ``DIR/logs/`` and,
at the end, ``DIR/summary.md`` with ``DIR/summary.png``. A bad submission
never stops the batch; submissions are only read.

Every code cell outside the checks that raised, timed out or was running
when the run was stopped is named in the row's ``issues`` and in the
feedback (cell id, first line, the error's last line). Statuses:
``graded``; ``timeout`` (a cell hit the per-cell limit, or the run hit its
time limit); ``memory`` (the run hit the memory ceiling); ``error`` (the
notebook could not be run); ``invalid`` (not a gradable submission).
Points earned before a timeout or the memory ceiling still count.
"""

import csv
import re
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from genlab.course.grading import authoring, feedback, isolation, versions as nbtools, runner, submission
from genlab.course.grading import summary

STATUSES = ("graded", "timeout", "memory", "error", "invalid")
FIXED_COLUMNS = ["student", "file", "status", "points", "max_points"]
CSV_CELL_ISSUES = 5  # cell problems listed in grades.csv; the feedback lists them all
_OUT_OF_MEMORY = re.compile(r"^(MemoryError\b|\S*ResourceExhaustedError\b)")


@dataclass
class CellProblem:
    """A code cell outside the checks that raised, timed out, or was running when the run stopped.

    Attributes:
        label: ``answer cell <id>`` or ``cell <id>``.
        first_line: the cell's first non-blank line (shortened).
        kind: ``error``, ``timeout`` or ``memory``.
        summary: one line: what happened (the error's last line, or the limit hit).
        message: nbval's full message (a traceback), '' when the run was killed.
    """

    label: str
    first_line: str
    kind: str
    summary: str
    message: str = ""

    def __str__(self):
        return f'{self.label} ("{self.first_line}"): {self.summary}'


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
    cells: list = field(default_factory=list)    # CellProblem, in notebook order
    seconds: float = 0.0
    peak_memory: int = 0

    def csv_issues(self):
        """The ``issues`` column: submission problems, why the run stopped, failed cells."""
        issues = list(self.issues) + ([self.reason] if self.reason and self.status != "graded" else [])
        issues += [str(problem) for problem in self.cells[:CSV_CELL_ISSUES]]
        if len(self.cells) > CSV_CELL_ISSUES:
            issues.append(f"{len(self.cells) - CSV_CELL_ISSUES} more failed cells (see the feedback)")
        return "; ".join(issues)


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


def _last_line(message):
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return lines[-1][:200] if lines else "(no message)"


def cell_problems(result, graded, check_index, answer_index, cell_timeout, memory=None):
    """The :class:`CellProblem` of every code cell outside the checks (see the module docstring)."""
    checks = set(check_index.values())
    answers = {index: cell_id for cell_id, index in answer_index.items()}
    code = [cell for cell in graded.cells if cell.cell_type == "code"]
    problems = []
    for index, cell in enumerate(code):
        if index in checks:
            continue
        label = f"answer cell {answers[index]}" if index in answers else f"cell {cell.get('id') or index + 1}"
        first = authoring.first_line(cell.source)
        first = first if len(first) <= 60 else first[:57] + "..."
        outcome = result.cells.get(index)
        if index == result.running and result.status in ("timeout", "memory"):
            problems.append(CellProblem(label, first, result.status, "running when the run was stopped"))
        elif outcome is None or outcome.outcome in ("passed", "skipped"):
            continue  # skipped: nbval's "previous cell timed out" (that cell is reported)
        elif outcome.timed_out:
            problems.append(CellProblem(label, first, "timeout",
                                        f"timed out (per-cell limit of {cell_timeout:g} s)", outcome.message))
        elif "Cell outputs differ" in outcome.message:
            problems.append(CellProblem(label, first, "error", "output differs from the reference",
                                        outcome.message))
        else:
            last = _last_line(outcome.message).rstrip(":")
            kind = "memory" if _OUT_OF_MEMORY.match(last) else "error"
            if kind == "memory":
                last += f" (memory ceiling {isolation.format_size(memory)})" if memory else " (no memory ceiling)"
            problems.append(CellProblem(label, first, kind, f"raised {last}", outcome.message))
    return problems


def _where(result, graded, check_index, answer_index):
    """' while running <cell>' for a run that was killed, else ''."""
    if result.running is None:
        return ""
    code = [cell for cell in graded.cells if cell.cell_type == "code"]
    if result.running >= len(code):
        return ""
    names = {index: f"check {check_id}" for check_id, index in check_index.items()}
    names.update({index: f"answer cell {cell_id}" for cell_id, index in answer_index.items()})
    fallback = f"cell {code[result.running].get('id') or result.running + 1}"
    return f" while running {names.get(result.running, fallback)}"


def grade_one(path, student, instructor, assignment, source_dir, *, timeout, cell_timeout,
              sanitize_with=None, log_dir=None, memory=None, sandbox=False, hide=()):
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
                                     cell_timeout=cell_timeout, sanitize_with=sanitize_with,
                                     memory=memory, sandbox=sandbox, hide=hide)
    except Exception as error:  # a grader fault must not lose the row
        row.status, row.reason = "error", f"grader failed to run the notebook: {error!r}"
        row.seconds = time.perf_counter() - start
        return row
    if log_dir is not None:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        (Path(log_dir) / f"{safe_name(student)}.log").write_text(result.log, encoding="utf-8")
    row.peak_memory = result.peak_memory
    row.status = {"ok": "graded", "timeout": "timeout", "memory": "memory", "error": "error"}[result.status]
    row.reason = result.reason + _where(result, graded, check_index, answer_index)
    row.cells = cell_problems(result, graded, check_index, answer_index, cell_timeout, memory)
    timed_out_checks = []
    for check in assignment.checks:
        cell = result.cells.get(check_index[check.check_id])
        passed = bool(cell and cell.passed)
        row.earned[check.check_id] = check.points if passed else 0.0
        message = "not run (the notebook stopped before this check)" if cell is None else cell.message
        row.details[check.check_id] = (passed, message)
        if cell is not None and cell.timed_out:
            timed_out_checks.append(check.check_id)
    # The run finished, but a cell hit a limit: the status says so (a spreadsheet filter finds it);
    # the cell's issue says which one, and the reason names only timed-out checks (not in row.cells).
    if row.status == "graded":
        if any(problem.kind == "memory" for problem in row.cells):
            row.status = "memory"
        elif timed_out_checks or any(problem.kind == "timeout" for problem in row.cells):
            row.status = "timeout"
        if timed_out_checks:
            row.reason = (f"check {', '.join(timed_out_checks)} exceeded the per-cell limit "
                          f"of {cell_timeout:g} s")
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
            writer.writerow([row.student, row.file, row.status, format_points(row.points),
                             format_points(row.max_points)]
                            + [format_points(row.earned.get(check.check_id, 0.0)) for check in assignment.checks]
                            + [row.csv_issues()])
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


def isolation_line(sandbox, memory):
    """The one line ``genlab grade`` prints first: how far submissions are kept apart."""
    ceiling = (f"memory ceiling {isolation.format_size(memory)} per submission" if memory
               else "no memory ceiling")
    if sandbox:
        return (f"isolation: bubblewrap sandbox (file system read-only except each run's own folder, "
                f"no network); {ceiling}")
    return ("isolation: NO SANDBOX: each submission runs in a private folder, but its code runs with "
            "your permissions (it can read and write any file you can, and use the network); "
            f"add --sandbox to prevent that; {ceiling}")


def grade(assignment_path, submissions, out_dir, *, jobs=1, timeout=600, cell_timeout=300,
          student_from="stem", sanitize_with=None, memory=None, sandbox=False, echo=print):
    """Grade every submission; write grades.csv, feedback/, logs/ and the summary. Returns the rows.

    Args:
        memory: bytes; the ceiling of each run (None: no ceiling).
        sandbox: run each submission in bubblewrap (:mod:`~genlab.course.grading.isolation`).

    Raises:
        genlab.course.grading.authoring.AuthoringError: the assignment notebook itself is unusable.
        genlab.course.grading.isolation.SandboxUnavailable: ``sandbox`` cannot work on this machine.
    """
    instructor, assignment = nbtools.read_instructor(assignment_path)
    if not assignment.answers or not assignment.checks:
        raise authoring.AuthoringError(
            f"{assignment_path} has no {'solution regions' if not assignment.answers else 'checks'}: "
            "grade with the instructor notebook (notebooks/...), not a student version")
    if sandbox:
        isolation.check_sandbox()  # before any row: a missing bwrap is the instructor's to fix
    source_dir = Path(assignment_path).resolve().parent
    out_dir = Path(out_dir)
    (out_dir / "feedback").mkdir(parents=True, exist_ok=True)
    files = expand(submissions)
    names = unique_names(files, student_from)
    # Inside the sandbox these folders are empty: no run reads the solutions, another
    # student's submission or the grades.
    hide = [source_dir, out_dir.resolve(), *{Path(f).resolve().parent for f in files}]
    rows = [None] * len(files)
    echo(isolation_line(sandbox, memory), flush=True)
    start = time.perf_counter()

    def work(position):
        return position, grade_one(files[position], names[position], instructor, assignment, source_dir,
                                   timeout=timeout, cell_timeout=cell_timeout, sanitize_with=sanitize_with,
                                   log_dir=out_dir / "logs", memory=memory, sandbox=sandbox, hide=hide)

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
                 f"({row.seconds:.1f} s){'  ' + row.reason if row.reason else ''}"
                 f"{'  ' + str(len(row.cells)) + ' failed cell(s)' if row.cells else ''}", flush=True)
    elapsed = time.perf_counter() - start
    written = summary.write(rows, assignment, out_dir, seconds=elapsed, jobs=jobs, memory=memory,
                            sandbox=sandbox)
    echo(f"graded {len(files)} submission(s) of {assignment.name} in {elapsed:.1f} s "
         f"-> {out_dir / 'grades.csv'}, {written}", flush=True)
    return rows
