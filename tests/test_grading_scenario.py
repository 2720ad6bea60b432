"""The instructor's whole flow in one scenario: release, grade 30, score by hand, gradebook, exports, self-check.

Issue 26's "done means", on the tiny assignment of tests/fixtures/scenario_course.py
(pure Python, about a second per submission): the student tree holds no
solution, hidden check or answer key and links only to itself; 30 students
(one late, one who resubmitted, two with the same answer, one whose notebook
was saved by Colab) are graded with --due and a late penalty; the manual sheet
is filled and merged; a second assignment gives totals; the Canvas and
Gradescope files have their documented columns; re-grading one student changes
only that student's rows and keeps a history; ``genlab.check`` on the
Colab-saved notebook gives the grader's verdict.
"""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from genlab.course import cli
from genlab.course.grading import exports, release, selfcheck, similarity
from genlab.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "tests" / "fixtures"))
import scenario_course as course  # noqa: E402

DUE = "2026-12-01T23:59:00+00:00"
ON_TIME = "2026-12-01T12:00:00+00:00"
COPIED = ("def mean(values):\n    total = 0.0\n    for value in values:\n        total += value\n"
          "    return total / len(values)\n\n\ndef spread(values):\n    return max(values) - min(values)\n")


def _csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def _answers(number):
    """Student number -> (answer cell source, manual prose): a class with every kind of answer."""
    if number in (5, 6):   # the two identical answers (s06 only changed comments and spacing)
        code = COPIED if number == 5 else COPIED.replace("total = 0.0", "total = 0.0  # start") + "\n"
        return code, "Outliers drag the mean, the median ignores them, so the median is typical."
    prose = f"Student {number} thinks about {['outliers', 'skew', 'robustness', 'the value 10'][number % 4]} " \
            f"and writes sentence number {number * 7}."
    if number % 5 == 0:      # untouched
        return None, ""
    if number % 7 == 0:      # (a) right, (b) wrong: partial credit
        return course.SOLUTION["answer-stats"].replace("max(values) - min(values)", "max(values)"), prose
    return course.SOLUTION["answer-stats"], prose


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scenario")
    repo = course.make_course(tmp / "instructor")
    instructor = repo / "notebooks" / course.NAME
    student_tree = tmp / "student-tree"
    assert cli.main(["assign", "release", "--source", str(repo), "--out", str(student_tree),
                     "--repo", course.STUDENT_REPO, "--branch", "main"]) == 0
    handed_out = json.loads((student_tree / "notebooks" / course.NAME).read_text())

    subs, times = tmp / "submissions", [["file", "submitted_at"]]
    subs.mkdir()
    for number in range(1, 31):
        code, prose = _answers(number)
        answers = {"manual-why": prose} if prose else {}
        if code:
            answers["answer-stats"] = code
        data = course.filled(handed_out, answers)
        if number == 9:  # saved by Colab: no cell ids, no genlab metadata
            data = course.colab_saved(data)
        name = f"s{number:02d}.ipynb"
        course.write(subs / name, data)
        times.append([name, "2026-12-03T08:00:00Z" if number == 7 else ON_TIME])  # s07: 2 days late
    # s08 resubmitted: the first file (untouched) is older, the second (solved) wins.
    course.write(subs / "s08_first.ipynb", handed_out)
    times.append(["s08_first.ipynb", "2026-11-30T09:00:00Z"])
    with open(tmp / "times.csv", "w", newline="") as handle:
        csv.writer(handle).writerows(times)

    out = tmp / "grading" / "tiny"
    code = cli.main(["grade", str(instructor), str(subs), "--out", str(out), "--jobs", "2",
                     "--student-from", r"regex:^(s\d+)", "--timestamps", str(tmp / "times.csv"),
                     "--due", DUE, "--late-penalty", "10", "--cell-timeout", "60", "--timeout", "120"])
    assert code == 0
    return {"tmp": tmp, "repo": repo, "instructor": instructor, "tree": student_tree, "handed_out": handed_out,
            "subs": subs, "out": out, "gradebook": tmp / "grading" / "gradebook.csv"}


