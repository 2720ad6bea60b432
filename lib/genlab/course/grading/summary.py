"""A class at a glance: ``summary.md`` and ``summary.png`` beside ``grades.csv``.

Why it exists: grades.csv has one row per student; an instructor also needs
the class view: how many submissions were graded, timed out, ran out of
memory or were invalid, how the points are spread, which check nearly
everyone fails (a hint that the exercise or the check is wrong), and which
submissions need a look because a cell timed out or failed. The plot is
drawn with matplotlib's object API on the Agg canvas (no pyplot, no display,
no TensorFlow in the grader).
"""

import collections
import datetime
from pathlib import Path

LOW_PASS_RATE = 0.25  # checks passed by fewer of the run submissions are flagged
STATUS_ORDER = ("graded", "timeout", "memory", "error", "invalid")


def _points(value):
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def histogram(values, max_points, bins=10):
    """[(low, high, count)]: one bin per point when there are at most ``bins`` + 1 values, else ``bins``."""
    if max_points <= bins and float(max_points).is_integer():
        edges = [(p, p) for p in range(int(max_points) + 1)]
    else:
        width = max_points / bins
        edges = [(i * width, (i + 1) * width) for i in range(bins)]
    counts = []
    for position, (low, high) in enumerate(edges):
        last = position == len(edges) - 1
        counts.append((low, high, sum(1 for v in values
                                      if (v == low if low == high else low <= v < high or (last and v == high)))))
    return counts


def pass_rates(rows, assignment):
    """[(check, passed, ran)]: ``ran`` counts the submissions whose notebook was run (not invalid)."""
    ran = [row for row in rows if row.status != "invalid"]
    return [(check, sum(1 for row in ran if row.details.get(check.check_id, (False,))[0]), len(ran))
            for check in assignment.checks]


def _plot(path, rows, assignment, rates):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(10, 3.6), layout="constrained")
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2, width_ratios=[1, 1.2])
    bins = histogram([row.points for row in rows], assignment.max_points)
    labels = [_points(low) if low == high else f"{_points(low)}-{_points(high)}" for low, high, _ in bins]
    left.bar(range(len(bins)), [count for _, _, count in bins], color="#4c72b0")
    left.set_xticks(range(len(bins)), labels, rotation=45 if len(bins) > 8 else 0)
    left.set_xlabel(f"points (of {_points(assignment.max_points)})")
    left.set_ylabel("submissions")
    left.yaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_title(f"Points, all {len(rows)} submissions")
    names = [check.check_id + (" (hidden)" if check.hidden else "") for check, _, _ in rates]
    shares = [100 * passed / ran if ran else 0 for _, passed, ran in rates]
    colours = ["#c44e52" if share < 100 * LOW_PASS_RATE else "#55a868" for share in shares]
    right.barh(range(len(rates)), shares, color=colours)
    right.set_yticks(range(len(rates)), names)
    right.invert_yaxis()
    right.set_xlim(0, 100)
    right.set_xlabel("% passed")
    right.set_title(f"Pass rate per check ({rates[0][2] if rates else 0} submissions run)")
    figure.savefig(path, dpi=100)


