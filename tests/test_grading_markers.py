"""Tests for genlab.course.grading's pure-Python parts: check markers, student versions, answer matching, the CLI's usage errors, result parsing.

Fast (no notebook runs); tests/test_grading.py runs notebooks (validate, check, grade end to end).
"""

import copy
import sys

import nbformat
import pytest

from genlab.course import cli
from genlab.course.grading import assign, authoring, feedback, grade, submission, versions as nbtools, runner
from genlab.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "tests" / "fixtures"))
from grading_room import FIXTURE, SOLUTION_MEAN, student_cells  # noqa: E402


# ---------------------------------------------------------------- markers (fast, pure Python)

def test_parse_check_header():
    assert authoring.parse_check_header("# CHECK dcgan-generator 2\nx = 1") == {
        "check_id": "dcgan-generator", "points": 2.0, "hidden": False, "independent": False}
    assert authoring.parse_check_header("\n# HIDDEN CHECK h.1 0.5")["hidden"] is True
    assert authoring.parse_check_header("# CHECK data 1 independent")["independent"] is True
    assert authoring.parse_check_header("x = 1\n# CHECK a 1") is None  # first line only
    for bad in ("# CHECK only-id", "# CHECK a lots", "# CHECK a 1 sometimes", "# CHECK a -1"):
        with pytest.raises(authoring.AuthoringError):
            authoring.parse_check_header(bad)


def test_strip_solutions_keeps_indentation_and_code_around():
    source = "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\nprint(f)"
    assert authoring.strip_solutions(source) == (
        "def f(x):\n    y = 1\n    # YOUR CODE HERE\n    raise NotImplementedError()\nprint(f)")
    for bad in ("### BEGIN SOLUTION\nx", "x\n### END SOLUTION", "### BEGIN SOLUTION\n### BEGIN SOLUTION"):
        with pytest.raises(authoring.AuthoringError):
            authoring.strip_solutions(bad)


def test_read_assignment_of_fixture():
    _, assignment = nbtools.read_instructor(FIXTURE)
    assert assignment.answers == ["answer-mean", "answer-variance"]
    assert [(c.check_id, c.points, c.hidden, c.independent) for c in assignment.checks] == [
        ("mean", 2, False, False), ("variance", 3, False, False),
        ("variance-constant", 1, True, False), ("data", 1, False, True)]
    assert assignment.max_points == 7


def test_duplicate_check_id_is_an_authoring_error():
    instructor, _ = nbtools.read_instructor(FIXTURE)
    twin = copy.deepcopy(next(c for c in instructor.cells if c.get("id") == "check-mean"))
    twin.id = "check-mean-again"
    instructor.cells.append(twin)
    with pytest.raises(authoring.AuthoringError, match="used twice"):
        authoring.read_assignment(instructor, "x")


def test_student_version_is_idempotent_and_leaves_source_alone(tmp_path):
    before = FIXTURE.read_bytes()
    first = assign.build([FIXTURE], tmp_path, echo=lambda *a, **k: None)[0].read_bytes()
    second = assign.build([FIXTURE], tmp_path, echo=lambda *a, **k: None)[0].read_bytes()
    assert first == second and FIXTURE.read_bytes() == before
    student = nbformat.reads(first.decode(), as_version=4)
    sources = "\n".join(cell.source for cell in student.cells)
    assert "BEGIN SOLUTION" not in sources and "HIDDEN CHECK" not in sources
    assert "return sum(values) / len(values)" not in sources
    cells = {cell.id: cell for cell in student.cells}
    assert "hidden-variance" not in cells
    assert cells["answer-mean"].source.endswith("    # YOUR CODE HERE\n    raise NotImplementedError()")
    assert cells["check-mean"].outputs[0]["text"] == "mean: passed\n"  # reference output kept
    assert cells["answer-mean"].metadata["genlab"] == {"answer": "answer-mean"}
    with pytest.raises(authoring.AuthoringError, match="overwrite the sources"):
        assign.build([FIXTURE], FIXTURE.parent, echo=lambda *a, **k: None)


