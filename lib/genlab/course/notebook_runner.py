"""Run the course notebooks, and refresh their check cells' reference outputs (nbclient, nbformat).

Why it exists: the notebooks are committed without outputs except the
reference outputs of check cells (``# NBVAL_CHECK_OUTPUT``), which nbval
compares. Producing those by hand is error-prone, so ``refresh`` executes a
notebook in quick mode and keeps exactly the check cells' outputs, and
``run`` writes executed, readable copies (and HTML) into ``build/`` for
``make run``. Every notebook's Setup cell starts with :data:`SETUP_CELL`,
the one documented place that installs genlab on Colab. (Not to be confused
with :mod:`genlab.course.grading.versions`, which makes student versions.)

Usage::

    genlab notebooks refresh notebooks/05_dcgan.ipynb
    genlab notebooks run [NOTEBOOK ...] [--out build/notebooks] [--mode quick|full]
"""

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat

from genlab import paths

CHECK_MARKER = "NBVAL_CHECK_OUTPUT"
REPOSITORY = "https://github.com/genlab-course/genlab"
NOTEBOOK_DIR = paths.REPO_ROOT / "notebooks"
# The oldest Keras on which tests/test_gan.py's frozen-D proofs pass (pyproject.toml says the same).
KERAS_MINIMUM = (3, 15)

# The first lines of every notebook's Setup cell (tests/test_notebooks.py checks it).
# On Colab it fetches genlab and installs only what Colab lacks (TF-GAN, nbval),
# leaving Colab's own TensorFlow alone; where Colab's Keras is older than genlab
# needs, it upgrades Keras and stops with the one thing to do: restart the runtime.
# Elsewhere it does nothing.
SETUP_CELL = f"""\
# On Colab: fetch genlab, install what Colab lacks, check Keras (see README, "Colab").
import sys
if "google.colab" in sys.modules:
    !test -d /content/genlab || git clone -q --depth 1 {REPOSITORY} /content/genlab
    !pip install -q -r /content/genlab/requirements-colab.txt
    sys.path.insert(0, "/content/genlab/lib")
    from importlib.metadata import version
    if tuple(int(part) for part in version("keras").split(".")[:2]) < {KERAS_MINIMUM}:
        old_keras = version("keras")
        !pip install -q "keras>={KERAS_MINIMUM[0]}.{KERAS_MINIMUM[1]}"
        raise SystemExit(f"genlab needs Keras >= {KERAS_MINIMUM[0]}.{KERAS_MINIMUM[1]}; Colab had {{old_keras}}, "
                         "now upgraded. Restart the runtime (Runtime > Restart session) and run this cell again.")
"""


def colab_url(notebook_name):
    """Where "Open in Colab" leads for ``notebooks/<notebook_name>``.

    The one place every Colab link is made (notebook badges, the README's table, the rendered
    pages' button bar), so a release of student versions can point them elsewhere here alone.
    """
    url = REPOSITORY.replace("https://github.com/", "https://colab.research.google.com/github/")
    return f"{url}/blob/main/notebooks/{notebook_name}"


def source_url(notebook_name):
    """The notebook's page in the repository ("View source")."""
    return f"{REPOSITORY}/blob/main/notebooks/{notebook_name}"


def colab_badge(notebook_name):
    """Markdown for the "Open in Colab" badge of ``notebooks/<notebook_name>``."""
    return (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"({colab_url(notebook_name)})")


def is_check_cell(cell):
    """True for code cells whose output nbval compares."""
    return cell.cell_type == "code" and CHECK_MARKER in cell.source


