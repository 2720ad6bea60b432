"""Grade a batch of submissions: ``genlab grade ASSIGNMENT SUBMISSION... --out DIR``.

Why it exists: this is the instructor's side of the assignment workflow, a
pipeline whose stages are modules, each taking the previous one's output:

1. read the assignment (:func:`~.versions.read_instructor`: the instructor
   notebook and its :class:`~.authoring.Assignment`);
2. take in the submissions (:mod:`~.intake`: one file per student, latest wins,
   hand-in times);
3. run and score each one (:mod:`~.score`, through :mod:`~.submission`,
   :mod:`~.versions` and :mod:`~.runner`: a fresh copy of the instructor
   notebook with the student's answer cells, run with pytest + nbval in its
   own process and folder, with time limits and a memory ceiling);
4. record the rows (:mod:`~.record`: ``DIR/results/``, ``DIR/grades.csv``
   merged with earlier runs, the gradebook across assignments and its history);
5. write what people read (:mod:`~.feedback` per student, :mod:`~.manual`
   sheets for questions scored by hand, :mod:`~.summary` with
   :mod:`~.similarity`); :mod:`~.exports` writes the LMS files on request.

A bad submission never stops the batch; submissions are only read; no
recorded row is ever lost (each is saved as soon as it is scored).
"""

import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from genlab.course.grading import authoring, feedback, intake, isolation, manual, record, similarity, summary
from genlab.course.grading import versions as nbtools
from genlab.course.grading.intake import student_name  # noqa: F401 (part of this module's interface)
from genlab.course.grading.score import STATUSES, Row, cell_problems, format_points, grade_one  # noqa: F401


def isolation_line(sandbox, memory):
    """The one line ``genlab grade`` prints first: how far submissions are kept apart."""
    ceiling = (f"memory ceiling {isolation.format_size(memory)} per submission" if memory
               else "no memory ceiling")
    if sandbox:
        return (f"isolation: bubblewrap sandbox (file system read-only except each run's own folder, "
                f"no network); {ceiling}")
    return ("isolation: NO SANDBOX: each submission runs in a private folder, but its code runs with "
            "your permissions (it can read and write any file you can, and use the network); "
            f"add --sandbox to prevent that; {ceiling}")


def grade(assignment_path, submissions, out_dir, *, jobs=1, timeout=600, cell_timeout=300,
          student_from="stem", sanitize_with=None, memory=None, sandbox=False, due=None, late_penalty=0.0,
          timestamps=None, gradebook=None, echo=print):
    """Grade every submission; record, write feedback, manual sheets and the summary. Returns this run's rows.

    Args:
        memory: bytes; the ceiling of each run (None: no ceiling).
        sandbox: run each submission in bubblewrap (:mod:`~genlab.course.grading.isolation`).
        due: ISO 8601 due time; later submissions are flagged late.
        late_penalty: fraction of the points lost per started day late (0: flag only).
        timestamps: a CSV of hand-in times (:func:`~.intake.read_timestamps`).
        gradebook: the gradebook CSV (default :func:`~.record.default_gradebook`).

    Raises:
        genlab.course.grading.authoring.AuthoringError: the assignment notebook itself is unusable.
        genlab.course.grading.isolation.SandboxUnavailable: ``sandbox`` cannot work on this machine.
        ValueError: a bad ``due`` or timestamps file.
    """
    # 1. the assignment
    instructor, assignment = nbtools.read_instructor(assignment_path)
    if not assignment.answers or not assignment.checks:
        raise authoring.AuthoringError(
            f"{assignment_path} has no {'solution regions' if not assignment.answers else 'checks'}: "
            "grade with the instructor notebook (notebooks/...), not a student version")
    due = intake.iso(intake.parse_time(due)) if due else ""
    if sandbox:
        isolation.check_sandbox()  # before any row: a missing bwrap is the instructor's to fix
    source_dir = Path(assignment_path).resolve().parent
    out_dir = Path(out_dir)
    gradebook = Path(gradebook) if gradebook else record.default_gradebook(out_dir)
    (out_dir / "feedback").mkdir(parents=True, exist_ok=True)
    # 2. the submissions
    items = intake.collect(submissions, student_from, intake.read_timestamps(timestamps) if timestamps else None)
    # Inside the sandbox these folders are empty: no run reads the solutions, another
    # student's submission or the grades.
    hide = [source_dir, out_dir.resolve(), gradebook.parent, *{Path(i.file).resolve().parent for i in items}]
    rows = [None] * len(items)
    echo(isolation_line(sandbox, memory), flush=True)
    start = time.perf_counter()

    def work(position):  # 3. run and score
        item = items[position]
        row = grade_one(item.file, item.student, instructor, assignment, source_dir, timeout=timeout,
                        cell_timeout=cell_timeout, sanitize_with=sanitize_with, log_dir=out_dir / "logs",
                        memory=memory, sandbox=sandbox, hide=hide)
        row.submitted_at, row.time_source, row.sha256 = item.submitted_at, item.time_source, item.sha256
        row.superseded, row.due, row.late_penalty = item.superseded, due, late_penalty
        row.days_late = record.days_late(item.submitted_at, due)
        if item.superseded:
            row.issues.append(f"latest submission graded; superseded: {', '.join(item.superseded)}")
        return position, row

    done = 0
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for future in as_completed([pool.submit(work, position) for position in range(len(items))]):
            position, row = future.result()
            rows[position] = row
            done += 1
            # 4. record (at once: a crash later loses no row)
            when = record.now()
            kept, action = record.save_row(out_dir, row, when)
            changes = [(kept, action, "" if action != "kept-newer" else f"{Path(row.file).name} is older")]
            changes += [(row, "superseded", name) for name in row.superseded]
            record.update_gradebook(gradebook, assignment, changes, when)
            # 5. what people read
            feedback.write(kept, assignment, instructor, out_dir / "feedback" / f"{intake.safe_name(kept.student)}.md")
            record.write_csv(sorted(record.load_rows(out_dir).values(), key=lambda r: r.student), assignment,
                             out_dir / "grades.csv")
            echo(f"[{done}/{len(items)}] {row.student}: {row.status} "
                 f"{format_points(row.points)}/{format_points(row.max_points)} "
                 f"({row.seconds:.1f} s){'  late ' + str(row.days_late) + ' d' if row.days_late else ''}"
                 f"{'  ' + row.reason if row.reason else ''}"
                 f"{'  ' + str(len(row.cells)) + ' failed cell(s)' if row.cells else ''}"
                 f"{'  (an older file: the recorded newer one is kept)' if action == 'kept-newer' else ''}",
                 flush=True)
    elapsed = time.perf_counter() - start
    everyone = sorted(record.load_rows(out_dir).values(), key=lambda r: r.student)
    sheets = manual.write_sheets(out_dir, assignment, everyone)
    written = summary.write(everyone, assignment, out_dir, seconds=elapsed, jobs=jobs, memory=memory,
                            sandbox=sandbox, this_run=len(items),
                            similar=similarity.report(everyone, assignment, instructor))
    echo(f"graded {len(items)} submission(s) of {assignment.name} in {elapsed:.1f} s "
         f"-> {out_dir / 'grades.csv'}, {written}, gradebook {gradebook}"
         f"{', manual sheets in ' + str(out_dir / 'manual') if sheets else ''}", flush=True)
    return rows
