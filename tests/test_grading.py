"""Tests for genlab.course.grading and the ``genlab`` CLI that run notebooks: validate, check, grade.

The pure-Python parts (markers, student versions, answer matching) are in tests/test_grading_markers.py.

The end-to-end tests grade batches of submissions of tests/fixtures/tiny_assignment.ipynb
(pure Python, a few seconds per run) from a throwaway course repository, with hostile
answers (tests/fixtures/grading_room.py, tests/fixtures/answers/), and assert every row
of grades.csv, the feedback, the summary, and that the repository, the submissions and
the other runs are unchanged and no process is left behind.
"""

import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from genlab import paths
from genlab.course import cli
from genlab.course.grading import assign, grade, isolation, versions as nbtools, runner
from genlab.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "tests" / "fixtures"))
from grading_room import (FIXTURE, IGNORES_INTERRUPTS, SOLUTION_MEAN, answer, git_status,  # noqa: E402
                          leftover_processes, make_course, read_grades, remove_markers, sandbox_works, snapshot,
                          student_cells, write_batch, write_submissions)


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
    data = student_cells(tmp_path)
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


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A throwaway course repository; genlab.paths.DATA_DIR points at its data/ (copied or bound)."""
    repo = make_course(tmp_path / "course")
    monkeypatch.setattr(paths, "DATA_DIR", repo / "data")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "runs"))  # run folders, to inspect after
    (tmp_path / "runs").mkdir()
    return repo


def test_grade_end_to_end(tmp_path, course):
    """Every kind of submission in one batch with --jobs 2; every row of grades.csv asserted.

    Hostile answers write into every folder they can reach from their working directory,
    never finish, raise outside a check, print megabytes, or allocate more than the memory
    ceiling (in one process, or spread over three). Afterwards the course repository and the
    submissions are unchanged, no process of theirs is left, and each row says what happened.
    """
    subs = write_batch(tmp_path)  # grading_room.BATCH says what each student's answer does
    before = {"repo": snapshot(course), "subs": snapshot(subs), "fixture": snapshot(FIXTURE.parent)}

    out = tmp_path / "grades"
    start = time.perf_counter()
    code = cli.main(["grade", str(course / "notebooks" / FIXTURE.name), str(subs), "--out", str(out),
                     "--jobs", "2", "--timeout", "120", "--cell-timeout", "20", "--memory", "600M"])
    elapsed = time.perf_counter() - start
    assert code == 0
    assert snapshot(course) == before["repo"] and git_status(course) == "!! build/\n"
    assert snapshot(subs) == before["subs"] and snapshot(FIXTURE.parent) == before["fixture"]
    assert not list((tmp_path / "runs").iterdir())  # every run folder removed
    assert not leftover_processes("genlab-hog") and not leftover_processes("genlab-daemon")

    rows = read_grades(out)
    expected = {  # student: (status, points, mean, variance, variance-constant, data)
        "ines": ("graded", "7", "2", "3", "1", "1"),
        "ugo": ("graded", "1", "0", "0", "0", "1"),
        "paula": ("graded", "3", "2", "0", "0", "1"),
        "chen": ("graded", "3", "2", "0", "0", "1"),
        "sam": ("graded", "1", "0", "0", "0", "1"),
        "lou": ("timeout", "3", "2", "0", "0", "1"),
        "rita": ("graded", "3", "2", "0", "0", "1"),
        "pat": ("graded", "1", "0", "0", "0", "1"),
        "wally": ("graded", "3", "2", "0", "0", "1"),
        "wendy": ("graded", "3", "2", "0", "0", "1"),
        "max": ("memory", "3", "2", "0", "0", "1"),
        "hog": ("memory", "2", "2", "0", "0", "0"),
        "dan": ("graded", "3", "2", "0", "0", "1"),
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
    for quiet in ("ines", "ugo", "paula", "wally", "wendy", "dan"):
        assert rows[quiet]["issues"] == "", (quiet, rows[quiet]["issues"])
    assert "check variance edited" in rows["chen"]["issues"]
    assert "kernel changed from python3 to julia-1.9" in rows["kim"]["issues"]
    assert 'answer cell answer-mean ("def mean(values):"): raised SyntaxError' in rows["sam"]["issues"]
    assert rows["lou"]["issues"] == 'answer cell answer-variance ("while True:"): timed out (per-cell limit of 20 s)'
    assert ('answer cell answer-mean ("def mean(values):"): raised ValueError: scratch work left in'
            == rows["rita"]["issues"])
    assert rows["max"]["issues"] == ('answer cell answer-variance ("block = bytearray(2 << 30)"): '
                                     'raised MemoryError (memory ceiling 600 MiB)')
    assert ("stopped at the memory ceiling of 600 MiB" in rows["hog"]["issues"]
            and "while running answer cell answer-variance" in rows["hog"]["issues"])
    assert "not a notebook" in rows["nora"]["issues"] and "invalid JSON" in rows["jay"]["issues"]
    assert "wrong assignment" in rows["walt"]["issues"]

    sam = (out / "feedback" / "sam.md").read_text()
    assert "SyntaxError" in sam and "Expected output:" in sam and "mean: passed" in sam
    assert "| mean | 0 / 2 | FAILED |" in sam and "## Cells that failed or did not finish" in sam
    lou = (out / "feedback" / "lou.md").read_text()
    assert "### answer cell answer-variance" in lou and "First line: `while True:`" in lou
    assert "timed out (per-cell limit of 20 s)" in lou
    assert "not a notebook" in (out / "feedback" / "nora.md").read_text()
    assert "check variance edited" in (out / "feedback" / "chen.md").read_text()
    # pat printed 6 MB: the log and the feedback stay small.
    assert "bytes of output omitted" in (out / "logs" / "pat.log").read_text()
    assert (out / "logs" / "pat.log").stat().st_size <= runner.LOG_HEAD + runner.LOG_TAIL + 1000
    assert (out / "feedback" / "pat.md").stat().st_size < 20_000

    summary = (out / "summary.md").read_text()
    assert "| graded | 11 |" in summary and "| timeout | 1 |" in summary and "| memory | 2 |" in summary
    assert "| invalid | 3 |" in summary and "![points histogram" in summary
    assert "| variance | 3 | 1 | 7% **low** |" in summary  # 1 of the 14 submissions that ran
    for name in ("lou", "rita", "max", "hog", "sam", "nora"):
        assert f"| {name} |" in summary
    assert (out / "summary.png").stat().st_size > 1000
    print(f"graded {len(rows)} submissions in {elapsed:.1f} s")


def test_grade_run_time_limit_kills_the_whole_run(tmp_path, course):
    """A cell that ignores the kernel interrupt: the run's processes are killed at the run's limit."""
    subs = write_submissions(tmp_path, {"tim": {"answer-mean": SOLUTION_MEAN,
                                                "answer-variance": IGNORES_INTERRUPTS}})
    out = tmp_path / "grades"
    assert cli.main(["grade", str(course / "notebooks" / FIXTURE.name), str(subs), "--out", str(out),
                     "--timeout", "10", "--cell-timeout", "60"]) == 0
    row = read_grades(out)["tim"]
    assert row["status"] == "timeout" and "stopped after the time limit of 10 s while running" in row["issues"]
    assert "running when the run was stopped" in row["issues"]
    if row["mean"] == "2":  # on a loaded machine the run may still be in an earlier cell at 10 s
        assert 'answer cell answer-variance ("import time"): running when the run was stopped' in row["issues"]
    assert not leftover_processes(str(tmp_path / "runs"))  # the kernel too
    assert not list((tmp_path / "runs").iterdir())


@pytest.mark.skipif(not sandbox_works(), reason="bubblewrap is not installed or cannot run here")
def test_grade_sandbox(tmp_path, course, monkeypatch):
    """--sandbox: a correct notebook still gets full marks; an answer that tries to escape cannot."""
    monkeypatch.setenv("COURSE_API_TOKEN", "s3cret")
    server = socket.create_server(("127.0.0.1", 0))  # the grader's side of the network
    instructor = course / "notebooks" / FIXTURE.name
    out = tmp_path / "grades"
    targets = [course, course / ".git", course / "notebooks", course / "data", course / "build",
               tmp_path / "submissions", out, tmp_path, Path.home(), REPO_ROOT / "lib" / "genlab"]
    escape = answer("escape", student="eve", targets=[str(t) for t in targets],
                    instructor=instructor, port=server.getsockname()[1])
    subs = write_submissions(tmp_path, {
        "eve": {"answer-mean": escape},
        "hog": {"answer-mean": SOLUTION_MEAN, "answer-variance": answer("hog_processes")},
    })
    (subs / "ines.ipynb").write_bytes(FIXTURE.read_bytes())
    before = {"repo": snapshot(course), "subs": snapshot(subs)}
    lines = []
    try:
        rows = grade.grade(instructor, [subs], out, jobs=2, timeout=120, cell_timeout=10, memory=600 << 20,
                           sandbox=True, echo=lambda line, **_: lines.append(line))
    finally:
        server.close()
        strays = remove_markers(targets, "genlab-escape-marker-eve.txt")
    assert not strays
    assert lines[0].startswith("isolation: bubblewrap sandbox")
    assert snapshot(course) == before["repo"] and git_status(course) == "!! build/\n"
    assert snapshot(subs) == before["subs"]
    assert not leftover_processes("genlab-hog")
    by_name = {row.student: row for row in rows}
    assert (by_name["ines"].status, by_name["ines"].points) == ("graded", 7)
    eve = by_name["eve"]
    assert (eve.status, eve.earned["mean"], eve.cells) == ("graded", 2, []), eve.cells
    hog = by_name["hog"]
    assert hog.status == "memory" and "while running answer cell answer-variance" in hog.reason


def test_cell_problems_name_every_failed_cell_outside_the_checks():
    """A failing instructor cell (notebook 05's training cell, in the issue) is reported like an answer's."""
    instructor, assignment = nbtools.read_instructor(FIXTURE)
    graded, checks, answers = nbtools.graded_notebook(instructor, assignment, {})
    result = runner.RunResult("ok", {
        0: runner.CellResult("failed", "Traceback:\nFileNotFoundError: [Errno 2] No such file: 'tiny_data.txt'"),
        answers["answer-mean"]: runner.CellResult("failed", "Timeout of 3 seconds exceeded executing cell"),
        checks["mean"]: runner.CellResult("failed", "NameError: name 'values' is not defined")})
    assert [str(p) for p in grade.cell_problems(result, graded, checks, answers, 3)] == [
        'cell setup ("# Relative path on purpose: grading must run next to this..."): '
        "raised FileNotFoundError: [Errno 2] No such file: 'tiny_data.txt'",
        'answer cell answer-mean ("def mean(values):"): timed out (per-cell limit of 3 s)']


def test_memory_sizes_and_isolation_line():
    assert grade.isolation_line(False, 4 << 30).startswith("isolation: NO SANDBOX")
    assert "memory ceiling 4 GiB per submission" in grade.isolation_line(False, 4 << 30)
    assert isolation.parse_size("4G") == 4 << 30 and isolation.parse_size("512m") == 512 << 20
    assert isolation.parse_size("1.5GiB") == 3 << 29 and isolation.parse_size("none") is None
    with pytest.raises(ValueError, match="did you mean 4096M"):
        isolation.parse_size("4096")
    with pytest.raises(ValueError, match="not understood"):
        isolation.parse_size("lots")
    assert isolation.format_size(600 << 20) == "600 MiB"


def test_cli_grade_option_errors(monkeypatch, tmp_path):
    with pytest.raises(SystemExit, match="not understood"):
        cli.main(["grade", str(FIXTURE), str(FIXTURE), "--out", str(tmp_path), "--memory", "lots"])
    monkeypatch.setattr(isolation.shutil, "which", lambda name: None)
    isolation._bwrap.cache_clear()
    try:
        with pytest.raises(SystemExit, match="needs bubblewrap"):
            cli.main(["grade", str(FIXTURE), str(FIXTURE), "--out", str(tmp_path), "--sandbox"])
    finally:
        isolation._bwrap.cache_clear()
    assert not (tmp_path / "grades.csv").exists()


def test_sandbox_never_hides_what_the_run_needs(tmp_path):
    assert isolation.hideable(tmp_path)
    assert not isolation.hideable(Path(sys.prefix)) and not isolation.hideable(REPO_ROOT / "lib")
    assert not isolation.hideable("/")


def test_log_keeps_head_and_tail_of_long_output():
    process = subprocess.Popen([sys.executable, "-c", "print('first'); print('x' * 5_000_000); print('last')"],
                               stdout=subprocess.PIPE)
    text = runner._LogTail(process.stdout).text()
    process.wait()
    assert text.startswith("first") and text.rstrip().endswith("last")
    assert "bytes of output omitted" in text and len(text) < runner.LOG_HEAD + runner.LOG_TAIL + 100


def test_cli_delegates_subcommands_lazily(monkeypatch, capsys):
    import types

    module = types.ModuleType("fake_genlab_command")
    module.main = lambda argv: print("got", argv) or 3
    monkeypatch.setitem(sys.modules, "fake_genlab_command", module)
    monkeypatch.setitem(cli.DELEGATED, "hello", ("fake_genlab_command", "a test command"))
    assert cli.main(["hello", "--flag", "x"]) == 3
    assert "got ['--flag', 'x']" in capsys.readouterr().out
    monkeypatch.setitem(cli.DELEGATED, "gone", ("genlab.no_such_module", "missing"))
    assert cli.main(["gone"]) == 2