def test_release_has_no_solution_and_links_to_itself(scenario):
    tree, repo = scenario["tree"], scenario["repo"]
    files = {str(p.relative_to(tree)) for p in tree.rglob("*") if p.is_file()}
    assert {"README.md", f"notebooks/{course.NAME}", "lib/tiny/__init__.py"} <= files
    assert not any(name.startswith("tests/answers") for name in files)  # tests stay behind
    everything = "\n".join(p.read_text() for p in tree.rglob("*") if p.is_file())
    for secret in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN CHECK", "stats.hidden", "mean([5.0])",
                   "sum(values) / len(values)", "max(values) - min(values)", course.MODEL_PROSE):
        assert secret not in everything, secret
    links = release._COLAB.findall(everything)
    assert links and all(slug == course.STUDENT_REPO and ref == "main" for slug, ref, _ in links)
    for _, _, target in links:
        notebook = json.loads((tree / target).read_text())
        assert notebook["metadata"]["genlab"]["version"] == "student"
    clones = release._CLONE.findall(everything)
    assert clones and all(slug == course.STUDENT_REPO for _, slug, _ in clones)
    assert "--branch main https://github.com/" + course.STUDENT_REPO in everything
    assert release.audit(tree, repo, course.STUDENT_REPO, "main") == []
    # Points per check are in the handed-out notebook's metadata; the manual question too.
    meta = {c["id"]: c["metadata"].get("genlab") for c in scenario["handed_out"]["cells"]}
    assert meta["check-mean"]["points"] == 2 and meta["check-mean"]["exercise"] == "stats"
    assert meta["check-spread"]["points"] == 1 and meta["manual-why"] == {"manual": "why-median", "points": 2}
    # The audit catches leaks: the instructor notebook, solution markers, a one-line answer in the library.
    (tree / "notebooks" / "copy.ipynb").write_text((repo / "notebooks" / course.NAME).read_text())
    (tree / "notes.md").write_text("### BEGIN SOLUTION\nsecret\n### END SOLUTION\n")
    (tree / "lib" / "tiny" / "helpers.py").write_text("def m(values):\n    return sum(values) / len(values)\n")
    warnings = []
    problems = release.audit(tree, repo, course.STUDENT_REPO, "main", warnings)
    assert "notebooks/copy.ipynb: a hidden check" in problems and "notes.md: solution markers" in problems
    assert any(p.startswith("notebooks/copy.ipynb: contains tiny_stats.ipynb: solution") for p in problems)
    assert any(w.startswith("lib/tiny/helpers.py: contains") for w in warnings)
    for leak in ("notebooks/copy.ipynb", "notes.md", "lib/tiny/helpers.py"):
        (tree / leak).unlink()


def test_thirty_submissions_late_resubmission_identical(scenario):
    out, rows = scenario["out"], _rows(scenario["out"] / "grades.csv")
    assert len(rows) == 30 and all(row["status"] == "graded" for row in rows.values())
    assert rows["s01"]["points"] == "4" and rows["s01"]["max_points"] == "6"  # 2 + 1 + hidden 1; manual 2 pending
    assert (rows["s14"]["stats.mean"], rows["s14"]["stats.spread"], rows["s14"]["stats.hidden"]) == ("2", "0", "0")
    assert rows["s10"]["points"] == "0"                                    # untouched
    assert rows["s09"]["points"] == "4"                                    # the Colab-saved notebook
    assert "matched by content" in rows["s09"]["issues"]
    assert rows["s07"]["late"] == "yes" and rows["s07"]["days_late"] == "2"
    assert rows["s07"]["points"] == "2"                                    # s07 got (b) wrong too
    assert rows["s07"]["penalty"] == "0.40" and rows["s07"]["final"] == "1.60"  # 10 % per started day
    assert rows["s01"]["late"] == "" and rows["s01"]["final"] == "4"
    assert rows["s08"]["points"] == "4" and rows["s08"]["file"].endswith("s08.ipynb")
    assert "superseded: s08_first.ipynb" in rows["s08"]["issues"]
    history = _csv(scenario["gradebook"].with_name("gradebook-history.csv"))
    assert any(line[1] == "s08" and line[3] == "superseded" and "s08_first" in line[9] for line in history)
    summary = (out / "summary.md").read_text()
    assert "identical (normalised): s05, s06" in summary and "nothing is deducted" in summary
    assert "| s07 | 2026-12-03T08:00:00+00:00 | 2 | 0.40 |" in summary
    assert rows["s05"]["points"] == rows["s06"]["points"] == "4"           # never penalised
    feedback = (out / "feedback" / "s07.md").read_text()
    assert "Late: 2 day(s)" in feedback and "| why-median | not scored yet |" in feedback


