"""Read a student's submission and take out its answers, reporting tamper and drift.

Why it exists: a submission is untrusted input. It may not be a notebook, may
be for another assignment, may have lost, duplicated or re-numbered cells,
edited checks or a different kernel. This module reads it tolerantly (raw
JSON, not nbformat's validator, which silently repairs duplicate ids) and
returns only the source of each answer cell plus a list of issues.

Matching an instructor answer cell (by its nbformat cell id, never position):

1. the submission code cell with the same ``id``;
2. else the code cell whose ``metadata.genlab.answer`` names that id (the
   student version writes it; it survives editors that re-number ids);
3. else the unclaimed code cell (not an instructor cell id) that still has the
   first line the student version kept outside the solution region (e.g. the
   ``def`` line) and at least half of the other kept lines;
4. else the answer is *missing*: it is graded as unanswered (the stub runs).

If several cells match at one level the answer is *duplicated*: the last
one is graded and the issue reported. If no answer cell is found at all, or
the notebook says it belongs to another assignment, the submission is
``invalid``.
"""

import json
from dataclasses import dataclass, field

from genlab.course.grading import authoring
from genlab.course.grading.authoring import METADATA_KEY


class InvalidSubmission(Exception):
    """The submission cannot be graded; the message is the reason shown to the student."""


@dataclass
class Extracted:
    """Answers (cell id -> source) and tamper/drift issues found in a submission."""

    answers: dict = field(default_factory=dict)
    issues: list = field(default_factory=list)
    manual: dict = field(default_factory=dict)  # manual question id -> the student's text


def _source(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _genlab_meta(cell):
    metadata = cell.get("metadata")
    value = metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None
    return value if isinstance(value, dict) else {}


def load(path):
    """Parse a submission file into its list of cells and its metadata.

    Raises:
        InvalidSubmission: not UTF-8 text, not JSON, or not a Jupyter notebook.
    """
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise InvalidSubmission(f"cannot read the file ({error.strerror or error})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidSubmission("not a notebook: the file is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidSubmission(f"not a notebook: invalid JSON ({error})") from None
    if not isinstance(data, dict) or "nbformat" not in data:
        raise InvalidSubmission("not a Jupyter notebook: JSON without an 'nbformat' field")
    if data.get("nbformat") != 4:
        try:
            import nbformat

            data = json.loads(nbformat.writes(nbformat.reads(text, as_version=4)))
        except Exception as error:
            raise InvalidSubmission(f"unsupported notebook format {data.get('nbformat')!r} ({error})") from None
    cells = data.get("cells")
    if not isinstance(cells, list) or not all(isinstance(cell, dict) for cell in cells):
        raise InvalidSubmission("not a Jupyter notebook: 'cells' is not a list of cells")
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    return cells, metadata


def _looks_like(lines, wanted):
    """True when a cell keeps the first line the student version kept and most of the others."""
    present = {line.strip() for line in lines}
    return bool(wanted) and wanted[0] in present and 2 * sum(w in present for w in wanted) >= len(wanted)


def extract(cells, metadata, instructor, assignment):
    """Match answer cells and compare checks and kernel with the instructor notebook.

    Args:
        cells, metadata: from :func:`load`.
        instructor: the instructor notebook node.
        assignment: its :class:`~authoring.Assignment`.

    Raises:
        InvalidSubmission: wrong assignment, or no answer cell found at all.
    """
    result = Extracted()
    claimed_for = metadata.get(METADATA_KEY, {}) if isinstance(metadata.get(METADATA_KEY), dict) else {}
    claimed = claimed_for.get("assignment")
    if claimed and claimed != assignment.name:
        raise InvalidSubmission(f"wrong assignment: this notebook is {claimed!r}, "
                                f"graded as {assignment.name!r}")
    code = [cell for cell in cells if cell.get("cell_type") == "code"]
    by_id = {cell.get("id"): cell for cell in instructor.cells}
    used = set()
    missing = []
    for answer_id in assignment.answers:
        level, found = "id", [c for c in code if c.get("id") == answer_id]
        copies = [c for c in code if _genlab_meta(c).get("answer") == answer_id and c not in found]
        if not found and copies:
            level, found, copies = "metadata", copies, []
        if not found:
            wanted = authoring.signature(by_id[answer_id].source)
            level = "content"
            found = [c for c in code if id(c) not in used and c.get("id") not in by_id
                     and _looks_like(_source(c).splitlines(), wanted)]
        if not found:
            missing.append(answer_id)
            result.issues.append(f"answer cell {answer_id} missing (graded as unanswered)")
            continue
        chosen = found[-1]
        used.add(id(chosen))
        result.answers[answer_id] = _source(chosen)
        if len(found) > 1 or copies:
            result.issues.append(f"answer cell {answer_id} duplicated ({len(found) + len(copies)} copies; "
                                 f"graded the {'last' if len(found) > 1 else 'original'} one)")
        if level != "id":
            result.issues.append(f"answer cell {answer_id}: cell id changed (matched by {level})")
    _extract_manual(cells, instructor, assignment, result)
    if assignment.answers and len(missing) == len(assignment.answers):
        raise InvalidSubmission(f"wrong assignment: none of the {len(assignment.answers)} answer cells "
                                f"of {assignment.name} is in this notebook")
    for check in assignment.checks:
        if check.hidden:
            continue
        reference = by_id[check.cell_id].source
        matches = [c for c in cells if c.get("id") == check.cell_id]
        if not matches:
            matches = [c for c in code if authoring.first_line(_source(c)) == authoring.first_line(reference)]
        if not matches:
            result.issues.append(f"check {check.check_id} deleted (ignored: the instructor's check ran)")
        elif _source(matches[-1]).strip() != reference.strip():
            result.issues.append(f"check {check.check_id} edited (ignored: the instructor's check ran)")
    kernelspec = metadata.get("kernelspec") if isinstance(metadata.get("kernelspec"), dict) else {}
    kernel = kernelspec.get("name")
    if kernel and assignment.kernel and kernel != assignment.kernel:
        result.issues.append(f"kernel changed from {assignment.kernel} to {kernel} "
                             f"(graded with the {assignment.kernel} environment)")
    return result


def _manual_id(cell):
    try:
        header = authoring.parse_manual_header(_source(cell))
    except authoring.AuthoringError:
        return None
    return header["question_id"] if header else None


def _extract_manual(cells, instructor, assignment, result):
    """The text of each manual answer: by cell id, by ``genlab.manual`` metadata, by its header
    line, else by the lines the student version kept (a missing answer is '' and an issue)."""
    by_id = {cell.get("id"): cell for cell in instructor.cells}
    for question in assignment.manual:
        levels = ([c for c in cells if c.get("id") == question.cell_id],
                  [c for c in cells if _genlab_meta(c).get("manual") == question.question_id],
                  [c for c in cells if _manual_id(c) == question.question_id],
                  [c for c in cells if c.get("id") not in by_id and _looks_like(
                      _source(c).splitlines(), authoring.signature(by_id[question.cell_id].source))])
        found = next((level for level in levels if level), [])
        if not found:
            result.manual[question.question_id] = ""
            result.issues.append(f"manual answer {question.question_id} missing")
            continue
        text = _source(found[-1])
        stub = authoring.strip_solutions(by_id[question.cell_id].source,
                                         authoring.MARKDOWN_STUB if question.cell_type == "markdown"
                                         else authoring.STUB_LINES)
        result.manual[question.question_id] = "" if text.strip() == stub.strip() else text
