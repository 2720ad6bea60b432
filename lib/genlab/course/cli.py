"""The ``genlab`` command line (also ``python -m genlab``).

Why it exists: one entry point for the course's tools, thin over genlab
modules (STYLE.md: "thin entry points"). Subcommands:

* ``genlab assign build|check|validate|release`` (genlab.course.grading.assign, .release);
* ``genlab grade`` (genlab.course.grading.grade), ``genlab grade merge`` (manual
  scores, genlab.course.grading.manual) and ``genlab grade export`` (LMS files,
  genlab.course.grading.exports);
* delegated commands: a module with ``main(argv) -> int`` listed in
  :data:`DELEGATED` gets the rest of the command line and parses it itself.
  To add one, write the module and add one line to :data:`DELEGATED`
  (``genlab report`` -> ``genlab.course.report.main``). It is imported only when used.

Nothing here imports TensorFlow: ``genlab grade``, ``genlab assign`` and
``--help`` start in well under a second (``tests/test_layout.py`` checks it).
"""

import argparse
import importlib
import sys
from pathlib import Path

# name -> (module, help). The module's main(argv) receives the arguments after the name.
DELEGATED = {
    "report": ("genlab.course.report", "write the results report (see genlab.course.report)"),
    "notebooks": ("genlab.course.notebook_runner", "run notebooks into build/, or refresh their check outputs"),
    "times": ("genlab.course.timing", "print the per-notebook test-time table (see genlab.course.timing)"),
}

DEFAULT_NOTEBOOKS = "notebooks/[0-9][0-9]_*.ipynb"


def _default_notebooks():
    found = sorted(Path.cwd().glob(DEFAULT_NOTEBOOKS))
    if not found:
        raise SystemExit(f"genlab: no notebooks given and none match {DEFAULT_NOTEBOOKS} "
                         f"under {Path.cwd()}; name the notebooks or run from the repository root")
    return found


def _existing(paths, what="notebook"):
    for path in paths:
        if not Path(path).is_file():
            raise SystemExit(f"genlab: {what} {path} does not exist")
    return [Path(path) for path in paths]


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value
    return parse


def _add_run_options(parser, timeout, cell_timeout):
    parser.add_argument("--timeout", type=_positive(float), default=timeout, metavar="SECONDS",
                        help=f"time limit for one notebook run; its processes are killed after it "
                             f"(default {timeout})")
    parser.add_argument("--cell-timeout", type=_positive(int), default=cell_timeout, metavar="SECONDS",
                        help=f"time limit per cell (nbval --nbval-cell-timeout, default {cell_timeout})")
    parser.add_argument("--sanitize-with", metavar="FILE", default=None,
                        help="nbval sanitize file (default: tests/nbval_sanitize.cfg of the repository "
                             "if it exists)")


def _sanitize_file(option):
    if option:
        if not Path(option).is_file():
            raise SystemExit(f"genlab: sanitize file {option} does not exist")
        return option
    from genlab import paths

    candidate = paths.REPO_ROOT / "tests" / "nbval_sanitize.cfg"
    return str(candidate) if candidate.is_file() else None


