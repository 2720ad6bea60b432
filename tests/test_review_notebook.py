"""Notebook 14 (review and self-test): its keys stay hidden, its pointers resolve, its checks grade.

nbval runs the notebook and ``genlab assign validate`` proves that the student version
fails every graded check; this file checks what they cannot see: that the student
version holds no answer key (no hidden check, no solution, no model answer, no key
literal), that every "reread" pointer names an existing heading of an existing notebook,
and that each hidden check passes the instructor's answers and fails a wrong one with a
hint that names a notebook section and not the key.
"""

import ast
import contextlib
import io
import json
import math
import re

import nbformat
import pytest

from genlab import paths
from genlab.course import selftest
from genlab.course.grading import authoring, model_answers, versions

NOTEBOOK_DIR = paths.REPO_ROOT / "notebooks"
PATH = NOTEBOOK_DIR / "14_review_and_self_test.ipynb"
LINK = re.compile(r"\]\((\d\d_[\w-]+\.ipynb)#((?:[^()\s]|\([^()\s]*\))+)\)")  # balanced parentheses allowed
MANUAL = re.compile(r"^# MANUAL (\S+) (\d+(?:\.\d+)?)$")  # the grading branch's code-cell marker


@pytest.fixture(scope="module")
def instructor():
    notebook, assignment = versions.read_instructor(PATH)
    return notebook, assignment


@pytest.fixture(scope="module")
def student(instructor):
    notebook, assignment = instructor
    return versions.student_version(notebook, assignment)


def hidden_checks(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"
            and (authoring.parse_check_header(cell.source) or {}).get("hidden")]


def check_calls(cell):
    """The selftest.check_* calls of a hidden check cell, as ast.Call nodes."""
    return [node for node in ast.walk(ast.parse(cell.source)) if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute) and node.func.attr.startswith("check_")]


def keyword(call, name):
    return next((k.value for k in call.keywords if k.arg == name), None)


def headings(stem):
    notebook = nbformat.read(NOTEBOOK_DIR / f"{stem}.ipynb", as_version=4)
    found = set()
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            found |= {m.group(1).strip() for m in re.finditer(r"^#{1,6} (.+)$", cell.source, re.MULTILINE)}
    return found


def questions(notebook):
    """question heading -> the cells from it to the next question or part heading."""
    blocks, current = {}, None
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and re.match(r"^##+ ", cell.source):
            current = cell.source.splitlines()[0] if re.match(r"^### Q\d+", cell.source) else None
            if current:
                blocks[current] = []
        if current:
            blocks[current].append(cell)
    return blocks


def test_about_twenty_questions_each_graded(instructor):
    notebook, assignment = instructor
    blocks = questions(notebook)
    assert len(blocks) >= 16, "the lecture's nine case-study questions and the exam's"
    manual = [cell for cell in notebook.cells if cell.cell_type == "code" and MANUAL.match(authoring.first_line(cell.source))]
    assert len(assignment.checks) >= 20 and len(manual) >= 1
    for heading, cells in blocks.items():
        graded = [c for c in cells if c.cell_type == "code" and (c.id in assignment.answers)]
        assert graded, f"{heading}: no answer cell"
        assert any(model_answers.is_model_answer(c) and c.cell_type == "markdown" for c in cells), \
            f"{heading}: no model answer"


def test_student_version_holds_no_answer_key(instructor, student):
    notebook, assignment = instructor
    text = versions.render(student)
    sources = "\n".join(cell.source for cell in student.cells)
    for marker in ("HIDDEN CHECK", "MODEL ANSWER", "<details", "### BEGIN SOLUTION", "selftest.check_", "reread="):
        assert marker not in text, f"{marker!r} in the student version"
    assert all(not cell.get("outputs") for cell in student.cells if cell.cell_type == "code"), \
        "no outputs: the instructor's figures would give the keys away"
    for cell in notebook.cells:
        if cell.cell_type == "code" and authoring.has_solution(cell.source):
            solution = cell.source.split(authoring.BEGIN_SOLUTION)[1].split(authoring.END_SOLUTION)[0]
            for line in filter(None, (line.strip() for line in solution.splitlines())):
                assert line not in sources and json.dumps(line)[1:-1] not in text, f"solution line {line!r} leaked"
        if model_answers.is_model_answer(cell):
            assert cell.source.strip() not in sources
    letters = re.findall(r"""=\s*["']\(?([a-d])\)?["']""", "\n".join(
        cell.source for cell in student.cells if cell.cell_type == "code"))
    assert letters == [], "a multiple-choice letter is assigned in the student version"
    for cell in hidden_checks(notebook):
        for call in check_calls(cell):
            for name in ("key", "expected"):
                node = keyword(call, name)
                if node is None or isinstance(node, ast.Name):     # a variable the check computed
                    continue
                segment = ast.get_source_segment(cell.source, node)
                if len(segment) > 3:                        # a single letter is covered above
                    assert segment not in sources and json.dumps(segment)[1:-1] not in text, f"{segment} leaked"
                try:
                    value = ast.literal_eval(node)
                except ValueError:
                    continue                                # computed at run time from a shipped file
                if isinstance(value, dict):
                    for pair in value.items():
                        for form in (f"{pair[0]!r}: {pair[1]!r}", json.dumps(dict([pair]))[1:-1]):
                            assert form not in sources and form not in text, f"key pair {form} leaked"


