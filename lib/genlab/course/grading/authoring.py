"""Read the assignment markers of an instructor notebook.

Why it exists: building student versions, validating them and grading all
need the same view of a notebook: which code cells hold solutions (answer
cells), which cells are checks, how many points each check is worth. That
view is computed here once, from the markers documented in STYLE.md:

* ``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines delimit solution code
  inside a code cell (an *answer cell*);
* a check cell's first non-blank line is ``# CHECK <id> <points>``
  (optionally followed by the word ``independent``: the check must pass
  even without a solution, e.g. a data-shape check);
* a hidden check's first line is ``# HIDDEN CHECK <id> <points>``;
* a *manual answer* (prose or code an instructor scores by hand) is a
  markdown cell whose first line is ``<!-- MANUAL <id> <points> -->`` or a
  code cell whose first line is ``# MANUAL <id> <points>``; its model answer
  (optional) sits between the solution markers like code;
* a check id ``<exercise>.<part>`` makes the check one part of an exercise
  (several weighted checks, partial credit); ``genlab.check("<exercise>")``
  runs all its visible parts;
* a cell whose metadata holds ``"genlab": {"grading": "skip"}`` only
  demonstrates: the graded notebook leaves it out (``assign validate`` proves
  the checks do not need it).

Cells are identified by their nbformat cell ``id`` and checks by their
check id, never by position.
"""

import re
from dataclasses import dataclass, field

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
STUB_LINES = ("# YOUR CODE HERE", "raise NotImplementedError()")
MARKDOWN_STUB = ("YOUR ANSWER HERE",)
CHECK_OUTPUT_MARKER = "NBVAL_CHECK_OUTPUT"
METADATA_KEY = "genlab"

_CHECK_RE = re.compile(
    r"^#\s*(?P<hidden>HIDDEN\s+)?CHECK\s+(?P<id>\S+)\s+(?P<points>\S+)(?:\s+(?P<flag>\S+))?\s*$"
)
_MANUAL_RE = re.compile(r"^(?:<!--\s*MANUAL\s+(?P<mid>\S+)\s+(?P<mpoints>\S+)\s*-->|#\s*MANUAL\s+(?P<cid>\S+)\s+(?P<cpoints>\S+))\s*$")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class AuthoringError(ValueError):
    """An instructor notebook's markers are malformed (message says where and how to fix)."""


@dataclass(frozen=True)
class Check:
    """One ``# CHECK`` or ``# HIDDEN CHECK`` cell."""

    check_id: str
    points: float
    cell_id: str
    hidden: bool = False
    independent: bool = False


@dataclass(frozen=True)
class Manual:
    """One manual-answer cell: an instructor scores it by hand (``genlab grade merge``)."""

    question_id: str
    points: float
    cell_id: str
    cell_type: str = "markdown"


def exercise_of(check_id):
    """The exercise a check belongs to: ``diagnose.abc`` -> ``diagnose`` (a check id without a dot is its own)."""
    return check_id.split(".", 1)[0]


def skipped_when_grading(cell):
    """True for a demonstration cell the graded notebook leaves out (metadata ``genlab.grading == "skip"``)."""
    meta = cell.get("metadata", {}).get(METADATA_KEY) if isinstance(cell.get("metadata"), dict) else None
    return isinstance(meta, dict) and meta.get("grading") == "skip"


@dataclass
class Assignment:
    """The graded structure of an instructor notebook.

    Attributes:
        name: the assignment name (the notebook's file stem, e.g. ``05_dcgan``).
        answers: ordered cell ids of the answer cells.
        checks: ordered :class:`Check` objects (visible and hidden).
        manual: ordered :class:`Manual` questions (scored by hand).
        kernel: the notebook's kernelspec name ('' when unset).
    """

    name: str
    answers: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    manual: list = field(default_factory=list)
    kernel: str = ""

    @property
    def auto_points(self):
        """Points the checks award."""
        return sum(check.points for check in self.checks)

    @property
    def max_points(self):
        """Checks plus manual questions."""
        return self.auto_points + sum(question.points for question in self.manual)

    def check(self, check_id):
        for check in self.checks:
            if check.check_id == check_id:
                return check
        raise KeyError(check_id)


