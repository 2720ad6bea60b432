"""``genlab assign release``: the tree students get, with every link pointing at it.

Why it exists: the instructor repository holds the solutions (``### BEGIN
SOLUTION``), the hidden checks and the tests' answer files; its Colab badges
and Setup cells open and clone that repository. Students must get a
separate, public tree: the same course (library, data, README) with each
assignment notebook replaced by its student version (:mod:`~.versions`),
every "Open in Colab" link rewritten to
``colab.research.google.com/github/<student repo>/blob/<branch>/...`` and
every Setup cell's ``git clone`` to ``--branch <branch> https://github.com/<student
repo>``. The instructor publishes the folder (e.g. as its own public
repository) and keeps the instructor repository private.

Only the paths in :data:`INCLUDE` are copied (``tests/``, ``scripts/``,
``docs/`` and anything else stay behind), and :func:`audit` refuses the
release if a solution region, a hidden check, an instructor notebook or a
link to anything but the student tree is left in it.
"""

import fnmatch
import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat

from genlab.course.grading import authoring, versions as nbtools

# Copied when present (git-tracked files when the source is a git repository).
INCLUDE = ["README.md", "LICENSE", "pyproject.toml", "requirements*.txt", "environment.yml",
           "lib/*", "data/*", "notebooks/*", "tests/nbval_sanitize.cfg"]
NEVER = ["*.egg-info/*", "*__pycache__*", "*.pyc"]
MANIFEST = ".genlab-release.json"
_COLAB = re.compile(r"https://colab\.research\.google\.com/github/([^/\s)]+/[^/\s)]+)/blob/([^/\s)]+)/([^\s)\"']+)")
_CLONE = re.compile(r"git clone ((?:-\S+ |--\S+ \S+ )*)https://github\.com/([^/\s]+/[^/\s]+?)(\.git)?(?=[\s\"'])")


class ReleaseError(ValueError):
    """The release would leak instructor material or point outside itself (message says what)."""


def _files(root):
    try:
        listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, check=True)
        names = [name for name in listed.stdout.decode().split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        names = [str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and ".git" not in p.parts]
    return sorted(n for n in names if any(fnmatch.fnmatch(n, pattern) for pattern in INCLUDE)
                  and not any(fnmatch.fnmatch(n, pattern) for pattern in NEVER) and (root / n).is_file())


def rewrite_links(text, repo, branch):
    """Point every Colab link and ``git clone`` of a GitHub repository at ``repo`` / ``branch``."""
    text = _COLAB.sub(lambda m: f"https://colab.research.google.com/github/{repo}/blob/{branch}/{m.group(3)}", text)

    def clone(match):
        options = re.sub(r"--branch \S+ |-b \S+ ", "", match.group(1))
        return f"git clone {options}--branch {branch} https://github.com/{repo}"
    return _CLONE.sub(clone, text)


def _notebook(source, repo, branch):
    """The released form of a notebook: the student version if it is an assignment; links rewritten."""
    instructor, assignment = nbtools.read_instructor(source)
    notebook = (nbtools.student_version(instructor, assignment)
                if assignment.answers or assignment.checks or assignment.manual else instructor)
    for cell in notebook.cells:
        cell.source = rewrite_links(cell.source, repo, branch)
    return nbtools.render(notebook)


def release(source_root, out, repo, branch="main", echo=print):
    """Write the student tree of ``source_root`` to ``out``; returns the list of released paths.

    Raises:
        ReleaseError: ``out`` is inside the source, is not empty and not an earlier release,
            or :func:`audit` finds instructor material or a foreign link.
    """
    source_root, out = Path(source_root).resolve(), Path(out).resolve()
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repo):
        raise ReleaseError(f"--repo {repo!r} must be OWNER/NAME (the public GitHub repository students clone)")
    if out == source_root or source_root in out.parents:
        raise ReleaseError(f"--out {out} is inside the instructor repository: release to a folder outside it")
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST).exists():
        raise ReleaseError(f"--out {out} is not empty and not an earlier release: choose an empty folder")
    previous = json.loads((out / MANIFEST).read_text())["files"] if (out / MANIFEST).exists() else []
    names = _files(source_root)
    for name in names:
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        path = source_root / name
        if name.endswith(".ipynb"):
            target.write_text(_notebook(path, repo, branch), encoding="utf-8")
        elif name.endswith(".md"):
            target.write_text(rewrite_links(path.read_text(encoding="utf-8"), repo, branch), encoding="utf-8")
        else:
            shutil.copy2(path, target)
    for stale in set(previous) - set(names):  # files a newer release no longer has
        (out / stale).unlink(missing_ok=True)
    (out / MANIFEST).write_text(json.dumps({"repo": repo, "branch": branch, "files": names}, indent=1) + "\n")
    warnings = []
    problems = audit(out, source_root, repo, branch, warnings)
    for warning in warnings:
        echo(f"warning: {warning} (a one-line answer that genlab's library implements the same way)")
    if problems:
        raise ReleaseError("the release is not safe to publish:\n  " + "\n  ".join(problems[:20]))
    echo(f"released {len(names)} files to {out} for https://github.com/{repo} (branch {branch}); "
         f"audit passed: no solution, hidden check or instructor link")
    return names


