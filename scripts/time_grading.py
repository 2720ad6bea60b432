"""Time a grading run: N synthetic submissions of one notebook, graded with `genlab grade`.

Half of the submissions (every other one) are the student version with every
answer cell filled in with the instructor's solution (full marks expected);
the others are the untouched student version (zero on solution-dependent
checks, and they fail fast at the first NotImplementedError). The script
prints the wall-clock time, the per-submission mean and the status counts.

With ``--sandbox`` every run goes through bubblewrap, so running the script
twice (with and without) measures the sandbox's cost per submission.

Usage (quick mode, from the repository root):

    .venv/bin/python scripts/time_grading.py notebooks/05_dcgan.ipynb --count 30 --jobs 2
    .venv/bin/python scripts/time_grading.py tests/fixtures/tiny_assignment.ipynb --count 10 --sandbox
"""

import argparse
import collections
import json
import shutil
import sys
import time
from pathlib import Path

from genlab.course.grading import grade, isolation, versions as nbtools


def make_submissions(notebook_path, folder, count):
    instructor, assignment = nbtools.read_instructor(notebook_path)
    student = json.loads(nbtools.render(nbtools.student_version(instructor, assignment)))
    solutions = {cell.id: cell.source for cell in instructor.cells if cell.get("id") in assignment.answers}
    folder.mkdir(parents=True)
    for number in range(count):
        data = json.loads(json.dumps(student))
        solved = number % 2 == 0
        if solved:
            for cell in data["cells"]:
                if cell.get("id") in solutions:
                    cell["source"] = solutions[cell["id"]]
        name = f"student{number:02d}_{'solved' if solved else 'untouched'}.ipynb"
        (folder / name).write_text(json.dumps(data), encoding="utf-8")
    return assignment


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", help="instructor notebook, e.g. notebooks/05_dcgan.ipynb")
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--out", default="build/grading-timing")
    parser.add_argument("--memory", default="4G", help="memory ceiling per run (default 4G; none for none)")
    parser.add_argument("--sandbox", action="store_true", help="run each submission in bubblewrap")
    args = parser.parse_args(argv)
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    assignment = make_submissions(args.notebook, out / "submissions", args.count)
    start = time.perf_counter()
    rows = grade.grade(args.notebook, [out / "submissions"], out / "grades", jobs=args.jobs,
                       timeout=args.timeout, memory=isolation.parse_size(args.memory), sandbox=args.sandbox)
    elapsed = time.perf_counter() - start
    statuses = collections.Counter(row.status for row in rows)
    full = sum(row.points == assignment.max_points for row in rows)
    run_seconds = sorted(row.seconds for row in rows)
    print(f"{len(rows)} submissions of {Path(args.notebook).name}, --jobs {args.jobs}"
          f"{', --sandbox' if args.sandbox else ''}: {elapsed:.1f} s ({elapsed / 60:.1f} min, "
          f"{elapsed / len(rows):.2f} s per submission; median run {run_seconds[len(rows) // 2]:.2f} s); "
          f"statuses {dict(statuses)}; {full} with full marks; "
          f"largest memory of a run {isolation.format_size(max(row.peak_memory for row in rows) or 0)}")
    return 0 if len(rows) == args.count else 1


if __name__ == "__main__":
    sys.exit(main())