def test_answer_matching_by_id_metadata_content_and_tamper_reports(tmp_path):
    instructor, assignment = nbtools.read_instructor(FIXTURE)
    data = student_cells(tmp_path)
    cells = {cell.get("id"): cell for cell in data["cells"]}
    cells["answer-mean"]["source"] = SOLUTION_MEAN
    cells["answer-mean"]["id"] = "renamed-by-colab"          # matched by metadata
    duplicate = copy.deepcopy(cells["answer-variance"])         # copy/paste keeps metadata
    duplicate["id"] = "pasted"
    data["cells"].append(duplicate)
    cells["check-mean"]["source"] = "# CHECK mean 2\nprint('mean: passed')"
    data["metadata"]["kernelspec"]["name"] = "ir"
    result = submission.extract(data["cells"], data["metadata"], instructor, assignment)
    assert result.answers["answer-mean"] == SOLUTION_MEAN
    text = "\n".join(result.issues)
    assert "answer cell answer-mean: cell id changed (matched by metadata)" in text
    assert "answer cell answer-variance duplicated" in text
    assert "check mean edited" in text and "kernel changed from python3 to ir" in text
    # No id, no metadata: matched by the lines the student version kept ("def mean(values):").
    cells["answer-mean"]["id"], cells["answer-mean"]["metadata"] = "other", {}
    cells["answer-mean"]["source"] = '"""x"""\n' + SOLUTION_MEAN
    result = submission.extract(data["cells"], data["metadata"], instructor, assignment)
    assert "answer cell answer-mean: cell id changed (matched by content)" in result.issues


def test_wrong_assignment_is_invalid(tmp_path):
    instructor, assignment = nbtools.read_instructor(FIXTURE)
    data = student_cells(tmp_path)
    data["metadata"]["genlab"]["assignment"] = "05_dcgan"
    with pytest.raises(submission.InvalidSubmission, match="wrong assignment"):
        submission.extract(data["cells"], data["metadata"], instructor, assignment)


def test_graded_notebook_takes_checks_from_instructor():
    instructor, assignment = nbtools.read_instructor(FIXTURE)
    graded, checks, answers = nbtools.graded_notebook(instructor, assignment, {"answer-mean": "pass"})
    code = [cell for cell in graded.cells if cell.cell_type == "code"]
    assert code[answers["answer-mean"]].source == "pass"
    assert "NotImplementedError" in code[answers["answer-variance"]].source
    assert code[checks["variance-constant"]].source.startswith("# HIDDEN CHECK")
    assert all(cell.execution_count for cell in code if cell.outputs)  # nbval needs them


def test_student_name_rules(tmp_path):
    assert grade.student_name("subs/alice.ipynb") == "alice"
    assert grade.student_name("subs/bob/05_dcgan.ipynb", "parent") == "bob"
    assert grade.student_name("05_dcgan-carol.ipynb", r"regex:-(\w+)\.ipynb") == "carol"
    with pytest.raises(ValueError):
        grade.student_name("a.ipynb", "email")


def test_cli_usage_errors(capsys, tmp_path):
    with pytest.raises(SystemExit):
        cli.main(["grade", str(FIXTURE)])  # no submissions, no --out
    assert "required" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="does not exist"):
        cli.main(["assign", "validate", "no/such.ipynb"])
    with pytest.raises(SystemExit, match="student-from"):
        cli.main(["grade", str(FIXTURE), str(FIXTURE), "--out", "x", "--student-from", "email"])
    assert cli.main([]) == 2
    student = assign.build([FIXTURE], tmp_path, echo=lambda *a, **k: None)[0]
    assert cli.main(["grade", str(student), str(student), "--out", str(tmp_path / "g")]) == 2
    assert "not a student version" in capsys.readouterr().err


def test_runner_reads_junit_and_verbose_lines(tmp_path):
    xml = tmp_path / "junit.xml"
    xml.write_text(
        '<testsuites><testsuite><testcase classname="x" name="Cell 0"/>'
        '<testcase classname="x" name="Cell 1"><failure message="m">#x1B[31mNameError#x1B[39m: y</failure>'
        '</testcase><testcase classname="x" name="Cell 2"><skipped message="s"/></testcase>'
        '<testcase classname="x" name="Cell 3"><error message="kernel died"/></testcase>'
        '</testsuite></testsuites>')
    cells = runner.parse_junit(xml)
    assert {i: c.outcome for i, c in cells.items()} == {0: "passed", 1: "failed", 2: "skipped", 3: "error"}
    assert cells[1].message == "NameError: y" and cells[3].message == "kernel died"
    log = "a.ipynb::Cell 0 PASSED [ 50%]\na.ipynb::Cell 1 XFAIL\na.ipynb::Cell 2 "
    assert {i: c.outcome for i, c in runner.parse_verbose_log(log).items()} == {0: "passed", 1: "skipped"}


def test_feedback_hides_graded_notebook_cell_numbers():
    text = feedback._explain("Notebook cell execution failed\nCell 2: Cell outputs differ\n\nInput:\n"
                             "print(1)\n\nTraceback:\n mismatch 'stdout'\n")
    assert text.startswith("Cell outputs differ") and "Cell 2" not in text and "Input" not in text
