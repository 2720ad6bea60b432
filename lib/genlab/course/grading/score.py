"""Stage 3 of grading: run one submission and score it (a :class:`Row`).

Why it exists: ``genlab grade`` is a pipeline (see :mod:`genlab.course.grading`):
read the assignment, take in the submissions (:mod:`~.intake`), *run and
score each one* (here), record the rows (:mod:`~.record`), then write
feedback, the summary and exports. This stage puts a student's answers into
a fresh copy of the instructor notebook (:mod:`~.versions`), runs it
(:mod:`~.runner`) and turns the run into a :class:`Row`: points per check,
status, and every code cell outside the checks that raised, timed out or was
running when the run was stopped (cell id, first line, the error's last
line). Statuses: ``graded``; ``timeout``; ``memory``; ``error`` (the notebook
could not be run); ``invalid`` (not a gradable submission). Points earned
before a timeout or the memory ceiling still count. A :class:`Row` is saved
as JSON (:meth:`Row.to_json`) so later stages (manual scores, re-grading)
can rebuild the feedback without running anything again.
"""

import dataclasses
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from genlab.course.grading import authoring, intake, isolation, runner, submission, versions as nbtools

STATUSES = ("graded", "timeout", "memory", "error", "invalid")
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
    answers: dict = field(default_factory=dict)  # answer cell id -> the student's source (for similarity)
    manual: dict = field(default_factory=dict)   # question id -> {"answer", "points" (None: not yet), "comment"}
    submitted_at: str = ""                       # ISO 8601, UTC ('' when unknown)
    time_source: str = ""                        # where submitted_at came from
    sha256: str = ""                             # of the submitted file
    superseded: list = field(default_factory=list)  # earlier files of this student (latest wins)
    due: str = ""                                # ISO 8601, '' when no due date
    days_late: int = 0                           # started days after ``due``
    late_penalty: float = 0.0                    # fraction of the points lost per started day late

    @property
    def penalty(self):
        """Points lost for lateness (never more than the points)."""
        return self.total() * min(1.0, self.late_penalty * self.days_late)

    @property
    def final(self):
        return self.total() - self.penalty

    @property
    def auto_points(self):
        return sum(self.earned.values())

    @property
    def manual_points(self):
        return sum(float(entry["points"]) for entry in self.manual.values() if entry.get("points") is not None)

    def total(self):
        """Checks plus the manual scores entered so far."""
        return self.auto_points + self.manual_points

    def to_json(self):
        data = dataclasses.asdict(self)
        data["details"] = {key: list(value) for key, value in self.details.items()}
        return data

    @classmethod
    def from_json(cls, data):
        data = dict(data)
        cells = [CellProblem(**problem) for problem in data.pop("cells", [])]
        details = {key: tuple(value) for key, value in data.pop("details", {}).items()}
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known}, cells=cells, details=details)

    def csv_issues(self):
        """The ``issues`` column: submission problems, why the run stopped, failed cells."""
        issues = list(self.issues) + ([self.reason] if self.reason and self.status != "graded" else [])
        issues += [str(problem) for problem in self.cells[:CSV_CELL_ISSUES]]
        if len(self.cells) > CSV_CELL_ISSUES:
            issues.append(f"{len(self.cells) - CSV_CELL_ISSUES} more failed cells (see the feedback)")
        return "; ".join(issues)


def format_points(value):
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


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
    row.answers = dict(extracted.answers)
    row.manual = {question_id: {"answer": text, "points": None, "comment": ""}
                  for question_id, text in extracted.manual.items()}
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
        (Path(log_dir) / f"{intake.safe_name(student)}.log").write_text(result.log, encoding="utf-8")
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
    row.points = row.total()
    row.seconds = time.perf_counter() - start
    return row

