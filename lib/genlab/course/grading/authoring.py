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
* a hidden check's first line is ``# HIDDEN CHECK <id> <points>``.

Cells are identified by their nbformat cell ``id`` and checks by their
check id, never by position.
"""

import re
from dataclasses import dataclass, field

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
STUB_LINES = ("# YOUR CODE HERE", "raise NotImplementedError()")
CHECK_OUTPUT_MARKER = "NBVAL_CHECK_OUTPUT"
METADATA_KEY = "genlab"

_CHECK_RE = re.compile(
    r"^#\s*(?P<hidden>HIDDEN\s+)?CHECK\s+(?P<id>\S+)\s+(?P<points>\S+)(?:\s+(?P<flag>\S+))?\s*$"
)
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


@dataclass
class Assignment:
    """The graded structure of an instructor notebook.

    Attributes:
        name: the assignment name (the notebook's file stem, e.g. ``05_dcgan``).
        answers: ordered cell ids of the answer cells.
        checks: ordered :class:`Check` objects (visible and hidden).
        kernel: the notebook's kernelspec name ('' when unset).
    """

    name: str
    answers: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    kernel: str = ""

    @property
    def max_points(self):
        return sum(check.points for check in self.checks)

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


def has_solution(source):
    """True when a cell source contains a ``### BEGIN SOLUTION`` line."""
    return any(line.strip() == BEGIN_SOLUTION for line in source.splitlines())


def strip_solutions(source):
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
            out.extend(indent + stub for stub in STUB_LINES)
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
            if line.strip() and line.strip() not in STUB_LINES]


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
        if cell.cell_type != "code":
            continue
        header = parse_check_header(cell.source)
        solution = has_solution(cell.source)
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