def test_manual_sheet_filled_and_merged(scenario):
    out, gradebook = scenario["out"], scenario["gradebook"]
    sheet = out / "manual" / "why-median.csv"
    lines = _csv(sheet)
    assert lines[0] == ["student", "points", "max_points", "comment", "answer", "note"] and len(lines) == 31
    assert (out / "manual" / "why-median.html").is_file()
    for line in lines[1:]:  # the instructor's marks: 2 for a mention of outliers, else 1; 0 for no answer
        line[1] = "0" if not line[4].strip() else ("2" if "utlier" in line[4] else "1")
        line[3] = f"marked by the test for {line[0]}"
    with open(sheet, "w", newline="") as handle:
        csv.writer(handle).writerows(lines)
    before = _rows(gradebook)
    assert cli.main(["grade", "merge", str(scenario["instructor"]), "--out", str(out)]) == 0
    rows = _rows(out / "grades.csv")
    assert rows["s01"]["why-median"] == "1" and rows["s04"]["why-median"] == "2"   # s04 wrote "outliers"
    assert rows["s01"]["points"] == "5" and rows["s10"]["why-median"] == "0"
    assert rows["s07"]["final"] == "2.40"  # (2 + 1) less 20 %
    feedback = (out / "feedback" / "s04.md").read_text()
    assert "| why-median | 2 / 2 | marked by the test for s04 |" in feedback
    after = _rows(gradebook)  # gradebook keyed by student here: one assignment so far
    assert after["s01"]["manual_points"] == "1" and after["s01"]["final"] == "5"
    assert set(after) == set(before)
    # A bad mark is refused with the line, and nothing changes.
    lines[3][1] = "7"
    with open(sheet, "w", newline="") as handle:
        csv.writer(handle).writerows(lines)
    assert cli.main(["grade", "merge", str(scenario["instructor"]), "--out", str(out)]) == 2
    assert _rows(out / "grades.csv") == rows


