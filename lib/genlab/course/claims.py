"""docs/claims.md: each claim of the course that a measurement can show, beside genlab's figure and verdict.

Why it exists: the course (lectures, section plan, exam) states many things a
measurement can confirm or refute ("PixelCNN trains faster than PixelRNN",
"label smoothing stabilises training", "diffusion beats GANs"). The claims
table, ``data/claims.toml``, holds one row per claim: where the course says
it, the notebook section that measures it, the figure **by reference** to a
results file and a path inside it (never typed), and the verdict with a
one-sentence why. This module resolves every reference and writes the page;
``genlab report`` calls it beside docs/results.md, and ``--check`` compares.

A figure reads named values from a JSON file with a small path syntax::

    sections.mnist.rows[name=baseline: strong D, non-saturating].mean.FID
    guidance_sweep.by_w["2.0"].class_accuracy       # a key with dots in it
    sections.mechanism.mnist.saturating[-1]          # a list index

``derived`` values and the optional ``check`` are arithmetic or comparisons
over the named values (``+ - * / abs min max len and or not``); a verdict whose
check is false is flagged on the page and fails tests/test_claims.py, so a
verdict cannot silently outlive the figures it rests on. A figure that names
``progress`` (an object with ``complete``, ``runs_finished``, ``runs_planned``,
as in a results file written run by run) says how many runs it rests on, and
a value not yet in such an unfinished file renders as pending instead of an
error. Any other missing file or key is an error naming the claim and the file.

Reads TOML and JSON only (tomllib, stdlib): no TensorFlow.
"""

import ast
import json
import operator
import re
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser is the tomli package, if installed
    try:
        import tomli as tomllib
    except ModuleNotFoundError:
        tomllib = None

TABLE = Path("data/claims.toml")
PAGE = Path("docs/claims.md")
VERDICTS = ("holds", "holds with conditions", "does not hold here", "not measured")
REQUIRED = ("id", "topic", "source", "quote", "claim", "notebook", "section", "verdict", "why")
_SEGMENT = re.compile(r"\[([^\]]*)\]|([^.\[\]]+)")


class ClaimError(SystemExit):
    """A claims-table row that cannot be resolved; ``genlab report`` prints the message and exits 1."""


def _fail(claim, message):
    raise ClaimError(f"genlab report: claim {claim!r} in {TABLE}: {message}")


def parse_path(path):
    """``a.b[name=x][-1]["2.0"]`` -> [("key", "a"), ("key", "b"), ("match", ("name", "x")), ("index", -1), ...]."""
    segments, position = [], 0
    while position < len(path):
        if path[position] == ".":
            position += 1
            continue
        match = _SEGMENT.match(path, position)
        if not match:
            raise ValueError(f"cannot read the path {path!r} at character {position}")
        bracket, key = match.groups()
        if key is not None:
            segments.append(("key", key.strip()))
        elif re.fullmatch(r"-?\d+", bracket.strip()):
            segments.append(("index", int(bracket)))
        elif bracket.strip()[:1] in "\"'" and bracket.strip()[-1:] == bracket.strip()[:1]:
            segments.append(("key", bracket.strip()[1:-1]))
        elif "=" in bracket:
            field, value = bracket.split("=", 1)
            segments.append(("match", (field.strip(), value.strip())))
        else:
            raise ValueError(f"cannot read [{bracket}] in the path {path!r}: use [index], [\"key\"] or [field=value]")
        position = match.end()
    return segments


class Missing(LookupError):
    """A path that does not resolve; ``where`` is the part of it that did."""

    def __init__(self, where):
        super().__init__(where)
        self.where = where


def lookup(record, path):
    """The value at ``path`` (see :func:`parse_path`) in a loaded JSON ``record``; :class:`Missing` if absent."""
    value, walked = record, []
    for kind, key in parse_path(path):
        if kind == "key" and isinstance(value, dict) and key in value:
            value = value[key]
        elif kind == "index" and isinstance(value, list) and -len(value) <= key < len(value):
            value = value[key]
        elif kind == "match" and isinstance(value, list):
            found = [item for item in value if isinstance(item, dict) and str(item.get(key[0])) == key[1]]
            if len(found) != 1:
                raise Missing(".".join(walked) + f"[{key[0]}={key[1]}] ({len(found)} items match)")
            value = found[0]
        else:
            shown = {"key": key, "index": f"[{key}]", "match": f"[{key[0]}={key[1] if kind == 'match' else ''}]"}[kind]
            raise Missing((".".join(walked) + "." if walked else "") + str(shown))
        walked.append(str(key) if kind == "key" else f"[{key}]")
    return value


_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
              ast.USub: operator.neg, ast.Not: operator.not_, ast.Lt: operator.lt, ast.LtE: operator.le,
              ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Eq: operator.eq, ast.NotEq: operator.ne}
