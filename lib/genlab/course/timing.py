"""How long each notebook takes in ``make test``: nbval's seconds and student validation's.

Why it exists: every notebook's quick run must stay within its budget
(:data:`BUDGET_SECONDS` on 2 idle cores) and ``make test`` within 25 minutes
with all fifteen notebooks (00-14), so every run prints one table that makes
growth visible. Two sources:

* a pytest plugin (``pytest -p genlab.course.timing``) adds up the
  durations of each notebook's nbval items and writes
  ``build/test-times/nbval.json`` at the end of the session;
* ``genlab assign validate`` prints ``NAME.ipynb: valid (N s)`` per notebook (N
  includes waiting for a free job), then one indented line per run it made,
  each ending in that run's own ``(N s)``; the Makefile keeps that output in
  ``build/test-times/validate.log``, and the table adds up the runs' seconds.

``genlab times`` reads both and prints the table. ``genlab times --record``
also writes them, with the date, the machine and make test's total seconds
(``build/test-times/seconds``, written by the Makefile), to
``data/results/test_times.json``, the results file from which ``genlab
report`` generates the README's quick-run column and docs/testing.md's table.
Recording is a separate step so that a test run never changes tracked files.
"""

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

BUDGET_SECONDS = 45
_VALIDATE_BLOCK = re.compile(r"^(\S+\.ipynb): (?:valid|INVALID) \(\d+ s\)\n((?:  .*\n?)*)", re.MULTILINE)
_RUN_SECONDS = re.compile(r"\((\d+) s\)\s*$", re.MULTILINE)
_totals = defaultdict(float)


def times_dir():
    from genlab import paths

    return paths.build_dir() / "test-times"


# --- pytest plugin --------------------------------------------------------------------------------

def pytest_runtest_logreport(report):
    """Add each phase (setup, call, teardown) of a notebook's items to that notebook's total."""
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb") and path.startswith("notebooks/"):  # not the grading tests' fixtures
        _totals[Path(path).name] += report.duration


def pytest_sessionfinish(session, exitstatus):
    if _totals:
        folder = times_dir()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "nbval.json").write_text(json.dumps({k: round(v, 1) for k, v in sorted(_totals.items())},
                                                      indent=1) + "\n")


# --- the table ----------------------------------------------------------------------------------

def read(nbval_json, validate_log):
    """{notebook: (nbval seconds or None, validation seconds or None)}."""
    nbval = json.loads(Path(nbval_json).read_text()) if Path(nbval_json).is_file() else {}
    validate = {}
    if Path(validate_log).is_file():
        for name, runs in _VALIDATE_BLOCK.findall(Path(validate_log).read_text()):
            validate[name] = float(sum(int(seconds) for seconds in _RUN_SECONDS.findall(runs)))
    return {name: (nbval.get(name), validate.get(name)) for name in sorted(set(nbval) | set(validate))}


def table(times, budget=BUDGET_SECONDS):
    """The per-notebook table as text, with a total line; notebooks over the budget are marked."""
    show = lambda value: "-" if value is None else f"{value:.0f}"  # noqa: E731
    lines = [f"{'notebook':<34} {'nbval s':>8} {'validate s':>11}",
             f"{'-' * 34} {'-' * 8} {'-' * 11}"]
    for name, (nbval, validate) in times.items():
        flag = f"  over the {budget} s budget" if nbval is not None and nbval > budget else ""
        lines.append(f"{name:<34} {show(nbval):>8} {show(validate):>11}{flag}")
    total_nbval = sum(v[0] or 0 for v in times.values())
    total_validate = sum(v[1] or 0 for v in times.values())
    lines.append(f"{'all ' + str(len(times)) + ' notebooks':<34} {total_nbval:>8.0f} {total_validate:>11.0f}")
    return "\n".join(lines)


def record(times, out, total_seconds=None, command="make test", machine=None, date=None):
    """Write ``times`` as a results file (date, machine, command, budget, seconds per notebook)."""
    import datetime

    if machine is None:
        from genlab import config  # loads TensorFlow to name the GPU; only when recording

        machine = config.machine()
    date = date or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    result = {"what": "seconds per notebook in make test, quick mode: nbval over the instructor notebook, and "
                      "genlab assign validate's runs of the student version",
              "date": date, "machine": machine, "command": command, "mode": "quick",
              "budget_seconds": BUDGET_SECONDS, "total_seconds": total_seconds,
              "notebooks": {name: {"nbval": nbval, "validate": validate}
                            for name, (nbval, validate) in times.items()}}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(result, indent=1) + "\n")
    return result


def main(argv=None):
    from genlab import paths

    parser = argparse.ArgumentParser(prog="genlab times", description=__doc__.splitlines()[0])
    parser.add_argument("--nbval", default=None, help="default build/test-times/nbval.json")
    parser.add_argument("--validate", default=None, help="default build/test-times/validate.log")
    parser.add_argument("--record", action="store_true",
                        help="also write data/results/test_times.json (then run genlab report)")
    args = parser.parse_args(argv)
    times = read(args.nbval or times_dir() / "nbval.json", args.validate or times_dir() / "validate.log")
    if not times:
        print("genlab times: no notebook times recorded yet (run make test)", file=sys.stderr)
        return 1
    print(table(times))
    if args.record:
        total_file = times_dir() / "seconds"
        total = int(total_file.read_text()) if total_file.is_file() else None
        out = paths.REPO_ROOT / "data" / "results" / "test_times.json"
        record(times, out, total_seconds=total)
        print(f"recorded {out}; now run genlab report to regenerate the pages that show it")
    return 0
