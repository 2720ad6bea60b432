"""The rendered notebooks: each notebook executed in quick mode, as an HTML page that works offline.

Why it exists: notebooks are committed without outputs, so nobody browsing the
repository sees a figure. ``make docs`` executes every notebook in quick mode
(:func:`genlab.course.notebook_runner.execute`) and exports it with nbconvert's
lab template, adapted in ``templates/genlab/``:

* formulas are typeset by MathJax served from the ``jupyter-server-mathjax``
  wheel (in requirements.lock), copied to ``OUT/mathjax/``: nbconvert's
  default loads MathJax from a CDN, so offline the LaTeX stays raw (``$D(x)$``);
* a button bar on every page: Open in Colab, View source, Download notebook
  (the source notebook, copied next to the page), All notebooks; the Colab and
  source links come from :mod:`genlab.course.notebook_runner`, the one place
  they are made;
* ``OUT/index.html`` links every page.

``scripts/check_rendered_math.py`` opens a page in headless Chromium, offline,
and checks that the formulas were typeset.

Usage::

    python -m genlab.course.html_docs [NOTEBOOK ...] [--out build/docs] [--no-execute]
"""

import argparse
import datetime
import html
import importlib.util
import shutil
import sys
import time
from pathlib import Path

import nbformat

from genlab import hardware, paths
from genlab.course import notebook_runner

TEMPLATES = Path(__file__).parent / "templates"
MATHJAX_CONFIG = "TeX-AMS-MML_HTMLorMML-full,Safe"  # a configuration the wheel ships (config/*.js)


def mathjax_source():
    """The MathJax folder inside the installed jupyter-server-mathjax wheel."""
    spec = importlib.util.find_spec("jupyter_server_mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("genlab docs: MathJax is not installed: `make install` installs it "
                         "(requirements.lock), or `pip install jupyter-server-mathjax`")
    folder = Path(spec.submodule_search_locations[0]) / "static"
    if not (folder / "MathJax.js").is_file():
        raise SystemExit(f"genlab docs: {folder} has no MathJax.js; reinstall jupyter-server-mathjax")
    return folder


def title(notebook):
    """The notebook's H1 title, without the leading '# '."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return "untitled notebook"


def export(notebook, name, note):
    """HTML text of an (executed or not) notebook node, with the button bar and offline MathJax."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="genlab", extra_template_basedirs=[str(TEMPLATES)])
    exporter.mathjax_url = f"mathjax/MathJax.js?config={MATHJAX_CONFIG}"
    resources = {"genlab": {"colab": notebook_runner.colab_url(name), "source": notebook_runner.source_url(name),
                            "download": name, "note": note}}
    body, _ = exporter.from_notebook_node(notebook, resources=resources)
    return body


def render(path, out_dir, execute=True, mode="quick"):
    """Write OUT/<name>.html (and a copy of the source notebook); return (title, status, seconds)."""
    from nbclient.exceptions import CellExecutionError

    path, out_dir = Path(path), Path(out_dir)
    source = nbformat.read(path, as_version=4)
    notebook = nbformat.read(path, as_version=4)
    status, start = "ok", time.perf_counter()
    if execute:
        try:
            notebook_runner.execute(notebook, mode=mode, cwd=path.parent)
        except CellExecutionError as error:
            status = "FAILED: " + str(error).strip().splitlines()[-1][:200]
    seconds = time.perf_counter() - start
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    note = (f"Executed in {mode} mode on {today}, {hardware.cpu()}." if execute else "Not executed: no outputs.") \
        + ("" if status == "ok" else " Execution stopped at an error (shown in the page).")
    (out_dir / path.with_suffix(".html").name).write_text(export(notebook, path.name, note), encoding="utf-8")
    nbformat.write(source, out_dir / path.name)
    return title(source), status, seconds


def index(entries, out_dir):
    """OUT/index.html: one link per rendered notebook, in order."""
    items = "\n".join(f'  <li><a href="{html.escape(Path(name).with_suffix(".html").name)}">'
                      f"{html.escape(heading)}</a>{'' if status == 'ok' else ' (execution failed)'}</li>"
                      for name, heading, status in entries)
    page = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<title>genlab notebooks</title>\n<style>body { font-family: sans-serif; max-width: 50em; "
            "margin: 2em auto; line-height: 1.6 } li { margin: 0.3em 0 }</style>\n</head>\n<body>\n"
            "<h1>genlab notebooks</h1>\n<p>Each notebook executed in quick mode, with its figures. "
            "Every page has buttons to open it in Colab, view its source or download it.</p>\n"
            f"<ol start=\"0\">\n{items}\n</ol>\n</body>\n</html>\n")
    (Path(out_dir) / "index.html").write_text(page, encoding="utf-8")


def build(notebook_paths, out_dir, execute=True, mode="quick"):
    """Render every notebook into ``out_dir`` with MathJax and the index; returns the failed names."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(mathjax_source(), out_dir / "mathjax", dirs_exist_ok=True)
    entries, failed = [], []
    for number, path in enumerate(notebook_paths, start=1):
        heading, status, seconds = render(path, out_dir, execute=execute, mode=mode)
        entries.append((Path(path).name, heading, status))
        if status != "ok":
            failed.append(Path(path).name)
        print(f"[{number}/{len(notebook_paths)}] {Path(path).name:<36} {seconds:6.1f} s  {status}", flush=True)
    index(entries, out_dir)
    print(f"wrote {out_dir / 'index.html'}")
    return failed


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m genlab.course.html_docs", description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="default: every numbered notebook")
    parser.add_argument("--out", default=None, help="output folder (default build/docs)")
    parser.add_argument("--no-execute", action="store_true", help="export without running (no outputs)")
    args = parser.parse_args(argv)
    targets = [Path(p) for p in args.notebooks] or notebook_runner.notebook_paths()
    missing = [str(p) for p in targets if not p.is_file()]
    if missing:
        raise SystemExit(f"genlab docs: no such notebook: {', '.join(missing)}")
    failed = build(targets, args.out or paths.build_dir() / "docs", execute=not args.no_execute)
    if failed:
        print(f"{len(failed)} notebook(s) stopped at an error: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
