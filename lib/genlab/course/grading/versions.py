"""Build the notebooks that are handed out and the notebooks that are run.

Why it exists: three notebooks are derived from an instructor notebook and
they must agree cell for cell:

* the *student version* (:func:`student_version`): solutions replaced by a
  stub, solution outputs cleared, hidden checks and model answers
  (:mod:`~genlab.course.grading.model_answers`) removed, check cells kept
  with their reference outputs (also copied into the cell's ``genlab``
  metadata so ``genlab assign check`` still has them after the student
  re-ran the notebook);
* the *graded notebook* (:func:`graded_notebook`): a fresh copy of the
  instructor notebook with only the answer cells' code taken from a
  submission, so every check, hidden or not, is the instructor's, and
  without the cells marked ``"genlab": {"grading": "skip"}`` (demonstrations
  the checks do not need: the largest saving in grading time);
* the code-cell index of every check in the graded notebook, which is how
  nbval names its test items ("Cell N"). The index is computed on the
  notebook built here, never on the submission.
"""

import copy
import json

import nbformat

from genlab.course.grading import authoring, model_answers
from genlab.course.grading.authoring import METADATA_KEY


def read_instructor(path):
    """Read an instructor notebook and its :class:`~authoring.Assignment`."""
    from pathlib import Path

    path = Path(path)
    try:
        notebook = nbformat.read(str(path), as_version=4)
    except FileNotFoundError:
        raise authoring.AuthoringError(f"{path}: no such notebook") from None
    except (OSError, ValueError) as error:
        raise authoring.AuthoringError(f"{path}: not a readable notebook ({error})") from None
    return notebook, authoring.read_assignment(notebook, path.stem)


def _check_of(cell):
    try:
        return authoring.parse_check_header(cell.source) if cell.cell_type == "code" else None
    except authoring.AuthoringError:
        return None


def fix_reference_counts(notebook):
    """Give stored outputs an execution count, or nbval fails with "Unrun reference cell has outputs"."""
    for cell in notebook.cells:
        if cell.cell_type == "code" and cell.get("outputs") and cell.get("execution_count") is None:
            cell.execution_count = 1
    return notebook


def student_version(notebook, assignment):
    """The student version of an instructor notebook (a new node; the source is not modified)."""
    student = copy.deepcopy(notebook)
    manual = {question.cell_id: question for question in assignment.manual}
    cells = []
    for cell in student.cells:
        header = _check_of(cell)
        if (header and header["hidden"]) or model_answers.is_model_answer(cell):
            continue
        if cell.get("id") in manual:
            question = manual[cell.id]
            if authoring.has_solution(cell.source):
                stub = authoring.MARKDOWN_STUB if cell.cell_type == "markdown" else authoring.STUB_LINES
                cell.source = authoring.strip_solutions(cell.source, stub)
            if cell.cell_type == "code":
                cell.outputs = []
                cell.execution_count = None
            cell.metadata[METADATA_KEY] = {"manual": question.question_id, "points": question.points}
        elif cell.cell_type == "code" and authoring.has_solution(cell.source):
            cell.source = authoring.strip_solutions(cell.source)
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
            cell.metadata[METADATA_KEY] = {"answer": cell.id}
        elif header:
            cell.metadata[METADATA_KEY] = {
                "check": header["check_id"], "points": header["points"],
                "exercise": authoring.exercise_of(header["check_id"]), "source": cell.source,
                "reference": json.loads(json.dumps(cell.get("outputs", []))),
            }
        cells.append(cell)
    student.cells = cells
    student.metadata[METADATA_KEY] = {"assignment": assignment.name, "version": "student"}
    return student


def render(notebook):
    """The exact bytes genlab writes for a notebook (stable across rebuilds)."""
    return nbformat.writes(notebook) + "\n"


def code_index(notebook):
    """cell id -> index among code cells (nbval's "Cell N" numbering)."""
    index = {}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            index[cell.get("id")] = len(index)
    return index


def graded_notebook(notebook, assignment, answers):
    """A copy of the instructor notebook with the answer cells' sources replaced.

    Args:
        notebook: the instructor notebook node (not modified).
        assignment: its :class:`~authoring.Assignment`.
        answers: answer cell id -> source; missing ids get the student stub.

    Returns:
        (graded notebook, {check_id: code-cell index}, {answer cell id: code-cell index}).
    """
    graded = copy.deepcopy(notebook)
    graded.cells = [cell for cell in graded.cells if not authoring.skipped_when_grading(cell)]
    answer_ids = set(assignment.answers)
    for cell in graded.cells:
        if cell.cell_type != "code":
            continue
        if cell.get("id") in answer_ids:
            if cell.id in answers:
                cell.source = answers[cell.id]
            else:
                cell.source = authoring.strip_solutions(cell.source)
            cell.outputs = []
            cell.execution_count = None
    fix_reference_counts(graded)
    index = code_index(graded)
    checks = {check.check_id: index[check.cell_id] for check in assignment.checks}
    return graded, checks, {cell_id: index[cell_id] for cell_id in assignment.answers}


def self_check_notebook(notebook):
    """The student's own notebook prepared for ``assign check``.

    Check cells get back the reference outputs stored in their metadata (a
    student's run overwrote the visible ones); other outputs are cleared.

    Returns:
        (notebook, [(check_id, points, code-cell index)]).
    """
    run = copy.deepcopy(notebook)
    checks = []
    index = 0
    for cell in run.cells:
        if cell.cell_type != "code":
            continue
        header = _check_of(cell)
        stored = cell.metadata.get(METADATA_KEY, {}) if isinstance(cell.metadata, dict) else {}
        if header and not header["hidden"]:
            if isinstance(stored, dict) and "reference" in stored:
                cell.outputs = nbformat.from_dict(stored["reference"])
            checks.append((header["check_id"], header["points"], index))
        else:
            cell.outputs = []
            cell.execution_count = None
        index += 1
    fix_reference_counts(run)
    return run, checks