def test_student_version_keeps_questions_and_answer_cells(instructor, student):
    notebook, assignment = instructor
    kept = {cell.id for cell in student.cells}
    assert set(assignment.answers) <= kept
    assert {cell.id for cell in notebook.cells if cell.cell_type == "markdown" and re.match(r"^### Q\d+", cell.source)} <= kept
    removed = [cell for cell in notebook.cells if cell.id not in kept]
    assert removed and all(model_answers.is_model_answer(c) or c in hidden_checks(notebook) for c in removed)


def test_every_pointer_resolves_to_an_existing_heading(instructor):
    notebook, _ = instructor
    for heading, cells in questions(notebook).items():
        links = set()
        for cell in cells:
            if cell.cell_type == "markdown" and model_answers.is_model_answer(cell):
                for target, anchor in LINK.findall(cell.source):
                    stem = target[: -len(".ipynb")]
                    assert (NOTEBOOK_DIR / target).is_file(), f"{heading}: {target} does not exist"
                    assert anchor in {h.replace(" ", "-") for h in headings(stem)}, \
                        f"{heading}: {target} has no heading #{anchor}"
                    links.add((stem, anchor))
        assert links, f"{heading}: its model answer points to no notebook section"
        for cell in cells:
            if cell in hidden_checks(notebook):
                for call in check_calls(cell):
                    stem, section = ast.literal_eval(keyword(call, "reread"))
                    assert section in headings(stem), f"{cell.id}: no heading {section!r} in {stem}"
                    assert (stem, section.replace(" ", "-")) in links, \
                        f"{cell.id}: its hint points to {stem}/{section}, which its model answer does not name"


def test_manual_answers_are_answer_cells_with_a_model_text(instructor):
    notebook, assignment = instructor
    manual = [cell for cell in notebook.cells if cell.cell_type == "code" and MANUAL.match(authoring.first_line(cell.source))]
    assert manual
    for cell in manual:
        assert cell.id in assignment.answers, "a manual answer is an answer cell (its model text is the solution)"


def _solution_namespace(notebook):
    namespace = {"selftest": selftest, "math": math}
    for cell in notebook.cells:
        if cell.cell_type == "code" and authoring.has_solution(cell.source):
            exec(compile(cell.source, cell.id, "exec"), namespace)
    return namespace


def test_hidden_checks_pass_the_solutions_and_hint_on_wrong_answers(instructor):
    notebook, _ = instructor
    right = _solution_namespace(notebook)
    answers = [name for name in right if name not in ("selftest", "math", "__builtins__")]
    wrong = {"selftest": selftest, "math": math, **{name: "wrong answer" for name in answers}}
    for cell in hidden_checks(notebook):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(cell.source, cell.id, "exec"), dict(right))
        check_id = authoring.parse_check_header(cell.source)["check_id"]
        assert printed.getvalue() == f"{check_id}: correct\n"
        with pytest.raises(selftest.WrongAnswer) as failure:
            exec(compile(cell.source, cell.id, "exec"), dict(wrong))
        message = str(failure.value)
        assert message.startswith(f"{check_id}: ") and re.search(r"Reread notebook \d\d \(\d\d_\w+\.ipynb\), section", message)
        for call in check_calls(cell):
            node = keyword(call, "key")
            if node is not None and isinstance(ast.literal_eval(node), (dict, set)):
                assert ast.get_source_segment(cell.source, node) not in message


def test_is_model_answer_markers():
    assert model_answers.is_model_answer(nbformat.v4.new_markdown_cell("<!-- MODEL ANSWER -->\n<details>x</details>"))
    assert model_answers.is_model_answer(nbformat.v4.new_code_cell("\n# MODEL ANSWER: figures\nprint(1)"))
    assert not model_answers.is_model_answer(nbformat.v4.new_markdown_cell("<details>a question's hint</details>"))
    assert not model_answers.is_model_answer(nbformat.v4.new_code_cell("print('# MODEL ANSWER')"))
    assert not model_answers.is_model_answer(nbformat.v4.new_raw_cell("<!-- MODEL ANSWER -->"))