def _regions(source_root):
    """Solution regions and hidden checks of the instructor notebooks: text that must not leave."""
    secrets = []
    for path in sorted((source_root / "notebooks").glob("*.ipynb")):
        instructor = nbformat.read(str(path), as_version=4)
        for cell in instructor.cells:
            header = None
            if cell.cell_type == "code":
                try:
                    header = authoring.parse_check_header(cell.source)
                except authoring.AuthoringError:
                    pass
            if header and header["hidden"]:
                body = [line for line in cell.source.splitlines()[1:] if line.strip()
                        and authoring.CHECK_OUTPUT_MARKER not in line]
                secrets.append((f"{path.name}: hidden check {header['check_id']}", "\n".join(body)))
            inside, block = False, []
            for line in cell.source.splitlines():
                if line.strip() == authoring.BEGIN_SOLUTION:
                    inside, block = True, []
                elif line.strip() == authoring.END_SOLUTION:
                    inside = False
                    text = "\n".join(block)
                    if len(text.strip()) >= 12:
                        secrets.append((f"{path.name}: solution in cell {cell.get('id')}", text))
                elif inside:
                    block.append(line)
    return secrets


def _normal(text):
    return re.sub(r"\s+", " ", text).strip()


def audit(tree, source_root, repo, branch, warnings=None):
    """Problems that make a release unsafe (empty list: none). See the module docstring.

    ``warnings`` (a list) collects one-line solutions found in the library (not notebooks).
    """
    tree = Path(tree)
    problems = []
    warnings = [] if warnings is None else warnings
    secrets = [(label, _normal(text), sum(1 for line in text.splitlines() if line.strip()) == 1)
               for label, text in _regions(Path(source_root)) if _normal(text)]
    for path in sorted(p for p in tree.rglob("*") if p.is_file() and p.name != MANIFEST):
        name = str(path.relative_to(tree))
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary data (weights, arrays): not notebooks or code
        if name.endswith(".ipynb"):
            notebook = nbformat.reads(text, as_version=4)
            if any(re.match(r"^#\s*HIDDEN\s+CHECK\b", authoring.first_line(c.source)) for c in notebook.cells):
                problems.append(f"{name}: a hidden check")
            text = "\n".join(cell.source for cell in notebook.cells)
        lines = {line.strip() for line in text.splitlines()}
        if authoring.BEGIN_SOLUTION in lines or authoring.END_SOLUTION in lines:
            problems.append(f"{name}: solution markers")
        flat = _normal(text)
        for label, secret, one_line in secrets:
            if secret in flat:
                # A one-line solution the library implements the same way (the exercise rebuilds a
                # genlab function and the check compares with it) is a warning, not a leak of the key.
                (warnings if one_line and not name.endswith(".ipynb") else problems).append(
                    f"{name}: contains {label}")
        for match in _COLAB.finditer(text):
            slug, ref, target = match.groups()
            if (slug, ref) != (repo, branch) or not (tree / target).is_file():
                problems.append(f"{name}: Colab link {match.group(0)} is not a file of this release")
            elif target.endswith(".ipynb") and _is_instructor(tree / target):
                problems.append(f"{name}: Colab link {match.group(0)} opens an instructor notebook")
        for match in _CLONE.finditer(text):
            if match.group(2) != repo or f"--branch {branch} " not in match.group(0):
                problems.append(f"{name}: {match.group(0)!r} clones something other than {repo} {branch}")
    return problems


def _is_instructor(path):
    """True when a notebook still has solution regions (a student version has none)."""
    notebook = nbformat.read(str(path), as_version=4)
    return any(authoring.has_solution(cell.source) for cell in notebook.cells)