def build_parser():
    parser = argparse.ArgumentParser(
        prog="genlab", description="genlab course tools: assignments and grading.",
        epilog="Run 'genlab <command> --help' for a command's options.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    assign = commands.add_parser("assign", help="build, self-check and validate student versions")
    actions = assign.add_subparsers(dest="action", metavar="ACTION")
    build = actions.add_parser("build", help="write student versions of instructor notebooks")
    build.add_argument("notebooks", nargs="*", help=f"instructor notebooks (default {DEFAULT_NOTEBOOKS})")
    build.add_argument("--out", default="assignments", help="output folder (default assignments/)")
    check = actions.add_parser("check", help="run the visible checks on your own notebook")
    check.add_argument("notebook", help="your notebook (it is not modified)")
    _add_run_options(check, 1200, 600)
    release = actions.add_parser(
        "release", help="write the student tree (student versions, links to the student repository)")
    release.add_argument("--out", required=True, help="the student tree's folder (outside this repository)")
    release.add_argument("--repo", required=True, metavar="OWNER/NAME",
                         help="the public GitHub repository students open in Colab and clone")
    release.add_argument("--branch", default="main", help="its branch (default main)")
    release.add_argument("--source", default=".", help="the instructor repository (default: the current folder)")
    validate = actions.add_parser(
        "validate", help="instructor version passes every check, student version fails the "
                         "solution-dependent ones")
    validate.add_argument("notebooks", nargs="*", help=f"instructor notebooks (default {DEFAULT_NOTEBOOKS})")
    validate.add_argument("--skip-instructor", action="store_true",
                          help="run only the student version (when nbval already ran the instructor "
                               "notebooks, e.g. in make test)")
    validate.add_argument("--jobs", type=_positive(int), default=1, help="notebook runs in parallel")
    _add_run_options(validate, 600, 300)

    grade = commands.add_parser("grade", help="grade submissions into DIR/grades.csv and DIR/feedback/")
    grade.add_argument("assignment", help="the instructor notebook (with solutions and hidden checks)")
    grade.add_argument("submissions", nargs="+", help="submitted notebooks (a folder stands for its files)")
    grade.add_argument("--out", required=True, metavar="DIR", help="output folder")
    grade.add_argument("--jobs", type=_positive(int), default=1, help="submissions graded in parallel")
    grade.add_argument("--student-from", default="stem", metavar="RULE",
                       help="student name from the file name: stem (alice.ipynb -> alice, default), "
                            "parent (alice/05_dcgan.ipynb -> alice) or regex:PATTERN (first group)")
    grade.add_argument("--memory", default="4G", metavar="SIZE",
                       help="memory ceiling of each submission's run, e.g. 4G or 512M; a run that "
                            "passes it is stopped and marked 'memory' (default 4G; 'none' for no ceiling)")
    grade.add_argument("--sandbox", action="store_true",
                       help="run each submission in a bubblewrap sandbox: file system read-only except "
                            "its own folder, no network (needs the bubblewrap package)")
    grade.add_argument("--due", metavar="TIME", help="due time, ISO 8601 (e.g. 2026-12-01T23:59+01:00); "
                                                     "later submissions are flagged late")
    grade.add_argument("--late-penalty", type=float, default=0.0, metavar="PERCENT",
                       help="percent of the points lost per started day late (default 0: flag only)")
    grade.add_argument("--timestamps", metavar="CSV", help="hand-in times: a CSV with columns file, "
                                                           "submitted_at (default: each file's modification time)")
    grade.add_argument("--gradebook", metavar="CSV", help="the gradebook across assignments "
                                                          "(default: gradebook.csv beside the --out folder)")
    _add_run_options(grade, 600, 300)

    for name, (_, help_text) in DELEGATED.items():
        commands.add_parser(name, help=help_text, add_help=False)
    return parser, {"assign": assign}


def _grade_tools_parser():
    """``genlab grade merge`` and ``genlab grade export`` (parsed apart: ``grade`` takes positional files)."""
    parser = argparse.ArgumentParser(prog="genlab grade")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    merge = actions.add_parser("merge", help="fold filled manual score sheets into grades, gradebook, feedback")
    merge.add_argument("assignment", help="the instructor notebook")
    merge.add_argument("sheets", nargs="*", help="filled sheets (default: every DIR/manual/<question>.csv)")
    merge.add_argument("--out", required=True, metavar="DIR", help="the folder genlab grade wrote")
    merge.add_argument("--gradebook", metavar="CSV", help="default: gradebook.csv beside DIR")
    export = actions.add_parser("export", help="totals, or the CSV Canvas or Gradescope imports")
    export.add_argument("--gradebook", required=True, metavar="CSV")
    export.add_argument("--format", required=True, choices=["totals", "canvas", "gradescope"])
    export.add_argument("--out", required=True, metavar="CSV")
    export.add_argument("--assignment", help="the assignment (gradescope: required; canvas: default all)")
    export.add_argument("--id-column", help="the LMS column that gets genlab's student name "
                                            "(canvas default 'SIS User ID'; gradescope default 'SID')")
    export.add_argument("--roster", metavar="CSV", help="a CSV with a 'student' column and LMS columns "
                                                        "(Name, Email, SID, SIS User ID, Section, ...)")
    export.add_argument("--canvas-column", action="append", default=[], metavar="ASSIGNMENT=TITLE",
                        help="Canvas column of an assignment, e.g. '05_dcgan=DCGAN (1234)' (repeatable)")
    return parser


def _grade_tools(argv):
    from genlab.course.grading import exports, manual

    args = _grade_tools_parser().parse_args(argv)
    if args.action == "merge":
        _existing([args.assignment])
        manual.merge(args.assignment, args.out, args.sheets or None, args.gradebook)
        return 0
    columns = dict(item.split("=", 1) for item in args.canvas_column if "=" in item)
    path = exports.write(args.gradebook, args.out, args.format, assignment=args.assignment,
                         id_column=args.id_column, roster=args.roster, canvas_columns=columns)
    print(f"wrote {path} ({args.format})")
    return 0


def _run_delegated(name, argv):
    module_name = DELEGATED[name][0]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        print(f"genlab: '{name}' is not available in this version ({module_name} is missing)", file=sys.stderr)
        return 2
    return module.main(argv) or 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in DELEGATED:
        return _run_delegated(argv[0], argv[1:])
    if argv[:1] == ["grade"] and argv[1:2] in (["merge"], ["export"]):
        try:
            return _grade_tools(argv[1:])
        except (OSError, ValueError) as error:
            print(f"genlab: {error}", file=sys.stderr)
            return 2
    parser, subparsers = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from genlab.course.grading import authoring

    try:
        if args.command == "assign":
            return _assign(args, subparsers["assign"])
        if args.command == "grade":
            return _grade(args)
    except (authoring.AuthoringError, OSError, ValueError) as error:  # bad input files or folders
        print(f"genlab: {error}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.command}")


def _assign(args, parser):
    from genlab.course.grading import assign

    if args.action is None:
        parser.print_help()
        return 2
    if args.action == "build":
        notebooks = _existing(args.notebooks) if args.notebooks else _default_notebooks()
        assign.build(notebooks, args.out)
        return 0
    if args.action == "release":
        from genlab.course.grading import release

        release.release(args.source, args.out, args.repo, args.branch)
        return 0
    if args.action == "check":
        _existing([args.notebook])
        return 0 if assign.check(args.notebook, timeout=args.timeout, cell_timeout=args.cell_timeout,
                                 sanitize_with=_sanitize_file(args.sanitize_with)) else 1
    notebooks = _existing(args.notebooks) if args.notebooks else _default_notebooks()
    ok = assign.validate(notebooks, jobs=args.jobs, skip_instructor=args.skip_instructor,
                         timeout=args.timeout, cell_timeout=args.cell_timeout,
                         sanitize_with=_sanitize_file(args.sanitize_with))
    return 0 if ok else 1


def _grade(args):
    from genlab.course.grading import grade, isolation

    if not Path(args.assignment).is_file():
        raise SystemExit(f"genlab: assignment notebook {args.assignment} does not exist")
    try:
        grade.student_name("x.ipynb", args.student_from)
        memory = isolation.parse_size(args.memory)
    except ValueError as error:
        raise SystemExit(f"genlab: {error}") from None
    missing = [s for s in args.submissions if not Path(s).exists()]
    if missing:
        print(f"genlab: warning: {len(missing)} submission path(s) do not exist; they get an "
              f"'invalid' row: {', '.join(missing)}", file=sys.stderr)
    try:
        rows = grade.grade(args.assignment, args.submissions, args.out, jobs=args.jobs, timeout=args.timeout,
                           cell_timeout=args.cell_timeout, student_from=args.student_from,
                           sanitize_with=_sanitize_file(args.sanitize_with), memory=memory,
                           sandbox=args.sandbox, due=args.due, late_penalty=args.late_penalty / 100,
                           timestamps=args.timestamps, gradebook=args.gradebook)
    except isolation.SandboxUnavailable as error:
        raise SystemExit(f"genlab: {error}") from None
    return 0 if all(row is not None for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