_FUNCTIONS = {"abs": abs, "min": min, "max": max, "len": len}


def evaluate(expression, values):
    """Arithmetic, comparisons and and/or/not over the named ``values``; nothing else is allowed."""
    def walk(node):
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in values:
                raise ValueError(f"{expression!r} names {node.id!r}, which is not one of {sorted(values)}")
            return values[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](walk(node.operand))
        if isinstance(node, ast.BoolOp):
            results = [walk(item) for item in node.values]
            return all(results) if isinstance(node.op, ast.And) else any(results)
        if isinstance(node, ast.Compare) and all(type(op) in _OPERATORS for op in node.ops):
            left, result = walk(node.left), True
            for op, right_node in zip(node.ops, node.comparators):
                right = walk(right_node)
                result = result and _OPERATORS[type(op)](left, right)
                left = right
            return result
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS
                and not node.keywords):
            return _FUNCTIONS[node.func.id](*(walk(arg) for arg in node.args))
        raise ValueError(f"{expression!r}: only numbers, names, + - * /, comparisons, and/or/not and "
                         f"abs/min/max are allowed")
    return walk(ast.parse(expression, mode="eval"))


def load(root="."):
    """The claims table's rows (dicts), checked for the fields every row needs and a verdict from :data:`VERDICTS`."""
    path = Path(root) / TABLE
    if not path.is_file():
        raise ClaimError(f"genlab report: {path} is missing; restore it with git checkout")
    if tomllib is None:
        raise ClaimError("genlab report: reading data/claims.toml needs Python 3.11 (tomllib) or "
                         "`pip install tomli` on Python 3.10")
    try:
        rows = tomllib.loads(path.read_text(encoding="utf-8")).get("claim", [])
    except tomllib.TOMLDecodeError as error:
        raise ClaimError(f"genlab report: {path} is not valid TOML ({error})") from None
    seen = set()
    for number, row in enumerate(rows, 1):
        name = row.get("id", f"row {number}")
        missing = [field for field in REQUIRED if not row.get(field)]
        if missing:
            _fail(name, f"lacks {', '.join(missing)}")
        if name in seen:
            _fail(name, "the id is used twice")
        seen.add(name)
        if row["verdict"] not in VERDICTS:
            _fail(name, f"verdict {row['verdict']!r} is not one of {', '.join(VERDICTS)}")
        if row["verdict"] == "not measured" and not isinstance(row.get("issue"), int):
            _fail(name, "a 'not measured' row names the issue that will measure it (issue = N), or 0 for none yet")
        if row["verdict"] != "not measured" and not row.get("figure"):
            _fail(name, f"a row with verdict {row['verdict']!r} needs at least one [[claim.figure]]")
    return rows


class _Files:
    """Loaded JSON files under ``root``, each read once."""

    def __init__(self, root):
        self.root, self.loaded = Path(root), {}

    def get(self, claim, name):
        if name not in self.loaded:
            path = self.root / name
            if not path.is_file():
                _fail(claim, f"its figure reads {name}, which is missing; restore it with git checkout or "
                             f"run the command that writes it")
            try:
                self.loaded[name] = json.loads(path.read_text(encoding="utf-8"))
            except ValueError as error:
                _fail(claim, f"{name} is not valid JSON ({error})")
        return self.loaded[name]


def _progress(claim, files, figure):
    """(complete, text) for a figure's ``progress`` object, or (True, '') without one."""
    if not figure.get("progress"):
        return True, ""
    try:
        state = lookup(files.get(claim, figure["file"]), figure["progress"])
    except Missing as missing:
        _fail(claim, f"{figure['file']} has no {missing.where} (its progress)")
    complete = bool(state.get("complete", True))
    if complete:
        return True, ""
    return False, f"{state.get('runs_finished', '?')} of {state.get('runs_planned', '?')} runs so far"


def resolve(claim, figure, files):
    """{'text', 'values', 'check' (True/False/None), 'files'} for one figure of one claim."""
    name = claim["id"]
    complete, progress = _progress(name, files, figure)
    values, used, pending = {}, [], []
    for key, spec in figure.get("values", {}).items():
        spec = spec if isinstance(spec, dict) else {"path": spec}
        source = spec.get("file", figure.get("file"))
        if not source:
            _fail(name, f"value {key!r} names no file (set file = ... on the figure or the value)")
        used.append(source)
        try:
            values[key] = lookup(files.get(name, source), spec["path"])
        except Missing as missing:
            if not complete and source == figure.get("file"):
                pending.append(key)
                continue
            _fail(name, f"{source} has no {missing.where} (value {key!r}, path {spec['path']!r})")
        except ValueError as error:
            _fail(name, str(error))
    if pending:
        text = figure.get("pending", "not in the file yet") + f" ({progress})"
        return {"text": text, "values": values, "check": None, "files": used}
    try:
        for key, expression in figure.get("derived", {}).items():
            values[key] = evaluate(expression, values)
        text = figure["format"].format(**values)
        check = bool(evaluate(figure["check"], values)) if figure.get("check") else None
    except (KeyError, ValueError, TypeError, ZeroDivisionError) as error:
        _fail(name, f"its figure cannot be formatted ({type(error).__name__}: {error})")
    if progress:
        text += f" ({progress})"
    return {"text": text, "values": values, "check": check, "files": used}