def first_line(source):
    """The first non-blank line of a cell source, stripped ('' if none)."""
    for line in source.splitlines():
        if line.strip():
            return line.strip()
    return ""


def parse_check_header(source):
    """The :class:`Check` fields from a cell's first line, or None if it is no check.

    Returns a dict with ``check_id``, ``points``, ``hidden``, ``independent``.

    Raises:
        AuthoringError: the line looks like a check header but is malformed.
    """
    line = first_line(source)
    if not re.match(r"^#\s*(HIDDEN\s+)?CHECK\b", line):
        return None
    match = _CHECK_RE.match(line)
    if not match:
        raise AuthoringError(f"malformed check header {line!r}: write '# CHECK <id> <points>'")
    check_id, points_text, flag = match.group("id"), match.group("points"), match.group("flag")
    if not _ID_RE.match(check_id):
        raise AuthoringError(f"check id {check_id!r} must be letters, digits, '-', '_' or '.'")
    try:
        points = float(points_text)
    except ValueError:
        raise AuthoringError(f"check {check_id}: points {points_text!r} is not a number") from None
    if points < 0:
        raise AuthoringError(f"check {check_id}: points must not be negative")
    if flag not in (None, "independent"):
        raise AuthoringError(f"check {check_id}: unknown flag {flag!r} (only 'independent' is allowed)")
    return {"check_id": check_id, "points": points, "hidden": bool(match.group("hidden")),
            "independent": flag == "independent"}


def parse_manual_header(source):
    """``{"question_id", "points"}`` from a manual-answer cell's first line, or None.

    Raises:
        AuthoringError: malformed id or points.
    """
    line = first_line(source)
    if "MANUAL" not in line or not re.match(r"^(<!--|#)\s*MANUAL\b", line):
        return None
    match = _MANUAL_RE.match(line)
    if not match:
        raise AuthoringError(f"malformed manual header {line!r}: write '<!-- MANUAL <id> <points> -->' "
                             "(markdown) or '# MANUAL <id> <points>' (code)")
    question_id = match.group("mid") or match.group("cid")
    points_text = match.group("mpoints") or match.group("cpoints")
    if not _ID_RE.match(question_id):
        raise AuthoringError(f"manual question id {question_id!r} must be letters, digits, '-', '_' or '.'")
    try:
        points = float(points_text)
    except ValueError:
        raise AuthoringError(f"manual question {question_id}: points {points_text!r} is not a number") from None
    if points < 0:
        raise AuthoringError(f"manual question {question_id}: points must not be negative")
    return {"question_id": question_id, "points": points}


def has_solution(source):
    """True when a cell source contains a ``### BEGIN SOLUTION`` line."""
    return any(line.strip() == BEGIN_SOLUTION for line in source.splitlines())


def strip_solutions(source, stub=STUB_LINES):
    """Replace every solution region by the student stub, keeping its indentation.

    The ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` lines (inclusive) become
    ``# YOUR CODE HERE`` and ``raise NotImplementedError()`` indented like the
    BEGIN line.

    Raises:
        AuthoringError: unbalanced or nested markers.
    """
    out, inside = [], False
    for line in source.split("\n"):
        marker = line.strip()
        if marker == BEGIN_SOLUTION:
            if inside:
                raise AuthoringError("nested '### BEGIN SOLUTION' (close the first region first)")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + line for line in stub)
        elif marker == END_SOLUTION:
            if not inside:
                raise AuthoringError("'### END SOLUTION' without a matching BEGIN")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise AuthoringError("'### BEGIN SOLUTION' without a matching '### END SOLUTION'")
    return "\n".join(out)


