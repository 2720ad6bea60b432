"""Tests for genlab.course.grading and the ``genlab`` CLI: markers, student versions, validate, grade.

The end-to-end test grades a batch of submissions of tests/fixtures/tiny_assignment.ipynb
(pure Python, about 5 s per run) and asserts every row of grades.csv.
"""

import copy
import csv
import json
import time

import nbformat
import pytest

from genlab import cli
from genlab.course.grading import assign, authoring, feedback, grade, versions as nbtools, runner, submission
from genlab.paths import REPO_ROOT

FIXTURE = REPO_ROOT / "tests" / "fixtures" / "tiny_assignment.ipynb"
SOLUTION_MEAN = "def mean(values):\n    return sum(values) / len(values)\n"


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


def _student_cells(tmp_path):
    path = assign.build([FIXTURE], tmp_path / "assignment", echo=lambda *a, **k: None)[0]
    return json.loads(path.read_text())


def test_answer_matching_by_id_metadata_content_and_tamper_reports(tmp_path):
    instructor, assignment = nbtools.read_instructor(FIXTURE)
    data = _student_cells(tmp_path)
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
    data = _student_cells(tmp_path)
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


# ---------------------------------------------------------------- notebook runs (seconds each)

def test_validate_fixture():
    lines = []
    ok = assign.validate([FIXTURE], echo=lambda line, **_: lines.append(line), jobs=2)
    assert ok, lines
    assert any("student version fails the 3 solution-dependent checks and passes 1 independent" in line
               for line in lines)


def test_validate_rejects_a_check_that_passes_without_solution(tmp_path):
    instructor, _ = nbtools.read_instructor(FIXTURE)
    data_check = next(cell for cell in instructor.cells if cell.get("id") == "check-data")
    data_check.source = data_check.source.replace(" independent", "")
    path = tmp_path / "tiny_assignment.ipynb"
    nbformat.write(instructor, str(path))
    (tmp_path / "tiny_data.txt").write_text("1.0 2.0 3.0 4.0\n")
    ok, messages = assign.validate_one(path, skip_instructor=True)
    assert not ok and "student version PASSES data without a solution" in "\n".join(messages)


