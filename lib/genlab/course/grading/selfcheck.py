"""``genlab.check("<exercise>")``: run an exercise's visible checks inside the notebook, as the grader would.

Why it exists: on Colab a student has no shell for ``genlab assign check``.
Like otter's ``grader.check``, :func:`check` runs, in the live kernel, the
visible check cells of one exercise (a check id, or an exercise name that
covers the ``<exercise>.<part>`` checks) and prints PASS or FAIL with points
per check. The verdict follows the grader's rule (nbval with ``--nbval-lax``
on a ``# NBVAL_CHECK_OUTPUT`` cell): the cell must run without an error *and*
print its reference output, both sanitised with the repository's
``tests/nbval_sanitize.cfg``. The check code and its reference come from the
student version's cell metadata (``genlab.source``, ``genlab.reference``), so
a check edited in the student's copy still runs as handed out.

The notebook is found, in order: the path given; Colab's current notebook
(``google.colab._message`` "get_ipynb", the request Colab's own tools use);
Jupyter's ``JPY_SESSION_NAME`` or the ``__session__`` / ``__vsc_ipynb_file__``
variables. Hidden checks are not in the student's notebook, so the grade may
be lower than the visible points: the summary line says so.
"""

import configparser
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from genlab.course.grading import authoring


@dataclass
class Verdict:
    check_id: str
    points: float
    passed: bool
    why: str = ""


def _source(value):
    return "".join(value) if isinstance(value, list) else str(value or "")


def find_notebook(path=None, namespace=None):
    """The notebook as a dict (see the module docstring for where it is looked for).

    Raises:
        FileNotFoundError: no notebook found (the message says to pass its path).
    """
    if path is not None:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    if "google.colab" in sys.modules:
        from google.colab import _message  # only on Colab

        return _message.blocking_request("get_ipynb", request="", timeout_sec=60)["ipynb"]
    namespace = namespace or {}
    for candidate in (os.environ.get("JPY_SESSION_NAME"), namespace.get("__session__"),
                      namespace.get("__vsc_ipynb_file__")):
        if candidate and str(candidate).endswith(".ipynb") and Path(candidate).is_file():
            return json.loads(Path(candidate).read_text(encoding="utf-8"))
    raise FileNotFoundError("genlab.check cannot tell which notebook this is: pass its path, e.g. "
                            "genlab.check('mean', '05_dcgan.ipynb') (save the notebook first)")


def _released_checks(folders):
    """check id -> (source, reference) from the student versions in ``folders`` (a Colab copy may
    have lost the cells' ``genlab`` metadata: the released notebook the Setup cell cloned still has it)."""
    found = {}
    for folder in folders:
        for path in sorted(Path(folder).glob("*.ipynb")):
            try:
                cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
            except (OSError, ValueError):
                continue
            for cell in cells:
                meta = (cell.get("metadata") or {}).get(authoring.METADATA_KEY) or {}
                if isinstance(meta, dict) and "check" in meta and "reference" in meta:
                    found.setdefault(meta["check"], (meta.get("source") or _source(cell.get("source")),
                                                     meta["reference"]))
    return found


def visible_checks(notebook, name, reference_dirs=()):
    """[(check header, source, reference outputs)] of the visible checks named ``name`` or in exercise ``name``."""
    released = None
    found = []
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        meta = (cell.get("metadata") or {}).get(authoring.METADATA_KEY) or {}
        source = meta.get("source") or _source(cell.get("source"))
        try:
            header = authoring.parse_check_header(source)
        except authoring.AuthoringError:
            continue
        if header and not header["hidden"] and name in (header["check_id"],
                                                         authoring.exercise_of(header["check_id"])):
            if "reference" not in meta:
                released = _released_checks(reference_dirs) if released is None else released
                if header["check_id"] in released:
                    source, reference = released[header["check_id"]]
                    found.append((header, source, reference))
                    continue
            found.append((header, source, meta.get("reference", cell.get("outputs", []))))
    return found


def _sanitizers():
    from genlab import paths

    config = configparser.ConfigParser(interpolation=None)
    config.read(paths.REPO_ROOT / "tests" / "nbval_sanitize.cfg")
    return [(re.compile(config[section]["regex"]), config[section].get("replace", ""))
            for section in config.sections() if "regex" in config[section]]


def _text(outputs, sanitizers):
    """stdout, stderr and results of a list of outputs, sanitised: what nbval compares."""
    parts = {}
    for output in outputs:
        if output.get("output_type") == "stream":
            key, text = output.get("name", "stdout"), _source(output.get("text"))
        elif output.get("output_type") == "execute_result":
            key, text = "result", _source(output.get("data", {}).get("text/plain"))
        else:
            continue
        parts[key] = parts.get(key, "") + text
    for key, text in parts.items():
        for pattern, replacement in sanitizers:
            text = pattern.sub(replacement, text)
        parts[key] = text
    return parts


def run_checks(checks, shell):
    """Run each check's source in ``shell`` (an IPython shell); return [:class:`Verdict`]."""
    from IPython.utils.capture import capture_output

    sanitizers = _sanitizers()
    verdicts = []
    for header, source, reference in checks:
        with capture_output(display=False) as captured:
            result = shell.run_cell(source, store_history=False)
        produced = [{"output_type": "stream", "name": "stdout", "text": captured.stdout},
                    {"output_type": "stream", "name": "stderr", "text": captured.stderr}]
        if result.result is not None:
            produced.append({"output_type": "execute_result", "data": {"text/plain": repr(result.result)}})
        error = result.error_in_exec or result.error_before_exec
        want, got = _text(reference, sanitizers), {k: v for k, v in _text(produced, sanitizers).items() if v}
        if error is not None:
            why = f"{type(error).__name__}: {error}"
        elif want != got:
            why = "output differs from the reference: expected " + repr(want.get("stdout", ""))[:200] + \
                  ", got " + repr(got.get("stdout", ""))[:200]
        else:
            why = ""
        verdicts.append(Verdict(header["check_id"], header["points"], not why, why))
    return verdicts


def check(name, notebook=None, shell=None, echo=print, reference_dirs=None):
    """Run the visible checks of ``name`` here and print the verdict; returns the :class:`Verdict` list.

    ``reference_dirs``: where released student versions are (default: genlab's ``notebooks/``
    and the current folder), for a notebook whose check cells lost their metadata.
    """
    if reference_dirs is None:
        from genlab import paths

        reference_dirs = [paths.REPO_ROOT / "notebooks", Path.cwd()]
    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is None:
            raise RuntimeError("genlab.check runs inside Jupyter or Colab; in a shell use "
                               "`genlab assign check my_copy.ipynb`")
    checks = visible_checks(find_notebook(notebook, shell.user_ns), name, reference_dirs)
    if not checks:
        raise KeyError(f"no visible check or exercise named {name!r} in this notebook")
    verdicts = run_checks(checks, shell)
    for verdict in verdicts:
        score = f"{_points(verdict.points if verdict.passed else 0)}/{_points(verdict.points)}"
        echo(f"  {'PASS' if verdict.passed else 'FAIL'}  {verdict.check_id:<28} {score}")
        if verdict.why:
            echo(f"        {verdict.why[:300]}")
    earned = sum(v.points for v in verdicts if v.passed)
    echo(f"{name}: {_points(earned)}/{_points(sum(v.points for v in verdicts))} points on the visible checks "
         "(hidden checks and questions scored by hand are graded later)")
    return verdicts


def _points(value):
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"