def signature(source):
    """The non-blank lines outside solution regions: what a student version keeps.

    Used to recognise an answer cell whose id was changed by an editor.
    """
    stripped = strip_solutions(source) if has_solution(source) else source
    return [line.strip() for line in stripped.splitlines()
            if line.strip() and line.strip() not in STUB_LINES + MARKDOWN_STUB]


def kernel_name(notebook):
    return str(notebook.metadata.get("kernelspec", {}).get("name", ""))


def read_assignment(notebook, name):
    """Parse an instructor notebook node into an :class:`Assignment`.

    Raises:
        AuthoringError: missing cell ids, duplicate check ids, solutions in a
            check cell, or unbalanced solution markers.
    """
    assignment = Assignment(name=name, kernel=kernel_name(notebook))
    seen_cells, seen_checks = set(), set()
    for index, cell in enumerate(notebook.cells):
        cell_id = cell.get("id")
        where = f"{name}: cell {cell_id or '#' + str(index)}"
        try:
            manual = parse_manual_header(cell.source) if cell.cell_type in ("code", "markdown") else None
        except AuthoringError as error:
            raise AuthoringError(f"{where}: {error}") from None
        if manual:
            if not cell_id:
                raise AuthoringError(f"{where} has no cell id; upgrade the notebook to nbformat 4.5")
            if manual["question_id"] in seen_checks:
                raise AuthoringError(f"{where}: id {manual['question_id']!r} is used twice")
            seen_checks.add(manual["question_id"])
            assignment.manual.append(Manual(cell_id=cell_id, cell_type=cell.cell_type, **manual))
            if has_solution(cell.source):
                try:
                    strip_solutions(cell.source)
                except AuthoringError as error:
                    raise AuthoringError(f"{where}: {error}") from None
        if cell.cell_type != "code":
            continue
        header = parse_check_header(cell.source)
        solution = has_solution(cell.source)
        if skipped_when_grading(cell) and (header or solution or manual):
            raise AuthoringError(f"{where}: an answer, check or manual cell cannot be skipped when grading")
        if (header or solution) and not cell_id:
            raise AuthoringError(f"{where} has no cell id; upgrade the notebook to nbformat 4.5 "
                                 "(open and save it in Jupyter, or nbformat.validator.normalize)")
        if cell_id in seen_cells:
            raise AuthoringError(f"{where}: duplicate cell id {cell_id!r}")
        seen_cells.add(cell_id)
        if header and solution:
            raise AuthoringError(f"{where}: a check cell must not contain a solution region")
        if solution:
            try:
                strip_solutions(cell.source)
            except AuthoringError as error:
                raise AuthoringError(f"{where}: {error}") from None
            assignment.answers.append(cell_id)
        elif END_SOLUTION in cell.source:
            raise AuthoringError(f"{where}: '### END SOLUTION' without a matching BEGIN")
        if header:
            if header["check_id"] in seen_checks:
                raise AuthoringError(f"{where}: check id {header['check_id']!r} is used twice")
            seen_checks.add(header["check_id"])
            assignment.checks.append(Check(cell_id=cell_id, **header))
    return assignment


def lint(notebook, assignment):
    """Authoring problems that do not stop building (returned as messages)."""
    problems = []
    if not assignment.checks:
        problems.append("no '# CHECK <id> <points>' cells: the notebook has no graded exercises")
    if not assignment.answers:
        problems.append("no '### BEGIN SOLUTION' regions: there is nothing for students to write")
    cells = {cell.get("id"): cell for cell in notebook.cells}
    for check in assignment.checks:
        cell = cells[check.cell_id]
        if CHECK_OUTPUT_MARKER not in cell.source:
            problems.append(f"check {check.check_id}: no '# {CHECK_OUTPUT_MARKER}' line, "
                            "so its output is not compared")
        elif not check.hidden and not cell.get("outputs"):
            problems.append(f"check {check.check_id}: no stored reference output "
                            "(run `genlab notebooks refresh` on the notebook)")
    return problems