def test_assign_check_on_student_version(tmp_path, capsys):
    data = _student_cells(tmp_path)
    for cell in data["cells"]:
        if cell.get("id") == "answer-mean":
            cell["source"] = SOLUTION_MEAN
        if cell.get("id") == "check-mean":  # a student's run overwrote the visible output
            cell["outputs"][0]["text"] = "something else\n"
    path = tmp_path / "assignment" / "mine.ipynb"
    path.write_text(json.dumps(data))
    (tmp_path / "assignment" / "tiny_data.txt").write_text("1.0 2.0 3.0 4.0\n")
    before = path.read_bytes()
    assert cli.main(["assign", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "PASS  mean" in out and "FAIL  variance" in out and "PASS  data" in out
    assert "3/6 points" in out and path.read_bytes() == before


def test_grade_end_to_end(tmp_path):
    """Every kind of submission in one batch; every row of grades.csv asserted."""
    student = _student_cells(tmp_path)
    subs = tmp_path / "submissions"
    subs.mkdir()

    def submit(name, edit=None):
        data = copy.deepcopy(student)
        cells = {cell.get("id"): cell for cell in data["cells"]}
        if edit:
            edit(cells, data)
        (subs / f"{name}.ipynb").write_text(json.dumps(data))

    instructor_json = json.loads(FIXTURE.read_text())
    (subs / "ines.ipynb").write_text(json.dumps(instructor_json))            # the instructor solution
    submit("ugo")                                                             # untouched student version
    submit("paula", lambda c, d: c["answer-mean"].update(source=SOLUTION_MEAN))  # partly solved
    submit("chen", lambda c, d: (c["check-variance"].update(source="print('variance: passed')"),
                                 c["answer-mean"].update(source=SOLUTION_MEAN)))  # edits a check to pass
    submit("sam", lambda c, d: c["answer-mean"].update(source="def mean(values):\n    return sum(values /\n"))
    submit("lou", lambda c, d: (c["answer-mean"].update(source=SOLUTION_MEAN),
                                c["answer-variance"].update(source="while True:\n    pass\n")))
    submit("kim", lambda c, d: d["metadata"]["kernelspec"].update(name="julia-1.9"))
    (subs / "nora.ipynb").write_text("these are my notes, not a notebook\n")
    (subs / "jay.ipynb").write_text('{"cells": [')
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(1)", id="x")])
    (subs / "walt.ipynb").write_text(nbformat.writes(other))                  # another notebook entirely
    before = {path.name: path.read_bytes() for path in subs.iterdir()}

    out = tmp_path / "grades"
    start = time.perf_counter()
    code = cli.main(["grade", str(FIXTURE), str(subs), "--out", str(out), "--jobs", "2", "--timeout", "20"])
    elapsed = time.perf_counter() - start
    assert code == 0
    assert {path.name: path.read_bytes() for path in subs.iterdir()} == before  # never modified

    with open(out / "grades.csv", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["student", "file", "status", "points", "max_points",
                                     "mean", "variance", "variance-constant", "data", "issues"]
        rows = {row["student"]: row for row in reader}
    expected = {  # student: (status, points, mean, variance, variance-constant, data)
        "ines": ("graded", "7", "2", "3", "1", "1"),
        "ugo": ("graded", "1", "0", "0", "0", "1"),
        "paula": ("graded", "3", "2", "0", "0", "1"),
        "chen": ("graded", "3", "2", "0", "0", "1"),
        "sam": ("graded", "1", "0", "0", "0", "1"),
        "lou": ("timeout", "2", "2", "0", "0", "0"),
        "kim": ("graded", "1", "0", "0", "0", "1"),
        "nora": ("invalid", "0", "0", "0", "0", "0"),
        "jay": ("invalid", "0", "0", "0", "0", "0"),
        "walt": ("invalid", "0", "0", "0", "0", "0"),
    }
    assert set(rows) == set(expected)
    for name, (status, points, *checks) in expected.items():
        row = rows[name]
        got = (row["status"], row["points"], row["mean"], row["variance"], row["variance-constant"], row["data"])
        assert got == (status, points, *checks), (name, row)
        assert row["max_points"] == "7" and row["file"].endswith(f"{name}.ipynb")
        assert (out / "feedback" / f"{name}.md").is_file()
    assert rows["ines"]["issues"] == "" and rows["ugo"]["issues"] == "" and rows["paula"]["issues"] == ""
    assert "check variance edited" in rows["chen"]["issues"]
    assert "kernel changed from python3 to julia-1.9" in rows["kim"]["issues"]
    assert "time limit of 20 s" in rows["lou"]["issues"]
    assert "not a notebook" in rows["nora"]["issues"] and "invalid JSON" in rows["jay"]["issues"]
    assert "wrong assignment" in rows["walt"]["issues"]

    feedback = (out / "feedback" / "sam.md").read_text()
    assert "SyntaxError" in feedback and "Expected output:" in feedback and "mean: passed" in feedback
    assert "| mean | 0 / 2 | FAILED |" in feedback
    assert "not a notebook" in (out / "feedback" / "nora.md").read_text()
    assert "check variance edited" in (out / "feedback" / "chen.md").read_text()
    print(f"graded 10 submissions in {elapsed:.1f} s")


def test_cli_delegates_subcommands_lazily(monkeypatch, capsys):
    import sys
    import types

    module = types.ModuleType("fake_genlab_command")
    module.main = lambda argv: print("got", argv) or 3
    monkeypatch.setitem(sys.modules, "fake_genlab_command", module)
    monkeypatch.setitem(cli.DELEGATED, "hello", ("fake_genlab_command", "a test command"))
    assert cli.main(["hello", "--flag", "x"]) == 3
    assert "got ['--flag', 'x']" in capsys.readouterr().out
    monkeypatch.setitem(cli.DELEGATED, "gone", ("genlab.no_such_module", "missing"))
    assert cli.main(["gone"]) == 2