def strip_outputs(notebook):
    """Clear outputs and execution counts of every code cell but the check cells."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        if not is_check_cell(cell):
            cell.outputs = []
            cell.execution_count = None
        # Check cells keep their execution count: nbval rejects a reference
        # output whose cell looks unrun ("Unrun reference cell has outputs").
    return notebook


def execute(notebook, mode="quick", timeout=600, cwd=NOTEBOOK_DIR, allow_errors=False):
    """Execute a notebook node in place with nbclient, in the given genlab mode."""
    from nbclient import NotebookClient

    saved = os.environ.get("GENLAB_MODE")
    os.environ["GENLAB_MODE"] = mode  # the kernel inherits this process's environment
    try:
        client = NotebookClient(notebook, kernel_name="python3", timeout=timeout,
                                resources={"metadata": {"path": str(cwd)}},
                                allow_errors=allow_errors,
                                # ipykernel 7 logs a warning about unencrypted TCP at every
                                # start; the kernel runs on this machine: keep its errors only.
                                extra_arguments=["--IPKernelApp.log_level=ERROR"])
        client.execute()
    finally:
        if saved is None:
            os.environ.pop("GENLAB_MODE", None)
        else:
            os.environ["GENLAB_MODE"] = saved
    return notebook


def refresh(path, timeout=600):
    """Execute ``path`` in quick mode and store only the check cells' outputs."""
    path = Path(path)
    notebook = nbformat.read(path, as_version=4)
    execute(notebook, mode="quick", timeout=timeout, cwd=path.parent)
    strip_outputs(notebook)
    nbformat.write(notebook, path)
    return notebook


def run(notebook_paths, out_dir=None, mode=None, timeout=1800, record=None):
    """Execute notebooks into ``out_dir`` (.ipynb + .html); one progress line each.

    Returns the list of notebooks that failed (execution stops at a failing
    cell, whose error is kept in the executed copy). With ``record`` (a JSON
    path, e.g. data/results/notebook_runs.json), each run's seconds, mode,
    status, date and machine are added to that results file, from which
    ``genlab report`` fills the README's "full mode, GPU" column.
    """
    from nbclient.exceptions import CellExecutionError
    from nbconvert import HTMLExporter

    from genlab import config

    mode = config.check_mode(mode)
    out_dir = Path(out_dir or paths.build_dir() / "notebooks")
    out_dir.mkdir(parents=True, exist_ok=True)
    failed = []
    for number, path in enumerate(notebook_paths, start=1):
        path = Path(path)
        notebook = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        status = "ok"
        try:
            execute(notebook, mode=mode, timeout=timeout, cwd=path.parent)
        except CellExecutionError as error:
            status = "FAILED: " + str(error).strip().splitlines()[-1][:200]
            failed.append(path)
        elapsed = time.perf_counter() - start
        nbformat.write(notebook, out_dir / path.name)
        html, _ = HTMLExporter().from_notebook_node(notebook)
        (out_dir / path.with_suffix(".html").name).write_text(html, encoding="utf-8")
        print(f"[{number}/{len(notebook_paths)}] {path.name:<36} {mode:<5} {elapsed:7.1f} s  {status}",
              flush=True)
        if record:
            _record_run(record, path.name, mode, elapsed, "ok" if status == "ok" else "failed", config.machine())
    return failed


def _record_run(results_file, name, mode, seconds, status, machine):
    import datetime
    import json

    results_file = Path(results_file)
    recorded = json.loads(results_file.read_text()) if results_file.is_file() else {
        "what": "whole-notebook runs: genlab notebooks run --record", "command": "genlab notebooks run --record",
        "runs": []}
    recorded["runs"].append({"notebook": name, "mode": mode, "seconds": round(seconds, 1), "status": status,
                             "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                             "machine": machine})
    results_file.write_text(json.dumps(recorded, indent=1) + "\n")


def notebook_paths():
    """The numbered notebooks in notebooks/, in order."""
    return sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="genlab notebooks", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    refresh_parser = commands.add_parser("refresh", help="execute in quick mode, keep only check-cell outputs")
    refresh_parser.add_argument("notebooks", nargs="+")
    run_parser = commands.add_parser("run", help="execute notebooks into build/ (ipynb + html)")
    run_parser.add_argument("notebooks", nargs="*", help="default: every numbered notebook")
    run_parser.add_argument("--out", default=None, help="output folder (default build/notebooks)")
    run_parser.add_argument("--mode", choices=("quick", "full"), default=None)
    run_parser.add_argument("--record", action="store_true",
                            help="add each run's seconds to data/results/notebook_runs.json (then genlab report)")
    args = parser.parse_args(argv)
    if args.command == "refresh":
        for name in args.notebooks:
            start = time.perf_counter()
            refresh(name)
            print(f"refreshed {name} in {time.perf_counter() - start:.1f} s")
        return 0
    targets = args.notebooks or notebook_paths()
    failed = run(targets, out_dir=args.out, mode=args.mode,
                 record=paths.REPO_ROOT / "data" / "results" / "notebook_runs.json" if args.record else None)
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(p.name for p in failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