def render(rows, assignment, *, seconds=None, jobs=1, memory=None, sandbox=False, image=None, this_run=None,
           similar=()):
    """The summary as Markdown.

    Args:
        rows: every recorded row of the assignment (earlier runs included).
        this_run: how many submissions this run graded (None: all of ``rows``).
        similar: :func:`~.similarity.report`'s list.
    """
    from genlab.course.grading.isolation import format_size

    statuses = collections.Counter(row.status for row in rows)
    rates = pass_rates(rows, assignment)
    run = f" in {seconds:.0f} s with --jobs {jobs}" if seconds is not None else ""
    if this_run is not None and this_run != len(rows):
        run += f" (this run: {this_run}; the others are earlier runs' rows)"
    lines = [f"# Class summary: {assignment.name}", "",
             f"{len(rows)} submission{'s' if len(rows) != 1 else ''} graded on {datetime.date.today().isoformat()}{run}; "
             f"{'bubblewrap sandbox' if sandbox else 'no sandbox'}; "
             f"{'memory ceiling ' + format_size(memory) if memory else 'no memory ceiling'}.", "",
             "## Statuses", "", "| status | submissions |", "|---|---|"]
    lines += [f"| {status} | {statuses[status]} |" for status in STATUS_ORDER if statuses[status]]
    points = [row.points for row in rows]
    ran = [row.points for row in rows if row.status != "invalid"]
    lines += ["", "## Points", ""]
    if image:
        lines += [f"![points histogram and pass rate per check]({image})", ""]
    if ran:
        ordered = sorted(ran)
        median = (ordered[(len(ordered) - 1) // 2] + ordered[len(ordered) // 2]) / 2
        lines += [f"Of the {len(ran)} submissions run: mean {sum(ran) / len(ran):.2f}, median {_points(median)}, "
                  f"full marks {sum(p == assignment.max_points for p in ran)} "
                  f"(maximum {_points(assignment.max_points)}).", ""]
    lines += ["| points | submissions |", "|---|---|"]
    for low, high, count in histogram(points, assignment.max_points):
        lines.append(f"| {_points(low) if low == high else f'{_points(low)}-{_points(high)}'} | {count} |")
    lines += ["", f"## Pass rate per check (of the {rates[0][2] if rates else 0} submissions run)", "",
              "| check | points | passed | pass rate |", "|---|---|---|---|"]
    for check, passed, total in rates:
        share = passed / total if total else 0.0
        flag = " **low**" if total and share < LOW_PASS_RATE else ""
        lines.append(f"| {check.check_id}{' (hidden)' if check.hidden else ''} | {_points(check.points)} "
                     f"| {passed} | {100 * share:.0f}%{flag} |")
    if any(total and passed / total < LOW_PASS_RATE for _, passed, total in rates):
        lines += ["", f"A check marked **low** is passed by under {100 * LOW_PASS_RATE:.0f}% of the "
                      "submissions: look at the exercise and the check before the students."]
    look = [row for row in rows if row.status != "graded" or row.cells]
    lines += ["", "## Submissions to look at", ""]
    if not look:
        lines.append("None: every submission ran to the end without a failed cell outside the checks.")
    else:
        lines += ["| student | status | points | what happened |", "|---|---|---|---|"]
        for row in look:
            what = [row.reason] if row.reason else []
            what += [str(problem) for problem in row.cells[:3]]
            if len(row.cells) > 3:
                what.append(f"{len(row.cells) - 3} more failed cells")
            text = "; ".join(what).replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {row.student} | {row.status} | {_points(row.points)} | {text[:400]} |")
    late = [row for row in rows if row.days_late]
    if late:
        lines += ["", "## Late submissions", "", "| student | submitted | days late | penalty |", "|---|---|---|---|"]
        lines += [f"| {row.student} | {row.submitted_at} | {row.days_late} | {_points(row.penalty)} |" for row in late]
    lines += ["", "## Similar answers (for you to look at; nothing is deducted)", ""]
    if not similar:
        lines.append("No two submissions share an answer beyond the stub and the model answer.")
    for cell_id, identical, near in similar:
        lines.append(f"- {cell_id}: " + "; ".join(
            [f"identical (normalised): {', '.join(group)}" for group in identical]
            + [f"near-identical: {a} and {b} (similarity {ratio:.2f})" for a, b, ratio in near[:20]]
            + ([f"{len(near) - 20} more near-identical pairs"] if len(near) > 20 else [])))
    peaks = [row.peak_memory for row in rows if row.peak_memory]
    finished = [row.peak_memory for row in rows if row.peak_memory and row.status == "graded"]
    if peaks:
        lines += ["", f"Largest memory use of a graded run: {format_size(max(finished)) if finished else '-'}; "
                      f"of any run: {format_size(max(peaks))} (resident memory of a run's processes added "
                      "up, sampled every quarter second)."]
    return "\n".join(lines) + "\n"


def write(rows, assignment, out_dir, **options):
    """Write ``summary.md`` (and ``summary.png`` when there are rows); return the Markdown path."""
    out_dir = Path(out_dir)
    rows = [row for row in rows if row is not None]
    image = None
    if rows:
        _plot(out_dir / "summary.png", rows, assignment, pass_rates(rows, assignment))
        image = "summary.png"
    path = out_dir / "summary.md"
    path.write_text(render(rows, assignment, image=image, **options), encoding="utf-8")
    return path
