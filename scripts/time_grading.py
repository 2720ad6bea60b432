"""Time a grading run: N synthetic submissions of one notebook, graded with `genlab grade`.

Half of the submissions (every other one) are the student version with every
answer cell filled in with the instructor's solution (full marks expected);
the others are the untouched student version (zero on solution-dependent
checks, and they fail fast at the first NotImplementedError). The script
prints the wall-clock time, the per-submission mean and the status counts.

Usage (quick mode, from the repository root):

    PYTHONPATH=lib .venv/bin/python scripts/time_grading.py notebooks/05_dcgan.ipynb --count 30 --jobs 2
"""

import argparse
import collections
import json
import shutil
import sys
import time
from pathlib import Path

import genlab  # noqa: F401  (silences TensorFlow before anything else)
from genlab.course.grading import grade, versions as nbtools


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
    args = parser.parse_args(argv)
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    assignment = make_submissions(args.notebook, out / "submissions", args.count)
    start = time.perf_counter()
    rows = grade.grade(args.notebook, [out / "submissions"], out / "grades", jobs=args.jobs,
                       timeout=args.timeout)
    elapsed = time.perf_counter() - start
    statuses = collections.Counter(row.status for row in rows)
    full = sum(row.points == assignment.max_points for row in rows)
    print(f"{len(rows)} submissions of {Path(args.notebook).name}, --jobs {args.jobs}: {elapsed:.0f} s "
          f"({elapsed / 60:.1f} min, {elapsed / len(rows):.1f} s per submission); statuses {dict(statuses)}; "
          f"{full} with full marks")
    return 0 if len(rows) == args.count else 1


if __name__ == "__main__":
    sys.exit(main())
