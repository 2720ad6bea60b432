"""No dangling references: every file, command and module the documents and the code cite exists.

Scans the Markdown documents, the notebooks (markdown and code) and the Python
sources for relative links, repository paths in code spans, ``genlab ...``
and ``make ...`` commands, and ``python -m`` modules, and checks each against
the repository, the CLI's parser and the Makefile. (A STYLE.md cited by the
CLI while missing from the repository, or a lint hint naming
``python -m genlab.notebooks refresh``, is what this catches.)
"""

import importlib.util
import re

import nbformat
import pytest

from genlab import paths
from genlab.course import cli

ROOT = paths.REPO_ROOT
# Cited files another open issue adds; remove an entry once its file is in the repository.
PENDING = {}
# Files whose citations are made up on purpose (test fixtures).
NOT_SCANNED = {"tests/test_references.py": "its own examples of missing files",
               "tests/test_timing.py": "fixture notebooks named 00_setup.ipynb and 08_eval.ipynb",
               "tests/test_grading_scenario.py": "the files of the tiny course it builds in a temporary folder"}
# Results files a command writes on demand (cited as where that command writes).
ON_DEMAND = {"data/results/test_times.json": "genlab times --record",
             "data/results/notebook_runs.json": "genlab notebooks run --record"}
TOP = ("notebooks/", "lib/", "tests/", "data/", "docs/", "scripts/", "benchmarks/", ".ci/")
ROOT_FILES = re.compile(r"^(?:[A-Z]+\.md|LICENSE|Makefile|pyproject\.toml|environment\.yml|requirements[\w-]*\.(?:txt|lock))$")
PLACEHOLDER = re.compile(r"[*<>{}$]|NN|\.\.\.|XX|YOUR|<name>")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"```(?:bash|sh|shell|console)\n(.*?)```", re.DOTALL)  # commands, not printed output
ANY_FENCE = re.compile(r"```[a-z]*\n.*?```", re.DOTALL)
LINK = re.compile(r"\]\(([^)\s]+)\)")
PATH = re.compile(r"(?<![\w/.-])((?:\.ci|[a-z]+)/[\w./-]*\w|[A-Z]+\.md|LICENSE|Makefile|pyproject\.toml|"
                  r"environment\.yml|requirements[\w-]*\.(?:txt|lock))(?![\w/])")
COMMAND_START = r"(?:^|&&|;|\||\$\(|`)\s*(?:[\w./-]*/)?"
GENLAB = re.compile(COMMAND_START + r"genlab[ \t]+([a-z][\w-]*)(?:[ \t]+([a-z][\w-]*))?", re.MULTILINE)
PYTHON_M = re.compile(r"python3?[ \t]+-m[ \t]+(genlab[\w.]*)")
MAKE = re.compile(COMMAND_START + r"make[ \t]+([a-z][\w-]*)", re.MULTILINE)


def _documents():
    """(name, text, folder) of every document and source that cites files or commands."""
    found = []
    for path in [*ROOT.glob("*.md"), *(ROOT / "docs").glob("*.md"), ROOT / "data" / "README.md",
                 ROOT / "benchmarks" / "README.md", ROOT / "Makefile", ROOT / ".ci" / "run",
                 *sorted((ROOT / "lib").rglob("*.py")), *sorted((ROOT / "scripts").glob("*.py")),
                 *sorted((ROOT / "benchmarks").glob("*.py")), *sorted((ROOT / "tests").glob("*.py"))]:
        if path.is_file() and str(path.relative_to(ROOT)) not in NOT_SCANNED:
            found.append((str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"), path.parent))
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        text = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
        found.append((str(path.relative_to(ROOT)), text, path.parent))
    return found


DOCUMENTS = _documents()


def _code(text, name):
    """Where a document gives commands: shell blocks and code spans (in a module: its docstrings' and
    messages' code spans); all of a Makefile or a shell script."""
    if name.endswith(("Makefile", "run")):
        return text
    return "\n".join(FENCE.findall(text) + CODE_SPAN.findall(ANY_FENCE.sub("", text)))


def _exists(relative):
    relative = relative.rstrip("/.").split("#")[0].split("::")[0]
    return relative in PENDING or relative in ON_DEMAND or (ROOT / relative).exists()


@pytest.mark.parametrize("name,text,folder", DOCUMENTS, ids=[d[0] for d in DOCUMENTS])
def test_cited_files_exist(name, text, folder):
    missing = set()
    if name.endswith(".md"):
        for target in LINK.findall(text):
            if target.startswith(("http://", "https://", "#", "mailto:")) or PLACEHOLDER.search(target):
                continue
            resolved = (folder / target.split("#")[0]).resolve()
            if not (resolved.exists() or str(resolved.relative_to(ROOT.resolve())) in PENDING):
                missing.add(target)
    for span in CODE_SPAN.findall(text) + ([text] if name.endswith((".py", "Makefile", "run")) else []):
        for match in PATH.finditer(span):
            candidate, after = match.group(1), span[match.end():match.end() + 1]
            if after in ("<", "{", "*") or PLACEHOLDER.search(candidate) or "build/" in candidate or candidate.startswith(("tmp/", "content/")):
                continue
            if candidate.startswith(TOP) or ROOT_FILES.match(candidate):
                if not _exists(candidate):
                    missing.add(candidate)
    assert not missing, f"{name} cites files that do not exist: {sorted(missing)}"


def _cli_commands():
    parser, subparsers = cli.build_parser()
    commands = {}
    for action in parser._subparsers._group_actions:  # argparse keeps subcommands here
        for command, sub in action.choices.items():
            nested = [a for a in sub._actions if a.__class__.__name__ == "_SubParsersAction"]
            commands[command] = set(nested[0].choices) if nested else None
    commands["notebooks"] = {"refresh", "run"}
    return commands


@pytest.mark.parametrize("name,text,folder", DOCUMENTS, ids=[d[0] for d in DOCUMENTS])
def test_cited_commands_and_modules_exist(name, text, folder):
    code = _code(text, name)
    commands = _cli_commands()
    targets = set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    problems = set()
    for command, action in GENLAB.findall(code):
        if command not in commands:
            problems.add(f"genlab {command}")
        elif commands[command] and action and action not in commands[command]:
            problems.add(f"genlab {command} {action}")
    for module in PYTHON_M.findall(code):
        if importlib.util.find_spec(module.rstrip(".")) is None:
            problems.add(f"python -m {module}")
    for target in MAKE.findall(code):
        if target not in targets:
            problems.add(f"make {target}")
    assert not problems, f"{name} cites commands that do not exist: {sorted(problems)}"


def test_the_scanner_finds_what_it_should():
    text = "see `notebooks/99_missing.ipynb`, run `genlab frobnicate` or `python -m genlab.nope refresh`, `make nope`"
    assert PATH.findall(CODE_SPAN.findall(text)[0]) == ["notebooks/99_missing.ipynb"]
    assert not _exists("notebooks/99_missing.ipynb") and _exists("STYLE.md")
    code = _code(text, "x.md")
    assert [c for c, _ in GENLAB.findall(code)] == ["frobnicate"]
    assert PYTHON_M.findall(code) == ["genlab.nope"] and importlib.util.find_spec("genlab.nope") is None
    assert MAKE.findall(code) == ["nope"]
    assert "assign" in _cli_commands() and "validate" in _cli_commands()["assign"]
