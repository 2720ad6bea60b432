"""Print genlab's import graph: each module, its line count, and the genlab modules it imports.

Why it exists: the architecture issue asks for the graph before and after a
layout change, and for no import cycle; ``tests/test_layout.py`` checks the
cycle and the module sizes with the same function. Imports inside functions
are listed too (marked ``lazy``), because they are edges all the same.

Usage::

    python scripts/import_graph.py [--markdown]
"""

import argparse
import ast
import sys
from pathlib import Path

LIB = Path(__file__).resolve().parents[1] / "lib"


def module_name(path, root=LIB):
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path, root=LIB):
    """(top-level genlab imports, lazy genlab imports) of one file, as sorted module names."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module_name(path, root)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    eager, lazy = set(), set()
    top_level = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            # `from genlab import data` imports genlab.data; `from genlab.gan import train`, genlab.gan.
            names = [f"{base}.{alias.name}" for alias in node.names]
            names = [name for name in names if _exists(name, root)] or [base]
        found = {name for name in names if name == "genlab" or name.startswith("genlab.")}
        found = {name for name in found if _exists(name, root)}
        (eager if id(node) in top_level or _in_module_body(node, tree) else lazy).update(found)
    return sorted(eager), sorted(lazy - eager)


def _in_module_body(node, tree):
    for statement in tree.body:
        if isinstance(statement, (ast.If, ast.Try)) and any(node is child for child in ast.walk(statement)):
            return True
    return False


def _exists(name, root):
    path = root.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def graph(root=LIB):
    """{module: (lines, eager imports, lazy imports)} for every module of genlab."""
    result = {}
    for path in sorted((root / "genlab").rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        eager, lazy = imports(path, root)
        name = module_name(path, root)
        result[name] = (lines, [m for m in eager if m != name], [m for m in lazy if m != name])
    return result


def cycles(edges):
    """Every import cycle (as a list of modules) among ``{module: [imported, ...]}``."""
    found, state, stack = [], {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for child in edges.get(node, ()):
            if state.get(child) == "open":
                found.append(stack[stack.index(child):] + [child])
            elif child not in state:
                visit(child)
        stack.pop()
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="a Markdown table")
    args = parser.parse_args(argv)
    table = graph()
    if args.markdown:
        print("| module | lines | imports (genlab) | lazy imports |\n|---|---|---|---|")
    for name, (lines, eager, lazy) in table.items():
        short = lambda mods: ", ".join(m.replace("genlab.", "") for m in mods) or "-"  # noqa: E731
        if args.markdown:
            print(f"| {name} | {lines} | {short(eager)} | {short(lazy)} |")
        else:
            print(f"{name:<34} {lines:>4}  {short(eager)}" + (f"  [lazy: {short(lazy)}]" if lazy else ""))
    edges = {name: eager + lazy for name, (_, eager, lazy) in table.items()}
    loops = cycles(edges)
    print(f"\n{len(table)} modules, {sum(v[0] for v in table.values())} lines; "
          f"import cycles: {' ; '.join(' -> '.join(c) for c in loops) if loops else 'none'}")
    return 1 if loops else 0


if __name__ == "__main__":
    sys.exit(main())
