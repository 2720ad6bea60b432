"""``genlab assign build | check | validate``: student versions and their self-tests.

Why it exists: the instructor writes one notebook with solutions and checks;
``build`` derives what students get, ``check`` lets a student run the visible
checks on their own work, and ``validate`` proves an assignment is sound
(nbgrader's validate/invert idea): the instructor version passes every
check and the untouched student version fails every check except those
marked ``independent`` (``# CHECK <id> <points> independent``), i.e. a
check that awards points without any solution is an authoring bug.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from genlab.course.grading import authoring, versions as nbtools, runner


def build(notebooks, out_dir, echo=print):
    """Write the student version of each notebook to ``out_dir/<same name>``.

    Files whose content would not change are not rewritten (idempotent).
    Returns the list of written-or-unchanged output paths.

    Raises:
        AuthoringError: bad markers, or ``out_dir`` is a source notebook's folder.
    """
    out_dir = Path(out_dir)
    outputs = []
    for path in map(Path, notebooks):
        if out_dir.resolve() == path.resolve().parent:
            raise authoring.AuthoringError(f"--out {out_dir} is the folder of {path}: "
                                           "student versions would overwrite the sources")
        instructor, assignment = nbtools.read_instructor(path)
        for problem in authoring.lint(instructor, assignment):
            echo(f"warning: {path.name}: {problem}")
        text = nbtools.render(nbtools.student_version(instructor, assignment))
        target = out_dir / path.name
        unchanged = target.exists() and target.read_text(encoding="utf-8") == text
        if not unchanged:
            out_dir.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        echo(f"{target}: {'unchanged' if unchanged else 'written'} "
             f"({len(assignment.answers)} answer cells, "
             f"{sum(not c.hidden for c in assignment.checks)} checks, "
             f"{sum(c.hidden for c in assignment.checks)} hidden removed)")
        outputs.append(target)
    return outputs


def check(path, *, timeout=1200, cell_timeout=600, sanitize_with=None, echo=print):
    """Run the visible checks of a student's notebook; print pass/fail and points per check.

    Returns True when every visible check passed. The notebook is not modified.
    """
    import nbformat

    path = Path(path)
    student = nbformat.read(str(path), as_version=4)
    run, checks = nbtools.self_check_notebook(student)
    if not checks:
        echo(f"{path}: no '# CHECK' cells found: nothing to check")
        return False
    echo(f"running {path.name} ({len(checks)} checks; this executes the whole notebook) ...", flush=True)
    result = runner.run_notebook(run, path.resolve().parent, name=path.name, timeout=timeout,
                                 cell_timeout=cell_timeout, sanitize_with=sanitize_with)
    earned = total = 0.0
    for check_id, points, index in checks:
        cell = result.cells.get(index)
        passed = bool(cell and cell.passed)
        earned += points if passed else 0.0
        total += points
        echo(f"  {'PASS' if passed else 'FAIL'}  {check_id:<28} {_pts(points if passed else 0)}/{_pts(points)}")
        if not passed:
            detail = cell.message if cell else "not run (the notebook stopped before this check)"
            lines = [line for line in detail.splitlines() if line.strip()]
            hint = next((line for line in reversed(lines) if "Error" in line), lines[-1] if lines else "")
            echo(f"        {hint.strip()[:200]}")
    if result.status != "ok":
        echo(f"  note: {result.reason}")
    echo(f"{path.name}: {_pts(earned)}/{_pts(total)} points on the visible checks ({result.seconds:.0f} s)")
    return earned == total and result.status == "ok"


def _pts(value):
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def _outcomes(result, index):
    return {check_id: bool(result.cells.get(i) and result.cells[i].passed) for check_id, i in index.items()}


def validate_one(path, *, skip_instructor=False, timeout=600, cell_timeout=300, sanitize_with=None,
                 jobs=1, limit=None):
    """Validate one instructor notebook. Returns (ok, list of message lines)."""
    path = Path(path)
    messages = []
    try:
        instructor, assignment = nbtools.read_instructor(path)
    except authoring.AuthoringError as error:
        return False, [f"authoring error: {error}"]
    problems = [p for p in authoring.lint(instructor, assignment)]
    if not assignment.checks or not assignment.answers:
        return False, problems
    messages += [f"warning: {p}" for p in problems]
    student = nbtools.student_version(instructor, assignment)
    if nbtools.render(nbtools.student_version(instructor, assignment)) != nbtools.render(student):
        return False, ["building the student version twice gave different results"]
    stubs = {cell_id: authoring.strip_solutions(source) for cell_id, source in
             ((c.id, c.source) for c in instructor.cells if c.get("id") in assignment.answers)}
    solutions = {c.id: c.source for c in instructor.cells if c.get("id") in assignment.answers}
    runs = {"student": stubs} if skip_instructor else {"instructor": solutions, "student": stubs}

    limit = limit or threading.Semaphore(max(1, jobs))

    def execute(answers):
        graded, index, _ = nbtools.graded_notebook(instructor, assignment, answers)
        with limit:
            result = runner.run_notebook(graded, path.resolve().parent, name=path.name, timeout=timeout,
                                         cell_timeout=cell_timeout, sanitize_with=sanitize_with)
        return result, _outcomes(result, index), index

    with ThreadPoolExecutor(max_workers=len(runs)) as pool:
        futures = {version: pool.submit(execute, answers) for version, answers in runs.items()}
        results = {version: future.result() for version, future in futures.items()}
    ok = True
    if "instructor" in results:
        result, passed, index = results["instructor"]
        failing = [check_id for check_id, good in passed.items() if not good]
        if failing or result.status != "ok":
            ok = False
            messages.append(f"instructor version fails {', '.join(failing) or '-'} "
                            f"({result.reason or 'checks must all pass'})")
            for check_id in failing:
                cell = result.cells.get(index[check_id])
                lines = [line for line in (cell.message if cell else "not run").splitlines() if line.strip()]
                messages.append(f"  {check_id}: {lines[-1].strip()[:200] if lines else 'failed'}")
        else:
            messages.append(f"instructor version passes all {len(passed)} checks ({result.seconds:.0f} s)")
    result, passed, _ = results["student"]
    independent = {c.check_id for c in assignment.checks if c.independent}
    wrongly_passing = [c for c, good in passed.items() if good and c not in independent]
    wrongly_failing = [c for c, good in passed.items() if not good and c in independent]
    if result.status == "timeout":
        ok = False
        messages.append(f"student version: {result.reason}")
    if wrongly_passing:
        ok = False
        messages.append(f"student version PASSES {', '.join(wrongly_passing)} without a solution: "
                        "make the check depend on the solution, or mark it "
                        "'# CHECK <id> <points> independent'")
    if wrongly_failing:
        ok = False
        messages.append(f"student version fails independent check(s) {', '.join(wrongly_failing)}")
    if not wrongly_passing and not wrongly_failing and result.status != "timeout":
        messages.append(f"student version fails the {len(passed) - len(independent)} solution-dependent "
                        f"checks and passes {len(independent)} independent ({result.seconds:.0f} s)")
    return ok, messages


def validate(notebooks, echo=print, jobs=1, **options):
    """Validate each notebook; print a verdict per notebook. Returns True if all are valid.

    At most ``jobs`` notebook runs (pytest processes) execute at the same time.
    """
    limit = threading.Semaphore(max(1, jobs))
    start = time.perf_counter()

    def one(path):
        begin = time.perf_counter()
        ok, messages = validate_one(path, jobs=jobs, limit=limit, **options)
        return path, ok, messages, time.perf_counter() - begin

    all_ok = True
    with ThreadPoolExecutor(max_workers=max(1, len(notebooks))) as pool:
        for future in as_completed([pool.submit(one, path) for path in notebooks]):
            path, ok, messages, seconds = future.result()
            all_ok &= ok
            echo(f"{Path(path).name}: {'valid' if ok else 'INVALID'} ({seconds:.0f} s)", flush=True)
            for message in messages:
                echo(f"  {message}", flush=True)
    echo(f"validated {len(notebooks)} notebook(s) in {time.perf_counter() - start:.0f} s: "
         f"{'all valid' if all_ok else 'some INVALID'}", flush=True)
    return all_ok