def test_regrade_one_student_keeps_the_others_and_a_history(scenario):
    out, subs, tmp = scenario["out"], scenario["subs"], scenario["tmp"]
    before, book_before = _rows(out / "grades.csv"), _csv(scenario["gradebook"])
    late = tmp / "late"
    late.mkdir()
    course.write(late / "s10.ipynb", course.filled(scenario["handed_out"], {
        "answer-stats": course.SOLUTION["answer-stats"], "manual-why": "Outliers again."}))
    with open(tmp / "late-times.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([["file", "submitted_at"], ["s10.ipynb", "2026-12-01T20:00:00Z"]])
    assert cli.main(["grade", str(scenario["instructor"]), str(late), "--out", str(out), "--timestamps",
                     str(tmp / "late-times.csv"), "--due", DUE, "--late-penalty", "10"]) == 0
    after = _rows(out / "grades.csv")
    assert set(after) == set(before)
    assert {k: v for k, v in after.items() if k != "s10"} == {k: v for k, v in before.items() if k != "s10"}
    assert after["s10"]["points"] == "4" and before["s10"]["points"] in ("0",)
    assert len(list((out / "results" / "history").glob("s10.*.json"))) == 2  # before the merge, before this
    book_after = _csv(scenario["gradebook"])
    assert [l for l in book_after if l[0] != "s10"] == [l for l in book_before if l[0] != "s10"]
    history = _csv(scenario["gradebook"].with_name("gradebook-history.csv"))
    assert [line[3] for line in history if line[1] == "s10"] == ["graded", "manual", "resubmission"]
    # An older file of s10 does not replace the newer one (latest submission wins across runs).
    old = tmp / "old"
    old.mkdir()
    course.write(old / "s10.ipynb", scenario["handed_out"])
    with open(tmp / "old-times.csv", "w", newline="") as handle:
        csv.writer(handle).writerows([["file", "submitted_at"], ["s10.ipynb", "2026-11-29T20:00:00Z"]])
    assert cli.main(["grade", str(scenario["instructor"]), str(old), "--out", str(out), "--timestamps",
                     str(tmp / "old-times.csv")]) == 0
    assert _rows(out / "grades.csv")["s10"]["points"] == "4"
    history = _csv(scenario["gradebook"].with_name("gradebook-history.csv"))
    assert history[-1][1:4] == ["s10", "tiny_stats", "kept-newer"]


def test_totals_and_lms_exports(scenario):
    tmp, gradebook = scenario["tmp"], scenario["gradebook"]
    # A second assignment graded into a sibling folder shares the gradebook.
    second = scenario["repo"] / "notebooks" / "tiny_stats_2.ipynb"
    text = scenario["instructor"].read_text()
    second.write_text(text)
    subs2 = tmp / "subs2"
    subs2.mkdir()
    handed_out2 = dict(scenario["handed_out"], metadata=dict(scenario["handed_out"]["metadata"],
                                                             genlab={"assignment": "tiny_stats_2"}))
    course.write(subs2 / "s01.ipynb", course.filled(handed_out2, {"answer-stats": course.SOLUTION["answer-stats"]}))
    course.write(subs2 / "s02.ipynb", handed_out2)
    assert cli.main(["grade", str(second), str(subs2), "--out", str(tmp / "grading" / "tiny2")]) == 0
    totals = tmp / "totals.csv"
    assert cli.main(["grade", "export", "--gradebook", str(gradebook), "--format", "totals", "--out", str(totals)]) == 0
    rows = _rows(totals)
    assert list(rows["s01"]) == ["student", "tiny_stats", "tiny_stats_2", "total", "max_total"]
    assert rows["s01"]["total"] == "9" and rows["s01"]["max_total"] == "12"  # 5 + 4 (manual pending)
    assert rows["s03"]["tiny_stats_2"] == "" and len(rows) == 30

    roster = tmp / "roster.csv"
    with open(roster, "w", newline="") as handle:
        csv.writer(handle).writerows([["student", "Student", "SIS User ID", "Section", "Email"]]
                                     + [[f"s{n:02d}", f"Student {n}", f"900{n:03d}", "A", f"s{n}@uni.example"]
                                        for n in range(1, 31)])
    canvas = tmp / "canvas.csv"
    assert cli.main(["grade", "export", "--gradebook", str(gradebook), "--format", "canvas", "--out", str(canvas),
                     "--assignment", "tiny_stats", "--roster", str(roster),
                     "--canvas-column", "tiny_stats=Tiny statistics (4711)"]) == 0
    lines = _csv(canvas)
    assert lines[0] == exports.CANVAS_IDENTITY + ["Tiny statistics (4711)"]
    assert lines[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert lines[1][0] == "Points Possible" and lines[1][5] == "6"
    s07 = next(line for line in lines if line[2] == "900007")
    assert s07[0] == "Student 7" and s07[4] == "A" and s07[5] == "2.40"
    gradescope = tmp / "gradescope.csv"
    assert cli.main(["grade", "export", "--gradebook", str(gradebook), "--format", "gradescope", "--out",
                     str(gradescope), "--assignment", "tiny_stats", "--roster", str(roster),
                     "--id-column", "Email"]) == 0
    lines = _csv(gradescope)
    assert lines[0] == ["Name", "SID", "Email", "Total Score"]
    assert ["Student 1", "", "s1@uni.example", "5"] in lines
    assert cli.main(["grade", "export", "--gradebook", str(gradebook), "--format", "gradescope",
                     "--out", str(gradescope)]) == 2  # which assignment? said, not guessed


def test_self_check_on_a_colab_saved_notebook_matches_the_grader(scenario, monkeypatch):
    """genlab.check in Colab: the notebook comes from Colab's get_ipynb; the verdict is the grader's."""
    from IPython.core.interactiveshell import InteractiveShell

    rows = _rows(scenario["out"] / "grades.csv")
    tree_notebooks = scenario["tree"] / "notebooks"
    for student in ("s09", "s14"):  # all right (saved by Colab), and (b) wrong
        number = int(student[1:])
        colab = course.colab_saved(course.filled(scenario["handed_out"], {"answer-stats": _answers(number)[0]}))
        shell = InteractiveShell()
        for cell in colab["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] == "code" and "CHECK" not in source.splitlines()[0] and "!" not in source:
                assert shell.run_cell(source).success
        shell.run_cell('values = [1.0, 2.0, 3.0, 4.0, 10.0]')
        fake = type(sys)("google.colab._message")
        fake.blocking_request = lambda kind, request="", timeout_sec=0, data=colab: {"ipynb": data}
        google = type(sys)("google")
        google.colab = type(sys)("google.colab")
        google.colab._message = fake
        monkeypatch.setitem(sys.modules, "google", google)
        monkeypatch.setitem(sys.modules, "google.colab", google.colab)
        monkeypatch.setitem(sys.modules, "google.colab._message", fake)
        lines = []
        verdicts = selfcheck.check("stats", shell=shell, echo=lines.append, reference_dirs=[tree_notebooks])
        grader = {check: float(rows[student][check]) > 0 for check in ("stats.mean", "stats.spread")}
        assert {v.check_id: v.passed for v in verdicts} == grader, (student, lines)
        assert any(line.startswith("stats: ") for line in lines)
    InteractiveShell.clear_instance()


def test_similarity_normalises_comments_and_spacing():
    identical, near = similarity.compare({"a": COPIED, "b": COPIED.replace("    ", "  ") + "# mine\n",
                                          "c": COPIED.replace("0.0", "0"), "d": "x = 1\n"})
    assert identical == [["a", "b"]] and [pair[:2] for pair in near] == [("a", "c"), ("b", "c")]