def resolve_all(root="."):
    """[(row, [resolved figure, ...])] for every row of the claims table."""
    files = _Files(root)
    return [(row, [resolve(row, figure, files) for figure in row.get("figure", [])]) for row in load(root)], files


def _provenance(record):
    """'date, machine, `command`' of one record (a file, its evaluation or one of its sections)."""
    parts = [str(record[key]) for key in ("date", "machine") if key in record]
    if "command" in record:
        parts.append(f"`{str(record['command']).strip()}`")
    return ", ".join(parts)


def _source_lines(name, record):
    """The files list: a file's own provenance, then its evaluation's and its sections' where they differ."""
    lines = [f"- `{name}`: {_provenance(record)}"]
    evaluation = record.get("evaluation")
    if isinstance(evaluation, dict) and (evaluation.get("command") or evaluation.get("date")):
        lines.append(f"  - evaluation: {_provenance(evaluation)}")
    sections = record.get("sections")
    if isinstance(sections, dict):
        for key, section in sections.items():
            if isinstance(section, dict) and (section.get("command") or section.get("date")):
                lines.append(f"  - section `{key}`: {_provenance(section)}")
    return lines


def _cell(text):
    return " ".join(str(text).split()).replace("|", "\\|")


def _verdict(row, figures):
    text = f"**{row['verdict']}**"
    if row["verdict"] == "not measured":
        issue = int(row["issue"])
        text += f", because {row['why']}" + (f" (issue {issue})" if issue else " (no issue yet)")
    else:
        text += f": {row['why']}"
    for figure, spec in zip(figures, row.get("figure", [])):
        if figure["check"] is False:
            text += (f" **Check failed**: the figures no longer show this verdict (`{spec['check']}` is false); "
                     f"review this row of {TABLE.as_posix()}.")
    return text


def counts(resolved):
    """{verdict: number of rows} in :data:`VERDICTS` order."""
    return {verdict: sum(row["verdict"] == verdict for row, _ in resolved) for verdict in VERDICTS}


def build(root="."):
    """The text of docs/claims.md for the repository at ``root``."""
    resolved, files = resolve_all(root)
    numbers = counts(resolved)
    lines = ["# Course claims, measured", "",
             f"<!-- Generated by `genlab report` from {TABLE.as_posix()} and the results files and manifests its "
             "rows name. Do not edit: change the table (or re-run the commands the files name), then run "
             "`genlab report`. -->", "",
             "Each claim of the course that a measurement can show (lecture 9's notes and slides, the section 5 "
             "plan, lectures 13-14, the exam questions), the notebook section that measures it, the figure, read "
             "from the file that recorded the run, and the verdict: **holds**; **holds with conditions**; **does "
             "not hold here**, at genlab's scale (MNIST digits or a 2-D ring of Gaussians, small networks, "
             "a 2-core CPU); or **not measured**, with the reason and the issue that will measure it. FID and "
             "FD are lower-is-better and depend on N and on the feature space: compare them only within a row. "
             "The files and their date, machine and command are listed at the end; "
             "[results.md](results.md) shows them in full.", "",
             f"{len(resolved)} claims: " + ", ".join(f"{n} {v}" for v, n in numbers.items()) + ".", ""]
    topics = []
    for row, _ in resolved:
        if row["topic"] not in topics:
            topics.append(row["topic"])
    number = 0
    for topic in topics:
        lines += [f"## {topic}", "", "| # | the course says | measured in | figure | verdict |",
                  "|---|---|---|---|---|"]
        for row, figures in resolved:
            if row["topic"] != topic:
                continue
            number += 1
            notebook = row["notebook"]
            where = f"[{notebook[:2]}](../notebooks/{notebook}.ipynb), {row['section']}"
            figure = "; ".join(f["text"] for f in figures) or "-"
            said = f"{row['claim']} (*\"{row['quote']}\"*, {row['source']})"
            lines.append(f"| {number} | {_cell(said)} | {_cell(where)} | {_cell(figure)} | "
                         f"{_cell(_verdict(row, figures))} |")
        lines.append("")
    lines += ["## The files", ""]
    for name in sorted(files.loaded):
        lines += _source_lines(name, files.loaded[name])
    return "\n".join(line.rstrip() for line in lines).rstrip() + "\n"
