"""Time a grading run: N synthetic submissions of one notebook, graded with `genlab grade`.

Half of the submissions (every other one) are the student version with every
answer cell filled in with the instructor's solution (full marks expected);
the others are the untouched student version (zero on solution-dependent
checks, and they fail fast at the first NotImplementedError). The script
prints the wall-clock time, the **median run time per submission** (the
figure issue 26 bounds at 20 s for notebook 05), the CPU seconds the runs
used per submission (user + system of every child process: less sensitive
to other load than wall-clock time), the machine's load average before and
after, and the status counts; ``--json`` also writes them to a results file.

With ``--sandbox`` every run goes through bubblewrap, so running the script
twice (with and without) measures the sandbox's cost per submission.

Usage (quick mode, from the repository root):

    .venv/bin/python scripts/time_grading.py notebooks/05_dcgan.ipynb --count 30 --jobs 2 \
        --json data/results/grading_time.json
    .venv/bin/python scripts/time_grading.py tests/fixtures/tiny_assignment.ipynb --count 10 --sandbox
"""

import argparse
import collections
import datetime
import json
import os
import platform
import resource
import shutil
import statistics
import sys
import time
from pathlib import Path

from genlab.course.grading import grade, isolation, versions as nbtools


def make_submissions(notebook_path, folder, count):
    instructor, assignment = nbtools.read_instructor(notebook_path)
    student = json.loads(nbtools.render(nbtools.student_version(instructor, assignment)))
    solutions = {cell.id: cell.source for cell in instructor.cells
                 if cell.get("id") in assignment.answers + [q.cell_id for q in assignment.manual]}
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


BEGIN, END = "<!-- grading-time:begin (scripts/time_grading.py --doc) -->", "<!-- grading-time:end -->"


def write_doc(doc, record, source):
    """Replace the block between BEGIN and END in ``doc`` by the figures of ``record`` (never typed by hand)."""
    text = Path(doc).read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{doc}: no {BEGIN} ... {END} block to fill")
    block = (f"{BEGIN}\n**{record['submissions']} submissions of {record['notebook']}** "
             f"(half solved, half untouched student versions), measured {record['date']} on "
             f"{record['machine']} ({record['mode']} mode, `--jobs {record['jobs']}`"
             f"{', `--sandbox`' if record['sandbox'] else ''}) with `{record['command']}`: "
             f"**median run per submission {record['median_run_seconds']:.1f} s**; "
             f"{record['wall_seconds']:.0f} s for all ({record['wall_seconds'] / record['submissions']:.1f} s "
             f"per submission with {record['jobs']} jobs); CPU time of the runs "
             f"{record['cpu_seconds_per_submission']:.1f} s per submission; statuses {record['statuses']}, "
             f"{record['every_check_passed']} with every check passed. The machine's load average was "
             f"{record['load_average_before']:.1f} before and {record['load_average_after']:.1f} after "
             f"({'other work shared it' if record['load_average_before'] >= 1.0 else 'the machine was idle before the run'})."
             f" Source: `{source}`.\n{END}")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    Path(doc).write_text(text[:start] + block + text[end:], encoding="utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", help="instructor notebook, e.g. notebooks/05_dcgan.ipynb")
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--out", default="build/grading-timing")
    parser.add_argument("--memory", default="4G", help="memory ceiling per run (default 4G; none for none)")
    parser.add_argument("--sandbox", action="store_true", help="run each submission in bubblewrap")
    parser.add_argument("--json", help="also write the figures to this results file")
    parser.add_argument("--doc", help="rewrite the measured-figures block of this Markdown file "
                                      "(between the grading-time markers) from --json")
    args = parser.parse_args(argv)
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    assignment = make_submissions(args.notebook, out / "submissions", args.count)
    load_before = os.getloadavg()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    rows = grade.grade(args.notebook, [out / "submissions"], out / "grades", jobs=args.jobs,
                       timeout=args.timeout, memory=isolation.parse_size(args.memory), sandbox=args.sandbox)
    elapsed = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_after = os.getloadavg()
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    statuses = collections.Counter(row.status for row in rows)
    full = sum(row.points == assignment.auto_points for row in rows)
    median = statistics.median(row.seconds for row in rows)
    print(f"{len(rows)} submissions of {Path(args.notebook).name}, --jobs {args.jobs}"
          f"{', --sandbox' if args.sandbox else ''}: {elapsed:.1f} s ({elapsed / 60:.1f} min, "
          f"{elapsed / len(rows):.2f} s per submission); statuses {dict(statuses)}; "
          f"{full} with every check passed; largest memory of a run "
          f"{isolation.format_size(max(row.peak_memory for row in rows) or 0)}")
    print(f"CPU time of the runs: {cpu / len(rows):.1f} s per submission; load average "
          f"{load_before[0]:.1f} before, {load_after[0]:.1f} after ({os.cpu_count()} cores)")
    print(f"median run per submission: {median:.1f} s")
    if args.json:
        record = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                  "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
                  "command": "python scripts/time_grading.py " + " ".join(argv if argv is not None else sys.argv[1:]),
                  "mode": os.environ.get("GENLAB_MODE", "quick"), "notebook": Path(args.notebook).name,
                  "submissions": len(rows), "jobs": args.jobs, "sandbox": args.sandbox,
                  "wall_seconds": round(elapsed, 1), "median_run_seconds": round(median, 2),
                  "cpu_seconds_per_submission": round(cpu / len(rows), 2),
                  "load_average_before": round(load_before[0], 2), "load_average_after": round(load_after[0], 2),
                  "statuses": dict(statuses), "every_check_passed": full}
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(record, indent=1) + "\n")
        if args.doc:
            write_doc(args.doc, record, args.json)
    return 0 if len(rows) == args.count else 1


if __name__ == "__main__":
    sys.exit(main())
