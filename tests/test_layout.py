"""The package's shape: no import cycle, small modules, and course tools that never load TensorFlow."""

import importlib.util
import subprocess
import sys

import pytest

from genlab import paths

spec = importlib.util.spec_from_file_location("import_graph", paths.REPO_ROOT / "scripts" / "import_graph.py")
import_graph = importlib.util.module_from_spec(spec)
spec.loader.exec_module(import_graph)


def test_no_import_cycle():
    graph = import_graph.graph()
    edges = {name: eager + lazy for name, (_, eager, lazy) in graph.items()}
    assert import_graph.cycles(edges) == []
    assert "genlab.registry" in graph and "genlab.course.report" in graph


def test_the_cycle_finder_finds_a_cycle():
    assert import_graph.cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": []}) == [["a", "b", "c", "a"]]


def test_every_module_is_under_400_lines():
    too_long = {name: lines for name, (lines, _, _) in import_graph.graph().items() if lines >= 400}
    assert too_long == {}


def test_course_tools_import_nothing_of_the_model_side():
    graph = import_graph.graph()
    model_side = {"genlab.config", "genlab.quiet", "genlab.data", "genlab.features", "genlab.metrics"}
    for name, (_, eager, _) in graph.items():
        if name.startswith("genlab.course"):
            assert not set(eager) & model_side, f"{name} imports {set(eager) & model_side} at import time"


SCRIPT = """
import sys
from genlab.course import cli
for argv in ({argvs}):
    try:
        cli.main(argv)
    except SystemExit:
        pass
print(sorted(m for m in ("tensorflow", "keras", "tf_keras") if m in sys.modules))
"""


@pytest.mark.parametrize("argvs", [
    "['--help'], ['grade', '--help'], ['assign', '--help'], ['assign', 'validate', '--help']",
    "['assign', 'build', 'tests/fixtures/tiny_assignment.ipynb', '--out', '{out}']",
], ids=["help", "assign-build"])
def test_grade_and_assign_do_not_import_tensorflow(argvs, tmp_path):
    script = SCRIPT.format(argvs=argvs.format(out=tmp_path / "out"))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=paths.REPO_ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_importtime_of_grade_help_has_no_tensorflow():
    """The issue's own measurement: python -X importtime -m genlab grade --help."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "genlab", "grade", "--help"],
                            capture_output=True, text=True, cwd=paths.REPO_ROOT)
    assert result.returncode == 0 and "usage: genlab grade" in result.stdout
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert not {"tensorflow", "keras"} & imported
